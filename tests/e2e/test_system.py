"""The simulated plug as a whole: start-up, console, time, watchdog, restarts.

Covers: a `make run`-like start (real flash timing) where `Power toggle`
typed on the console switches the relay and its LED together; the main
loop keeps running while nobody types (the console is a blocking pipe or a
terminal) and after the end of input; SIGTERM stops cleanly; --version; a
full day of virtual time; the hardware watchdog rebooting a hung plug with
the relay kept; restart reasons (Power on, Restart command, Factory reset,
Hardware watchdog) and that Reset 1 brings back the defaults.
"""
import re
import subprocess
import time

from simlib import BUTTON_GPIO, DEFAULT_TEMPLATE, LED_GPIO, RELAY_GPIO, run_sim, sim_path


def test_smoke_power_toggle_switches_relay_and_led(make_plug, tmp_path):
    plug = make_plug(tmp_path / "openplug-flash.bin", flash_timing="real")
    plug.wait_log(r"BOOT: OpenPlug \S+ on BL602 .*reset reason: Power on")
    pins = plug.pins()
    assert (pins[RELAY_GPIO]["level"], pins[LED_GPIO]["level"]) == (0, 1)
    assert plug.cmd("Power toggle") == {"POWER": "ON"}
    plug.wait_log(r"PWR: channel 1 ON \(console\)")
    pins = plug.pins()
    assert (pins[RELAY_GPIO]["level"], pins[LED_GPIO]["level"]) == (1, 0)
    assert plug.cmd("Power toggle") == {"POWER": "OFF"}
    pins = plug.pins()
    assert (pins[RELAY_GPIO]["level"], pins[LED_GPIO]["level"]) == (0, 1)
    assert (pins[RELAY_GPIO]["changes"], pins[LED_GPIO]["changes"]) == (2, 2)
    assert plug.world("help").startswith("ok ")
    assert plug.stop() == 0
    assert re.search(r"openplug-sim: stopped by a signal after [0-9.]+ s of device time \(boot 1, ",
                     "\n".join(plug.stderr_lines)), plug.stderr_lines


def test_loop_runs_while_the_console_is_idle(plug):
    """Nobody types: Wi-Fi still comes up (a blank plug: its set-up access
    point), the world is served, the button works."""
    plug.wait_log(r"WIF: Wi-Fi access point", timeout=4)
    assert plug.pins()[RELAY_GPIO]["level"] == 0
    plug.press(BUTTON_GPIO)
    plug.wait_log(r"PWR: channel 1 ON \(button\)")


def test_end_of_console_input_does_not_stop_the_plug(plug):
    plug.proc.stdin.close()
    mark = plug.mark()
    plug.press(BUTTON_GPIO)
    plug.wait_log(r"PWR: channel 1 ON \(button\)", since=mark)
    plug.wait_log(r"WIF: Wi-Fi access point", timeout=4)
    assert plug.running()
    assert plug.pins()[RELAY_GPIO]["level"] == 1


def test_version_option():
    out = subprocess.run([sim_path(), "--version"], stdout=subprocess.PIPE, timeout=10, check=True).stdout.decode()
    assert re.fullmatch(r"openplug-sim \d+\.\d+\.\d+\S*\n", out), out


def test_bad_options_are_refused(tmp_path):
    for args in (["--duration", "x"], ["--flash-timing", "slow"], ["--powercut-at-flash-op", "0"], ["extra"]):
        proc = subprocess.run([sim_path(), "--flash", str(tmp_path / "f.bin")] + args, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        assert proc.returncode == 2, (args, proc)
        assert proc.stderr, args


def test_a_day_of_virtual_time(tmp_path):
    started = time.monotonic()
    # nothing plugged in: the only flash writes are the relay's
    result = run_sim(tmp_path / "flash.bin", "--load", "0W", duration=86400, exec_="Power on", timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result
    assert result.why == "stopped" and result.seconds == 86400.0 and result.boot == 1, result.stderr
    assert len(result.logs(r"BOOT:")) == 1, "the plug rebooted during the day"
    assert len(result.logs(r"WIF: Wi-Fi access point")) == 1  # a blank plug: its set-up AP, all day
    assert result.logs(r"PWR: channel") == ["00:00:00.000 PWR: channel 1 ON (console)"]
    # first relay record (erase + 2 programs), one toggle; the boot health record
    # (erase + 2 programs at boot, 2 programs when the boot turns good at 30 s)
    assert result.flash_ops == 3 + 2 + 3 + 2
    print("\n24 h of device time took %.2f s" % elapsed)


def test_duration_counts_across_reboots(tmp_path):
    result = run_sim(tmp_path / "flash.bin", duration=3, exec_="Restart 1")
    assert result.returncode == 0, result
    assert result.seconds == 3.0 and result.boot == 2, result.stderr
    assert "openplug-sim: reboot after 0.100 s" in result.stderr
    assert result.logs(r"reset reason: Restart command \(console\)")


def test_watchdog_reboots_a_hung_plug_and_keeps_the_relay(plug):
    assert plug.cmd("Power on") == {"POWER": "ON"}
    pid = plug.proc.pid
    mark = plug.mark()
    started = time.monotonic()
    assert plug.world("hang 20") == "ok main loop hangs for 20 s"
    # while hung, the console is not served (a line typed now is answered
    # after the reboot at the earliest: the replies checked below)
    plug.send("Power")
    time.sleep(0.3)
    assert not any(line.startswith("{") for line in plug.lines[mark:])
    plug.wait_log(r"BOOT: .*reset reason: Watchdog \(loop\)", since=mark, timeout=30)
    # a causal lower bound: the hardware watchdog cannot bite sooner than 7 s
    # (8 s after the last feed, fed once a second) after the loop stopped
    assert time.monotonic() - started >= 6.8
    plug.wait_stderr(r"hardware watchdog expired")
    assert plug.proc.pid == pid and plug.running()
    plug.wait_log(r"PWR: relays restored by PowerOnState 3", since=mark)
    assert plug.pins()[RELAY_GPIO] == {"mode": "output", "level": 1, "changes": 0}
    # the line typed while hung was not lost with the reboot: it is answered now
    assert plug.replies("Power", 2) == [{"POWER": "ON"}, {"POWER": "ON"}]
    assert plug.cmd("Status 1")["StatusPRM"]["RestartReason"] == "Watchdog (loop)"


def test_the_watchdog_bites_7_to_8_s_after_the_loop_hangs(make_plug):
    """How long the watchdog takes, in virtual time, where it is exact: the
    simulator stamps the hang and the reboot in device time.  The monitor
    feeds the 8 s hardware watchdog once a second, so it bites 7-8 s after
    the loop stopped: in real time the host's load would add to that."""
    plug = make_plug(None, "--virtual-time", "--duration", "3600")
    assert plug.world("hang 20") == "ok main loop hangs for 20 s"
    hung = float(plug.wait_stderr(r"world: main loop hangs for 20 s from ([0-9.]+) s of device time").group(1))
    rebooted = float(plug.wait_stderr(r"openplug-sim: reboot after ([0-9.]+) s of device time \(boot 1,",
                                       timeout=30).group(1))
    plug.wait_log(r"BOOT: .*reset reason: Watchdog \(loop\)", since=plug.boot_mark, timeout=30)
    assert 7 <= rebooted - hung <= 8, "watchdog reboot %.3f s after the hang (timeout 8 s)" % (rebooted - hung)


def test_a_short_hang_is_not_a_reset(plug):
    """Hung for less than the watchdog timeout: no reboot, typed lines answered afterwards."""
    assert plug.cmd("Power on") == {"POWER": "ON"}
    mark = plug.mark()
    started = time.monotonic()
    assert plug.world("hang 2") == "ok main loop hangs for 2 s"
    assert plug.cmd("Power", timeout=5) == {"POWER": "ON"}
    assert time.monotonic() - started >= 1.8, "the console was served during the hang"
    time.sleep(0.2)
    assert plug.log_lines(r"BOOT:", since=mark) == []
    assert plug.pins()[RELAY_GPIO]["changes"] == 1


def test_hang_requests_are_checked(plug):
    for bad in ("hang", "hang 0", "hang 3601", "hang x", "hang 5 5"):
        assert plug.world(bad).startswith("error: hang"), bad
    assert plug.cmd("Power") == {"POWER": "OFF"}


def test_powercut_at_flash_op_counts_across_reboots(tmp_path):
    """The first boot writes a relay record and a boot health record (erase +
    2 programs each); Reset 1 wipes the settings and relay rings (a "wiped"
    marker at the start of a fresh sector, erase + 1 program, then the other
    sectors erased: 5 + 3 operations) but keeps the boot counts, reboots, and
    the new boot writes a relay record after the marker and a boot record (2
    programs each): operations 15-18 happen in boot 2."""
    whole = run_sim(tmp_path / "flash.bin", duration=2, exec_="Reset 1")
    assert whole.returncode == 0 and whole.boot == 2, whole
    assert [int(m.group("ops")) for m in whole.summaries] == [6 + 8, 6 + 8 + 4]
    cut = run_sim(tmp_path / "flash2.bin", "--powercut-at-flash-op", 5, duration=2, exec_="Reset 1")
    assert cut.returncode == 3 and cut.boot == 1, cut
    cut = run_sim(tmp_path / "flash3.bin", "--powercut-at-flash-op", 15, duration=2, exec_="Reset 1")
    assert cut.returncode == 3 and cut.boot == 2 and cut.flash_ops == 15, cut


def test_restart_reasons(make_plug):
    plug = make_plug()
    plug.wait_log(r"BOOT: .*reset reason: Power on")
    assert plug.cmd("Status 1")["StatusPRM"]["RestartReason"] == "Power on"
    pid = plug.proc.pid
    plug.restart()
    assert plug.proc.pid == pid, "a restart re-executes the same process"
    assert plug.cmd("Status 1")["StatusPRM"]["RestartReason"] == "Restart command (console)"
    # stderr is read by a thread of its own: wait for the line, do not race it
    plug.wait_stderr(r"^openplug-sim: reboot after [0-9.]+ s of device time \(boot 1, ")
    assert plug.powercut() == 3
    assert any("power cut" in line or "powercut" in line for line in plug.stderr_lines), plug.stderr_lines
    plug.start()
    plug.wait_log(r"BOOT: .*reset reason: Power on", since=plug.boot_mark)
    assert plug.cmd("Status 1")["StatusPRM"]["RestartReason"] == "Power on"


def test_a_second_restart_request_restarts_once(plug):
    pid = plug.proc.pid
    mark = plug.mark()
    assert plug.replies("Backlog Restart 1; Restart 1", 2) == [{"Restart": "Restarting"}] * 2
    plug.wait_log(r"BOOT: .*reset reason: Restart command \(console\)", since=mark)
    plug.wait_log(plug.BOOTED_RE, since=mark)
    assert plug.cmd("Power") == {"POWER": "OFF"}
    plug.wait_stderr(r"reboot after")
    time.sleep(0.25)  # a second restart would have come by now (100 ms): an absence, checked after a moment
    assert len(plug.log_lines(r"BOOT:", since=mark)) == 1
    assert len([line for line in plug.stderr_lines if "reboot after" in line]) == 1
    assert plug.proc.pid == pid and plug.running()
    # and Reset 1 twice is one factory reset
    mark = plug.mark()
    assert plug.replies("Backlog DeviceName X; Reset 1; Reset 1", 3)[1:] == [{"Reset": "Reset and Restarting"}] * 2
    plug.wait_log(r"BOOT: .*reset reason: Factory reset \(console\)", since=mark)
    plug.wait_log(plug.BOOTED_RE, since=mark)
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}
    time.sleep(0.25)
    assert len(plug.log_lines(r"BOOT:", since=mark)) == 1


def test_factory_reset_restores_defaults(plug):
    assert plug.cmd("DeviceName Custom") == {"DeviceName": "Custom"}
    assert plug.cmd("PowerOnState 1") == {"PowerOnState": 1}
    assert plug.cmd('Template {"name":"Other","pins":{"5":"Rel;1","22":"Btn;1"}}')["name"] == "Other"
    assert plug.cmd("Power on") == {"POWER": "ON"}
    mark = plug.mark()
    assert plug.cmd("Reset 1") == {"Reset": "Reset and Restarting"}
    plug.wait_log(r"BOOT: .*reset reason: Factory reset \(console\)", since=mark, timeout=5)
    plug.wait_log(r"CFG: settings were reset to defaults \(factory reset\)", since=mark)
    plug.wait_log(r"PWR: no relay record: relays set by PowerOnState 3", since=mark)
    assert plug.cmd("Status 1")["StatusPRM"]["RestartReason"] == "Factory reset (console)"
    assert plug.cmd("Status 1")["StatusPRM"]["SaveCount"] == 0
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}
    assert plug.cmd("PowerOnState") == {"PowerOnState": 3}
    assert plug.cmd("Template") == DEFAULT_TEMPLATE
    pins = plug.pins()
    assert pins[RELAY_GPIO] == {"mode": "output", "level": 0, "changes": 0}
    assert pins[5]["mode"] == "disabled" and pins[22]["mode"] == "disabled"
    assert pins[BUTTON_GPIO]["mode"] == "input_pullup"
    # and stays so after a further restart
    plug.restart()
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}
    assert plug.cmd("Template") == DEFAULT_TEMPLATE
