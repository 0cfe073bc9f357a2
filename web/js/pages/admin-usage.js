// Usage of the last 30 days from the jobs' final events (each says what it
// charged), and the ledger totals.
import {get, allEvents} from '../api.js';
import {h, clear, table, loading} from '../dom.js';
import {nameBars, csvLink} from '../charts.js';
import {gpuTime, gpuHours} from '../format.js';

export default function usageTab(body, app) {
  const charts = h('div', {class: 'usage-charts'}, loading());
  const totals = h('section', {class: 'card', 'aria-labelledby': 'totals-h'}, h('h2', {id: 'totals-h'}, 'Ledger totals'),
    loading());
  body.append(charts, totals);

  async function load() {
    try {
      const since = Math.floor(Date.now() / 1000) - 30 * 86400;
      const evs = await allEvents({since_time: since, kinds: 'job.submitted,job.completed,job.failed,job.cancelled'},
        app.alive, 200000);
      if (!app.alive()) return;
      const typeOf = new Map();
      for (const e of evs) if (e.kind === 'job.submitted' && e.detail) typeOf.set(e.job_id, e.detail.gpu_type);
      const ends = evs.filter((e) => e.kind !== 'job.submitted' && e.detail && e.detail.charged > 0);
      // Jobs submitted before the window: ask for their type.
      const missing = [...new Set(ends.filter((e) => !typeOf.has(e.job_id)).map((e) => e.job_id))];
      await Promise.all(missing.slice(0, 200).map(async (id) => {
        try { typeOf.set(id, (await get('/jobs/' + id)).gpu_type); } catch (err) { typeOf.set(id, 'unknown'); }
      }));
      const perUser = new Map();
      const perType = new Map();
      for (const e of ends) {
        perUser.set(e.user, (perUser.get(e.user) || 0) + e.detail.charged);
        const t = typeOf.get(e.job_id) || 'unknown';
        perType.set(t, (perType.get(t) || 0) + e.detail.charged);
      }
      const users = [...perUser].map(([label, value]) => ({label, value}));
      const types = [...perType].map(([label, value]) => ({label, value}));
      const card = (id, titleText, items, head, file) => h('section', {class: 'card', 'aria-labelledby': id},
        h('div', {class: 'page-head'}, h('h2', {id}, titleText),
          csvLink(file, [[head.toLowerCase().replace(' ', '_'), 'gpu_seconds', 'gpu_hours'],
            ...items.map((i) => [i.label, i.value, gpuHours(i.value)])])),
        items.length ? nameBars(titleText, items, head) : h('p', {class: 'muted'}, 'Nothing charged in the last 30 days.'));
      clear(charts, card('per-user-h', 'GPU-hours per user, last 30 days', users, 'User', 'gpuaas-usage-users-30d.csv'),
        card('per-type-h', 'GPU-hours per GPU type, last 30 days', types, 'GPU type', 'gpuaas-usage-types-30d.csv'));
    } catch (e) {
      app.fail(charts, e, load);
    }
    try {
      const r = await get('/usage');
      if (!app.alive()) return;
      clear(totals, h('h2', {id: 'totals-h'}, 'Ledger totals (all time)'),
        table('Ledger totals', ['User', 'Granted', 'Charged', 'Reserved', 'Remaining', 'Jobs charged'],
          r.users.map((u) => h('tr', null, h('td', null, u.username), h('td', null, gpuTime(u.granted)),
            h('td', null, gpuTime(u.charged)), h('td', null, gpuTime(u.reserved)), h('td', null, gpuTime(u.remaining)),
            h('td', {class: 'num'}, String(u.jobs_charged))))));
    } catch (e) {
      app.fail(totals, e, load);
    }
  }
  load();
}
