"""Backfill on a live daemon: the case that opened the issue (one A100 free,
a 2-GPU job first in line, a short 1-GPU job behind it), a job too long to
backfill, strict FIFO with --backfill off, and the promise to the job ahead."""
import time

from test_workflow import events, ok, submit, ts


def prepare(d, quota="100h"):
    d.login()
    d.add_user("alice", quota=quota)


def test_the_free_a100_runs_job_8_and_job_7_keeps_its_estimate(daemon_factory):
    d = daemon_factory(["--gpus", "A100:2", "--sim-time-scale", "0.01"])
    prepare(d)
    # One A100 busy for 1000 s (10 s of wall time).
    first = submit(d, "alice", gpu_type="A100", time_limit=1000)
    ok(d, "job.approve", {"id": first["id"]})
    d.wait_state(first["id"], "RUNNING", user="alice")
    job7 = submit(d, "alice", gpu_type="A100", gpu_count=2, time_limit=100)
    job8 = submit(d, "alice", gpu_type="A100", gpu_count=1, time_limit=300)
    long = submit(d, "alice", gpu_type="A100", gpu_count=1, time_limit=2000)
    ok(d, "job.approve", {"ids": [job7["id"]]})
    promised = ts(ok(d, "job.get", {"id": job7["id"]}, "alice")["estimated_start"])
    ok(d, "job.approve", {"ids": [job8["id"], long["id"]]})
    got8 = d.wait_state(job8["id"], "RUNNING", "COMPLETED", user="alice")
    assert got8["status"] in ("RUNNING", "COMPLETED")
    started = [e for e in events(d, job=job8["id"], kinds="job.started")]
    assert started[0]["detail"]["reason"] == "started by backfill"
    # The 2000 s job would hold the A100 past job 7's start: it waits.
    assert ok(d, "job.get", {"id": long["id"]}, "alice")["status"] == "APPROVED"
    done7 = d.wait_state(job7["id"], "RUNNING", "COMPLETED", user="alice", timeout=30)
    assert ts(done7["started_at"]) <= promised + 1


def test_backfill_off_keeps_strict_fifo(daemon_factory):
    d = daemon_factory(["--gpus", "A100:2", "--sim-time-scale", "0.01", "--backfill", "off"])
    prepare(d)
    first = submit(d, "alice", gpu_type="A100", time_limit=1000)
    ok(d, "job.approve", {"id": first["id"]})
    d.wait_state(first["id"], "RUNNING", user="alice")
    job7 = submit(d, "alice", gpu_type="A100", gpu_count=2, time_limit=100)
    job8 = submit(d, "alice", gpu_type="A100", gpu_count=1, time_limit=30)
    ok(d, "job.approve", {"ids": [job7["id"], job8["id"]]})
    time.sleep(0.5)
    got = ok(d, "job.get", {"id": job8["id"]}, "alice")
    assert got["status"] == "APPROVED" and "(position 2)" in got["reason"]
