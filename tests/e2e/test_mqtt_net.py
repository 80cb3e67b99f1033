"""MQTT's network side: TLS against mosquitto with a CA the test makes
(openssl), the certificate fingerprint, a wrong CA; broker names looked up
without blocking; and bad input from the network — a fake broker (a Python
socket server) that sends malformed and oversized packets, closes in the
middle of a packet and never answers: the client drops the connection,
backs off with growing delays, recovers when a real broker comes, and the
relay, the console and the web server answer at once all along."""
import json
import re
import socket
import struct
import threading
import time

import pytest

from mqttlib import HA, Broker, make_ca
from simlib import free_port, log_seconds
from test_mqtt import JOIN, TOPIC, WIFI, online, relay_on
from weblib import curl

# ---- TLS ----


@pytest.fixture
def pki(tmp_path):
    return make_ca(tmp_path)


@pytest.fixture
def tls_broker(tmp_path, pki):
    b = Broker(tmp_path, tls=(pki["ca"], pki["cert"], pki["key"])).start()
    yield b
    b.stop()


def send_ca(plug, path):
    lines = [line for line in open(path).read().splitlines() if line]
    for line in lines[:-1]:
        assert "receiving" in plug.cmd("MqttCA " + line)["MqttCA"]
    return plug.cmd("MqttCA " + lines[-1])


def tls_plug(make_plug, broker, trust_commands):
    plug = make_plug(None, *WIFI)
    plug.replies("Backlog " + "; ".join(JOIN + ["Topic %s" % TOPIC]), 3)
    for command in trust_commands:
        plug.cmd(command)
    plug.replies("Backlog MqttTLS 1; MqttPort %d; MqttHost localhost" % broker.port, 3)
    return plug


def test_tls_with_the_ca(make_plug, tls_broker, pki):
    plug = make_plug(None, *WIFI)
    reply = send_ca(plug, pki["ca"])
    assert reply["MqttCA"].startswith("set ("), reply
    mark = plug.mark()
    plug.replies("Backlog " + "; ".join(JOIN + ["Topic %s" % TOPIC, "MqttTLS 1", "MqttPort %d" % tls_broker.port,
                                                "MqttHost localhost"]), 6)
    plug.wait_log(r"MQT: TLS: server certificate accepted \(CA\)", since=mark, timeout=15)
    plug.wait_log(r"MQT: connected to localhost", since=mark, timeout=5)
    ha = HA(tls_broker.port, tls_ca=pki["ca"])
    try:
        ha.wait("tele/%s/LWT" % TOPIC, "Online")
        mark = ha.mark()
        ha.publish("cmnd/%s/POWER" % TOPIC, "on")
        assert ha.wait("stat/%s/POWER" % TOPIC, since=mark).text == "ON"
        assert relay_on(plug)
    finally:
        ha.close()
    status = plug.cmd("MqttStatus")["MqttStatus"]
    assert status["TLS"] == 1 and status["State"] == "connected"
    # The CA is kept in the file store across a restart.
    plug.restart()
    assert plug.cmd("MqttCA")["MqttCA"].startswith("set (")
    plug.wait_log(r"MQT: connected to localhost", since=plug.boot_mark, timeout=20)


def test_tls_refuses_a_broker_signed_by_another_ca(make_plug, tls_broker, pki):
    plug = make_plug(None, *WIFI)
    assert send_ca(plug, pki["other_ca"])["MqttCA"].startswith("set (")
    mark = plug.mark()
    plug.replies("Backlog " + "; ".join(JOIN + ["MqttTLS 1", "MqttPort %d" % tls_broker.port,
                                                "MqttHost localhost"]), 5)
    plug.wait_log(r"MQT: TLS: broker certificate rejected", since=mark, timeout=15)
    assert not plug.log_lines(r"MQT: connected to", since=mark)
    assert plug.cmd("MqttStatus")["MqttStatus"]["State"] != "connected"


def test_tls_with_the_fingerprint(make_plug, tls_broker, pki):
    plug = make_plug(None, *WIFI)
    wrong = "11" * 32
    assert plug.cmd("MqttFingerprint " + wrong)["MqttFingerprint"] == wrong.upper()
    mark = plug.mark()
    plug.replies("Backlog " + "; ".join(JOIN + ["MqttTLS 1", "MqttPort %d" % tls_broker.port,
                                                "MqttHost localhost"]), 5)
    plug.wait_log(r"MQT: TLS: certificate fingerprint .* does not match", since=mark, timeout=15)
    fp = ":".join(pki["fingerprint"][i:i + 2] for i in range(0, 64, 2))  # colons are accepted
    assert plug.cmd("MqttFingerprint " + fp)["MqttFingerprint"] == pki["fingerprint"]
    plug.wait_log(r"MQT: TLS: server certificate accepted \(fingerprint\)", since=mark, timeout=30)
    plug.wait_log(r"MQT: connected to localhost", since=mark, timeout=5)


def test_bad_ca_input_keeps_the_old_one(make_plug, pki):
    plug = make_plug(None, *WIFI)
    assert plug.cmd("MqttCA") == {"MqttCA": "none"}
    assert plug.cmd("MqttCA MIIBxTCCAWugAwIBAgIU")["Command"] == "Error"  # no BEGIN first
    assert send_ca(plug, pki["ca"])["MqttCA"].startswith("set (")
    before = plug.cmd("MqttCA")
    plug.cmd("MqttCA -----BEGIN CERTIFICATE-----")
    plug.cmd("MqttCA bm90IGEgY2VydGlmaWNhdGU=")
    reply = plug.cmd("MqttCA -----END CERTIFICATE-----")
    assert reply["Command"] == "Error" and "previous CA is kept" in reply["Error"], reply
    assert plug.cmd("MqttCA") == before
    assert plug.cmd("MqttCA 0") == {"MqttCA": "none"}


# ---- Names ----


def test_broker_by_name_and_a_name_that_does_not_resolve(make_plug, tmp_path):
    broker = Broker(tmp_path).start()
    try:
        plug = make_plug(None, *WIFI)
        mark = plug.mark()
        plug.replies("Backlog " + "; ".join(JOIN + ["MqttPort %d" % broker.port, "MqttHost localhost"]), 4)
        plug.wait_log(r"MQT: connected to localhost:%d" % broker.port, since=mark, timeout=15)
        # A name no server knows: the lookup runs beside the loop, which is
        # never held up by it, and the plug says why MQTT is not up.
        mark = plug.mark()
        plug.cmd("MqttHost no-such-broker.invalid")
        assert plug.cmd("Power toggle") == {"POWER": "ON"}  # served while the lookup is out
        plug.wait_log(r"MQT: (broker name not found|no answer looking up)", since=mark, timeout=30)
        assert plug.cmd("MqttStatus")["MqttStatus"]["State"] in ("waiting", "resolving")
        # Measured by the firmware in device time, not by the test's round
        # trips (which a loaded host stretches): its worst loop lag of the last
        # minute.  A lookup made in the loop would hold it for as long as the
        # resolver takes (seconds when no server answers; MQTT gives up after
        # 15 s); a second is far above any lag of the loop itself.
        lag = plug.cmd("Status 11")["StatusSTS"]["LoopLag"]
        assert lag < 1000, "the loop stalled for %d ms during the lookup" % lag
    finally:
        broker.stop()


# ---- A broker that misbehaves ----


def remaining_length(n):
    out = b""
    while True:
        digit, n = n % 128, n // 128
        out += bytes([digit | (0x80 if n else 0)])
        if not n:
            return out


CONNACK = b"\x20\x02\x00\x00"
BEHAVIOURS = {
    # CONNACK, then a PUBLISH whose length field runs on for five bytes
    "malformed": CONNACK + b"\x30\xff\xff\xff\xff\x01",
    # CONNACK, then a PUBLISH of 100 kB (beyond the 2 KiB buffer: skipped,
    # not fatal), and the connection closes
    "oversized": CONNACK + b"\x30" + remaining_length(100000) + b"\x00\x03a/b" + b"x" * (100000 - 5),
    # CONNACK, then half a PUBLISH and the connection closes
    "mid-packet": CONNACK + b"\x30" + remaining_length(40) + b"\x00\x03a/bhalf",
    # takes the CONNECT and never answers
    "silent": None,
}


class FakeBroker:
    """Accepts connections on a port; the n-th one gets BEHAVIOURS[order[n]]."""

    def __init__(self, port, order):
        self.port = port
        self.order = list(order)
        self.attempts = []  # (monotonic time, behaviour, first bytes received)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.open = []
        self.stop_flag = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_flag:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            conn.settimeout(2)
            try:
                first = conn.recv(256)
            except OSError:
                first = b""
            behaviour = self.order[len(self.attempts)] if len(self.attempts) < len(self.order) else "silent"
            self.attempts.append((time.monotonic(), behaviour, first))
            data = BEHAVIOURS[behaviour]
            if data is None:
                self.open.append(conn)  # say nothing, keep it open
                continue
            try:
                conn.settimeout(30)  # 100 kB to a plug that reads it over several loop turns (ASan, a loaded host)
                conn.sendall(data)
                if behaviour in ("mid-packet", "oversized"):
                    conn.close()
                else:
                    self.open.append(conn)  # the client must hang up by itself
            except OSError:
                pass

    def stop(self):
        self.stop_flag = True
        self.thread.join(timeout=5)
        for c in self.open:
            c.close()
        self.sock.close()


def test_misbehaving_broker_drop_backoff_recover(make_plug, tmp_path):
    port = free_port()
    fake = FakeBroker(port, ["malformed", "oversized", "mid-packet", "silent"])
    broker = None
    try:
        plug = make_plug(None, "--http", "0", *WIFI)
        web_port = int(plug.wait_log(r"HTTP: web server on http://127\.0\.0\.1:(\d+)/", timeout=5).group(1))
        mark = plug.mark()
        plug.replies("Backlog " + "; ".join(JOIN + ["Topic %s" % TOPIC, "MqttPort %d" % port,
                                                    "MqttHost 127.0.0.1"]), 5)
        # the plug keeps switching from the console and the web meanwhile
        deadline = time.monotonic() + 90
        while len(fake.attempts) < 5 and time.monotonic() < deadline:
            before = relay_on(plug)
            plug.cmd("Power toggle")
            assert relay_on(plug) != before
            reply = curl("http://127.0.0.1:%d/cm?cmnd=Power" % web_port)
            assert reply.status == 200 and "POWER" in json.loads(reply.body), reply
            time.sleep(0.2)
        assert len(fake.attempts) >= 5, fake.attempts
        for _, behaviour, first in fake.attempts:
            assert first[:1] == b"\x10", "every attempt starts with a CONNECT: %r" % first
        for pattern in (r"bad packet from the broker: malformed length",
                        r"too long for the receive buffer: 100004 bytes",
                        r"(broker closed the connection|connection lost)",
                        r"broker did not answer CONNECT in time"):
            assert plug.log_lines(r"MQT: .*" + pattern, since=mark), "\n".join([pattern] + plug.log_lines(r"MQT:", since=mark))
        # Backoff, in device time (the plug's log), not the test's clock: after
        # the n-th failure the plug waits c/2..c, c = 1, 2, 4, 8 s (its own
        # record of the delay drawn), and attempts again no sooner; the silent
        # broker is given its 10 s CONNACK limit first.
        events = plug.log_lines(r"MQT: (connecting to 127\.0\.0\.1|next attempt in \d+ ms)", since=mark)
        tries = [log_seconds(line) for line in events if "connecting to" in line]
        waits = [(log_seconds(line), int(re.search(r"next attempt in (\d+) ms", line).group(1)) / 1000)
                 for line in events if "next attempt" in line]
        assert len(tries) >= 5 and len(waits) >= 4, events
        for ceiling, (failed, delay), retried in zip((1, 2, 4, 8), waits, tries[1:]):
            assert ceiling / 2 <= delay <= ceiling, events
            assert retried - failed >= delay - 0.001, events  # log times are in whole ms
        assert waits[3][0] - tries[3] >= 10, events  # the CONNACK limit
        # The loop was never held up by a misbehaving broker: the firmware's
        # own worst loop lag of the last minute (device time; a blocking
        # connect or read would show as seconds).
        lag = plug.cmd("Status 11")["StatusSTS"]["LoopLag"]
        assert lag < 1000, "the loop stalled for %d ms" % lag
        # A real broker on the same port: the client recovers by itself.
        fake.stop()
        fake = None
        back = plug.mark()
        broker = Broker(tmp_path, port=port).start()
        ha = HA(port)
        try:
            # (the next attempt may be one backoff step, up to 16 s, away).
            # Not the first LWT: right after CONNACK the plug re-sends what the
            # fake brokers never acknowledged (an LWT, a stat/POWER of a past
            # toggle) before it subscribes; a command is heard once it has.
            plug.wait_log(r"MQT: subscriptions acknowledged", since=back, timeout=40)
            ha.wait("tele/%s/LWT" % TOPIC, "Online", timeout=10)
            status = plug.cmd("MqttStatus")["MqttStatus"]
            assert status["State"] == "connected" and status["Connects"] >= 1
            was = relay_on(plug)
            mark = ha.mark()
            ha.publish("cmnd/%s/POWER" % TOPIC, "toggle")
            ha.wait("stat/%s/POWER" % TOPIC, "OFF" if was else "ON", since=mark, timeout=10)
            assert relay_on(plug) != was
        finally:
            ha.close()
    finally:
        if fake:
            fake.stop()
        if broker:
            broker.stop()


def test_broker_refusal_and_bad_packets_after_connect(make_plug, tmp_path):
    """CONNACK refusals and a QoS 2 PUBLISH: dropped with a reason, no crash."""
    port = free_port()
    BEHAVIOURS["refused"] = b"\x20\x02\x00\x05"
    BEHAVIOURS["qos2"] = CONNACK + b"\x34" + remaining_length(7) + b"\x00\x03a/b\x00\x01"
    fake = FakeBroker(port, ["refused", "qos2"])
    try:
        plug = make_plug(None, *WIFI)
        mark = plug.mark()
        plug.replies("Backlog " + "; ".join(JOIN + ["MqttPort %d" % port, "MqttHost 127.0.0.1"]), 4)
        plug.wait_log(r"MQT: broker refused the connection: not authorized", since=mark, timeout=15)
        plug.wait_log(r"MQT: bad packet from the broker: PUBLISH with QoS 2", since=mark, timeout=15)
        assert plug.cmd("Power on") == {"POWER": "ON"}
    finally:
        fake.stop()


def read_packets(conn, into, stop):
    """Parse MQTT packets off a socket into [(first byte, body)] until closed."""
    buf = b""
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            chunk = conn.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        while len(buf) >= 2:
            length, shift, i = 0, 0, 1
            while i < len(buf) and buf[i] & 0x80:
                length |= (buf[i] & 0x7F) << shift
                shift, i = shift + 7, i + 1
            if i >= len(buf):
                break
            length |= (buf[i] & 0x7F) << shift
            if len(buf) < i + 1 + length:
                break
            into.append((buf[0], buf[i + 1:i + 1 + length], time.monotonic()))
            buf = buf[i + 1 + length:]


def test_qos1_is_sent_again_until_acknowledged(make_plug):
    """A broker that acknowledges nothing: stat/…/POWER (QoS 1) comes again
    with DUP set and the same packet id after the retransmission time."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(20)
    packets, stop = [], threading.Event()
    try:
        plug = make_plug(None, *WIFI)
        plug.replies("Backlog " + "; ".join(JOIN + ["Topic %s" % TOPIC, "MqttPort %d" % server.getsockname()[1],
                                                    "MqttHost 127.0.0.1"]), 5)
        conn, _ = server.accept()
        reader = threading.Thread(target=read_packets, args=(conn, packets, stop), daemon=True)
        reader.start()
        deadline = time.monotonic() + 5
        while not packets and time.monotonic() < deadline:
            time.sleep(0.05)
        assert packets and packets[0][0] == 0x10, packets  # CONNECT
        mark = plug.mark()
        conn.sendall(CONNACK)
        plug.wait_log(r"MQT: connected to 127\.0\.0\.1", since=mark, timeout=10)  # not a fixed sleep
        plug.cmd("Power toggle")
        topic = ("stat/%s/POWER" % TOPIC).encode()

        def power_publishes():
            found = []
            for first, body, at in list(packets):
                if first >> 4 == 3 and body[2:2 + len(topic)] == topic:
                    found.append((first, struct.unpack(">H", body[2 + len(topic):4 + len(topic)])[0], at))
            return found
        deadline = time.monotonic() + 40
        while len([p for p in power_publishes() if p[0] & 0x08]) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        sent = power_publishes()
        first, again = sent[0], [p for p in sent if p[0] & 0x08]
        assert (first[0] >> 1) & 3 == 1 and not first[0] & 0x08, sent  # QoS 1, no DUP the first time
        assert again and again[0][1] == first[1], sent                  # the same id, DUP set
        # not before MQTT_RETRANSMIT_MS (10 s; 1 s for the reader's own delay
        # on the first copy); when it comes the host decides, so no upper bound
        assert again[0][2] - first[2] >= 9, sent
        conn.sendall(b"\x40\x02" + struct.pack(">H", first[1]))  # PUBACK: no more copies
        count = len(power_publishes())
        time.sleep(11)
        assert len(power_publishes()) == count
        status = plug.cmd("MqttStatus")["MqttStatus"]
        assert status["Retransmits"] >= 1
    finally:
        stop.set()
        server.close()


def test_a_connect_that_hangs_is_given_up_without_blocking(make_plug):
    """A listener whose queue is full drops the SYN: the TCP connect hangs.
    The plug's connect is non-blocking: the console answers meanwhile, and
    after 10 s the attempt is given up and retried later."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):  # fill the accept queue; later SYNs go unanswered
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
        time.sleep(0.2)
        plug = make_plug(None, *WIFI)
        mark = plug.mark()
        plug.replies("Backlog " + "; ".join(JOIN + ["MqttPort %d" % port, "MqttHost 127.0.0.1"]), 4)
        plug.wait_log(r"MQT: connecting to 127\.0\.0\.1", since=mark, timeout=10)
        # the console answers while the connect hangs (10 s until it is given up)
        assert plug.cmd("Power toggle") == {"POWER": "ON"}
        assert plug.cmd("MqttStatus")["MqttStatus"]["State"] == "connecting"
        plug.wait_log(r"MQT: broker did not accept the TCP connection in time", since=mark, timeout=30)
        # and the loop was never held up by it: the firmware's own worst loop
        # lag of the last minute, in device time (a blocking connect would
        # show as the whole 10 s, or the kernel's SYN retries)
        lag = plug.cmd("Status 11")["StatusSTS"]["LoopLag"]
        assert lag < 1000, "the loop stalled for %d ms during the connect" % lag
    finally:
        for f in fillers:
            f.close()
        server.close()
