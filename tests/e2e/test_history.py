"""The energy history through the simulator: energy lands in the hour and
day it was measured in (virtual time across an hour change and midnight),
and a power cut at any flash operation — torn halfway — leaves a history
that adds up to the energy counters' Total (what they lost, it lost; never
more than one save interval of difference).  Read back over HTTP
(GET /api/history) from a plug booted on the same flash image."""
import random

import pytest

from simlib import run_sim
from weblib import curl, start_web_plug

T_2259 = 1763938740  # 2025-11-23 22:59:00 UTC
T_235830 = 1763938740 + 3600 - 30  # 23:58:30 UTC


def ok(result):
    assert result.returncode == 0, result
    return result


def wh(watts, seconds):
    return watts * seconds / 3600.0


def read_back(make_plug, image):
    """History and Total as a plug booted on the image sees them."""
    plug = start_web_plug(make_plug, "--load", "0W", flash=image)
    history = curl(plug.base + "/api/history").json()
    total_wh = curl(plug.base + "/cm?cmnd=EnergyTotal").json()["EnergyTotal"]["Total"] * 1000
    plug.kill()
    return history, total_wh


def test_energy_lands_in_its_hour_and_day(make_plug, tmp_path):
    image = tmp_path / "flash.bin"
    ok(run_sim(image, "--load", "3680W", duration=180, exec_="Time %d; Power on; EnergySaveWh 1" % T_2259))
    history, total_wh = read_back(make_plug, image)
    assert history["clock"] is False  # a new power-on: the clock is unknown again
    assert history["hour"] == (T_2259 + 180) // 3600 and history["day"] == T_2259 // 86400
    hours = history["hours_wh"]
    assert len(hours) == 48 and len(history["days_wh"]) == 14
    assert hours[-2] == pytest.approx(wh(3680, 60), abs=1.1)  # 22:59 to 23:00
    assert hours[-1] == pytest.approx(wh(3680, 120), abs=1.1 + 1.1)  # 23:00 to 23:02, less the unsaved
    assert sum(hours[:-2]) == 0
    assert sum(hours) == pytest.approx(total_wh, abs=0.51)  # the bars add up to Total (shown to the Wh)
    assert history["days_wh"][-1] == pytest.approx(sum(hours), abs=0.002)


def test_power_cut_at_any_flash_operation_across_midnight(make_plug, tmp_path):
    """Saves every 1 Wh at 3680 W, 23:58:30 to 23:59:30, then a run across
    midnight (history saves at the hour and day change, energy saves every
    second) cut at random flash operations."""
    base = tmp_path / "base.bin"
    ok(run_sim(base, "--load", "3680W", duration=60, exec_="Time %d; Power on; EnergySaveWh 1" % T_235830))
    resume = "Time %d" % (T_235830 + 60)
    probe = tmp_path / "probe.bin"
    probe.write_bytes(base.read_bytes())
    whole = ok(run_sim(probe, "--load", "3680W", duration=60, exec_=resume))
    boot_ops = ok(run_sim(tmp_path / "blank.bin", "--load", "0W", duration=0.01)).flash_ops

    def ops_after(seconds):
        probe.write_bytes(base.read_bytes())
        return ok(run_sim(probe, "--load", "3680W", duration=seconds, exec_=resume)).flash_ops

    # Every operation of the saves at midnight (the history's hour and day
    # change, the counters' day rollover), and some anywhere else.
    midnight = list(range(ops_after(29.5) + 1, ops_after(31.5) + 1))
    assert len(midnight) >= 4, midnight
    rng = random.Random(11)
    for op in sorted(set(midnight + rng.sample(range(boot_ops + 1, whole.flash_ops + 1), 6))):
        image = tmp_path / ("cut%d.bin" % op)
        image.write_bytes(base.read_bytes())
        cut = run_sim(image, "--load", "3680W", "--powercut-at-flash-op", op, duration=60, exec_=resume)
        assert cut.returncode == 3, cut
        history, total_wh = read_back(make_plug, image)
        hours, days = history["hours_wh"], history["days_wh"]
        assert history["hour"] in (T_235830 // 3600, T_235830 // 3600 + 1), (op, history)
        assert history["day"] == history["hour"] // 24, (op, history)
        # Never less than Total (taken back; Total is shown to the Wh), at
        # most one save interval and one report more.
        assert total_wh - 0.51 <= sum(hours) <= total_wh + 0.5 + 1.0 + wh(3680, 1) + 0.1, (op, total_wh, hours[-3:])
        assert sum(days) == pytest.approx(sum(hours), abs=0.003), (op, days[-3:], hours[-3:])
        assert hours[-2 if history["hour"] % 24 == 0 else -1] >= wh(3680, 60) - 1.1, (op, hours[-3:])
