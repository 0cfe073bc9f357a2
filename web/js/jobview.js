// Pieces of a job shown on several pages.
import {h} from './dom.js';
import {commandLine} from './format.js';

export const STATES = ['PENDING', 'APPROVED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED'];
const LIVE = ['PENDING', 'APPROVED', 'RUNNING'];
// After these, queue positions and free GPU counts may have moved.
export const QUEUE_KINDS = new Set(['job.started', 'job.completed', 'job.failed', 'job.cancelled', 'job.rejected',
  'job.expired']);

export function isLive(job) {
  return LIVE.includes(job.status);
}

export function badge(status) {
  return h('span', {class: 'badge s-' + String(status).toLowerCase()}, status);
}

export function gpus(job) {
  return job.gpu_count + ' × ' + job.gpu_type;
}

export function jobLink(id, text) {
  return h('a', {href: '#/jobs/' + id}, text === undefined ? String(id) : text);
}

export function jobName(job) {
  return job.name ? job.name : h('span', {class: 'muted'}, '(no name)');
}

/* argv as it will run: one box per argument, and the same as a shell line. */
export function argvView(argv) {
  if (!argv || !argv.length) return h('span', {class: 'muted'}, 'no command');
  return h('div', {class: 'argv-view'},
    h('ol', {class: 'argv', 'aria-label': 'Arguments, as the job runs them'},
      argv.map((a, i) => h('li', null, h('span', {class: 'argn', 'aria-hidden': 'true'}, String(i)),
        h('code', null, a === '' ? '""' : a)))),
    h('p', {class: 'shell'}, h('span', {class: 'sr-only'}, 'As a shell line: '), h('code', null, commandLine(argv))));
}

/* Fetches of one job that can answer out of order: only the answer to the
 * newest event is applied. */
export function orderedFetch(fetchJob) {
  const applied = new Map();
  return async (id, seq, apply) => {
    const job = await fetchJob(id);
    if (!job || (applied.get(id) || 0) > seq) return;
    applied.set(id, seq);
    apply(job);
  };
}
