"""The approval workflow end to end, through the protocol: the event log,
estimated starts, dry runs, auto-approval rules (and their daily cap under
concurrent submitters), expiry (also across kill -9), the approval inbox
with bulk actions, and GPU-type weights."""
import datetime
import os
import sqlite3
import threading
import time

from conftest import check_invariant, wait_for


def call(d, op, args=None, user="admin"):
    r = d.raw()
    try:
        return r.call(op, args or {}, token=d.token(user))
    finally:
        r.close()


def ok(d, op, args=None, user="admin"):
    reply = call(d, op, args, user)
    assert reply["ok"], reply
    return reply["data"]


def ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def submit(d, user, **args):
    args.setdefault("gpu_type", "T4")
    args.setdefault("time_limit", 600)
    return ok(d, "job.submit", args, user)


def events(d, user="admin", **args):
    args.setdefault("limit", 1000)
    return ok(d, "event.list", args, user)["events"]


def test_every_change_is_an_event_with_its_actor(daemon):
    daemon.login()
    daemon.add_user("alice", quota="10h")
    job = submit(daemon, "alice", time_limit=1)
    ok(daemon, "job.approve", {"id": job["id"]})
    daemon.wait_state(job["id"], "COMPLETED", user="alice")
    evs = events(daemon, job=job["id"])
    assert [e["kind"] for e in evs] == ["job.submitted", "job.approved", "job.started", "job.completed"]
    assert [e["actor"] for e in evs] == ["alice", "admin", "gpuaasd", "gpuaasd"]
    assert all(e["job_id"] == job["id"] and e["user"] == "alice" for e in evs)
    assert [e["seq"] for e in evs] == sorted(e["seq"] for e in evs)
    assert set(evs[0]) == {"seq", "at", "actor", "kind", "job_id", "user", "detail"}
    assert evs[0]["detail"]["reserved"] == 1 and evs[-1]["detail"]["charged"] == 1
    admin_kinds = [e["kind"] for e in events(daemon, kinds=["user.created", "quota.set", "quota.added"])]
    assert admin_kinds == ["user.created"]
    daemon.ok("admin", "quota", "alice", "--add", "1h")
    daemon.ok("admin", "role", "alice", "--admin")
    audit = events(daemon, user="admin", kinds="user.created,quota.added,user.role")
    assert [(e["kind"], e["actor"], e["user"]) for e in audit] == [
        ("user.created", "admin", "alice"), ("quota.added", "admin", "alice"), ("user.role", "admin", "alice")]
    # Append-only: the database itself refuses to edit an event.
    db = sqlite3.connect(os.path.join(daemon.state, "gpuaas.db"))
    try:
        db.execute("UPDATE events SET actor = 'mallory'")
        assert False, "an event was edited"
    except sqlite3.DatabaseError as e:
        assert "append-only" in str(e)
    finally:
        db.close()
    check_invariant(daemon)


def test_users_never_see_each_others_events(daemon):
    daemon.login()
    daemon.add_user("alice")
    daemon.add_user("bob")
    a = submit(daemon, "alice")
    b = submit(daemon, "bob")
    ok(daemon, "job.cancel", {"id": b["id"]}, "bob")
    seen = events(daemon, "alice")
    assert seen and all(e["user"] == "alice" for e in seen)
    assert {e["job_id"] for e in seen if e["job_id"]} == {a["id"]}
    assert events(daemon, "alice", job=b["id"]) == []
    assert call(daemon, "event.list", {"user": "bob"}, "alice")["error"]["code"] == "FORBIDDEN"
    # A watch of alice's is not woken into showing bob's events.
    last = max(e["seq"] for e in events(daemon))
    got = {}
    t = threading.Thread(target=lambda: got.update(call(daemon, "event.watch", {"since": last, "timeout": 2},
                                                         "alice")))
    t.start()
    time.sleep(0.3)
    submit(daemon, "bob")
    t.join()
    assert got["ok"] and got["data"]["events"] == []


def test_watchers_see_a_thousand_job_run_in_order_without_gaps(daemon_factory):
    d = daemon_factory(["--sim-time-scale", "0.0001", "--gpus", "T4:8"])
    d.login()
    d.add_user("alice", quota="1000h")
    start = max([e["seq"] for e in events(d)] or [0])
    seen, stop = [], threading.Event()

    def follow():
        since = start
        while not stop.is_set():
            data = ok(d, "event.watch", {"since": since, "timeout": 1, "limit": 1000})
            seen.extend(data["events"])
            since = data["last_seq"]

    t = threading.Thread(target=follow)
    t.start()
    ids = [submit(d, "alice", time_limit=60)["id"] for _ in range(1000)]
    for i in range(0, 1000, 200):
        assert ok(d, "job.approve", {"ids": ids[i:i + 200]})["failed"] == []
    wait_for(lambda: sum(e["kind"] == "job.completed" for e in seen) == 1000, timeout=60, what="1000 completions")
    stop.set()
    t.join()
    seqs = [e["seq"] for e in seen]
    assert seqs == list(range(start + 1, start + 1 + len(seqs))), "a gap or a reorder"
    assert len(seen) == 4000
    per_job = {}
    for e in seen:
        per_job.setdefault(e["job_id"], []).append(e["kind"])
    assert all(k == ["job.submitted", "job.approved", "job.started", "job.completed"] for k in per_job.values())
    check_invariant(d)


def test_estimated_start_follows_the_fifo(daemon_factory):
    d = daemon_factory(["--gpus", "A100:2,T4:1", "--sim-time-scale", "1"])
    d.login()
    d.add_user("alice", quota="100h")
    t0 = time.time()
    big = submit(d, "alice", gpu_type="A100", gpu_count=2, time_limit=3600)
    ok(d, "job.approve", {"id": big["id"]})
    d.wait_state(big["id"], "RUNNING", user="alice")
    one = submit(d, "alice", gpu_type="A100", gpu_count=1, time_limit=1800)
    two = submit(d, "alice", gpu_type="A100", gpu_count=2, time_limit=600)
    # PENDING: "if approved now" -- after the running job's whole limit.
    assert abs(ts(ok(d, "job.get", {"id": one["id"]}, "alice")["estimated_start"]) - (t0 + 3600)) < 5
    ok(d, "job.approve", {"ids": [one["id"], two["id"]]})
    first = ok(d, "job.get", {"id": one["id"]}, "alice")
    second = ok(d, "job.get", {"id": two["id"]}, "alice")
    assert abs(ts(first["estimated_start"]) - (t0 + 3600)) < 5
    # The 2-GPU job needs the one freed by the first waiting job too.
    assert abs(ts(second["estimated_start"]) - (t0 + 3600 + 1800)) < 5
    assert "(position 2), start by " in second["reason"]
    # Nothing waits on the free T4: a job there starts now.
    assert abs(ts(ok(d, "job.submit", {"gpu_type": "T4", "time_limit": 60, "dry_run": True},
                     "alice")["estimated_start"]) - time.time()) < 5
    # A cancel ahead moves the estimate up.
    ok(d, "job.cancel", {"id": one["id"]}, "alice")
    assert abs(ts(ok(d, "job.get", {"id": two["id"]}, "alice")["estimated_start"]) - (t0 + 3600)) < 5
    # A running or final job has none.
    assert ok(d, "job.get", {"id": big["id"]}, "alice")["estimated_start"] is None


def test_dry_run_stores_nothing_and_fails_like_a_submit(daemon):
    daemon.login()
    daemon.add_user("alice", quota="1h")
    before = (ok(daemon, "job.list", {}, "alice")["jobs"], ok(daemon, "auth.whoami", {}, "alice")["quota"],
              events(daemon))
    dry = ok(daemon, "job.submit", {"gpu_type": "a100", "gpu_count": 2, "time_limit": 900, "dry_run": True},
             "alice")
    assert dry["dry_run"] is True and dry["reservation"] == 1800 and dry["available_after"] == 1800
    assert dry["auto_approved_by"] is None and dry["status"] == "PENDING" and dry["estimated_start"]
    after = (ok(daemon, "job.list", {}, "alice")["jobs"], ok(daemon, "auth.whoami", {}, "alice")["quota"],
             events(daemon))
    assert after == before
    for args in ({"gpu_type": "A100", "gpu_count": 2, "time_limit": 7200},   # over quota
                 {"gpu_type": "H100"}, {"gpu_count": 99}, {"time_limit": 0}):
        real = call(daemon, "job.submit", args, "alice")
        dry = call(daemon, "job.submit", dict(args, dry_run=True), "alice")
        assert not real["ok"] and dry["error"] == real["error"], (args, real, dry)
    ok(daemon, "rule.add", {"gpu_types": ["A100"], "max_count": 2, "max_time": 3600})
    assert ok(daemon, "job.submit", {"gpu_type": "A100", "time_limit": 60, "dry_run": True},
              "alice")["auto_approved_by"] == "rule:1"


def test_rules_approve_at_once_but_never_past_quota(daemon):
    daemon.login()
    daemon.add_user("alice", quota="2h")
    daemon.add_user("bob", quota="2h")
    rule = ok(daemon, "rule.add", {"gpu_types": "T4,V100", "max_count": 1, "max_time": 3600,
                                   "users": ["alice"], "note": "small jobs"})
    assert rule["gpu_types"] == ["T4", "V100"] and rule["users"] == ["alice"] and rule["scope"] == "users"
    assert [r["id"] for r in ok(daemon, "rule.list")["rules"]] == [rule["id"]]
    fits = submit(daemon, "alice", gpu_type="t4", time_limit=3600)
    assert fits["status"] in ("APPROVED", "RUNNING") and fits["approved_by"] == "rule:%d" % rule["id"]
    assert submit(daemon, "alice", gpu_type="T4", gpu_count=2, time_limit=60)["status"] == "PENDING"
    assert submit(daemon, "alice", gpu_type="A100", time_limit=60)["status"] == "PENDING"
    assert submit(daemon, "bob", gpu_type="T4", time_limit=60)["status"] == "PENDING"
    # Quota first: 2h - 1h - 2m reserved leaves less than this one needs.
    over = call(daemon, "job.submit", {"gpu_type": "T4", "time_limit": 3600}, "alice")
    assert over["error"]["code"] == "QUOTA_EXCEEDED"
    approved = [e for e in events(daemon, kinds="job.approved")]
    assert [e["actor"] for e in approved] == ["rule:%d" % rule["id"]]
    assert ok(daemon, "rule.delete", {"id": rule["id"]})["deleted"] is True
    assert call(daemon, "rule.delete", {"id": rule["id"]})["error"]["code"] == "NOT_FOUND"
    assert submit(daemon, "alice", gpu_type="T4", time_limit=60)["status"] == "PENDING"
    assert [e["kind"] for e in events(daemon, kinds="rule.added,rule.deleted")] == ["rule.added", "rule.deleted"]
    assert call(daemon, "rule.add", {"gpu_types": ["H100"]})["error"]["code"] == "BAD_REQUEST"
    assert call(daemon, "rule.list", {}, "alice")["error"]["code"] == "FORBIDDEN"
    check_invariant(daemon)


def test_daily_cap_holds_under_twenty_concurrent_submitters(daemon_factory):
    d = daemon_factory(["--gpus", "T4:1"])
    d.login()
    d.add_user("alice", quota="100h")
    ok(d, "rule.add", {"max_time": 600, "users": ["alice"], "daily_cap": 3000})   # 5 jobs of 600 s
    results = []

    def one():
        for _ in range(3):
            results.append(call(d, "job.submit", {"gpu_type": "T4", "time_limit": 600}, "alice"))

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r["ok"] for r in results)
    by_rule = [r["data"] for r in results if r["data"]["approved_by"] == "rule:1"]
    pending = [r["data"] for r in results if r["data"]["status"] == "PENDING"]
    assert len(by_rule) == 5 and len(pending) == 55
    assert "rule 1's daily cap of 50m for alice is used up" in pending[0]["reason"]
    db = sqlite3.connect("file:%s/gpuaas.db?mode=ro" % d.state, uri=True)
    total = db.execute("SELECT sum(gpu_count * time_limit * weight) FROM jobs WHERE approved_rule = 1").fetchone()[0]
    db.close()
    assert total == 3000
    check_invariant(d)


def test_requests_expire_also_across_kill9(daemon_factory):
    d = daemon_factory(["--pending-ttl", "2s"])
    d.login()
    d.add_user("alice", quota="1h")
    job = submit(d, "alice", time_limit=600)
    assert job["status"] == "PENDING"
    wait_for(lambda: ok(d, "job.get", {"id": job["id"]}, "alice")["status"] == "EXPIRED", timeout=10,
             what="expiry")
    got = ok(d, "job.get", {"id": job["id"]}, "alice")
    assert got["reason"] == "not approved within 2s" and got["charged_seconds"] in (0, None)
    assert ok(d, "auth.whoami", {}, "alice")["quota"]["reserved"] == 0
    assert [e["actor"] for e in events(d, job=job["id"], kinds="job.expired")] == ["gpuaasd"]
    # A job pending when the daemon dies expires at the next start.
    late = submit(d, "alice", time_limit=60)
    d.kill9()
    time.sleep(3)
    d.start()
    assert ok(d, "job.get", {"id": late["id"]}, "alice")["status"] == "EXPIRED"
    assert call(d, "job.approve", {"id": late["id"]})["error"]["code"] == "CONFLICT"
    check_invariant(d)


def test_approval_inbox_and_bulk_actions_in_one_commit(daemon):
    daemon.login()
    daemon.add_user("alice", quota="10h")
    daemon.add_user("bob", quota="10h")
    a = [submit(daemon, "alice", gpu_type="T4", time_limit=600)["id"] for _ in range(3)]
    b = [submit(daemon, "bob", gpu_type="V100", time_limit=600)["id"] for _ in range(2)]
    inbox = ok(daemon, "job.list", {"inbox": True, "limit": 100})["jobs"]
    assert sorted(j["id"] for j in inbox) == sorted(a + b)
    row = next(j for j in inbox if j["owner"] == "alice")
    assert row["owner_available"] == 36000 - 3 * 600 and row["owner_charged_30d"] == 0
    assert row["estimated_start"] and row["expires_at"]
    done = ok(daemon, "job.approve", {"all_pending": True, "user": "alice"})
    assert done["jobs"] == a and done["failed"] == []
    # One commit: the approvals share one transaction, so their events are
    # consecutive.
    seqs = [e["seq"] for e in events(daemon, kinds="job.approved")]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    rej = ok(daemon, "job.reject", {"all_pending": True, "gpu_type": "v100", "reason": "no V100 this week"})
    assert rej["jobs"] == b
    assert ok(daemon, "job.get", {"id": b[0]})["reason"] == "rejected: no V100 this week"
    assert call(daemon, "job.approve", {"all_pending": True}, "alice")["error"]["code"] == "FORBIDDEN"
    check_invariant(daemon)


def test_weights_reserve_and_charge_per_type_and_stay_with_the_job(daemon_factory, tmp_path):
    conf = tmp_path / "gpuaasd.conf"
    conf.write_text("gpu_weights = A100=4,V100=2\n")
    d = daemon_factory(["--config", str(conf), "--sim-time-scale", "0.001"])
    d.login()
    d.add_user("alice", quota="10h")
    a100 = submit(d, "alice", gpu_type="A100", gpu_count=2, time_limit=600)
    assert a100["weight"] == 4
    assert ok(d, "auth.whoami", {}, "alice")["quota"]["reserved"] == 2 * 600 * 4
    t4 = submit(d, "alice", gpu_type="T4", time_limit=600)
    assert t4["weight"] == 1
    # New weights apply to new jobs only; with no weights set, job objects
    # show a weight only where one was charged.
    conf.write_text("gpu_weights = A100=1\n")
    d.proc.send_signal(1)
    wait_for(lambda: "config.reloaded" in d.read_log(), what="the reload")
    assert "weight" not in submit(d, "alice", gpu_type="A100", time_limit=600)
    assert ok(d, "job.get", {"id": a100["id"]}, "alice")["weight"] == 4
    ok(d, "job.approve", {"id": a100["id"]})
    done = d.wait_state(a100["id"], "COMPLETED", user="alice")
    assert done["charged_seconds"] == 2 * 600 * 4
    check_invariant(d)


def test_gpu_list_hides_other_users_job_ids(daemon_factory):
    d = daemon_factory(["--gpus", "T4:2"])
    d.login()
    d.add_user("alice")
    d.add_user("bob")
    a = submit(d, "alice", time_limit=3600)
    ok(d, "job.approve", {"id": a["id"]})
    d.wait_state(a["id"], "RUNNING", user="alice")
    devs = lambda user: ok(d, "gpu.list", {}, user)["gpus"][0]["devices"]
    assert [x["job"] for x in devs("alice")] == [a["id"], None]
    assert [(x["busy"], x["job"]) for x in devs("bob")] == [(True, None), (False, None)]
    assert [x["job"] for x in devs("admin")] == [a["id"], None]


def test_sys_stats_aggregates_without_a_token(daemon_factory):
    d = daemon_factory(["--gpus", "A100:2,T4:1", "--sim-time-scale", "1"])
    d.login()
    d.add_user("alice", quota="100h")
    run = submit(d, "alice", gpu_type="T4", time_limit=3600)
    ok(d, "job.approve", {"id": run["id"]})
    d.wait_state(run["id"], "RUNNING", user="alice")
    waiting = submit(d, "alice", gpu_type="T4", time_limit=60)
    ok(d, "job.approve", {"id": waiting["id"]})
    submit(d, "alice", gpu_type="A100", time_limit=60)
    r = d.raw()
    stats = r.call("sys.stats")["data"]   # no token: aggregates only
    r.close()
    assert "alice" not in str(stats)
    t4 = next(g for g in stats["gpus"] if g["type"] == "T4")
    a100 = next(g for g in stats["gpus"] if g["type"] == "A100")
    assert (t4["total"], t4["busy"], t4["free"], t4["queued"]) == (1, 1, 0, 1)
    assert a100["oldest_pending_age"] >= 0 and a100["queued"] == 0
    jobs = {(j["state"], j["type"]): j["count"] for j in stats["jobs"]}
    assert jobs == {("RUNNING", "T4"): 1, ("APPROVED", "T4"): 1, ("PENDING", "A100"): 1}
    assert stats["events_total"] == max(e["seq"] for e in events(d))
