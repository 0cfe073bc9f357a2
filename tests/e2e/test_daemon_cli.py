"""What the daemon gives the CLI's first-hour features: the queue everyone
may see, one device numbering, usage over time and the ledger, defaults for
new users and submits, the cancel of a running job while it is stopped, and
the working directory and environment a submit asks for."""
import os
import sqlite3
import time

from conftest import check_invariant
from test_workflow import call, ok, submit


def test_queue_shows_everyone_but_hides_others_details(daemon_factory):
    d = daemon_factory(["--gpus", "T4:1,A100:1", "--sim-time-scale", "1"])
    d.login()
    d.add_user("alice", quota="100h")
    d.add_user("bob", quota="100h")
    run = submit(d, "bob", time_limit=3600, name="secret-bob")
    ok(d, "job.approve", {"id": run["id"]})
    d.wait_state(run["id"], "RUNNING")
    b2 = submit(d, "bob", time_limit=600, name="bob-2")
    a1 = submit(d, "alice", time_limit=600, name="mine")
    ok(d, "job.approve", {"ids": [b2["id"], a1["id"]]})
    pend = submit(d, "alice", gpu_type="A100", time_limit=60)
    q = ok(d, "job.queue", {}, "alice")
    assert [(j["status"], j["gpu_type"]) for j in q["jobs"]] == [
        ("RUNNING", "T4"), ("APPROVED", "T4"), ("APPROVED", "T4"), ("PENDING", "A100")]
    others = [j for j in q["jobs"] if not j["mine"]]
    assert all(j["id"] is None and j["owner"] == "(other)" and j["name"] is None for j in others)
    assert "secret-bob" not in str(q) and "bob" not in str(q)
    mine = [j for j in q["jobs"] if j["mine"]]
    assert [j["id"] for j in mine] == [a1["id"], pend["id"]] and mine[0]["name"] == "mine"
    assert mine[0]["position"] == 2 and mine[0]["estimated_start"] and q["ahead_of_you"] == 1
    assert [j["gpu_type"] for j in ok(d, "job.queue", {"gpu_type": "a100"}, "alice")["jobs"]] == ["A100"]
    # Admins see everything.
    assert {j["owner"] for j in ok(d, "job.queue")["jobs"]} == {"alice", "bob"}


def test_queue_visibility_full_shows_ids_and_owners(daemon_factory):
    d = daemon_factory(["--queue-visibility", "full"])
    d.login()
    d.add_user("alice")
    d.add_user("bob")
    b = submit(d, "bob", name="bobs-name")
    rows = ok(d, "job.queue", {}, "alice")["jobs"]
    assert [(j["id"], j["owner"], j["name"]) for j in rows] == [(b["id"], "bob", None)]


def test_one_device_numbering(daemon_factory):
    d = daemon_factory(["--gpus", "T4:2,A100:2", "--sim-time-scale", "1"])
    d.login()
    d.add_user("alice", quota="100h")
    job = submit(d, "alice", gpu_type="A100", time_limit=600)
    ok(d, "job.approve", {"id": job["id"]})
    running = d.wait_state(job["id"], "RUNNING", user="alice")
    a100 = next(g for g in ok(d, "gpu.list", {}, "alice")["gpus"] if g["type"] == "A100")
    held = [x["index"] for x in a100["devices"] if x["job"] == job["id"]]
    assert held == [2]
    assert running["reason"] == "running on A100 device 2"


def test_usage_since_several_users_and_the_ledger(daemon_factory):
    d = daemon_factory(["--sim-time-scale", "0.001"])
    d.login()
    d.add_user("alice", quota="1h")
    d.add_user("bob", quota="1h")
    j = submit(d, "alice", time_limit=60)
    ok(d, "job.approve", {"id": j["id"]})
    d.ok("wait", str(j["id"]), user="alice")
    d.ok("admin", "quota", "bob", "--add", "30m")
    rep = ok(d, "usage.report", {"usernames": ["alice", "bob"], "since": int(time.time()) - 3600})
    assert [u["username"] for u in rep["users"]] == ["alice", "bob"]
    assert rep["users"][0]["charged_since"] == 60 and rep["users"][1]["charged_since"] == 0
    future = ok(d, "usage.report", {"username": "alice", "since": int(time.time()) + 3600})
    assert future["users"][0]["charged_since"] == 0 and future["users"][0]["charged"] == 60
    ledger = ok(d, "usage.report", {"username": "bob", "ledger": True})["users"][0]["ledger"]
    assert [(r["kind"], r["delta"], r["actor"]) for r in ledger] == [("grant", 3600, "admin"), ("grant", 1800, "admin")]
    charge = ok(d, "usage.report", {"username": "alice", "ledger": True})["users"][0]["ledger"][-1]
    assert (charge["kind"], charge["delta"], charge["job_id"]) == ("charge", -60, j["id"])
    assert call(d, "usage.report", {"usernames": ["alice", "nobody"]})["error"]["code"] == "NOT_FOUND"
    assert call(d, "usage.report", {"ledger": True})["error"]["code"] == "BAD_REQUEST"


def test_default_quota_and_default_gpu(daemon_factory):
    d = daemon_factory(["--default-quota", "2h", "--default-gpu", "t4"])
    d.login()
    r = d.raw()
    created = r.call("user.create", {"username": "carol", "password": "carol-pw-1"}, token=d.token())["data"]
    r.close()
    assert created["quota"]["remaining"] == 7200
    d.login("carol", "carol-pw-1")
    assert submit(d, "carol", gpu_type=None)["gpu_type"] == "T4"


def test_quota_set_below_reserved_warns_and_capped_charge_says_so(daemon_factory):
    d = daemon_factory(["--sim-time-scale", "0.002"])
    d.login()
    d.add_user("dave", quota="1h")
    j = submit(d, "dave", time_limit=3600)
    ok(d, "job.approve", {"id": j["id"]})
    d.wait_state(j["id"], "RUNNING", user="dave")
    reply = ok(d, "user.quota", {"username": "dave", "set": 600})
    assert "reserved by live jobs" in reply["warning"]
    d.ctl("wait", str(j["id"]), user="dave")
    done = ok(d, "job.get", {"id": j["id"]}, "dave")
    assert done["charged_seconds"] == 600
    assert "(charge capped at the remaining quota: 600 of 3600 GPU-seconds)" in done["reason"]
    check_invariant(d)


def test_submit_chdir_and_env_are_checked_and_kept(daemon):
    daemon.login()
    daemon.add_user("alice")
    j = submit(daemon, "alice", chdir="/home/alice/proj", env={"LR": "3e-4", "SEED": "1"})
    db = sqlite3.connect("file:%s/gpuaas.db?mode=ro" % daemon.state, uri=True)
    row = db.execute("SELECT workdir, env FROM jobs WHERE id = ?", (j["id"],)).fetchone()
    db.close()
    assert row[0] == "/home/alice/proj" and row[1] == '{"LR":"3e-4","SEED":"1"}'
    for bad in ({"chdir": "relative/dir"}, {"env": {"CUDA_VISIBLE_DEVICES": "3"}}, {"env": {"1BAD": "x"}},
                {"env": {"A": 1}}, {"env": ["A=1"]}, {"env": {"GPUAAS_JOB_ID": "7"}}):
        args = dict({"gpu_type": "T4", "time_limit": 60}, **bad)
        assert call(daemon, "job.submit", args, "alice")["error"]["code"] == "BAD_REQUEST", bad
