// My jobs, 50 a page: paged with before_id, so 10,000 jobs cost what 50
// do. The event stream keeps the page current; nothing polls.
import {get, qs} from '../api.js';
import {h, clear, table, emptyBox, announce, loading} from '../dom.js';
import {badge, gpus, jobLink, jobName, orderedFetch, STATES, QUEUE_KINDS} from '../jobview.js';
import {duration, dateTime, shortTime} from '../format.js';

const PAGE = 50;
const FILTERS = [['', 'All states'], ['PENDING,APPROVED,RUNNING', 'Live: pending, approved, running'],
  ...STATES.map((s) => [s, s.charAt(0) + s.slice(1).toLowerCase()])];
// The before_id of each page before the current one (per filter), for "Newer".
const trail = {filter: null, stack: []};

const hashFor = (state, before) => '#/jobs' + qs({state, before});

export default function jobsPage(section, params, app) {
  app.title('My jobs');
  const state = app.query.get('state') || '';
  const before = parseInt(app.query.get('before') || '', 10) || null;
  const wanted = state ? state.split(',') : null;
  if (trail.filter !== state) {
    trail.filter = state;
    trail.stack = [];
  }

  const rows = new Map(); // id -> {job, tr}
  let tbody = null;
  let next = null;
  const body = h('div', {class: 'jobs-body', 'aria-busy': 'true'}, loading('Loading your jobs…'));
  const pager = h('nav', {class: 'pager', 'aria-label': 'Pages of jobs'});
  const select = h('select', {id: 'jobs-state', onchange: () => { location.hash = hashFor(select.value, null); }},
    FILTERS.map(([v, t]) => h('option', {value: v, selected: v === state}, t)));

  section.append(
    h('div', {class: 'page-head'},
      h('h1', null, 'My jobs'),
      h('a', {class: 'button primary', href: '#/submit'}, 'Submit a job')),
    h('div', {class: 'toolbar'}, h('label', {for: 'jobs-state'}, 'Show'), select,
      h('span', {class: 'hint'}, 'Updates live as your jobs change.')),
    body, pager);

  function row(job, changed) {
    return h('tr', {'data-job-id': job.id, 'data-status': job.status, class: changed && 'changed'},
      h('td', {class: 'num', 'data-label': 'ID'}, jobLink(job.id)),
      h('td', {class: 'name', 'data-label': 'Name'}, jobName(job)),
      h('td', {'data-label': 'GPUs'}, gpus(job)),
      h('td', {'data-label': 'Time limit'}, duration(job.time_limit)),
      h('td', {'data-label': 'State'}, badge(job.status)),
      h('td', {class: 'reason', 'data-label': 'Reason'}, job.reason || ''),
      h('td', {class: 'time', 'data-label': 'Submitted', title: dateTime(job.created_at)}, shortTime(job.created_at)));
  }

  function drawPager() {
    const page = trail.stack.length + 1;
    const older = next;
    clear(pager,
      h('button', {type: 'button', disabled: !before, onclick: () => { trail.stack = []; location.hash = hashFor(state, null); }}, 'Newest'),
      h('button', {type: 'button', disabled: !before, onclick: () => {
        const prev = trail.stack.pop();
        location.hash = hashFor(state, prev || null);
      }}, '← Newer'),
      h('span', {class: 'page-no'}, 'Page ' + page),
      h('button', {type: 'button', disabled: !older, onclick: () => {
        trail.stack.push(before || 0);
        location.hash = hashFor(state, older);
      }}, 'Older →'));
  }

  function emptyState() {
    if (before) return emptyBox('No older jobs.');
    if (wanted) return emptyBox('You have no jobs in this state.', h('a', {href: '#/jobs'}, 'Show all jobs'));
    return emptyBox('You have no jobs yet.', h('a', {class: 'button primary', href: '#/submit'}, 'Submit your first job'));
  }

  function drawTable() {
    if (!rows.size) {
      tbody = null;
      clear(body, emptyState());
      return;
    }
    tbody = h('tbody', null, [...rows.values()].map((r) => r.tr));
    clear(body, table('My jobs', ['ID', 'Name', 'GPUs', 'Time limit', 'State', 'Reason', 'Submitted'], tbody, 'jobs stack'));
  }

  async function load() {
    body.setAttribute('aria-busy', 'true');
    try {
      const r = await get('/jobs' + qs({state, limit: PAGE, before_id: before}));
      if (!app.alive()) return;
      rows.clear();
      for (const job of r.jobs) rows.set(job.id, {job, tr: row(job)});
      next = r.next_before_id || null; // null once nothing is left
      drawTable();
      drawPager();
      performance.mark('gpuaas-jobs-ready');
    } catch (e) {
      app.fail(body, e, load);
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }

  function upsert(job) {
    const have = rows.get(job.id);
    const fits = !wanted || wanted.includes(job.status);
    if (have) {
      if (fits) {
        const tr = row(job, true);
        have.tr.replaceWith(tr);
        rows.set(job.id, {job, tr});
      } else {
        have.tr.remove();
        rows.delete(job.id);
        if (!rows.size) drawTable();
      }
      announce('Job ' + job.id + ' is now ' + job.status + (fits ? '' : '; it left this list') + '.');
      return;
    }
    const newest = Math.max(0, ...rows.keys());
    if (!fits || before || job.id < newest) return;
    const tr = row(job, true);
    const entries = [[job.id, {job, tr}], ...rows.entries()];
    rows.clear();
    for (const [id, r] of entries.slice(0, PAGE)) rows.set(id, r);
    if (entries.length > PAGE) {
      entries[entries.length - 1][1].tr.remove();
      next = entries[PAGE - 1][0];
    }
    if (tbody) tbody.prepend(tr);
    else drawTable();
    drawPager();
    announce('New job ' + job.id + ': ' + job.status + '.');
  }

  const fetchJob = orderedFetch((id) => get('/jobs/' + id).catch(() => null));
  let waitingTimer = null;
  let lastSeen = 0;
  // Queue positions move when other jobs start or end.
  function refreshWaiting(except) {
    clearTimeout(waitingTimer);
    waitingTimer = setTimeout(() => {
      for (const {job} of rows.values()) {
        if (job.id !== except && (job.status === 'APPROVED' || job.status === 'PENDING')) {
          fetchJob(job.id, lastSeen, (j) => app.alive() && rows.has(j.id) && rows.get(j.id).job.reason !== j.reason && upsert(j));
        }
      }
    }, 300);
  }
  app.onLeave(() => clearTimeout(waitingTimer));

  const loaded = load();
  app.listen(async (ev) => {
    await loaded;
    if (!app.alive()) return;
    if (ev.kind === 'resync') {
      load();
      return;
    }
    if (!ev.kind.startsWith('job.') || !ev.job_id || ev.user !== app.me.username) return;
    lastSeen = ev.seq;
    fetchJob(ev.job_id, ev.seq, (job) => app.alive() && upsert(job));
    if (QUEUE_KINDS.has(ev.kind)) refreshWaiting(ev.job_id);
  });
}
