// The audit log, oldest first within the period; new entries arrive live.
import {get, qs} from '../api.js';
import {h, clear, table, emptyBox, loading} from '../dom.js';
import {jobLink} from '../jobview.js';
import {dateTime} from '../format.js';
import {title, details} from '../timeline.js';

const PAGE = 500;
const PERIODS = [['86400', 'Last 24 hours'], ['604800', 'Last 7 days'], ['2592000', 'Last 30 days'], ['0', 'Everything']];
const AUDIT = /^(user\.|quota\.|rule\.|job\.approved$|job\.rejected$)/;

export default function auditTab(body, app) {
  const period = h('select', {id: 'audit-period'}, PERIODS.map(([v, t]) => h('option', {value: v, selected: v === '604800'}, t)));
  const user = h('input', {id: 'audit-user', autocomplete: 'off', spellcheck: 'false', placeholder: 'any'});
  const form = h('form', {class: 'toolbar', novalidate: true},
    h('label', {for: 'audit-period'}, 'Period'), period, h('label', {for: 'audit-user'}, 'User'), user,
    h('button', {type: 'submit'}, 'Show'));
  const list = h('div', null, loading());
  const more = h('div', {class: 'pager'});
  body.append(form, list, more);
  let tbody = null;
  let since = 0;

  function row(e) {
    return h('tr', {'data-seq': e.seq},
      h('td', {class: 'num'}, String(e.seq)), h('td', {class: 'time'}, dateTime(e.at)),
      h('td', null, title(e)),
      h('td', null, e.job_id ? jobLink(e.job_id, 'job ' + e.job_id) : (e.user || '')),
      h('td', {class: 'detail'}, details(e.detail).filter(([k]) => k !== 'seq').map(([k, v]) => k + ': ' + v).join('; ')));
  }

  function params() {
    const p = {user: user.value.trim(), limit: PAGE, since};
    if (period.value !== '0') p.since_time = Math.floor(Date.now() / 1000) - Number(period.value);
    return p;
  }

  async function page(first) {
    try {
      const r = await get('/audit' + qs(params()));
      if (!app.alive()) return;
      since = r.last_seq || since;
      if (first) {
        if (!r.events.length) {
          tbody = null;
          clear(list, emptyBox('No admin actions in this period.'));
        } else {
          tbody = h('tbody', null, r.events.map(row));
          clear(list, table('Audit log', ['#', 'When', 'What', 'About', 'Details'], tbody, 'audit'));
        }
      } else if (tbody) {
        tbody.append(...r.events.map(row));
      }
      clear(more, r.events.length === PAGE ? h('button', {type: 'button', onclick: () => page(false)}, 'Load more') : null);
    } catch (e) {
      app.fail(list, e, () => page(true));
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    since = 0;
    page(true);
  });

  app.listen((ev) => {
    if (!ev.kind || !AUDIT.test(ev.kind) || ev.seq <= since || more.childElementCount) return;
    const u = user.value.trim();
    if (u && ev.user !== u && ev.actor !== u) return;
    since = ev.seq;
    if (!tbody) {
      page(true);
      return;
    }
    const tr = row(ev);
    tr.classList.add('changed');
    tbody.append(tr);
  });
  page(true);
}
