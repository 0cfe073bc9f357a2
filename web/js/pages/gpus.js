// GPUs per type and device. gpuaasd hides other users' job ids from
// non-admins: such a device shows as busy, without a job.
import {get, qs} from '../api.js';
import {h, add, clear, table, loading} from '../dom.js';
import {jobLink, QUEUE_KINDS} from '../jobview.js';

export default function gpusPage(section, params, app) {
  app.title('GPUs');
  const body = h('div', null, loading());
  add(section, h('div', {class: 'page-head'}, h('h1', null, 'GPUs'), h('button', {type: 'button', onclick: () => load()}, 'Refresh')),
    app.me.is_admin ? null : h('p', {class: 'hint'}, 'Your jobs update live; other users\' jobs are not announced to you, so Refresh shows their latest.'),
    body);

  function tile(d, mine) {
    const own = d.busy && mine.has(d.job), cls = !d.busy ? 'free' : own ? 'mine' : 'other';
    const state = !d.busy ? 'free' : d.job !== null && d.job !== undefined ?
      h('span', null, own ? 'your job ' : 'job ', jobLink(d.job)) : 'in use by another user';
    return h('li', {class: 'device d-' + cls, 'data-index': d.index, 'data-job': d.job === null ? '' : d.job},
      h('span', {class: 'dev-name'}, 'Device ' + d.index),
      d.model ? h('span', {class: 'dev-model'}, d.model) : null,
      h('span', {class: 'dev-state'}, state));
  }

  async function load() {
    try {
      const [g, running] = await Promise.all([get('/gpus'),
        get('/jobs' + qs({state: 'RUNNING', limit: 1000}))]);
      if (!app.alive()) return;
      const mine = new Set(running.jobs.map((j) => j.id));
      const summary = table('GPUs per type', ['Type', 'Total', 'Busy', 'Free'], g.gpus.map((t) =>
        h('tr', {'data-type': t.type}, h('th', {scope: 'row'}, t.type), h('td', {class: 'num'}, String(t.total)),
          h('td', {class: 'num'}, String(t.busy)), h('td', {class: 'num'}, String(t.free)))), 'gpu-summary');
      clear(body,
        h('section', {class: 'card', 'aria-labelledby': 'types-h'}, h('h2', {id: 'types-h'}, 'Per type'), summary),
        h('section', {class: 'card', 'aria-labelledby': 'devices-h'}, h('h2', {id: 'devices-h'}, 'Devices'),
          h('ul', {class: 'legend', 'aria-label': 'Legend'},
            h('li', {class: 'd-free'}, 'free'), h('li', {class: 'd-mine'}, 'your job'),
            h('li', {class: 'd-other'}, 'another user\'s job')),
          g.gpus.map((t) => h('div', {class: 'dev-type'},
            h('h3', null, t.type + ' ', h('span', {class: 'muted'}, t.free + ' of ' + t.total + ' free')),
            h('ul', {class: 'devices', 'aria-label': t.type + ' devices'}, t.devices.map((d) => tile(d, mine)))))));
    } catch (e) {
      app.fail(body, e, load);
    }
  }

  app.on((ev) => ev.kind === 'resync' || QUEUE_KINDS.has(ev.kind), load, 150);
  load();
}
