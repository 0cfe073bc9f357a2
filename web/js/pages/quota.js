// Quota, and GPU-hours per day from your jobs' final events (each says
// what it charged).
import {get, allEvents, explain} from '../api.js';
import {h, clear, errorBox, loading} from '../dom.js';
import {gauge, dayBars, lastDays, dayKey} from '../charts.js';
import {gpuTime} from '../format.js';

const ENDS = 'job.completed,job.failed,job.cancelled';

export default function quotaPage(section, params, app) {
  app.title('Quota');
  const top = h('div', {class: 'quota-top card'}, loading());
  const heading = () => h('h2', {id: 'usage-h'}, 'Your GPU-hours, last 30 days');
  const chart = h('section', {class: 'card', 'aria-labelledby': 'usage-h'}, heading(), loading());
  section.append(h('h1', null, 'Quota'), top, chart);

  async function loadQuota() {
    try {
      const q = await get('/quota');
      if (!app.alive()) return;
      const label = 'Available ' + gpuTime(q.available) + ' of ' + gpuTime(q.remaining) + ' remaining; ' +
        gpuTime(q.reserved) + ' reserved by your waiting and running jobs';
      clear(top, gauge(q, label),
        h('dl', {class: 'facts quota-facts'},
          h('dt', null, h('span', {class: 'key k-remaining', 'aria-hidden': 'true'}), 'Remaining'),
          h('dd', {'data-field': 'remaining'}, gpuTime(q.remaining)),
          h('dt', null, h('span', {class: 'key k-reserved', 'aria-hidden': 'true'}), 'Reserved'),
          h('dd', {'data-field': 'reserved'}, gpuTime(q.reserved)),
          h('dt', null, h('span', {class: 'key k-available', 'aria-hidden': 'true'}), 'Available'),
          h('dd', {'data-field': 'available'}, gpuTime(q.available))),
        h('p', {class: 'hint'}, 'A job reserves GPUs × time limit when submitted; when it ends it is charged for the time it ran and the rest is released.'));
    } catch (e) {
      app.fail(top, e, loadQuota);
    }
  }

  async function loadUsage() {
    try {
      const since = Math.floor(Date.now() / 1000) - 30 * 86400;
      const evs = await allEvents({since_time: since, kinds: ENDS, user: app.me.is_admin ? app.me.username : undefined},
        app.alive);
      if (!app.alive()) return;
      const days = lastDays(30);
      const sums = new Map(days.map((d) => [d.key, 0]));
      for (const e of evs) {
        const c = e.detail && e.detail.charged;
        if (e.user !== app.me.username || !c) continue;
        const k = dayKey(e.at);
        if (sums.has(k)) sums.set(k, sums.get(k) + c);
      }
      clear(chart, heading(),
        dayBars('GPU-hours charged per day', days.map((d) => ({...d, value: sums.get(d.key)}))));
    } catch (e) {
      if (app.alive()) clear(chart, heading(), errorBox(explain(e), loadUsage));
    }
  }

  const mine = (ev) => ev.kind === 'resync' || ev.user === app.me.username;
  app.on(mine, loadQuota);
  app.on((ev) => mine(ev) && /^(resync|job\.(completed|failed|cancelled))$/.test(ev.kind), loadUsage);
  loadQuota();
  loadUsage();
}
