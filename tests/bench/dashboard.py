#!/usr/bin/env python3
"""The web dashboard in Debian's Chromium (python3-selenium), against a real
gpuaasd (sim executor) and gpuaas-web, measured through the Performance API:

  - the jobs page with 10,000 of the user's jobs in the database: how long
    after navigation start the first page of 50 is rendered (the app's
    "gpuaas-jobs-ready" mark) and DOMContentLoaded; goal under 500 ms;
  - a state change reaching the page: from gpuaasd's reply to a cancel (the
    commit is before it) to the row reading CANCELLED, observed in the page
    with a MutationObserver; goal under 200 ms of the commit;
  - the app's own HTML, CSS and JS size, raw and gzipped; goal under 100 KB.

Medians over several runs (--smoke: one). Uses the e2e tests' helpers for
the daemon, the gateway and the browser."""
import gzip
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from conftest import Daemon  # noqa: E402
import test_dashboard as td  # noqa: E402

SMOKE = "--smoke" in sys.argv
RUNS = 1 if SMOKE else 9
JOBS = 1000 if SMOKE else 10000
OBSERVE = """
const id = arguments[0];
window.__seen = null;
new MutationObserver(() => {
  const r = document.querySelector("tr[data-job-id='" + id + "']");
  if (r && r.dataset.status === "CANCELLED" && window.__seen === null) window.__seen = Date.now();
}).observe(document.querySelector("main"), {subtree: true, childList: true, attributes: true});
"""


def web_size():
    raw = packed = 0
    for p in (ROOT / "web").rglob("*"):
        if p.is_file() and p.suffix in (".html", ".css", ".js"):  # the goal counts the app's HTML, CSS and JS
            data = p.read_bytes()
            raw, packed = raw + len(data), packed + len(gzip.compress(data))
    return raw, packed


def submit(site, token, n, name):
    reqs = [{"op": "job.submit", "token": token, "args": {"gpu_type": "T4", "time_limit": 60, "name": "%s-%d" % (name, i),
                                                          "command": ["true"]}} for i in range(n)]
    return [j["id"] for j in td.pipeline(site.d.sock, reqs)]


def main():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gpuaas-dash-bench."))
    d = Daemon(tmp, args=["--gpus", "T4:2"], name="bd")
    d.start()
    site, b = td.Site(), None
    try:
        d.login()
        d.add_user("carol", quota="100000h", password="carol-password")
        site.tmp, site.d, site.shots = tmp, d, tmp
        site.web = td.start_gateway(tmp, d.sock)
        carol = site.token("carol", "carol-password")
        bulk = submit(site, carol, JOBS, "bulk")
        td.pipeline(d.sock, [{"op": "job.cancel", "token": carol, "args": {"id": i}} for i in bulk])
        probes = submit(site, carol, RUNS, "probe")   # pending: each run cancels one
        b = td.Browser(site, "carol")
        b.go("jobs")
        b.login("carol", "carol-password")
        b.wait_text("h1", "My jobs")
        ready, loaded, change, change_upper = [], [], [], []
        for jid in probes:
            b.d.refresh()
            td.wait_for(lambda: td.row(b, probes[-1]), 10, "the jobs page after a reload")
            t = b.d.execute_script(
                "const m = performance.getEntriesByName('gpuaas-jobs-ready')[0];"
                "const n = performance.getEntriesByType('navigation')[0];"
                "return [m ? m.startTime : -1, n.domContentLoadedEventEnd];")
            ready.append(t[0])
            loaded.append(t[1])
            b.wait_text("#live", "live")
            b.d.execute_script(OBSERVE, jid)
            sent = time.time() * 1000
            td.pipeline(d.sock, [{"op": "job.cancel", "token": carol, "args": {"id": jid}}])
            replied = time.time() * 1000
            seen = td.wait_for(lambda: b.d.execute_script("return window.__seen"), 5, "job %d to read CANCELLED" % jid)
            change.append(seen - replied)
            change_upper.append(seen - sent)
        raw, packed = web_size()
        med = statistics.median
        print("dashboard: %d jobs, %d runs, median (min..max)" % (JOBS + RUNS, RUNS))
        print("  jobs page rendered after navigation: %.0f ms (%.0f..%.0f); DOMContentLoaded %.0f ms; goal < 500 ms"
              % (med(ready), min(ready), max(ready), med(loaded)))
        print("  state change on the page after the commit's reply: %.1f ms (%.1f..%.1f); "
              "after the request was sent: %.1f ms; goal < 200 ms"
              % (med(change), min(change), max(change), med(change_upper)))
        print("  web/ size: %d bytes raw, %d gzipped (file by file); goal < 100 KB raw" % (raw, packed))
    finally:
        if b:
            b.quit()
        if getattr(site, "web", None):
            site.web.stop()
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
