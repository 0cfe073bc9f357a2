// Submit. The command is split into argv as a shell would and shown as it
// will run; as you type, a dry run shows the cost or the real submit's error.
import {get, post, explain} from '../api.js';
import {h, clear, field, setFieldError, durationOf, announce, errorBox} from '../dom.js';
import {argvView, jobLink, badge, QUEUE_KINDS} from '../jobview.js';
import {duration, gpuTime, splitArgs, when} from '../format.js';

export default function submitPage(section, params, app) {
  app.title('Submit a job');
  const type = field('GPU type', h('select', {name: 'gpu_type'}, h('option', {value: ''}, 'Loading…')));
  const count = field('GPUs', h('input', {name: 'gpu_count', type: 'number', min: 1, value: '1', inputmode: 'numeric'}));
  const time = field('Time limit', h('input', {name: 'time_limit', value: '1h', autocomplete: 'off', spellcheck: 'false'}),
    'How long it may run: 30m, 2h, 1h30m, 1d, or HH:MM:SS.');
  const name = field('Name (optional)', h('input', {name: 'name', maxlength: 128, autocomplete: 'off'}));
  const cmd = field('Command', h('input', {name: 'command', class: 'mono', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'python train.py --lr 3e-4'}),
  'Split into arguments as a shell would (quotes group words); it runs without a shell: write sh -c \'…\' for one.');
  const argvBox = h('div', {class: 'argv-box', id: 'argv-box'});
  const preview = h('div', {class: 'preview', id: 'preview', 'aria-live': 'polite'});
  const result = h('div', {class: 'result', id: 'submit-result'});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Submit job');
  const form = h('form', {class: 'card submit-form', novalidate: true},
    h('div', {class: 'grid2'}, type.row, count.row, time.row, name.row), cmd.row,
    h('div', {class: 'field'}, h('span', {class: 'label'}, 'Will run'), argvBox),
    button);

  section.append(h('h1', null, 'Submit a job'),
    h('div', {class: 'submit-layout'}, form,
      h('section', {class: 'card preview-card', 'aria-labelledby': 'preview-h'},
        h('h2', {id: 'preview-h'}, 'Cost preview'), preview, result)));

  /* The request the form describes, or null with field errors shown. */
  function request() {
    let ok = true;
    const body = {gpu_type: type.control.value || undefined};
    const n = Number(count.control.value);
    if (!Number.isInteger(n) || n < 1) {
      setFieldError(count, 'Enter a whole number of GPUs, at least 1.');
      ok = false;
    } else {
      setFieldError(count, null);
      body.gpu_count = n;
    }
    body.time_limit = durationOf(time);
    if (body.time_limit === null) ok = false;
    if (name.control.value) body.name = name.control.value;
    try {
      const argv = splitArgs(cmd.control.value);
      setFieldError(cmd, null);
      if (argv.length) body.command = argv;
      clear(argvBox, argvView(argv));
    } catch (e) {
      setFieldError(cmd, e.message);
      clear(argvBox, h('span', {class: 'muted'}, '—'));
      ok = false;
    }
    return ok ? body : null;
  }

  function showPreview(d) {
    const pending = d.status === 'PENDING';
    const rows = [
      ['Reservation', gpuTime(d.reservation) + ' = ' + d.gpu_count + ' × ' + d.gpu_type + ' × ' + duration(d.time_limit) +
        (d.weight && d.weight !== 1 ? ' × weight ' + d.weight : '')],
      ['Available after', gpuTime(d.available_after)],
      ['Approval', d.auto_approved_by ? 'Approved at once by ' + d.auto_approved_by.replace('rule:', 'rule ') :
        'Needs an admin\'s approval' + (d.reason && d.reason !== 'waiting for approval' ? ': ' + d.reason : '')],
      [pending ? 'Estimated start, if approved now' : 'Estimated start',
        d.estimated_start ? when(d.estimated_start) : 'never: the type has fewer GPUs than this'],
    ];
    clear(preview, h('dl', {class: 'facts', 'data-state': 'ok'}, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])));
    button.disabled = false;
  }

  let seq = 0;
  let timer = null;
  async function dryRun() {
    const body = request();
    const mine = ++seq;
    if (!body) {
      clear(preview, h('p', {class: 'muted', 'data-state': 'invalid'}, 'Fix the fields marked above to see the cost.'));
      button.disabled = true;
      return;
    }
    try {
      const d = await post('/jobs', {...body, dry_run: true});
      if (mine === seq && app.alive()) showPreview(d);
    } catch (e) {
      if (mine !== seq || !app.alive()) return;
      clear(preview, h('div', {class: 'error', 'data-state': 'error'},
        h('p', null, h('strong', null, 'This job would not be accepted: '), explain(e))));
      button.disabled = e.status === 400 || e.status === 403;
    }
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(dryRun, 250);
  }
  app.onLeave(() => clearTimeout(timer));
  form.addEventListener('input', schedule);
  form.addEventListener('change', schedule);

  async function loadGpus() {
    try {
      const gpus = (await get('/gpus')).gpus;
      if (!app.alive()) return;
      const keep = type.control.value;
      clear(type.control, gpus.map((g) => h('option', {value: g.type, selected: g.type === keep},
        g.type + ' — ' + g.free + ' of ' + g.total + ' free')));
      const g = gpus.find((x) => x.type === type.control.value);
      if (g) count.control.max = String(g.total);
      schedule();
    } catch (e) {
      if (app.alive()) clear(type.control, h('option', {value: ''}, 'unavailable: ' + explain(e)));
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = request();
    if (!body) return;
    button.disabled = true;
    clear(result);
    try {
      const job = await post('/jobs', body);
      clear(result, h('div', {class: 'success', role: 'status'},
        h('p', null, 'Submitted job ', jobLink(job.id), ': ', badge(job.status), ' ', job.reason || ''),
        h('p', null, jobLink(job.id, 'View job ' + job.id), ' · ', h('a', {href: '#/jobs'}, 'My jobs'))));
      announce('Submitted job ' + job.id + ', ' + job.status + '.');
      schedule();
    } catch (err) {
      clear(result, errorBox('Not submitted: ' + explain(err)));
    } finally {
      button.disabled = false;
    }
  });

  // Free counts change as jobs start and end; quota and rules change the preview.
  app.on((ev) => ev.kind === 'resync' || QUEUE_KINDS.has(ev.kind) || /^(quota|rule)\./.test(ev.kind), loadGpus);
  request();
  loadGpus();
}
