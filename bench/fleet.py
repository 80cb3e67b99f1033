#!/usr/bin/env python3
"""bench/fleet.py SIM [N] — a fleet of N (100) simulated plugs on one
mosquitto on 127.0.0.1 (processes on the loopback; tests/e2e/fleetlib.py),
printed as a table:

- boot and connect: every plug started, joined, subscribed;
- discovery: every plug found by HA's rules (the schemas of
  tests/e2e/test_hass.py) in Tasmota discovery (SetOption19 0), then in
  HA's MQTT discovery after one group-topic message switched them all;
- the group topic: one `cmnd/fleet/POWER` switches all N, time until the
  last plug's stat/…/POWER reached HA;
- a broker restart: each plug's reconnect delay in its own device time
  (from losing the broker to connected), their spread and the most plugs
  reconnecting within any 100 ms (the herd), all announced again;
- cost at rest (TelePeriod 10): CPU per plug process, the broker's CPU, and
  the broker's message rate (PUBLISH messages in, as a subscriber to `#`
  counts them) at rest and in the discovery burst.

Every wait is bounded.  Needs mosquitto, python3-paho-mqtt, python3-jsonschema.
"""
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/http.py would shadow the standard library's http (paho imports it).
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from fleetlib import Fleet, busiest_window, proc_cpu_seconds, spread  # noqa: E402
from mqttlib import HA, Broker  # noqa: E402

REST_S = 30


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def rows_of(ha, since):
    return len(ha.messages) - since


def main():
    os.environ["OPENPLUG_SIM"] = os.path.abspath(sys.argv[1])
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleet-") as work, \
            tempfile.TemporaryDirectory(prefix="op-", dir="/tmp") as sockdir:
        broker = Broker(work).start()
        fleet = Fleet(work, sockdir, broker, size)
        ha = None
        try:
            t0 = time.monotonic()
            fleet.start()
            rows.append(("boot %d plugs" % size, "%.1f s" % (time.monotonic() - t0)))
            ha = HA(broker.port)
            t0 = time.monotonic()
            fleet.connect(extra=["TelePeriod 10"])
            rows.append(("join + connect + subscribed, all", "%.1f s" % (time.monotonic() - t0)))

            t0 = time.monotonic()
            found = fleet.wait_tasmota_discovery(timeout=60 + size)
            rows.append(("Tasmota discovery (SetOption19 0): plugs valid, MACs unique",
                         "%d of %d (%.1f s)" % (len(found), size, time.monotonic() - t0)))

            mark, t0 = ha.mark(), time.monotonic()
            fleet.group(ha, "SetOption19", "1", "stat/%s/RESULT", '{"SetOption19":"ON"}')
            entities = fleet.wait_ha_discovery(timeout=60 + size)
            burst_s = time.monotonic() - t0
            configs = sum(len(e) for e in entities.values())
            rows.append(("HA discovery after one group message: plugs, entities valid",
                         "%d of %d, %d (%.1f s)" % (len(entities), size, configs, burst_s)))
            rows.append(("  broker messages in, that switch (configs, clears, replies)",
                         "%d in %.1f s: %.0f/s" % (rows_of(ha, mark), burst_s, rows_of(ha, mark) / burst_s)))

            for payload in ("ON", "OFF"):
                times = fleet.group(ha, "POWER", payload, "stat/%s/POWER", payload)
                rows.append(("group POWER %s: all %d switched, p50 / last" % (payload, size),
                             "%.0f / %.0f ms" % (pct(times, 50) * 1000, max(times) * 1000)))

            # at rest
            time.sleep(5)
            cpu0 = fleet.cpu_seconds()
            b0 = proc_cpu_seconds(broker.proc.pid)
            mark, t0 = ha.mark(), time.monotonic()
            time.sleep(REST_S)
            wall = time.monotonic() - t0
            cpu = [(b - a) / wall * 100 for a, b in zip(cpu0, fleet.cpu_seconds())]
            rows.append(("CPU per plug at rest (TelePeriod 10), mean / max",
                         "%.2f / %.2f %% of a core" % (statistics.mean(cpu), max(cpu))))
            rows.append(("CPU of the broker at rest", "%.2f %% of a core" % (
                (proc_cpu_seconds(broker.proc.pid) - b0) / wall * 100)))
            rows.append(("broker messages in at rest", "%.1f/s (%d in %.0f s)" % (
                rows_of(ha, mark) / wall, rows_of(ha, mark), wall)))
            rss = []
            for plug in fleet.plugs:
                with open("/proc/%d/status" % plug.proc.pid) as f:
                    rss += [int(line.split()[1]) for line in f if line.startswith("VmRSS:")]
            rows.append(("memory per plug process (RSS), mean", "%.0f KB" % statistics.mean(rss)))

            # the broker restarts
            t0 = time.monotonic()
            delays, backoffs = fleet.restart_broker()
            back_s = time.monotonic() - t0
            first = [chosen[0] for chosen in backoffs]
            rows.append(("broker restart: back-off drawn (first), min / max",
                         "%d / %d ms, %d distinct" % (min(first), max(first), len(set(first)))))
            rows.append(("  reconnect delay (device time), min / p50 / max",
                         "%.0f / %.0f / %.0f ms" % (min(delays) * 1000, pct(delays, 50) * 1000,
                                                    max(delays) * 1000)))
            rows.append(("  reconnect spread, most within any 100 ms",
                         "%.0f ms, %d of %d" % (spread(delays) * 1000, busiest_window(delays, 0.1), size)))
            rows.append(("  all back and subscribed (wall)", "%.1f s" % back_s))
            ha.wait_connected(timeout=60)
            t0 = time.monotonic()
            entities = fleet.wait_ha_discovery(timeout=60 + size)
            rows.append(("  announced again (retained configs lost with the broker)",
                         "%d of %d (%.1f s)" % (len(entities), size, time.monotonic() - t0)))
        finally:
            if ha:
                ha.close()
            fleet.stop()
            broker.stop()
    print("## A fleet of %d plugs on one mosquitto (bench/fleet.py; loopback, %d CPUs)" % (size, os.cpu_count()))
    print()
    print("| What | Figure |")
    print("|---|---|")
    for what, figure in rows:
        print("| %s | %s |" % (what, figure))


if __name__ == "__main__":
    main()
