"""A real broker and a real client for the MQTT end-to-end tests.

- Broker: Debian's mosquitto on 127.0.0.1 and a free port, its config and
  log in a temporary directory; stop/restart keep the port.  Plain or TLS.
- HA: a paho-mqtt client playing Home Assistant: it records every message
  (topic, payload, retained) and waits for them with a timeout.
- make_ca(): the CA and certificates, by openssl.

Every wait is bounded; everything started here is stopped by the caller's
fixture.
"""
import getpass
import os
import socket
import subprocess
import threading
import time

import paho.mqtt.client as paho

import simlib

MOSQUITTO = "/usr/sbin/mosquitto"



class Broker:
    def __init__(self, workdir, port=None, tls=None, conf=()):
        """tls: None, or (ca_path, cert_path, key_path) for a TLS listener;
        conf: more lines for mosquitto.conf (allow_anonymous among them
        replaces the default, true)."""
        self.dir = str(workdir)
        self.port = port or simlib.free_port()
        self.tls = tls
        self.conf = list(conf)
        self.proc = None
        self.log_path = os.path.join(self.dir, "mosquitto-%d.log" % self.port)
        self.conf_path = os.path.join(self.dir, "mosquitto-%d.conf" % self.port)

    def _write_conf(self):
        # Started as root, mosquitto would drop to user "mosquitto", who cannot
        # read the test's private directory: stay the user who runs the test.
        lines = ["user %s" % getpass.getuser(), "listener %d 127.0.0.1" % self.port, "allow_anonymous true", "persistence false",
                 "log_dest file %s" % self.log_path, "log_type all", "max_keepalive 60",
                 "set_tcp_nodelay true"]  # no Nagle delay on the broker's side of round trips
        if self.tls:
            ca, cert, key = self.tls
            lines += ["cafile %s" % ca, "certfile %s" % cert, "keyfile %s" % key]
        if any(line.startswith("allow_anonymous") for line in self.conf):
            lines.remove("allow_anonymous true")
        lines += self.conf
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=10):
        self._write_conf()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf_path], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: %s" % self.proc.stderr.read().decode(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen on %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc:
            self.proc.stderr.close()

    def restart(self):
        self.stop()
        return self.start()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""


class Message:
    def __init__(self, topic, payload, retain, qos):
        self.topic = topic
        self.payload = payload
        self.retain = retain
        self.qos = qos
        self.at = time.monotonic()

    @property
    def text(self):
        return self.payload.decode(errors="replace")

    def __repr__(self):
        return "<%s %r%s>" % (self.topic, self.payload[:120], " retained" if self.retain else "")


class HA:
    """A paho client that records what it receives."""

    def __init__(self, port, subscribe=("#",), client_id="ha-test", tls_ca=None, auth=None):
        """auth: None, or (user, password)."""
        self.messages = []
        self.cond = threading.Condition()
        self.client = paho.Client(client_id=client_id, clean_session=True)
        if auth:
            self.client.username_pw_set(*auth)
        if tls_ca:
            self.client.tls_set(ca_certs=tls_ca)
        self.client.on_message = self._on_message
        self.subscribing, self.acked = set(), set()

        def on_connect(c, u, f, rc, *rest):
            with self.cond:
                self.subscribing = {c.subscribe(t, qos=1)[1] for t in subscribe}

        def on_subscribe(c, u, mid, *rest):
            with self.cond:
                self.acked.add(mid)
                self.cond.notify_all()
        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.connect("localhost" if tls_ca else "127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        self.wait_connected()
        sock = self.client.socket()  # and none on this side either
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def wait_connected(self, timeout=20):
        """Connected, and every subscription acknowledged by the broker (its
        SUBACK, not a fixed sleep: a loaded host may take longer)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not (self.client.is_connected() and self.subscribing and self.subscribing <= self.acked):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("paho did not connect and subscribe")
                self.cond.wait(min(left, 0.02))

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.messages.append(Message(msg.topic, msg.payload, bool(msg.retain), msg.qos))
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.messages)

    def wait(self, topic, payload=None, since=0, timeout=10, predicate=None):
        """The first message on `topic` (and with `payload`, text or
        callable) at or after index `since`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.messages[since:]:
                    if m.topic != topic:
                        continue
                    if payload is not None and m.text != payload:
                        continue
                    if predicate is not None and not predicate(m):
                        continue
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %r%s within %.0f s; got: %s" % (
                        topic, "" if payload is None else " = %r" % payload, timeout,
                        [m for m in self.messages[since:]][-15:]))
                self.cond.wait(min(left, 0.1))

    def on(self, topic, since=0):
        with self.cond:
            return [m for m in self.messages[since:] if m.topic == topic]

    def publish(self, topic, payload, qos=0, retain=False):
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def make_ca(directory, host="localhost"):
    """A CA and a server certificate for `host` signed by it (EC P-256),
    plus a second, unrelated CA.  Returns a dict of paths."""
    d = str(directory)
    p = lambda name: os.path.join(d, name)
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, timeout=30)
    for ca in ("ca", "other-ca"):
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", p(ca + ".key"), "-out", p(ca + ".pem"), "-days", "2", "-subj", "/CN=OpenPlug test " + ca)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=" + host)
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:%s\n" % host)
    run("openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
        "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile", p("ext.cnf"))
    der = subprocess.run(["openssl", "x509", "-in", p("server.pem"), "-outform", "DER"], check=True,
                         capture_output=True, timeout=30).stdout
    import hashlib
    return {"ca": p("ca.pem"), "other_ca": p("other-ca.pem"), "cert": p("server.pem"), "key": p("server.key"),
            "fingerprint": hashlib.sha256(der).hexdigest().upper()}
