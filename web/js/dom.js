// Building the page. Every string given here becomes a text node or an
// attribute value, never HTML: job names, commands, reasons, usernames and
// log text cannot inject markup. Style attributes are refused (the CSP
// forbids them); classes carry all styling.

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden']);

function apply(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {
    if (k === 'style' || k === 'innerHTML' || k === 'outerHTML') throw new Error('refused property ' + k);
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v == null ? '' : String(v);
    else if (PROPS.has(k)) el[k] = v;
    else if (v === null || v === undefined || v === false) continue;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function add(el, ...kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : String(k));
  }
  return el;
}

/* h('a', {href: '#/jobs', class: 'x'}, 'text', child...) */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  apply(el, props);
  return add(el, kids);
}

/* The same for SVG elements. */
export function svg(tag, props, ...kids) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  return add(el, kids);
}

export function clear(el, ...kids) {
  el.replaceChildren();
  return add(el, kids);
}

let uid = 0;
export function newId(prefix) {
  uid += 1;
  return (prefix || 'f') + '-' + uid;
}

/* A labelled form field: label, control, optional hint and error line, tied
 * together with for/id and aria-describedby. Returns {row, control, error}. */
export function field(label, control, hint) {
  const id = control.id || newId('f');
  control.id = id;
  const hintEl = hint ? h('p', {class: 'hint', id: id + '-hint'}, hint) : null;
  const error = h('p', {class: 'field-error', id: id + '-error', hidden: true});
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  const row = h('div', {class: 'field'}, h('label', {for: id}, label), control, hintEl, error);
  return {row, control, error};
}

/* Shows or clears a field's error; the control is marked aria-invalid. */
export function setFieldError(f, message) {
  f.error.hidden = !message;
  f.error.textContent = message || '';
  if (message) f.control.setAttribute('aria-invalid', 'true');
  else f.control.removeAttribute('aria-invalid');
}

/* A table inside a scrolling wrapper (narrow screens scroll it sideways). */
export function table(caption, headers, rows, cls) {
  return h('div', {class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption},
    h('table', {class: cls || ''},
      h('caption', {class: 'sr-only'}, caption),
      h('thead', null, h('tr', null, headers.map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', null, rows)));
}

/* Messages: an error box (role=alert) with an optional retry, an empty state. */
export function errorBox(message, retry) {
  return h('div', {class: 'error', role: 'alert'}, h('p', null, message),
    retry ? h('button', {type: 'button', onclick: retry}, 'Try again') : null);
}

export function emptyBox(...kids) {
  return h('div', {class: 'empty'}, kids);
}

/* An inline "are you sure": text, a danger button (id yesId) and a way back. */
export function confirmBox(text, yesId, yesLabel, onYes, onNo) {
  const yes = h('button', {type: 'button', class: 'danger', id: yesId}, yesLabel);
  const no = h('button', {type: 'button', onclick: onNo}, 'Keep it');
  yes.addEventListener('click', () => {
    yes.disabled = true;
    onYes();
  });
  const box = h('div', {class: 'confirm', role: 'alertdialog', 'aria-label': 'Confirm'}, h('p', null, text), yes, no);
  setTimeout(() => yes.focus(), 0);
  return box;
}

/* A success or error line in a status area, also said to screen readers. */
export function say(el, text, bad) {
  clear(el, h('p', {class: bad ? 'error' : 'success'}, text));
  announce(text);
}

const announcer = () => document.getElementById('announce');
/* Says something to screen readers (the polite live region). */
export function announce(text) {
  const el = announcer();
  if (!el) return;
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 30);
}
