"""The wire protocol against a raw socket: frames, envelopes, pipelining,
concurrency with hashing, socket ownership and restarts."""
import fcntl
import json
import os
import socket
import struct
import termios
import time

import pytest

from conftest import ADMIN_PW, SANITIZED, Raw, frame, wait_for


def test_ping_and_envelope(daemon):
    r = daemon.raw()
    resp = r.call("sys.ping", rid=42)
    assert resp["id"] == 42 and resp["ok"] is True and resp["data"]["pong"] is True
    # v omitted means 1; any other version is BAD_REQUEST.
    r.send({"id": 1, "op": "sys.ping"})
    assert r.recv()["ok"] is True
    r.send({"v": 2, "id": 3, "op": "sys.ping"})
    resp = r.recv()
    assert resp["ok"] is False and resp["error"]["code"] == "BAD_REQUEST" and resp["id"] == 3
    r.send({"v": 1, "id": 4, "op": "no.such"})
    resp = r.recv()
    assert resp["error"]["code"] == "BAD_REQUEST" and "unknown op" in resp["error"]["message"]
    r.send({"v": 1, "id": 5, "op": "auth.whoami"})
    assert r.recv()["error"]["code"] == "UNAUTHENTICATED"
    r.send({"v": 1, "id": 6, "op": "auth.whoami", "token": "garbage"})
    assert r.recv()["error"]["code"] == "UNAUTHENTICATED"
    r.send({"v": 1, "id": 7, "op": "sys.ping", "args": []})
    assert r.recv()["error"]["code"] == "BAD_REQUEST"
    r.send({"v": 1, "id": "x", "op": "sys.ping"})
    resp = r.recv()
    assert resp["error"]["code"] == "BAD_REQUEST" and resp["id"] is None
    # Case matters: "Op" is not "op".
    r.send({"v": 1, "id": 8, "Op": "sys.ping"})
    assert r.recv()["error"]["code"] == "BAD_REQUEST"
    r.close()


def test_garbage_json_keeps_connection(daemon):
    r = daemon.raw()
    for junk in (b"not json", b"{", b"[1,2]", b"{}{}", b"{} xyz", b'"str"', b"\xff\xfe", b'{"a":"\\u0000"}'):
        r.send(junk)
        resp = r.recv()
        assert resp["ok"] is False and resp["error"]["code"] == "BAD_REQUEST", junk
        assert resp["id"] is None
    assert r.call("sys.ping")["ok"] is True
    r.close()


@pytest.mark.parametrize("length", [0, 1024 * 1024 + 1, 0xFFFFFFFF])
def test_bad_frame_lengths_close(daemon, length):
    r = daemon.raw()
    r.s.sendall(struct.pack(">I", length) + b"{}")
    resp = r.recv()
    assert resp["ok"] is False and resp["error"]["code"] == "BAD_FRAME"
    assert r.closed()
    r.close()
    # The daemon is unharmed.
    r2 = daemon.raw()
    assert r2.call("sys.ping")["ok"] is True
    r2.close()


def test_max_size_frame_accepted(daemon):
    r = daemon.raw()
    body = json.dumps({"v": 1, "id": 9, "op": "sys.ping", "args": {"pad": "x" * (1024 * 1024 - 60)}})
    assert len(body) <= 1024 * 1024
    r.send(body)
    assert r.recv()["ok"] is True
    r.close()


def test_pipelined_requests_answered_in_order(daemon):
    tok = daemon.token()
    r = daemon.raw()
    ops = ["sys.ping", "auth.whoami", "quota.get", "gpu.list", "job.list"]
    data = b"".join(frame({"v": 1, "id": i, "op": ops[i % len(ops)], "token": tok}) for i in range(50))
    r.s.sendall(data)
    for i in range(50):
        resp = r.recv()
        assert resp["id"] == i and resp["ok"] is True, resp
    r.close()


def test_ping_fast_while_logins_hash(daemon_factory):
    # Real cost: each bcrypt takes ~50 ms here; eight logins keep the hashing
    # threads busy for a good while.
    d = daemon_factory(args=["--bcrypt-cost", "10"])
    clients = [Raw(d.sock) for _ in range(8)]
    t0 = time.monotonic()
    for c in clients:
        c.send({"v": 1, "id": 1, "op": "auth.login", "args": {"username": "admin", "password": ADMIN_PW}})
    p = Raw(d.sock)
    worst = 0.0
    for _ in range(10):
        s = time.monotonic()
        assert p.call("sys.ping")["ok"]
        worst = max(worst, time.monotonic() - s)
    pings_done = time.monotonic() - t0
    for c in clients:
        assert c.recv()["ok"] is True
        c.close()
    logins_done = time.monotonic() - t0
    p.close()
    # The pings were answered while hashing went on, each quickly.
    assert pings_done < logins_done
    assert worst < 0.1, "ping took %.3fs while logins hashed" % worst


def test_second_daemon_refused_on_live_socket(daemon_factory):
    d = daemon_factory()
    d2 = daemon_factory(name="d", start=False)
    d2.state = d.state + "-other"
    d2.start(wait=False)
    rc = d2.proc.wait(timeout=15)
    d2.log.close()
    assert rc != 0
    assert "already listening" in d2.read_log()
    r = d.raw()
    assert r.call("sys.ping")["ok"]
    r.close()


def test_restart_after_kill9_with_stale_socket(daemon_factory):
    d = daemon_factory()
    d.login()
    d.kill9()
    assert os.path.exists(d.sock)  # stale socket file left behind
    d.start()
    d.ok("whoami")  # same state dir, same key: the token still works


def test_sigterm_clean_stop_removes_socket(daemon_factory):
    d = daemon_factory()
    assert d.stop() == 0
    assert not os.path.exists(d.sock)


def test_half_frame_then_silence_closed(daemon_factory):
    d = daemon_factory(args=["--frame-timeout", "1"])
    r = d.raw()
    r.s.sendall(struct.pack(">I", 100) + b"{\"v\":")
    t0 = time.monotonic()
    assert r.closed()
    assert time.monotonic() - t0 < 5
    r.close()


def open_connections(d):
    """Client connections the daemon holds: its sockets but the listening one."""
    fd_dir = "/proc/%d/fd" % d.proc.pid
    n = 0
    for fd in os.listdir(fd_dir):
        try:
            n += os.readlink(os.path.join(fd_dir, fd)).startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return n - 1


def wait_connections(d, n):
    wait_for(lambda: open_connections(d) == n, 10,
             lambda: "the daemon to hold %d connections (it holds %d)" % (n, open_connections(d)))


def wait_consumed(r):
    """Waits until the daemon has read everything sent on r: on a Unix stream
    socket, SIOCOUTQ counts what the peer has not read yet."""
    def unread():
        return struct.unpack("i", fcntl.ioctl(r.s.fileno(), termios.TIOCOUTQ, struct.pack("i", 0)))[0]
    wait_for(lambda: unread() == 0, 10, "the daemon to read its request")


def test_many_connections_and_limit(daemon_factory):
    """--max-connections N (docs/PROTOCOL.md, "Limits the daemon enforces"): up to
    N connections are all served; at N a newcomer is served by closing the
    longest-idle connection with nothing in flight; when every connection has
    a request in flight, the newcomer gets one UNAVAILABLE reply and is closed."""
    limit = 8
    d = daemon_factory(args=["--max-connections", str(limit)])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    jid = int(d.ok("submit").stdout)  # stays PENDING: job.wait on it parks
    tok = d.token()
    wait_connections(d, 0)

    # Up to the limit every connection is served.
    conns = []
    for i in range(limit):
        r = Raw(d.sock)
        assert r.call("sys.ping", rid=i)["ok"]
        conns.append(r)
        time.sleep(0.01)  # distinct idle times: conns[0] is the longest idle
    wait_connections(d, limit)

    # One more: served, and the longest-idle connection was closed for it
    # (without a reply); the others are still served.
    extra = Raw(d.sock)
    assert extra.call("sys.ping", rid=100)["ok"]
    assert conns[0].closed(), "the longest-idle connection was not closed"
    conns[0].close()
    conns = conns[1:] + [extra]
    for i, r in enumerate(conns):
        assert r.call("sys.ping", rid=200 + i)["ok"]
    wait_connections(d, limit)

    # Every connection busy (a parked job.wait in flight): none may be evicted,
    # so a newcomer gets one UNAVAILABLE reply and is closed.
    for i, r in enumerate(conns):
        r.send({"v": 1, "id": 300 + i, "op": "job.wait", "args": {"id": jid}, "token": tok})
        wait_consumed(r)
    for _ in range(3):
        late = Raw(d.sock)
        assert late.recv() == {"id": None, "ok": False,
                               "error": {"code": "UNAVAILABLE", "message": "too many connections"}}
        assert late.closed()
        late.close()
    assert open_connections(d) == limit
    assert "why=connection-limit" in d.read_log()

    # One leaves: below the limit again, a newcomer is served; the busy
    # connections were kept: each gets its job.wait reply when the job ends.
    conns[0].close()
    wait_connections(d, limit - 1)
    admin = Raw(d.sock)
    assert admin.call("job.cancel", {"id": jid}, token=tok, rid=400)["ok"]
    for i, r in enumerate(conns[1:], start=1):
        resp = r.recv()
        assert resp["id"] == 300 + i and resp["ok"] and resp["data"]["status"] == "CANCELLED", resp
        r.close()
    admin.close()


def rss_kib(pid):
    return int(open("/proc/%d/status" % pid).read().split("VmRSS:")[1].split()[0])


def test_client_that_never_reads_is_bounded(daemon):
    tok = daemon.token()
    before = rss_kib(daemon.proc.pid)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(daemon.sock)
    s.setblocking(False)
    req = frame({"v": 1, "id": 1, "op": "gpu.list", "token": tok})
    sent = 0
    deadline = time.time() + 3
    while time.time() < deadline and sent < 100000:
        try:
            s.send(req)
            sent += 1
        except BlockingIOError:
            time.sleep(0.01)
    # Reading stopped at the in-flight cap: the send buffer filled long
    # before 100000 requests went in.
    assert sent < 100000
    r = daemon.raw()
    t0 = time.monotonic()
    assert r.call("sys.ping")["ok"]
    assert time.monotonic() - t0 < 0.5
    r.close()
    # Per connection: at most 128 requests in flight, 1 MiB of queued replies
    # and one frame buffer: the growth stays a few MiB (more under ASan).
    grown = rss_kib(daemon.proc.pid) - before
    if not SANITIZED:
        assert grown < 24 * 1024, "daemon RSS grew by %d KiB" % grown
    s.close()


def test_abrupt_disconnect_mid_reply(daemon):
    tok = daemon.token()
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(daemon.sock)
        s.sendall(b"".join(frame({"v": 1, "id": i, "op": "job.list", "token": tok}) for i in range(20)))
        s.close()
    r = daemon.raw()
    assert r.call("sys.ping")["ok"]
    r.close()
