// Auto-approval rules: list, add, delete.
import {get, post, del, explain} from '../api.js';
import {h, clear, table, emptyBox, field, setFieldError, durationOf, say as sayIn, loading} from '../dom.js';
import {dateTime, duration, gpuTime} from '../format.js';

function who(r) {
  if (r.users && r.users.length) return r.users.join(', ');
  return r.scope === 'all' ? 'anyone' : 'any non-admin';
}

export default function rulesTab(body, app) {
  let rules = [];
  const list = h('div', null, loading());
  const msg = h('div', {role: 'status'});
  const types = h('fieldset', {class: 'types'}, h('legend', null, 'GPU types (none ticked: any)'));
  const maxCount = field('At most GPUs', h('input', {id: 'rule-count', type: 'number', min: 1, inputmode: 'numeric'}), 'Empty: any.');
  const maxTime = field('At most time', h('input', {id: 'rule-time', autocomplete: 'off'}), 'e.g. 2h; empty: any.');
  const scope = h('select', {id: 'rule-scope'}, h('option', {value: 'non_admins'}, 'Any non-admin'),
    h('option', {value: 'all'}, 'Anyone'), h('option', {value: 'users'}, 'These users…'));
  const scopeField = field('Who', scope);
  const usersField = field('Users', h('input', {id: 'rule-users', autocomplete: 'off'}), 'Comma-separated usernames.');
  usersField.row.hidden = true;
  scope.addEventListener('change', () => { usersField.row.hidden = scope.value !== 'users'; });
  const cap = field('Daily cap per user (GPU-time)', h('input', {id: 'rule-cap', autocomplete: 'off'}), 'e.g. 4h in any 24 hours; empty: none.');
  const note = field('Note', h('input', {id: 'rule-note', maxlength: 200, autocomplete: 'off'}));
  const form = h('form', {class: 'card', novalidate: true, 'aria-labelledby': 'rule-h'}, h('h2', {id: 'rule-h'}, 'New rule'),
    types, h('div', {class: 'grid2'}, maxCount.row, maxTime.row, scopeField.row, usersField.row, cap.row, note.row),
    h('button', {type: 'submit', class: 'primary'}, 'Add rule'));
  body.append(msg, list, form);

  const say = (text, bad) => sayIn(msg, text, bad);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const rule = {};
    const gpuTypes = [...types.querySelectorAll('input:checked')].map((i) => i.value);
    if (gpuTypes.length) rule.gpu_types = gpuTypes;
    if (maxCount.control.value) rule.max_count = Number(maxCount.control.value);
    const t = durationOf(maxTime, true);
    const c = durationOf(cap, true);
    if (t === null || c === null) return;
    if (t) rule.max_time = t;
    if (c) rule.daily_cap = c;
    if (scope.value === 'users') {
      const names = usersField.control.value.split(',').map((s) => s.trim()).filter(Boolean);
      setFieldError(usersField, names.length ? null : 'Name at least one user.');
      if (!names.length) return;
      rule.users = names;
    } else {
      rule.scope = scope.value;
    }
    if (note.control.value.trim()) rule.note = note.control.value.trim();
    try {
      const r = await post('/rules', rule);
      say('Added rule ' + r.id + '.');
      form.reset();
      usersField.row.hidden = true;
      await load();
    } catch (err) {
      say(explain(err), true);
    }
  });

  function draw() {
    if (!rules.length) {
      clear(list, emptyBox('No auto-approval rules: every job waits for an admin.'));
      return;
    }
    clear(list, table('Auto-approval rules', ['ID', 'GPU types', 'Max GPUs', 'Max time', 'Who', 'Daily cap', 'Note', 'Created', ''],
      rules.map((r) => {
        const b = h('button', {type: 'button', class: 'danger small', 'aria-label': 'Delete rule ' + r.id}, 'Delete');
        b.addEventListener('click', async () => {
          try {
            await del('/rules/' + r.id);
            say('Deleted rule ' + r.id + '.');
            await load();
          } catch (err) {
            say(explain(err), true);
          }
        });
        return h('tr', {'data-rule-id': r.id},
          h('td', {class: 'num'}, String(r.id)), h('td', null, r.gpu_types ? r.gpu_types.join(', ') : 'any'),
          h('td', null, r.max_count ? String(r.max_count) : 'any'), h('td', null, r.max_time ? duration(r.max_time) : 'any'),
          h('td', null, who(r)), h('td', null, r.daily_cap ? gpuTime(r.daily_cap) : 'none'),
          h('td', null, r.note || ''), h('td', {class: 'time'}, dateTime(r.created_at) + ' by ' + r.created_by), h('td', null, b));
      }), 'rules'));
  }

  async function load() {
    try {
      rules = (await get('/rules')).rules;
      if (app.alive()) draw();
    } catch (e) {
      app.fail(list, e, load);
    }
  }

  async function loadTypes() {
    try {
      const g = (await get('/gpus')).gpus;
      types.append(...g.map((t) => h('label', {class: 'check'}, h('input', {type: 'checkbox', value: t.type}), ' ' + t.type)));
    } catch (e) {
      types.append(h('p', {class: 'error'}, explain(e)));
    }
  }

  app.on((ev) => /^(resync|rule\.)/.test(ev.kind), load);
  loadTypes();
  load();
}
