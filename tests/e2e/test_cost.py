"""Monthly and yearly history and the cost of energy through the simulator:
the month and the year roll over in virtual time (energy lands in the
month and year it was measured in, and a power cut at any flash operation
across the turn of the year leaves months and years that add up to the
Total); each kWh costs the price of the tariff in force when it was
measured (Tasmota's Tariff1/Tariff2, EnergyPrice1/2); the commands refuse
bad values and change nothing; the settings survive a restart; SENSOR
(Status 8) has the cost keys only while a price is set."""
import pytest

from simlib import run_sim
from weblib import curl, start_web_plug

NEW_YEAR_EVE = 1767225510  # 2025-12-31 23:58:30 UTC
MONDAY_2159 = 1764021540  # 2025-11-24 21:59:00 UTC, a Monday
JANUARY_2026 = (2026 - 1970) * 12


def ok(result):
    assert result.returncode == 0, result
    return result


def wh(watts, seconds):
    return watts * seconds / 3600.0


def read_back(make_plug, image, clock=None):
    """/api/history, Total (Wh) and Status 8 as a plug booted on the image sees them."""
    plug = start_web_plug(make_plug, "--load", "0W", flash=image)
    if clock:
        curl(plug.base + "/cm?cmnd=Time%%20%d" % clock)
    history = curl(plug.base + "/api/history").json()
    total_wh = curl(plug.base + "/cm?cmnd=EnergyTotal").json()["EnergyTotal"]["Total"] * 1000
    sensor = curl(plug.base + "/cm?cmnd=Status%208").json()["StatusSNS"]["ENERGY"]
    plug.kill()
    return history, total_wh, sensor


def test_commands_refuse_bad_values_and_change_nothing(tmp_path):
    good = ["Tariff1 22:00,23:00", "Tariff2 6", "Tariff9 1", "EnergyPrice1 0.1", "EnergyPrice2 0.3",
            "Currency EUR"]
    bad = ["Tariff1 24:00", "Tariff1 22:60", "Tariff2 6:00,7:00,8:00", "Tariff2 six", "Tariff3 1", "Tariff9 2",
           "Tariff1 -1", "EnergyPrice -0.1", "EnergyPrice 0.12345", "EnergyPrice 1000.1", "EnergyPrice 1e3",
           "EnergyPrice3 1", "EnergyPrice 0,3", "Currency ABCDEFGH"]
    queries = ["Tariff", "EnergyPrice", "Currency"]
    image = tmp_path / "flash.bin"
    result = ok(run_sim(image, duration=1, exec_="; ".join(good + queries + bad + queries)))
    replies = result.replies
    before = replies[len(good):len(good) + len(queries)]
    assert before[0] == {"Tariff": {"Off-Peak": {"STD": "22:00", "DST": "23:00"},
                                    "Standard": {"STD": "06:00", "DST": "00:00"}, "Weekend": "ON"}}
    assert before[1] == {"EnergyPrice": {"Off-Peak": 0.1, "Standard": 0.3, "Currency": "EUR"}}
    assert before[2] == {"Currency": "EUR"}
    errors = replies[len(good) + len(queries):len(good) + len(queries) + len(bad)]
    for command, reply in zip(bad, errors):
        assert reply.get("Command") == "Error" and reply["Error"], (command, reply)
    assert replies[-len(queries):] == before
    # They were saved: a restart reads them back.
    assert ok(run_sim(image, duration=1, exec_="; ".join(queries))).replies == before


def test_month_and_year_roll_over_with_their_cost(make_plug, tmp_path):
    image = tmp_path / "flash.bin"
    ok(run_sim(image, "--load", "3680W", duration=180,
               exec_="Time %d; Power on; EnergySaveWh 1; EnergyPrice 0.25; Currency EUR" % NEW_YEAR_EVE))
    history, total_wh, sensor = read_back(make_plug, image, clock=NEW_YEAR_EVE + 200)
    assert history["month"] == JANUARY_2026 and history["year"] == 2026 - 1970
    months, years = history["months_wh"], history["years_wh"]
    assert len(months) == 24 and len(years) == 10
    assert months[-2] == pytest.approx(wh(3680, 90), abs=1.1)  # 23:58:30 to midnight
    assert months[-1] == pytest.approx(wh(3680, 90), abs=1.1 + 1.1)  # to 00:01:30, less the unsaved
    assert sum(months[:-2]) == 0 and sum(years[:-2]) == 0
    assert years[-2:] == pytest.approx(months[-2:], abs=0.002)
    assert sum(months) == pytest.approx(total_wh, abs=0.51)
    assert sum(history["days_wh"]) == pytest.approx(sum(months), abs=0.003)
    # Each bar's cost is its energy at 0.25 per kWh (to the thousandth).
    assert history["currency"] == "EUR"
    for energy, cost in zip(months + years, history["months_cost"] + history["years_cost"]):
        assert cost == pytest.approx(energy / 1000 * 0.25, abs=0.0015)
    assert history["cost"]["total"] == pytest.approx(total_wh / 1000 * 0.25, abs=0.002)
    assert history["cost"]["month"] == history["months_cost"][-1]
    assert history["cost"]["today"] == history["days_cost"][-1]
    assert history["cost"]["yesterday"] == history["days_cost"][-2]
    # SENSOR: the same costs, to the cent.
    assert sensor["CostTotal"] == pytest.approx(history["cost"]["total"], abs=0.006)
    assert sensor["CostToday"] == pytest.approx(history["cost"]["today"], abs=0.006)
    assert sensor["CostYesterday"] == pytest.approx(history["cost"]["yesterday"], abs=0.006)
    assert sensor["CostMonth"] == pytest.approx(history["cost"]["month"], abs=0.006)


def test_cost_across_a_tariff_change(make_plug, tmp_path):
    """Off-peak from 22:00 at 0.10, standard from 06:00 at 0.30: the minute
    before 22:00 costs 0.30 a kWh, the one after 0.10."""
    image = tmp_path / "flash.bin"
    ok(run_sim(image, "--load", "3680W", duration=120,
               exec_="Time %d; Power on; EnergySaveWh 1; Tariff1 22:00; Tariff2 06:00; EnergyPrice1 0.10; "
                     "EnergyPrice2 0.30" % MONDAY_2159))
    history, total_wh, _ = read_back(make_plug, image)
    hours, costs = history["hours_wh"], history["hours_cost"]
    assert hours[-2] == pytest.approx(wh(3680, 60), abs=1.1)
    assert costs[-2] == pytest.approx(hours[-2] / 1000 * 0.30, abs=0.0015)
    assert costs[-1] == pytest.approx(hours[-1] / 1000 * 0.10, abs=0.0015)
    assert costs[-1] < costs[-2] / 2
    assert history["days_cost"][-1] == pytest.approx(costs[-1] + costs[-2], abs=0.0015)
    assert history["cost"]["total"] == pytest.approx(costs[-1] + costs[-2], abs=0.0015)


def test_sensor_has_cost_keys_only_with_a_price(tmp_path):
    image = tmp_path / "flash.bin"
    plain, priced, removed = ok(run_sim(image, "--load", "100W", duration=1,
                                        exec_="Status 8; EnergyPrice 0.2; Status 8; EnergyPrice 0; Status 8")).replies[::2]
    assert not [key for key in plain["StatusSNS"]["ENERGY"] if key.startswith("Cost")]
    assert [key for key in priced["StatusSNS"]["ENERGY"] if key.startswith("Cost")] == \
        ["CostTotal", "CostYesterday", "CostToday", "CostMonth"]
    assert removed == plain
