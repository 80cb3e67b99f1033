"""The BL0942 end to end: the firmware's driver (src/core/energy/bl0942.c)
on the simulated chip and UART (src/port/host/sim_bl0942.c, sim_uart.c),
a --meter bl0942 board, in virtual time.

Covers: readings at a load in Status 8 and SENSOR-shaped ENERGY, a source
(negative load: export) that imports nothing, PowerSet calibration through
the generic meter path, packets damaged on the wire (corrupt, cut short,
out of sync, noise) dropped and counted without a wrong reading, CF_CNT
wrapping, and `startDriver BL0942` on the default pins of a template
without BL0942 roles.
"""
import json
import time

import pytest

from simlib import run_sim

POWER_CAL = 1604122  # nW per LSB of WATT: the default (1 mOhm, 5 x 390 kOhm + 510 Ohm)


def ok(result):
    assert result.returncode == 0, result
    return result


def energies(result):
    found = [r["StatusSNS"]["ENERGY"] for r in result.replies if "StatusSNS" in r]
    assert found, result  # no test passes on an empty list
    return found


def bl0942(tmp_path, *args, duration=6, at="5 Status 8", exec_="Power on"):
    return ok(run_sim(tmp_path / "flash.bin", "--meter", "bl0942", "--at", at, *args, duration=duration,
                      exec_=exec_))


def test_readings_at_a_load(tmp_path):
    r = bl0942(tmp_path, "--load", "1000W,pf=0.9")
    assert "BL0942 on TX GPIO16, RX GPIO7, 4800 baud 8N1" in r.stdout
    [e] = energies(r)
    assert e["Power"] == pytest.approx(1000, rel=2e-3)
    assert e["Voltage"] == pytest.approx(230, rel=1e-3)
    assert e["Current"] == pytest.approx(1000 / (230 * 0.9), rel=2e-3)
    assert e["Factor"] == pytest.approx(0.9, abs=0.01)
    assert e["ApparentPower"] == pytest.approx(1000 / 0.9, rel=2e-3)
    assert e["ReactivePower"] == pytest.approx((1111.11 ** 2 - 1000 ** 2) ** 0.5, rel=1e-2)


def test_relay_off_reads_no_current(tmp_path):
    r = bl0942(tmp_path, "--load", "1000W", exec_="Power off")
    [e] = energies(r)
    assert e["Power"] == 0 and e["Current"] == 0
    assert e["Voltage"] == pytest.approx(230, rel=1e-3)


def test_export_reads_negative_power_and_imports_nothing(tmp_path):
    r = bl0942(tmp_path, "--load", "-300W", duration=62, at="5 Status 8", exec_="Power on")
    r2 = ok(run_sim(tmp_path / "flash.bin", "--meter", "bl0942", "--load", "-300W", "--at", "30 Status 8",
                    duration=31))
    for e in energies(r) + energies(r2):
        assert e["Power"] == pytest.approx(-300, rel=2e-3)
        assert e["Total"] == 0 and e["Today"] == 0  # fed back, not drawn
        assert e["ApparentPower"] == pytest.approx(300, rel=2e-3)
        assert e["Factor"] == pytest.approx(1, abs=0.01)


def test_energy_counts_the_load(tmp_path):
    r = bl0942(tmp_path, "--load", "3600W", duration=101, at="1 EnergyTotal", exec_="Power on")
    r2 = ok(run_sim(tmp_path / "flash.bin", "--meter", "bl0942", "--load", "3600W", "--at", "0.5 EnergyTotal",
                    duration=1))
    start = [x["EnergyTotal"]["Total"] for x in r.replies if "EnergyTotal" in x][0]
    end = [x["EnergyTotal"]["Total"] for x in r2.replies if "EnergyTotal" in x][0]
    # 3.6 kW for ~100 s = 0.1 kWh; the counter is saved every EnergySaveWh (10 Wh)
    assert 0.1 - 0.011 <= end - start <= 0.1 + 0.001, (start, end)


def test_powerset_calibrates_the_bl0942(tmp_path):
    r = bl0942(tmp_path, "--load", "60W", at="5 PowerCal; PowerSet 66; PowerCal; PowerSet 999; PowerCal",
               duration=8)
    r = ok(run_sim(tmp_path / "flash.bin", "--meter", "bl0942", "--load", "60W",
                   "--at", "3 Status 8; PowerCal", duration=4))
    cals = [x["PowerCal"] for x in r.replies if "PowerCal" in x]
    assert cals == [pytest.approx(POWER_CAL * 66 / 60, rel=2e-3)], r.replies
    [e] = energies(r)
    assert e["Power"] == pytest.approx(66, rel=2e-3)


def test_powerset_sequence_and_refusal(tmp_path):
    r = bl0942(tmp_path, "--load", "60W", at="5 PowerCal; PowerSet 66; PowerCal; PowerSet 999; PowerCal",
               duration=6)
    cals = [x["PowerCal"] for x in r.replies if "PowerCal" in x]
    assert cals[0] == POWER_CAL
    assert cals[1] == pytest.approx(POWER_CAL * 66 / 60, rel=2e-3)
    assert cals[2] == cals[1]  # beyond 4x: refused, nothing changed
    assert [x for x in r.replies if x.get("Command") == "Error"], r.replies


@pytest.mark.parametrize("fault", ["corrupt/2", "truncate/3", "desync/3", "junk/2"])
def test_damaged_packets_are_dropped_and_counted(tmp_path, fault):
    r = bl0942(tmp_path, "--load", "2000W", "--bl0942-fault", fault, duration=21,
               at="2 Status 8; 5 Status 8", exec_="Power on")
    r = ok(run_sim(tmp_path / "flash.bin", "--meter", "bl0942", "--load", "2000W", "--bl0942-fault", fault,
                   "--energy-log", tmp_path / "e.csv", duration=21,
                   *[a for t in range(2, 21, 3) for a in ("--at", "%d Status 8" % t)]))
    for e in energies(r):
        assert e["Power"] == pytest.approx(2000, rel=2e-3), e  # never a reading from a bad packet
        assert e["Voltage"] == pytest.approx(230, rel=1e-3), e
    dropped = r.logs(r"BL0942 dropped packets since start")
    if fault != "junk/2":
        assert dropped, r.stdout  # counted and said
    else:
        assert not dropped  # noise before a good packet costs no packet
    rows = [line.split(",") for line in (tmp_path / "e.csv").read_text().splitlines()[1:]]
    assert all(float(row[3]) == pytest.approx(2000, rel=2e-3) for row in rows if float(row[0]) >= 1)


def test_cf_cnt_wrap_keeps_counting(tmp_path):
    # 2 kW: ~2.97 CF_CNT steps a second; from 16777000 the register wraps after ~73 s
    log = tmp_path / "e.csv"
    ok(run_sim(tmp_path / "flash.bin", "--meter", "bl0942", "--load", "2000W", "--bl0942-cf-start", "16777000",
               "--energy-log", log, duration=150, exec_="Power on"))
    rows = [[float(v) for v in line.split(",")] for line in log.read_text().splitlines()[1:]]
    totals = [row[6] for row in rows]
    assert all(b >= a for a, b in zip(totals, totals[1:]))
    span = rows[-1][0] - rows[0][0]
    assert (totals[-1] - totals[0]) * 1000 == pytest.approx(2000 * span / 3600, rel=1e-3)


def test_startdriver_on_the_default_pins(tmp_path):
    # a template without BL0942 roles: no meter until startDriver BL0942 (TX GPIO16, RX GPIO7)
    tpl = '{"name":"bare","pins":{"2":"Rel;1"}}'
    r = ok(run_sim(tmp_path / "flash.bin", "--meter", "bl0942", "--load", "500W",
                   "--at", "1 Template %s" % tpl, "--at", "3 Status 8; startDriver BL0942", "--at", "6 Status 8",
                   duration=7, exec_="Power on"))
    sns = [x["StatusSNS"] for x in r.replies if "StatusSNS" in x]
    assert len(sns) == 2 and "ENERGY" not in sns[0], sns  # no meter: no energy readings
    assert sns[1]["ENERGY"]["Power"] == pytest.approx(500, rel=2e-3)
    assert "BL0942 on TX GPIO16, RX GPIO7" in r.stdout


def test_bad_options_are_refused(tmp_path):
    for args in (["--meter", "bl0943"], ["--meter", "bl0942", "--bl0942-fault", "melt"],
                 ["--bl0942-fault", "corrupt"], ["--meter", "bl0942", "--bl0942-cf-start", "16777216"],
                 ["--load", "-300W"]):
        r = run_sim(tmp_path / "flash.bin", *args, duration=1)
        assert r.returncode == 2, (args, r)


def wait_power(plug, watts, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        energy = plug.cmd("Status 8")["StatusSNS"].get("ENERGY")
        if energy and energy.get("Power") == pytest.approx(watts, rel=5e-3):  # absent until measured
            return energy
        assert time.monotonic() < deadline, energy
        time.sleep(0.3)


def test_world_requests_on_a_live_plug(make_plug):
    # real time: the world socket damages packets and plugs in a source while it runs
    plug = make_plug(None, "--meter", "bl0942", "--load", "500W")
    template, power = plug.replies("Power on", 2)  # the first boot typed the board's template
    assert template["name"] == "BL0942 plug (sim)" and power == {"POWER": "ON"}, (template, power)
    wait_power(plug, 500)
    status = plug.world("bl0942")
    assert status.startswith("ok {"), status
    figures = json.loads(status[3:])
    assert figures["answers"] > 0 and figures["damaged"] == 0 and figures["fault"] == "none"
    assert plug.world("bl0942 fault melt").startswith("error: ")
    assert plug.world("bl0942 fault corrupt 1") == "ok bl0942 fault corrupt every 1"
    plug.wait_log(r"BL0942 dropped packets since start: [1-9]", timeout=5)
    plug.wait_log(r"BL0942: no good packet for 3 s", timeout=8)  # every packet bad: withdrawn, not guessed
    energy = plug.cmd("Status 8")["StatusSNS"]["ENERGY"]
    assert "Power" not in energy and "Voltage" not in energy and "Total" in energy, energy  # the counters stay
    assert plug.world("bl0942 fault none").startswith("ok bl0942 fault none")
    assert plug.world("load -500W").startswith("ok load -500 W")
    energy = wait_power(plug, -500)
    assert energy["ApparentPower"] == pytest.approx(500, rel=5e-3)
