#!/usr/bin/env python3
"""console_session.py — a scripted serial console session with the whole
firmware on QEMU's virt machine (the qemu-virt board, src/port/qemu-virt).

QEMU's serial port is this script's pipes (stdin/stdout); each step types a
command and waits for the reply it must produce, with a deadline per step
(a generous one: the deadlines bound the run, they assert nothing about
speed).  The session:
  the relay is off at first power-on; `Power on` -> {"POWER":"ON"};
  `Status 8` -> StatusSNS with the ENERGY counters and nothing the board
  cannot measure (it has no metering chip);
  `DeviceName` and `PowerOnState` changed; `Restart 1`;
  after the reset: the reset reason is the restart command, the settings
  read back as set and the relay is on again (PowerOnState 3 restores it).
The board prints its memory figures when it resets (static RAM from the
linker's symbols, the _sbrk high-water mark, the loop stack's painted
high-water mark); the script checks them for sense and prints them.
"""
import argparse
import json
import queue
import re
import subprocess
import sys
import threading
import time

STEP_SECONDS = 30
MEMORY_LINE = re.compile(r"qemu-virt: memory: static RAM (\d+) B \(data (\d+) \+ bss (\d+)\), "
                         r"heap peak (\d+) of (\d+) B, loop stack high-water (\d+) of (\d+) B")


class Console:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        self.transcript = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.process.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self.lines.put(None)

    def type(self, command):
        print(f">>> {command}", flush=True)
        self.process.stdin.write((command + "\n").encode())
        self.process.stdin.flush()

    def expect(self, pattern, what):
        """The first line from now on matching `pattern` (a regex)."""
        regex = re.compile(pattern)
        while True:
            try:
                line = self.lines.get(timeout=STEP_SECONDS)
            except queue.Empty:
                raise AssertionError(f"no {what} within {STEP_SECONDS} s")
            if line is None:
                raise AssertionError(f"QEMU ended before {what} (exit {self.process.wait()})")
            print(line, flush=True)
            self.transcript.append(line)
            match = regex.search(line)
            if match:
                return match

    def reply(self, command, key):
        """Type a command and return its JSON reply holding `key`."""
        self.type(command)
        match = self.expect(r'^\{"%s"' % re.escape(key), f"reply to {command!r}")
        return json.loads(match.string)

    def close(self):
        self.process.kill()
        self.process.wait()


def memory_figures(match):
    static, data, bss, heap_peak, heap_size, stack_peak, stack_size = (int(g) for g in match.groups())
    assert static == data + bss and bss > 0, match.string
    assert 0 < heap_peak <= heap_size, match.string
    assert 0 < stack_peak < stack_size, match.string
    return {"static_ram": static, "data": data, "bss": bss, "heap_peak": heap_peak,
            "heap_size": heap_size, "stack_peak": stack_peak, "stack_size": stack_size}


def status_sns_with_energy(console):
    """Status 8 until it holds ENERGY (the meter runs: the counters are
    there from its start)."""
    deadline = time.monotonic() + STEP_SECONDS
    while True:
        sns = console.reply("Status 8", "StatusSNS")["StatusSNS"]
        if "ENERGY" in sns or time.monotonic() > deadline:
            return sns
        time.sleep(0.5)


def session(console):
    console.expect(r"BOOT: .* reset reason: Power on", "first boot line")
    assert console.reply("Power", "POWER") == {"POWER": "OFF"}, "a new plug starts with the relay off"
    assert console.reply("Power on", "POWER") == {"POWER": "ON"}
    sns = status_sns_with_energy(console)
    assert {"TotalStartTime", "Total", "Yesterday", "Today"} <= set(sns["ENERGY"]), sns
    # No chip on this board: no CF1 pulse, so no voltage or current is shown
    # (a quantity never measured is left out), and no power until the meter
    # has waited two periods of a 0.3 W load (12.4 s) without a CF pulse.
    assert not {"Voltage", "Current"} & set(sns["ENERGY"]), sns
    assert sns["ENERGY"].get("Power", 0) == 0, sns
    assert console.reply("DeviceName Qemu Kitchen", "DeviceName") == {"DeviceName": "Qemu Kitchen"}
    assert console.reply("PowerOnState 3", "PowerOnState") == {"PowerOnState": 3}

    console.type("Restart 1")
    figures = memory_figures(console.expect(MEMORY_LINE.pattern, "memory figures at the reset"))
    console.expect(r"BOOT: .* reset reason: Restart command", "boot line after the restart")
    assert console.reply("DeviceName", "DeviceName") == {"DeviceName": "Qemu Kitchen"}, "setting lost"
    assert console.reply("PowerOnState", "PowerOnState") == {"PowerOnState": 3}, "setting lost"
    assert console.reply("Power", "POWER") == {"POWER": "ON"}, "relay state lost across the reset"
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qemu", default="qemu-system-riscv32")
    parser.add_argument("--firmware", required=True)
    args = parser.parse_args()
    console = Console([args.qemu, "-machine", "virt", "-bios", "none", "-m", "128M", "-display", "none",
                       "-serial", "stdio", "-monitor", "none", "-kernel", args.firmware])
    try:
        figures = session(console)
    except (AssertionError, KeyError, ValueError) as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        console.close()
    print("qemu-virt memory after the session: static RAM {static_ram} B (data {data} + bss {bss}), "
          "peak heap {heap_peak} B of {heap_size} B, loop stack high-water {stack_peak} B of {stack_size} B"
          .format(**figures))
    print("OK: console session passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
