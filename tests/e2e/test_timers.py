"""Tasmota's timers (Timer1..16, Timers) in virtual time: clock, sunrise and
sunset modes (with offsets) across both DST changes of Central European
time, the random window's bounds and its determinism by seed, weekdays,
Repeat 0 disarming, Action 3 as the script event OnTimer, an unknown clock
and clock steps, settings across a restart, and every bad value refused
with nothing changed."""
import calendar
import datetime
import json
import math

import pytest

from simlib import run_sim

RELAY = 'Template {"pins":{"2":"Rel;1"}}'  # no metering pins: days of virtual time stay fast
CET = "Timezone CET-1CEST,M3.5.0,M10.5.0/3"
BERLIN = "Latitude 52.52; Longitude 13.405"


def epoch(*ymdhms):
    return calendar.timegm(tuple(ymdhms) + (0,) * (6 - len(ymdhms)) + (0, 0, 0))


def timer(x, **fields):
    return "Timer%d %s" % (x, json.dumps(fields, separators=(",", ":")))


def uptime(line):
    h, m, s = line.split(" ", 1)[0].split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def fired(result, t0=None, uptime_at_t0=0.0):
    """[(when, what)] of the timers that fired: when is UTC 'MM-DD HH:MM:SS'
    given the clock read t0 at uptime_at_t0, else the uptime in seconds."""
    out = []
    for line in result.logs(r"TMR: Timer\d+: "):
        what = line.split("TMR: ", 1)[1]
        up = uptime(line)
        if t0 is None:
            out.append((up, what))
        else:
            utc = datetime.datetime.fromtimestamp(round(t0 + up - uptime_at_t0), datetime.timezone.utc)
            out.append((utc.strftime("%m-%d %H:%M:%S"), what))
    return out


def errors(result):
    return [r["Error"] for r in result.replies if r.get("Command") == "Error"]


@pytest.mark.parametrize("season", ["autumn", "spring"])
def test_clock_mode_across_dst_change(tmp_path, season):
    """02:30 local is repeated on 2026-10-25 (fires once) and skipped on
    2026-03-29 (does not fire); 08:00 local moves by an hour of UTC."""
    t0 = epoch(2026, 10, 23, 22) if season == "autumn" else epoch(2026, 3, 27, 22)
    result = run_sim(tmp_path / "f.bin", duration=3 * 86400, timeout=60, exec_="; ".join([
        RELAY, CET, "Time %d" % t0,
        timer(1, Enable=1, Time="02:30", Days="SMTWTFS", Repeat=1, Output=1, Action=1),
        timer(2, Enable=1, Time="8:00", Days="1111111", Repeat=1, Output=1, Action=0)]))
    assert not errors(result), errors(result)
    on, off = "Timer1: output 1 on", "Timer2: output 1 off"
    if season == "autumn":   # CEST (UTC+2) until 25 Oct 01:00 UTC, then CET (UTC+1)
        assert fired(result, t0) == [("10-24 00:30:00", on), ("10-24 06:00:00", off),
                                     ("10-25 00:30:00", on),  # not again at 01:30 UTC
                                     ("10-25 07:00:00", off), ("10-26 01:30:00", on),
                                     ("10-26 07:00:00", off)], fired(result, t0)
    else:                    # CET until 29 Mar 01:00 UTC, then CEST
        assert fired(result, t0) == [("03-28 01:30:00", on), ("03-28 07:00:00", off),
                                     ("03-29 06:00:00", off),  # 02:30 did not exist that night
                                     ("03-30 00:30:00", on), ("03-30 06:00:00", off)], fired(result, t0)
    # The relay followed: channel lines with the timer as their source.
    assert len(result.logs(r"PWR: channel 1 (ON|OFF) \(timer\)")) >= 4


def sun_reference_utc(day, latitude, longitude, rising):
    """Sunrise / sunset in UTC seconds by the Almanac for Computers (1990)
    method, independent of the firmware's NOAA formulas (within ~2 min)."""
    date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
    n = date.timetuple().tm_yday
    rad, deg = math.radians, math.degrees
    lng_hour = longitude / 15
    t = n + ((6 if rising else 18) - lng_hour) / 24
    m = 0.9856 * t - 3.289
    sun_l = (m + 1.916 * math.sin(rad(m)) + 0.020 * math.sin(rad(2 * m)) + 282.634) % 360
    ra = deg(math.atan(0.91764 * math.tan(rad(sun_l)))) % 360
    ra = (ra + (sun_l // 90) * 90 - (ra // 90) * 90) / 15
    sin_dec = 0.39782 * math.sin(rad(sun_l))
    cos_dec = math.cos(math.asin(sin_dec))
    cos_h = (math.cos(rad(90.833)) - sin_dec * math.sin(rad(latitude))) / (cos_dec * math.cos(rad(latitude)))
    h = (360 - deg(math.acos(cos_h)) if rising else deg(math.acos(cos_h))) / 15
    ut = (h + ra - 0.06571 * t - 6.622 - lng_hour) % 24
    return day * 86400 + ut * 3600


@pytest.mark.parametrize("season", ["autumn", "spring"])
def test_sunrise_and_sunset_modes_with_offsets_across_dst_change(tmp_path, season):
    """Berlin: Mode 1 at sunrise +00:30 and Mode 2 at sunset -01:00 fire
    each day at the sun's UTC instant plus the offset, on the days before,
    of and after the change (a local-time mistake would be an hour off)."""
    t0 = epoch(2026, 10, 23, 12) if season == "autumn" else epoch(2026, 3, 27, 12)
    result = run_sim(tmp_path / "f.bin", duration=3 * 86400, timeout=60, exec_="; ".join([
        RELAY, BERLIN, CET, "Time %d" % t0,
        timer(1, Enable=1, Mode=1, Time="+00:30", Days="SMTWTFS", Repeat=1, Action=1),
        timer(2, Enable=1, Mode=2, Time="-01:00", Days="SMTWTFS", Repeat=1, Action=0), "Timer1", "Timer2"]))
    assert not errors(result), errors(result)
    assert {"Timer1": {"Enable": 1, "Mode": 1, "Time": "00:30", "Window": 0, "Days": "1111111", "Repeat": 1,
                       "Output": 1, "Action": 1}} in result.replies
    assert {"Timer2": {"Enable": 1, "Mode": 2, "Time": "-01:00", "Window": 0, "Days": "1111111", "Repeat": 1,
                       "Output": 1, "Action": 0}} in result.replies
    got = [(up + t0, what) for up, what in fired(result)]
    expected = []
    first_day = t0 // 86400
    for day in range(first_day, first_day + 4):
        expected.append((sun_reference_utc(day, 52.52, 13.405, True) + 1800, "Timer1: output 1 on"))
        expected.append((sun_reference_utc(day, 52.52, 13.405, False) - 3600, "Timer2: output 1 off"))
    expected = sorted(e for e in expected if t0 < e[0] < t0 + 3 * 86400)
    assert [w for _, w in got] == [w for _, w in expected], (got, expected)
    for (when, _), (want, _) in zip(got, expected):
        assert abs(when - want) <= 150, (datetime.datetime.utcfromtimestamp(when), datetime.datetime.utcfromtimestamp(want))
    assert len(got) == 6


def window_run(tmp_path, seed, name):
    t0 = epoch(2026, 11, 22, 23)
    result = run_sim(tmp_path / name, "--seed", seed, duration=6 * 86400, timeout=60, exec_="; ".join([
        RELAY, "Time %d" % t0,
        timer(1, Enable=1, Time="12:00", Window=15, Days="SMTWTFS", Repeat=1, Action=2),
        timer(2, Enable=1, Time="00:05", Window=15, Days="SMTWTFS", Repeat=1, Action=2)]))
    assert not errors(result), errors(result)
    return fired(result, t0)


def test_random_window_stays_within_its_bounds_and_follows_the_seed(tmp_path):
    """Window 15: each day's firing lies in Time ± 15 min (and within the
    day: 00:05 never goes back to yesterday), on a whole minute; the same
    seed gives the same times, another seed others."""
    first = window_run(tmp_path, 1, "a.bin")
    for timer_name, base in (("Timer1", 12 * 60), ("Timer2", 5)):
        times = [when for when, what in first if what.startswith(timer_name + ":")]
        assert len(times) == 6, first  # one a day, every day
        minutes = []
        for when in times:
            h, m, s = (int(x) for x in when[6:].split(":"))
            assert s == 0, first
            minutes.append(h * 60 + m)
        assert all(max(0, base - 15) <= m <= base + 15 for m in minutes), (timer_name, first)
        assert len(set(minutes)) > 1, (timer_name, first)  # it is random, not the fixed time
    assert window_run(tmp_path, 1, "b.bin") == first
    assert window_run(tmp_path, 2, "c.bin") != first


def test_days_repeat_and_the_script_event_then_a_restart(tmp_path):
    """Days '-M-W---' fires on Monday and Wednesday only; Repeat 0 fires once
    and disarms itself (saved); Action 3 runs addEventHandler OnTimer; after a
    restart the timers are as they were and keep firing."""
    flash = tmp_path / "f.bin"
    t0 = epoch(2026, 11, 24)  # a Tuesday
    result = run_sim(flash, duration=7 * 86400, timeout=60, exec_="; ".join([
        RELAY, "Time %d" % t0, "addEventHandler OnTimer 3 DeviceName from-timer3",
        timer(1, Enable=1, Time="09:00", Days="-M-W---", Repeat=1, Action=1),
        timer(2, Enable=1, Time="18:00", Days="SMTWTFS", Repeat=0, Action=0),
        timer(3, Enable=1, Time="20:00", Days="00000F0", Repeat=1, Action=3)]))
    assert not errors(result), errors(result)
    assert fired(result, t0) == [("11-24 18:00:00", "Timer2: output 1 off"),
                                 ("11-25 09:00:00", "Timer1: output 1 on"),
                                 ("11-27 20:00:00", "Timer3: script event OnTimer 3"),
                                 ("11-30 09:00:00", "Timer1: output 1 on")], fired(result, t0)
    ran = [uptime(l) for l in result.logs(r'SCR: -> \{"DeviceName":"from-timer3"\}')]
    assert len(ran) == 1 and 3 * 86400 + 72000 <= ran[0] < 3 * 86400 + 72002, ran
    # A new boot of the same flash: the settings as they were left (Timer2 disarmed), firing again.
    wed = epoch(2026, 12, 2, 8, 59)
    again = run_sim(flash, duration=300, exec_="Timers; Time %d" % wed)
    listing = again.replies[0]
    assert listing["Timers"] == "ON"
    assert listing["Timers1"]["Timer1"] == {"Enable": 1, "Mode": 0, "Time": "09:00", "Window": 0,
                                            "Days": "0101000", "Repeat": 1, "Output": 1, "Action": 1}
    assert listing["Timers1"]["Timer2"]["Enable"] == 0 and listing["Timers1"]["Timer2"]["Time"] == "18:00"
    assert listing["Timers1"]["Timer3"]["Days"] == "0000010"
    assert fired(again, wed, uptime_at_t0=0) == [("12-02 09:00:00", "Timer1: output 1 on")]


def test_unknown_clock_and_clock_steps(tmp_path):
    """Nothing fires while the clock is unknown; set 20 s after a timer's
    time it fires at once (as clock events: up to 60 s late); a step over
    a timer's time skips it; a step back after a firing does not repeat it;
    the next day both fire on time.  Timers 0 silences all; Timers 1 arms them
    again from their next times."""
    day = epoch(2026, 11, 24)
    result = run_sim(tmp_path / "f.bin", "--at", "100 Time %d" % (day + 10 * 3600 + 30 * 60 + 20),
                     "--at", "200 Time %d" % (day + 10 * 3600 + 50 * 60),
                     "--at", "300 Time %d" % (day + 10 * 3600 + 29 * 60 + 50),
                     "--at", "400 Timers 0", "--at", "86000 Timers 1",
                     "--at", "87640 Timers 0", "--at", "87690 Timers 1",
                     duration=88000, timeout=60, exec_="; ".join([
                         RELAY, timer(1, Enable=1, Time="10:30", Days="SMTWTFS", Repeat=1, Action=2),
                         timer(2, Enable=1, Time="10:45", Days="SMTWTFS", Repeat=1, Action=2),
                         timer(4, Enable=1, Time="23:00", Days="SMTWTFS", Repeat=1, Action=2),
                         timer(5, Enable=1, Time="10:46", Days="SMTWTFS", Repeat=1, Action=2)]))
    assert not errors(result), errors(result)
    got = [(round(up), what) for up, what in fired(result)]
    # uptime 300 is 10:29:50: the next day's 10:30 is at 300 + 10 + 86400.
    assert got == [(100, "Timer1: output 1 toggle"), (86710, "Timer1: output 1 toggle"),
                   (87610, "Timer2: output 1 toggle")], got
    # Timer2 (10:45) came round again after the step back, and Timer4 (23:00), while disarmed; Timer5
    # (10:46, uptime 87670) passed while disarmed and is not made up for when armed again 20 s later.
    assert [r["Timers"] for r in result.replies if "Timers" in r] == ["OFF", "ON", "OFF", "ON"]


def test_bad_values_are_refused_and_change_nothing(tmp_path):
    bad = ['{"Enable":2}', '{"Mode":3}', '{"Window":16}', '{"Output":0}', '{"Output":17}', '{"Action":4}',
           '{"Repeat":-1}', '{"Time":"24:00"}', '{"Time":"7:5"}', '{"Time":"07:30:00"}', '{"Time":"-01:00"}',
           '{"Mode":1,"Time":"12:00"}', '{"Days":"SMTWTF"}', '{"Days":"SMTWTFX"}', '{"Days":"MMTWTFS"}',
           '{"Colour":1}', '{"Enable":"yes"}', '17', '-1', 'on', '{"Time":7}']
    lines = [RELAY, timer(5, Enable=0, Time="06:15", Days="-MTWTF-", Repeat=1, Action=1), "Timers"]
    lines += ["Timer5 " + b for b in bad]
    lines += ["Timer17 1", "Timers 3", "Timers maybe", timer(6, Enable=1, Mode=2, Time="00:00"),
              timer(7, Enable=1, Output=2, Action=1), "addEventHandler OnTimer 17 Power on", "Timers"]
    result = run_sim(tmp_path / "f.bin", duration=5, exec_="; ".join(lines))
    errs = errors(result)
    assert len(errs) == len(bad) + 6, errs
    assert all(e.startswith(("Timer5: ", "Timer: ", "Timers: ", "Timer6: ", "Timer7: ", "addEventHandler OnTimer"))
               for e in errs), errs
    assert "Timer6: set Latitude and Longitude first" in errs[-3], errs
    assert "Timer7: Output 2 has no relay" in errs[-2], errs
    listings = [r for r in result.replies if "Timers" in r]
    assert len(listings) == 2 and listings[0] == listings[1], listings
    assert listings[0]["Timers2"]["Timer5"] == {"Enable": 0, "Mode": 0, "Time": "06:15", "Window": 0,
                                                "Days": "0111110", "Repeat": 1, "Output": 1, "Action": 1}
    # 0 clears, y copies; JSON cut short (last: a ';' inside JSON does not split commands) is refused.
    result = run_sim(tmp_path / "f.bin", duration=5, exec_='Timer8 5; Timer5 0; Timer8 {"Enable":1')
    assert result.replies[0]["Timer8"]["Days"] == "0111110" and result.replies[1]["Timer5"]["Days"] == "0000000"
    assert errors(result) == ["Timer8: bad JSON: expected ',' or '}' at byte 11"], result.replies


def test_a_power_cut_while_a_once_timer_disarms_itself(tmp_path):
    """Repeat 0: the timer's own save (from the loop, not a command) cut at
    every flash operation of the run that fires it: the next boot has the
    settings from before (armed) or after (disarmed), never defaults; and
    the relay is whatever its record says, on or off."""
    import shutil
    base = tmp_path / "base.bin"
    t = epoch(2026, 11, 24, 10, 29, 58)
    setup = run_sim(base, duration=1, exec_="; ".join([
        RELAY, "DeviceName keep", "Power off",
        timer(1, Enable=1, Time="10:30", Days="SMTWTFS", Repeat=0, Action=1)]))
    assert not errors(setup), errors(setup)
    whole = run_sim(shutil.copy(base, tmp_path / "whole.bin"), duration=5, exec_="Time %d" % t)
    assert fired(whole) and whole.flash_ops, whole
    seen = set()
    for op in range(1, whole.flash_ops + 1):
        image = shutil.copy(base, tmp_path / "cut.bin")
        run_sim(image, "--powercut-at-flash-op", op, duration=5, exec_="Time %d" % t)
        replies = run_sim(image, duration=1, exec_="DeviceName; Timer1").replies
        assert replies[0] == {"DeviceName": "keep"}, (op, replies)
        enable = replies[1]["Timer1"].pop("Enable")
        assert replies[1]["Timer1"] == {"Mode": 0, "Time": "10:30", "Window": 0, "Days": "1111111",
                                        "Repeat": 0, "Output": 1, "Action": 1}, (op, replies)
        seen.add(enable)
    assert seen == {0, 1}  # the cut landed before and after the save's commit
