#!/usr/bin/env python3
"""Benchmark of the approval workflow (a benchmark, not a test: it prints
figures and asserts nothing about time).

  - event.watch fan-out: N parked watchers (default 1000), one job submitted;
    the latency from sending the submit to each watcher's reply (an upper
    bound of the time from its commit);
  - job.get of a waiting job with M approved jobs queued (default 100,000):
    p50/p99 over many requests, the estimated start computed from the queue;
  - the same get right after a change to the queue (the estimate is
    recomputed on the first read after a change).

Usage: workflow.py [--smoke] [--build DIR]
"""
import argparse
import json
import os
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpuaas_protocol import Client, frame  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def start_daemon(build, tmp, args):
    sock = os.path.join(tmp, "s.sock")
    env = dict(os.environ, GPUAAS_INITIAL_ADMIN_PASSWORD="bench-admin-pw")
    proc = subprocess.Popen([os.path.join(build, "gpuaasd", "gpuaasd"), "--socket", sock, "--state-dir",
                             os.path.join(tmp, "state"), "--log-level", "warn", "--bcrypt-cost", "4",
                             "--max-connections", "4000"] + args,
                            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
    for _ in range(200):
        try:
            c = Client(sock)
            token = c.call("auth.login", {"username": "admin", "password": "bench-admin-pw"})["token"]
            Client(sock, token).call("user.quota", {"username": "admin", "set": 10 ** 14})
            return proc, sock, token
        except (OSError, EOFError):
            time.sleep(0.05)
    proc.kill()
    sys.exit("gpuaasd did not start: " + open(os.path.join(tmp, "log")).read())


def watch_fanout(sock, token, n):
    admin = Client(sock, token)
    last = admin.call("event.list", {"since": 0, "limit": 1})["events"]
    since = admin.call("event.list", {"since": last[-1]["seq"] if last else 0, "limit": 1000})
    since = since["last_seq"]
    sel = selectors.DefaultSelector()
    watchers = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        s.sendall(frame({"v": 1, "id": 1, "op": "event.watch", "token": token,
                         "args": {"since": since, "timeout": 60}}))
        watchers.append(s)
    time.sleep(0.5)  # every watch read and parked
    for s in watchers:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    t0 = time.monotonic()
    admin.call("job.submit", {"gpu_type": "T4", "time_limit": 60})
    committed = time.monotonic()
    lat, buf = [], {s: b"" for s in watchers}
    deadline = time.monotonic() + 30
    while len(lat) < n and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            buf[s] += s.recv(65536)
            if len(buf[s]) >= 4 and len(buf[s]) >= 4 + struct.unpack(">I", buf[s][:4])[0]:
                lat.append((time.monotonic() - t0) * 1000)
                sel.unregister(s)
    for s in watchers:
        s.close()
    # Measured from sending the submit: an upper bound of the time from its
    # commit (the daemon answers the watchers before it flushes the reply).
    print("event.watch watchers=%d answered=%d submit_reply_ms=%.2f answer_ms p50=%.2f p99=%.2f max=%.2f"
          % (n, len(lat), (committed - t0) * 1000, pct(lat, 50), pct(lat, 99), max(lat) if lat else -1))


def waiting_get(sock, token, m, requests):
    admin = Client(sock, token)
    blocker = admin.call("job.submit", {"gpu_type": "A100", "time_limit": 86400})["id"]
    admin.call("job.approve", {"id": blocker})
    t0 = time.monotonic()
    ids = []
    for start in range(0, m, 5000):
        batch = [admin.call("job.submit", {"gpu_type": "A100", "time_limit": 3600})["id"]
                 for _ in range(min(5000, m - start))]
        admin.call("job.approve", {"ids": batch})
        ids.extend(batch)
    fill = time.monotonic() - t0
    probe = [ids[(i * 7919) % len(ids)] for i in range(requests)]
    lat = []
    for jid in probe:
        t = time.monotonic()
        job = admin.call("job.get", {"id": jid})
        lat.append((time.monotonic() - t) * 1000)
    assert job["estimated_start"], job
    print("job.get waiting=%d (filled in %.1fs) requests=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
          % (m, fill, requests, pct(lat, 50), pct(lat, 99), max(lat)))
    # After a change the first read recomputes the whole queue's estimates.
    after = []
    for i in range(20):
        admin.call("job.cancel", {"id": ids[-1 - i]})
        t = time.monotonic()
        admin.call("job.get", {"id": ids[i]})
        after.append((time.monotonic() - t) * 1000)
    print("job.get right after a queue change: p50_ms=%.3f max_ms=%.3f" % (pct(after, 50), max(after)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--build", default=os.environ.get("GPUAAS_BUILD",
                                                      os.path.join(os.path.dirname(__file__), "..", "..", "build")))
    a = ap.parse_args()
    watchers, waiting, requests = (50, 2000, 200) if a.smoke else (1000, 100000, 5000)
    tmp = tempfile.mkdtemp(prefix="gpuaas-wf-bench.")
    proc = None
    try:
        proc, sock, token = start_daemon(a.build, tmp, ["--gpus", "A100:1,T4:4", "--sim-time-scale", "1"])
        watch_fanout(sock, token, watchers)
        waiting_get(sock, token, waiting, requests)
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
