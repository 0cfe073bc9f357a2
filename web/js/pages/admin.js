// The admin tabs. gpuaasd checks the role on every request; this only
// decides what to show.
import {h, errorBox} from '../dom.js';
import inbox from './admin-inbox.js';
import users from './admin-users.js';
import rules from './admin-rules.js';
import audit from './admin-audit.js';
import usage from './admin-usage.js';

const TABS = [['inbox', 'Approval inbox', inbox], ['users', 'Users', users], ['rules', 'Rules', rules],
  ['audit', 'Audit log', audit], ['usage', 'Usage', usage]];

export default function adminPage(section, [tab], app) {
  const current = TABS.find((t) => t[0] === tab) || TABS[0];
  app.title(current[1] + ' · Admin');
  if (!app.me.is_admin) {
    section.append(h('h1', null, 'Admin'), errorBox('These pages are for admins. Ask an admin if you need something done.'));
    return;
  }
  section.append(h('h1', null, 'Admin'),
    h('nav', {class: 'tabs', 'aria-label': 'Admin'}, h('ul', null, TABS.map(([id, label]) =>
      h('li', null, h('a', {href: '#/admin/' + id, 'aria-current': id === current[0] ? 'page' : null}, label))))));
  const body = h('div', {class: 'admin-body'});
  section.append(body);
  current[2](body, app);
}
