"""gpuaas-web, the HTTP gateway, end to end: the real gpuaasd and the real
gateway on temporary sockets and ports, driven with http.client, raw
sockets and curl. Covers every route against docs/openapi.yaml (both ways),
every error status, Bearer and cookie + CSRF, other users' jobs, static
files and path traversal, slowloris and oversized headers, 2,000 idle
connections, the event stream (Last-Event-ID, heartbeats, a gpuaasd
restart, the stream cap), /metrics scraped by a real Prometheus, TLS,
socket activation and the systemd units."""
import datetime
import gzip
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import ADMIN_PW, BUILD, GPUAAS_WEB, ROOT, SANITIZED, Daemon, Gateway, frame, wait_for

OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


# ---- helpers ----------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def code(self):
        return self.json()["error"]["code"]


def call(web, method, path, body=None, token=None, headers=None, raw_body=None, timeout=10):
    """One request on a fresh connection; JSON bodies for dicts."""
    h = dict(headers or {})
    data = raw_body
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if token:
        h["Authorization"] = "Bearer " + token
    c = http.client.HTTPConnection("127.0.0.1", web.port, timeout=timeout)
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        hdrs = {}
        for k, v in r.getheaders():
            hdrs[k.lower()] = v if k.lower() not in hdrs else hdrs[k.lower()] + ", " + v
        return Resp(r.status, hdrs, r.read())
    finally:
        c.close()


def raw(web, data, timeout=10):
    """Sends raw bytes and returns everything until the server closes."""
    s = socket.create_connection(("127.0.0.1", web.port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except OSError:  # the server may answer and close before taking it all
            pass
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def raw_status(web, target, method="GET"):
    out = raw(web, ("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (method, target)).encode())
    m = re.match(rb"HTTP/1\.1 (\d+)", out)
    return int(m.group(1)) if m else None, out


def login(web, user, password):
    r = call(web, "POST", "/api/v1/login", {"username": user, "password": password})
    assert r.status == 200, (r.status, r.body)
    return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Stream:
    """A Server-Sent Events reader over http.client."""

    def __init__(self, web, token, path="/api/v1/events/stream", headers=None, timeout=10):
        self.conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=timeout)
        h = dict(headers or {})
        h["Authorization"] = "Bearer " + token
        self.conn.request("GET", path, headers=h)
        self.resp = self.conn.getresponse()

    def next_block(self):
        """The next event or comment block as a list of lines."""
        lines = []
        while True:
            line = self.resp.readline()
            if not line:
                raise EOFError("stream ended")
            line = line.decode().rstrip("\n")
            if line == "":
                if lines:
                    return lines
                continue
            lines.append(line)

    def next_event(self, timeout=10, job=None):
        """The next event (of that job, when given), skipping comments."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            block = self.next_block()
            fields = dict(line.split(": ", 1) for line in block if not line.startswith(":") and ": " in line)
            if "data" not in fields:
                continue
            ev = {"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])}
            if job is None or ev["data"].get("job_id") == job:
                return ev
        raise AssertionError("no event within %ss" % timeout)

    def close(self):
        self.conn.close()


# ---- the shared daemon and gateway -------------------------------------------------------------

class Env:
    pass


def start_env(tmp, daemon_args, daemon_name, gateway_args, gateway_name="web"):
    """A daemon with alice and bob, a gateway in front, and their tokens."""
    d = Daemon(tmp, args=daemon_args, name=daemon_name)
    d.start()
    d.login()
    d.add_user("alice", quota="10h", password="alice-password")
    d.add_user("bob", quota="10h", password="bob-password")
    e = Env()
    e.tmp, e.d, e.extra = tmp, d, []
    e.web = Gateway(tmp, d.sock, gateway_args, gateway_name).start()
    e.admin = login(e.web, "admin", ADMIN_PW).json()["token"]
    e.alice = login(e.web, "alice", "alice-password").json()["token"]
    e.bob = login(e.web, "bob", "bob-password").json()["token"]
    return e


def stop_env(e):
    for g in e.extra:
        if g.proc and g.proc.poll() is None:
            g.stop()
    e.web.stop()
    e.d.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = start_env(tmp_path_factory.mktemp("web"), (), "wd", ["--sse-heartbeat", "1s"])
    yield e
    stop_env(e)


def extra_gateway(env, args, name, debug=True):
    g = Gateway(env.tmp, env.d.sock, args, name, debug).start()
    env.extra.append(g)
    return g


def submit(env, token, **job):
    body = {"gpu_type": "T4", "time_limit": 600}
    body.update(job)
    r = call(env.web, "POST", "/api/v1/jobs", body, token=token)
    assert r.status == 201, (r.status, r.body)
    return r.json()["id"]


# ---- the OpenAPI document and the routes -------------------------------------------------------

def load_spec():
    try:
        import yaml
    except ImportError:
        pytest.skip("python3-yaml is not installed")
    with open(OPENAPI) as f:
        return yaml.safe_load(f)


def spec_routes(spec):
    return {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if m in ("get", "post", "delete", "put")}


def server_routes():
    out = subprocess.run([GPUAAS_WEB, "--routes"], capture_output=True, text=True, check=True).stdout
    return {tuple(line.split(" ", 1)) for line in out.splitlines() if line}


def test_every_served_route_is_in_the_spec_and_back():
    spec = load_spec()
    assert spec["openapi"].startswith("3.0")
    assert server_routes() == spec_routes(spec)


def samples(env):
    """One request per route of the spec, as an admin unless noted, with the
    status it must answer. Objects are made here so each request is valid."""
    pend = submit(env, env.alice, name="s1")
    pend2 = submit(env, env.alice, name="s2")
    pend3 = submit(env, env.alice, name="s3")
    done = submit(env, env.alice, name="s4")
    call(env.web, "POST", "/api/v1/jobs/%d/cancel" % done, token=env.alice)
    assert call(env.web, "POST", "/api/v1/users", {"username": "carol", "password": "carol-password"},
                token=env.admin).status == 201
    rule = call(env.web, "POST", "/api/v1/rules", {"gpu_types": ["V100"], "max_count": 1, "note": "sample"},
                token=env.admin).json()["id"]
    a, al = env.admin, env.alice
    return {
        ("GET", "/healthz"): dict(path="/healthz", expect=200),
        ("GET", "/metrics"): dict(path="/metrics", expect=200),
        ("GET", "/api/v1/openapi.yaml"): dict(path="/api/v1/openapi.yaml", expect=200),
        ("POST", "/api/v1/login"): dict(path="/api/v1/login", body={"username": "bob", "password": "bob-password"}, expect=200),
        ("POST", "/api/v1/logout"): dict(path="/api/v1/logout", expect=204),
        ("GET", "/api/v1/me"): dict(path="/api/v1/me", token=al, expect=200),
        ("POST", "/api/v1/me/password"): dict(path="/api/v1/me/password", token=al,
                                              body={"old_password": "wrong", "new_password": "x-password"}, expect=401),
        ("GET", "/api/v1/jobs"): dict(path="/api/v1/jobs?all=1&state=PENDING&limit=5", token=a, expect=200),
        ("POST", "/api/v1/jobs"): dict(path="/api/v1/jobs", token=al, body={"gpu_type": "T4", "time_limit": 60,
                                                                            "dry_run": True}, expect=200),
        ("POST", "/api/v1/jobs/approve"): dict(path="/api/v1/jobs/approve", token=a, body={"ids": [pend2]}, expect=200),
        ("POST", "/api/v1/jobs/reject"): dict(path="/api/v1/jobs/reject", token=a, body={"ids": [pend3]}, expect=200),
        ("GET", "/api/v1/jobs/{id}"): dict(path="/api/v1/jobs/%d" % pend, token=al, expect=200),
        ("POST", "/api/v1/jobs/{id}/cancel"): dict(path="/api/v1/jobs/%d/cancel" % done, token=al, expect=409),
        ("POST", "/api/v1/jobs/{id}/approve"): dict(path="/api/v1/jobs/%d/approve" % pend, token=a, expect=200),
        ("POST", "/api/v1/jobs/{id}/reject"): dict(path="/api/v1/jobs/%d/reject" % pend, token=a,
                                                   body={"reason": "late"}, expect=409),
        ("GET", "/api/v1/jobs/{id}/logs"): dict(path="/api/v1/jobs/%d/logs?offset=0" % pend, token=al, expect=200),
        ("GET", "/api/v1/gpus"): dict(path="/api/v1/gpus", token=al, expect=200),
        ("GET", "/api/v1/quota"): dict(path="/api/v1/quota", token=al, expect=200),
        ("GET", "/api/v1/usage"): dict(path="/api/v1/usage?user=alice", token=a, expect=200),
        ("GET", "/api/v1/users"): dict(path="/api/v1/users", token=al, expect=403),
        ("POST", "/api/v1/users"): dict(path="/api/v1/users", token=a, body={"username": "carol", "password": "x-password"},
                                        expect=409),
        ("DELETE", "/api/v1/users/{name}"): dict(path="/api/v1/users/carol", token=a, expect=200),
        ("POST", "/api/v1/users/{name}/quota"): dict(path="/api/v1/users/bob/quota", token=a, body={"add": 60},
                                                     expect=200),
        ("POST", "/api/v1/users/{name}/role"): dict(path="/api/v1/users/nobody-here/role", token=a,
                                                    body={"is_admin": True}, expect=404),
        ("GET", "/api/v1/rules"): dict(path="/api/v1/rules", token=a, expect=200),
        ("POST", "/api/v1/rules"): dict(path="/api/v1/rules", token=al, body={"max_count": 1}, expect=403),
        ("DELETE", "/api/v1/rules/{id}"): dict(path="/api/v1/rules/%d" % rule, token=a, expect=200),
        ("GET", "/api/v1/events"): dict(path="/api/v1/events?since=0&limit=5", token=al, expect=200),
        ("GET", "/api/v1/events/stream"): dict(path="/api/v1/events/stream?since=0", token=al, expect=200, stream=True),
        ("GET", "/api/v1/audit"): dict(path="/api/v1/audit?limit=10", token=a, expect=200),
        ("GET", "/"): dict(path="/", expect=404),
        ("GET", "/{path}"): dict(path="/app.js", expect=404),
    }


def content_types(op, status):
    resp = op["responses"].get(str(status), {})
    if "$ref" in resp:
        return ["application/json"]
    return list(resp.get("content", {}).keys())


def test_every_route_in_the_spec_answers_as_specified(env):
    spec = load_spec()
    todo = samples(env)
    assert set(todo) == spec_routes(spec), "a route of the spec has no sample here (or the other way round)"
    for (method, path), s in todo.items():  # in the order written: some build on others
        op = spec["paths"][path][method.lower()]
        if s.get("stream"):
            st = Stream(env.web, s["token"], s["path"])
            status, ctype = st.resp.status, st.resp.getheader("Content-Type")
            st.close()
        else:
            r = call(env.web, method, s["path"], s.get("body"), token=s.get("token"))
            status, ctype = r.status, r.header("Content-Type")
        assert status == s["expect"], (method, path, status)
        assert str(status) in op["responses"], (method, path, status, "not in the spec")
        want = content_types(op, status)
        if want and status not in (204, 304):  # application/octet-stream: "any file"
            assert any(w == "application/octet-stream" or (ctype or "").startswith(w) for w in want), \
                (method, path, ctype, want)
    # Other methods on each path: 405 with exactly the spec's methods in Allow.
    for path, ops in spec["paths"].items():
        concrete = path.replace("{id}", "1").replace("{name}", "bob").replace("{path}", "x.js")
        methods = {m.upper() for m in ops if m in ("get", "post", "delete")}
        allow = set(methods) | ({"HEAD"} if "GET" in methods else set())
        for m in {"GET", "POST", "DELETE", "PUT", "PATCH"} - methods:
            r = call(env.web, m, concrete, token=env.admin)
            assert r.status == 405 and r.code() == "BAD_REQUEST", (m, path, r.status)
            assert set(a.strip() for a in r.header("Allow").split(",")) == allow, (m, path, r.header("Allow"))
        r = call(env.web, "OPTIONS", concrete)
        assert r.status == 204 and "OPTIONS" in r.header("Allow")


def test_openapi_document_is_served(env):
    r = call(env.web, "GET", "/api/v1/openapi.yaml")
    assert r.status == 200 and r.header("Content-Type") == "application/yaml"
    with open(OPENAPI, "rb") as f:
        assert r.body == f.read()


# ---- jobs, users and the daemon's objects -----------------------------------------------------

def test_job_round_trip_matches_gpuctl(env):
    r = call(env.web, "POST", "/api/v1/jobs", {"gpu_type": "t4", "gpu_count": 2, "time_limit": 120, "name": "train",
                                               "command": ["python", "train.py"]}, token=env.alice)
    assert r.status == 201
    job = r.json()
    assert r.header("Location") == "/api/v1/jobs/%d" % job["id"]
    assert job["gpu_type"] == "T4" and job["status"] == "PENDING" and job["command"] == ["python", "train.py"]
    got = call(env.web, "GET", r.header("Location"), token=env.alice).json()
    shown = env.d.json("show", job["id"], user="alice")
    # A pending job's estimate is "if approved now": with free GPUs, the
    # moment of the call, so two calls may straddle a second.
    starts = [o.pop("estimated_start", None) for o in (got, shown)]
    assert (starts[0] is None) == (starts[1] is None)
    if starts[0]:
        at = [datetime.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in starts]
        assert abs((at[1] - at[0]).total_seconds()) <= 2
    assert got == shown
    lst = call(env.web, "GET", "/api/v1/jobs?limit=1", token=env.alice).json()
    assert lst["jobs"][0]["id"] == job["id"] and "next_before_id" in lst
    older = call(env.web, "GET", "/api/v1/jobs?before_id=%d" % job["id"], token=env.alice).json()["jobs"]
    assert all(j["id"] < job["id"] for j in older)
    assert call(env.web, "POST", "/api/v1/jobs/%d/approve" % job["id"], token=env.admin).json()["status"] in (
        "APPROVED", "RUNNING", "COMPLETED")
    q = call(env.web, "GET", "/api/v1/quota", token=env.alice).json()
    assert set(q) == {"remaining", "reserved", "available"}
    # Exact numbers pass through as written: 3.0 is not an integer for gpuaasd.
    r = call(env.web, "POST", "/api/v1/jobs", raw_body=b'{"gpu_count": 1.0}', token=env.alice,
             headers={"Content-Type": "application/json"})
    assert r.status == 400 and "gpu_count" in r.json()["error"]["message"]
    # A body cannot override the path's id: the approved job is refused, the pending one is untouched.
    other = submit(env, env.alice, name="untouched")
    r = call(env.web, "POST", "/api/v1/jobs/%d/reject" % job["id"], {"id": other, "reason": "x"}, token=env.admin)
    assert r.status == 409 and r.code() == "CONFLICT"
    assert call(env.web, "GET", "/api/v1/jobs/%d" % other, token=env.alice).json()["status"] == "PENDING"


def test_other_users_job_is_not_found(env):
    jid = submit(env, env.alice, name="mine")
    for method, path in (("GET", "/api/v1/jobs/%d" % jid), ("POST", "/api/v1/jobs/%d/cancel" % jid),
                         ("GET", "/api/v1/jobs/%d/logs" % jid)):
        r = call(env.web, method, path, token=env.bob)
        assert r.status == 404 and r.code() == "NOT_FOUND", (path, r.status)
    assert call(env.web, "GET", "/api/v1/jobs/%d" % jid, token=env.alice).status == 200
    assert call(env.web, "GET", "/api/v1/jobs/%d" % jid, token=env.admin).status == 200
    assert jid not in [j["id"] for j in call(env.web, "GET", "/api/v1/jobs", token=env.bob).json()["jobs"]]


def test_users_rules_usage_audit_and_events(env):
    a = env.admin
    r = call(env.web, "POST", "/api/v1/users", {"username": "dave", "password": "dave-password", "quota": 3600}, token=a)
    assert r.status == 201 and r.header("Location") == "/api/v1/users/dave" and r.json()["quota"]["remaining"] == 3600
    assert call(env.web, "POST", "/api/v1/users/dave/quota", {"set": 7200}, token=a).json()["quota"]["remaining"] == 7200
    assert call(env.web, "POST", "/api/v1/users/dave/role", {"is_admin": True}, token=a).json()["is_admin"] is True
    assert "dave" in [u["username"] for u in call(env.web, "GET", "/api/v1/users", token=a).json()["users"]]
    usage = call(env.web, "GET", "/api/v1/usage?user=dave", token=a).json()["users"]
    assert usage[0]["username"] == "dave"
    rule = call(env.web, "POST", "/api/v1/rules", {"gpu_types": ["T4"], "max_count": 1, "max_time": 60}, token=a)
    assert rule.status == 201 and rule.header("Location") == "/api/v1/rules/%d" % rule.json()["id"]
    assert rule.json()["id"] in [x["id"] for x in call(env.web, "GET", "/api/v1/rules", token=a).json()["rules"]]
    assert call(env.web, "DELETE", "/api/v1/rules/%d" % rule.json()["id"], token=a).json()["deleted"] is True
    assert call(env.web, "DELETE", "/api/v1/users/dave", token=a).json()["deleted"] is True
    kinds = {e["kind"] for e in call(env.web, "GET", "/api/v1/audit?limit=1000", token=a).json()["events"]}
    assert {"user.created", "quota.set", "user.role", "rule.added", "rule.deleted", "user.deleted"} <= kinds
    assert not kinds & {"job.submitted", "job.started", "job.completed"}
    ev = call(env.web, "GET", "/api/v1/events?since=0&limit=3", token=env.alice).json()
    assert len(ev["events"]) <= 3 and all(e["seq"] > 0 for e in ev["events"])
    # Bulk approval of everything pending for bob's T4.
    jid = submit(env, env.bob, name="bulk")
    r = call(env.web, "POST", "/api/v1/jobs/approve", {"all_pending": True, "user": "bob"}, token=a).json()
    assert jid in r["jobs"] and r["failed"] == []


# ---- authentication ---------------------------------------------------------------------------

def test_bearer_and_cookie_with_csrf(env):
    r = login(env.web, "bob", "bob-password")
    body = r.json()
    assert set(body) == {"token", "expires_at", "user", "csrf_token"} and len(body["csrf_token"]) == 64
    cookie = r.header("Set-Cookie")
    assert cookie.startswith("gpuaas_session=" + body["token"] + ";")
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="):
        assert attr in cookie, cookie
    assert "Secure" not in cookie  # plain HTTP here; see the TLS test
    jar = {"Cookie": "gpuaas_session=" + body["token"]}
    me = call(env.web, "GET", "/api/v1/me", headers=jar).json()
    assert me["username"] == "bob" and me["csrf_token"] == body["csrf_token"]
    job = {"gpu_type": "T4", "time_limit": 60}
    r = call(env.web, "POST", "/api/v1/jobs", job, headers=jar)
    assert r.status == 403 and r.code() == "FORBIDDEN" and "X-CSRF-Token" in r.json()["error"]["message"]
    r = call(env.web, "POST", "/api/v1/jobs", job, headers=dict(jar, **{"X-CSRF-Token": "0" * 64}))
    assert r.status == 403
    r = call(env.web, "POST", "/api/v1/jobs", job, headers=dict(jar, **{"X-CSRF-Token": body["csrf_token"]}))
    assert r.status == 201
    jid = r.json()["id"]
    assert call(env.web, "DELETE", "/api/v1/users/bob", headers=jar).status == 403  # CSRF before anything else
    # Bearer needs no CSRF token, and wins over a cookie.
    assert call(env.web, "POST", "/api/v1/jobs/%d/cancel" % jid, token=body["token"]).status == 200
    assert call(env.web, "GET", "/api/v1/me", token=env.alice, headers=jar).json()["username"] == "alice"
    # Logout: a cookie session needs the CSRF token; it clears the cookie.
    assert call(env.web, "POST", "/api/v1/logout", headers=jar).status == 403
    r = call(env.web, "POST", "/api/v1/logout", headers=dict(jar, **{"X-CSRF-Token": body["csrf_token"]}))
    assert r.status == 204 and "Max-Age=0" in r.header("Set-Cookie")
    # No credentials, junk credentials, a forged token.
    for h in ({}, {"Authorization": "Basic YWRtaW46eA=="}, {"Authorization": "Bearer a b"},
              {"Cookie": "gpuaas_session=%%%"}):
        r = call(env.web, "GET", "/api/v1/me", headers=h)
        assert r.status == 401 and r.header("WWW-Authenticate").startswith("Bearer"), h
    r = call(env.web, "GET", "/api/v1/me", token="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.AAAA")
    assert r.status == 401 and r.code() == "UNAUTHENTICATED" and r.header("WWW-Authenticate")
    # Tokens never reach the log (requests are logged at debug level here).
    log = env.web.read_log()
    assert "event=http.request" in log
    for secret in (body["token"], env.alice, env.admin, body["csrf_token"], "bob-password"):
        assert secret not in log


def test_curl_session_with_cookie_jar(env):
    jar = os.path.join(str(env.tmp), "cookies.txt")
    base = env.web.url()

    def curl(*args):
        p = subprocess.run(["curl", "-s", "-b", jar, "-c", jar, "-w", "\n%{http_code}"] + list(args),
                           capture_output=True, text=True, timeout=30)
        body, _, code = p.stdout.rpartition("\n")
        return int(code), body

    code, body = curl("-X", "POST", base + "/api/v1/login", "-H", "Content-Type: application/json",
                      "--data", json.dumps({"username": "alice", "password": "alice-password"}))
    assert code == 200
    csrf = json.loads(body)["csrf_token"]
    assert "gpuaas_session" in open(jar).read() and "#HttpOnly_" in open(jar).read()
    code, body = curl(base + "/api/v1/me")
    assert code == 200 and json.loads(body)["username"] == "alice"
    code, _ = curl("-X", "POST", base + "/api/v1/jobs", "-H", "Content-Type: application/json", "--data", "{}")
    assert code == 403
    code, body = curl("-X", "POST", base + "/api/v1/jobs", "-H", "Content-Type: application/json",
                      "-H", "X-CSRF-Token: " + csrf, "--data", '{"gpu_type":"T4","time_limit":30}')
    assert code == 201 and json.loads(body)["owner"] == "alice"


def test_password_change_renews_the_cookie(env):
    a = env.admin
    assert call(env.web, "POST", "/api/v1/users", {"username": "erin", "password": "erin-password1"}, token=a).status == 201
    s = login(env.web, "erin", "erin-password1").json()
    jar = {"Cookie": "gpuaas_session=" + s["token"], "X-CSRF-Token": s["csrf_token"]}
    r = call(env.web, "POST", "/api/v1/me/password", {"old_password": "erin-password1", "new_password": "erin-password2"},
             headers=jar)
    assert r.status == 200, r.body
    new = r.json()
    assert new["token"] != s["token"] and new["csrf_token"] != s["csrf_token"]
    assert r.header("Set-Cookie").startswith("gpuaas_session=" + new["token"])
    assert call(env.web, "GET", "/api/v1/me", token=s["token"]).status == 401  # older tokens are revoked
    assert call(env.web, "GET", "/api/v1/me", token=new["token"]).status == 200
    call(env.web, "DELETE", "/api/v1/users/erin", token=a)


def test_failed_logins_are_throttled_per_address(env):
    g = extra_gateway(env, ["--login-max-failures", "3", "--login-lockout", "30s"], "web-throttle")
    for i in range(3):
        r = call(g, "POST", "/api/v1/login", {"username": "nobody%d" % i, "password": "x"})
        assert r.status == 401 and r.code() == "UNAUTHENTICATED"
    r = call(g, "POST", "/api/v1/login", {"username": "alice", "password": "alice-password"})
    assert r.status == 429 and r.code() == "RATE_LIMITED" and 0 < int(r.header("Retry-After")) <= 30
    # The other gateway (another "address" as far as this one knows) is not affected.
    assert call(env.web, "POST", "/api/v1/login", {"username": "alice", "password": "alice-password"}).status == 200
    g.stop()


def test_trusted_proxy_forwarded_for_names_the_client(env):
    """Behind a trusted proxy (127.0.0.1 here) the throttle and the access log
    see the client X-Forwarded-For names; a client's own additions to the
    header, and the header from an untrusted peer, count for nothing."""
    g = extra_gateway(env, ["--login-max-failures", "3", "--login-lockout", "30s", "--trusted-proxy", "192.0.2.1, 127.0.0.1"],
                      "web-proxy")
    bad = lambda i: {"username": "proxied%d" % i, "password": "x"}  # gpuaasd throttles per name too
    good = {"username": "alice", "password": "alice-password"}
    for i in range(3):  # one client, who also tries to pass as another one
        r = call(g, "POST", "/api/v1/login", bad(i), headers={"X-Forwarded-For": "203.0.113.77, 198.51.100.1"})
        assert r.status == 401
    r = call(g, "POST", "/api/v1/login", good, headers={"X-Forwarded-For": "198.51.100.1"})
    assert r.status == 429 and r.code() == "RATE_LIMITED"
    r = call(g, "POST", "/api/v1/login", good, headers={"X-Forwarded-For": "203.0.113.77, 198.51.100.1"})
    assert r.status == 429
    # Other clients behind the same proxy, and the proxy itself, log in.
    assert call(g, "POST", "/api/v1/login", good, headers={"X-Forwarded-For": "198.51.100.2"}).status == 200
    assert call(g, "POST", "/api/v1/login", good, headers={"X-Forwarded-For": "2001:db8::9"}).status == 200
    assert call(g, "POST", "/api/v1/login", good).status == 200
    g.stop()
    assert "client=198.51.100.1" in g.read_log()

    # Without --trusted-proxy the header is ignored: every failure is the peer's.
    g = extra_gateway(env, ["--login-max-failures", "3", "--login-lockout", "30s"], "web-noproxy")
    for i in range(3):
        r = call(g, "POST", "/api/v1/login", bad(10 + i), headers={"X-Forwarded-For": "198.51.100.%d" % (10 + i)})
        assert r.status == 401
    r = call(g, "POST", "/api/v1/login", good, headers={"X-Forwarded-For": "198.51.100.99"})
    assert r.status == 429
    g.stop()


def test_trusted_proxy_bad_value_refused(env):
    for value in ("localhost", "10.0.0.0/8", "127.0.0.1,"):
        p = subprocess.run([GPUAAS_WEB, "--socket", env.d.sock, "--trusted-proxy", value, "--check-config"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2 and "--trusted-proxy" in p.stderr, (value, p.returncode, p.stderr)


# ---- error statuses ---------------------------------------------------------------------------

def announce_big_body(web, token):
    """Headers announcing 2 MiB: the answer comes before any of it is sent."""
    c = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        c.putrequest("POST", "/api/v1/jobs")
        c.putheader("Authorization", "Bearer " + token)
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", str(2 << 20))
        c.endheaders()
        r = c.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        c.close()


def test_error_statuses(env):
    w, al = env.web, env.alice
    cases = [
        (call(w, "POST", "/api/v1/jobs", raw_body=b"{nope", token=al, headers={"Content-Type": "application/json"}),
         400, "BAD_REQUEST"),
        (call(w, "POST", "/api/v1/jobs", raw_body=b'{"a":1,"a":2}', token=al,
              headers={"Content-Type": "application/json"}), 400, "BAD_REQUEST"),
        (call(w, "POST", "/api/v1/jobs", raw_body=b"[1]", token=al, headers={"Content-Type": "application/json"}),
         400, "BAD_REQUEST"),
        (call(w, "GET", "/api/v1/jobs?limit=abc", token=al), 400, "BAD_REQUEST"),
        (call(w, "GET", "/api/v1/jobs?limit=%zz", token=al), 400, "BAD_REQUEST"),
        (call(w, "POST", "/api/v1/jobs", {"gpu_type": "H100"}, token=al), 400, "BAD_REQUEST"),
        (call(w, "GET", "/api/v1/jobs"), 401, "UNAUTHENTICATED"),
        (call(w, "GET", "/api/v1/users", token=al), 403, "FORBIDDEN"),
        (call(w, "POST", "/api/v1/jobs", {"gpu_type": "A100", "gpu_count": 2, "time_limit": 86400}, token=al),
         403, "QUOTA_EXCEEDED"),
        (call(w, "GET", "/api/v1/nope", token=al), 404, "NOT_FOUND"),
        (call(w, "GET", "/api/v1/jobs/abc", token=al), 404, "NOT_FOUND"),
        (call(w, "GET", "/api/v1/jobs/999999", token=al), 404, "NOT_FOUND"),
        (call(w, "PUT", "/api/v1/jobs", token=al), 405, "BAD_REQUEST"),
        (call(w, "POST", "/api/v1/users", {"username": "alice", "password": "x-password"}, token=env.admin), 409,
         "CONFLICT"),
        (announce_big_body(w, al), 413, "BAD_REQUEST"),
        (call(w, "POST", "/api/v1/jobs", raw_body=b"gpu_type=T4", token=al,
              headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "BAD_REQUEST"),
    ]
    for r, status, code in cases:
        assert (r.status, r.code()) == (status, code), (status, r.status, r.body[:200])
        assert r.header("Content-Type") == "application/json"
        for h in SECURITY_HEADERS:
            assert r.header(h), (status, h)
    assert cases[12][0].header("Allow") == "GET, HEAD, POST"
    # 413 for a chunked body too, read no further than needed.
    c = http.client.HTTPConnection("127.0.0.1", w.port, timeout=10)
    c.putrequest("POST", "/api/v1/jobs")
    c.putheader("Authorization", "Bearer " + al)
    c.putheader("Content-Type", "application/json")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for _ in range(20):
        c.send(b"10000\r\n" + b" " * 0x10000 + b"\r\n")
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    assert r.status == 413
    c.close()


def test_rate_limited_by_gpuaasd_is_429_with_retry_after(env):
    for _ in range(5):
        call(env.web, "POST", "/api/v1/login", {"username": "bob", "password": "wrong"})
    r = call(env.web, "POST", "/api/v1/login", {"username": "bob", "password": "wrong"})
    assert r.status == 429 and r.code() == "RATE_LIMITED" and int(r.header("Retry-After")) >= 1


class FakeDaemon:
    """A stand-in gpuaasd on a Unix socket answering each op as told, for
    the statuses the real one gives only on failures (INTERNAL, UNAVAILABLE)."""

    def __init__(self, path, answers):
        self.answers = answers
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(16)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        buf = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
                n = int.from_bytes(buf[:4], "big")
                req, buf = json.loads(buf[4:4 + n]), buf[4 + n:]
                answer = self.answers.get(req["op"], ("BAD_REQUEST", "unknown op"))
                if isinstance(answer, bytes):
                    conn.sendall(frame(answer))
                else:
                    conn.sendall(frame({"id": req["id"], "ok": False,
                                        "error": {"code": answer[0], "message": answer[1]}}))

    def close(self):
        self.srv.close()


def test_error_mapping_of_every_code(tmp_path):
    fake = FakeDaemon(str(tmp_path / "fake.sock"), {
        "job.list": ("INTERNAL", "a bug"), "gpu.list": ("UNAVAILABLE", "database is locked"),
        "auth.whoami": ("RATE_LIMITED", "too many waiting requests; try again in 7s"),
        "job.get": ("CONFLICT", "no"), "quota.get": b"this is not JSON", "usage.report": ("FORBIDDEN", "admins only"),
        "user.list": ("QUOTA_EXCEEDED", "over"), "rule.list": ("NOT_FOUND", "none"),
        "event.list": ("UNAUTHENTICATED", "expired"), "job.logs": ("BAD_REQUEST", "offset")})
    web = Gateway(tmp_path, str(tmp_path / "fake.sock")).start()
    try:
        tok = "a.b.c"
        for path, status, code in (("/api/v1/jobs", 500, "INTERNAL"), ("/api/v1/gpus", 503, "UNAVAILABLE"),
                                   ("/api/v1/me", 429, "RATE_LIMITED"), ("/api/v1/jobs/1", 409, "CONFLICT"),
                                   ("/api/v1/usage", 403, "FORBIDDEN"), ("/api/v1/users", 403, "QUOTA_EXCEEDED"),
                                   ("/api/v1/rules", 404, "NOT_FOUND"), ("/api/v1/events", 401, "UNAUTHENTICATED"),
                                   ("/api/v1/jobs/1/logs", 400, "BAD_REQUEST"), ("/api/v1/quota", 502, "UNAVAILABLE")):
            r = call(web, "GET", path, token=tok)
            assert (r.status, r.code()) == (status, code), (path, r.status, r.body)
            if status in (429, 502, 503):
                assert int(r.header("Retry-After")) >= 1
            if status == 401:
                assert r.header("WWW-Authenticate")
        assert call(web, "GET", "/api/v1/me", token=tok).header("Retry-After") == "7"
        # The connection the garbage came on was dropped; the next calls work.
        assert call(web, "GET", "/api/v1/jobs", token=tok).status == 500
    finally:
        web.stop()
        fake.close()


def test_gpuaasd_down_is_502_then_recovers(tmp_path):
    d = Daemon(tmp_path, name="gone")
    d.start()
    web = Gateway(tmp_path, d.sock).start()
    try:
        tok = login(web, "admin", ADMIN_PW).json()["token"]
        assert call(web, "GET", "/healthz").status == 200
        d.stop()
        r = call(web, "GET", "/api/v1/jobs", token=tok)
        assert r.status == 502 and r.code() == "UNAVAILABLE" and r.header("Retry-After")
        r = call(web, "GET", "/healthz")
        assert r.status == 503 and r.code() == "UNAVAILABLE" and r.header("Retry-After")
        m = call(web, "GET", "/metrics").body.decode()
        assert "\ngpuaas_up 0\n" in m
        d.start()
        assert call(web, "GET", "/api/v1/jobs", token=tok).status == 200
        assert "\ngpuaas_up 1\n" in call(web, "GET", "/metrics").body.decode()
    finally:
        web.stop()
        d.stop()


# ---- static files ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(env):
    root = env.tmp / "site"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>gpuaas</title>" + "<p>hello</p>" * 100)
    (root / "app.js").write_text("console.log('gpuaas');\n" * 200)
    (root / "style.css").write_text("body { color: black }\n")
    (root / "pre.css").write_text("p { margin: 0 }\n" * 50)
    with gzip.open(root / "pre.css.gz", "wb") as f:
        f.write(b"p { margin: 0 }\n" * 50)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (root / "sub" / "index.html").write_text("<p>sub</p>")
    (root / ".secret").write_text("hidden")
    (env.tmp / "outside.txt").write_text("outside the root")
    os.symlink(str(env.tmp / "outside.txt"), str(root / "leak.txt"))
    os.symlink("/etc/passwd", str(root / "passwd"))
    os.symlink("app.js", str(root / "alias.js"))
    return extra_gateway(env, ["--web-root", str(root)], "web-static")


def test_static_files_mime_etag_gzip(site):
    r = call(site, "GET", "/")
    assert r.status == 200 and r.header("Content-Type").startswith("text/html") and b"gpuaas" in r.body
    for path, mime in (("/app.js", "text/javascript"), ("/style.css", "text/css"), ("/logo.png", "image/png"),
                       ("/sub/", "text/html"), ("/alias.js", "text/javascript")):
        r = call(site, "GET", path)
        assert r.status == 200 and r.header("Content-Type").startswith(mime), (path, r.status, r.headers)
        for h in SECURITY_HEADERS:
            assert r.header(h)
    etag = call(site, "GET", "/app.js").header("ETag")
    assert etag and etag.startswith('"')
    r = call(site, "GET", "/app.js", headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b"" and r.header("ETag") == etag
    r = call(site, "GET", "/app.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.header("Content-Encoding") == "gzip" and r.header("Vary") == "Accept-Encoding"
    assert gzip.decompress(r.body) == ("console.log('gpuaas');\n" * 200).encode()
    assert r.header("ETag") != etag
    assert call(site, "GET", "/app.js", headers={"Accept-Encoding": "gzip;q=0"}).header("Content-Encoding") is None
    r = call(site, "GET", "/pre.css", headers={"Accept-Encoding": "gzip"})
    assert r.header("Content-Encoding") == "gzip" and gzip.decompress(r.body) == b"p { margin: 0 }\n" * 50
    r = call(site, "GET", "/sub")
    assert r.status == 301 and r.header("Location") == "/sub/"
    assert call(site, "HEAD", "/app.js").status == 200
    assert call(site, "POST", "/app.js").status == 405


def test_path_traversal_is_refused(site):
    for target in ("/../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/%2E%2E/etc/passwd", "/sub/../../outside.txt",
                   "/sub/..%2f..%2foutside.txt", "/..%5c..%5coutside.txt", "/.secret", "/%2esecret", "/./index.html",
                   "/leak.txt", "/passwd", "//etc/passwd", "/sub/%00/x", "/%c0%ae%c0%ae/outside.txt",
                   "/sub/%2e%2e/%2e%2e/outside.txt", "/..", "/index.html%00.png"):
        status, out = raw_status(site, target)
        assert status in (400, 404), (target, status, out[:300])
        assert b"outside the root" not in out and b"root:" not in out and b"hidden" not in out, target


# ---- headers, CORS, HEAD -----------------------------------------------------------------------

def test_security_headers_and_cors(env):
    for r in (call(env.web, "GET", "/healthz"), call(env.web, "GET", "/nope.html"),
              call(env.web, "GET", "/metrics"), call(env.web, "DELETE", "/api/v1/gpus", token=env.alice)):
        csp = r.header("Content-Security-Policy")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.header("X-Content-Type-Options") == "nosniff" and r.header("Referrer-Policy") == "no-referrer"
        assert r.header("Strict-Transport-Security") is None  # plain HTTP
        assert r.header("Access-Control-Allow-Origin") is None
    origin = "https://dash.example.org"
    g = extra_gateway(env, ["--cors-origin", origin], "web-cors")
    r = call(g, "GET", "/api/v1/me", token=env.alice, headers={"Origin": origin})
    assert r.header("Access-Control-Allow-Origin") == origin and r.header("Access-Control-Allow-Credentials") == "true"
    assert call(g, "GET", "/api/v1/me", token=env.alice, headers={"Origin": "https://evil.example"}).header(
        "Access-Control-Allow-Origin") is None
    r = call(g, "OPTIONS", "/api/v1/jobs", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert r.status == 204 and "POST" in r.header("Access-Control-Allow-Methods")
    assert "X-CSRF-Token" in r.header("Access-Control-Allow-Headers")
    g.stop()
    p = subprocess.run([GPUAAS_WEB, "--cors-origin", "*", "--check-config"], capture_output=True, text=True)
    assert p.returncode == 2 and "never *" in p.stderr


def test_head_requests(env):
    r = call(env.web, "HEAD", "/api/v1/gpus", token=env.alice)
    assert r.status == 200 and r.body == b"" and int(r.header("Content-Length")) > 0


# ---- limits -----------------------------------------------------------------------------------

def test_slowloris_and_huge_headers_cost_nothing_lasting(env):
    g = extra_gateway(env, ["--request-timeout", "2s"], "web-slow")
    slow = []
    for _ in range(30):
        s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    t0 = time.monotonic()
    for i in range(6):  # a header byte every half second keeps libmicrohttpd's idle timer happy
        for s in slow:
            try:
                s.sendall(b"X")
            except OSError:
                pass
        r = call(g, "GET", "/healthz", timeout=5)
        assert r.status == 200
        time.sleep(0.5)

    def closed(s):
        s.settimeout(0.01)
        try:
            return s.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    wait_for(lambda: all(closed(s) for s in slow), 6, "the slow connections to be cut")
    assert time.monotonic() - t0 < 10
    for s in slow:
        s.close()
    rss = g.rss_kib()
    for _ in range(3):  # 1 MiB of header: refused (431) or cut, never buffered
        out = raw(g, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
        assert not out.startswith(b"HTTP/1.1 200"), out[:100]
    out = raw(g, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-H: y\r\n" * 20000 + b"\r\n")
    assert not out.startswith(b"HTTP/1.1 200")
    assert call(g, "GET", "/healthz").status == 200
    if not SANITIZED:
        assert g.rss_kib() - rss < 8 * 1024, (rss, g.rss_kib())
    g.stop()


def test_2000_idle_connections(env):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    g = extra_gateway(env, ["--request-timeout", "60s", "--max-connections", "4096"], "web-idle")
    socks = []
    try:
        for _ in range(2000):
            socks.append(socket.create_connection(("127.0.0.1", g.port), timeout=10))

        def open_count():
            m = re.search(r"\ngpuaas_http_connections (\d+)\n", call(g, "GET", "/metrics").body.decode())
            return int(m.group(1)) >= 2000

        wait_for(open_count, 20, "the gateway to hold 2,000 connections")
        t0 = time.monotonic()
        r = call(g, "GET", "/api/v1/gpus", token=env.alice)
        assert r.status == 200 and time.monotonic() - t0 < 1.0
        rss = g.rss_kib()
        print("gateway RSS with 2,000 idle connections: %d KiB" % rss)
        if not SANITIZED:
            assert rss < 32 * 1024, rss
    finally:
        for s in socks:
            s.close()
    g.stop()


# ---- the event stream ---------------------------------------------------------------------------

def test_event_stream_live_resume_and_heartbeat(env):
    st = Stream(env.web, env.alice)
    assert st.resp.status == 200 and st.resp.getheader("Content-Type") == "text/event-stream"
    assert st.resp.getheader("Cache-Control") == "no-store"
    jid = submit(env, env.alice, name="streamed")
    ev = st.next_event(job=jid)
    assert ev["event"] == "job.submitted" and ev["id"] == ev["data"]["seq"] and ev["data"]["user"] == "alice"
    call(env.web, "POST", "/api/v1/jobs/%d/cancel" % jid, token=env.alice)
    ev2 = st.next_event(job=jid)
    assert ev2["event"] == "job.cancelled" and ev2["id"] > ev["id"]
    # A quiet stream gets a comment (--sse-heartbeat 1s here).
    t0 = time.monotonic()
    while st.next_block() != [": heartbeat"]:
        assert time.monotonic() - t0 < 5
    st.close()
    # Bob's events are never alice's.
    bobs = submit(env, env.bob, name="not-for-alice")
    # Resume after the first event: the cancel comes again.
    st = Stream(env.web, env.alice, path="/api/v1/events/stream?job=%d" % jid,
                headers={"Last-Event-ID": str(ev["id"])})
    again = st.next_event()
    assert again["id"] == ev2["id"] and again["event"] == "job.cancelled"
    st.close()
    st = Stream(env.web, env.alice, path="/api/v1/events/stream?since=%d" % ev["id"])
    seen = []
    while not seen or seen[-1]["id"] < ev2["id"]:
        seen.append(st.next_event())
    assert ev2["id"] in [e["id"] for e in seen] and all(e["data"]["job_id"] != bobs for e in seen)
    st.close()
    r = call(env.web, "GET", "/api/v1/events/stream")
    assert r.status == 401


def test_event_streams_do_not_hold_up_other_requests(env):
    streams = [Stream(env.web, tok) for tok in (env.alice, env.bob, env.admin)]
    try:
        for _ in range(20):
            t0 = time.monotonic()
            assert call(env.web, "GET", "/api/v1/quota", token=env.alice).status == 200
            assert time.monotonic() - t0 < 0.5
    finally:
        for s in streams:
            s.close()


def test_a_slow_login_holds_up_nothing_else(tmp_path):
    """Logins hash a password (cost 12: about 200 ms); replies on one gpuaasd
    connection come in order, so they go on a lane of their own."""
    d = Daemon(tmp_path, args=["--bcrypt-cost", "12"], name="slow")
    d.start()
    web = Gateway(tmp_path, d.sock).start()
    try:
        tok = login(web, "admin", ADMIN_PW).json()["token"]
        done = []

        def logins():
            for _ in range(3):
                t0 = time.monotonic()
                login(web, "admin", ADMIN_PW)
                done.append(time.monotonic() - t0)

        t = threading.Thread(target=logins)
        t.start()
        slowest = 0
        while t.is_alive():
            t0 = time.monotonic()
            assert call(web, "GET", "/api/v1/quota", token=tok).status == 200
            slowest = max(slowest, time.monotonic() - t0)
        t.join()
        print("logins took %s s; the slowest quota meanwhile %.3f s" % (["%.3f" % x for x in done], slowest))
        assert slowest < min(done) / 2, (slowest, done)
    finally:
        web.stop()
        d.stop()


def test_event_stream_cap(env):
    g = extra_gateway(env, ["--max-sse-clients", "2"], "web-cap")
    a, b = Stream(g, env.alice), Stream(g, env.bob)
    assert a.resp.status == b.resp.status == 200
    r = call(g, "GET", "/api/v1/events/stream", token=env.admin)
    assert r.status == 503 and r.code() == "UNAVAILABLE" and r.header("Retry-After")
    a.close()  # the gateway notices the hang-up at once, not at the next heartbeat

    def third():
        c = Stream(g, env.admin)
        ok = c.resp.status == 200
        c.close()
        return ok

    wait_for(third, 5, "a stream slot to free up")
    b.close()
    g.stop()


def test_event_stream_survives_gpuaasd_restart(tmp_path):
    d = Daemon(tmp_path, name="rs")
    d.start()
    web = Gateway(tmp_path, d.sock).start()
    try:
        tok = login(web, "admin", ADMIN_PW).json()["token"]
        call(web, "POST", "/api/v1/users/admin/quota", {"set": 360000}, token=tok)
        st = Stream(web, tok, timeout=20)
        first = call(web, "POST", "/api/v1/jobs", {"gpu_type": "T4", "time_limit": 60}, token=tok).json()["id"]
        ev = st.next_event()
        assert ev["data"]["job_id"] == first
        d.stop()
        d.start()
        second = call(web, "POST", "/api/v1/jobs", {"gpu_type": "T4", "time_limit": 60}, token=tok).json()["id"]
        ev2 = st.next_event(timeout=15)
        assert ev2["data"]["job_id"] == second and ev2["id"] == ev["id"] + 1
        st.close()
    finally:
        web.stop()
        d.stop()


# ---- following a job's output -------------------------------------------------------------------

@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """gpuaasd running real commands (the local executor), so that jobs
    write output, and a gateway with room for 2 event streams and 2 log
    follows."""
    e = start_env(tmp_path_factory.mktemp("logs"), ["--executor", "local", "--gpus", "T4:8", "--kill-grace", "1s"], "ld",
                  ["--max-sse-clients", "2"], "web-logs")
    yield e
    stop_env(e)


def running(env, *command):
    """A job of alice's running command (approved by the admin)."""
    jid = submit(env, env.alice, command=list(command), time_limit=120)
    assert call(env.web, "POST", "/api/v1/jobs/%d/approve" % jid, token=env.admin).status == 200
    env.d.wait_state(jid, "RUNNING", "COMPLETED")
    return jid


class Follow:
    """A log follow on a connection of its own, answered later."""

    def __init__(self, web, token, jid, query="", timeout=40):
        self.s = socket.create_connection(("127.0.0.1", web.port), timeout=timeout)
        self.s.sendall(("GET /api/v1/jobs/%d/logs?follow=1%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                        "Connection: close\r\n\r\n" % (jid, query, token)).encode())
        self.t0 = time.monotonic()

    def answer(self):
        """(status, JSON body, seconds since sent) once the gateway answers and closes."""
        out = b""
        while True:
            chunk = self.s.recv(65536)
            if not chunk:
                break
            out += chunk
        head, _, body = out.partition(b"\r\n\r\n")
        self.close()
        return int(head.split()[1]), json.loads(body), time.monotonic() - self.t0

    def close(self):
        self.s.close()


def gauge(web, name):
    m = re.search(r"^%s (\d+)$" % name, call(web, "GET", "/metrics").body.decode(), re.M)
    return int(m.group(1))


def open_fds(web):
    return len(os.listdir("/proc/%d/fd" % web.proc.pid))


def test_log_follow_answers_as_soon_as_output_appears(logs):
    jid = running(logs, "sh", "-c", "sleep 1.5; echo hello; sleep 1; echo world")
    f = Follow(logs.web, logs.alice, jid, "&offset=0&timeout=20")
    status, r, took = f.answer()
    # Parked until the job wrote (1.5 s after it started), not until the timeout.
    assert status == 200 and r["data"] == "hello\n" and r["eof"] is False, r
    assert took < 5, took
    t0 = time.monotonic()
    r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1&offset=%d" % (jid, r["offset"]), token=logs.alice,
             timeout=30).json()
    assert r["data"] == "world\n" and time.monotonic() - t0 < 5, r
    # The job ends: the next follow answers eof as soon as it has.
    r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1&offset=%d" % (jid, r["offset"]), token=logs.alice,
             timeout=30).json()
    assert r == {"id": jid, "data": "", "offset": 12, "eof": True}, r
    # A finished job's follow answers at once, with what there is.
    t0 = time.monotonic()
    r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=yes&offset=6" % jid, token=logs.alice).json()
    assert r["data"] == "world\n" and time.monotonic() - t0 < 1, r
    # Nothing new before the timeout: an empty answer at the timeout, not an error.
    quiet = running(logs, "sleep", "60")
    t0 = time.monotonic()
    r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1&timeout=1" % quiet, token=logs.alice).json()
    assert r == {"id": quiet, "data": "", "offset": 0, "eof": False} and 0.9 < time.monotonic() - t0 < 5, r
    for bad in ("follow=1&timeout=0", "follow=1&timeout=x", "follow=maybe", "follow=1&timeout=3601"):
        r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?%s" % (quiet, bad), token=logs.alice)
        assert r.status == 400 and r.code() == "BAD_REQUEST", (bad, r.status)
    call(logs.web, "POST", "/api/v1/jobs/%d/cancel" % quiet, token=logs.alice)


def test_log_follow_of_another_users_job_is_not_found(logs):
    jid = running(logs, "sleep", "60")
    t0 = time.monotonic()
    r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1" % jid, token=logs.bob)
    assert r.status == 404 and r.code() == "NOT_FOUND" and time.monotonic() - t0 < 1, r.status
    r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1" % jid)
    assert r.status == 401
    call(logs.web, "POST", "/api/v1/jobs/%d/cancel" % jid, token=logs.alice)


def test_parked_log_follows_hold_up_nothing_else(logs):
    jid = running(logs, "sleep", "60")
    fds = open_fds(logs.web)
    follows = [Follow(logs.web, logs.alice, jid), Follow(logs.web, logs.admin, jid)]
    try:
        wait_for(lambda: gauge(logs.web, "gpuaas_log_follows") == 2, 5, "two follows parked")
        slowest = 0
        for _ in range(20):
            t0 = time.monotonic()
            assert call(logs.web, "GET", "/api/v1/jobs/%d" % jid, token=logs.alice).status == 200
            assert call(logs.web, "GET", "/api/v1/jobs/%d/logs" % jid, token=logs.alice).status == 200
            slowest = max(slowest, time.monotonic() - t0)
        assert slowest < 0.5, slowest
        # An event stream has its own cap: the follows do not take its slots.
        st = Stream(logs.web, logs.bob)
        assert st.resp.status == 200
        st.close()
    finally:
        for f in follows:
            f.close()
    # Clients that hang up free their follow and its connection to gpuaasd at
    # once, not at the follow's timeout.
    wait_for(lambda: gauge(logs.web, "gpuaas_log_follows") == 0, 3, "the follows to be freed")
    wait_for(lambda: open_fds(logs.web) <= fds, 3, lambda: "gateway descriptors back to %d (%d)" % (fds, open_fds(logs.web)))
    call(logs.web, "POST", "/api/v1/jobs/%d/cancel" % jid, token=logs.alice)


def test_log_follow_cap(logs):
    jid = running(logs, "sleep", "60")
    a, b = Follow(logs.web, logs.alice, jid), Follow(logs.web, logs.alice, jid)
    try:
        wait_for(lambda: gauge(logs.web, "gpuaas_log_follows") == 2, 5, "two follows parked")
        r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1" % jid, token=logs.alice)
        assert r.status == 503 and r.code() == "UNAVAILABLE" and int(r.header("Retry-After")) >= 1, r.status
        # Without follow the route does not park, and is not capped.
        assert call(logs.web, "GET", "/api/v1/jobs/%d/logs" % jid, token=logs.alice).status == 200
        a.close()
        wait_for(lambda: gauge(logs.web, "gpuaas_log_follows") == 1, 3, "a follow slot to free up")
        r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1&timeout=1" % jid, token=logs.alice)
        assert r.status == 200 and r.json()["eof"] is False
    finally:
        a.close()
        b.close()
    call(logs.web, "POST", "/api/v1/jobs/%d/cancel" % jid, token=logs.alice)


def test_log_follow_gets_an_answer_when_gpuaasd_goes_away(logs):
    # Stopped cleanly, gpuaasd ends its local jobs first: the follow gets their end.
    jid = running(logs, "sleep", "60")
    f = Follow(logs.web, logs.alice, jid)
    wait_for(lambda: gauge(logs.web, "gpuaas_log_follows") == 1, 5, "the follow parked")
    logs.d.stop()
    logs.d.start()
    status, r, took = f.answer()
    assert status == 200 and r["eof"] is True and took < 10, (status, r, took)
    # Killed, it answers nothing: the follow gets 502 when its connection
    # closes, not a hang until the gateway's own limit.
    jid = running(logs, "sleep", "60")
    f = Follow(logs.web, logs.alice, jid)
    wait_for(lambda: gauge(logs.web, "gpuaas_log_follows") == 1, 5, "the follow parked")
    logs.d.kill9()
    try:
        status, r, took = f.answer()
        assert status == 502 and r["error"]["code"] == "UNAVAILABLE" and took < 5, (status, r, took)
    finally:
        logs.d.start()
    # Back: the job was lost with the daemon, and following it answers at once.
    r = call(logs.web, "GET", "/api/v1/jobs/%d/logs?follow=1" % jid, token=logs.alice, timeout=30)
    assert r.status == 200 and r.json()["eof"] is True, (r.status, r.body)
    assert gauge(logs.web, "gpuaas_log_follows") == 0


def test_log_follow_is_answered_when_the_gateway_stops(logs):
    jid = running(logs, "sleep", "60")
    g = Gateway(logs.tmp, logs.d.sock, [], "web-logs-stop").start()
    f = Follow(g, logs.alice, jid)
    wait_for(lambda: gauge(g, "gpuaas_log_follows") == 1, 5, "the follow parked")
    g.stop()   # exits 0, without a sanitizer report
    status, r, took = f.answer()
    assert status == 503 and r["error"]["code"] == "UNAVAILABLE", (status, r)
    call(logs.web, "POST", "/api/v1/jobs/%d/cancel" % jid, token=logs.alice)


# ---- metrics and Prometheus --------------------------------------------------------------------

def test_metrics_are_aggregates_and_can_be_protected(env):
    text = call(env.web, "GET", "/metrics").body.decode()
    for name in ("gpuaas_up 1", 'gpuaas_gpus{type="A100",state="total"} 2', 'gpuaas_jobs{state="PENDING",type="T4"}',
                 "gpuaas_queue_depth", "gpuaas_oldest_pending_age_seconds", "gpuaas_events_total",
                 "gpuaas_http_requests_total{route=\"/api/v1/jobs\",method=\"POST\",code=\"201\"}",
                 "gpuaas_http_request_duration_seconds_bucket", "gpuaas_sse_clients"):
        assert name in text, name
    for user in ("alice", "bob", "admin"):
        assert user not in text
    g = extra_gateway(env, ["--metrics-token", "s3cret-metrics"], "web-metrics")
    r = call(g, "GET", "/metrics")
    assert r.status == 401 and r.header("WWW-Authenticate")
    assert call(g, "GET", "/metrics", headers={"Authorization": "Bearer wrong"}).status == 401
    r = call(g, "GET", "/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert r.status == 200 and r.header("Content-Type").startswith("text/plain; version=0.0.4")
    g.stop()
    assert "s3cret-metrics" not in g.read_log()


def test_prometheus_scrapes_the_same_gpu_counts_as_gpuctl(env):
    prom = shutil.which("prometheus")
    if not prom:
        pytest.skip("prometheus is not installed (Debian package 'prometheus'): the scrape test cannot run")
    # Something busy, so that the numbers are not all totals.
    call(env.web, "POST", "/api/v1/users/admin/quota", {"set": 10 ** 7}, token=env.admin)
    jid = submit(env, env.admin, gpu_type="V100", time_limit=86400)
    call(env.web, "POST", "/api/v1/jobs/%d/approve" % jid, token=env.admin)
    env.d.wait_state(jid, "RUNNING")
    port = free_port()
    cfg = env.tmp / "prometheus.yml"
    cfg.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                   "  - job_name: gpuaas\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % env.web.port)
    log = open(env.tmp / "prometheus.log", "wb")
    p = subprocess.Popen([prom, "--config.file=" + str(cfg), "--storage.tsdb.path=" + str(env.tmp / "prom-data"),
                          "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"], stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        want, seen = {}, {}

        def scraped():
            # Other tests' jobs may still be ending: compare what both say now.
            want.clear()
            for g in env.d.json("gpus")["gpus"]:
                for state in ("total", "busy", "free"):
                    want[(g["type"], state)] = g[state]
            assert want[("V100", "busy")] >= 1
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                c.request("GET", "/api/v1/query?query=gpuaas_gpus")
                data = json.loads(c.getresponse().read())
            except (OSError, ValueError):
                return False
            finally:
                c.close()
            seen.clear()
            for s in data.get("data", {}).get("result", []):
                seen[(s["metric"]["type"], s["metric"]["state"])] = int(float(s["value"][1]))
            return seen == want

        wait_for(scraped, 30, lambda: "Prometheus to report %s (it reports %s)" % (want, seen))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(20)
        log.close()
        call(env.web, "POST", "/api/v1/jobs/%d/cancel" % jid, token=env.admin)


# ---- TLS, config, socket activation, units, man page -------------------------------------------

def test_tls_secure_cookie_and_hsts(env):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: no certificate for the TLS test")
    crt, key = str(env.tmp / "tls.crt"), str(env.tmp / "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    g = extra_gateway(env, ["--tls-cert", crt, "--tls-key", key], "web-tls")
    p = subprocess.run(["curl", "-sk", "-D", "-", "-X", "POST", "https://127.0.0.1:%d/api/v1/login" % g.port,
                        "-H", "Content-Type: application/json", "--data",
                        json.dumps({"username": "alice", "password": "alice-password"})],
                       capture_output=True, text=True, timeout=30)
    head = p.stdout.lower()
    assert "http/1.1 200" in head and "strict-transport-security: max-age=" in head
    assert re.search(r"set-cookie: gpuaas_session=[^\r\n]*; secure", head), head
    g.stop()


def test_config_file_and_check_config(env):
    conf = env.tmp / "web.conf"
    conf.write_text("# gateway\nmax_sse_clients = 1\nsse_heartbeat = 5s\nlisten = 127.0.0.1:0\n")
    g = extra_gateway(env, ["--config", str(conf)], "web-conf")
    a = Stream(g, env.alice)
    assert call(g, "GET", "/api/v1/events/stream", token=env.bob).status == 503
    a.close()
    g.stop()
    p = subprocess.run([GPUAAS_WEB, "--config", str(conf), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0 and "configuration OK" in p.stdout
    conf.write_text("no_such_key = 1\n")
    p = subprocess.run([GPUAAS_WEB, "--config", str(conf)], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown key" in p.stderr
    p = subprocess.run([GPUAAS_WEB, "--max-connections", "0"], capture_output=True, text=True)
    assert p.returncode == 2
    # SIGHUP takes the file's log_level.
    conf.write_text("log_level = info\n")
    g = extra_gateway(env, ["--config", str(conf)], "web-hup", debug=False)
    call(g, "GET", "/healthz")
    assert "event=http.request" not in g.read_log()
    conf.write_text("log_level = debug\n")
    g.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "event=web.reloaded" in g.read_log(), 5, "the reload")
    call(g, "GET", "/healthz")
    wait_for(lambda: "event=http.request" in g.read_log(), 5, "a request logged at debug level")
    g.stop()


@pytest.mark.skipif(not shutil.which("systemd-socket-activate"), reason="systemd-socket-activate not installed")
def test_socket_activation(env):
    port = free_port()
    log = open(env.tmp / "act-web.log", "wb")
    act = subprocess.Popen(["systemd-socket-activate", "-l", "127.0.0.1:%d" % port, GPUAAS_WEB, "--socket",
                            env.d.sock], stdout=log, stderr=subprocess.STDOUT)
    try:
        def up():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                return c.getresponse().status == 200
            except OSError:
                return False

        wait_for(up, 15, "the socket-activated gateway to answer")
    finally:
        act.send_signal(signal.SIGTERM)
        act.wait(15)
        log.close()
    assert "addr=127.0.0.1:%d" % port in open(env.tmp / "act-web.log").read()


def unit_text(name):
    with open(os.path.join(ROOT, "systemd", name)) as f:
        return f.read().replace("@SBINDIR@", os.path.dirname(GPUAAS_WEB))


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_units_verify_and_security_score(tmp_path):
    for name in ("gpuaas-web.service", "gpuaas-web.socket"):
        (tmp_path / name).write_text(unit_text(name))
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "gpuaas-web.socket"),
                        str(tmp_path / "gpuaas-web.service")], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    unit_dir = tmp_path / "root" / "etc" / "systemd" / "system"
    unit_dir.mkdir(parents=True)
    for name in ("gpuaas-web.service", "gpuaas-web.socket"):
        (unit_dir / name).write_text(unit_text(name))
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--root=" + str(tmp_path / "root"),
                        "gpuaas-web.service"], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for gpuaas-web.service: ([0-9.]+)", p.stdout + p.stderr)
    assert m, p.stdout + p.stderr
    print("systemd-analyze security gpuaas-web.service: %s" % m.group(1))
    assert float(m.group(1)) <= 2.0
    svc = unit_text("gpuaas-web.service")
    for line in ("DynamicUser=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "Type=notify"):
        assert line in svc


def test_install_and_man_page_agree_with_help(tmp_path):
    dest = tmp_path / "dest"
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", str(dest)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    files = {str(f.relative_to(dest)) for f in dest.rglob("*") if f.is_file()}
    for want in ("sbin/gpuaas-web", "lib/systemd/system/gpuaas-web.service", "lib/systemd/system/gpuaas-web.socket",
                 "share/man/man8/gpuaas-web.8"):
        assert any(f.endswith(want) for f in files), want
    with open(os.path.join(ROOT, "docs", "man", "gpuaas-web.8.scd")) as f:
        man = f.read()
    helptext = subprocess.run([GPUAAS_WEB, "--help"], capture_output=True, text=True).stdout
    for opt in set(re.findall(r"^  (--[a-z-]+)", helptext, re.M)):
        assert "*" + opt + "*" in man, opt
