"""Power cut at every single flash operation of a series of saves.

For a series of settings saves (PowerOnState, DeviceName, Pin, EnergyPrice,
Tariff1: enough of them for the 4-sector settings ring to erase sectors and
wrap), for the energy history's saves across the turn of a year (hour, day,
month and year at once), and for
relay toggles where the relay record crosses a sector boundary and where it
wraps round its 2-sector ring, the simulator is run on a copy of the same
image with --powercut-at-flash-op N for EVERY N.  Each torn image is then
booted: the settings (or the relay) must be exactly the value before or
after the interrupted save -- never defaults, never a mixture, never
"corrupt" -- and the next save must work and survive.
"""
import shutil

import pytest

from simlib import EXIT_POWERCUT, run_sim
from weblib import curl, start_web_plug

SAVES = ["PowerOnState 1", "DeviceName a1", "EnergyPrice 0.25", "PowerOnState 0", "DeviceName a2", "Pin 4 LED;1",
         "Tariff1 22:00", "PowerOnState 2", "DeviceName a3", "PowerOnState 3", "EnergyPrice 0.3", "DeviceName a4",
         "Pin 4 none", "PowerOnState 1", "Tariff1 21:30", "DeviceName a5"]


def settings_after(state, command):
    name, pos, pin4, price, tariff1 = state
    word, arg = command.split(" ", 1)
    if word == "PowerOnState":
        return (name, int(arg), pin4, price, tariff1)
    if word == "DeviceName":
        return (arg, pos, pin4, price, tariff1)
    if word == "EnergyPrice":
        return (name, pos, pin4, float(arg), tariff1)
    if word == "Tariff1":
        return (name, pos, pin4, price, arg)
    return (name, pos, arg.split(" ", 1)[1], price, tariff1)


def copy(src, dst):
    shutil.copyfile(src, dst)
    return dst


def ops_after_each(base, tmp_path, commands, stdin=False):
    """Flash operations counted at the end of each prefix of `commands` (index 0: boot only)."""
    counts = []
    for i in range(len(commands) + 1):
        image = copy(base, tmp_path / "prefix.bin")
        if stdin:
            result = run_sim(image, duration=2, stdin_lines=commands[:i], tmp=tmp_path)
        else:
            result = run_sim(image, duration=2, exec_="; ".join(commands[:i]))
        assert result.returncode == 0, result
        counts.append(result.flash_ops)
    assert counts == sorted(counts) and counts[-1] > counts[0], counts
    return counts


def interrupted_save(counts, op):
    """Index (1-based) of the command whose flash operations include `op`."""
    for i in range(1, len(counts)):
        if counts[i - 1] < op <= counts[i]:
            return i
    raise AssertionError("op %d is outside the saves: %r" % (op, counts))


def read_settings(image):
    result = run_sim(image, duration=1, exec_="Status; Pin 4; EnergyPrice; Tariff")
    assert result.returncode == 0, result
    status, pin, price, tariff = result.replies
    state = (status["Status"]["DeviceName"], status["Status"]["PowerOnState"], pin["Pin4"],
             price["EnergyPrice"]["Standard"], tariff["Tariff"]["Off-Peak"]["STD"])
    return state, result


@pytest.fixture(scope="module")
def settings_base(tmp_path_factory):
    """An image whose settings were saved once (so 'blank' is never a right answer)."""
    tmp = tmp_path_factory.mktemp("settings")
    base = tmp / "base.bin"
    result = run_sim(base, duration=1, exec_="DeviceName base")
    assert result.returncode == 0, result
    return base


def test_settings_saves_survive_a_cut_at_every_flash_operation(settings_base, tmp_path):
    counts = ops_after_each(settings_base, tmp_path, SAVES)
    states = [("base", 3, "none", 0, "00:00")]
    for command in SAVES:
        states.append(settings_after(states[-1], command))
    # the series has to exercise sector erases and the ring's wrap
    assert counts[-1] - counts[0] >= 2 * len(SAVES) + 5, counts
    assert read_settings(copy(settings_base, tmp_path / "check.bin"))[0] == states[0]

    outcomes = []
    for op in range(counts[0] + 1, counts[-1] + 1):
        image = copy(settings_base, tmp_path / ("cut%d.bin" % op))
        cut = run_sim(image, "--powercut-at-flash-op", op, duration=2, exec_="; ".join(SAVES))
        assert cut.returncode == EXIT_POWERCUT, cut
        assert "torn by --powercut-at-flash-op" in cut.stderr, cut

        i = interrupted_save(counts, op)
        state, boot = read_settings(image)
        assert state in (states[i - 1], states[i]), \
            "cut at flash op %d (during %r): got %r, expected %r or %r" % (op, SAVES[i - 1], state,
                                                                          states[i - 1], states[i])
        assert boot.logs(r"CFG: settings loaded \(save \d+\)"), (op, boot.logs(r"CFG:"))
        assert not boot.logs(r"corrupt|blank|using defaults|invalid|unknown version"), (op, boot.logs(r"CFG:"))
        outcomes.append(state == states[i])

        # the ring still takes saves, and they survive
        after = run_sim(image, duration=1, exec_="DeviceName after%d" % op)
        assert after.returncode == 0, after
        state2, boot2 = read_settings(image)
        assert state2 == ("after%d" % op,) + state[1:], (op, state2)
        assert not boot2.logs(r"corrupt|blank|using defaults"), (op, boot2.logs(r"CFG:"))
    print("settings sweep: %d cut points over %d saves, %d kept the new value"
          % (len(outcomes), len(SAVES), sum(outcomes)))


def make_toggled_image(path, tmp_path, toggles):
    """A fresh image, then `toggles` relay toggles (one record each)."""
    result = run_sim(path, duration=1, stdin_lines=["Power 2"] * toggles, tmp=tmp_path)
    assert result.returncode == 0, result
    assert len(result.logs(r"PWR: channel 1 (ON|OFF) \(console\)")) == toggles
    return path


def relay_state(image):
    """Boot the image; return (relay on?, result).  Also toggles once and checks that sticks."""
    result = run_sim(image, duration=1, exec_="Power; Power 2")
    assert result.returncode == 0, result
    first, second = result.replies
    assert second["POWER"] != first["POWER"]
    return first["POWER"] == "ON", result


@pytest.mark.parametrize("done", [127, 255], ids=["crossing_sector", "wrapping_ring"])
def test_relay_toggles_survive_a_cut_at_every_flash_operation(tmp_path, done):
    """128 relay records per sector: the first boot wrote record 0, so after
    127 toggles the next record opens sector 2 of the ring, after 255 the
    ring wraps back to sector 1 (erasing old records)."""
    base = make_toggled_image(tmp_path / "base.bin", tmp_path, done)
    toggles = ["Power 2"] * 4
    counts = ops_after_each(base, tmp_path, toggles, stdin=True)
    assert counts[1] - counts[0] == 3, "the first toggle should erase a sector and program twice: %r" % counts
    assert [counts[i + 1] - counts[i] for i in range(1, len(toggles))] == [2] * (len(toggles) - 1), counts
    old = done % 2 == 1  # the first boot had it off; each toggle flips it
    states = [old]
    for _ in toggles:
        states.append(not states[-1])
    check, _ = relay_state(copy(base, tmp_path / "check.bin"))
    assert check == states[0]

    for op in range(counts[0] + 1, counts[-1] + 1):
        image = copy(base, tmp_path / ("cut%d.bin" % op))
        cut = run_sim(image, "--powercut-at-flash-op", op, duration=2, stdin_lines=toggles, tmp=tmp_path)
        assert cut.returncode == EXIT_POWERCUT, cut
        i = interrupted_save(counts, op)
        on, boot = relay_state(image)
        assert on in (states[i - 1], states[i]), "cut at op %d (toggle %d): relay %s" % (op, i, on)
        assert boot.logs(r"PWR: relays restored by PowerOnState 3"), (op, boot.logs(r"PWR:"))
        # the toggle done by relay_state() must have been recorded
        again, boot2 = relay_state(image)
        assert again == (not on), "cut at op %d: the toggle after the cut was not kept" % op
        assert boot2.logs(r"PWR: relays restored by PowerOnState 3"), (op, boot2.logs(r"PWR:"))


def test_factory_reset_survives_a_cut_at_every_flash_operation(settings_base, tmp_path):
    """Reset 1 wipes the settings and relay rings (a "wiped" marker, then
    the other sectors erased one by one): a cut anywhere leaves either the
    old settings or the defaults, never an older record, a corrupt area or a
    mixture."""
    base = copy(settings_base, tmp_path / "base.bin")
    setup = run_sim(base, duration=1, exec_="; ".join(SAVES[:7]))  # 8 records: every settings sector used
    assert setup.returncode == 0, setup
    old = ("a2", 0, "LED;1", 0.25, "22:00")
    defaults = ("OpenPlug", 3, "none", 0, "00:00")
    assert read_settings(copy(base, tmp_path / "check.bin"))[0] == old
    counts = ops_after_each(base, tmp_path, ["Reset 1"])
    assert counts[1] - counts[0] >= 8, counts  # 2 markers (erase + program) + 4 other sectors erased
    seen = set()
    for op in range(counts[0] + 1, counts[1] + 1):
        image = copy(base, tmp_path / ("cut%d.bin" % op))
        cut = run_sim(image, "--powercut-at-flash-op", op, duration=2, exec_="Reset 1")
        assert cut.returncode == EXIT_POWERCUT, cut
        state, boot = read_settings(image)
        assert state in (old, defaults), "cut at op %d of Reset 1: %r" % (op, state)
        assert not boot.logs(r"corrupt|invalid|unknown version"), (op, boot.logs(r"CFG:"))
        seen.add(state)
    assert seen == {old, defaults}, seen


NEW_YEAR_EVE = 1767225510  # 2025-12-31 23:58:30 UTC


def test_history_saves_at_the_turn_of_the_year_survive_a_cut_at_every_flash_operation(make_plug, tmp_path):
    """3680 W with a price, 23:59:30 to 00:00:30 on New Year's Eve: the
    history saves its hour, day, month and year (and their cost) at once,
    the counters roll the day over.  Cut at every flash operation of those
    two seconds, the plug boots with a December and a 2025 that are whole,
    a January and a 2026 that hold what was saved, months and years that
    add up to the Total, and each bar's cost its energy at the price."""
    base = tmp_path / "base.bin"
    ok = run_sim(base, "--load", "3680W", duration=60,
                 exec_="Time %d; Power on; EnergySaveWh 1; EnergyPrice 0.25" % NEW_YEAR_EVE)
    assert ok.returncode == 0, ok
    resume = "Time %d" % (NEW_YEAR_EVE + 60)

    def ops_after(seconds):
        probe = copy(base, tmp_path / "probe.bin")
        result = run_sim(probe, "--load", "3680W", duration=seconds, exec_=resume)
        assert result.returncode == 0, result
        return result.flash_ops

    window = list(range(ops_after(29.5) + 1, ops_after(30.5) + 1))
    assert len(window) >= 4, window
    print("turn of the year: %d flash operations cut" % len(window))
    for op in window:
        image = copy(base, tmp_path / ("cut%d.bin" % op))
        cut = run_sim(image, "--load", "3680W", "--powercut-at-flash-op", op, duration=60, exec_=resume)
        assert cut.returncode == EXIT_POWERCUT, cut
        plug = start_web_plug(make_plug, "--load", "0W", flash=image)
        history = curl(plug.base + "/api/history").json()
        total_wh = curl(plug.base + "/cm?cmnd=EnergyTotal").json()["EnergyTotal"]["Total"] * 1000
        plug.kill()
        months, years, hours = history["months_wh"], history["years_wh"], history["hours_wh"]
        assert history["year"] in (2025 - 1970, 2026 - 1970), (op, history["year"])
        assert history["month"] == (history["year"] + 1970 - 1970) * 12 + (0 if history["year"] == 56 else 11), op
        assert sum(months) == pytest.approx(sum(years), abs=0.002), (op, months[-2:], years[-2:])
        assert sum(months) == pytest.approx(sum(hours), abs=0.003), (op, months[-2:], hours[-2:])
        december = months[-2] if history["year"] == 56 else months[-1]
        assert december >= 60 * 3680 / 3600.0 - 1.1, (op, months[-2:])
        assert total_wh - 0.51 <= sum(months) <= total_wh + 0.5 + 1.0 + 3680 / 3600.0 + 0.1, (op, total_wh, months[-2:])
        for energy, cost in zip(months + years, history["months_cost"] + history["years_cost"]):
            assert cost == pytest.approx(energy / 1000 * 0.25, abs=0.0015), (op, energy, cost)
        assert history["cost"]["total"] == pytest.approx(sum(months) / 1000 * 0.25, abs=0.0015), op
