"""Watchdog and health: a wedged activity or a hung loop restarts the plug
within the watchdog's time, naming the culprit, with the relay per
PowerOnState and the energy counters intact; a crash reads as a crash; the
health figures in Status 11; five bad boots in a row give safe mode, which
runs no drivers and is left with SafeMode 0 (or entered with SafeMode 1)."""
import os
import re
import signal
import time

import pytest

from simlib import RELAY_GPIO, log_seconds, run_sim, wait_until

HW_WATCHDOG_S = 8
METERING_STALL_S = 10


def energy_total(plug):
    return plug.cmd("EnergyTotal")["EnergyTotal"]["Total"]


def test_wedged_metering_restarts_the_plug_naming_it(make_plug):
    """In virtual time: the stall check, the hardware watchdog and the
    readings are then exact, whatever the host's load (in real time a
    stalled host reads 3.68 kW low and makes every duration longer)."""
    plug = make_plug(None, "--virtual-time", "--duration", "36000", "--load", "3680W")
    assert plug.cmd("Power on") == {"POWER": "ON"}
    assert plug.cmd("EnergyTotal 12.345")["EnergyTotal"]["Total"] == 12.345
    # the virtual clock runs on while the console is idle: wait for energy to count
    def counted():
        total = energy_total(plug)
        return total if total > 12.345 else None
    before = wait_until(counted, timeout=20, what="energy to count")
    mark = plug.mark()
    assert plug.world("wedge metering") == "ok metering wedged"
    wedged = log_seconds(plug.wait_log(r"WDG: test hook: metering wedged", since=mark).string)
    stall = plug.wait_log(r"WDG: metering made no progress for (\d+) ms", since=mark, timeout=30)
    plug.wait_log(r"BOOT: .*reset reason: Watchdog \(metering\)", since=mark, timeout=30)
    plug.wait_stderr(r"hardware watchdog expired")
    rebooted = float(plug.wait_stderr(r"openplug-sim: reboot after ([0-9.]+) s of device time \(boot 1,").group(1))
    # All in device time (boot 1's log times and the reboot line are both
    # counted from power-on).  The monitor looks once a second: the stall is
    # seen 10-11 s after metering's last report (at or before the wedge) ...
    stalled_at = log_seconds(stall.string)
    assert METERING_STALL_S * 1000 < int(stall.group(1)) <= (METERING_STALL_S + 1) * 1000, stall.string
    assert stalled_at - wedged <= METERING_STALL_S + 1, (wedged, stalled_at)
    # ... and from then on the watchdog is not fed: its last feed was the
    # check a second before, so it bites exactly 7 s later
    assert rebooted - stalled_at == pytest.approx(HW_WATCHDOG_S - 1, abs=0.002), (stalled_at, rebooted)
    plug.wait_log(plug.BOOTED_RE, since=mark)
    # the relay kept its state (PowerOnState 3) without a glitch; the energy is all there
    assert plug.pins()[RELAY_GPIO] == {"mode": "output", "level": 1, "changes": 0}
    after = energy_total(plug)
    assert after >= before - 0.010, (before, after)  # at most EnergySaveWh (10 Wh) lost
    prm = plug.cmd("Status 1")["StatusPRM"]
    assert prm["RestartReason"] == "Watchdog (metering)" and prm["BootCount"] == 2
    sts = plug.cmd("Status 11")["StatusSTS"]
    assert sts["WatchdogResets"] == 1 and sts["RestartReason"] == "Watchdog (metering)"
    # metering runs again after the restart, and reads the load exactly (virtual time)
    power = wait_until(lambda: plug.cmd("Status 8")["StatusSNS"].get("ENERGY", {}).get("Power"), timeout=20,
                       what="a power reading after the restart")
    assert power == pytest.approx(3680, abs=2), power


def test_a_hung_loop_is_a_loop_watchdog_reset(make_plug):
    plug = make_plug()
    assert plug.cmd("PowerOnState 0") == {"PowerOnState": 0}
    assert plug.cmd("Power on") == {"POWER": "ON"}
    mark = plug.mark()
    assert plug.world("hang 30").startswith("ok ")
    plug.wait_log(r"BOOT: .*reset reason: Watchdog \(loop\)", since=mark, timeout=HW_WATCHDOG_S + 3)
    plug.wait_log(plug.BOOTED_RE, since=mark)
    assert plug.pins()[RELAY_GPIO]["level"] == 1  # a reset is not a power-up: PowerOnState 0 does not apply
    assert plug.cmd("Status 11")["StatusSTS"]["WatchdogResets"] == 1


@pytest.mark.parametrize("how", ["world", "signal"])
def test_a_crash_reboots_with_the_crash_reason(make_plug, how):
    # virtual time: the monitor keeps the clock exactly once a second of
    # device time, however loaded the host (in real time a stalled host
    # makes the kept clock older, and the test's own clock is no reference)
    plug = make_plug(None, "--virtual-time", "--duration", "36000")
    assert plug.cmd("Power on") == {"POWER": "ON"}
    assert plug.cmd("Time 1790000000")["Epoch"] == 1790000000

    def epoch():
        return plug.cmd("Time")["Epoch"]
    # a few seconds on: a clock kept once (not every second) would now be seconds behind
    wait_until(lambda: epoch() >= 1790000005, timeout=20, what="the plug's clock to run 5 s")
    seen = epoch()  # the plug's own clock just before the crash
    mark = plug.mark()
    pid = plug.proc.pid
    if how == "world":
        assert plug.world("crash") == "ok crashing"
    else:
        os.kill(pid, signal.SIGSEGV)  # a real fatal signal from outside
    plug.wait_stderr(r"openplug-sim: fatal signal 11: crash reboot")
    crashed_after = float(plug.wait_stderr(r"openplug-sim: reboot after ([0-9.]+) s of device time \(boot 1,").group(1))
    plug.wait_log(r"BOOT: .*reset reason: Crash", since=mark, timeout=5)
    plug.wait_log(plug.BOOTED_RE, since=mark)
    assert plug.proc.pid == pid and plug.running()
    assert plug.pins()[RELAY_GPIO] == {"mode": "output", "level": 1, "changes": 0}
    assert plug.cmd("Status 1")["StatusPRM"]["RestartReason"] == "Crash"
    # the time of day survived the reset, within the second the monitor keeps it:
    # not behind what the plug read before the crash by more than that second,
    # not ahead of the device time that has passed since it was set
    plug.wait_log(r"TIM: clock kept across the reset", since=mark)
    kept = epoch()
    uptime = plug.cmd("Status 11")["StatusSTS"]["UptimeSec"]
    assert seen - 1 <= kept <= 1790000000 + crashed_after + uptime + 1, (seen, kept, crashed_after, uptime)
    # the reason is told once: a restart after it is a restart
    plug.restart()
    assert plug.cmd("Status 1")["StatusPRM"]["RestartReason"] == "Restart command (console)"


def test_wedge_requests_are_checked(plug):
    assert plug.world("wedge") .startswith("error: wedge: expected")
    assert plug.world("wedge toaster") == "error: wedge: no activity 'toaster' is registered"
    assert plug.world("crash now").startswith("error: unknown request")
    assert plug.cmd("Power") == {"POWER": "OFF"}


def test_health_figures(plug):
    sts = plug.cmd("Status 11")["StatusSTS"]
    for key in ("Uptime", "UptimeSec", "Heap", "HeapFree", "HeapMin", "Sockets", "SocketsMax", "LoopLag",
                "LoopLagP99", "WatchdogResets", "BootCount", "RestartReason", "SafeMode"):
        assert key in sts, key
    assert sts["SocketsMax"] == 21 and 0 <= sts["Sockets"] <= 21
    assert 0 < sts["HeapMin"] <= sts["HeapFree"] <= 128 * 1024
    assert sts["Heap"] == sts["HeapFree"] // 1024
    assert sts["WatchdogResets"] == 0 and sts["BootCount"] == 1 and sts["SafeMode"] == 0
    assert 0 <= sts["LoopLag"] < 1000


def test_a_boot_counts_good_after_30_s(tmp_path):
    result = run_sim(tmp_path / "flash.bin", duration=31)
    assert result.logs(r"^00:00:30\.\d+ SYS: boot 1 is good")
    early = run_sim(tmp_path / "flash2.bin", duration=29)
    assert not early.logs(r"is good")


def safe_mode_booted(plug, mark):
    plug.wait_log(r"SYS: SAFE MODE", since=mark, timeout=5)


def sns_total(plug):
    """ENERGY.Total of Status 8, once metering has reported (None before)."""
    return plug.cmd("Status 8")["StatusSNS"].get("ENERGY", {}).get("Total")


def energy_counts(plug):
    start = wait_until(lambda: sns_total(plug) is not None, timeout=20, what="metering to report") and sns_total(plug)
    wait_until(lambda: sns_total(plug) > start, timeout=30, what="energy to be counted")


def test_five_crashes_give_safe_mode_where_metering_runs_and_safemode_0_leaves_it(make_plug):
    plug = make_plug(None, "--load", "2000W")
    assert plug.cmd("Power on") == {"POWER": "ON"}
    for boot in range(2, 7):  # five boots that crash: boots 1-5 bad
        mark = plug.mark()
        assert plug.world("crash") == "ok crashing"
        plug.wait_log(r"BOOT: .*reset reason: Crash", since=mark, timeout=5)
        plug.wait_log(plug.BOOTED_RE, since=mark)
        if boot < 6:
            assert plug.cmd("SafeMode") == {"SafeMode": 0, "BadBoots": boot - 1, "BootCount": boot}
    safe_mode_booted(plug, mark)
    assert plug.cmd("SafeMode") == {"SafeMode": 1, "BadBoots": 5, "BootCount": 6}
    # issue 16 D4: metering and energy counting go on in safe mode
    plug.wait_log(r"NRG: BL0937 on CF GPIO", since=mark)
    assert not plug.log_lines(r"DRV: NTP started", since=mark)
    assert plug.pins()[RELAY_GPIO]["level"] == 1  # relays and console still work
    energy_counts(plug)
    assert plug.cmd("startDriver BL0937") == {"startDriver": "BL0937"}  # metering is not optional
    reply = plug.cmd("startDriver SSDP")
    assert reply["Command"] == "Error" and "safe mode" in reply["Error"]
    assert plug.cmd("Status 1")["StatusPRM"]["SafeMode"] == 1
    sts = plug.cmd("Status 11")["StatusSTS"]
    assert sts["SafeMode"] == 1 and 0 < sts["SafeModeExitIn"] <= 600
    assert plug.cmd("Power off") == {"POWER": "OFF"}
    # the way back
    mark = plug.mark()
    assert plug.cmd("SafeMode 0") == {"SafeMode": 1, "Restart": "Restarting"}
    plug.wait_log(r"BOOT: .*reset reason: Safe mode exit \(console\)", since=mark, timeout=5)
    plug.wait_log(r"NRG: BL0937 on CF GPIO", since=mark)
    assert plug.cmd("SafeMode") == {"SafeMode": 0, "BadBoots": 0, "BootCount": 7}
    assert plug.cmd("Status 11")["StatusSTS"]["SafeModeExitIn"] == 0
    assert not plug.log_lines(r"SAFE MODE", since=mark)


def test_power_cuts_are_not_bad_boots(make_plug):
    """Issue 16 D4: a flickering supply (five cuts 2 s apart) is ordinary
    life for a plug: no safe mode, and metering goes on."""
    plug = make_plug(None, "--load", "2000W")
    assert plug.cmd("Power on") == {"POWER": "ON"}
    for boot in range(2, 8):
        assert plug.powercut() == 3
        mark = len(plug.lines)
        plug.start()
        assert plug.cmd("SafeMode") == {"SafeMode": 0, "BadBoots": 0, "BootCount": boot}
    assert not plug.log_lines(r"SAFE MODE", since=0)
    plug.wait_log(r"NRG: BL0937 on CF GPIO", since=mark)
    energy_counts(plug)
    # a power cut between crashes neither adds nor forgets a bad boot
    mark = plug.mark()
    assert plug.world("crash") == "ok crashing"
    plug.wait_log(plug.BOOTED_RE, since=mark)
    assert plug.cmd("SafeMode")["BadBoots"] == 1
    assert plug.powercut() == 3
    plug.start()
    assert plug.cmd("SafeMode")["BadBoots"] == 1


def test_safemode_1_enters_it_and_a_restart_leaves_it(plug):
    assert plug.cmd("SafeMode 2")["Command"] == "Error"
    assert plug.cmd("SafeMode 0")["Error"] == "SafeMode: not in safe mode"
    mark = plug.mark()
    assert plug.cmd("SafeMode 1") == {"SafeMode": 0, "Restart": "Restarting"}
    plug.wait_log(r"BOOT: .*reset reason: Safe mode entry \(console\)", since=mark, timeout=5)
    plug.wait_log(r"SYS: SAFE MODE \(asked for\)", since=mark)
    assert plug.cmd("SafeMode")["SafeMode"] == 1
    mark = plug.mark()
    plug.restart()
    assert plug.cmd("SafeMode")["SafeMode"] == 0
    assert not plug.log_lines(r"SAFE MODE", since=mark)


def test_web_api_state_carries_the_health_figures(make_plug):
    from weblib import curl, start_web_plug
    web = start_web_plug(make_plug)
    state = curl(web.base + "/api/state").json()
    assert state["safe_mode"] is False
    assert state["health"]["RestartReason"] == "Power on" and state["health"]["SocketsMax"] == 21
    assert state["health"]["Sockets"] >= 1  # the web server's own listening socket at least
    mark = web.mark()
    assert web.cmd("SafeMode 1")["Restart"] == "Restarting"
    web.wait_log(r"SYS: SAFE MODE", since=mark, timeout=5)
    port = int(web.wait_log(r"HTTP: web server on http://127\.0\.0\.1:(\d+)/", since=mark, timeout=5).group(1))
    state = curl("http://127.0.0.1:%d/api/state" % port).json()  # the web server runs in safe mode
    assert state["safe_mode"] is True and state["health"]["RestartReason"] == "Safe mode entry (console)"


def test_safe_mode_by_bad_boots_leaves_by_itself_when_stable(tmp_path):
    """Issue 16 D4: a restart loop of the startup command ends in safe mode;
    after 600 s of a stable safe-mode boot the plug leaves it by itself
    (logged), the loop brings it back.  Virtual time: deterministic."""
    result = run_sim(tmp_path / "flash.bin", "--load", "2000W", duration=700,
                     exec_='StartupCommand "Restart 1"; Power on; Restart 1')
    assert result.returncode == 0, result
    entered = result.logs(r"SYS: SAFE MODE \(5 bad boots in a row\)")
    left = result.logs(r"SYS: safe mode: stable for 600 s: leaving it \(restart\)")
    assert len(entered) == 2 and len(left) == 1, result.logs(r"SYS: ")
    stable = log_seconds(left[0])
    assert 600 <= stable < 602, left  # device time of that boot
    after = result.stdout.split("safe mode: stable for 600 s")[1]
    assert re.search(r"reset reason: Safe mode exit \(boot\)", after)
    assert "SCR: running the startup command" in after  # normal mode again: the loop comes back
    # metering ran in safe mode: ~600 s at 2 kW is ~0.33 kWh counted
    during = result.stdout.split("SAFE MODE (5 bad boots in a row)")[1].split("safe mode: stable for")[0]
    assert "NRG: BL0937 on CF GPIO" in during


def test_a_restart_loop_from_the_startup_command_ends_in_safe_mode(tmp_path):
    """A startup command that restarts the plug: every boot ends before it
    is good, restarts by scripts count as bad, so the sixth boot after the
    loop began is in safe mode — where the startup command does not run."""
    result = run_sim(tmp_path / "flash.bin", duration=40, exec_='StartupCommand "Restart 1"; Restart 1')
    assert result.returncode == 0, result
    reasons = result.logs(r"BOOT: .*reset reason: ")
    assert len(reasons) == 7 and all(r.endswith("Restart command (script)") for r in reasons[2:]), reasons
    assert len(result.logs(r"SYS: SAFE MODE \(5 bad boots in a row\)")) == 1
    last_boot = result.stdout.split("reset reason:")[-1]
    assert "SAFE MODE" in last_boot and "SCR: running the startup command" not in last_boot
    assert "boot 7 is good" in last_boot
