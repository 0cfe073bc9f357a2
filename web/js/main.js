// The session, the router and the header. Each page (pages/*.js) renders
// into its own <section> and gets an app object: who is logged in, and the
// event stream for as long as the page is shown.
import {get, post, setCsrf, onUnauthenticated, explain} from './api.js';
import * as events from './events.js';
import {h, clear, errorBox} from './dom.js';
import loginPage from './pages/login.js';
import jobsPage from './pages/jobs.js';
import jobPage from './pages/job.js';
import submitPage from './pages/submit.js';
import quotaPage from './pages/quota.js';
import gpusPage from './pages/gpus.js';
import adminPage from './pages/admin.js';

const HINT = 'gpuaas.session';   // "a session may exist": saves a 401 on a first visit
const RETURN = 'gpuaas.return';  // where to go back to after logging in again

const routes = [
  [/^\/jobs$/, jobsPage],
  [/^\/jobs\/(\d+)$/, jobPage],
  [/^\/submit$/, submitPage],
  [/^\/quota$/, quotaPage],
  [/^\/gpus$/, gpusPage],
  [/^\/admin(?:\/(inbox|users|rules|audit|usage))?$/, adminPage],
];

const main = document.getElementById('main');
let me = null;
let current = null; // {leave: [], alive}
let notice = null; // why the login page shows (kept until the next login)

function remember() {
  const here = location.hash;
  if (here.startsWith('#/') && here !== '#/login') sessionStorage.setItem(RETURN, here);
}

/* The session of u; resolves once the event stream is open. */
function begin(u, csrf) {
  me = {username: u.username, is_admin: u.is_admin};
  setCsrf(csrf);
  localStorage.setItem(HINT, '1');
  return events.start(sessionAlive);
}

function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const q = raw.indexOf('?');
  return {path: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))};
}

function leave() {
  if (!current) return;
  current.alive = false;
  for (const fn of current.leave) {
    try { fn(); } catch (err) { console.warn(err); }
  }
  current = null;
}

function header() {
  const top = document.getElementById('top');
  top.hidden = !me;
  if (!me) return;
  document.getElementById('who').textContent = me.username + (me.is_admin ? ' (admin)' : '');
  document.getElementById('nav-admin').hidden = !me.is_admin;
  const section = parseHash().path.split('/')[1] || 'jobs';
  for (const a of top.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function show(section, focus) {
  main.replaceChildren(section);
  if (focus) {
    const h1 = section.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({preventScroll: true});
    }
  }
}

function showLogin(why) {
  if (why !== undefined) notice = why;
  leave();
  header();
  const section = h('section', {class: 'page page-login'});
  current = {leave: [], alive: true};
  loginPage(section, {notice, onLogin: loggedIn});
  document.title = 'Log in · gpuaas';
  show(section, false);
  const user = section.querySelector('input');
  if (user) user.focus();
}

function render(focus) {
  if (!me) {
    remember();
    showLogin();
    return;
  }
  const {path, query} = parseHash();
  if (path === '/' || path === '/login') {
    location.replace('#/jobs');
    return;
  }
  leave();
  header();
  const page = {leave: [], alive: true};
  current = page;
  const section = h('section', {class: 'page'});
  const app = {
    me,
    query,
    alive: () => page.alive,
    onLeave: (fn) => page.leave.push(fn),
    listen: (fn) => page.leave.push(events.subscribe(fn)),
    // Calls fn once, ms after the last event that passes test (a burst of events, one reload).
    on(test, fn, ms) {
      let timer = null;
      page.leave.push(() => clearTimeout(timer));
      this.listen((ev) => {
        if (!test(ev)) return;
        clearTimeout(timer);
        timer = setTimeout(fn, typeof ms === 'function' ? ms(ev) : ms || 200);
      });
    },
    title: (t) => { document.title = t + ' · gpuaas'; },
    // An error with a retry in place of el's content, while the page is shown.
    fail: (el, e, retry) => page.alive && clear(el, errorBox(explain(e), retry)),
  };
  const route = routes.find(([re]) => re.test(path));
  if (!route) {
    app.title('Not found');
    clear(section, h('h1', null, 'Page not found'),
      h('p', null, 'There is no page at ', h('code', null, path), '. ', h('a', {href: '#/jobs'}, 'Go to My jobs'), '.'));
  } else {
    route[1](section, route[0].exec(path).slice(1), app);
  }
  show(section, focus);
}

/* Asked by the event stream when it was closed: false when the session is over. */
async function sessionAlive() {
  try {
    await get('/me');
    return true;
  } catch (err) {
    return err.status !== 401;
  }
}

async function loggedIn(login) {
  notice = null;
  await begin(login.user, login.csrf_token);
  const target = sessionStorage.getItem(RETURN) || '#/jobs'; // never #/login (remember)
  sessionStorage.removeItem(RETURN);
  if (location.hash === target) render(true);
  else location.hash = target;
}

function endSession(why) {
  if (!me) return;
  me = null;
  setCsrf(null);
  events.stop();
  localStorage.removeItem(HINT);
  remember();
  showLogin(why);
}

onUnauthenticated(() => endSession('Your session has expired or was ended. Log in again to go back to where you were.'));

document.getElementById('logout').addEventListener('click', async () => {
  try { await post('/logout', undefined, {noRedirect: true}); } catch (err) { /* the cookie is gone either way */ }
  endSession('You are logged out.');
  sessionStorage.removeItem(RETURN);
  history.replaceState(null, '', '#/login');
});

document.getElementById('skip').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => render(true));

async function boot() {
  if (!localStorage.getItem(HINT)) {
    render(false);
    return;
  }
  try {
    const r = await get('/me', {noRedirect: true});
    await begin(r, r.csrf_token);
    render(false);
  } catch (err) {
    if (err.status === 401) {
      localStorage.removeItem(HINT);
      remember();
      showLogin('Your session has expired. Log in again to go back to where you were.');
    } else {
      clear(main, h('h1', null, 'gpuaas'), errorBox(explain(err), () => location.reload()));
    }
  }
}

boot();
