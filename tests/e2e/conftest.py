"""End-to-end harness: starts the real gpuaasd on a temporary socket and state
dir and drives the real gpuctl (and raw sockets for protocol abuse)."""
import json
import os
import pwd
import re
import signal
import sqlite3
import socket
import struct
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("GPUAAS_BUILD", os.path.join(ROOT, "build"))
GPUAASD = os.path.join(BUILD, "gpuaasd", "gpuaasd")
GPUCTL = os.path.join(BUILD, "gpuctl", "gpuctl")
GPUAAS_WEB = os.path.join(BUILD, "gpuaas-web", "gpuaas-web")
ADMIN_PW = "admin-pw-1"
# Sanitizer builds keep freed memory in quarantine: RSS bounds do not apply.
SANITIZED = "asan" in os.path.basename(BUILD.rstrip("/"))
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


def wait_for(cond, timeout=10, what="a condition", interval=0.05):
    """Calls cond() until it returns a true value and returns that value; fails
    the test, naming what it waited for, when timeout seconds pass first.
    what may be a callable, asked at the failure (to show what was last seen)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %gs waiting for %s" % (timeout, what() if callable(what) else what))
        time.sleep(interval)


def frame(payload):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">I", len(payload)) + payload


class Raw:
    """A raw protocol client."""

    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)

    def send(self, payload):
        self.s.sendall(frame(payload))

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def recv(self):
        (n,) = struct.unpack(">I", self.recv_exact(4))
        return json.loads(self.recv_exact(n))

    def call(self, op, args=None, token=None, rid=1):
        req = {"v": 1, "id": rid, "op": op}
        if args is not None:
            req["args"] = args
        if token:
            req["token"] = token
        self.send(req)
        return self.recv()

    def closed(self):
        """True when the daemon closed the connection."""
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.s.close()


class Daemon:
    def __init__(self, tmp, args=(), env=None, name="d"):
        self.tmp = str(tmp)
        self.name = name
        self.sock = os.path.join(self.tmp, name + ".sock")
        self.state = os.path.join(self.tmp, name + "-state")
        self.log_path = os.path.join(self.tmp, name + ".log")
        self.args = list(args)
        self.env = dict(os.environ)
        self.env["GPUAAS_INITIAL_ADMIN_PASSWORD"] = ADMIN_PW
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1")
        self.env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        if env:
            self.env.update(env)
        self.proc = None
        self.logs = []

    def cmdline(self):
        base = [GPUAASD, "--socket", self.sock, "--state-dir", self.state, "--bcrypt-cost", "4",
                "--sim-time-scale", "0.01"]
        return base + self.args

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmdline(), stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gpuaasd exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                r = Raw(self.sock, timeout=2)
                resp = r.call("sys.ping")
                r.close()
                if resp.get("ok"):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("gpuaasd did not become ready:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, check=True):
        if not self.proc or self.proc.poll() is not None:
            rc = self.proc.returncode if self.proc else 0
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
                raise AssertionError("gpuaasd did not stop on SIGTERM")
        self.log.close()
        if check:
            log = self.read_log()
            for mark in SANITIZER_MARKS:
                assert mark not in log, "sanitizer report in daemon log:\n" + log[-4000:]
            assert rc == 0, "gpuaasd exited %s:\n%s" % (rc, log[-3000:])
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def restart(self):
        return self.start()

    # ---- gpuctl -------------------------------------------------------------------
    def token_file(self, user):
        return os.path.join(self.tmp, "tokens-" + self.name, user, "token")

    def ctl(self, *args, user="admin", input=None, env=None, timeout=60):
        e = dict(os.environ)
        e.pop("GPUAAS_TOKEN", None)
        e["GPUAAS_SOCKET"] = self.sock
        e["GPUAAS_TOKEN_FILE"] = self.token_file(user)
        e["HOME"] = self.tmp
        e["XDG_STATE_HOME"] = os.path.join(self.tmp, "xdg-state-" + user)
        e.pop("XDG_RUNTIME_DIR", None)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if env:
            e.update(env)
        os.makedirs(os.path.dirname(self.token_file(user)), mode=0o700, exist_ok=True)
        p = subprocess.run([GPUCTL] + [str(a) for a in args], input=input, capture_output=True, text=True,
                           env=e, timeout=timeout)
        for mark in SANITIZER_MARKS:
            assert mark not in p.stderr, p.stderr
        return p

    def ok(self, *args, **kw):
        p = self.ctl(*args, **kw)
        assert p.returncode == 0, "gpuctl %s -> %d\nstdout: %s\nstderr: %s" % (args, p.returncode, p.stdout,
                                                                              p.stderr)
        return p

    def json(self, *args, **kw):
        return json.loads(self.ok("--json", *args, **kw).stdout)

    def wait_state(self, jid, *states, user="admin", timeout=10):
        """Polls `gpuctl show` until job jid is in one of states and returns the
        job; fails the test, showing the job as last seen, after timeout
        seconds. For a final state prefer `gpuctl wait` (the daemon answers
        when the job ends); this is for RUNNING and other live states."""
        assert states, "name at least one state"
        seen = {}

        def reached():
            seen["job"] = self.json("show", jid, user=user)
            return seen["job"]["status"] in states

        wait_for(reached, timeout,
                 lambda: "job %s to be %s; last seen: %s" % (jid, " or ".join(states), seen.get("job")))
        return seen["job"]

    def login(self, user="admin", password=ADMIN_PW):
        return self.ok("login", user, "--password-stdin", user=user, input=password + "\n")

    def add_user(self, name, quota="10h", password=None, admin=False):
        args = ["admin", "useradd", name, "--quota", quota, "--password-stdin"]
        if admin:
            args.append("--admin")
        self.ok(*args, input=(password or name + "-password") + "\n")
        self.login(name, password or name + "-password")

    def token(self, user="admin"):
        with open(self.token_file(user)) as f:
            return f.read().strip()

    def raw(self):
        return Raw(self.sock)


def check_invariant(d):
    """For every user: reserved = sum over live jobs of count x time_limit x
    weight, and remaining = grants + sets - charges from the ledger (the
    quota rules of the README); every job's events begin with its submit,
    and a final job has exactly one final event."""
    db = sqlite3.connect("file:%s/gpuaas.db?mode=ro" % d.state, uri=True, isolation_level=None)
    try:
        # One read transaction: every query sees the same commit, even while
        # the daemon goes on writing.
        db.execute("BEGIN")
        for uid, name, remaining, reserved in db.execute("SELECT id, username, quota, reserved FROM users"):
            live = db.execute("SELECT coalesce(sum(gpu_count * time_limit * weight), 0) FROM jobs WHERE owner_id = ? "
                              "AND status IN ('PENDING','APPROVED','RUNNING')", (uid,)).fetchone()[0]
            assert reserved == live, (name, reserved, live)
            ledger = db.execute("SELECT coalesce(sum(delta), 0) FROM quota_ledger WHERE user_id = ?",
                                (uid,)).fetchone()[0]
            assert remaining == ledger, (name, remaining, ledger)
            assert remaining >= 0 and reserved >= 0
        finals = ("job.completed", "job.failed", "job.cancelled", "job.rejected", "job.expired")
        for jid, status in db.execute("SELECT id, status FROM jobs"):
            kinds = [k for (k,) in db.execute("SELECT kind FROM events WHERE job_id = ? ORDER BY seq", (jid,))]
            assert kinds and kinds[0] == "job.submitted", (jid, kinds)
            nfinal = sum(k in finals for k in kinds)
            live = status in ("PENDING", "APPROVED", "RUNNING")
            assert nfinal == (0 if live else 1), (jid, status, kinds)
    finally:
        db.close()



@pytest.fixture
def daemon_factory(tmp_path):
    started = []

    def make(args=(), env=None, name="d", start=True):
        d = Daemon(tmp_path, args, env, name)
        if start:
            d.start()
        started.append(d)
        return d

    yield make
    for d in started:
        if d.proc and d.proc.poll() is None:
            d.stop()
        elif d.proc and not d.log.closed:
            d.log.close()


@pytest.fixture
def daemon(daemon_factory):
    d = daemon_factory()
    d.login()
    return d


@pytest.fixture
def unix_account():
    """A fresh Unix account (uid 2000 and up, with a home), removed after the
    test; skips when useradd cannot run here."""
    name = "gpt-own%d" % (os.getpid() % 10000)
    if subprocess.run(["useradd", "-m", "-K", "UID_MIN=2000", "-s", "/bin/sh", name],
                      capture_output=True).returncode != 0:
        pytest.skip("useradd not usable here")
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True)


class Gateway:
    """A gpuaas-web process on 127.0.0.1 and a free port."""

    def __init__(self, tmp, sock, args=(), name="web", debug=True):
        self.log_path = os.path.join(str(tmp), name + ".log")
        self.sock, self.args, self.port, self.proc = sock, list(args), None, None
        if debug:
            self.args = ["--log-level", "debug"] + self.args

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([GPUAAS_WEB, "--listen", "127.0.0.1:0", "--socket", self.sock] + self.args,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError("gpuaas-web exited %s:\n%s" % (self.proc.returncode, self.read_log()))
            m = re.search(r"event=web.listening addr=127\.0\.0\.1:(\d+)", self.read_log())
            return m and int(m.group(1))

        self.port = wait_for(listening, 15, "gpuaas-web to listen")
        return self

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("gpuaas-web did not stop on SIGTERM")
        else:
            rc = self.proc.returncode if self.proc else 0
        self.log.close()
        log = self.read_log()
        for mark in SANITIZER_MARKS:
            assert mark not in log, "sanitizer report in gpuaas-web's log:\n" + log[-4000:]
        assert rc == 0, "gpuaas-web exited %s:\n%s" % (rc, log[-3000:])

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)
