// Numbers, durations, times and command lines, as gpuctl writes them.

const UNITS = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];

/* 5400 -> "1h30m", 0 -> "0s" (gpuctl's duration_format). */
export function duration(secs) {
  if (secs === null || secs === undefined) return '—';
  if (secs < 0) return '-';
  if (secs === 0) return '0s';
  let out = '';
  let rest = Math.round(secs);
  for (const [mult, unit] of UNITS) {
    const n = Math.floor(rest / mult);
    rest %= mult;
    if (n) out += n + unit;
  }
  return out;
}

/* GPU-seconds as GPU-hours: 5400 -> "1.5", 36 -> "0.01". */
export function gpuHours(secs) {
  const h = (secs || 0) / 3600;
  return h >= 100 ? h.toFixed(0) : h >= 1 || h === 0 ? h.toFixed(1) : h.toFixed(2);
}

/* GPU-time in both units: "1h30m (1.5 GPU-h)". */
export function gpuTime(secs) {
  if (secs === null || secs === undefined) return '—';
  return duration(secs) + ' (' + gpuHours(secs) + ' GPU-h)';
}

/* Parses what gpuctl accepts: 90s, 15m, 2h, 1h30m, 1.5h, 1d, MM:SS,
 * HH:MM:SS, D-HH[:MM[:SS]]. Throws an Error saying what is wrong. */
export function parseDuration(text) {
  const s = String(text).trim();
  if (!s) throw new Error('Enter a time limit, such as 30m or 2h.');
  const bad = '"' + s + '" is not a duration: use 30m, 2h, 1h30m, HH:MM:SS or D-HH.';
  let total;
  if (/[:-]/.test(s)) {
    const m = /^(?:(\d+)-)?(\d+)(?::(\d{1,2}))?(?::(\d{1,2}))?$/.exec(s);
    if (!m) throw new Error(bad);
    const [, d, a, b, c] = m;
    if ((b !== undefined && +b >= 60) || (c !== undefined && +c >= 60)) throw new Error('"' + s + '": minutes and seconds go up to 59.');
    if (d !== undefined) total = +d * 86400 + +a * 3600 + +(b || 0) * 60 + +(c || 0);
    else if (c !== undefined) total = +a * 3600 + +b * 60 + +c;
    else if (b !== undefined) total = +a * 60 + +b;
    else throw new Error(bad);
  } else {
    const re = /(\d+)(?:\.(\d+))?([dhms]?)/y;
    const rank = {d: 4, h: 3, m: 2, s: 1};
    let last = 5;
    total = 0;
    while (re.lastIndex < s.length) {
      const start = re.lastIndex;
      const m = re.exec(s);
      if (!m || m.index !== start || m[0] === '') throw new Error('"' + s + '" is not a duration: use 30m, 2h or 1h30m.');
      if (!m[3]) throw new Error('Add a unit to "' + s + '": s, m, h or d (e.g. ' + m[1] + 'm).');
      if (rank[m[3]] >= last) throw new Error('"' + s + '": give units largest first, each once (e.g. 1h30m).');
      last = rank[m[3]];
      const mult = UNITS.find((u) => u[1] === m[3])[0];
      total += Number(m[1] + '.' + (m[2] || '0')) * mult;
    }
    if (!Number.isInteger(Math.round(total * 1000) / 1000)) throw new Error('"' + s + '" is not a whole number of seconds.');
    total = Math.round(total);
  }
  if (total < 1) throw new Error('The time limit must be at least 1s.');
  return total;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

/* RFC 3339 -> "2026-11-27 14:20:05" in local time. */
export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}

/* A short time for tables: "11-27 14:20". */
export function shortTime(iso) {
  const t = dateTime(iso);
  return t.length > 16 ? t.slice(5, 16) : t;
}

/* A time near now: "14:20" today, else the date too; with "in 5m". */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const t = Date.now();
  const today = new Date().toDateString() === d.toDateString();
  const clock = pad(d.getHours()) + ':' + pad(d.getMinutes());
  const label = today ? clock : dateTime(iso).slice(0, 16);
  const diff = Math.round((d.getTime() - t) / 1000);
  if (diff <= 0) return label + ' (now)';
  return label + ' (in ' + duration(diff < 60 ? diff : Math.ceil(diff / 60) * 60) + ')';
}

/* A command line split as a POSIX shell splits words: spaces separate,
 * '…' and "…" group, \ escapes. No expansion of any kind. */
export function splitArgs(line) {
  const out = [];
  let cur = '';
  let inWord = false;
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null; else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < line.length) cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error('A ' + (quote === '"' ? 'double' : 'single') + ' quote is not closed.');
  if (inWord) out.push(cur);
  return out;
}

/* One argument as a shell would need it written. */
function quoteArg(a) {
  if (a !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a)) return a;
  return "'" + a.replace(/'/g, "'\\''") + "'";
}

export function commandLine(argv) {
  return argv && argv.length ? argv.map(quoteArg).join(' ') : '';
}

export function plural(n, one, many) {
  return n + ' ' + (n === 1 ? one : many || one + 's');
}
