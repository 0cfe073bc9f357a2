// The approval inbox (GET /api/v1/jobs?inbox=1): bulk approve and reject;
// new requests appear live.
import {get, post, explain} from '../api.js';
import {h, clear, table, errorBox, emptyBox, announce, field, loading} from '../dom.js';
import {gpus, jobLink, jobName} from '../jobview.js';
import {dateTime, duration, shortTime, when, plural} from '../format.js';

const GONE = new Set(['job.approved', 'job.rejected', 'job.cancelled', 'job.expired']);

export default function inboxTab(body, app) {
  const selected = new Set();
  let jobs = [];
  let known = null; // ids seen so far, to mark new arrivals
  const fresh = new Set();
  const list = h('div', {'aria-live': 'off'}, loading());
  const status = h('div', {class: 'bulk-status', role: 'status'});
  // Their labels count the selection (syncButtons).
  const approveBtn = h('button', {type: 'button', class: 'primary', id: 'bulk-approve', onclick: () => bulk('approve')});
  const rejectBtn = h('button', {type: 'button', class: 'danger', id: 'bulk-reject', onclick: () => bulk('reject')});
  const reason = field('Reason for rejecting (optional, shown to the owner)',
    h('input', {id: 'reject-reason', maxlength: 500, autocomplete: 'off'}));
  const all = h('input', {type: 'checkbox', id: 'select-all'});
  all.addEventListener('change', () => {
    for (const j of jobs) if (all.checked) selected.add(j.id); else selected.delete(j.id);
    draw();
  });

  body.append(
    h('div', {class: 'bulk card'}, h('label', {class: 'check'}, all, ' Select all'),
      h('div', {class: 'bulk-buttons'}, approveBtn), reason.row,
      h('div', {class: 'bulk-buttons'}, rejectBtn), status),
    list);

  function syncButtons() {
    const n = selected.size;
    all.checked = n > 0 && n === jobs.length;
    all.disabled = !jobs.length;
    approveBtn.textContent = 'Approve selected (' + n + ')';
    rejectBtn.textContent = 'Reject selected (' + n + ')';
    approveBtn.disabled = rejectBtn.disabled = n === 0;
  }

  function draw() {
    for (const id of [...selected]) if (!jobs.some((j) => j.id === id)) selected.delete(id);
    syncButtons();
    if (!jobs.length) {
      clear(list, emptyBox('No jobs are waiting for approval.',
        h('p', {class: 'hint'}, 'New requests appear here as they are submitted.')));
      return;
    }
    const rows = jobs.map((j) => {
      const box = h('input', {type: 'checkbox', 'aria-label': 'Select job ' + j.id, checked: selected.has(j.id)});
      box.addEventListener('change', () => {
        if (box.checked) selected.add(j.id); else selected.delete(j.id);
        syncButtons();
      });
      return h('tr', {'data-job-id': j.id, class: fresh.has(j.id) ? 'changed' : null},
        h('td', {'data-label': 'Select'}, box),
        h('td', {class: 'num', 'data-label': 'ID'}, jobLink(j.id)),
        h('td', {'data-label': 'Owner'}, j.owner),
        h('td', {class: 'name', 'data-label': 'Name'}, jobName(j)),
        h('td', {'data-label': 'Request'}, gpus(j) + ' × ' + duration(j.time_limit)),
        h('td', {'data-field': 'owner_available', 'data-label': 'Owner available'}, duration(j.owner_available)),
        h('td', {'data-field': 'owner_charged_30d', 'data-label': 'Owner, 30 days'}, duration(j.owner_charged_30d)),
        h('td', {'data-field': 'estimated_start', 'data-label': 'Starts'}, j.estimated_start ? when(j.estimated_start) : 'never (too few GPUs)'),
        h('td', {class: 'time', 'data-label': 'Submitted', title: dateTime(j.created_at)}, shortTime(j.created_at)),
        h('td', {class: 'time', 'data-label': 'Expires', title: dateTime(j.expires_at)}, shortTime(j.expires_at)));
    });
    const t = table('Jobs waiting for approval', ['', 'ID', 'Owner', 'Name', 'Request', 'Owner available',
      'Owner used, 30 days', 'Starts if approved now', 'Submitted', 'Expires'], rows, 'inbox stack');
    t.querySelector('thead th').append(h('span', {class: 'sr-only'}, 'Select'));
    clear(list, h('p', {class: 'hint'}, plural(jobs.length, 'job') + ' waiting, oldest first. ' +
      'Owner available: the GPU-time the owner has left with this job reserved; used: charged in the last 30 days.'), t);
  }

  async function load() {
    try {
      const r = await get('/jobs?inbox=1');
      if (!app.alive()) return;
      jobs = r.jobs.sort((a, b) => a.id - b.id);
      if (known) {
        const arrived = jobs.filter((j) => !known.has(j.id));
        for (const j of arrived) fresh.add(j.id);
        if (arrived.length) announce(plural(arrived.length, 'new request') + ' in the inbox.');
      }
      known = new Set([...(known || []), ...jobs.map((j) => j.id)]);
      draw();
    } catch (e) {
      app.fail(list, e, load);
    }
  }

  async function bulk(action) {
    const ids = [...selected];
    if (!ids.length) return;
    const payload = {ids};
    if (action === 'reject' && reason.control.value.trim()) payload.reason = reason.control.value.trim();
    approveBtn.disabled = rejectBtn.disabled = true;
    try {
      const r = await post('/jobs/' + action, payload);
      const done = action === 'approve' ? 'Approved ' : 'Rejected ';
      clear(status, h('p', {class: 'success'}, done + plural(r.jobs.length, 'job') + (r.jobs.length ? ': ' + r.jobs.join(', ') : '') + '.'),
        r.failed.length ? h('ul', {class: 'error'}, r.failed.map((f) => h('li', null, 'Job ' + f.id + ': ' + f.message))) : null);
      for (const id of r.jobs) selected.delete(id);
      jobs = jobs.filter((j) => !r.jobs.includes(j.id));
      if (action === 'reject') reason.control.value = '';
      draw();
    } catch (e) {
      clear(status, errorBox(explain(e)));
      syncButtons();
    }
  }

  app.listen((ev) => {
    if (GONE.has(ev.kind) && jobs.some((j) => j.id === ev.job_id)) {
      jobs = jobs.filter((j) => j.id !== ev.job_id);
      draw();
    }
  });
  // New requests, and the owners' quota and usage, which any job or quota change moves.
  app.on((ev) => /^(resync|job\.|quota\.)/.test(ev.kind), load, (ev) => (ev.kind === 'job.submitted' ? 50 : 300));
  syncButtons();
  load();
}
