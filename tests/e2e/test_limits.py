"""Protection limits and PulseTime (issue 17, energy/limits.h), in virtual time.

Margins (PowerLow/High, VoltageLow/High, CurrentLow/High) report their
crossings; cut-offs (MaxPower with MaxPowerHold, MaxPowerWindow and
SetOption33 retries, MaxEnergy with MaxEnergyStart, MaxVoltage/MinVoltage
with VoltageHold) switch the relays off and latch: a restart, a power cut
and PowerOnState keep the plug off until the user switches it on, and no
energy count is lost.  A power cut at every flash operation around a trip
leaves either the trip latched or the plug as before it, never anything
else.  PulseTime switches off after Tasmota's encoded time.

Every run is the simulator in --virtual-time: log timestamps are exact.
"""
import re

import pytest

from simlib import BUTTON_GPIO, log_seconds, run_sim
from test_metering import ok, reply


def when(result, pattern):
    """Device time of every log line matching pattern."""
    return [log_seconds(line) for line in result.logs(pattern)]


def profile(tmp_path, rows, name="profile.csv"):
    """--load-profile rows (t_s, volts, watts): a resistive load."""
    path = tmp_path / name
    path.write_text("t_s,volts,amps,pf\n" + "".join(
        "%g,%g,%.9f,1\n" % (t, v, w / v) for t, v, w in rows))
    return path


# ---- Commands: ranges, Tasmota's shorthands, nothing changed on bad input ----

BAD = [
    ("PowerLow 4001", "PowerLow", 0), ("PowerHigh -1", "PowerHigh", 0), ("VoltageLow 501", "VoltageLow", 0),
    ("VoltageHigh x", "VoltageHigh", 0), ("CurrentLow 16001", "CurrentLow", 0),
    ("CurrentHigh 1.5", "CurrentHigh", 0), ("MaxPowerWindow 3601", "MaxPowerWindow", 0),
    ("SetOption33 0", "SetOption33", 5), ("SetOption33 251", "SetOption33", 5),
    ("MaxEnergy 65001", "MaxEnergy", 0), ("MaxEnergyStart 24", "MaxEnergyStart", 0),
    ("MaxVoltage 501", "MaxVoltage", 0), ("MinVoltage on", "MinVoltage", 0), ("VoltageHold 61", "VoltageHold", 0),
]


@pytest.mark.parametrize("bad,name,before", BAD, ids=[b[0] for b in BAD])
def test_bad_values_are_refused_and_change_nothing(tmp_path, bad, name, before):
    r = ok(run_sim(tmp_path / "f.bin", duration=1, exec_="%s; %s" % (bad, name)))
    error = r.replies[0]
    assert error["Command"] == "Error" and name in error["Error"] and "expected" in error["Error"], r
    assert r.replies[1] == {name: before}


def test_settings_tasmota_shorthands_and_a_power_cut(tmp_path):
    flash = tmp_path / "f.bin"
    r = ok(run_sim(flash, duration=1, exec_="PowerLow 10; PowerHigh 3000; VoltageLow 200; VoltageHigh 250; "
                   "CurrentLow 50; CurrentHigh 12000; MaxPowerWindow 1; SetOption33 3; MaxEnergy 1500; "
                   "MaxEnergyStart 6; MaxVoltage 255; MinVoltage 190; VoltageHold 2; PulseTime2 113"))
    assert r.replies[6] == {"MaxPowerWindow": 30}  # 1 is Tasmota's "the default, 30 s"
    assert r.replies[-1] == {"PulseTime2": {"Set": 113, "Remaining": 0}}
    # MinVoltage must stay below MaxVoltage, whichever is set
    r = ok(run_sim(flash, duration=1, exec_="MinVoltage 260; MaxVoltage 180; PowerLow; PowerHigh; VoltageLow; "
                   "VoltageHigh; CurrentLow; CurrentHigh; MaxPowerWindow; SetOption33; MaxEnergy; MaxEnergyStart; "
                   "MaxVoltage; MinVoltage; VoltageHold; PulseTime"))
    assert "MinVoltage must stay below MaxVoltage" in r.replies[0]["Error"]
    assert "MinVoltage must stay below MaxVoltage" in r.replies[1]["Error"]
    assert r.replies[2:15] == [{"PowerLow": 10}, {"PowerHigh": 3000}, {"VoltageLow": 200}, {"VoltageHigh": 250},
                               {"CurrentLow": 50}, {"CurrentHigh": 12000}, {"MaxPowerWindow": 30},
                               {"SetOption33": 3}, {"MaxEnergy": 1500}, {"MaxEnergyStart": 6},
                               {"MaxVoltage": 255}, {"MinVoltage": 190}, {"VoltageHold": 2}]
    assert r.replies[15] == {"PulseTime1": {"Set": 0, "Remaining": 0}, "PulseTime2": {"Set": 113, "Remaining": 0},
                             "PulseTime3": {"Set": 0, "Remaining": 0}, "PulseTime4": {"Set": 0, "Remaining": 0}}


def within(times, low, high):
    assert len(times) == 1 and low <= times[0] <= high, times


# ---- Margins: reported on the crossing, both ways, while the relay is on ----

def test_margins_report_each_crossing(tmp_path):
    load = profile(tmp_path, [(0, 230, 100), (5, 230, 2500), (10, 230, 100), (15, 260, 100), (20, 230, 100)])
    r = ok(run_sim(tmp_path / "f.bin", "--load-profile", load, duration=25, exec_=(
        "PowerHigh 2000; CurrentHigh 10000; VoltageHigh 250; PowerLow 50; "
        "addEventHandler OnLimit PowerHigh Power2; addEventHandler OnLimitOff PowerHigh Power3; Power on")))
    assert when(r, r"NRG: PowerHigh 2000: ON") == [6.0]  # the first reading of the 2500 W
    assert when(r, r"NRG: PowerHigh 2000: OFF") == [11.0]
    # current and voltage share CF1 (SEL takes turns): their readings follow a few seconds later
    within(when(r, r"NRG: CurrentHigh 10000: ON"), 6, 9)
    within(when(r, r"NRG: CurrentHigh 10000: OFF"), 11, 14)
    within(when(r, r"NRG: VoltageHigh 250: ON"), 16, 19)
    within(when(r, r"NRG: VoltageHigh 250: OFF"), 21, 24)
    assert not r.logs(r"PowerLow 50: ON")  # 100 W is above it all along
    assert r.logs(r"SCR: #1 OnLimit \d+: Power2") and r.logs(r"SCR: #2 OnLimitOff \d+: Power3"), r
    assert not r.logs(r"relays off"), r  # margins only report


# ---- MaxPower: hold, retries after MaxPowerWindow, then latched ----

def test_max_power_retries_then_stays_off_across_restart_and_power_cut(tmp_path):
    flash = tmp_path / "f.bin"
    r = ok(run_sim(flash, "--load", "2500W", duration=60, exec_=(
        "MaxPower 2000; MaxPowerHold 3; MaxPowerWindow 10; SetOption33 2; PowerOnState 1; Power on")))
    trips = when(r, r"NRG: 2500 W above MaxPower 2000 W for 3 s: relays off")
    assert trips == [4.0, 18.0, 32.0], r  # hold 3 s (after the first reading), then 10 s off, twice
    assert when(r, r"NRG: MaxPowerWindow over: relays on again") == [14.0, 28.0]
    assert when(r, r"NRG: MaxPower: retries used up, off until switched on") == [32.0]
    assert not r.logs(r"PWR: channel 1 ON \(overload\)") or when(r, r"PWR: channel 1 ON \(overload\)") == [14.0, 28.0]
    total_wh = energy_total_wh(flash)
    # 3 x 4 s at 2500 W, saved at each trip: nothing lost when the run ends (a power cut)
    assert abs(total_wh * 1000 - 2500 * 12 / 3600) < 0.6, total_wh
    # a restart keeps it off
    r = ok(run_sim(flash, "--load", "2500W", "--at", "2 Restart 1", duration=8, exec_="Power"))
    assert r.boot == 2 and reply(r, "POWER") == "OFF"
    assert len(r.logs(r"MaxPower trip latched: relays stay off until switched on")) == 2, r
    assert not r.logs(r"channel 1 ON"), r
    # a power cut too, whatever PowerOnState says (1: on at power-up)
    r = ok(run_sim(flash, "--load", "2500W", duration=3, exec_="Power; PowerOnState"))
    assert reply(r, "POWER") == "OFF" and reply(r, "PowerOnState") == 1
    assert energy_total_wh(flash) == total_wh  # nothing counted while off, nothing lost
    # the user switches on: the latch ends, and a new overload trips again
    r = ok(run_sim(flash, "--load", "2500W", duration=10, exec_="MaxPowerWindow 0; Power on"))
    assert r.logs(r"NRG: MaxPower trip reset: switched on \(console\)"), r
    assert when(r, r"above MaxPower 2000 W for 3 s: relays off") == [4.0]
    assert not r.logs(r"MaxPowerWindow over"), r  # window 0: no retry


def energy_total_wh(flash):
    r = ok(run_sim(flash, "--load", "0W", duration=0.5, exec_="EnergyTotal"))
    return reply(r, "EnergyTotal")["Total"]


def test_max_power_retry_that_holds_ends_the_latch(tmp_path):
    load = profile(tmp_path, [(0, 230, 2500), (8, 230, 500)])
    r = ok(run_sim(tmp_path / "f.bin", "--load-profile", load, duration=30, exec_=(
        "MaxPower 2000; MaxPowerHold 2; MaxPowerWindow 5; Power on; "
        "addEventHandler OnLimitOff MaxPower Power2")))
    assert when(r, r"above MaxPower 2000 W for 2 s: relays off") == [3.0]
    assert when(r, r"MaxPowerWindow over: relays on again, 4 retries left") == [8.0]  # SetOption33: 5
    assert when(r, r"NRG: MaxPower trip reset: the retry stayed below MaxPower \(overload\)") == [10.0]
    assert r.logs(r"SCR: #1 OnLimitOff \d+: Power2"), r
    r2 = ok(run_sim(tmp_path / "f.bin", "--load", "500W", duration=1, exec_="Power"))
    assert reply(r2, "POWER") == "ON" and not r2.logs("latched")


# ---- MaxEnergy, MaxEnergyStart ----

DAY = 1790121600  # 2026-09-23 00:00:00 UTC (no Timezone: local = UTC)


def test_max_energy_trips_and_comes_back_at_max_energy_start(tmp_path):
    # 3600 W: 1 Wh a second.  Today starts at 10 Wh at 05:00, trips at 20 Wh;
    # midnight zeroes Today, 06:00 (MaxEnergyStart) switches back on.
    flash = tmp_path / "f.bin"
    r = ok(run_sim(flash, "--load", "3600W", "--at", "40 Time %d" % (DAY + 86400 + 6 * 3600 - 10), duration=70,
                   exec_="Time %d; MaxEnergy 20; MaxEnergyStart 5; Power on" % (DAY + 5 * 3600)))
    trips = when(r, r"NRG: Today 2\d Wh reached MaxEnergy 20 Wh: relays off")
    assert when(r, r"PWR: channel 1 OFF \(overload\)") == trips
    back = when(r, r"NRG: MaxEnergyStart 5 h: relays on again")
    assert len(back) == 1 and back[0] >= 40, r  # not at midnight (Today 0), at 06:00
    assert r.logs(r"MaxEnergy trip reset: a new day \(overload\)")
    assert when(r, r"PWR: channel 1 ON \(overload\)") == back
    # the new day counts from 0 and trips again at 20 Wh
    assert len(trips) == 2 and 20 <= trips[0] <= 22 and 20 <= trips[1] - back[0] <= 22, r


def test_max_energy_overridden_by_the_user_stays_on_that_day(tmp_path):
    flash = tmp_path / "f.bin"
    r = ok(run_sim(flash, "--load", "3600W", "--at", "20 Power on", duration=40,
                   exec_="Time %d; MaxEnergy 5; Power on" % (DAY + 12 * 3600)))
    assert len(r.logs(r"reached MaxEnergy 5 Wh: relays off")) == 1, r
    assert r.logs(r"MaxEnergy trip reset: switched on \(console\)")
    r = ok(run_sim(flash, "--load", "3600W", duration=3, exec_="Power"))  # a power cut: Today is still above
    assert reply(r, "POWER") == "ON" and not r.logs("reached MaxEnergy")


# ---- MaxVoltage, MinVoltage, VoltageHold ----

def test_voltage_cutoffs_hold_and_latch(tmp_path):
    load = profile(tmp_path, [(0, 230, 100), (5, 262, 100), (6, 230, 100), (10, 262, 100)])
    r = ok(run_sim(tmp_path / "f.bin", "--load-profile", load, duration=20,
                   exec_="MaxVoltage 255; VoltageHold 2; Power on"))
    # 1 s above (at 5 s) does not trip; from 10 s on it does, 2 s after the first reading above
    within(when(r, r"NRG: 262\.\d V above MaxVoltage 255 V for 2 s: relays off"), 12, 16)
    assert r.logs(r"PWR: channel 1 OFF \(overload\)")
    load = profile(tmp_path, [(0, 230, 100), (3, 180, 100)], name="low.csv")
    r = ok(run_sim(tmp_path / "g.bin", "--load-profile", load, duration=10,
                   exec_="MinVoltage 190; VoltageHold 0; PowerOnState 1; Power on"))
    within(when(r, r"NRG: 180\.\d V below MinVoltage 190 V for 0 s: relays off"), 4, 7)
    r = ok(run_sim(tmp_path / "g.bin", "--load-profile", load, duration=2, exec_="Power"))
    assert reply(r, "POWER") == "OFF" and r.logs("MinVoltage trip latched")


# ---- A power cut at every flash operation of a trip ----

def test_a_power_cut_at_every_flash_operation_of_a_trip(tmp_path):
    base = tmp_path / "base.bin"
    setup = "MaxPower 2000; MaxPowerHold 1; PowerOnState 1; Power on"
    ok(run_sim(base, "--load", "100W", duration=1, exec_=setup))
    image = base.read_bytes()
    before = ok(run_sim(tmp_path / "probe0.bin", "--load", "2500W", duration=1.5, exec_=setup))
    after = ok(run_sim(tmp_path / "probe1.bin", "--load", "2500W", duration=4, exec_=setup))
    assert after.logs("relays off")
    latched = 0
    for op in range(before.flash_ops + 1, after.flash_ops + 1):
        cut_image = tmp_path / ("cut%d.bin" % op)
        cut_image.write_bytes(image)
        cut = run_sim(cut_image, "--load", "2500W", "--powercut-at-flash-op", op, duration=4, exec_=setup)
        boot = ok(run_sim(cut_image, "--load", "0W", duration=1, exec_="Power; EnergyTotal"))
        state = reply(boot, "POWER")
        if boot.logs("MaxPower trip latched"):
            latched += 1
            assert state == "OFF", (op, boot)
        else:
            assert state == "ON", (op, boot)  # the trip's record torn: PowerOnState 1, as before the trip
        assert reply(boot, "EnergyTotal")["Total"] >= 0
        assert cut.returncode == 0 or "torn" in cut.stderr
    assert latched >= 1


# ---- PulseTime ----

def test_pulse_time_tenths_and_seconds(tmp_path):
    r = ok(run_sim(tmp_path / "f.bin", "--at", "1 PulseTime1", "--at", "5 Power on",
                   "--at", "6 PulseTime1", duration=30, exec_="PulseTime 25; Power on"))
    # 25: 2.5 s; queried at 1 s: 1.5 s left, Tasmota's encoding 15
    assert when(r, r"PWR: PulseTime1 over: channel 1 off") == [2.5, 7.5]
    assert when(r, r"PWR: channel 1 OFF \(pulsetime\)") == [2.5, 7.5]
    replies = [x["PulseTime1"] for x in r.replies if "PulseTime1" in x]
    assert replies == [{"Set": 25, "Remaining": 0}, {"Set": 25, "Remaining": 15}, {"Set": 25, "Remaining": 15}]
    r = ok(run_sim(tmp_path / "g.bin", "--at", "2 PulseTime1", duration=30,
                   exec_="PulseTime1 112; Power on"))
    assert when(r, r"PulseTime1 over") == [12.0]  # 112: 12 s
    # 10 s left: 100 in tenths (Tasmota gives Remaining in the same encoding)
    assert [x["PulseTime1"] for x in r.replies if "PulseTime1" in x][-1] == {"Set": 112, "Remaining": 100}


def test_pulse_time_restarts_on_each_switch_on_and_stops_when_off(tmp_path):
    r = ok(run_sim(tmp_path / "f.bin", "--at", "3 Power off", "--at", "4 Power on",
                   "--at", "6 Power on", duration=20, exec_="PulseTime 50; Power on"))
    assert when(r, r"PulseTime1 over") == [9.0]  # 4 s + 5 s; the first countdown stopped at 3 s


def test_status_9_shows_the_thresholds_as_tasmota(tmp_path):
    r = ok(run_sim(tmp_path / "f.bin", duration=1, exec_="PowerLow 5; CurrentHigh 9000; PowerDelta 110; Status 9"))
    assert r.replies[-1] == {"StatusPTH": {"PowerDelta": [110], "PowerLow": 5, "PowerHigh": 0, "VoltageLow": 0,
                                           "VoltageHigh": 0, "CurrentLow": 0, "CurrentHigh": 9000}}


def test_the_button_ends_the_latch(make_plug):
    """Real time: the plug's own button is "the user switching on" too."""
    plug = make_plug(None, "--load", "2500W")
    plug.cmd("MaxPower 2000")
    plug.cmd("MaxPowerHold 1")
    plug.cmd("Power on")
    plug.wait_log(r"NRG: \d+ W above MaxPower 2000 W for 1 s: relays off", timeout=10)
    assert plug.cmd("Power") == {"POWER": "OFF"}
    plug.cmd("MaxPower 0")
    mark = plug.mark()
    plug.press(BUTTON_GPIO)
    plug.wait_log(r"NRG: MaxPower trip reset: switched on \(button\)", since=mark)
    assert plug.cmd("Power") == {"POWER": "ON"}


@pytest.mark.parametrize("power_on_state", [0, 1, 2, 3])
def test_no_power_on_state_switches_a_tripped_plug_on(tmp_path, power_on_state):
    flash = tmp_path / "f.bin"
    r = ok(run_sim(flash, "--load", "2500W", duration=5, exec_=(
        "PowerOnState %d; MaxPower 2000; MaxPowerHold 1; Power on" % power_on_state)))
    assert r.logs("relays off"), r
    for boot in range(2):  # two power cuts: 2 (toggle) would switch on at one of them
        r = ok(run_sim(flash, "--load", "2500W", duration=2, exec_="Power"))
        assert reply(r, "POWER") == "OFF" and r.logs("MaxPower trip latched"), (boot, r)
        assert not r.logs("channel 1 ON"), r


def test_a_timer_does_not_switch_a_tripped_plug_on(tmp_path):
    """A schedule is nobody at the plug: while a trip is latched, Timer's
    "on" is refused (and says why); switched on by hand, timers work again."""
    t0 = 1790121600 + 10 * 3600 - 20  # 2026-09-23 09:59:40 UTC
    timer = 'Timer1 {"Enable":1,"Time":"10:00","Days":"SMTWTFS","Repeat":1,"Action":1}'
    r = ok(run_sim(tmp_path / "f.bin", "--load", "2500W", "--at", "70 MaxPower 0; Power on",
                   duration=80, exec_="Time %d; MaxPower 2000; MaxPowerHold 1; %s; Power on" % (t0, timer)))
    assert when(r, r"NRG: \d+ W above MaxPower 2000 W for 1 s: relays off") == [2.0], r
    assert when(r, r"PWR: channel 1 stays off: a protection trip is latched") == [20.0], r
    assert r.logs(r"TMR: Timer1: output 1 has no relay or is locked on"), r
    assert not [t for t in when(r, r"PWR: channel 1 ON") if 0 < t < 70], r  # only the first Power on, and by hand
    assert when(r, r"MaxPower trip reset: switched on \(console\)") == [70.0]
