"""The simulated BL0937 (src/port/host/sim_bl0937.c), tested through its pins:
the `counts` world request and the same JSON printed on stderr when the
simulator stops ("openplug-sim: bl0937 counts {...}").

Covers: CF rate = P/KP for several loads (0.1 %), CF1 = voltage or current
by SEL (firmware-driven through a relay role on GPIO21; undriven = current;
--sel-inverted), the `load` request and its errors, load profiles (good and
bad files), edge-trace replay (routing by SEL, 64-bit times, bad files),
the four CF1 settle modes, lazily counted pulses equal to per-edge events,
blackouts and flash erases collapsing edges into one interrupt, interrupt
jitter bounds, anti-creep, the load kept across a restart, and the speed
of 60 s of virtual time at 3680 W.

Most runs are in virtual time; the GPIO21 relay template (no metering pins:
the firmware's driver stays off) is imported through the console, then a
restart, so the second boot's counts are the chip alone.
"""
import json
import re
import time

import pytest

from simlib import run_sim

VREF = 1.218
SHUNT = 0.001
DIVIDER = 1981
KP = VREF ** 2 * DIVIDER / (SHUNT * 1721506)  # W per Hz of CF
F_CFU_230 = 15397 * 230 / DIVIDER / VREF       # CF1 in voltage mode at 230 V

COUNTS_RE = re.compile(r"openplug-sim: bl0937 counts (\{.*\})")

# No BL0937 roles: the metering driver does not start.  GPIO21 (SEL) is
# relay 2: `Power2 on` selects voltage.
NO_METER = ('{"name":"no meter","pins":{"2":"Rel;1","17":"Btn;1","20":"LED_n;1","21":"Rel;2"}}')


def f_cf(watts):
    return watts / KP


def f_cfi(amps):
    return 94638 * amps * SHUNT / VREF


def last_counts(result):
    found = COUNTS_RE.findall(result.stderr)
    assert found, result
    return json.loads(found[-1])


def run_counts(tmp_path, *args, duration, lines=None, name="flash.bin"):
    """Run in virtual time with the relay closed (the load draws through it);
    return (counts of the last boot, SimResult)."""
    lines = ["Power1 on"] + list(lines or [])
    result = run_sim(tmp_path / name, *args, duration=duration, stdin_lines=lines, tmp=tmp_path)
    assert result.returncode == 0, result
    return last_counts(result), result


def run_chip_alone(tmp_path, *args, duration, sel_on=False, name="flash.bin"):
    """First boot: import NO_METER, close the relay (the load draws through
    it) (and drive SEL high), restart; the counts are the second boot's.
    Returns (counts, boot offset in us)."""
    lines = ["Template " + NO_METER, "Power1 on"] + (["Power2 on"] if sel_on else []) + ["Restart 1"]
    counts, result = run_counts(tmp_path, *args, duration=duration, lines=lines, name=name)
    assert result.boot == 2 and "NRG: BL0937 on CF" not in result.stdout.split("reset reason: Restart")[-1], result
    return counts, round(duration * 1e6) - counts["t_us"]


def rate(counts, out="cf"):
    """Pulses per second between the first and the last falling edge."""
    span = counts[out + "_last_us"] - counts[out + "_first_us"]
    return (counts[out] - 1) * 1e6 / span


# ---- CF and CF1 rates ----

@pytest.mark.parametrize("load, watts", [("60W", 60), ("2000W", 2000), ("2000W,pf=0.9", 2000),
                                         ("3680W", 3680), ("1W", 1)])
def test_cf_rate_is_power_over_kp(tmp_path, load, watts):
    duration = 10 if watts >= 60 else 60
    counts, _ = run_counts(tmp_path, "--load", load, duration=duration)
    assert rate(counts) == pytest.approx(f_cf(watts), rel=1e-3), counts
    assert abs(counts["cf"] - f_cf(watts) * duration) <= 1, counts


def test_cf_scales_with_the_network(tmp_path):
    counts, _ = run_counts(tmp_path, "--load", "1000W", "--shunt-mohm", "2", "--divider", "1000", duration=10)
    kp = VREF ** 2 * 1000 / (0.002 * 1721506)
    assert rate(counts) == pytest.approx(1000 / kp, rel=1e-3), counts


def test_cf1_is_current_while_sel_is_undriven(tmp_path):
    counts, _ = run_chip_alone(tmp_path, "--load", "2000W,pf=0.5", duration=5)
    assert counts["sel"] == 0
    assert rate(counts, "cf1") == pytest.approx(f_cfi(2000 / (230 * 0.5)), rel=1e-3), counts
    assert (counts["irq_cf"], counts["irq_cf1"]) == (0, 0)  # nobody watches the pins


def test_cf1_is_voltage_when_the_firmware_drives_sel_high(tmp_path):
    counts, _ = run_chip_alone(tmp_path, "--mains", "240", sel_on=True, duration=5)
    assert counts["sel"] == 1
    assert rate(counts, "cf1") == pytest.approx(15397 * 240 / DIVIDER / VREF, rel=1e-3), counts


def test_sel_inverted_board(tmp_path):
    counts, _ = run_chip_alone(tmp_path, "--sel-inverted", duration=3)
    assert counts["sel"] == 1  # undriven GPIO21 -> the inverter gives the chip a 1
    assert rate(counts, "cf1") == pytest.approx(F_CFU_230, rel=1e-3), counts
    counts, _ = run_chip_alone(tmp_path, "--sel-inverted", sel_on=True, duration=3, name="f2.bin")
    assert counts["sel"] == 0 and rate(counts, "cf1") == pytest.approx(f_cfi(60 / 230), rel=2e-3), counts


def test_sel_switches_cf1_live(make_plug):
    plug = make_plug(None, "--load", "2000W")
    plug.cmd("Template " + NO_METER)
    plug.restart()
    assert plug.cmd("Power1 on") == {"POWER1": "ON"}  # the load draws through the relay

    def cf1_rate():
        time.sleep(0.1)  # past the first pulse at the new rate
        a = json.loads(plug.world("counts")[3:])
        time.sleep(0.4)
        b = json.loads(plug.world("counts")[3:])
        assert a["sel"] == b["sel"]
        return b["sel"], (b["cf1"] - a["cf1"]) * 1e6 / (b["cf1_last_us"] - a["cf1_last_us"])

    current = f_cfi(2000 / 230)
    assert cf1_rate() == (0, pytest.approx(current, rel=2e-3))
    assert plug.cmd("Power2 on") == {"POWER2": "ON"}
    assert cf1_rate() == (1, pytest.approx(F_CFU_230, rel=2e-3))
    assert plug.cmd("Power2 off") == {"POWER2": "OFF"}
    assert cf1_rate() == (0, pytest.approx(current, rel=2e-3))


# ---- The load request ----

def test_load_request(make_plug):
    plug = make_plug()
    assert plug.world("load") == "ok load 60 W pf 1.00 at 230.0 V"
    assert plug.cmd("Power on") == {"POWER": "ON"}  # the load draws through the relay
    assert plug.world("load 2000W pf=0.9") == "ok load 2000 W pf 0.90 at 230.0 V"
    time.sleep(0.05)  # past the first pulse at the new rate
    a = json.loads(plug.world("counts")[3:])
    time.sleep(0.5)
    b = json.loads(plug.world("counts")[3:])
    assert (b["cf"] - a["cf"]) * 1e6 / (b["cf_last_us"] - a["cf_last_us"]) == pytest.approx(f_cf(2000), rel=2e-3)
    assert plug.world("load 100W volts=120") == "ok load 100 W pf 1.00 at 120.0 V"
    assert plug.world("load 0W") == "ok load 0 W pf 1.00 at 120.0 V"
    assert plug.world("load") == "ok load 0 W pf 1.00 at 120.0 V"
    cf = json.loads(plug.world("counts")[3:])["cf"]
    time.sleep(0.3)
    assert json.loads(plug.world("counts")[3:])["cf"] - cf <= 1  # a pulse under way may end


def test_the_load_draws_only_through_the_relay(make_plug):
    """The plug's relay switches the load: open, no CF pulses; closed, P/KP."""
    plug = make_plug(None, "--load", "2000W")
    assert plug.cmd("Power off") == {"POWER": "OFF"}
    a = json.loads(plug.world("counts")[3:])
    time.sleep(0.3)
    assert json.loads(plug.world("counts")[3:])["cf"] - a["cf"] <= 1
    assert plug.cmd("Power on") == {"POWER": "ON"}
    time.sleep(0.05)
    a = json.loads(plug.world("counts")[3:])
    time.sleep(0.4)
    b = json.loads(plug.world("counts")[3:])
    assert (b["cf"] - a["cf"]) * 1e6 / (b["cf_last_us"] - a["cf_last_us"]) == pytest.approx(f_cf(2000), rel=2e-3)


@pytest.mark.parametrize("request_, error", [
    ("load abc", "expected <watts>W"), ("load -5W", "expected <watts>W"), ("load 100W pf=2", "pf"),
    ("load 100W pf=0", "pf"), ("load 100W volts=500", "volts"), ("load 100W volts=0", "volts"),
    ("load 100W amps=3", "unknown 'amps=3'"), ("load 100W pf=x", "bad number"),
    ("load 30000W", "beyond the chip's range"),
])
def test_bad_load_requests_are_refused(plug, request_, error):
    reply = plug.world(request_)
    assert reply.startswith("error: load: ") and error in reply, reply
    assert plug.world("load") == "ok load 60 W pf 1.00 at 230.0 V"


def test_world_help_and_counts(plug):
    assert "load [<watts>W" in plug.world("help") and "counts" in plug.world("help")
    reply = plug.world("counts")
    assert reply.startswith("ok {"), reply
    counts = json.loads(reply[3:])
    for key in ("cf", "cf1", "sel", "t_us", "irq_cf", "irq_cf1", "collapsed_cf", "lat_max_us"):
        assert key in counts, counts
    assert plug.world("counts 1").startswith("error: ")


def test_load_survives_a_restart(make_plug):
    plug = make_plug()
    assert plug.world("load 1500W pf=0.8 volts=220").startswith("ok ")
    plug.restart()
    assert plug.world("load") == "ok load 1500 W pf 0.80 at 220.0 V"
    assert plug.powercut() == 3
    plug.start()  # a power cut: the process starts afresh from the options
    assert plug.world("load") == "ok load 60 W pf 1.00 at 230.0 V"


# ---- Load profiles ----

def test_load_profile(tmp_path):
    profile = tmp_path / "profile.csv"
    profile.write_text("# a kettle, then nothing\n"
                       "t_s, volts, amps, pf\n"
                       "0,230,0.2608695652,1\n"
                       "\n"
                       "4,230,8.695652174,1   # 2000 W\n"
                       "7,230,0,1\n"
                       "8,240,4,0.5\n")
    counts, _ = run_counts(tmp_path, "--load-profile", profile, duration=10)
    expected = f_cf(60) * 4 + f_cf(2000) * 3 + f_cf(480) * 2
    assert abs(counts["cf"] - expected) <= 2, (counts, expected)
    # the profile counts from power-on, across restarts
    counts, offset = run_chip_alone(tmp_path, "--load-profile", profile, duration=6, name="f2.bin")
    assert offset > 0
    expected = f_cf(60) * (4 - offset / 1e6) + f_cf(2000) * 2
    assert abs(counts["cf"] - expected) <= 2, (counts, expected)


BAD_PROFILES = [
    ("no_header", "0,230,1,1\n", "line 1: expected the header line t_s,volts,amps,pf"),
    ("empty", "", "empty: expected the header"),
    ("no_rows", "t_s,volts,amps,pf\n# nothing\n", "no rows"),
    ("first_not_zero", "t_s,volts,amps,pf\n1,230,1,1\n", "line 2: the first row must be at t_s=0"),
    ("not_increasing", "t_s,volts,amps,pf\n0,230,1,1\n5,230,1,1\n5,230,2,1\n", "line 4: t_s must increase"),
    ("three_fields", "t_s,volts,amps,pf\n0,230,1\n", "line 2: expected four numbers"),
    ("text", "t_s,volts,amps,pf\n0,230,1,1\n2,mains,1,1\n", "line 3: expected four numbers"),
    ("volts", "t_s,volts,amps,pf\n0,500,1,1\n", "line 2: volts must be 0..400"),
    ("pf", "t_s,volts,amps,pf\n0,230,1,1.5\n", "line 2: pf must be 0..1"),
    ("range", "t_s,volts,amps,pf\n0,230,1,1\n\n3,230,200,1\n", "line 4: beyond the chip's range"),
]


@pytest.mark.parametrize("text, message", [b[1:] for b in BAD_PROFILES], ids=[b[0] for b in BAD_PROFILES])
def test_bad_load_profile_is_refused(tmp_path, text, message):
    profile = tmp_path / "bad.csv"
    profile.write_text(text)
    result = run_sim(tmp_path / "flash.bin", "--load-profile", profile, duration=1)
    assert result.returncode == 2, result
    assert "--load-profile %s: %s" % (profile, message) in result.stderr, result.stderr


@pytest.mark.parametrize("args", [
    ["--load", "60W", "--load-profile", "x.csv"], ["--mains", "230", "--load-profile", "x.csv"],
    ["--load", "abc"], ["--load", "60W,pf=0"], ["--load", "99999W"], ["--mains", "0"], ["--shunt-mohm", "0"],
    ["--divider", "0.5"], ["--cf1-settle", "slow"], ["--blackout", "30"], ["--blackout", "20000/10"],
    ["--irq-jitter-us", "1.5"], ["--irq-probe", "14,x"], ["--edge-trace", "x", "--load", "60W"],
    ["--load-profile", "/nonexistent.csv"],
])
def test_bad_chip_options_are_refused(tmp_path, args):
    result = run_sim(tmp_path / "flash.bin", *args, duration=1)
    assert result.returncode == 2 and result.stderr.startswith("openplug-sim: "), (args, result)


# ---- Edge traces ----

def test_edge_trace_replay(tmp_path):
    trace = tmp_path / "edges.txt"
    trace.write_text("# replayed pulses\n"
                     "500000 CF\n"
                     "600000 CFI   # current: SEL is 0, reaches CF1\n"
                     "600000 CF\n"
                     "700000 CFV\n"
                     "\n"
                     "800000 CFI\n"
                     "4300000000 CF\n"  # beyond the 32-bit microsecond timer
                     "4300000500 CFV\n")
    counts, offset = run_chip_alone(tmp_path, "--edge-trace", trace, duration=4301)
    assert (counts["cf"], counts["cf1"], counts["dropped"]) == (3, 2, 2), counts
    assert counts["cf_first_us"] + offset == 500000 and counts["cf_last_us"] + offset == 4300000000
    assert (counts["cf1_first_us"] + offset, counts["cf1_last_us"] + offset) == (600000, 800000)
    # SEL high: the voltage pulses reach CF1, the current ones are dropped
    counts, offset = run_chip_alone(tmp_path, "--edge-trace", trace, "--sel-inverted", duration=4301, name="f2.bin")
    assert (counts["cf"], counts["cf1"], counts["dropped"]) == (3, 2, 2), counts
    assert (counts["cf1_first_us"] + offset, counts["cf1_last_us"] + offset) == (700000, 4300000500)


def test_edge_trace_goes_to_the_firmware(tmp_path):
    trace = tmp_path / "edges.txt"
    trace.write_text("".join("%d CF\n" % (100000 + 1000 * i) for i in range(500)))
    counts, _ = run_counts(tmp_path, "--edge-trace", trace, duration=1)
    assert counts["cf"] == counts["irq_cf"] == 500, counts  # the metering driver watches CF
    assert counts["cf_last_us"] - counts["cf_first_us"] == 499000


BAD_TRACES = [
    ("kind", "100 CF\n200 CFX\n", "line 2"), ("no_kind", "# x\n100\n", "line 2"), ("text", "abc CF\n", "line 1"),
    ("negative", "-5 CF\n", "line 1"), ("backwards", "100 CF\n200 CF\n150 CFV\n", "line 3: times must not go back"),
    ("extra", "100 CF CF\n", "line 1"),
]


@pytest.mark.parametrize("text, message", [b[1:] for b in BAD_TRACES], ids=[b[0] for b in BAD_TRACES])
def test_bad_edge_trace_is_refused(tmp_path, text, message):
    trace = tmp_path / "bad.txt"
    trace.write_text(text)
    result = run_sim(tmp_path / "flash.bin", "--edge-trace", trace, duration=1)
    assert result.returncode == 2, result
    assert "--edge-trace %s: %s" % (trace, message) in result.stderr, result.stderr


# ---- CF1 settling after a SEL change (at boot: relay 2 restored on) ----

def test_cf1_settle_modes(tmp_path):
    got = {}
    for mode in ("instant", "exp50ms", "phase-reset", "stray-edges"):
        got[mode], _ = run_chip_alone(tmp_path, "--cf1-settle", mode, sel_on=True, duration=0.4, name=mode + ".bin")
    period_us = 1e6 / F_CFU_230
    assert got["instant"]["cf1"] == pytest.approx(F_CFU_230 * 0.3, abs=1)
    # exp50ms: the rate climbs from the current rate with tau 50 ms: (fV - fI) * tau pulses short
    deficit = (F_CFU_230 - f_cfi(60 / 230)) * 0.05
    assert got["instant"]["cf1"] - got["exp50ms"]["cf1"] == pytest.approx(deficit, abs=2)
    # phase-reset: the first pulse one whole period after the change (at boot, t = 0)
    assert got["phase-reset"]["cf1_first_us"] == pytest.approx(period_us, abs=1)
    assert got["instant"]["cf1_first_us"] < period_us
    # stray-edges: 1-3 extra pulses (one may merge with a regular one)
    assert 0 <= got["stray-edges"]["cf1"] - got["instant"]["cf1"] <= 3
    assert got["stray-edges"]["cf1"] != got["instant"]["cf1"] or got["stray-edges"]["cf1_first_us"] != \
        got["instant"]["cf1_first_us"]
    for counts in got.values():
        assert counts["cf"] == got["instant"]["cf"]  # CF never cares about SEL


@pytest.mark.parametrize("seed, sel_on", [(1, True), (2, False), (3, True)])
def test_lazy_counting_equals_per_edge_events(tmp_path, seed, sel_on):
    """Unwatched pins are counted in bulk; a probe makes every edge an event:
    the same pulses either way, over load changes and settle transitions."""
    profile = tmp_path / "profile.csv"
    profile.write_text("t_s,volts,amps,pf\n0,230,0.26,1\n0.25,230,16,1\n0.3,253,0.004,1\n0.9,230,5,0.7\n"
                       "1.7,230,0,1\n2.5,230,10,1\n")
    base = ["--seed", seed, "--load-profile", profile, "--cf1-settle", "exp50ms"]
    lazy, _ = run_chip_alone(tmp_path, *base, sel_on=sel_on, duration=3, name="a.bin")
    watched, _ = run_chip_alone(tmp_path, *base, "--irq-probe", "14,3", sel_on=sel_on, duration=3, name="b.bin")
    keys = ("cf", "cf1", "cf_first_us", "cf_last_us", "cf1_first_us", "cf1_last_us")
    assert {k: lazy[k] for k in keys} == {k: watched[k] for k in keys}
    assert (lazy["irq_cf"], watched["irq_cf"], watched["irq_cf1"]) == (0, watched["cf"], watched["cf1"])


# ---- Interrupts: blackouts, flash erases, jitter ----

def test_blackouts_collapse_edges_into_one_interrupt(tmp_path):
    counts, _ = run_counts(tmp_path, "--load", "3680W", "--blackout", "30/1", duration=10.5)
    # every edge is delivered or collapsed into a latched interrupt; 10 blackouts of 30 ms
    assert counts["irq_cf"] + counts["collapsed_cf"] == counts["cf"], counts
    assert counts["collapsed_cf"] == pytest.approx(10 * (0.030 * f_cf(3680) - 1), abs=10), counts
    assert 29000 <= counts["lat_max_us"] <= 30000, counts
    assert counts["cf"] == pytest.approx(f_cf(3680) * 10.5, abs=1)  # the chip loses nothing


def test_flash_erase_holds_interrupts_off(tmp_path):
    counts, _ = run_counts(tmp_path, "--load", "3680W", "--flash-timing", "real", duration=1,
                           lines=["DeviceName held"])  # the first settings save erases a sector
    assert counts["collapsed_cf"] == pytest.approx(0.045 * f_cf(3680), rel=0.15), counts
    assert counts["lat_max_us"] >= 40000, counts


def test_irq_jitter_bounds(tmp_path):
    counts, _ = run_counts(tmp_path, "--load", "3680W", "--irq-jitter-us", "100", duration=3)
    delivered = counts["irq_cf"] + counts["irq_cf1"]
    assert delivered > 10000 and counts["collapsed_cf"] == 0, counts
    assert 0 <= counts["lat_min_us"] <= 2 and 98 <= counts["lat_max_us"] <= 100, counts
    assert counts["lat_mean_us"] == pytest.approx(50, abs=3), counts
    plain, _ = run_counts(tmp_path, "--load", "3680W", duration=1, name="f2.bin")
    assert plain["lat_max_us"] == 0, plain


# ---- Anti-creep ----

def test_anti_creep(tmp_path):
    creep, _ = run_counts(tmp_path, "--load", "0.5W", "--anti-creep", duration=60)
    assert creep["cf"] == 0, creep
    free, _ = run_counts(tmp_path, "--load", "0.5W", duration=60, name="f2.bin")
    assert abs(free["cf"] - f_cf(0.5) * 60) <= 1, free
    one_watt, _ = run_counts(tmp_path, "--load", "1W", "--anti-creep", duration=60, name="f3.bin")
    assert abs(one_watt["cf"] - f_cf(1) * 60) <= 1, one_watt


# ---- Speed ----

def test_a_minute_at_3680_w_is_fast(tmp_path):
    started = time.monotonic()
    counts, _ = run_counts(tmp_path, "--load", "3680W", duration=60)
    elapsed = time.monotonic() - started
    assert counts["irq_cf"] == counts["cf"] == pytest.approx(f_cf(3680) * 60, abs=1)
    # Virtual time never waits: a minute of device time takes far less than a
    # minute (~0.03 s here; a simulator that slept in real time would take
    # the whole 60 s).  Half the minute leaves room for any host load.
    assert elapsed < 30, elapsed
    print("\n60 s at 3680 W (%d CF + %d CF1 interrupts) took %.3f s" % (counts["cf"], counts["cf1"], elapsed))
