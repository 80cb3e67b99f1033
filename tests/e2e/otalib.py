"""Helpers for the update tests and bench/ota.py: firmware images packed by
tools/mkota from the test builds next to the simulator, and a small HTTP
server on 127.0.0.1 that serves an image the way a flaky network would
(chosen chunk sizes, a delay between chunks, a connection dropped at a
given byte).  Standard library only; every wait is bounded.
"""
import os
import socket
import struct
import subprocess
import threading

import simlib

HEADER_SIZE = 512
UPDATE_VERSION_SUFFIX = "-update-test"   # openplug-sim-update's version
PTABLE_ADDR = 0xE000                     # the two partition table copies
_FW = simlib.flash_layout()["FW"]
SLOT_ADDR = (_FW[0], _FW[2])
SLOT_SIZE = (_FW[1], _FW[3])
# A firmware of the size the real plug's is expected to have (the SDK's
# Wi-Fi stack alone is 720-739 KB): the test builds are padded to it.
REALISTIC_IMAGE_SIZE = 800 * 1024


def build_dir():
    return os.path.dirname(simlib.sim_path())


def tool(name):
    path = os.path.join(build_dir(), name)
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s not built (make host)" % path)
    return path


def firmware_image(name, out):
    """A test build (openplug-sim-update / -fatal) stripped and padded to
    REALISTIC_IMAGE_SIZE, as a real image would fill the slot: the one next
    to the simulator under test, or — when that is too large for the slot
    (the ASan build is megabytes) — the plain host build's.  The writer and
    boot2 under test are the simulator's either way.  None when neither
    fits."""
    for directory in (build_dir(), os.path.join(build_dir(), "..", "host")):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            stripped(path, out)
            if os.path.getsize(out) <= REALISTIC_IMAGE_SIZE:
                return pad_to_realistic_size(out)
    return None


def pad_to_realistic_size(path):
    """Append copies of the program's own bytes (the loader ignores what
    follows the ELF's segments) up to REALISTIC_IMAGE_SIZE: code-like data,
    so an XZ body packs about as well as a real firmware's would."""
    with open(path, "rb") as f:
        program = f.read()
    padding = (program * (REALISTIC_IMAGE_SIZE // len(program) + 1))[:REALISTIC_IMAGE_SIZE - len(program)]
    with open(path, "ab") as f:
        f.write(padding)
    assert os.path.getsize(path) == REALISTIC_IMAGE_SIZE <= min(SLOT_SIZE)
    return str(path)


def sim_version(path):
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    return out.split()[-1]


def stripped(binary, out):
    """The firmware as it goes into an image: the program without symbols."""
    subprocess.run(["strip", "-o", str(out), binary], check=True, timeout=30)
    return str(out)


def mkota(body_file, out, version, *options):
    """tools/mkota; returns the image bytes."""
    cmd = [tool("mkota"), "--version", version] + [str(o) for o in options] + [str(body_file), str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    with open(out, "rb") as f:
        return f.read()


def make_key(path):
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(path)],
                   check=True, capture_output=True, timeout=30)
    hexkey = subprocess.run([tool("mkota"), "--key", str(path), "--public-key"], check=True, capture_output=True,
                            text=True, timeout=30).stdout.strip()
    assert len(hexkey) == 130 and hexkey.startswith("04"), hexkey
    return hexkey


def ptable_bytes(flash):
    """Both partition table copies, as in the flash image."""
    return simlib.read_flash(flash, PTABLE_ADDR, 2 * 4096)


def header_fields(image):
    magic, kind, length = struct.unpack_from("<16s4sI", image)
    return magic, kind, length


class ImageServer:
    """Serves one body at /fw.ota (any path) over HTTP/1.0.

    chunk: bytes per send (an int, or a function of the send index);
    drop_at: close the connection after this many body bytes;
    gap: seconds between sends; length: the Content-Length to announce
    (default: the body's length; -1: none, the end is the connection's).
    """

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.body = b""
        self.chunk = 1460
        self.drop_at = None
        self.gap = 0.0
        self.length = None
        self.requests = 0
        self.sent = []  # bytes sent per request
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/fw.ota" % self.port

    def serve(self, body, chunk=1460, drop_at=None, gap=0.0, length=None):
        self.body, self.chunk, self.drop_at, self.gap, self.length = body, chunk, drop_at, gap, length

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn):
        conn.settimeout(10)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = b""
        while b"\r\n\r\n" not in request:
            data = conn.recv(1024)
            if not data:
                return
            request += data
        self.requests += 1
        body = self.body
        length = len(body) if self.length is None else self.length
        head = "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
        head += ("Content-Length: %d\r\n\r\n" % length) if length >= 0 else "\r\n"
        sent = 0
        try:
            conn.sendall(head.encode())
            end = len(body) if self.drop_at is None else min(self.drop_at, len(body))
            index = 0
            while sent < end and not self._stop.is_set():
                size = self.chunk(index) if callable(self.chunk) else self.chunk
                piece = body[sent:min(end, sent + size)]
                conn.sendall(piece)
                sent += len(piece)
                index += 1
                if self.gap:
                    self._stop.wait(self.gap)
        except OSError:
            pass
        self.sent.append(sent)

    def close(self):
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)
