// The app's one event stream; nothing polls. The browser reconnects by
// itself with Last-Event-ID. When the stream is closed for good (an error
// answer, or an "error" event: the token stopped working), a 401 from /me
// ends the session; else we reconnect from the last event seen.
import {KINDS} from './timeline.js';

const subscribers = new Set();
let source = null;
let lastSeq = null;
let retryTimer = null;
let opened = false;
let checkSession = null;
let statusEl = null;
let generation = 0; // stop() starts a new one: late callbacks of the old stream do nothing

function setStatus(text, live) {
  if (!statusEl) statusEl = document.getElementById('live');
  if (!statusEl) return;
  statusEl.textContent = text;
  statusEl.classList.toggle('on', !!live);
}

function deliver(ev) {
  for (const fn of [...subscribers]) {
    try { fn(ev); } catch (err) { console.warn('event handler failed', err); }
  }
}

function onEvent(msg) {
  let ev;
  try { ev = JSON.parse(msg.data); } catch (err) { return; }
  if (typeof ev.seq === 'number') lastSeq = ev.seq;
  deliver(ev);
}

function closedForGood() {
  if (source) source.close();
  source = null;
  setStatus('reconnecting', false);
  clearTimeout(retryTimer);
  const gen = generation;
  retryTimer = setTimeout(async () => {
    if (checkSession && !(await checkSession())) return; // the session ended: login takes over
    if (gen === generation && !source) connect();
  }, 2000);
}

function connect() {
  return new Promise((resolve) => {
    const url = '/api/v1/events/stream' + (lastSeq !== null ? '?since=' + lastSeq : '');
    const es = new EventSource(url);
    source = es;
    const done = setTimeout(resolve, 3000); // never hold the page up for long
    es.addEventListener('open', () => {
      clearTimeout(done);
      setStatus('live', true);
      if (opened) deliver({kind: 'resync'});
      opened = true;
      resolve();
    });
    for (const k of KINDS) es.addEventListener(k, onEvent);
    // "error" is both the connection's error and the gateway's last event.
    es.addEventListener('error', (e) => {
      if (source !== es) return;
      if (e.data !== undefined || es.readyState === EventSource.CLOSED) {
        clearTimeout(done);
        resolve();
        closedForGood();
      } else {
        setStatus('reconnecting', false);
      }
    });
  });
}

/* Opens the stream; resolves once it is open (the start point is fixed),
 * so a page that loads its data afterwards misses nothing. */
export function start(sessionCheck) {
  checkSession = sessionCheck;
  if (source) return Promise.resolve();
  return connect();
}

export function stop() {
  generation += 1;
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  lastSeq = null;
  opened = false;
  setStatus('offline', false);
}

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}
