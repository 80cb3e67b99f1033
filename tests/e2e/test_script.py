"""Scripting: the startup command and autoexec.bat at boot, every event type
of addEventHandler firing, repeating and clock events, if/else with
variables, delay_s, bad scripts (syntax errors, unknown commands, runaway
loops, full tables) answered with clear errors while the plug keeps running,
and OpenBeken's SetupEnergyStats from the startup command for hours of
virtual time."""
import re
import struct
import time
import zlib

import pytest

import simlib

from simlib import BUTTON_GPIO, run_sim, patch_flash

MEDIA = simlib.flash_layout()["media"][0]  # media partition in the flash image
FILES = MEDIA + 24 * 4096             # file store: media sectors 24-55
FILE_HEADER = struct.Struct("<IIIII40s")  # magic, seq, size, data crc, flags, name; then the header CRC


def file_bank(name, data, seq=1):
    """One bank of the file store as files.c writes it: header, then data."""
    head = FILE_HEADER.pack(0x3146504F, seq, len(data), zlib.crc32(data), 0, name.encode())
    return head + struct.pack("<I", zlib.crc32(head)) + data


def make_flash(tmp_path, autoexec=None):
    """A flash image after one first boot, with autoexec.bat put in slot 0."""
    flash = tmp_path / "flash.bin"
    run_sim(flash, duration=0.1)
    if autoexec is not None:
        patch_flash(flash, FILES, file_bank("autoexec.bat", autoexec.encode()))
    return flash


def scr_lines(result):
    return [line.split(" ", 1)[1] for line in result.logs(r"SCR: ")]


def test_startup_command_and_autoexec_run_at_boot_in_order(tmp_path):
    flash = make_flash(tmp_path, autoexec="// set at boot\nDeviceName from-autoexec\n\ndelay_s 5\nPower on\n")
    result = run_sim(flash, duration=20, exec_='StartupCommand "DeviceName from-startup; Power off"; Restart 1')
    assert result.boot == 2, result
    boot2 = [i for i, l in enumerate(result.lines) if "BOOT: " in l][-1]
    lines = [l.split(" ", 1)[1] for l in result.lines[boot2:] if "SCR: " in l]
    assert "SCR: running the startup command" in lines
    assert "SCR: running autoexec.bat (60 bytes)" in lines
    order = [l for l in lines if l.startswith(("SCR: startup command:", "SCR: autoexec.bat:"))]
    assert order == ["SCR: startup command: DeviceName from-startup", "SCR: startup command: Power off",
                     "SCR: autoexec.bat: DeviceName from-autoexec", "SCR: autoexec.bat: delay_s 5",
                     "SCR: autoexec.bat: Power on"], lines
    on = [l for l in result.lines[boot2:] if "PWR: channel 1 ON (script)" in l]
    assert len(on) == 1 and on[0].startswith("00:00:05"), on  # after delay_s 5
    # The next boot runs them again (the settings and the file persist).
    again = run_sim(flash, duration=2)
    assert "SCR: autoexec.bat: DeviceName from-autoexec" in scr_lines(again)


def test_startup_command_quoting_and_clearing(tmp_path):
    result = run_sim(tmp_path / "f.bin", duration=1,
                     exec_='StartupCommand "startDriver BL0937; SetupEnergyStats 1 60 60"; StartupCommand; '
                           'StartupCommand ""; StartupCommand')
    replies = result.replies
    assert replies[0] == {"StartupCommand": "startDriver BL0937; SetupEnergyStats 1 60 60"}
    assert replies[1] == replies[0]
    assert replies[2] == {"StartupCommand": ""} and replies[3] == {"StartupCommand": ""}


@pytest.mark.parametrize("stats", ["1 60 60", "1 70 60"])
def test_setup_energy_stats_from_startup_runs_for_hours(tmp_path, stats):
    """The household line that froze a plug 59 s after boot elsewhere: four
    hours of virtual time at 1 kW, no stall, no watchdog, samples right."""
    flash = make_flash(tmp_path)
    hours = 4
    result = run_sim(flash, "--load", "1000W", duration=hours * 3600 + 1, timeout=120,
                     exec_='Power on; StartupCommand "startDriver BL0937; SetupEnergyStats %s; '
                           'addRepeatingEvent 3600 -1 SetupEnergyStats"; Restart 1' % stats)
    assert result.boot == 2 and result.why == "stopped", result
    assert "watchdog" not in result.stdout + result.stderr
    reports = [l for l in result.lines if '-> {"SetupEnergyStats"' in l]
    assert len(reports) >= hours + 1, reports  # the start, then one an hour
    last = re.search(r"-> (\{.*\})", reports[-1]).group(1)
    import json
    last = json.loads(last)["SetupEnergyStats"]
    sample_s = int(stats.split()[1])
    assert last["SampleTime"] == sample_s and last["SampleCount"] == 60 and last["Samples"] == 60
    assert last["SamplesTaken"] == (hours * 3600 - 1) // sample_s or last["SamplesTaken"] == hours * 3600 // sample_s
    # 1 kW for 60 samples of sample_s seconds.
    expected_wh = 1000.0 * 60 * sample_s / 3600
    assert abs(last["Consumption"] - expected_wh) < expected_wh * 0.03, last
    assert abs(last["LastSample"] - 1000.0 * sample_s / 3600) < 1000.0 * sample_s / 3600 * 0.05, last


def test_if_else_variables_and_repeating_event(tmp_path):
    result = run_sim(tmp_path / "f.bin", "--load", "500W", duration=12, exec_=(
        'addRepeatingEvent 4 2 if $power > 400 && $CH1 == 1 then DeviceName big$uptime else DeviceName small$uptime; '
        'Power on; if 2*3 == 6 then DeviceName math else DeviceName wrong; if $CH1 == 0 then Power off'))
    lines = scr_lines(result)
    assert {"DeviceName": "math"} in result.replies
    assert result.logs(r"PWR: channel 1 OFF") == []  # the else-less if did nothing
    names = [l for l in lines if l.startswith("SCR: -> {\"DeviceName\"")]
    assert names == ['SCR: -> {"DeviceName":"big4"}', 'SCR: -> {"DeviceName":"big8"}'], lines


def test_power_threshold_and_channel_events(tmp_path):
    profile = tmp_path / "load.csv"
    profile.write_text("t_s,volts,amps,pf\n0,230,0.1,1\n20,230,8,1\n40,230,0.1,1\n")
    result = run_sim(tmp_path / "f.bin", "--load-profile", profile, duration=60, exec_=(
        "addEventHandler OnPowerAbove 1000 DeviceName above$uptime; "
        "addEventHandler OnPowerBelow 100 DeviceName below$uptime; "
        "addEventHandler OnChannelChange 1 DeviceName ch$CH1; Power on; Power off"))
    names = [l for l in scr_lines(result) if l.startswith("SCR: -> {\"DeviceName\"")]
    # Both changes fire; a queued handler reads $CH1 when it runs (now 0).
    assert names[:2] == ['SCR: -> {"DeviceName":"ch0"}', 'SCR: -> {"DeviceName":"ch0"}'], names
    # The load only draws through a closed relay: switched off, nothing crosses.
    assert len(names) == 2, names
    result = run_sim(tmp_path / "g.bin", "--load-profile", profile, duration=60, exec_=(
        "Power on; addEventHandler OnPowerAbove 1000 DeviceName above; "
        "addEventHandler OnPowerBelow 100 DeviceName below"))
    fired = [(l[:8], l.split("-> ")[1]) for l in result.lines if "SCR: -> {\"DeviceName\"" in l]
    assert [f[1] for f in fired] == ['{"DeviceName":"above"}', '{"DeviceName":"below"}'], fired
    assert "00:00:20" <= fired[0][0] <= "00:00:23" and "00:00:40" <= fired[1][0] <= "00:00:43", fired


def test_clock_event_fires_at_its_minute_on_its_days(tmp_path):
    # 2026-11-24 is a Tuesday (weekday 2); set the clock to 10:29:00 UTC.
    t0 = 1795516140
    # No metering pins: three days of virtual time without BL0937 pulses to simulate.
    result = run_sim(tmp_path / "f.bin", duration=3 * 86400, timeout=60, exec_=(
        "Template {\"pins\":{\"2\":\"Rel;1\"}}; Time %d; addClockEvent 10:30 0x7F DeviceName daily; addClockEvent 10:31:30 0x08 DeviceName wednesday; "
        "addClockEvent 10:32 0x01 DeviceName sunday; listEvents" % t0))
    fired = [(l[:12], l.split("-> ")[1]) for l in result.lines if "SCR: -> {\"DeviceName\"" in l]
    assert fired == [("00:01:00.000", '{"DeviceName":"daily"}'),
                     ("24:01:00.000", '{"DeviceName":"daily"}'),
                     ("24:02:30.000", '{"DeviceName":"wednesday"}'),
                     ("48:01:00.000", '{"DeviceName":"daily"}')], fired


def test_bad_scripts_get_clear_errors_and_the_plug_keeps_running(tmp_path):
    flash = make_flash(tmp_path, autoexec="Power on\nfrobnicate 1\nif 1 + then Power off\naddRepeatingEvent x 1 Power\n"
                                          "if $nothing > 1 then Power off\nDeviceName survived\n")
    result = run_sim(flash, duration=5)
    errors = result.logs(r"SCR: autoexec.bat, command \d+:")
    assert len(errors) == 4, errors
    assert '"Command":"Unknown"' in errors[0]
    assert "if: expression ends too early" in errors[1]
    assert "addRepeatingEvent: expected" in errors[2]
    assert "if: unknown variable $nothing" in errors[3]
    assert 'SCR: -> {"DeviceName":"survived"}' in scr_lines(result)
    result = run_sim(tmp_path / "g.bin", duration=3, exec_=(
        "addEventHandler OnNothing 1 Power on; addClockEvent 7:5 1 Power on; addClockEvent 07:05 0 Power on; "
        "addEventHandler OnChannelChange 1 " + "x" * 200 + "; delay_s 3; if then Power on; Status 11"))
    errs = [r["Error"] for r in result.replies if r.get("Command") == "Error"]
    assert len(errs) == 6, result.replies
    assert errs[0].startswith("addEventHandler: unknown event 'OnNothing'")
    assert errs[1].startswith("addClockEvent: expected") and errs[2].startswith("addClockEvent: expected")
    assert errs[3] == "addEventHandler: command longer than 159 characters"
    assert errs[4].startswith("delay_s: only inside a script")
    assert errs[5] == "if: expression ends too early"
    assert "StatusSTS" in result.replies[-1]


def test_runaway_loops_are_stopped(tmp_path):
    """A handler that triggers itself, and a pair that trigger each other,
    are disabled; tables full of events are refused; the loop keeps time."""
    adds = "; ".join("addRepeatingEvent 1 -1 Status 11" for _ in range(9))
    result = run_sim(tmp_path / "f.bin", duration=30, timeout=60, exec_=(
        "addEventHandler OnChannelChange 1 toggleChannel 1; Power on; " + adds + "; " +
        "; ".join("addEventHandler OnClick 17 Power" for _ in range(16))))
    stopped = result.logs(r"SCR: handler #1 OnChannelChange 1 fired more than 20 times in a second: disabled")
    assert len(stopped) == 1, result.lines[-30:]
    errors = [r["Error"] for r in result.replies if r.get("Command") == "Error"]
    assert errors == ["addRepeatingEvent: all 8 repeating events in use (clearEvents)",
                      "addEventHandler: all 16 handlers in use (clearEvents)"], errors
    toggles = result.logs(r"PWR: channel 1 (ON|OFF) \(script\)")
    assert 20 <= len(toggles) <= 21, len(toggles)
    # Eight repeating events a second for 30 s, four commands a turn: all run.
    runs = [l for l in result.lines if "repeating event: Status 11" in l]
    assert 8 * 29 <= len(runs) <= 8 * 30, len(runs)
    assert result.why == "stopped" and result.boot == 1

    result = run_sim(tmp_path / "g.bin", duration=3, exec_=(
        "addEventHandler OnChannelChange 1 toggleChannel 2; addEventHandler OnChannelChange 2 toggleChannel 1; "
        "Template {\"pins\":{\"2\":\"Rel;1\",\"4\":\"Rel;2\"}}; Power1 on; addRepeatingEvent 2 1 listEvents"))
    assert len(result.logs(r"fired more than 20 times in a second: disabled")) == 1, result.lines[-20:]
    listed = [l for l in result.lines if '-> {"Events"' in l]
    assert len(listed) == 1 and '"Disabled":true' in listed[0], listed


def test_live_button_wifi_events(make_plug):
    plug = make_plug(None, "--wifi", "Lab:lab-password")
    plug.replies("Backlog SSId1 Lab; Password1 lab-password", 2)
    plug.wait_log(r"WIF: Wi-Fi connected", timeout=6)
    for event in ("OnClick", "OnDblClick", "OnHold"):
        plug.cmd("addEventHandler %s %d DeviceName %s" % (event, BUTTON_GPIO, event))
    plug.cmd("addEventHandler OnWiFiDown DeviceName wifi-down")
    plug.cmd("addEventHandler OnWiFiUp 0 DeviceName wifi-up")
    mark = plug.mark()
    plug.press(BUTTON_GPIO, 100)
    plug.wait_log(r'SCR: -> \{"DeviceName":"OnClick"\}', since=mark)
    time.sleep(0.6)
    mark = plug.press_twice(BUTTON_GPIO)  # within the double-click time by the device's clock
    plug.wait_log(r'SCR: -> \{"DeviceName":"OnDblClick"\}', since=mark)
    time.sleep(0.6)
    mark = plug.mark()
    plug.press(BUTTON_GPIO, 1500)
    plug.wait_log(r'SCR: -> \{"DeviceName":"OnHold"\}', since=mark, timeout=5)
    mark = plug.mark()
    assert plug.world("wifi down") == "ok wifi down"
    plug.wait_log(r'SCR: -> \{"DeviceName":"wifi-down"\}', since=mark, timeout=5)
    assert plug.world("wifi up") == "ok wifi up"
    plug.wait_log(r'SCR: -> \{"DeviceName":"wifi-up"\}', since=mark, timeout=5)
    assert plug.cmd("Power") in ({"POWER": "ON"}, {"POWER": "OFF"})


def fired_utc(result, t0, uptime_at_t0=0.0):
    """[(UTC datetime, reply)] of the DeviceName replies of scripts."""
    import datetime
    out = []
    for line in result.lines:
        if 'SCR: -> {"DeviceName"' not in line:
            continue
        stamp = line.split(" ", 1)[0]
        h, m, s = stamp.split(":")
        up = int(h) * 3600 + int(m) * 60 + float(s)
        utc = datetime.datetime.fromtimestamp(round(t0 + up - uptime_at_t0), datetime.timezone.utc)
        out.append((utc.strftime("%m-%d %H:%M:%S"), line.split("-> ")[1]))
    return out


@pytest.mark.parametrize("season", ["autumn", "spring"])
def test_clock_event_across_dst_change(tmp_path, season):
    """Central European time: 02:30 is repeated on 2026-10-25 (fires once)
    and skipped on 2026-03-29 (does not fire); 08:00 local moves by an hour
    of UTC across each change."""
    import calendar
    start = (2026, 10, 23, 22, 0, 0) if season == "autumn" else (2026, 3, 27, 22, 0, 0)
    t0 = calendar.timegm(start + (0, 0, 0))
    result = run_sim(tmp_path / "f.bin", duration=3 * 86400, timeout=60, exec_=(
        "Template {\"pins\":{\"2\":\"Rel;1\"}}; Timezone CET-1CEST,M3.5.0,M10.5.0/3; Time %d; "
        "addClockEvent 02:30 0x7F DeviceName half-past-two; addClockEvent 08:00 0x7F DeviceName eight" % t0))
    assert not [r for r in result.replies if r.get("Command") == "Error"], result.replies
    fired = fired_utc(result, t0)
    if season == "autumn":   # CEST (UTC+2) until 25 Oct 01:00 UTC, then CET (UTC+1)
        assert fired == [("10-24 00:30:00", '{"DeviceName":"half-past-two"}'),
                         ("10-24 06:00:00", '{"DeviceName":"eight"}'),
                         ("10-25 00:30:00", '{"DeviceName":"half-past-two"}'),  # not again at 01:30 UTC
                         ("10-25 07:00:00", '{"DeviceName":"eight"}'),
                         ("10-26 01:30:00", '{"DeviceName":"half-past-two"}'),
                         ("10-26 07:00:00", '{"DeviceName":"eight"}')], fired
    else:                    # CET until 29 Mar 01:00 UTC, then CEST
        assert fired == [("03-28 01:30:00", '{"DeviceName":"half-past-two"}'),
                         ("03-28 07:00:00", '{"DeviceName":"eight"}'),
                         ("03-29 06:00:00", '{"DeviceName":"eight"}'),  # 02:30 did not exist that night
                         ("03-30 00:30:00", '{"DeviceName":"half-past-two"}'),
                         ("03-30 06:00:00", '{"DeviceName":"eight"}')], fired


def test_mqtt_on_and_off_events_with_a_real_broker(make_plug, tmp_path):
    """OnMQTTOn when the plug connects to mosquitto, OnMQTTOff when the
    broker goes away, OnMQTTOn again when it is back."""
    from mqttlib import Broker
    broker = Broker(tmp_path).start()
    try:
        plug = make_plug(None, "--wifi", "Home:correct-horse")
        plug.cmd("addEventHandler OnMQTTOn DeviceName mqtt-on")
        plug.cmd("addEventHandler OnMQTTOff 0 DeviceName mqtt-off")
        mark = plug.mark()
        commands = ["SSId1 Home", "Password1 correct-horse", "MqttPort %d" % broker.port, "MqttHost 127.0.0.1"]
        plug.replies("Backlog " + "; ".join(commands), len(commands))
        plug.wait_log(r'SCR: -> \{"DeviceName":"mqtt-on"\}', since=mark, timeout=15)
        mark = plug.mark()
        broker.stop()
        plug.wait_log(r'SCR: -> \{"DeviceName":"mqtt-off"\}', since=mark, timeout=15)
        mark = plug.mark()
        broker.start()
        plug.wait_log(r'SCR: -> \{"DeviceName":"mqtt-on"\}', since=mark, timeout=30)
    finally:
        broker.stop()


def test_safe_mode_runs_no_startup_command_or_autoexec(tmp_path):
    flash = make_flash(tmp_path, autoexec="DeviceName from-autoexec\n")
    result = run_sim(flash, duration=3, exec_='StartupCommand "DeviceName from-startup"; SafeMode 1')
    assert result.boot == 2, result
    boot2 = [i for i, l in enumerate(result.lines) if "BOOT: " in l][-1]
    later = [l.split(" ", 1)[1] for l in result.lines[boot2:] if "SCR: " in l]
    assert later == ["SCR: safe mode: startup command and autoexec.bat not run"], later


def test_a_startup_command_that_restarts_cannot_brick_the_plug(tmp_path):
    """StartupCommand "Restart 1": every boot restarts at once; after five
    bad boots the plug comes up in safe mode, where the startup command
    does not run, and stays up."""
    flash = make_flash(tmp_path)
    result = run_sim(flash, duration=60, timeout=60, exec_='StartupCommand "Restart 1"; Restart 1')
    assert result.why == "stopped", result
    boots = result.logs(r"BOOT: ")
    assert 6 <= len(boots) <= 8, boots
    assert "reset reason: Restart command (script)" in boots[2]
    assert result.logs(r"SCR: safe mode: startup command and autoexec.bat not run"), result.lines[-20:]
    last_boot = [i for i, l in enumerate(result.lines) if "BOOT: " in l][-1]
    assert not [l for l in result.lines[last_boot:] if "SCR: startup command: Restart 1" in l]


def test_sunrise_and_sunset_clock_events_in_berlin(tmp_path):
    """Latitude/Longitude of Berlin, CET/CEST: sunset-00:30 and sunrise fire
    at the published times (to the minute) of 20-22 June 2026, and an
    unset location or a bad offset is refused."""
    import calendar
    t0 = calendar.timegm((2026, 6, 20, 12, 0, 0, 0, 0, 0))
    result = run_sim(tmp_path / "f.bin", duration=2 * 86400, timeout=60, exec_=(
        "Template {\"pins\":{\"2\":\"Rel;1\"}}; addClockEvent sunset 0x7F Power on; "
        "Latitude 52.52; Longitude 13.405; Timezone CET-1CEST,M3.5.0,M10.5.0/3; Time %d; "
        "addClockEvent sunset-00:30 0x7F DeviceName before-sunset; addClockEvent sunrise 0x7F DeviceName sunrise; "
        "addClockEvent sunrise+25:00 0x7F Power on; Latitude 91" % t0))
    errors = [r["Error"] for r in result.replies if r.get("Command") == "Error"]
    assert errors[0].startswith("addClockEvent: set Latitude and Longitude first"), errors
    assert errors[1].startswith("addClockEvent: expected <HH:MM[:SS] | sunrise"), errors
    assert errors[2].startswith("Latitude: expected degrees"), errors
    assert {"Latitude": 52.52} in result.replies and {"Longitude": 13.405} in result.replies
    fired = fired_utc(result, t0)
    # Published: sunset 21:33 CEST (19:33 UTC) on 20-21 June, sunrise 04:43 CEST (02:43 UTC) on 21-22 June.
    expected = [("06-20 19:03", '{"DeviceName":"before-sunset"}'), ("06-21 02:43", '{"DeviceName":"sunrise"}'),
                ("06-21 19:03", '{"DeviceName":"before-sunset"}'), ("06-22 02:43", '{"DeviceName":"sunrise"}')]
    assert [reply for _, reply in fired] == [reply for _, reply in expected], fired
    for (when, _), (published, _) in zip(fired, expected):
        h, m, s = (int(x) for x in when[6:].split(":"))
        ph, pm = (int(x) for x in published[6:].split(":"))
        assert when[:5] == published[:5] and abs((h * 3600 + m * 60 + s) - (ph * 3600 + pm * 60 + 30)) <= 90, fired
