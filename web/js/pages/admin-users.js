// Users: list, create; quota, role and delete for one.
import {get, post, del, explain} from '../api.js';
import {h, clear, table, field, setFieldError, durationOf, confirmBox, say as sayIn, loading} from '../dom.js';
import {gpuTime} from '../format.js';

const NAME_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

export default function usersTab(body, app) {
  let users = [];
  let chosen = null;
  const list = h('div', null, loading());
  const panel = h('div', {class: 'user-panel'});
  const msg = h('div', {role: 'status', class: 'users-status'});

  // ---- create
  const uname = field('Username', h('input', {id: 'new-username', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none'}),
    'Lower-case letters, digits, _ . -; up to 32 characters.');
  const upass = field('Password', h('input', {id: 'new-password', type: 'password', autocomplete: 'new-password'}));
  const uquota = field('Quota (GPU-time)', h('input', {id: 'new-quota', value: '10h', autocomplete: 'off'}), 'e.g. 10h, 2d; empty for none.');
  const uadmin = h('input', {type: 'checkbox', id: 'new-admin'});
  const create = h('form', {class: 'card create-user', novalidate: true, 'aria-labelledby': 'create-h'},
    h('h2', {id: 'create-h'}, 'New user'),
    h('div', {class: 'grid2'}, uname.row, upass.row, uquota.row,
      h('div', {class: 'field check-field'}, h('label', {class: 'check'}, uadmin, ' Admin'))),
    h('button', {type: 'submit', class: 'primary'}, 'Create user'));
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    const username = uname.control.value.trim();
    let ok = NAME_RE.test(username);
    setFieldError(uname, ok ? null : 'Not a valid username.');
    setFieldError(upass, upass.control.value ? null : 'Enter a password.');
    ok = ok && !!upass.control.value;
    const quota = durationOf(uquota, true);
    if (!ok || quota === null) return;
    try {
      const u = await post('/users', {username, password: upass.control.value, is_admin: uadmin.checked, quota: quota || 0});
      upass.control.value = '';
      uname.control.value = '';
      say('Created user ' + u.username + ' with ' + gpuTime(u.quota.remaining) + '.');
      chosen = u.username;
      await load();
    } catch (err) {
      say(explain(err), true);
    }
  });

  body.append(msg, h('div', {class: 'users-layout'}, h('div', null, list, panel), create));

  const say = (text, bad) => sayIn(msg, text, bad);

  function draw() {
    const rows = users.map((u) => {
      const b = h('button', {type: 'button', class: 'link', 'aria-expanded': chosen === u.username ? 'true' : 'false',
        'aria-controls': 'user-panel'}, u.username);
      b.addEventListener('click', () => {
        chosen = chosen === u.username ? null : u.username;
        draw();
        const first = panel.querySelector('input');
        if (first) first.focus();
      });
      return h('tr', {'data-user': u.username, class: chosen === u.username ? 'selected' : null},
        h('td', null, b), h('td', null, u.is_admin ? 'admin' : 'user'),
        h('td', {'data-field': 'remaining'}, gpuTime(u.quota.remaining)),
        h('td', null, gpuTime(u.quota.reserved)), h('td', null, gpuTime(u.quota.available)));
    });
    clear(list, table('Users', ['User', 'Role', 'Remaining', 'Reserved', 'Available'], rows, 'users'));
    drawPanel();
  }

  let shown = null; // what the panel shows: redrawn only when it changed (keeps focus and typing)
  function drawPanel() {
    const u = users.find((x) => x.username === chosen);
    const key = u ? JSON.stringify(u) : null;
    if (key === shown) return;
    shown = key;
    if (!u) {
      clear(panel);
      return;
    }
    const amount = field('GPU-time', h('input', {id: 'quota-amount', autocomplete: 'off', placeholder: '5h'}));
    const mode = h('select', {id: 'quota-mode', 'aria-label': 'Set or add'},
      h('option', {value: 'add'}, 'Add'), h('option', {value: 'set'}, 'Set to'));
    const quotaForm = h('form', {class: 'inline-form', novalidate: true}, mode, amount.row,
      h('button', {type: 'submit'}, 'Apply'));
    quotaForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const secs = durationOf(amount);
      if (secs === null) return;
      try {
        const r = await post('/users/' + encodeURIComponent(u.username) + '/quota', {[mode.value]: secs});
        say('Quota of ' + u.username + ' is now ' + gpuTime(r.quota.remaining) + '.');
        await load();
      } catch (err) {
        say(explain(err), true);
      }
    });
    const role = h('button', {type: 'button', id: 'toggle-role'}, u.is_admin ? 'Remove the admin role' : 'Make admin');
    role.addEventListener('click', async () => {
      try {
        await post('/users/' + encodeURIComponent(u.username) + '/role', {is_admin: !u.is_admin});
        say(u.username + (u.is_admin ? ' is no longer an admin.' : ' is now an admin.'));
        await load();
      } catch (err) {
        say(explain(err), true);
      }
    });
    const remove = h('button', {type: 'button', class: 'danger', id: 'delete-user'}, 'Delete user');
    const sure = h('div');
    remove.addEventListener('click', () => clear(sure, confirmBox(
      'Delete ' + u.username + '? Their live jobs are cancelled and they can no longer log in.',
      'delete-confirm', 'Yes, delete ' + u.username, async () => {
        try {
          const r = await del('/users/' + encodeURIComponent(u.username));
          say('Deleted ' + r.username + '; ' + r.jobs_cancelled + ' live job(s) cancelled.');
          chosen = null;
          await load();
        } catch (err) {
          say(explain(err), true);
        }
      }, () => clear(sure))));
    clear(panel, h('section', {class: 'card', id: 'user-panel', 'aria-labelledby': 'panel-h'},
      h('h2', {id: 'panel-h'}, 'Manage ' + u.username),
      h('p', null, 'Remaining ', gpuTime(u.quota.remaining), ', reserved ', gpuTime(u.quota.reserved), '.'),
      h('h3', null, 'Quota'), quotaForm,
      h('h3', null, 'Role and account'), h('div', {class: 'actions'}, role, remove), sure));
  }

  async function load() {
    try {
      users = (await get('/users')).users;
      if (app.alive()) draw();
    } catch (e) {
      app.fail(list, e, load);
    }
  }

  app.on((ev) => /^(resync|user\.|quota\.)/.test(ev.kind), load);
  load();
}
