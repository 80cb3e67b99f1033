#!/usr/bin/python3
"""Instructions per HTTP request (callgrind), printed as a table: a number
that does not depend on the machine's speed or load.

openplug-sim runs under callgrind with its default 60 W load and the
BL0937 running; instrumentation is switched on only while REQUESTS requests
go over one keep-alive connection (a client that sends the next request
when the last reply is in), then off.  The plug's background work over the
same stretch of time (metering reports, the loop) is measured with no
requests and taken away, so what is left is the requests' own cost:
reading and parsing the request, running the command, writing the JSON and
sending the reply.

    bench/http_cost.py build/host/openplug-sim [REQUESTS]
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.remove(os.path.dirname(os.path.abspath(__file__)))  # bench/http.py is not the standard library's http
import http.client  # noqa: E402

SIM = sys.argv[1]
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 400
TMP = tempfile.mkdtemp(prefix="openplug-bench-cost-")
PATHS = ("/cm?cmnd=Status%208", "/api/state", "/")


def start(name):
    out = os.path.join(TMP, name + ".callgrind")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + out,
                             SIM, "--flash", os.path.join(TMP, name + ".bin"), "--http", "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            bufsize=1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = re.search(r"HTTP: web server on http://127\.0\.0\.1:(\d+)/", proc.stdout.readline())
        if m:
            return proc, int(m.group(1)), out
    proc.kill()
    raise SystemExit("the simulator did not start its web server under valgrind")


def instrument(proc, on):
    subprocess.run(["callgrind_control", "--instr=" + ("on" if on else "off"), str(proc.pid)], check=True,
                   stdout=subprocess.DEVNULL)


def total_ir(proc, out):
    """Dump what was counted, stop the simulator, read the dump's total."""
    subprocess.run(["callgrind_control", "--dump", str(proc.pid)], check=True, stdout=subprocess.DEVNULL)
    proc.kill()
    proc.wait()
    dumps = sorted(f for f in os.listdir(TMP) if f.startswith(os.path.basename(out)))
    with open(os.path.join(TMP, dumps[-1])) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit("no totals in " + dumps[-1])


def measure(path):
    """(instructions, seconds) with instrumentation on around the requests."""
    proc, port, out = start(re.sub(r"\W", "_", path) or "idle")
    time.sleep(3)  # past the boot: the meter reports, Wi-Fi is up
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if path:
        conn.request("GET", path)  # the first request, outside the count: the connection opens
        body = conn.getresponse().read()
    instrument(proc, True)
    began = time.monotonic()
    if path:
        for _ in range(REQUESTS):
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (path, response.status, body[:200])
    else:
        time.sleep(6)
    seconds = time.monotonic() - began
    instrument(proc, False)
    conn.close()
    return total_ir(proc, out), seconds, len(body) if path else 0


def main():
    idle_ir, idle_s, _ = measure("")
    background = idle_ir / idle_s
    rows = []
    for path in PATHS:
        ir, seconds, size = measure(path)
        rows.append((path, size, (ir - background * seconds) / REQUESTS, background * seconds / ir * 100))
    print(f"{REQUESTS} requests per path over one keep-alive connection; background {background:,.0f} instructions/s")
    print("| request | body bytes | instructions per request | background share |")
    print("|---|---|---|---|")
    for path, size, per, share in rows:
        print(f"| GET {path} | {size} | {per:,.0f} | {share:.1f} % |")


if __name__ == "__main__":
    main()
