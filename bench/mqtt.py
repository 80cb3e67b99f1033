#!/usr/bin/env python3
"""bench/mqtt.py SIM — MQTT figures, printed as a table:

- command round trip through a real mosquitto on 127.0.0.1: paho publishes
  cmnd/<topic>/POWER toggle and waits for stat/<topic>/RESULT; N in a row,
  p50 / p99 / max; plain TCP and TLS (a CA made with openssl);
- memory of the client: its static RAM (the .bss/.data of the MQTT objects
  of the host build: buffers are static, sized in mqtt.h), and the heap TLS
  holds while connected (steady) and at its peak (the handshake), as the
  client reports it in MqttStatus.

Uses the e2e helpers (tests/e2e/mqttlib.py, simlib.py); every wait bounded.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/http.py would shadow the standard library's http (paho imports it).
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import simlib  # noqa: E402
from mqttlib import HA, Broker, make_ca  # noqa: E402

N = 300
TOPIC = "bench"
WIFI = ("--wifi", "Home:correct-horse")
JOIN = "SSId1 Home; Password1 correct-horse"


def round_trips(ha, n):
    times = []
    for _ in range(n):
        mark = ha.mark()
        start = time.perf_counter()
        ha.client.publish("cmnd/%s/POWER" % TOPIC, "toggle")
        ha.wait("stat/%s/RESULT" % TOPIC, since=mark, timeout=5)
        times.append((time.perf_counter() - start) * 1000)
    return times


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def static_ram(sim):
    """.data + .bss of the MQTT objects next to the simulator's build tree."""
    objdir = os.path.join(os.path.dirname(sim), "CMakeFiles", "openplug_core.dir", "src", "core", "net")
    files = [os.path.join(objdir, f) for f in ("mqtt.c.o", "mqtt_tasmota.c.o", "hass.c.o", "mqtt_ca.c.o",
                                               "mqtt_packet.c.o") if os.path.exists(os.path.join(objdir, f))]
    if not files:
        return None
    out = subprocess.run(["size", "-t"] + files, capture_output=True, text=True, timeout=10).stdout
    total = out.strip().splitlines()[-1].split()
    return int(total[1]) + int(total[2])  # data + bss


def run_case(sim, tmp, tls):
    pki = make_ca(tmp) if tls else None
    broker = Broker(tmp, tls=(pki["ca"], pki["cert"], pki["key"]) if tls else None).start()
    plug = simlib.Plug(os.path.join(tmp, "flash-%d.bin" % tls), os.path.join(tmp, "w%d" % tls), *WIFI)
    ha = None
    try:
        plug.start()
        if tls:
            lines = [l for l in open(pki["ca"]).read().splitlines() if l]
            for line in lines:
                plug.cmd("MqttCA " + line)
        mark = plug.mark()
        plug.replies("Backlog %s; Topic %s; MqttTLS %d; MqttPort %d; MqttHost %s"
                     % (JOIN, TOPIC, tls, broker.port, "localhost" if tls else "127.0.0.1"), 6)
        plug.wait_log(r"MQT: connected to", since=mark, timeout=20)
        ha = HA(broker.port, tls_ca=pki["ca"] if tls else None, client_id="bench-%d" % tls)
        ha.wait("tele/%s/LWT" % TOPIC, "Online")
        time.sleep(3)  # the connect burst and the first STATE/SENSOR are out
        round_trips(ha, 20)  # warm-up
        times = round_trips(ha, N)
        memory = plug.cmd("MqttStatus")["MqttStatus"]["Memory"]
        return times, memory
    finally:
        if ha:
            ha.close()
        plug.kill()
        broker.stop()


def main():
    sim = sys.argv[1] if len(sys.argv) > 1 else simlib.DEFAULT_SIM
    os.environ[simlib.SIM_ENV] = os.path.abspath(sim)
    results = {}
    with tempfile.TemporaryDirectory(prefix="op-bench-mqtt-", dir="/tmp") as tmp:
        for tls in (0, 1):
            results[tls] = run_case(sim, tmp, tls)
    ram = static_ram(os.path.abspath(sim))
    print("| MQTT (%d commands in a row, paho -> mosquitto -> plug -> mosquitto -> paho) | plain TCP | TLS 1.2 |"
          % N)
    print("|---|---|---|")
    for label, p in (("round trip p50", 50), ("round trip p99", 99), ("round trip max", 100)):
        print("| %s | %.2f ms | %.2f ms |" % (label, pct(results[0][0], p), pct(results[1][0], p)))
    print("| client static RAM (.data + .bss of the MQTT objects) | %s | same |"
          % ("%d bytes" % ram if ram is not None else "n/a"))
    print("| client state struct (MqttStatus Memory.Static) | %d bytes | %d bytes |"
          % (results[0][1]["Static"], results[1][1]["Static"]))
    print("| heap, steady (connected) | %d bytes | %d bytes |" % (results[0][1]["Heap"], results[1][1]["Heap"]))
    print("| heap, peak (handshake) | %d bytes | %d bytes |"
          % (results[0][1]["HeapPeak"], results[1][1]["HeapPeak"]))


if __name__ == "__main__":
    main()
