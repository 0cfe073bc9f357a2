"""The wire protocol for the Python benchmarks: length-prefixed JSON frames
over the daemon's Unix socket (docs/PROTOCOL.md)."""
import json
import socket
import struct


def frame(obj):
    """One request as a frame: a 4-byte big-endian length, then the JSON."""
    data = json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def recv(s):
    """One reply frame, decoded."""
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))


class Client:
    """One connection; call() returns the reply's data or raises."""

    def __init__(self, path, token=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.token = token

    def call(self, op, args=None):
        req = {"v": 1, "id": 1, "op": op, "args": args or {}}
        if self.token:
            req["token"] = self.token
        self.s.sendall(frame(req))
        reply = recv(self.s)
        if not reply.get("ok"):
            raise RuntimeError("%s: %s" % (op, reply))
        return reply["data"]
