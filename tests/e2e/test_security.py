"""Attacks on authentication, every op with hostile arguments, injection,
file permissions, connection floods, and a valgrind run."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import stat
import statistics
import subprocess
import time

import pytest

from conftest import ADMIN_PW, GPUAASD, SANITIZED, Raw


def b64(data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header, claims, key):
    head = b64(header) + "." + b64(claims)
    sig = hmac.new(key, head.encode(), hashlib.sha256).digest()
    return head + "." + b64(sig)


def daemon_key(d):
    with open(os.path.join(d.state, "jwt.key"), "rb") as f:
        return f.read()


def claims_of(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def whoami(d, token):
    r = d.raw()
    resp = r.call("auth.whoami", token=token)
    r.close()
    return resp


def test_forged_tokens_rejected(daemon):
    key = daemon_key(daemon)
    good = daemon.token("admin")
    claims = claims_of(good)
    assert whoami(daemon, good)["ok"]
    # Our own signer reproduces a valid token: the forgeries below differ
    # only in what they attack.
    assert whoami(daemon, sign({"alg": "HS256", "typ": "JWT"}, claims, key))["ok"]
    now = int(time.time())
    forged = {
        "alg none": b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims) + ".",
        "alg none, sig": b64({"alg": "none"}) + "." + b64(claims) + "." + b64(b"x"),
        "other key": sign({"alg": "HS256"}, claims, b"k" * 32),
        "HS512 header": b64({"alg": "HS512"}) + "." + b64(claims) + "." +
        b64(hmac.new(key, (b64({"alg": "HS512"}) + "." + b64(claims)).encode(), hashlib.sha512).digest()),
        "RS256 header": b64({"alg": "RS256"}) + "." + b64(claims) + "." + b64(b"\x00" * 256),
        "ES256 header": b64({"alg": "ES256"}) + "." + b64(claims) + "." + b64(b"\x01" * 64),
        "altered payload": good.split(".")[0] + "." + b64(dict(claims, uid=claims["uid"] + 1)) + "." +
        good.split(".")[2],
        "expired": sign({"alg": "HS256"}, dict(claims, exp=now - 1), key),
        "issued in the future": sign({"alg": "HS256"}, dict(claims, iat=now + 3600, exp=now + 7200), key),
        "uid as string": sign({"alg": "HS256"}, dict(claims, uid=str(claims["uid"])), key),
        "wrong user name": sign({"alg": "HS256"}, dict(claims, sub="root"), key),
        "unknown uid": sign({"alg": "HS256"}, dict(claims, uid=999), key),
        "old token version": sign({"alg": "HS256"}, dict(claims, tv=claims["tv"] - 1), key),
        "no exp": sign({"alg": "HS256"}, {k: v for k, v in claims.items() if k != "exp"}, key),
    }
    for name, tok in forged.items():
        resp = whoami(daemon, tok)
        assert resp["ok"] is False and resp["error"]["code"] == "UNAUTHENTICATED", name


def test_garbage_tokens_of_every_length(daemon):
    r = daemon.raw()
    for n in list(range(0, 80)) + [100, 255, 256, 1000, 4095, 4096, 4097, 10000, 100000, 900000]:
        tok = ("a.b." + "x" * n)[:n] if n < 4 else "eyJ" + "A" * (n - 8) + ".x.y"
        r.send({"v": 1, "id": n, "op": "auth.whoami", "token": tok})
        resp = r.recv()
        assert resp["id"] == n and resp["error"]["code"] == "UNAUTHENTICATED"
    r.send({"v": 1, "id": 1, "op": "auth.whoami", "token": 12345})
    assert r.recv()["error"]["code"] == "UNAUTHENTICATED"
    assert r.call("sys.ping")["ok"]
    r.close()


def test_token_from_another_daemon(daemon_factory):
    a = daemon_factory(name="a")
    b = daemon_factory(name="b")
    a.login()
    b.login()
    assert a.json("whoami")["username"] == "admin"
    p = a.ctl("whoami", user="x", env={"GPUAAS_TOKEN": b.token("admin")})
    assert p.returncode == 3


def test_demoted_admin_token_loses_admin_ops(daemon):
    daemon.add_user("boss", admin=True)
    tok = daemon.token("boss")
    daemon.ok("admin", "users", user="boss")
    daemon.ok("admin", "role", "boss", "--no-admin")
    r = daemon.raw()
    resp = r.call("user.list", token=tok)
    assert resp["error"]["code"] == "FORBIDDEN"
    assert r.call("auth.whoami", token=tok)["data"]["is_admin"] is False
    r.close()


OPS = ["sys.ping", "auth.login", "auth.whoami", "auth.passwd", "job.submit", "job.list", "job.get", "job.cancel",
       "job.wait", "job.logs", "job.approve", "job.reject", "quota.get", "gpu.list", "user.create", "user.delete",
       "user.list", "user.quota", "user.role", "usage.report"]
KEYS = ["username", "password", "old_password", "new_password", "gpu_type", "gpu_count", "time_limit", "name",
        "command", "all", "states", "user", "limit", "before_id", "id", "timeout", "offset", "follow", "reason",
        "is_admin", "quota", "set", "add", "brief"]
BAD_VALUES = [None, True, -1, 0, 1.5, -1.5, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -2 ** 63, 1e308, "x" * (1 << 20) if False else
              "x" * 200000, "", "\u00e9\u2603", "'; DROP TABLE jobs; --", [], [1, "a"], {}, {"a": {"b": {}}},
              "a\tb", "\x7f"]


def test_every_op_with_hostile_arguments(daemon):
    tok = daemon.token("admin")
    r = daemon.raw()
    rid = 0
    codes = set()
    for op in OPS:
        for key in KEYS:
            for val in BAD_VALUES:
                rid += 1
                r.send({"v": 1, "id": rid, "op": op, "token": tok, "args": {key: val}})
                resp = r.recv()
                assert resp["id"] == rid
                if not resp["ok"]:
                    code = resp["error"]["code"]
                    codes.add(code)
                    assert code != "INTERNAL", (op, key, str(val)[:40], resp)
        # Wrong shapes of args and envelope for every op.
        for args in ([], "x", 5, None):
            rid += 1
            r.send({"v": 1, "id": rid, "op": op, "token": tok, "args": args})
            resp = r.recv()
            assert resp.get("ok") is True or resp["error"]["code"] != "INTERNAL"
    assert "BAD_REQUEST" in codes
    # Deep nesting, invalid UTF-8, NUL bytes, huge numbers in the envelope.
    for raw in (b"[" * 5000 + b"]" * 5000, b'{"op":"sys.ping","id":1' + b',"a":' + b"[" * 2000 + b"]" * 2000 + b"}",
                b'{"v":1,"id":1,"op":"sys.\xff\xfeping"}', b'{"v":1,"id":1,"op":"sys.ping\x00"}',
                b'{"v":1,"id":99999999999999999999999,"op":"sys.ping"}', b'{"v":1,"id":-1,"op":"sys.ping"}'):
        r.send(raw)
        resp = r.recv()
        assert resp.get("ok") or resp["error"]["code"] == "BAD_REQUEST", raw[:40]
    assert r.call("sys.ping")["ok"]
    r.close()
    daemon.ok("whoami")


def test_injection_strings_stored_verbatim(daemon):
    daemon.add_user("alice", quota="100h")
    evil = ["'; DROP TABLE jobs; --", "Robert'); DROP TABLE users;--", "\" OR 1=1 --", "%s%n%x", "$(reboot)",
            "`id`", "\\'\\\"", "grüße 😀", "<script>alert(1)</script>"]
    ids = {}
    for s in evil:
        j = daemon.json("submit", "--gpu", "T4", "--name", s, "--", "echo", s, user="alice")
        ids[j["id"]] = s
    for jid, s in ids.items():
        job = daemon.json("show", jid, user="alice")
        assert job["name"] == s and job["command"] == ["echo", s]
    jid = next(iter(ids))
    daemon.ok("admin", "reject", jid, "--reason", evil[0])
    assert daemon.json("show", jid)["reason"] == "rejected: " + evil[0]
    assert len(daemon.json("list", "--all")["jobs"]) == len(evil)
    # Usernames outside the allowed set are refused, not escaped.
    r = daemon.raw()
    resp = r.call("user.create", {"username": "a'; DROP TABLE users;--", "password": "x"}, token=daemon.token())
    assert resp["error"]["code"] == "BAD_REQUEST"
    r.close()
    assert [u["username"] for u in daemon.json("admin", "users")["users"]] == ["admin", "alice"]


def test_file_permissions(daemon_factory):
    d = daemon_factory(env={"GPUAAS_INITIAL_ADMIN_PASSWORD": ""})
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)
    assert mode(d.state) == 0o700
    for name in ("gpuaas.db", "jwt.key", "initial-admin-password"):
        assert mode(os.path.join(d.state, name)) == 0o600, name
    with open(os.path.join(d.state, "initial-admin-password")) as f:
        pw = f.read().strip()
    assert len(pw) >= 16 and pw not in d.read_log()
    assert "initial-admin-password" in d.read_log()
    d.login("admin", pw)
    d.ok("admin", "useradd", "bob", "--password-stdin", input="bob-password\n")  # a write: WAL exists now
    for name in ("gpuaas.db-wal", "gpuaas.db-shm"):
        path = os.path.join(d.state, name)
        if os.path.exists(path):
            assert mode(path) == 0o600, name
    assert mode(d.sock) == (0o666 if os.geteuid() == 0 else 0o600)
    tf = d.token_file("admin")
    assert mode(tf) == 0o600 and mode(os.path.dirname(tf)) == 0o700


def test_key_readable_by_others_refused(daemon_factory):
    d = daemon_factory()
    d.stop()
    os.chmod(os.path.join(d.state, "jwt.key"), 0o644)
    d.start(wait=False)
    assert d.proc.wait(15) != 0
    d.log.close()
    assert "readable by others" in d.read_log()


def test_login_timing_known_vs_unknown(daemon_factory):
    d = daemon_factory(args=["--bcrypt-cost", "10", "--login-max-failures", "1000"])
    r = d.raw()

    def attempt(user):
        t = time.monotonic()
        resp = r.call("auth.login", {"username": user, "password": "wrong"})
        assert resp["error"]["code"] == "UNAUTHENTICATED"
        assert resp["error"]["message"] == "invalid username or password"
        return time.monotonic() - t

    known = [attempt("admin") for _ in range(7)]
    unknown = [attempt("nobody-%d" % i) for i in range(7)]
    bad_name = [attempt("NOT A NAME") for _ in range(3)]
    r.close()
    mk, mu = statistics.median(known), statistics.median(unknown)
    # Both pay one bcrypt at the same cost: same order of time.
    assert 0.6 < mk / mu < 1.6, (mk, mu)
    assert 0.6 < statistics.median(bad_name) / mk < 1.6


def test_thousand_connections_at_once(daemon_factory):
    d = daemon_factory()
    socks = []
    for _ in range(1000):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(d.sock)
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(0.5)
    r = d.raw()
    assert r.call("sys.ping")["ok"]
    r.close()
    open_conns = len([x for x in os.listdir("/proc/%d/fd" % d.proc.pid)])
    assert open_conns < 512 + 64, open_conns  # the limit holds (512 connections by default)
    for s in socks:
        s.close()


@pytest.mark.skipif(SANITIZED or not shutil.which("valgrind"), reason="valgrind runs on the normal build only")
def test_valgrind_scenario(daemon_factory, tmp_path):
    d = daemon_factory(start=False, args=["--sim-time-scale", "0.001"])
    base = d.cmdline
    vg_log = str(tmp_path / "valgrind.log")
    d.cmdline = lambda: ["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                         "--show-leak-kinds=definite", "--track-fds=no", "--log-file=" + vg_log] + base()
    d.start()
    d.login()
    d.add_user("alice", quota="10h")
    jid = int(d.ok("submit", "--gpu", "T4", "--time", "100s", user="alice").stdout)
    d.ok("admin", "approve", jid)
    assert d.ctl("wait", jid, "--timeout", "60s", user="alice").returncode == 0
    r = d.raw()
    r.send(b"garbage")
    assert r.recv()["error"]["code"] == "BAD_REQUEST"
    r.s.sendall(b"\x00\x00\x00\x00")
    assert r.recv()["error"]["code"] == "BAD_FRAME"
    r.close()
    assert d.stop() == 0
    log = open(vg_log).read()
    assert "ERROR SUMMARY: 0 errors" in log, log[-3000:]
    assert "definitely lost: 0 bytes" in log or "no leaks are possible" in log, log[-3000:]
