"""The outside security review (issue 10): one test per finding, each
replaying the reviewer's reproduction. Tests named test_lead_* cover code
outside the local executor and the JSON helpers (handlers, parking, the
scheduler); the rest cover the executor and common/json.c."""
import json
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import SANITIZED, Raw, frame, wait_for
from test_local import alive, descendants, logs, pids_running, run

PW = "long-enough-pw-1"  # passes any password policy

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(f.read().split("VmRSS:")[1].split()[0])


def cpu_idle(pid, quiet=0.3):
    """True when the process used no CPU time during `quiet` seconds."""
    def ticks():
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    before = ticks()
    time.sleep(quiet)
    return ticks() == before


def ping_ms(d):
    r = Raw(d.sock, timeout=30)
    t = time.monotonic()
    assert r.call("sys.ping")["ok"]
    took = (time.monotonic() - t) * 1000
    r.close()
    return took


def raw_reply(d, payload):
    """Sends one frame and returns the reply's raw bytes."""
    r = Raw(d.sock)
    r.send(payload)
    (n,) = struct.unpack(">I", r.recv_exact(4))
    data = r.recv_exact(n)
    r.close()
    return data


@pytest.fixture
def local(daemon_factory):
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:2", "--kill-grace", "1s"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "1000h")
    return d


# ---- finding 1: a FIFO in place of the log ------------------------------------------------------

@root_only
def test_f1_job_cannot_replace_its_log_with_a_fifo(local):
    st = local.state
    j = run(local, "sh", "-c", "echo before; rm -f output.log; mkfifo output.log; "
            "mkfifo %s/logs/$GPUAAS_JOB_ID.log 2>/dev/null && echo MADE-FIFO; "
            "ln -sf %s/jwt.key output.log 2>/dev/null; echo after; sleep 3" % (st, st))
    # The owner reads the log while the job runs: each read answers at
    # once, and what the job wrote after its attempt is still there.
    seen = wait_for(lambda: "after" in logs(local, j) and logs(local, j), 10,
                    lambda: "'after' in the log; it reads %r" % logs(local, j))
    assert seen.startswith("before\n") and "MADE-FIFO" not in seen, seen
    assert ping_ms(local) < 100
    assert local.ctl("wait", j, "--timeout", "30s").returncode == 0
    path = os.path.join(st, "logs", "%d.log" % j)
    assert os.path.isfile(path) and os.stat(path).st_uid == os.geteuid()
    assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700


# ---- finding 2: users' jobs isolated (more in test_isolation.py) ----------------------------------

@root_only
def test_f2_two_users_cannot_signal_or_forge_each_other(local):
    local.add_user("alice", quota="100h", password=PW)
    local.add_user("bob", quota="100h", password=PW)
    bob = int(local.ok("submit", "--gpu", "T4", "--time", "1m", "--", "sh", "-c",
                       "echo bob-up; sleep 3; echo bob-done", user="bob").stdout)
    local.ok("admin", "approve", bob)
    wait_for(lambda: "bob-up" in local.ok("logs", bob, user="bob").stdout, 10, "bob's job")
    pgids = {os.getpgid(p) for p in descendants(local.proc.pid)}
    alice = int(local.ok("submit", "--gpu", "T4", "--time", "1m", "--", "sh", "-c",
                         "for g in %s; do kill -9 -$g 2>/dev/null && echo KILLED; done; kill -9 -1; "
                         "echo FORGED by alice > %s/logs/%d.log 2>/dev/null && echo FORGED; echo tried"
                         % (" ".join(map(str, pgids)), local.state, bob), user="alice").stdout)
    local.ok("admin", "approve", alice)
    local.ctl("wait", alice, "--timeout", "30s", user="alice")
    assert local.ctl("wait", bob, "--timeout", "30s", user="bob").returncode == 0
    assert local.ok("logs", bob, user="bob").stdout == "bob-up\nbob-done\n"
    out = local.ok("logs", alice, user="alice").stdout
    assert "tried" in out and "KILLED" not in out and "FORGED" not in out.replace("FORGED by", ""), out


# ---- finding 3: 64,000 parked requests ------------------------------------------------------------

def test_f3_64000_parked_requests_leave_the_daemon_responsive(daemon_factory):
    d = daemon_factory(args=["--max-connections", "1000"])
    d.login()
    d.add_user("mallory", quota="100h", password=PW)
    jid = int(d.ok("submit", "--gpu", "T4", "--time", "1h", "--", "x", user="mallory").stdout)
    token = d.token("mallory")
    rss0 = rss_kib(d.proc.pid)
    conns, per = 500, 128
    # Half job.wait, half job.logs with follow (the reviewer's two variants).
    batch = b"".join(frame({"id": i, "op": "job.wait", "token": token, "args": {"id": jid}}) if i % 2 else
                     frame({"id": i, "op": "job.logs", "token": token,
                            "args": {"id": jid, "follow": True, "timeout": 3600}}) for i in range(per))
    socks = []
    for _ in range(conns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.sock)
        s.setblocking(False)
        socks.append(s)
    t0 = time.monotonic()
    pending = {s: batch for s in socks}
    while pending and time.monotonic() - t0 < 20:
        for s, rest in list(pending.items()):
            try:
                n = s.send(rest)
            except BlockingIOError:
                n = 0
            pending[s] = rest[n:]
            if not pending[s]:
                del pending[s]
    assert not pending, "the daemon stopped reading"
    # Until the daemon has read and handled everything (its CPU time stops
    # growing).
    wait_for(lambda: cpu_idle(d.proc.pid), 25, "the daemon to handle 64,000 requests")
    # The cap is reached: one more is refused at once.
    r = Raw(d.sock)
    rep = r.call("job.wait", {"id": jid}, token=token)
    r.close()
    assert rep["error"]["code"] == "RATE_LIMITED", rep
    assert ping_ms(d) < 100
    for s in socks:
        s.close()
    # Asked at once: the daemon ends 64,000 requests' worth of parking
    # without stalling.
    assert ping_ms(d) < 100
    wait_for(lambda: cpu_idle(d.proc.pid), 10, "the daemon to settle")
    assert ping_ms(d) < 100
    if not SANITIZED:
        assert rss_kib(d.proc.pid) < 64 * 1024, (rss0, rss_kib(d.proc.pid))
    assert time.monotonic() - t0 < 30


# ---- finding 4: orphans of a job after kill -9 of the daemon -------------------------------------

@root_only
def test_f4_orphans_die_with_the_daemon(local):
    j = run(local, "sh", "-c", "sleep 77 & sleep 78 & wait")
    pids = wait_for(lambda: len(pids_running(local, ["sleep", "77"]) + pids_running(local, ["sleep", "78"])) == 2
                    and pids_running(local, ["sleep", "77"]) + pids_running(local, ["sleep", "78"]), 10, "two sleeps")
    local.kill9()
    wait_for(lambda: not any(alive(p) for p in pids), 5, "the orphans to die")
    local.start()
    assert local.json("show", j)["reason"] == "lost: daemon restarted"
    assert local.json("gpus")["gpus"][0]["free"] == 2


@root_only
def test_f4_orphans_that_escape_their_group_are_killed_before_gpus_are_free(daemon_factory):
    """Without namespaces (--isolation none) children in sessions of their own
    outlive the daemon's kill -9; the restarted daemon kills them (cgroup)
    before it answers anything, so no GPU is ever free while they run."""
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:1", "--isolation", "none"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    j = run(d, "sh", "-c", "setsid sleep 77 & setsid sleep 78 & wait")
    pids = wait_for(lambda: len(pids_running(d, ["sleep", "77"]) + pids_running(d, ["sleep", "78"])) == 2
                    and pids_running(d, ["sleep", "77"]) + pids_running(d, ["sleep", "78"]), 10, "two sleeps")
    d.kill9()
    time.sleep(0.3)
    assert all(alive(p) for p in pids), "the old behaviour this test is about did not happen"
    d.start()
    assert not any(alive(p) for p in pids), "orphans still ran when the daemon answered"
    assert d.json("gpus")["gpus"][0]["free"] == 1
    assert d.json("show", j)["reason"] == "lost: daemon restarted"


@root_only
def test_f4_uid_sweep_when_no_cgroup_can_be_made(daemon_factory):
    """The same with the cgroup file system read-only: every process of a
    job uid (--job-user dynamic) is a job's, and the restarted daemon kills
    them all before it reports the job lost."""
    mnt = [l.split()[4] for l in open("/proc/self/mountinfo") if " - cgroup2 " in l]
    if not mnt or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("no cgroup2 or no unshare here")
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:1", "--isolation", "none"], start=False)
    base = d.cmdline
    d.cmdline = lambda: ["unshare", "-m", "--propagation", "private", "sh", "-c",
                         'mount -o remount,bind,ro "$0" && exec "$@"', mnt[0]] + base()
    d.start()
    assert "exec.local.no_cgroup" in d.read_log()
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    run(d, "sh", "-c", "setsid sleep 77 & wait")
    pid = wait_for(lambda: pids_running(d, ["sleep", "77"]), 10, "the sleep")[0]
    d.kill9()
    time.sleep(0.3)
    assert alive(pid)
    d.start()
    assert not alive(pid)
    assert "stale_jobs_killed" in d.read_log()


# ---- finding 5 (lead): control bytes in the output ------------------------------------------------

@root_only
def test_lead_f5_output_of_control_bytes_is_readable(local):
    j = run(local, "sh", "-c", "head -c 400000 /dev/zero | tr '\\0' '\\1'")
    assert local.ctl("wait", j, "--timeout", "30s").returncode == 0
    r = local.raw()
    total, offset = 0, 0
    for _ in range(100):
        rep = r.call("job.logs", {"id": j, "offset": offset}, token=local.token())
        assert rep["ok"], rep
        total += len(rep["data"]["data"])
        offset = rep["data"]["offset"]
        if rep["data"]["eof"]:
            break
    r.close()
    assert total == 400000 and offset == 400000
    p = local.ctl("logs", j)
    assert p.returncode == 0 and len(p.stdout) == 400000


# ---- finding 6 (lead): userdel with more than 256 running jobs ------------------------------------

@root_only
def test_lead_f6_userdel_ends_every_running_job(daemon_factory):
    n = 260
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:%d" % (n + 2), "--isolation", "none",
                             "--kill-grace", "1s"])
    d.login()
    d.add_user("eve", quota="100000h", password=PW)
    r = d.raw()
    tok, adm = d.token("eve"), d.token("admin")
    for i in range(n + 1):
        r.send({"id": i, "op": "job.submit", "token": tok,
                "args": {"gpu_type": "T4", "time_limit": 600, "command": ["sleep", "600"]}})
    ids = [r.recv()["data"]["id"] for _ in range(n + 1)]
    for i, jid in enumerate(ids[:n]):
        r.send({"id": i, "op": "job.approve", "token": adm, "args": {"id": jid}})
    for _ in range(n):
        assert r.recv()["ok"]
    wait_for(lambda: len(pids_running(d, ["sleep", "600"])) == n, 60, "all jobs to run")
    assert r.call("user.delete", {"username": "eve"}, token=adm)["ok"]
    wait_for(lambda: not pids_running(d, ["sleep", "600"]), 20,
             lambda: "every job to end; %d still run" % len(pids_running(d, ["sleep", "600"])))
    # The deleted user's PENDING job cannot be approved into running.
    rep = r.call("job.approve", {"id": ids[n]}, token=adm)
    r.close()
    assert not rep["ok"] or rep["data"]["status"] != "RUNNING"
    time.sleep(0.5)
    assert not pids_running(d, ["sleep", "600"])
    assert all(d.json("show", jid)["status"] in ("CANCELLED", "FAILED") for jid in ids[:5] + ids[-5:])


# ---- finding 7 (lead): a parked request keeps the privileges it was parked with --------------------

def test_lead_f7_parked_wait_of_a_demoted_admin_gets_nothing(daemon):
    daemon.add_user("boss", admin=True, password=PW)
    daemon.add_user("bob", password=PW)
    jid = int(daemon.ok("submit", "--gpu", "T4", "--name", "secret-name", "--", "secret-cmd", user="bob").stdout)
    r = Raw(daemon.sock, timeout=20)
    r.send({"id": 7, "op": "job.wait", "token": daemon.token("boss"), "args": {"id": jid}})
    time.sleep(0.3)
    daemon.ok("admin", "role", "boss", "--no-admin")
    daemon.ok("cancel", jid, user="bob")
    rep = r.recv()
    r.close()
    assert not rep["ok"] and rep["error"]["code"] in ("NOT_FOUND", "FORBIDDEN"), rep
    assert "secret" not in json.dumps(rep)


# ---- finding 8 (lead): gpu.list shows other users' job ids -----------------------------------------

def test_lead_f8_gpu_list_hides_other_users_job_ids(daemon_factory):
    d = daemon_factory(args=["--sim-time-scale", "1"])
    d.login()
    d.add_user("alice", password=PW)
    d.add_user("bob", password=PW)
    jid = int(d.ok("submit", "--gpu", "T4", "--time", "1h", user="alice").stdout)
    d.ok("admin", "approve", jid)
    d.wait_state(jid, "RUNNING")

    def held(user):
        t4 = [g for g in d.json("gpus", user=user)["gpus"] if g["type"] == "T4"][0]
        return t4["busy"], [x["job"] for x in t4["devices"] if x["job"] is not None]

    assert held("alice") == (1, [jid])
    assert held("admin") == (1, [jid])
    assert held("bob") == (1, [])


# ---- finding 9 (lead): error messages that cut UTF-8 in half --------------------------------------

def test_lead_f9_error_echoes_are_valid_utf8(daemon):
    tok = daemon.token()
    odd = "a" + "\u00e9" * 40  # an odd byte count: a cut at 32 or 40 bytes splits a character
    for op, args in (("job.submit", {"gpu_type": odd}), ("user.create", {"username": odd, "password": "x"}),
                     ("user.delete", {"username": odd}), ("user.quota", {"username": odd, "set": 1}),
                     ("job.list", {"states": [odd]}), ("job.list", {"states": odd}),
                     ("job.list", {"user": odd, "all": True})):
        raw = raw_reply(daemon, {"id": 1, "op": op, "token": tok, "args": args})
        raw.decode("utf-8")  # raises on a cut character
        assert not json.loads(raw)["ok"], (op, raw)


# ---- finding 10: integers of 1e15 and more, and ids that are not integers ---------------------------

def test_lead_f10_quota_of_1e15_is_written_as_an_integer(daemon):
    tok = daemon.token()
    rep = json.loads(raw_reply(daemon, {"id": 1, "op": "user.quota", "token": tok,
                                        "args": {"username": "admin", "set": 10 ** 15}}))
    assert rep["ok"], rep
    for op in ("quota.get", "auth.whoami", "usage.report", "user.list"):
        raw = raw_reply(daemon, {"id": 1, "op": op, "token": tok})
        assert b"1000000000000000" in raw and b"e+" not in raw, (op, raw)
    raw = raw_reply(daemon, {"id": 2 ** 53, "op": "sys.ping"})
    assert raw.startswith(b'{"id":9007199254740992,'), raw
    out = daemon.ok("--json", "quota").stdout
    assert "1000000000000000" in out and "e+" not in out, out


def test_f10_ids_that_are_not_integer_literals_are_refused(daemon):
    for text in ('3.0', '1e+15', '1E2', '1.5', '-0.0', '9007199254740993', '012'):
        raw = raw_reply(daemon, '{"id": %s, "op": "sys.ping"}' % text)
        rep = json.loads(raw)
        assert rep["id"] is None and rep["error"]["code"] == "BAD_REQUEST", (text, rep)
    for text in ('3', '-7', '4503599627370496', '0'):
        rep = json.loads(raw_reply(daemon, '{"id": %s, "op": "sys.ping"}' % text))
        assert rep["ok"] and rep["id"] == int(text), (text, rep)
    # An argument too: 1.0 GPUs is not an integer.
    rep = json.loads(raw_reply(daemon, {"id": 1, "op": "job.submit", "token": daemon.token(),
                                        "args": {"gpu_count": 1.0}}))
    assert rep["error"]["code"] == "BAD_REQUEST", rep


def test_duplicate_keys_at_any_depth_are_refused(daemon):
    tok = daemon.token()
    for text in ('{"id": 1, "op": "sys.ping", "op": "auth.whoami"}',
                 '{"id": 1, "op": "auth.whoami", "token": "%s", "token": "x"}' % tok,
                 '{"id": 1, "id": 2, "op": "sys.ping"}',
                 '{"id": 1, "op": "job.list", "token": "%s", "args": {"limit": 1, "limit": 2}}' % tok,
                 '{"id": 1, "op": "job.list", "token": "%s", "args": {"states": [{"a": 1, "a": 1}]}}' % tok,
                 '{"id": 1, "op": "sys.ping", "\\u006fp": "auth.whoami"}',
                 '{"id": 1, "op": "sys.ping", "x": {%s}}' % ", ".join('"k%d": 1' % (i % 40) for i in range(41))):
        rep = json.loads(raw_reply(daemon, text))
        assert rep["id"] is None and rep["error"]["code"] == "BAD_REQUEST", (text, rep)
    # Keys that differ only in case are different keys.
    rep = json.loads(raw_reply(daemon, '{"id": 1, "op": "sys.ping", "Op": "x"}'))
    assert rep["ok"], rep


def test_invalid_utf8_in_a_string_is_bad_request_with_id_null(daemon):
    tok = daemon.token()
    for bad in (b"\xc3\x28", b"\xed\xa0\x80", b"\xff", b"\xe2\x82"):
        payload = b'{"id": 5, "op": "auth.whoami", "token": "' + tok.encode() + b'", "args": {"x": "' + bad + b'"}}'
        rep = json.loads(raw_reply(daemon, payload))
        assert rep["id"] is None and rep["error"]["code"] == "BAD_REQUEST", (bad, rep)
        payload = b'{"id": 5, "op": "sys.ping", "k\xff": 1}'
        rep = json.loads(raw_reply(daemon, payload))
        assert rep["id"] is None and rep["error"]["code"] == "BAD_REQUEST", (bad, rep)
