#!/usr/bin/python3
"""Foundation benchmarks of openplug-sim, printed as tables:

1. Idle cost: instructions per simulated second of an idle plug, counted
   by callgrind (stable whatever the machine is doing): the difference
   between a 3660 s and a 60 s virtual-time run, divided by 3600.  "Idle"
   is nothing to do: a template without metering pins (set in the flash
   image beforehand), so no pulses to time; and, for comparison, the
   default metering plug on 230 V (1468 voltage pulses a second, relay open).
2. Virtual-time speed: wall time to run 24 h of device time (median of 5),
   idle as above.
3. Relay record endurance: toggles per 4 KiB sector erase, and the flash
   life this gives at 100k erase cycles.
4. Boot to relay: microseconds from reset to the relay being driven, with
   real flash timing (median of 9 boots after a power cut).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

SIM = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="openplug-bench-")
SUMMARY = re.compile(r"after ([\d.]+) s of device time \(boot \d+, (\d+) flash operations, (\d+) erases\)")


def sim(*args, flash="bench.bin", tool=()):
    path = os.path.join(TMP, flash)
    done = subprocess.run([*tool, SIM, "--flash", path, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600, check=False)
    return done


NO_METER = '{"name":"no meter","pins":{"2":"Rel;1","17":"Btn;1","20":"LED_n;1"}}'


def no_meter_image(name):
    """A flash image whose template has no metering pins, and no NTP server
    (else the host's resolver, failing name lookups in glibc's threads,
    would be counted as the plug's work)."""
    sim("--virtual-time", "--duration", "0.1", "--exec",
        f"Template {NO_METER}; NtpServer1 0; NtpServer2 0; NtpServer3 0", flash=name)
    return name


def idle_instructions(metering):
    counts = {}
    for seconds in (60, 3660):
        out = os.path.join(TMP, f"callgrind.{seconds}")
        flash = f"idle{seconds}{metering}.bin" if metering else no_meter_image(f"idle{seconds}.bin")
        done = sim("--virtual-time", "--duration", str(seconds), flash=flash,
                   tool=("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"))
        match = re.search(r"Collected : (\d+)", done.stderr)
        if not match:
            sys.exit("callgrind gave no count:\n" + done.stderr)
        counts[seconds] = int(match.group(1))
    return counts, (counts[3660] - counts[60]) / 3600


def day_wall_seconds():
    times = []
    for run in range(5):
        start = time.perf_counter()
        done = sim("--virtual-time", "--duration", "86400", flash=no_meter_image(f"day{run}.bin"))
        times.append(time.perf_counter() - start)
        assert "after 86400.000 s" in done.stderr, done.stderr
    return statistics.median(times), times


def endurance(toggles=1280):
    base = sim("--virtual-time", "--duration", "1", flash="wear.bin")
    ops0, erases0 = map(int, SUMMARY.search(base.stderr).groups()[1:])
    os.remove(os.path.join(TMP, "wear.bin"))
    done = sim("--virtual-time", "--duration", "60", "--exec", "; ".join(["Power toggle"] * toggles),
               flash="wear.bin")
    ops, erases = map(int, SUMMARY.search(done.stderr).groups()[1:])
    return toggles, erases - erases0, ops - ops0


def boot_to_relay(boots=9):
    sim("--virtual-time", "--duration", "1", "--exec", "Power on", flash="boot.bin")
    samples = []
    for _ in range(boots):
        done = sim("--flash-timing", "real", "--virtual-time", "--duration", "0.5", flash="boot.bin")
        match = re.search(r"relays restored by PowerOnState \d, (\d+) us after reset", done.stdout)
        samples.append(int(match.group(1)))
    return statistics.median(samples), samples


def main():
    counts, per_second = idle_instructions(False)
    _, metering = idle_instructions(True)
    print("## Idle plug (callgrind, --virtual-time)")
    print(f"| run | instructions |\n|---|---:|\n| 60 s | {counts[60]:,} |\n| 3660 s | {counts[3660]:,} |")
    print(f"| **per simulated second, nothing to do** | **{per_second:,.0f}** |")
    print(f"| per simulated second, metering 230 V (relay open) | {metering:,.0f} |\n")

    median, times = day_wall_seconds()
    print("## 24 h of device time in --virtual-time, nothing to do (wall clock, 5 runs)")
    print("| median | min | max |\n|---:|---:|---:|")
    print(f"| {median:.3f} s | {min(times):.3f} s | {max(times):.3f} s |\n")

    toggles, erases, ops = endurance()
    per_erase = toggles / erases if erases else float("inf")
    years = 100_000 * per_erase * 2 / 100 / 365  # 2 sectors in the ring, 100 toggles a day
    print("## Relay state record wear (4 KiB sectors, 2-sector ring)")
    print("| toggles | sector erases | flash operations | toggles per erase | life at 100 toggles/day, 100k cycles |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {toggles} | {erases} | {ops} | {per_erase:.0f} | {years:,.0f} years |\n")

    median, samples = boot_to_relay()
    print("## Reset to relay driven (--flash-timing real, 9 boots)")
    print(f"| median | max |\n|---:|---:|\n| {median} us | {max(samples)} us |")


if __name__ == "__main__":
    main()
