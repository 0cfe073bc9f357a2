// Building the page. Every string becomes a text node or an attribute
// value, never HTML, so no name, command or log can inject markup. Style
// attributes are refused: the CSP forbids them.
import {parseDuration} from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden']);

function apply(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'style' || k === 'innerHTML' || k === 'outerHTML') throw new Error('refused property ' + k);
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  }
  return el;
}

export function add(el, ...kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : String(k));
  }
  return el;
}

/* h('a', {href: '#/jobs', class: 'x'}, 'text', child...) */
export const h = (tag, props, ...kids) => add(apply(document.createElement(tag), props), kids);
export const svg = (tag, props, ...kids) => add(apply(document.createElementNS(SVG_NS, tag), props), kids);

export function clear(el, ...kids) {
  el.replaceChildren();
  return add(el, kids);
}

let uid = 0;
/* A labelled field with an optional hint and an error line, tied together
 * with for/id and aria-describedby. */
export function field(label, control, hint) {
  const id = control.id || 'f-' + ++uid;
  control.id = id;
  const hintEl = hint ? h('p', {class: 'hint', id: id + '-hint'}, hint) : null;
  const error = h('p', {class: 'field-error', id: id + '-error', hidden: true});
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  const row = h('div', {class: 'field'}, h('label', {for: id}, label), control, hintEl, error);
  return {row, control, error};
}

/* Shows or clears a field's error. */
export function setFieldError(f, message) {
  f.error.hidden = !message;
  f.error.textContent = message || '';
  if (message) f.control.setAttribute('aria-invalid', 'true');
  else f.control.removeAttribute('aria-invalid');
}

/* A duration field's seconds: undefined when optional and empty, null when
 * it does not parse (the field then says why). */
export function durationOf(f, optional) {
  try {
    const v = f.control.value.trim();
    const s = v || !optional ? parseDuration(v) : undefined;
    setFieldError(f, null);
    return s;
  } catch (e) {
    setFieldError(f, e.message);
    return null;
  }
}

/* A table in a wrapper that narrow screens scroll sideways; rows may be a tbody. */
export function table(caption, headers, rows, cls) {
  return h('div', {class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption},
    h('table', {class: cls || ''},
      h('caption', {class: 'sr-only'}, caption),
      h('thead', null, h('tr', null, headers.map((t) => h('th', {scope: 'col'}, t)))),
      rows instanceof Node ? rows : h('tbody', null, rows)));
}

export const loading = (text) => h('p', {class: 'loading'}, text || 'Loading…');

export function errorBox(message, retry) {
  return h('div', {class: 'error', role: 'alert'}, h('p', null, message),
    retry ? h('button', {type: 'button', onclick: retry}, 'Try again') : null);
}

/* An empty state: a line of text, and what to do. */
export function emptyBox(text, ...kids) {
  return h('div', {class: 'empty'}, h('p', null, text), kids);
}

/* An inline "are you sure". */
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

/* A success or error line, also said to screen readers. */
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
