#!/usr/bin/python3
"""Instructions per HTTP request (callgrind), printed as a table: a number
that does not depend on the machine's speed or load.

openplug-sim runs under callgrind with its default 60 W load switched on
and the BL0937 running, measured in full (power, voltage, current: the
Status 8 body as a user sees it); instrumentation is switched on only while
REQUESTS requests
go over one keep-alive connection (a client that sends the next request
when the last reply is in), then the counts are dumped.  What is counted
is the cost inclusive of the web server's poller (http.c's poll_http):
reading and parsing each request, running the command, writing the JSON
and sending the reply — the plug's background work (metering, timers)
never enters.

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
# What a full body holds (the meter measured every quantity).
MEASURED = {"/cm?cmnd=Status%208": (b'"Power"', b'"Factor"', b'"Voltage"', b'"Current"'),
            "/api/state": (b'"power_w"', b'"factor"', b'"voltage_v"', b'"current_a"')}
POLLER = "poll_http"


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


def control(proc, *args):
    subprocess.run(["callgrind_control", *args, str(proc.pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def poller_cost(proc, out):
    """Dump, stop the simulator, and read the poller's inclusive count."""
    control(proc, "--dump")
    proc.kill()
    proc.wait()
    dump = sorted(f for f in os.listdir(TMP) if f.startswith(os.path.basename(out) + "."))[-1]
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", os.path.join(TMP, dump)], check=True,
                          capture_output=True, text=True).stdout
    for line in text.splitlines():
        if line.rstrip().endswith("]") and (":" + POLLER + " ") in line:
            return int(line.split()[0].replace(",", ""))
    raise SystemExit("no %s in %s" % (POLLER, dump))


def measure(path):
    """(instructions per request, body bytes, whether every body had the first one's members)."""
    proc, port, out = start(re.sub(r"\W", "_", path))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/cm?cmnd=Power%20on")
    conn.getresponse().read()
    deadline = time.monotonic() + 120  # the meter measures every quantity (slowly: valgrind)
    while time.monotonic() < deadline:
        conn.request("GET", "/cm?cmnd=Status%208")
        body = conn.getresponse().read()
        if all(m in body for m in MEASURED["/cm?cmnd=Status%208"]):
            break
        time.sleep(1)
    else:
        raise SystemExit("the meter did not measure voltage and current under valgrind in 120 s")
    conn.request("GET", path)  # the first request, outside the count
    members = re.findall(rb'"(\w+)":', conn.getresponse().read())
    control(proc, "--instr=on")
    complete = True
    for _ in range(REQUESTS):
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status, body[:200])
        complete = complete and re.findall(rb'"(\w+)":', body) == members and all(m in body for m in MEASURED.get(path, ()))
    control(proc, "--instr=off")
    conn.close()
    return poller_cost(proc, out) / REQUESTS, len(body), complete


def measure_complete(path, attempts=3):
    """A starved simulator (a loaded machine) can lose a reading for a
    moment, and a body with fewer members costs less: such a run is
    measured again."""
    for _ in range(attempts):
        per, size, complete = measure(path)
        if complete:
            return per, size
    raise SystemExit("%s: the body's members changed during every run (machine too loaded?)" % path)


def main():
    print(f"{REQUESTS} requests per path over one keep-alive connection, instructions inclusive of {POLLER}")
    print("| request | body bytes | instructions per request |")
    print("|---|---|---|")
    for path in PATHS:
        per, size = measure_complete(path)
        print(f"| GET {path} | {size} | {per:,.0f} |")


if __name__ == "__main__":
    main()
