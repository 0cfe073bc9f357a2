"""Jobs end to end: lifecycle, quota arithmetic, approval, cancel, wait,
isolation, races and restarts."""
import re
import json
import os
import subprocess
import threading
import time

import pytest

from conftest import GPUCTL, check_invariant

JOB_KEYS = {"id", "name", "owner", "gpu_type", "gpu_count", "time_limit", "status", "reason", "created_at",
            "estimated_start", "slurm_job_id",
            "approved_at", "approved_by", "started_at", "finished_at", "charged_seconds", "exit_code", "command"}


def quota(d, user):
    return d.json("quota", user=user)


def test_lifecycle_with_exact_quota(daemon):
    daemon.add_user("alice", quota="10h")
    assert quota(daemon, "alice") == {"remaining": 36000, "reserved": 0, "available": 36000}
    p = daemon.ok("submit", "--gpu", "a100", "--count", "2", "--time", "1h", "--name", "train", "--", "python",
                  "train.py", "--lr", "3e-4", user="alice")
    jid = int(p.stdout.strip())
    assert p.stdout == "%d\n" % jid
    assert quota(daemon, "alice") == {"remaining": 36000, "reserved": 7200, "available": 28800}
    job = daemon.json("show", jid, user="alice")
    assert set(job) == JOB_KEYS
    assert job["status"] == "PENDING" and job["reason"] == "waiting for approval"
    assert job["gpu_type"] == "A100" and job["gpu_count"] == 2 and job["time_limit"] == 3600
    assert job["owner"] == "alice" and job["name"] == "train"
    assert job["command"] == ["python", "train.py", "--lr", "3e-4"]
    assert job["approved_at"] is None and job["charged_seconds"] is None
    pending = daemon.json("admin", "pending")["jobs"]
    assert [j["id"] for j in pending] == [jid]
    daemon.ok("admin", "approve", jid)
    # Sim scale 0.01: 1h runs 36 s of wall time... too long for a test; use a short job below.
    job = daemon.json("show", jid, user="alice")
    assert job["status"] in ("APPROVED", "RUNNING")
    assert job["approved_by"] == "admin"
    daemon.ok("cancel", jid, user="alice")
    job = daemon.json("show", jid, user="alice")
    assert job["status"] == "CANCELLED"
    q = quota(daemon, "alice")
    # Charged what it ran (a running sim job), reservation released.
    assert q["reserved"] == 0
    assert q["remaining"] == 36000 - job["charged_seconds"]
    check_invariant(daemon)


def test_run_to_completion_charges_exactly(daemon):
    daemon.add_user("alice", quota="1h")
    jid = int(daemon.ok("submit", "--gpu", "T4", "--count", "3", "--time", "100s", user="alice").stdout)
    assert quota(daemon, "alice") == {"remaining": 3600, "reserved": 300, "available": 3300}
    daemon.ok("admin", "approve", jid)
    p = daemon.ok("wait", jid, "--timeout", "30s", user="alice")
    assert p.stdout == "%d COMPLETED\n" % jid
    job = daemon.json("show", jid, user="alice")
    assert job["status"] == "COMPLETED" and job["charged_seconds"] == 300
    assert job["started_at"] and job["finished_at"]
    assert quota(daemon, "alice") == {"remaining": 3300, "reserved": 0, "available": 3300}
    usage = daemon.json("admin", "usage", "alice")["users"][0]
    assert usage["granted"] == 3600 and usage["charged"] == 300 and usage["jobs_charged"] == 1
    check_invariant(daemon)


def test_reject_costs_nothing(daemon):
    daemon.add_user("alice", quota="1h")
    jid = int(daemon.ok("submit", "--time", "30m", user="alice").stdout)
    p = daemon.ok("admin", "reject", jid, "--reason", "not this week")
    job = daemon.json("show", jid, user="alice")
    assert job["status"] == "REJECTED" and "not this week" in job["reason"]
    assert quota(daemon, "alice") == {"remaining": 3600, "reserved": 0, "available": 3600}
    assert daemon.ctl("admin", "reject", jid).returncode == 1  # CONFLICT: already final
    assert daemon.ctl("admin", "approve", jid).returncode == 1
    assert daemon.ctl("wait", jid, user="alice").returncode == 1  # ended other than COMPLETED


def test_cancel_in_each_state(daemon):
    daemon.add_user("alice", quota="10h")
    # PENDING
    a = int(daemon.ok("submit", "--time", "10m", user="alice").stdout)
    daemon.ok("cancel", a, user="alice")
    assert daemon.json("show", a, user="alice")["charged_seconds"] == 0
    # APPROVED but waiting: fill the two A100s first with long jobs.
    long1 = int(daemon.ok("submit", "--gpu", "A100", "--count", "2", "--time", "2h", user="alice").stdout)
    daemon.ok("admin", "approve", long1)
    b = int(daemon.ok("submit", "--gpu", "A100", "--time", "10m", user="alice").stdout)
    daemon.ok("admin", "approve", b)
    job = daemon.json("show", b, user="alice")
    assert job["status"] == "APPROVED"
    # The A100s are busy until the first job's limit: the reason says when.
    assert re.fullmatch(r"waiting for 1 free A100 \(position 1\), start by \d\d:\d\d", job["reason"]), job
    assert job["estimated_start"] is not None
    daemon.ok("cancel", b, user="alice")
    assert daemon.json("show", b, user="alice")["charged_seconds"] == 0
    # RUNNING (the admin cancels someone else's job)
    assert daemon.json("show", long1)["status"] == "RUNNING"
    daemon.ok("cancel", long1)
    job = daemon.json("show", long1, user="alice")
    assert job["status"] == "CANCELLED" and "cancelled by admin" in job["reason"]
    # Final: CONFLICT (exit 1)
    p = daemon.ctl("cancel", a, user="alice")
    assert p.returncode == 1 and "CANCELLED" in p.stderr
    assert quota(daemon, "alice")["reserved"] == 0
    check_invariant(daemon)


def test_wait_exit_codes(daemon):
    daemon.add_user("alice", quota="10h")
    quick = int(daemon.ok("submit", "--gpu", "V100", "--time", "50s", user="alice").stdout)
    slow = int(daemon.ok("submit", "--gpu", "V100", "--time", "2h", user="alice").stdout)
    never = int(daemon.ok("submit", "--gpu", "V100", "--time", "60s", user="alice").stdout)
    daemon.ok("admin", "approve", quick, slow)
    t0 = time.monotonic()
    assert daemon.ctl("wait", quick, "--timeout", "20s", user="alice").returncode == 0
    assert time.monotonic() - t0 < 5
    p = daemon.ctl("wait", slow, "--timeout", "1s", user="alice")
    assert p.returncode == 8 and "TIMEOUT" in p.stdout
    p = daemon.ctl("wait", never, "--timeout", "1s", user="alice")
    assert p.returncode == 8
    daemon.ok("cancel", slow, user="alice")
    assert daemon.ctl("wait", quick, slow, user="alice").returncode == 1
    out = daemon.json("wait", quick, user="alice")
    assert out["jobs"][0]["status"] == "COMPLETED"
    assert daemon.ctl("wait", 99999, user="alice").returncode == 5
    assert daemon.ctl("wait", quick, "--timeout", "soon", user="alice").returncode == 2


def test_wait_is_woken_not_polled(daemon):
    daemon.add_user("alice", quota="10h")
    jid = int(daemon.ok("submit", "--gpu", "T4", "--time", "100s", user="alice").stdout)
    result = {}

    def waiter():
        result["p"] = daemon.ctl("wait", jid, user="alice")
        result["t"] = time.monotonic()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    assert t.is_alive()
    daemon.ok("admin", "approve", jid)
    approved = time.monotonic()
    t.join(20)
    assert result["p"].returncode == 0
    # 100 nominal seconds at scale 0.01 = 1 s.
    assert 0.8 < result["t"] - approved < 4


def test_other_users_job_is_not_found(daemon):
    daemon.add_user("alice")
    daemon.add_user("bob")
    jid = int(daemon.ok("submit", user="alice").stdout)
    for args in (["show", jid], ["cancel", jid], ["wait", jid, "--timeout", "1s"]):
        p = daemon.ctl(*args, user="bob")
        assert p.returncode == 5 and "no job" in p.stderr, args
    assert daemon.json("list", user="bob")["jobs"] == []
    assert [j["id"] for j in daemon.json("list", "--all")["jobs"]] == [jid]
    assert [j["id"] for j in daemon.json("list", "--user", "alice")["jobs"]] == [jid]


def test_over_quota_stores_nothing(daemon):
    daemon.add_user("alice", quota="1h")
    p = daemon.ctl("submit", "--gpu", "A100", "--count", "2", "--time", "31m", user="alice")
    assert p.returncode == 6 and "quota exceeded" in p.stderr
    assert daemon.json("list", user="alice")["jobs"] == []
    assert quota(daemon, "alice") == {"remaining": 3600, "reserved": 0, "available": 3600}
    daemon.ok("submit", "--gpu", "A100", "--count", "2", "--time", "30m", user="alice")
    assert daemon.ctl("submit", "--time", "1s", user="alice").returncode == 6
    check_invariant(daemon)


@pytest.mark.parametrize("args,needle", [
    (["--gpu", "H100"], "valid types: A100, V100, T4"),
    (["--gpu", "A100", "--count", "3"], "from 1 to 2"),
    (["--count", "0"], "from 1 to"),
    (["--count", "-1"], "from 1 to"),
    (["--count", "x"], "not a whole number"),
    (["--time", "0s"], "from 1s to 1d"),
    (["--time", "25h"], "from 1s to 1d"),
    (["--time", "soon"], "not a duration"),
    (["--time", "-5m"], "not a duration"),
    (["--name", "a\tb"], "control characters"),
])
def test_bad_submits(daemon, args, needle):
    daemon.add_user("alice", quota="100h")
    p = daemon.ctl("submit", *args, user="alice")
    assert p.returncode == 2, (args, p.stderr)
    assert needle in p.stderr, (args, p.stderr)
    assert daemon.json("list", user="alice")["jobs"] == []


def test_defaults_and_json_shapes(daemon):
    daemon.add_user("alice", quota="10h")
    job = daemon.json("submit", user="alice")
    assert set(job) == JOB_KEYS
    assert job["gpu_type"] == "A100" and job["gpu_count"] == 1 and job["time_limit"] == 3600
    assert job["command"] is None and job["created_at"].endswith("Z")
    g = daemon.json("gpus")
    assert [{k: x[k] for k in ("type", "total", "busy", "free")} for x in g["gpus"]] == [
        {"type": "A100", "total": 2, "busy": 0, "free": 2},
        {"type": "V100", "total": 2, "busy": 0, "free": 2},
        {"type": "T4", "total": 4, "busy": 0, "free": 4}]
    # Devices are numbered in inventory order; nobody holds them yet.
    assert [d["index"] for x in g["gpus"] for d in x["devices"]] == list(range(8))
    assert all(d["job"] is None for x in g["gpus"] for d in x["devices"])
    lst = daemon.json("list", user="alice")
    assert list(lst) == ["jobs"] and lst["jobs"][0]["id"] == job["id"]
    p = daemon.ok("list", user="alice")
    assert p.stdout.splitlines()[0].split() == ["ID", "NAME", "OWNER", "TYPE", "COUNT", "TIME", "ELAPSED", "STATUS", "CREATED"]
    assert "\t" not in p.stdout
    assert daemon.ok("list", "-q", user="alice").stdout == "%d\n" % job["id"]


def test_type_isolation_and_order(daemon):
    daemon.add_user("alice", quota="100h")
    a100 = [int(daemon.ok("submit", "--gpu", "A100", "--count", "2", "--time", "1h", user="alice").stdout)
            for _ in range(3)]
    t4 = int(daemon.ok("submit", "--gpu", "T4", "--count", "4", "--time", "1h", user="alice").stdout)
    daemon.ok("admin", "approve", *a100)
    daemon.ok("admin", "approve", t4)
    st = {j["id"]: j for j in daemon.json("list", "--all")["jobs"]}
    assert st[a100[0]]["status"] == "RUNNING"
    assert st[a100[1]]["status"] == "APPROVED" and "position 1" in st[a100[1]]["reason"]
    assert st[a100[2]]["status"] == "APPROVED" and "position 2" in st[a100[2]]["reason"]
    # The A100 queue does not hold up the T4 job.
    assert st[t4]["status"] == "RUNNING"
    g = {x["type"]: x for x in daemon.json("gpus")["gpus"]}
    assert g["A100"]["busy"] == 2 and g["A100"]["free"] == 0 and g["T4"]["busy"] == 4
    # Cancelling the running one starts the next in approval order.
    daemon.ok("cancel", a100[0])
    st = {j["id"]: j for j in daemon.json("list", "--all")["jobs"]}
    assert st[a100[1]]["status"] == "RUNNING"
    assert "position 1" in st[a100[2]]["reason"]


def test_racing_quota(daemon):
    daemon.add_user("alice", quota="100s")
    tok = daemon.token("alice")
    env = dict(os.environ, GPUAAS_SOCKET=daemon.sock, GPUAAS_TOKEN=tok)
    procs = [subprocess.Popen([GPUCTL, "submit", "--gpu", "T4", "--time", "10s"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(40)]
    codes = [p.wait(timeout=60) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert codes.count(0) == 10 and codes.count(6) == 30, codes
    assert quota(daemon, "alice") == {"remaining": 100, "reserved": 100, "available": 0}
    assert len(daemon.json("list", "-n", "100", user="alice")["jobs"]) == 10
    check_invariant(daemon)


def test_kill9_while_jobs_run_and_after_burst(daemon_factory):
    d = daemon_factory(args=["--sim-time-scale", "0.05"])
    d.login()
    d.add_user("alice", quota="1000h")
    running = int(d.ok("submit", "--gpu", "T4", "--time", "60s", user="alice").stdout)  # 3 s of wall time
    d.ok("admin", "approve", running)
    assert d.json("show", running)["status"] == "RUNNING"
    # A burst of acknowledged submits over one connection, pipelined.
    tok = d.token("alice")
    r = d.raw()
    for i in range(200):
        r.send({"v": 1, "id": i, "op": "job.submit", "token": tok, "args": {"gpu_type": "V100", "time_limit": 60}})
    acked = [r.recv()["data"]["id"] for _ in range(200)]
    r.close()
    d.kill9()
    t_kill = time.monotonic()
    d.start()
    ids = {j["id"] for j in d.json("list", "-n", "1000", user="alice")["jobs"]}
    assert set(acked) <= ids
    check_invariant(d)
    # The simulated job goes on after the restart and ends on time.
    job = d.json("show", running)
    assert job["status"] in ("RUNNING", "COMPLETED")
    assert d.ctl("wait", running, "--timeout", "20s", user="alice").returncode == 0
    assert time.monotonic() - t_kill < 10
    assert d.json("show", running)["charged_seconds"] == 60
    check_invariant(d)


def test_userdel_cancels_live_jobs(daemon):
    daemon.add_user("alice", quota="10h")
    a = int(daemon.ok("submit", user="alice").stdout)
    b = int(daemon.ok("submit", "--gpu", "T4", user="alice").stdout)
    daemon.ok("admin", "approve", b)
    out = daemon.json("admin", "userdel", "alice")
    assert out["jobs_cancelled"] == 2
    jobs = {j["id"]: j for j in daemon.json("list", "--all")["jobs"]}
    assert jobs[a]["status"] == "CANCELLED" and jobs[b]["status"] == "CANCELLED"
    assert jobs[a]["owner"] == "alice"
    check_invariant(daemon)


def test_list_paging_and_states(daemon):
    daemon.add_user("alice", quota="1000h")
    tok = daemon.token("alice")
    r = daemon.raw()
    for i in range(120):
        r.send({"v": 1, "id": i, "op": "job.submit", "token": tok,
                "args": {"gpu_type": "T4", "time_limit": 60, "name": "j%d" % i}})
    ids = [r.recv()["data"]["id"] for _ in range(120)]
    r.close()
    lst = daemon.json("list", "-n", "50", user="alice")["jobs"]
    assert [j["id"] for j in lst] == sorted(ids, reverse=True)[:50]
    daemon.ok("cancel", ids[0], ids[1], user="alice")
    c = daemon.json("list", "--state", "cancelled", user="alice")["jobs"]
    assert sorted(j["id"] for j in c) == sorted(ids[:2])
    assert daemon.ctl("list", "--state", "bogus", user="alice").returncode == 2
    # Paging through the protocol with before_id.
    r = daemon.raw()
    data = r.call("job.list", {"limit": 10, "before_id": ids[50]}, token=tok)["data"]
    assert [j["id"] for j in data["jobs"]] == sorted(ids[:50], reverse=True)[:10]
    # next_before_id: the cursor whenever jobs are left, null only at the end,
    # so a full last page never costs an empty one; brief rows alike.
    assert data["next_before_id"] == data["jobs"][-1]["id"]
    for brief in (False, True):
        seen, before = [], None
        while True:
            args = {"limit": 40, "brief": brief}
            if before:
                args["before_id"] = before
            data = r.call("job.list", args, token=tok)["data"]
            rows = [j[0] if brief else j["id"] for j in data["jobs"]]
            assert rows, "asked for a page past the end"
            seen += rows
            before = data["next_before_id"]
            if before is None:
                break
            assert before == rows[-1]
        assert seen == sorted(ids, reverse=True)  # 120 = 3 full pages, then null
    r.close()


def test_long_list_across_pages(daemon):
    """A list longer than one page (gpuctl asks for the next page before it
    reads the last): every job once, in order, the same in the table, -q
    and --json; a running job's ELAPSED in the middle; -n cuts exactly."""
    daemon.add_user("alice", quota="100000h")
    tok = daemon.token("alice")
    r = daemon.raw()
    n, ids = 4500, []
    for i in range(n):  # pipelined, under the daemon's 128 requests in flight
        r.send({"v": 1, "id": i, "op": "job.submit", "token": tok,
                "args": {"gpu_type": "T4", "time_limit": 3600, "name": "p%d" % i}})
        if i >= 100:
            ids.append(r.recv()["data"]["id"])
    ids += [r.recv()["data"]["id"] for _ in range(n - len(ids))]
    r.close()
    running = ids[2345]
    daemon.ok("admin", "approve", running)
    want = sorted(ids, reverse=True)
    q = [int(x) for x in daemon.ok("list", "-q", "-n", "100000", user="alice").stdout.split()]
    assert q == want
    lines = daemon.ok("list", "-n", "100000", user="alice").stdout.splitlines()
    rows = [l.split() for l in lines[1:]]
    assert [int(row[0]) for row in rows] == want
    assert all(row[1] == "p%d" % ids.index(int(row[0])) for row in rows)
    widths = {len(l) for l in lines[1:] if "RUNNING" not in l}
    assert len(widths) == 1, widths  # one layout for every page
    byid = {int(row[0]): row for row in rows}
    deadline = time.time() + 10
    while byid[running][7] != "RUNNING" and time.time() < deadline:
        time.sleep(0.1)
        byid = {int(l.split()[0]): l.split() for l in daemon.ok("list", "-n", "100000", user="alice").stdout.splitlines()[1:]}
    assert byid[running][7] == "RUNNING" and re.fullmatch(r"\d+s", byid[running][6]), byid[running]
    assert [j["id"] for j in daemon.json("list", "-n", "100000", user="alice")["jobs"]] == want
    for cut in (1999, 2000, 2001, 4499, 4500):
        got = [int(x) for x in daemon.ok("list", "-q", "-n", str(cut), user="alice").stdout.split()]
        assert got == want[:cut], cut
        assert len(daemon.ok("list", "-n", str(cut), user="alice").stdout.splitlines()) == cut + 1
    # A name filter reads on past pages of non-matching names.
    got = [int(x) for x in daemon.ok("list", "-q", "-n", "100000", "--name", "p1*", user="alice").stdout.split()]
    assert got == [i for i in want if ("p%d" % ids.index(i)).startswith("p1")]


def test_many_owners_and_approvers_in_one_list(daemon):
    """Rows name their owner and approver from a small cache of names by id:
    with more of each than it holds, every row still names the right ones
    (under ASan this also catches a name freed while its row used it)."""
    owners = ["own%d" % i for i in range(12)]
    approvers = ["apr%d" % i for i in range(12)]
    for name in owners:
        daemon.add_user(name, quota="100h")
    for name in approvers:
        daemon.add_user(name, admin=True)
    # One owner on rows in a row, each approved by someone else (the cache
    # of names turns over while that owner's name is in use), then the rest.
    pairs = [(owners[0], a) for a in approvers] + [(o, approvers[(7 * i) % 12]) for i, o in enumerate(owners)]
    want = {}
    for i, (owner, approver) in enumerate(pairs):
        jid = int(daemon.ok("submit", "--gpu", "T4", "--time", "1h", "--name", "n%d" % i, user=owner).stdout)
        daemon.ok("admin", "approve", jid, user=approver)
        want[jid] = (owner, approver)
    jobs = daemon.json("list", "--all", "-n", "100")["jobs"]
    got = {j["id"]: (j["owner"], j["approved_by"]) for j in jobs if j["id"] in want}
    assert got == want
    for jid, (owner, approver) in want.items():
        shown = daemon.json("show", jid)
        assert (shown["owner"], shown["approved_by"]) == (owner, approver)
    rows = daemon.ok("list", "--all", "-n", "100").stdout.splitlines()[1:]
    assert {int(r.split()[0]): r.split()[2] for r in rows if int(r.split()[0]) in want} == \
        {jid: owner for jid, (owner, _) in want.items()}


def test_table_renders_names_exactly(daemon):
    daemon.add_user("alice", quota="100h")
    names = ['say "hi"', "back\\slash", "grüße ☃", "x" * 40]
    ids = [int(daemon.ok("submit", "--gpu", "T4", "--name", n, user="alice").stdout) for n in names]
    lines = daemon.ok("list", user="alice").stdout.splitlines()
    assert len(lines) == 1 + len(names)
    body = "\n".join(lines[1:])
    assert 'say "hi"' in body and "back\\slash" in body and "grüße ☃" in body and "x" * 40 in body  # never cut
    # Names round-trip exactly through --json and show.
    got = {j["id"]: j["name"] for j in daemon.json("list", user="alice")["jobs"]}
    assert [got[i] for i in ids] == names
    pending = daemon.ok("admin", "pending", "-q").stdout.split()
    assert [int(x) for x in pending] == ids  # oldest first


def test_restart_with_smaller_inventory_cancels_unfit_jobs(daemon_factory):
    d = daemon_factory(args=["--gpus", "A100:4,T4:1"])
    d.login()
    d.add_user("alice", quota="100h")
    blocker = int(d.ok("submit", "--gpu", "A100", "--count", "4", "--time", "2h", user="alice").stdout)
    big = int(d.ok("submit", "--gpu", "A100", "--count", "3", "--time", "1h", user="alice").stdout)
    t4 = int(d.ok("submit", "--gpu", "T4", "--count", "1", "--time", "2h", user="alice").stdout)
    t4b = int(d.ok("submit", "--gpu", "T4", "--count", "1", "--time", "1h", user="alice").stdout)
    d.ok("admin", "approve", blocker, big, t4, t4b)
    assert d.json("show", big)["status"] == "APPROVED"
    d.stop()
    d.args = [a for a in d.args if a not in ("--gpus", "A100:4,T4:1")] + ["--gpus", "A100:2,T4:1"]
    d.start()
    job = d.json("show", big)
    assert job["status"] == "CANCELLED" and "needs 3 A100, the inventory has 2" in job["reason"]
    assert job["charged_seconds"] == 0
    assert d.json("show", t4b)["status"] == "APPROVED"  # still fits: waits for the T4
    for g in d.json("gpus")["gpus"]:
        assert 0 <= g["busy"] <= g["total"] and g["free"] >= 0, g
    check_invariant(d)
