#!/usr/bin/python3
"""Health benchmarks of openplug-sim, printed as tables:

1. Main-loop lag: how late the loop's timers run (the time any waiting
   work waits for the rest), in real time, as the plug reports it in
   Status 11 (LoopLagP99: p99 since boot as the upper bound of its
   1-2-5 histogram bucket; LoopLag: the worst of the last minute), after
   DURATION seconds (default 20) of:
     a. metering at 3.68 kW (relay on, 2156 CF + ~1350 CF1 interrupts/s);
     b. the same, plus MQTT to a local mosquitto (TelePeriod 10, a client
        sending a command every 100 ms) and 4 web clients polling
        /api/state back to back over keep-alive connections.
2. Instructions per device-second (callgrind, the difference between a
   360 s and a 60 s virtual-time run over 300): every driver of this build
   running — BL0937 at 3.68 kW, NTP (rounds against a silent server), SSDP,
   MQTT connected to a local mosquitto (TelePeriod 10), SetupEnergyStats
   1 60 60, a repeating script event.  Two figures: the whole simulator
   (as bench/foundation.py counts), and the firmware's share — the loop's
   turns without the idle wait, where the simulated chip's pulses are made.

    bench/health.py build/host/openplug-sim [DURATION]
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

# bench/http.py would shadow the standard library's http package
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
import http.client  # noqa: E402

SIM = sys.argv[1]
DURATION = int(sys.argv[2]) if len(sys.argv) > 2 else 20
TMP = tempfile.mkdtemp(prefix="openplug-bench-health-")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Plug:
    def __init__(self, name, *args):
        self.proc = subprocess.Popen([SIM, "--flash", os.path.join(TMP, name + ".bin"), "--http", "0", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.lines = []
        self.base = None
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 10
        while self.base is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.base is None:
            self.stop()
            sys.exit("the plug did not start its web server")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.search(r"HTTP: web server on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.base = int(m.group(1))

    def cmd(self, text, key, timeout=5):
        start = len(self.lines)
        self.proc.stdin.write(text + "\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                if line.startswith("{") and key in line:
                    return json.loads(line)
            time.sleep(0.02)
        raise RuntimeError("no reply to %r" % text)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def mosquitto():
    port = free_port()
    conf = os.path.join(TMP, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("mosquitto did not start")


def web_client(port, stop, counts, index):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while not stop.is_set():
        try:
            conn.request("GET", "/api/state")
            resp = conn.getresponse()
            resp.read()
            counts[index] += resp.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            time.sleep(0.01)


def mqtt_commander(port, topic, stop, counts):
    import paho.mqtt.client as mqtt
    client = mqtt.Client(client_id="bench-health")
    client.on_message = lambda c, u, m: counts.__setitem__("stat", counts["stat"] + 1)
    client.connect("127.0.0.1", port)
    client.subscribe("stat/%s/#" % topic)
    client.subscribe("tele/%s/#" % topic)
    client.loop_start()
    while not stop.is_set():
        client.publish("cmnd/%s/Status" % topic, "8")
        counts["sent"] += 1
        time.sleep(0.1)
    client.loop_stop()
    client.disconnect()


def lag_case(name, busy):
    plug, broker, stop, threads = None, None, threading.Event(), []
    web_counts, mqtt_counts = [0] * 4, {"sent": 0, "stat": 0}
    try:  # everything started here is stopped, whatever fails
        plug = Plug(name, "--load", "3680W", "--wifi", "Home:correct-horse")
        plug.cmd("Power on", "POWER")
        plug.cmd("Backlog SSId1 Home; Password1 correct-horse", "Password1")
        if busy:
            broker, port = mosquitto()
            topic = "benchplug"
            plug.cmd("Backlog Topic %s; TelePeriod 10; MqttPort %d; MqttHost 127.0.0.1" % (topic, port), "MqttHost")
            deadline = time.monotonic() + 20
            while plug.cmd("MqttStatus", "MqttStatus")["MqttStatus"].get("State") not in ("connected", "Connected"):
                if time.monotonic() > deadline:
                    raise RuntimeError("MQTT did not connect: %r" % plug.cmd("MqttStatus", "MqttStatus"))
                time.sleep(0.2)
            threads = [threading.Thread(target=web_client, args=(plug.base, stop, web_counts, i)) for i in range(4)]
            threads.append(threading.Thread(target=mqtt_commander, args=(port, topic, stop, mqtt_counts)))
            for t in threads:
                t.start()
        time.sleep(DURATION)
        sts = plug.cmd("Status 11", "StatusSTS")["StatusSTS"]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        if plug:
            plug.stop()
        if broker:
            broker.terminate()
            broker.wait(timeout=5)
    # the load plugged in (what the driver reads in real time is another matter: see the README)
    return sts, 3680, sum(web_counts), mqtt_counts


def firmware_share(callgrind_out):
    """Instructions of the firmware itself: the loop's turns without the
    idle wait (where the simulator's model — the BL0937's pulses, pins,
    sockets — runs and the interrupt handlers are called)."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", callgrind_out],
                          capture_output=True, text=True, timeout=300).stdout

    def inclusive(function):
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:%s \[" % function, text, re.M)
        return int(m.group(1).replace(",", "")) if m else 0
    return inclusive("sched_run_once") - inclusive("hal_idle")


def instructions(name, commands, *extra):
    """Instructions per simulated second (the whole simulator, and the
    firmware's share), and the console output of the longer run."""
    counts, firmware, stdout = {}, {}, ""
    for seconds in (60, 360):
        out = os.path.join(TMP, "callgrind.%s.%d" % (name, seconds))
        flash = os.path.join(TMP, "%s%d.bin" % (name, seconds))
        args = [SIM, "--flash", flash, "--virtual-time", "--duration", str(seconds), "--http", "0", *extra]
        if commands:
            args += ["--exec", commands]
        done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, *args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800)
        m = re.search(r"Collected : (\d+)", done.stderr)
        if not m:
            sys.exit("callgrind gave no count:\n" + done.stderr[-2000:])
        counts[seconds] = int(m.group(1))
        firmware[seconds] = firmware_share(out)
        stdout = done.stdout
    return (counts[360] - counts[60]) / 300, (firmware[360] - firmware[60]) / 300, stdout


def main():
    print("## Main-loop lag (bench/health.py, real time, %d s a case)" % DURATION)
    print()
    print("| case | LoopLagP99 (p99 since boot, bucket bound) | LoopLag (worst, last minute) | served meanwhile |")
    print("|---|---|---|---|")
    sts, power, _, _ = lag_case("lag-metering", False)
    print("| metering at %.0f W | ≤ %d ms | %d ms | — |" % (power, sts["LoopLagP99"], sts["LoopLag"]))
    sts, power, web, mqtt = lag_case("lag-busy", True)
    print("| metering at %.0f W + MQTT (a command / 100 ms, TelePeriod 10) + 4 web clients on /api/state "
          "| ≤ %d ms | %d ms | %d web requests (%.0f/s), %d MQTT commands, %d MQTT replies |"
          % (power, sts["LoopLagP99"], sts["LoopLag"], web, web / DURATION, mqtt["sent"], mqtt["stat"]))
    print()
    print("## Instructions per device-second (bench/health.py, callgrind, virtual time)")
    print()
    print("| plug | instructions per simulated second: the simulator / the firmware's share |")
    print("|---|---|")
    dead = free_port(socket.SOCK_DGRAM)
    broker, port = mosquitto()
    all_drivers = ("SSId1 Home; Password1 correct-horse; Power on; NtpServer1 127.0.0.1:%d; NtpServer2 0; "
                   "NtpServer3 0; startDriver SSDP; SetupEnergyStats 1 60 60; addRepeatingEvent 10 -1 Power on; "
                   "TelePeriod 10; MqttPort %d; MqttHost 127.0.0.1" % (dead, port))
    try:
        per_second, firmware, out = instructions("all", all_drivers, "--load", "3680W", "--wifi",
                                                 "Home:correct-horse")
    finally:
        broker.terminate()
        broker.wait(timeout=5)
    running = [name for name, pattern in (("MQTT connected", r"MQT: connected"), ("SSDP", r"SSDP: UPnP responder"),
                                          ("NTP", r"DRV: NTP started"), ("BL0937", r"DRV: BL0937 started"))
               if re.search(pattern, out)]
    print("| every driver: BL0937 at 3.68 kW (relay on), NTP (a silent server), SSDP, MQTT to mosquitto "
          "(TelePeriod 10), SetupEnergyStats 1 60 60, a script event every 10 s — seen running: %s | %.0f / %.0f |"
          % (", ".join(running), per_second, firmware))


if __name__ == "__main__":
    main()
