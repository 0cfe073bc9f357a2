// One job: its fields, its events (then live from the stream), its output, cancel.
import {get, post, allEvents, explain} from '../api.js';
import {h, clear, errorBox, announce, confirmBox, loading} from '../dom.js';
import {argvView, badge, isLive, jobName, orderedFetch} from '../jobview.js';
import {dateTime, duration, gpuTime, when} from '../format.js';
import {title as eventTitle, details} from '../timeline.js';

const FIELDS = [
  ['id', 'ID'], ['name', 'Name'], ['owner', 'Owner'], ['status', 'State', badge], ['reason', 'Reason'],
  ['gpu_type', 'GPU type'], ['gpu_count', 'GPUs'], ['time_limit', 'Time limit', duration],
  ['weight', 'Weight'], ['command', 'Command', argvView], ['created_at', 'Submitted', dateTime],
  ['estimated_start', 'Estimated start', (v) => (v ? when(v) : '—')], ['approved_at', 'Approved', dateTime],
  ['approved_by', 'Approved by'], ['started_at', 'Started', dateTime], ['finished_at', 'Finished', dateTime],
  ['charged_seconds', 'Charged', gpuTime], ['exit_code', 'Exit code'], ['slurm_job_id', 'Slurm job'],
];

export default function jobPage(section, [idText], app) {
  const id = Number(idText);
  app.title('Job ' + id);
  let job = null;
  const heading = h('h1', null, 'Job ' + id);
  const stateEl = h('span', {class: 'head-badge'});
  const actions = h('div', {class: 'actions'});
  const fields = h('div', {class: 'job-fields'}, loading());
  const timeline = h('ol', {class: 'timeline', 'aria-label': 'Events of job ' + id});
  const seen = new Set();
  const logPre = h('pre', {class: 'log', tabindex: 0, role: 'log', 'aria-label': 'Output of job ' + id});
  const logStatus = h('p', {class: 'hint log-status', 'aria-live': 'polite'});
  const follow = h('input', {type: 'checkbox', id: 'log-follow', checked: true});

  section.append(
    h('p', {class: 'crumbs'}, h('a', {href: '#/jobs'}, '← My jobs')),
    h('div', {class: 'page-head'}, h('div', null, heading, stateEl), actions),
    h('div', {class: 'job-layout'},
      h('section', {class: 'card', 'aria-labelledby': 'fields-h'}, h('h2', {id: 'fields-h'}, 'Details'), fields),
      h('section', {class: 'card', 'aria-labelledby': 'timeline-h'}, h('h2', {id: 'timeline-h'}, 'Timeline'), timeline)),
    h('section', {class: 'card', 'aria-labelledby': 'logs-h'},
      h('div', {class: 'log-head'}, h('h2', {id: 'logs-h'}, 'Output'),
        h('label', {class: 'check'}, follow, ' Follow')),
      logStatus, logPre));

  function drawJob(j) {
    job = j;
    heading.textContent = 'Job ' + j.id + (j.name ? ': ' + j.name : '');
    clear(stateEl, badge(j.status));
    const keys = new Set(FIELDS.map((f) => f[0]));
    const extra = Object.keys(j).filter((k) => !keys.has(k)).map((k) => [k, k.replace(/_/g, ' ')]);
    clear(fields, h('dl', {class: 'facts'}, [...FIELDS, ...extra].filter(([k]) => k in j).map(([k, label, fmt]) => {
      const v = j[k];
      let shown;
      if (k === 'name') shown = jobName(j);
      else if (fmt) shown = fmt(v);
      else shown = v === null || v === undefined || v === '' ? '—' : (typeof v === 'object' ? JSON.stringify(v) : String(v));
      return [h('dt', null, label), h('dd', {'data-field': k}, shown)];
    })));
    drawActions();
  }

  function drawActions() {
    if (!job || !isLive(job)) {
      clear(actions);
      return;
    }
    const cancel = h('button', {type: 'button', class: 'danger', id: 'cancel-job'}, 'Cancel job');
    cancel.addEventListener('click', () => clear(actions, confirmBox(job.status === 'RUNNING' ?
      'Stop job ' + job.id + '? It is charged for the time it ran.' :
      'Cancel job ' + job.id + '? Its reservation is released; nothing is charged.',
    'cancel-confirm', 'Yes, cancel job ' + job.id, async () => {
      try {
        drawJob(await post('/jobs/' + job.id + '/cancel'));
        announce('Job ' + job.id + ' cancelled.');
      } catch (e) {
        clear(actions, errorBox('Could not cancel: ' + explain(e)));
      }
    }, drawActions)));
    clear(actions, cancel);
  }

  function addEvent(e) {
    if (seen.has(e.seq)) return;
    seen.add(e.seq);
    timeline.append(h('li', {'data-kind': e.kind},
      h('time', {datetime: e.at}, dateTime(e.at)), ' ',
      h('strong', null, eventTitle(e)),
      h('ul', {class: 'detail'}, details(e.detail).filter(([k]) => k !== 'seq').map(([k, v]) => h('li', null, k + ': ' + v)))));
  }

  // Output: a long poll, only in a visible tab (six connections per site).
  let offset = 0, pumping = false, waiting = null;
  const visible = () => document.visibilityState !== 'hidden';
  const want = () => follow.checked && job && job.status === 'RUNNING' && visible();
  const stop = () => waiting && waiting.abort();
  const onVis = () => (visible() ? pump() : stop());
  document.addEventListener('visibilitychange', onVis);
  app.onLeave(() => document.removeEventListener('visibilitychange', onVis) || stop());

  async function pump() {
    if (pumping) return;
    pumping = true;
    let r, fails = 0;
    try {
      while (app.alive()) {
        const wait = want(); // anew each round: the job or Follow may have changed
        if (wait) logStatus.textContent = 'Following: waiting for output…';
        waiting = new AbortController();
        try {
          r = await get('/jobs/' + id + '/logs?offset=' + offset + (wait ? '&follow=1' : ''), {signal: waiting.signal});
          fails = 0;
        } catch (e) {
          const cut = waiting.signal.aborted, retry = !cut && wait && [0, 502, 503].includes(e.status) && fails++ < 20;
          if (!app.alive() || (cut && want())) continue;
          logStatus.textContent = cut ? 'Not following.' : 'Could not read the output: ' + explain(e);
          if (!retry) return; // else: the follow cap, or gpuaasd restarting
          await new Promise((ok) => setTimeout(ok, 1000 * Math.min(30, Math.max(e.retryAfter, fails))));
          continue;
        }
        if (r.data) {
          const atEnd = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
          logPre.append(r.data);
          if (atEnd) logPre.scrollTop = logPre.scrollHeight;
        }
        offset = r.offset;
        if (r.eof) {
          logStatus.textContent = offset ? 'End of output.' : 'No output. (Jobs of the simulated executor keep none.)';
          return;
        }
        if (r.data || wait || want()) continue;
        logStatus.textContent = follow.checked ? 'Output appears here once the job runs.' :
          'Not following: tick Follow to read new output as it comes.';
        return; // job.started, Follow or showing the tab starts it again
      }
    } finally {
      pumping = false;
    }
  }
  follow.onchange = () => (follow.checked ? pump() : stop());

  // ---- loading and live updates
  const fetchJob = orderedFetch((jid) => get('/jobs/' + jid).catch(() => null));
  async function load() {
    try {
      drawJob(await get('/jobs/' + id));
    } catch (e) {
      if (!app.alive()) return;
      clear(fields, errorBox(e.status === 404 ? 'There is no job ' + id + ' (or it is not yours).' : explain(e),
        e.status === 404 ? null : load));
      return;
    }
    follow.checked = isLive(job);
    pump();
    try {
      for (const e of await allEvents({job: id}, app.alive)) addEvent(e);
      if (!timeline.children.length) timeline.append(h('li', {class: 'muted'}, 'No events (they may have been pruned).'));
    } catch (e) {
      if (app.alive()) timeline.append(h('li', null, errorBox(explain(e))));
    }
  }
  const loaded = load();
  app.listen(async (ev) => {
    await loaded;
    if (!app.alive() || !job) return;
    if (ev.kind === 'resync') {
      load();
      return;
    }
    if (ev.job_id !== id) return;
    addEvent(ev);
    fetchJob(id, ev.seq, (j) => {
      if (!app.alive()) return;
      drawJob(j);
      if (follow.checked || !isLive(j)) pump();
    });
    announce(eventTitle(ev) + '.');
  });
}
