"""gpuctl's side of the approval workflow and the queue: events (and -f across
a daemon restart), admin audit, auto-approval rules, submit --dry-run,
--chdir/--env/--export, bulk approve and reject, the approval inbox, queue,
cancel's CANCELLING and --wait, usage columns and the ledger, show's
estimated start and weight, list --watch, completion, and the shell's Ctrl-C
during a follow. Everything runs the real binaries."""
import json
import os
import pwd
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import GPUCTL, SANITIZER_MARKS, wait_for
from test_cli import add, pty_env
from test_ship import bash_complete, run_pty

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
EVENT_LINE = re.compile(r"^%s (\d+) (\S+) ([a-z]+\.[a-z]+)( job=\d+)?( user=\S+)?( \(.*\))?$" % STAMP)


def ctl_env(d, user="admin", **extra):
    """The environment Daemon.ctl gives gpuctl, for commands run in the background."""
    e = dict(os.environ, GPUAAS_SOCKET=d.sock, GPUAAS_TOKEN_FILE=d.token_file(user), HOME=d.tmp,
             XDG_STATE_HOME=os.path.join(d.tmp, "xdg-state-" + user))
    e.pop("GPUAAS_TOKEN", None)
    e.pop("XDG_RUNTIME_DIR", None)
    e.update(extra)
    return e


class Background:
    """A gpuctl command left running (events -f, list --watch); its output is
    collected by threads as it comes."""

    def __init__(self, d, *args, user="admin"):
        self.proc = subprocess.Popen([GPUCTL] + [str(a) for a in args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=ctl_env(d, user))
        self.out, self.err = [], []
        self.threads = [threading.Thread(target=self._read, args=(f, acc), daemon=True)
                        for f, acc in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self.threads:
            t.start()

    @staticmethod
    def _read(f, acc):
        for line in f:
            acc.append(line)

    def text(self):
        return "".join(self.out)

    def wait_for(self, cond, what, timeout=15):
        wait_for(lambda: cond(self.text()), timeout, lambda: "%s; output so far:\n%s%s" % (
            what, self.text(), "".join(self.err)))

    def interrupt(self):
        """Ctrl-C; returns the exit status once the output is all read."""
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=10)
        for t in self.threads:
            t.join(timeout=5)
        for mark in SANITIZER_MARKS:
            assert mark not in "".join(self.err), "".join(self.err)
        return rc


def submit(d, user, *args):
    return d.ok("submit", *args, user=user).stdout.strip()


# ---- events and admin audit ------------------------------------------------------

def test_events_lines_json_filters_and_visibility(daemon):
    add(daemon, "alice", quota="10h")
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    submit(daemon, "admin", "--gpu", "T4", "--time", "10m")
    jid = submit(daemon, "alice", "--gpu", "T4", "--time", "60s", "--name", "e1")
    daemon.ok("admin", "reject", submit(daemon, "alice", "--gpu", "T4"), "--reason", "not now, try (later)")
    daemon.ok("admin", "approve", jid)
    daemon.ok("wait", jid, "--timeout", "30s", user="alice")
    lines = daemon.ok("events").stdout.splitlines()
    parsed = [EVENT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [int(m.group(1)) for m in parsed] == list(range(1, len(lines) + 1))
    started = [line for line in lines if " job.started job=%s " % jid in line]
    assert len(started) == 1 and " gpuaasd " in started[0] and "user=alice" in started[0]
    assert any('(reason="rejected: not now, try (later)", ' in line for line in lines), lines
    # --json: one object per line, the wire's events.
    objs = [json.loads(line) for line in daemon.ok("events", "-o", "json").stdout.splitlines()]
    assert [o["seq"] for o in objs] == list(range(1, len(lines) + 1))
    assert set(objs[0]) == {"seq", "at", "actor", "kind", "job_id", "user", "detail"}
    mine = [o["kind"] for o in objs if o["job_id"] == int(jid)]
    assert mine == ["job.submitted", "job.approved", "job.started", "job.completed"]
    assert [json.loads(l)["kind"] for l in daemon.ok("events", "--job", jid, "-j").stdout.splitlines()] == mine
    assert daemon.ok("events", "--since", len(lines) - 2, "-o", "name").stdout.split() == [
        str(len(lines) - 1), str(len(lines))]
    # A user sees the events about herself and her jobs, never another's.
    hers = [json.loads(l) for l in daemon.ok("events", "-j", user="alice").stdout.splitlines()]
    assert hers and all(o["user"] == "alice" for o in hers)
    assert {o["kind"] for o in hers} >= {"user.created", "job.rejected", "job.completed"}
    p = daemon.ctl("events", "--since", "x")
    assert p.returncode == 2 and "--since" in p.stderr


def test_events_follow_resumes_after_restart_with_no_gaps(daemon_factory):
    d = daemon_factory()
    d.login()
    d.ok("admin", "quota", "admin", "--set", "100h")
    follow = Background(d, "events", "-f", "-o", "json")
    follow.wait_for(lambda t: "quota.set" in t, "the quota event")
    for n in range(5):
        submit(d, "admin", "--gpu", "T4", "--name", "before-%d" % n)
    follow.wait_for(lambda t: t.count("job.submitted") == 5, "5 submits")
    d.kill9()
    d.start()
    for n in range(5):
        submit(d, "admin", "--gpu", "T4", "--name", "after-%d" % n)
    follow.wait_for(lambda t: t.count("job.submitted") == 10, "10 submits across the restart")
    assert follow.interrupt() == 130
    seqs = [json.loads(line)["seq"] for line in follow.out]
    assert seqs == list(range(1, len(seqs) + 1))  # in order, no gap, nothing twice
    err = "".join(follow.err)
    assert "reconnecting" in err and "is back" in err


def test_admin_audit(daemon):
    add(daemon, "alice")
    add(daemon, "bob")
    daemon.ok("admin", "quota", "alice", "--add", "1h")
    rid = daemon.ok("admin", "rule", "add", "--gpu", "T4", "--max-count", "1").stdout.strip()
    auto = daemon.json("submit", "--gpu", "T4", "--time", "1h", user="bob")
    daemon.ok("admin", "rule", "del", rid)
    daemon.ok("admin", "reject", submit(daemon, "bob", "--gpu", "A100"), "--reason", "no")
    daemon.ok("admin", "role", "bob", "--admin")
    lines = daemon.ok("admin", "audit").stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["TIME", "ACTOR", "ACTION", "JOB", "USER", "DETAIL"]
    rows = [line.split() for line in lines[1:]]
    assert [r[3] for r in rows] == ["user.created", "user.created", "quota.added", "rule.added", "job.approved",
                                    "rule.deleted", "job.rejected", "user.role"]
    approved = rows[4]
    assert approved[2] == "rule:" + rid and approved[4] == str(auto["id"]) and approved[5] == "bob"
    assert [r[3] for r in (l.split() for l in daemon.ok("admin", "audit", "--user", "alice").stdout.splitlines()[1:])] \
        == ["user.created", "quota.added"]
    assert len(daemon.ok("admin", "audit", "--since", "1h").stdout.splitlines()) == len(lines)
    p = daemon.ok("admin", "audit", "--since", "2999-01-01")
    assert p.stdout == "" and "no admin actions" in p.stderr
    assert len(daemon.json("admin", "audit", "--since", "2000-01-01 00:00")["events"]) == len(rows)
    p = daemon.ctl("admin", "audit", user="alice")
    assert p.returncode == 4 and "gpuctl admin audit needs the admin role" in p.stderr
    p = daemon.ctl("admin", "audit", "--since", "yesterday")
    assert p.returncode == 2 and "not a date or a duration" in p.stderr


# ---- rules, dry run, chdir/env ------------------------------------------------------

def test_rules_add_list_del_and_auto_approval(daemon):
    add(daemon, "alice", quota="10h")
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    rid = int(daemon.ok("admin", "rule", "add", "--gpu", "t4,V100", "--max-count", "1", "--max-time", "2h",
                        "--daily-cap", "1h", "--note", "small jobs").stdout)
    table = daemon.ok("admin", "rule", "list").stdout.splitlines()
    assert re.split(r"\s{2,}", table[0].strip()) == ["ID", "GPU", "MAX COUNT", "MAX TIME", "USERS", "DAILY CAP",
                                                     "CREATED", "BY", "NOTE"]
    assert re.split(r"\s{2,}", table[1].strip())[:6] == [str(rid), "T4,V100", "1", "2h", "non-admins", "1h"]
    assert table[1].endswith("small jobs")
    rule = daemon.json("admin", "rule", "list")["rules"][0]
    assert rule["gpu_types"] == ["T4", "V100"] and rule["scope"] == "non_admins" and rule["daily_cap"] == 3600
    dry = daemon.ok("submit", "--dry-run", "--gpu", "T4", "--time", "25m", user="alice").stdout
    assert "approval:        APPROVED at once by rule:%d" % rid in dry
    for _ in range(2):
        job = daemon.json("submit", "--gpu", "T4", "--time", "25m", user="alice")
        assert job["approved_by"] == "rule:%d" % rid
    over = daemon.json("submit", "--gpu", "T4", "--time", "25m", user="alice")
    assert over["status"] == "PENDING" and "daily cap" in over["reason"]
    assert daemon.json("submit", "--gpu", "T4", "--time", "25m")["status"] == "PENDING"  # admins: not covered
    for args, code, says in ((["--user", "alice", "--all-users"], 2, "not both"),
                             (["--gpu", "H100"], 2, "--gpu: unknown GPU type"),
                             (["--user", "ghost"], 5, "no user 'ghost'"),
                             (["--max-time", "90"], 2, "write 90s or 90m")):
        p = daemon.ctl("admin", "rule", "add", *args)
        assert p.returncode == code and says in p.stderr, (args, p.stderr)
    all_users = int(daemon.ok("admin", "rule", "add", "--all-users", "--gpu", "A100").stdout)
    assert daemon.json("submit", "--gpu", "A100", "--time", "1m")["approved_by"] == "rule:%d" % all_users
    assert daemon.ok("admin", "rule", "list", "-o", "name").stdout.split() == [str(rid), str(all_users)]
    assert bash_complete(daemon, ["gpuctl", "admin", "rule", "del", ""]) == [str(rid), str(all_users)]
    assert daemon.ctl("admin", "rule", "list", user="alice").returncode == 4
    assert daemon.ctl("admin", "rule", "del", "99").returncode == 5
    p = daemon.ctl("admin", "rule", "del", "x")
    assert p.returncode == 2 and "'x' is not a rule id" in p.stderr
    assert daemon.ok("admin", "rule", "del", rid).stdout == "Deleted rule %d\n" % rid
    daemon.ok("admin", "rule", "del", all_users, "-j")
    p = daemon.ok("admin", "rule", "list")
    assert p.stdout == "" and "no rules" in p.stderr


def test_submit_dry_run_stores_nothing_and_fails_like_a_submit(daemon):
    add(daemon, "alice", quota="1h")
    out = daemon.ok("submit", "--dry-run", "--gpu", "a100", "--count", "2", "--time", "15m", user="alice").stdout
    assert out.startswith("dry run: nothing was stored\n")
    assert "request:         2 x A100 for 15m\n" in out
    assert "reservation:     0.5 GPU-h (1800 GPU-seconds)\n" in out
    assert "available after: 0.5 GPU-h\n" in out and "approval:        PENDING: waiting for approval\n" in out
    assert re.search(r"starts by:\s+\S+ \((in \S+|now)\) if approved now", out), out
    dry = daemon.json("submit", "--dry-run", "--gpu", "A100", "--count", "2", "--time", "15m", user="alice")
    assert dry["dry_run"] is True and dry["reservation"] == 1800 and dry["available_after"] == 1800
    assert dry["auto_approved_by"] is None and dry["estimated_start"].endswith("Z")
    assert daemon.json("list", user="alice")["jobs"] == []
    assert daemon.json("quota", user="alice")["reserved"] == 0
    for args, code in ((["--gpu", "A100", "--count", "2", "--time", "2h"], 6), (["--gpu", "A100", "--count", "9"], 2),
                       (["--gpu", "H100"], 2), (["--time", "90"], 2)):
        dry, real = (daemon.ctl("submit", *pre, *args, user="alice") for pre in (["--dry-run"], []))
        assert dry.returncode == real.returncode == code and dry.stderr == real.stderr, (args, dry.stderr)
    assert daemon.ctl("submit", "--dry-run", "-o", "name", user="alice").returncode == 2
    assert daemon.json("list", user="alice")["jobs"] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="--job-user owner needs root")
def test_submit_chdir_env_and_export(daemon_factory):
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no Unix account 'nobody'")
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:1", "--job-user", "owner", "--kill-grace", "1s"])
    d.login()
    d.add_user("nobody", quota="1h", password="nobody-password")

    def run(cwd, *args):
        p = subprocess.run([GPUCTL, "submit", "--gpu", "T4", "--time", "1m"] + list(args), capture_output=True,
                           text=True, cwd=cwd, env=ctl_env(d, "nobody", GREETING="hello there"))
        assert p.returncode == 0, p.stderr
        jid = p.stdout.strip()
        d.ok("admin", "approve", jid)
        d.ok("wait", jid, "--timeout", "30s", user="nobody")
        return d.ok("logs", jid, user="nobody").stdout

    # Like sbatch: the job starts where gpuctl submit ran; --env and --export add variables.
    assert run("/tmp", "--env", "FOO=bar", "--env", "FOO=baz", "--export", "GREETING", "--",
               "sh", "-c", 'pwd; echo "$FOO/$GREETING"') == "/tmp\nbaz/hello there\n"
    assert run("/", "--chdir", "tmp", "--", "pwd") == "/tmp\n"  # relative to where gpuctl runs
    for args, says in ((["--export", "GPUAAS_SURELY_UNSET"], "GPUAAS_SURELY_UNSET is not set here"),
                       (["--env", "NOVALUE"], "write KEY=VALUE"),
                       (["--env", "BAD-NAME=1"], "letters, digits and '_'")):
        p = d.ctl("submit", "--gpu", "T4", *args, "--", "true", user="nobody")
        assert p.returncode == 2 and says in p.stderr, (args, p.stderr)


# ---- approving: bulk, the inbox ---------------------------------------------------

def test_bulk_approve_and_reject(daemon):
    add(daemon, "alice", quota="100h")
    add(daemon, "bob", quota="100h")
    a = [submit(daemon, "alice", "--gpu", "T4", "--time", "1h") for _ in range(3)]
    b = [submit(daemon, "bob", "--gpu", "A100", "--time", "1h") for _ in range(2)]
    v = submit(daemon, "alice", "--gpu", "V100", "--time", "1h")
    assert daemon.ok("admin", "approve", a[0], a[1]).stdout == "%s APPROVED\n%s APPROVED\n" % (a[0], a[1])
    p = daemon.ctl("admin", "approve", a[2], "999")
    assert p.returncode == 5 and p.stdout == "%s APPROVED\n" % a[2]
    assert "admin approve 999: no job 999" in p.stderr
    p = daemon.ok("admin", "reject", "--all-pending", "--gpu", "a100", "--reason", "no A100 today")
    assert p.stdout.split() == b  # oldest first
    assert daemon.json("show", b[0])["reason"] == "rejected: no A100 today"
    assert daemon.ok("admin", "approve", "--all-pending", "--user", "alice").stdout == v + "\n"
    p = daemon.ok("admin", "approve", "--all-pending")
    assert p.stdout == "" and "no PENDING jobs to approve" in p.stderr
    more = [submit(daemon, "bob", "--gpu", "T4") for _ in range(2)]
    assert daemon.json("admin", "approve", "--all-pending") == {"jobs": [int(x) for x in more], "failed": []}
    two = [submit(daemon, "bob", "--gpu", "T4") for _ in range(2)]
    got = daemon.json("admin", "reject", *two)["jobs"]
    assert [j["id"] for j in got] == [int(x) for x in two] and {j["status"] for j in got} == {"REJECTED"}
    for args, says in ((["admin", "approve"], "usage: gpuctl admin approve"),
                       (["admin", "approve", a[0], "--all-pending"], "not both"),
                       (["admin", "reject", "--user", "alice"], "add --all-pending")):
        p = daemon.ctl(*args)
        assert p.returncode == 2 and says in p.stderr, (args, p.stderr)
    p = daemon.ctl("admin", "approve", "--all-pending", user="alice")
    assert p.returncode == 4 and "gpuctl admin approve needs the admin role" in p.stderr


def test_pending_inbox_columns(daemon):
    add(daemon, "alice", quota="10h")
    big = submit(daemon, "alice", "--gpu", "A100", "--count", "2", "--time", "1h", "--name", "big")
    small = submit(daemon, "alice", "--gpu", "T4", "--time", "30m")
    lines = daemon.ok("admin", "pending").stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["ID", "USER", "GPU", "COUNT", "TIME", "AGE", "EXPIRES",
                                                     "AVAILABLE", "USED 30D", "EST. START"]
    assert [line.split()[0] for line in lines[1:]] == [big, small]  # oldest first
    cells = re.split(r"\s{2,}", lines[1].strip())
    assert cells[1:5] == ["alice", "A100", "2", "1h"]
    assert re.match(r"in (7d|6d23h)$", cells[6]) and cells[7] == "7.5 GPU-h" and cells[8] == "0.0 GPU-h"
    assert re.match(r"\d\d:\d\d:\d\d$|\d{4}-", cells[9]), cells
    jobs = daemon.json("admin", "pending")["jobs"]
    assert [j["id"] for j in jobs] == [int(big), int(small)]
    assert jobs[0]["owner_available"] == 27000 and jobs[0]["owner_charged_30d"] == 0
    assert jobs[0]["expires_at"].endswith("Z") and jobs[0]["estimated_start"].endswith("Z")
    wide = daemon.ok("admin", "pending", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:2] == ["ID", "NAME"] and wide[0].rstrip().endswith("REASON")
    assert wide[1].endswith("waiting for approval") and " big " in wide[1]
    assert daemon.ok("admin", "pending", "-q").stdout.split() == [big, small]
    daemon.ok("admin", "reject", "--all-pending")
    p = daemon.ok("admin", "pending")
    assert p.stdout == "" and "no jobs waiting for approval" in p.stderr


# ---- queue, cancel, show, usage -------------------------------------------------

def test_queue_anonymous_others_and_ahead_of_you(daemon):
    add(daemon, "alice", quota="100h")
    add(daemon, "bob", quota="100h")
    a1 = submit(daemon, "alice", "--gpu", "A100", "--count", "2", "--time", "1h", "--name", "a-run")
    b1 = submit(daemon, "bob", "--gpu", "A100", "--count", "2", "--time", "1h", "--name", "b-secret")
    a2 = submit(daemon, "alice", "--gpu", "A100", "--count", "2", "--time", "1h", "--name", "a-wait")
    b2 = submit(daemon, "bob", "--gpu", "T4", "--name", "b-pending")
    daemon.ok("admin", "approve", a1, b1, a2)
    lines = daemon.ok("queue", user="alice").stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["ID", "USER", "NAME", "TYPE", "COUNT", "STATUS", "POS", "TIME",
                                                     "START"]
    rows = [line.split() for line in lines[1:-1]]
    assert [r[:6] for r in rows] == [[a1, "alice", "a-run", "A100", "2", "RUNNING"],
                                     ["-", "(other)", "-", "A100", "2", "APPROVED"],
                                     [a2, "alice", "a-wait", "A100", "2", "APPROVED"],
                                     ["-", "(other)", "-", "T4", "1", "PENDING"]]
    assert rows[1][6] == "1" and rows[2][6] == "2" and rows[2][8] == "by"  # position; "by" an estimate
    assert lines[-1] == "1 job ahead of you"
    assert "b-secret" not in "\n".join(lines) and b1 not in [r[0] for r in rows]
    assert daemon.ok("queue", user="bob").stdout.splitlines()[-1] == "0 jobs ahead of you"
    assert daemon.ok("queue", "-o", "name", user="alice").stdout.split() == [a1, a2]
    data = daemon.json("queue", "--gpu", "t4", user="alice")
    assert [(j["id"], j["owner"], j["status"]) for j in data["jobs"]] == [(None, "(other)", "PENDING")]
    assert [l.split()[0] for l in daemon.ok("queue").stdout.splitlines()[1:]] == [a1, b1, a2, b2]  # admins see ids
    p = daemon.ctl("queue", "--gpu", "H100", user="alice")
    assert p.returncode == 2 and "--gpu: unknown GPU type" in p.stderr


def test_cancel_says_cancelling_and_waits(daemon_factory):
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:2", "--kill-grace", "2s"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    # Ignores SIGTERM: it goes only at SIGKILL, after the kill grace.
    jid = submit(d, "admin", "--gpu", "T4", "--time", "10m", "--", "sh", "-c", "trap '' TERM; echo ready; sleep 60")
    d.ok("admin", "approve", jid)
    wait_for(lambda: "ready" in d.ok("logs", jid).stdout, 15, "the job to start")
    assert d.ok("cancel", jid).stdout == "%s CANCELLING\n" % jid
    assert d.json("show", jid)["reason"].startswith("cancelling (cancelled by admin)")
    t0 = time.monotonic()
    assert d.ok("cancel", "--wait", jid).stdout == "%s CANCELLED\n" % jid
    assert time.monotonic() - t0 < 10 and d.json("show", jid)["status"] == "CANCELLED"
    pending = submit(d, "admin", "--gpu", "T4", "--", "true")
    assert d.ok("cancel", "--all", "--yes", "--wait").stdout == "%s CANCELLED\n" % pending
    p = d.ctl("cancel", "--wait", jid)
    assert p.returncode == 1 and "CANCELLED" in p.stderr


def test_show_estimated_start_and_weight(daemon_factory):
    d = daemon_factory(args=["--gpu-weights", "A100=4,V100=2,T4=1"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "100h")
    run = submit(d, "admin", "--gpu", "A100", "--count", "2", "--time", "1h")
    waiting = submit(d, "admin", "--gpu", "A100", "--time", "1h")
    show = d.ok("show", waiting).stdout
    assert re.search(r"^weight:\s+4 \(", show, re.M) and "slurm" not in show
    assert re.search(r"^starts by:\s+\S+.* if approved now$", show, re.M), show
    d.ok("admin", "approve", run, waiting)
    d.wait_state(run, "RUNNING")
    show = d.ok("show", waiting).stdout
    assert re.search(r"^starts by:\s+\S+ \(in \S+\)$", show, re.M), show
    assert "starts by:" not in d.ok("show", run).stdout
    job = d.json("show", waiting)
    assert job["weight"] == 4 and job["estimated_start"].endswith("Z")


def test_usage_columns_since_and_ledger(daemon):
    add(daemon, "alice", quota="1h")
    add(daemon, "bob", quota="2h")
    daemon.ok("admin", "quota", "alice", "--add", "30m")
    daemon.ok("admin", "quota", "bob", "--set", "3h")
    jid = submit(daemon, "alice", "--gpu", "T4", "--time", "60s")
    daemon.ok("admin", "approve", jid)
    daemon.ok("wait", jid, "--timeout", "30s", user="alice")
    lines = daemon.ok("admin", "usage", "bob", "alice").stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["USER", "GRANTED NET", "CHARGED", "RESERVED", "REMAINING",
                                                     "JOBS CHARGED"]
    assert [l.split()[0] for l in lines[1:]] == ["bob", "alice"]
    assert re.split(r"\s{2,}", lines[2].strip()) == ["alice", "1.5 GPU-h", "0.0 GPU-h", "0.0 GPU-h", "1.5 GPU-h", "1"]
    head = daemon.ok("admin", "usage", "alice", "--since", "1h").stdout.splitlines()[0]
    assert re.search(r"CHARGED SINCE \S+", head)
    assert daemon.json("admin", "usage", "alice", "--since", "1h")["users"][0]["charged_since"] == 60
    assert daemon.json("admin", "usage", "alice", "--since", "2999-01-01")["users"][0]["charged_since"] == 0
    out = daemon.ok("admin", "usage", "alice", "--ledger").stdout.split("\n\n")
    ledger = out[1].splitlines()
    assert re.split(r"\s{2,}", ledger[0].strip()) == ["TIME", "KIND", "DELTA", "JOB", "ACTOR", "REASON"]
    assert [l.split()[2] for l in ledger[1:]] == ["grant", "grant", "charge"]
    assert "+1.0 GPU-h" in ledger[1] and jid in ledger[3].split()
    rows = daemon.json("admin", "usage", "alice", "--ledger")["users"][0]["ledger"]
    assert [r["delta"] for r in rows] == [3600, 1800, -60]
    for args, code in ((["alice", "bob", "--ledger"], 2), (["--ledger"], 2), (["ghost"], 5),
                       (["--since", "soon"], 2)):
        assert daemon.ctl("admin", "usage", *args).returncode == code, args


# ---- list --watch, completion, the shell ----------------------------------------

def test_list_watch_redraws_on_events_only(daemon):
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    submit(daemon, "admin", "--gpu", "T4", "--name", "first")
    watch = Background(daemon, "list", "--watch")
    watch.wait_for(lambda t: "first" in t, "the first drawing")
    time.sleep(1.0)
    assert watch.text().count("list --watch") == 1  # no change, no drawing: nothing polls
    submit(daemon, "admin", "--gpu", "T4", "--name", "second")
    watch.wait_for(lambda t: "second" in t, "a drawing after the submit")
    assert watch.interrupt() == 130
    last = watch.text().split("list --watch")[-1]
    assert last.index("second") < last.index("first")  # newest first, in the last drawing


def test_completion_and_help_of_the_new_commands(daemon):
    assert set(bash_complete(daemon, ["gpuctl", "admin", "rule", ""])) == {"add", "list", "del"}
    assert "rule" in bash_complete(daemon, ["gpuctl", "admin", "ru"])
    assert set(bash_complete(daemon, ["gpuctl", "help", "admin", "rule", ""])) == {"add", "list", "del"}
    assert bash_complete(daemon, ["gpuctl", "ev"]) == ["events"]
    assert bash_complete(daemon, ["gpuctl", "qu"]) == ["queue", "quota"]
    assert bash_complete(daemon, ["gpuctl", "submit", "--dr"]) == ["--dry-run"]
    assert bash_complete(daemon, ["gpuctl", "submit", "--ex"]) == ["--export"]
    assert bash_complete(daemon, ["gpuctl", "admin", "approve", "--all"]) == ["--all-pending"]
    assert bash_complete(daemon, ["gpuctl", "admin", "rule", "add", "--gpu", ""]) == ["A100", "V100", "T4"]
    assert "1d" in bash_complete(daemon, ["gpuctl", "admin", "audit", "--since", "1"])
    assert daemon.ok("help", "admin", "rule", "add").stdout.startswith("Usage: gpuctl admin rule add")
    assert "admin rule del ID" in daemon.ok("admin", "rule", "--help").stdout
    p = daemon.ctl("admin", "rule", "ad")
    assert p.returncode == 2 and "admin rule: unknown subcommand 'ad'; did you mean admin rule add?" in p.stderr
    p = daemon.ctl("admin", "rule")
    assert p.returncode == 2 and "admin rule: missing subcommand" in p.stderr


def test_shell_ctrl_c_ends_a_follow(daemon, tmp_path):
    daemon.ok("admin", "quota", "admin", "--set", "1h")
    out, status = run_pty([GPUCTL, "shell"], pty_env(daemon, tmp_path), [
        ("admin@gpuaas> ", "events -f\r"),
        ("quota.set", "\x03"),                   # the follow ends, the shell stays
        ("admin@gpuaas> ", "list --watch\r"),
        ("no jobs", "\x03"),
        ("admin@gpuaas> ", "admin rule list\r"),
        ("no rules", None),
        ("admin@gpuaas> ", "\x04"),
    ])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, out
