// Events as sentences, for a job's timeline and the audit log.
import {duration, gpuTime} from './format.js';

function actor(a) {
  if (!a) return 'someone';
  if (a.startsWith('rule:')) return 'rule ' + a.slice(5);
  return a;
}

const TITLES = {
  'job.submitted': (e) => 'Submitted by ' + actor(e.actor),
  'job.approved': (e) => 'Approved by ' + actor(e.actor),
  'job.rejected': (e) => 'Rejected by ' + actor(e.actor),
  'job.started': () => 'Started',
  'job.completed': () => 'Completed',
  'job.failed': () => 'Failed',
  'job.cancelled': (e) => (e.detail && /^cancelled by /.test(e.detail.reason || '') ?
    'Cancelled by ' + e.detail.reason.slice(13) : 'Cancelled by ' + actor(e.actor)),
  'job.expired': () => 'Expired: not approved in time',
  'user.created': (e) => actor(e.actor) + ' created user ' + e.user,
  'user.deleted': (e) => actor(e.actor) + ' deleted user ' + e.user,
  'user.role': (e) => actor(e.actor) + ' changed the role of ' + e.user,
  'quota.set': (e) => actor(e.actor) + ' set the quota of ' + e.user,
  'quota.added': (e) => actor(e.actor) + ' granted quota to ' + e.user,
  'rule.added': (e) => actor(e.actor) + ' added an auto-approval rule',
  'rule.deleted': (e) => actor(e.actor) + ' deleted an auto-approval rule',
};

export function title(e) {
  const f = TITLES[e.kind];
  return f ? f(e) : e.kind + ' by ' + actor(e.actor);
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
