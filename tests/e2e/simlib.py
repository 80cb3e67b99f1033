"""Helpers to drive openplug-sim from the end-to-end tests.

- Plug: a live simulator in real time, with its console (stdin/stdout) and
  its world socket (buttons, power cuts, hangs, pin levels).
- run_sim(): run the simulator to completion (usually --virtual-time
  --duration) and collect its output.
- The PSM flash layout and record format, to read and forge records in a
  flash image.

Only the standard library is used.  Every wait has a timeout.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
import zlib

SIM_ENV = "OPENPLUG_SIM"
DEFAULT_SIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "host", "openplug-sim")

EXIT_POWERCUT = 3

# ---- Flash layout (src/core/storage/layout.h, src/port/host/sim_flash.c) ----
FLASH_SIZE = 2 * 1024 * 1024
SECTOR = 4096
PSM = 0x1E9000
CONFIG_OFFSET = PSM  # settings ring: PSM sectors 0-3, 2048-byte slots
CONFIG_SECTORS = 4
CONFIG_SLOT = 2048
CONFIG_MAGIC = 0xC5
BOOT_OFFSET = PSM + 4 * SECTOR  # relay boot record ring: PSM sectors 4-5, 32-byte slots
BOOT_SECTORS = 2
BOOT_SLOT = 32
BOOT_MAGIC = 0xB7
HEADER = struct.Struct("<IHBBI")  # seq, len, version, magic, crc

ROLES = ["none", "Rel", "Rel_n", "LED", "LED_n", "WifiLED", "WifiLED_n", "Btn", "Btn_n",
         "BL0937CF", "BL0937CF1", "BL0937SEL", "BL0937SEL_n", "HLW8012CF", "BL0942TX", "BL0942RX",
         "TglChanOnTgl", "Btn_Tgl_All", "Btn_Tgl_All_n", "AlwaysHigh", "AlwaysLow", "Btn_ScriptOnly",
         "Btn_ScriptOnly_n", "PWM", "PWM_n"]

DEFAULT_TEMPLATE = {"name": "SM-028_V1.3",
                    "pins": {"2": "Rel;1", "3": "BL0937CF1;0", "14": "BL0937CF;0",
                             "17": "Btn;1", "20": "LED_n;1", "21": "BL0937SEL;0"},
                    "command": ""}

RELAY_GPIO = 2
LED_GPIO = 20
BUTTON_GPIO = 17
CF_GPIO = 14   # the simulated BL0937's outputs: they pulse by themselves
CF1_GPIO = 3
SEL_GPIO = 21


def free_port():
    """A TCP port free now on 127.0.0.1 (a plug that restarts keeps it, where
    --http 0 would take another at each boot)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def steady(pins):
    """A pins() snapshot without the levels of the BL0937's pulsing outputs,
    to compare two snapshots taken at different instants."""
    return {gpio: (dict(state, level=None) if gpio in (CF_GPIO, CF1_GPIO) else state)
            for gpio, state in pins.items()}

SUMMARY_RE = re.compile(r"openplug-sim: (?P<why>.*?) after (?P<seconds>[0-9.]+) s of device time "
                        r"\(boot (?P<boot>\d+), (?P<ops>\d+) flash operations(?:, (?P<erases>\d+) erases)?\)")


LOG_TIME_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) ")


def log_seconds(line):
    """The device time of a console log line ("HH:MM:SS.mmm …": time since
    that boot), in seconds.  Device time is the firmware's own clock: exact
    in --virtual-time, and free of the test's own delays in real time."""
    m = LOG_TIME_RE.match(line)
    assert m, line
    h, mi, s, ms = (int(g) for g in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


def wait_until(predicate, timeout=5, what="a condition"):
    """Poll predicate() until it returns something true; return that.  For
    what the firmware does in its own time: a generous timeout, never a
    fixed sleep followed by an assert."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def sim_path():
    path = os.environ.get(SIM_ENV, DEFAULT_SIM)
    if not os.access(path, os.X_OK):
        raise RuntimeError("openplug-sim not found at %s: build it, or set %s" % (path, SIM_ENV))
    return path


def record(seq, version, magic, payload):
    """One reclog record: header then payload, as stored in a slot."""
    head = struct.pack("<IHBB", seq, len(payload), version, magic)
    crc = zlib.crc32(head + payload) & 0xFFFFFFFF
    return head + struct.pack("<I", crc) + payload


def config_v1_payload(device_name, power_on_state, pins):
    """The version-1 settings layout (98 bytes); pins: {gpio: (role name, channel)}."""
    name = device_name.encode()
    assert len(name) <= 32
    table = [(0, 0)] * 32
    for gpio, (role, channel) in pins.items():
        table[gpio] = (ROLES.index(role), channel)
    payload = name.ljust(33, b"\0") + bytes([power_on_state]) + b"".join(bytes(p) for p in table)
    assert len(payload) == 98
    return payload


def patch_flash(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def flash_layout(sim=None):
    """The partition table the simulator writes on a fresh flash, as
    tools/mkflash prints it (core/ota/ptable.c: one table for the packer,
    the simulator and the docs): {name: (address0, size0, address1, size1)}."""
    mkflash = os.path.join(os.path.dirname(sim or sim_path()), "mkflash")
    out = subprocess.run([mkflash, "layout"], capture_output=True, text=True, check=True, timeout=10).stdout
    return {f[0]: tuple(int(x, 16) for x in f[2:6])
            for f in (line.split() for line in out.splitlines() if line and not line.startswith("#"))}


def read_flash(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def valid_records(path, offset, sectors, slot, magic):
    """[(slot index, seq, version, payload)] of every record whose CRC is good."""
    area = read_flash(path, offset, sectors * SECTOR)
    found = []
    for i in range(sectors * SECTOR // slot):
        raw = area[i * slot:(i + 1) * slot]
        seq, length, version, rec_magic, crc = HEADER.unpack_from(raw)
        if rec_magic != magic or length > slot - HEADER.size:
            continue
        payload = raw[HEADER.size:HEADER.size + length]
        if zlib.crc32(raw[:8] + payload) & 0xFFFFFFFF == crc:
            found.append((i, seq, version, payload))
    return found


# ---- Running to completion ----

class SimResult:
    def __init__(self, args, returncode, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.lines = stdout.splitlines()
        self.summaries = list(SUMMARY_RE.finditer(stderr))  # one per reboot, then the last one
        m = self.summaries[-1] if self.summaries else None
        self.summary = m
        self.why = m.group("why") if m else None
        self.seconds = float(m.group("seconds")) if m else None
        self.boot = int(m.group("boot")) if m else None
        self.flash_ops = int(m.group("ops")) if m else None
        self.flash_erases = int(m.group("erases")) if m and m.group("erases") else None

    @property
    def replies(self):
        """Every JSON reply line, parsed, in order."""
        return [json.loads(line) for line in self.lines if line.startswith("{")]

    def logs(self, pattern):
        return [line for line in self.lines if re.search(pattern, line)]

    def __repr__(self):
        return "SimResult(rc=%r, stderr=%r, stdout tail=%r)" % (self.returncode, self.stderr[-500:],
                                                               self.lines[-15:])


def run_sim(flash, *args, duration=None, exec_=None, stdin_lines=None, virtual=True, timeout=60, tmp=None):
    """Run openplug-sim until it stops by itself and return a SimResult.

    stdin_lines: console input, given through a regular file so that it is
    all there from the start (in virtual time the simulator never waits for
    input); needs tmp, a directory for that file.
    """
    cmd = [sim_path(), "--flash", str(flash)]
    if virtual:
        cmd.append("--virtual-time")
    if duration is not None:
        cmd += ["--duration", str(duration)]
    if exec_ is not None:
        cmd += ["--exec", exec_]
    cmd += [str(a) for a in args]
    stdin = subprocess.DEVNULL
    if stdin_lines is not None:
        assert tmp is not None, "stdin_lines needs tmp"
        path = os.path.join(str(tmp), "console-input-%d.txt" % time.monotonic_ns())
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in stdin_lines))
        stdin = open(path, "rb")
    try:
        proc = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    finally:
        if stdin is not subprocess.DEVNULL:
            stdin.close()
    return SimResult(cmd, proc.returncode, proc.stdout.decode(errors="replace"),
                     proc.stderr.decode(errors="replace"))


# ---- A live plug ----

class Plug:
    """openplug-sim running in real time, console on pipes, world on a UNIX socket."""

    BOOTED_RE = r"PWR: (relays restored by PowerOnState|no relay record)"
    MAX_DEVICE_S = 3600

    def __init__(self, flash, world, *args, flash_timing=None):
        self.flash = str(flash)
        self.world_path = str(world)
        self.args = [str(a) for a in args]
        if "--duration" not in self.args:
            # a ceiling, far above any test: a plug orphaned by a killed test
            # run (the fixture never gets to kill it) still ends by itself
            self.args += ["--duration", str(self.MAX_DEVICE_S)]
        if flash_timing:
            self.args += ["--flash-timing", flash_timing]
        self.proc = None
        self.lines = []
        self.stderr_lines = []
        self._cond = threading.Condition()
        self._reply_pos = 0  # index in lines after the last reply consumed
        self._threads = []
        self.presses_made = 0

    # -- life cycle --

    def start(self, wait_boot=True, timeout=10):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if self.proc is not None:
            self._close_pipes()
        self.boot_mark = len(self.lines)
        self._reply_pos = self.boot_mark
        cmd = [sim_path(), "--flash", self.flash, "--world", self.world_path] + self.args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self._threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines),
                                          daemon=True)]
        for t in self._threads:
            t.start()
        if wait_boot:
            self.wait_log(self.BOOTED_RE, since=self.boot_mark, timeout=timeout)
        return self

    def _pump(self, stream, into):
        for raw in iter(stream.readline, b""):
            with self._cond:
                into.append(raw.decode(errors="replace").rstrip("\r\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=10):
        """Wait for the process to end; returns its exit status."""
        rc = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=5)
        return rc

    def stop(self, timeout=5):
        """SIGTERM (a clean stop, exit 0); kill if it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self._close_pipes()
        return self.proc.returncode

    def _close_pipes(self):
        for t in self._threads:
            t.join(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self._close_pipes()

    # -- console --

    def mark(self):
        """A position in the console output, for wait_log(since=...)."""
        with self._cond:
            return len(self.lines)

    def send(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def _wait(self, find, timeout, what):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = find()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if self.proc.poll() is not None and all(not t.is_alive() for t in self._threads):
                    break  # nothing more will come
                self._cond.wait(min(left, 0.1))
        raise AssertionError("timed out after %.1f s waiting for %s; exit status %r; console tail:\n%s\nstderr:\n%s"
                             % (timeout, what, self.proc.poll(), "\n".join(self.lines[-25:]),
                                "\n".join(self.stderr_lines[-5:])))

    def replies(self, text, count, timeout=5):
        """Type a command line; return its next `count` JSON replies, parsed."""
        self.send(text)

        def find():
            found = []
            for i in range(self._reply_pos, len(self.lines)):
                if self.lines[i].startswith("{"):
                    found.append((i, self.lines[i]))
                    if len(found) == count:
                        self._reply_pos = i + 1
                        return [json.loads(line) for _, line in found]
            return None
        return self._wait(find, timeout, "%d repl%s to %r" % (count, "y" if count == 1 else "ies", text))

    def help_commands(self, text="Help", timeout=5):
        """{name: description} of every command, from Help's replies (one per
        module; a DeviceName query after it marks where they end)."""
        self.send(text)
        self.send("DeviceName")

        def find():
            found = []
            for i in range(self._reply_pos, len(self.lines)):
                if self.lines[i].startswith('{"DeviceName"'):
                    self._reply_pos = i + 1
                    return found
                if self.lines[i].startswith("{"):
                    found.append(json.loads(self.lines[i]))
            return None
        tables = self._wait(find, timeout, "Help's replies")
        commands = {}
        for table in tables:
            assert list(table) == ["Commands"], table
            commands.update(table["Commands"])
        return commands

    def cmd(self, text, timeout=5):
        """Type a command; return the parsed JSON of its reply."""
        return self.replies(text, 1, timeout)[0]

    def wait_log(self, pattern, since=0, timeout=5):
        """Wait for a console line matching the regex at or after index `since`; returns the match."""
        regex = re.compile(pattern)

        def find():
            for i in range(since, len(self.lines)):
                m = regex.search(self.lines[i])
                if m:
                    return m
            return None
        return self._wait(find, timeout, "a line matching %r" % pattern)

    def log_lines(self, pattern, since=0):
        regex = re.compile(pattern)
        with self._cond:
            return [line for line in self.lines[since:] if regex.search(line)]

    def wait_stderr(self, pattern, timeout=5):
        regex = re.compile(pattern)

        def find():
            for line in self.stderr_lines:
                m = regex.search(line)
                if m:
                    return m
            return None
        return self._wait(find, timeout, "a stderr line matching %r" % pattern)

    # -- world --

    def world(self, request, timeout=5):
        """Send one world request; return the reply line (without its newline)."""
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                s.connect(self.world_path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline or not self.running():
                    raise
                time.sleep(0.01)
        try:
            s.sendall((request + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        return data.decode().rstrip("\n")

    def pins(self):
        """{gpio: {"mode": …, "level": …, "changes": …}} for GPIO0..22."""
        reply = self.world("pins")
        assert reply.startswith("ok "), reply
        return {int(k): v for k, v in json.loads(reply[3:]).items()}

    def press(self, gpio, ms=100):
        reply = self.world("press %d %d" % (gpio, ms))
        assert reply.startswith("ok "), reply
        self.presses_made += 1  # the simulator stamped it (press_stamps)
        return reply

    PRESSED_RE = re.compile(r"openplug-sim: world: GPIO\d+ pressed for \d+ ms from ([0-9.]+) s of device time")

    def press_stamps(self, count, timeout=5):
        """Device times (s, counted from power-on) of the last `count` presses
        made, as the simulator stamps them on stderr (waited for: stderr is
        read by a thread of its own)."""
        made = self.presses_made

        def find():
            found = [float(m.group(1)) for m in map(self.PRESSED_RE.search, self.stderr_lines) if m]
            return found[made - count:made] if len(found) >= made else None
        return self._wait(find, timeout, "the simulator's stamps of %d presses" % made)

    def press_twice(self, gpio, ms=80, gap=0.15, within=0.3, attempts=5):
        """Two presses `gap` s apart by the test's clock, which a loaded host
        may stretch: tried again (after a pause out of the double-click time)
        until the simulator's stamps show the second came within `within` s of
        device time of the first.  Returns the console mark before that pair."""
        for _ in range(attempts):
            mark = self.mark()
            self.press(gpio, ms)
            time.sleep(gap)
            self.press(gpio, ms)
            first, second = self.press_stamps(2)
            if second - first <= within:
                return mark
            time.sleep(1)
        raise AssertionError("the host never let the test press twice within %.1f s of device time" % within)

    # -- whole-plug actions --

    def restart(self, timeout=10):
        """Restart 1 on the console; returns once the next boot is up."""
        mark = self.mark()
        assert self.cmd("Restart 1") == {"Restart": "Restarting"}
        self.wait_log(r"BOOT: .*reset reason: Restart command \(console\)", since=mark, timeout=timeout)
        self.boot_mark = mark
        self.wait_log(self.BOOTED_RE, since=mark, timeout=timeout)
        return self

    def powercut(self, timeout=10):
        """Pull the plug through the world socket; returns the exit status (3)."""
        assert self.world("powercut") == "ok power cut"
        return self.wait_exit(timeout)

    def reboot(self, how):
        """Reboot by "restart" (Restart 1) or "powercut" (then plugged in again)."""
        if how == "restart":
            self.restart()
        else:
            assert self.powercut() == 3
            self.start()
            self.wait_log(r"BOOT: .*reset reason: Power on", since=self.boot_mark)

    def power(self):
        """The relay channel state as the firmware reports it: True for ON."""
        reply = self.cmd("Power")
        assert reply in ({"POWER": "ON"}, {"POWER": "OFF"}), reply
        return reply["POWER"] == "ON"
