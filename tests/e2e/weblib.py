"""Helpers for the web server's end-to-end tests: a plug with its HTTP port
(--http 0: the port it logs), curl as the real client, raw sockets for what
curl will not send.  Every wait is bounded."""
import json
import re
import socket
import subprocess
import time

from simlib import wait_until  # noqa: F401 (one polling helper for the suite; the web tests take it from here)

URL_RE = r"HTTP: web server on http://127\.0\.0\.1:(\d+)/"


def start_web_plug(make_plug, *args, flash=None):
    plug = make_plug(flash, "--http", "0", *args)
    port = int(plug.wait_log(URL_RE, since=plug.boot_mark, timeout=5).group(1))
    plug.port = port
    plug.base = "http://127.0.0.1:%d" % port
    return plug


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Response(%r, %r, %r)" % (self.status, self.headers, self.body[:300])


def curl(url, *args, data=None, method=None, headers=(), user=None, timeout=10):
    """Run curl; returns a Response (status, headers, body as str)."""
    cmd = ["curl", "-sS", "--max-time", str(timeout), "-D", "-", "-o", "-"]
    if method:
        cmd += ["-X", method]
    if data is not None:
        cmd += ["--data-binary", data if isinstance(data, str) else json.dumps(data)]
        if not any(h.lower().startswith("content-type") for h in headers):
            cmd += ["-H", "Content-Type: application/json"]
    for h in headers:
        cmd += ["-H", h]
    if user:
        cmd += ["-u", user]
    cmd += list(args) + [url]
    out = subprocess.run(cmd, capture_output=True, timeout=timeout + 5)
    assert out.returncode == 0, (cmd, out.stderr)
    raw = out.stdout.decode(errors="replace")
    # the last head (after any 100-continue), then the body
    head, _, body = raw.partition("\r\n\r\n")
    while head.startswith("HTTP/1.1 100"):
        head, _, body = body.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(status, headers, body)


def raw_request(port, data, timeout=5, read=True):
    """Send bytes on a fresh connection; return everything read until the
    server closes or `timeout` passes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        return read_all(s, timeout)
    finally:
        if read:
            s.close()


def read_all(s, timeout=5):
    deadline = time.monotonic() + timeout
    got = b""
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += chunk
    return got


_leftovers = {}  # bytes read past a response, per socket (pipelining)


def read_response(s, timeout=5):
    """Read one whole response (Content-Length or chunked) from socket s;
    returns (status, headers, body bytes).  Bytes of a following response
    are kept for the next call."""
    status, headers, body, rest = _read_response(s, _leftovers.pop(s.fileno(), b""), timeout)
    if rest:
        _leftovers[s.fileno()] = rest
    return status, headers, body


def _read_response(s, buf, timeout):
    deadline = time.monotonic() + timeout

    def more():
        nonlocal buf
        s.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("connection closed: %r" % buf)
        buf += chunk

    while b"\r\n\r\n" not in buf:
        more()
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            more()
        return status, headers, buf[:n], buf[n:]
    body = b""
    if headers.get("transfer-encoding") == "chunked":
        while True:
            while b"\r\n" not in buf:
                more()
            size_line, _, buf = buf.partition(b"\r\n")
            size = int(size_line, 16)
            while len(buf) < size + 2:
                more()
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                return status, headers, body, buf
    return status, headers, body, buf


def relay_level(plug):
    return plug.pins()[2]["level"]


def status_line(raw):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", raw)
    assert m, raw[:200]
    return int(m.group(1))
