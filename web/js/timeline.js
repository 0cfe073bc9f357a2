// Events as sentences, for a job's timeline and the audit log.
import {duration, gpuTime} from './format.js';

function actor(a) {
  if (!a) return 'someone';
  if (a.startsWith('rule:')) return 'rule ' + a.slice(5);
  return a;
}

// "Approved by admin", "admin deleted user bob", "admin added a rule".
const by = (what) => (e) => what + ' by ' + actor(e.actor);
const did = (what) => (e) => actor(e.actor) + ' ' + what;
const didTo = (what) => (e) => actor(e.actor) + ' ' + what + ' ' + e.user;

const TITLES = {
  'job.submitted': by('Submitted'),
  'job.approved': by('Approved'),
  'job.rejected': by('Rejected'),
  'job.started': () => 'Started',
  'job.completed': () => 'Completed',
  'job.failed': () => 'Failed',
  'job.cancelled': (e) => (e.detail && /^cancelled by /.test(e.detail.reason || '') ?
    'Cancelled by ' + e.detail.reason.slice(13) : 'Cancelled by ' + actor(e.actor)),
  'job.expired': () => 'Expired: not approved in time',
  'user.created': didTo('created user'),
  'user.deleted': didTo('deleted user'),
  'user.role': didTo('changed the role of'),
  'quota.set': didTo('set the quota of'),
  'quota.added': didTo('granted quota to'),
  'rule.added': did('added an auto-approval rule'),
  'rule.deleted': did('deleted an auto-approval rule'),
};

// Every kind of event: those the event stream listens for.
export const KINDS = Object.keys(TITLES);

export function title(e) {
  const f = TITLES[e.kind];
  return (f || by(e.kind))(e);
}

const GPU_SECONDS = new Set(['reserved', 'released', 'charged', 'quota', 'set', 'add', 'amount', 'delta', 'daily_cap',
  'remaining']);
const YES_NO = new Set(['is_admin']);
const SECONDS = new Set(['time_limit', 'max_time']);

/* The detail object as "key: value" pairs, GPU-seconds and seconds made readable. */
export function details(detail) {
  if (!detail || typeof detail !== 'object') return [];
  return Object.entries(detail).map(([k, v]) => {
    let text;
    if (typeof v === 'number' && GPU_SECONDS.has(k)) text = gpuTime(v);
    else if (typeof v === 'number' && SECONDS.has(k)) text = duration(v);
    else if (YES_NO.has(k)) text = v ? 'yes' : 'no';
    else if (v === null) text = '—';
    else if (typeof v === 'object') text = JSON.stringify(v);
    else text = String(v);
    return [k.replace(/_/g, ' '), text];
  });
}
