#!/usr/bin/env python3
"""Workload generator and replayer: FIFO against backfill on a lab-like week.

The trace (seeded, reproducible) follows the shape that studies of real GPU
clusters report (the parameters are in TRACE below, easy to change):

  - Jeon et al., "Analysis of Large-Scale Multi-Tenant GPU Clusters for DNN
    Training Workloads" (Microsoft Philly, USENIX ATC 2019);
  - Hu et al., "Characterization and Prediction of Deep Learning Workloads in
    Large-Scale GPU Datacenters" (SenseTime Helios, SC 2021).

Both find most jobs use one GPU, a minority 2, 4 or 8; run times are heavy
tailed (most jobs run minutes, a few run a day); arrivals follow the working
day; and users ask for far more time than jobs use. The numbers below are
round values in that spirit, not fitted to either trace.

The replayer drives a real gpuaasd (sim executor, --sim-time-scale so that a
week replays in about a minute) through its socket: an auto-approval rule
approves every job at submit, each job carries its real run time (`sim_run`,
below its limit). It reports GPU utilisation (and the upper bound: total work
over capacity), mean and p95 wait, how many jobs started later than under
FIFO and by how much, and the daemon's CPU time.

Usage: workload.py [--seeds 1,2,3] [--week-seconds 60] [--build DIR]
"""
import argparse
import json
import math
import os
import random
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpuaas_protocol import Client, frame  # noqa: E402

TRACE = {
    "days": 7,
    "gpus": {"A100": 8, "T4": 16},
    "type_share": {"A100": 0.45, "T4": 0.55},
    "count_share": {1: 0.70, 2: 0.12, 4: 0.10, 8: 0.08},
    "run_median_s": 900,          # 15 minutes
    "run_sigma": 1.8,             # lognormal: a long tail to a day
    "run_min_s": 60,
    "run_max_s": 86400,
    "overestimate_median": 3.0,   # time limit / run time
    "overestimate_sigma": 0.7,
    "limit_max_s": 86400,
    "offered_load": 0.85,         # of the capacity, averaged over the week
    "day_peak": 2.5,              # arrivals at 2 pm vs the daily mean
}


def pick(rng, shares):
    x, acc = rng.random(), 0.0
    for k, p in shares.items():
        acc += p
        if x < acc:
            return k
    return list(shares)[-1]


def generate(seed):
    """Jobs (arrival, type, count, run, limit) over the simulated week."""
    rng = random.Random(seed)
    t = TRACE
    week = t["days"] * 86400
    mean_run = t["run_median_s"] * math.exp(t["run_sigma"] ** 2 / 2)
    mean_count = sum(k * p for k, p in t["count_share"].items())
    capacity = sum(t["gpus"].values())
    rate = t["offered_load"] * capacity / (mean_run * mean_count)   # jobs per second, on average
    shape = lambda hour: 1 + (t["day_peak"] - 1) * math.exp(-((hour - 14) / 4) ** 2)
    mean_shape = sum(shape(h / 10) for h in range(240)) / 240
    peak = rate * t["day_peak"] / mean_shape     # the highest rate of the day
    jobs, now = [], 0.0
    while True:
        # Thinning: arrivals at the peak rate, kept in proportion to the
        # hour's share of it (working hours busier than the night).
        now += rng.expovariate(peak)
        if now >= week:
            break
        if rng.random() > shape((now % 86400) / 3600) / t["day_peak"]:
            continue
        gtype = pick(rng, t["type_share"])
        count = min(pick(rng, t["count_share"]), t["gpus"][gtype])
        run = min(max(rng.lognormvariate(math.log(t["run_median_s"]), t["run_sigma"]), t["run_min_s"]),
                  t["run_max_s"])
        factor = max(1.0, rng.lognormvariate(math.log(t["overestimate_median"]), t["overestimate_sigma"]))
        limit = min(max(int(run * factor), int(run) + 1), t["limit_max_s"])
        run = min(int(run), limit)
        jobs.append({"arrival": now, "type": gtype, "count": count, "run": max(1, run), "limit": limit})
    return jobs


def replay(build, jobs, scale, backfill):
    tmp = tempfile.mkdtemp(prefix="gpuaas-workload.")
    sock = os.path.join(tmp, "s.sock")
    gpus = ",".join("%s:%d" % kv for kv in TRACE["gpus"].items())
    env = dict(os.environ, GPUAAS_INITIAL_ADMIN_PASSWORD="workload-admin")
    proc = subprocess.Popen([os.path.join(build, "gpuaasd", "gpuaasd"), "--socket", sock, "--state-dir",
                             os.path.join(tmp, "state"), "--log-level", "warn", "--bcrypt-cost", "4",
                             "--gpus", gpus, "--sim-time-scale", repr(scale), "--max-time", "2d",
                             "--backfill", "on" if backfill else "off"], env=env)
    try:
        for _ in range(200):
            try:
                token = Client(sock).call("auth.login", {"username": "admin", "password": "workload-admin"})["token"]
                break
            except (OSError, EOFError):
                time.sleep(0.05)
        c = Client(sock, token)
        c.call("user.quota", {"username": "admin", "set": 10 ** 14})
        c.call("rule.add", {"scope": "all", "note": "workload replay: everything is approved"})
        t0 = time.monotonic()
        submitted = {}
        for j in jobs:
            delay = j["arrival"] * scale - (time.monotonic() - t0)
            if delay > 0:
                time.sleep(delay)
            got = c.call("job.submit", {"gpu_type": j["type"], "gpu_count": j["count"], "time_limit": j["limit"],
                                        "sim_run": j["run"]})
            submitted[got["id"]] = (time.time(), j)
        ids = list(submitted)
        while True:
            live = c.call("job.list", {"all": True, "states": ["PENDING", "APPROVED", "RUNNING"], "limit": 1})
            if not live["jobs"]:
                break
            time.sleep(0.2)
        cpu = sum(int(x) for x in open("/proc/%d/stat" % proc.pid).read().rsplit(")", 1)[1].split()[11:13])
        cpu_s = cpu / os.sysconf("SC_CLK_TCK")
    finally:
        proc.terminate()
        proc.wait()
    db = sqlite3.connect(os.path.join(tmp, "state", "gpuaas.db"))
    rows = {i: (ru, tl) for i, ru, tl in db.execute("SELECT id, run_until_ms, time_limit FROM jobs")}
    db.close()
    shutil.rmtree(tmp, ignore_errors=True)
    starts = {}
    for i in ids:
        run_until_ms, limit = rows[i]
        start_wall = run_until_ms / 1000.0 - limit * scale
        submit_wall, j = submitted[i]
        starts[i] = (j["arrival"], max(0.0, (start_wall - submit_wall) / scale), j)
    return starts, cpu_s


def summarize(starts, week):
    waits = sorted(w for _, w, _ in starts.values())
    work = sum(j["count"] * j["run"] for _, _, j in starts.values())
    end = max(a + w + j["run"] for a, w, j in starts.values())
    capacity = sum(TRACE["gpus"].values())
    return {
        "jobs": len(waits),
        "util": work / (capacity * max(end, week)),
        "mean_wait_min": sum(waits) / len(waits) / 60,
        "p95_wait_min": waits[int(0.95 * (len(waits) - 1))] / 60,
        "bound": work / (capacity * week),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--week-seconds", type=float, default=60.0, help="wall seconds one simulated week takes")
    ap.add_argument("--build", default=os.environ.get("GPUAAS_BUILD",
                                                      os.path.join(os.path.dirname(__file__), "..", "..", "build")))
    a = ap.parse_args()
    week = TRACE["days"] * 86400
    scale = a.week_seconds / week
    print("| seed | jobs | util FIFO | util backfill | bound | mean wait FIFO | mean wait bf | p95 FIFO | p95 bf "
          "| later than FIFO (n, mean, max) | daemon CPU s FIFO / bf |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for seed in [int(s) for s in a.seeds.split(",")]:
        jobs = generate(seed)
        fifo, cpu_f = replay(a.build, jobs, scale, False)
        bf, cpu_b = replay(a.build, jobs, scale, True)
        sf, sb = summarize(fifo, week), summarize(bf, week)
        # Jobs are matched by submit order (ids follow it in both runs).
        later = []
        for (i, (_, wf, _)), (k, (_, wb, _)) in zip(sorted(fifo.items()), sorted(bf.items())):
            if wb > wf + 60:   # a minute of slack: the replay's own timing noise
                later.append(wb - wf)
        print("| %d | %d | %.1f%% | %.1f%% | %.1f%% | %.0f min | %.0f min | %.0f min | %.0f min | %d, %.0f min, %.0f min "
              "| %.1f / %.1f |" % (seed, sf["jobs"], 100 * sf["util"], 100 * sb["util"], 100 * sf["bound"],
                                   sf["mean_wait_min"], sb["mean_wait_min"], sf["p95_wait_min"], sb["p95_wait_min"],
                                   len(later), (sum(later) / len(later) / 60) if later else 0,
                                   (max(later) / 60) if later else 0, cpu_f, cpu_b))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
