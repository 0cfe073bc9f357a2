// The login page: the session cookie, and the CSRF token.
import {post, ApiError, explain} from '../api.js';
import {h, add, field} from '../dom.js';

function message(e) {
  if (e instanceof ApiError) {
    if (e.status === 401) return 'Wrong username or password.';
    if (e.status === 400) return 'Check the username and password: ' + e.message;
  }
  return explain(e);
}

export default function loginPage(section, {notice, onLogin}) {
  const user = field('Username', h('input', {name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false'}));
  const pass = field('Password', h('input', {name: 'password', type: 'password', autocomplete: 'current-password',
    required: true}));
  const error = h('p', {class: 'form-error', id: 'login-error', role: 'alert', hidden: true});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Log in');
  const form = h('form', {class: 'card login', novalidate: true, 'aria-describedby': 'login-error'},
    user.row, pass.row, error, button);

  function fail(text) {
    error.textContent = text;
    error.hidden = false;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const username = user.control.value.trim();
    const password = pass.control.value;
    if (!username || !password) {
      fail('Enter your username and password.');
      (username ? pass : user).control.focus();
      return;
    }
    button.disabled = true;
    button.textContent = 'Logging in…';
    error.hidden = true;
    try {
      const r = await post('/login', {username, password}, {noRedirect: true});
      await onLogin(r);
    } catch (err) {
      fail(message(err));
      pass.control.value = '';
      pass.control.focus();
    } finally {
      button.disabled = false;
      button.textContent = 'Log in';
    }
  });

  add(section,
    h('h1', null, 'gpuaas'),
    h('p', {class: 'lede'}, 'Log in to submit jobs, follow them and see your GPU quota.'),
    notice ? h('p', {class: 'notice', role: 'status'}, notice) : null,
    form);
}
