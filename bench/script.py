#!/usr/bin/python3
"""Scripting benchmarks of openplug-sim, printed as a table: what script
load costs the rest of the plug.

Each case runs a real-time plug with metering at 3.68 kW (relay on, ~3500
interrupts/s) for DURATION seconds (default 5) and reads, from Status 11,
the main loop's lag (LoopLag: the worst of the last minute; LoopLagP99:
since boot), and how many script commands ran (listEvents' Commands):
  a. no script (the reference);
  b. 8 repeating events firing every second (the table's limit);
  c. an autoexec.bat of 300 lines (near the 8128-byte limit) run at boot (the time until its last
     line ran, from the log: 4 commands a loop turn);
  d. a runaway handler (OnChannelChange toggling its own channel) plus
     the 8 repeating events.
Lag is the time any waiting work (the button, a socket) waits for the
loop: the budget of 4 script commands a turn keeps it small.  The lag is
real time on a shared machine, so each case runs 3 times and the table
shows the median (case a is the noise floor).

    bench/script.py build/host/openplug-sim [DURATION]
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

SIM = sys.argv[1]
DURATION = int(sys.argv[2]) if len(sys.argv) > 2 else 5
TMP = tempfile.mkdtemp(prefix="openplug-bench-script-")
# the file store in the flash image (files.h): media sector 24; the media
# partition's address from the one layout (tools/mkflash, beside the simulator)
_LAYOUT = subprocess.run([os.path.join(os.path.dirname(SIM), "mkflash"), "layout"], capture_output=True, text=True,
                         check=True, timeout=10).stdout
FILES = int(next(line.split()[2] for line in _LAYOUT.splitlines() if line.startswith("media ")), 16) + 24 * 4096


class Plug:
    def __init__(self, flash, *args):
        self.proc = subprocess.Popen([SIM, "--flash", flash, "--http", "0", "--load", "3680W", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=open(flash + ".stderr", "w"), text=True, bufsize=1)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def cmd(self, text, key, timeout=10):
        start = len(self.lines)
        self.proc.stdin.write(text + "\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                if line.startswith("{") and key in line:
                    return json.loads(line)
            time.sleep(0.02)
        sys.exit("no reply to %r" % text)

    def wait(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        sys.exit("no line matching %r" % pattern)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


def with_autoexec(flash, text):
    """A flash image whose file store holds autoexec.bat (files.c's format)."""
    subprocess.run([SIM, "--flash", flash, "--virtual-time", "--duration", "0.1"], capture_output=True, check=True)
    data = text.encode()
    head = struct.pack("<IIIII40s", 0x3146504F, 1, len(data), zlib.crc32(data), 0, b"autoexec.bat")
    with open(flash, "r+b") as f:
        f.seek(FILES)
        f.write(head + struct.pack("<I", zlib.crc32(head)) + data)


def case(name, setup=(), autoexec=None):
    flash = os.path.join(TMP, re.sub(r"[^a-z0-9]+", "-", name) + ".bin")
    if autoexec:
        with_autoexec(flash, autoexec)
    plug = Plug(flash)
    plug.cmd("Power on", "POWER")
    for line in setup:
        plug.cmd(line, "")
    finished = ""
    if autoexec:
        last = plug.wait(r"SCR: autoexec.bat: Status 0")
        first = plug.wait(r"SCR: running autoexec.bat")
        finished = "%.3f s" % (seconds(last) - seconds(first))
    time.sleep(DURATION)
    sts = plug.cmd("Status 11", "StatusSTS")["StatusSTS"]
    events = plug.cmd("listEvents", "Events")["Events"]
    plug.stop()
    return name, sts["LoopLag"], sts["LoopLagP99"], events["Commands"], events["Runaways"], finished


def median_case(name, setup=(), autoexec=None):
    runs = [case("%s-%d" % (name, i), setup, autoexec) for i in range(3)]
    mid = lambda k: sorted(r[k] for r in runs)[1]
    return name, mid(1), mid(2), mid(3), mid(4), sorted(r[5] for r in runs)[1]


def seconds(line):
    h, m, s = line.split(" ", 1)[0].split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def main():
    repeating = ["addRepeatingEvent 1 -1 if $power > 100 then Power" for _ in range(8)]
    rows = [
        median_case("a. no script"),
        median_case("b. 8 repeating events/s", repeating),
        median_case("c. autoexec.bat, 300 lines (7.5 KB)", autoexec="".join("if $CH1 == %d then Power\n" % (i % 2)
                                                               for i in range(299)) + "Status 0\n"),
        median_case("d. runaway handler + 8 repeating", ["addEventHandler OnChannelChange 1 toggleChannel 1"] + repeating
             + ["Power off"]),
    ]
    print("## Script load and the main loop (bench/script.py, %d s real time each, median of 3, metering at 3.68 kW)" % DURATION)
    print()
    print("| case | LoopLag (ms, worst of the last minute) | LoopLagP99 (ms) | script commands run | runaways stopped | autoexec run time |")
    print("|---|---|---|---|---|---|")
    for name, lag, p99, commands, runaways, finished in rows:
        print("| %s | %s | %s | %s | %s | %s |" % (name, lag, p99, commands, runaways, finished or "—"))


main()
