// The REST API with the session cookie; POST and DELETE carry the CSRF
// token. Errors are thrown as ApiError. A 401 means the session ended: the
// app is told once, and shows the login page.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter ? parseInt(retryAfter, 10) : null;
  }
}

let csrf = null;
let unauthenticated = null;
let session = 0; // a 401 to a request of an earlier session must not end this one

export function setCsrf(token) {
  csrf = token || null;
  session += 1;
}

export function onUnauthenticated(fn) {
  unauthenticated = fn;
}

/* What to tell a person about an error. */
export function explain(e) {
  if (!(e instanceof ApiError)) return 'Something went wrong: ' + (e && e.message ? e.message : String(e));
  switch (e.code) {
  case 'NETWORK': return 'The dashboard cannot reach the server. Check the connection and try again.';
  case 'RATE_LIMITED': return 'Too many attempts. Try again in ' + (e.retryAfter || 60) + ' seconds.';
  case 'UNAVAILABLE':
    return e.status === 502 ? 'The gateway cannot reach gpuaasd right now. Try again shortly.' :
      'The service is busy (' + e.message + '). Try again shortly.';
  default: return e.message || ('Request failed with status ' + e.status + '.');
  }
}

export async function api(method, path, body, opts) {
  const o = opts || {};
  const mine = session;
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store', signal: o.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (err) { data = null; }
  }
  if (res.ok) return data;
  const err = (data && data.error) || {};
  const e = new ApiError(res.status, err.code || 'HTTP_' + res.status, err.message || res.statusText,
    res.headers.get('Retry-After'));
  if (res.status === 401 && !o.noRedirect && unauthenticated && mine === session) unauthenticated(e);
  throw e;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/* Query strings from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? '?' + s : '';
}

/* Every event of a query, following last_seq: at most max events, and
 * no further than alive() (the page that asked is still shown). */
export async function allEvents(params, alive, max) {
  const out = [];
  let since = params.since || 0;
  for (;;) {
    const r = await get('/events' + qs({...params, since, limit: 1000}));
    out.push(...r.events);
    if (r.events.length < 1000 || out.length >= (max || 20000) || !alive()) return out;
    since = r.last_seq;
  }
}
