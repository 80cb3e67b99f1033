"""Relay state across restarts and power cuts.

Covers PowerOnState 0..4 (off, on, toggle, restore, on+locked) after a
`Restart 1` and after a power cut, with the relay on or off before; that the
relay pin never glitches at boot (its output-change counter stays 0); that
PowerOnState 2 toggles at every power-up; that PowerOnState 4 refuses every
way of switching off; OpenBeken's SetStartValue mapping; and that a toggle
is kept when the power is cut 50 ms after it.

What "expected" means (see expected_relay()): as in Tasmota, PowerOnState
decides at power-up; a restart (Restart 1, the watchdog) keeps the relay as
it was -- the plug's own Help says "Restart 1: restart the plug (the relay
keeps its state)" -- except PowerOnState 4, which is always on.
"""
import time

import pytest

from simlib import BUTTON_GPIO, LED_GPIO, RELAY_GPIO


# README: "PowerOnState | Relay after power-up", "Restart 1: restart the plug
# (the relay keeps its state)".  The one switch if that rule ever changes.
RESTART_KEEPS_RELAY = True


def expected_relay(pos, before, how):
    """The relay after a reboot `how` ("restart", "watchdog" or "powercut")."""
    if pos == 4:
        return True
    if how != "powercut" and RESTART_KEEPS_RELAY:
        return before  # a restart is not a power-up: the load keeps its state
    return {0: False, 1: True, 2: not before, 3: before}[pos]


def assert_relay(plug, on, glitch_free=True):
    """The relay and its LED (inverted) show `on`, and the firmware agrees."""
    pins = plug.pins()
    relay, led = pins[RELAY_GPIO], pins[LED_GPIO]
    assert relay["mode"] == "output" and led["mode"] == "output", pins
    assert relay["level"] == int(on), "relay GPIO%d: %r" % (RELAY_GPIO, relay)
    assert led["level"] == int(not on), "LED_n GPIO%d: %r" % (LED_GPIO, led)
    if glitch_free:
        assert relay["changes"] == 0, "relay glitched at boot: %r" % relay
        assert led["changes"] == 0, "LED glitched at boot: %r" % led
    assert plug.power() == on


@pytest.mark.parametrize("how", ["restart", "powercut"])
@pytest.mark.parametrize("before", [False, True], ids=["was_off", "was_on"])
@pytest.mark.parametrize("pos", [0, 1, 2, 3, 4])
def test_power_on_state_after_reboot(make_plug, pos, before, how):
    plug = make_plug()
    assert plug.cmd("Power %s" % ("on" if before else "off")) == {"POWER": "ON" if before else "OFF"}
    assert plug.cmd("PowerOnState %d" % pos) == {"PowerOnState": pos}
    if pos == 4:
        before = True  # PowerOnState 4 switches the relay on at once
        assert_relay(plug, True, glitch_free=False)
    plug.reboot(how)
    plug.wait_log(r"PWR: relays restored by PowerOnState %d, \d+ us after reset" % pos, since=plug.boot_mark)
    assert_relay(plug, expected_relay(pos, before, how))
    assert plug.cmd("PowerOnState") == {"PowerOnState": pos}


def test_watchdog_reset_keeps_the_relay_whatever_power_on_state(plug):
    """A watchdog reset is not a power-up: PowerOnState 0 must not switch the load off."""
    assert plug.cmd("PowerOnState 0") == {"PowerOnState": 0}
    assert plug.cmd("Power on") == {"POWER": "ON"}
    mark = plug.mark()
    assert plug.world("hang 15").startswith("ok ")
    plug.wait_log(r"BOOT: .*reset reason: Watchdog \(loop\)", since=mark, timeout=11)
    plug.wait_log(plug.BOOTED_RE, since=mark)
    assert_relay(plug, expected_relay(0, True, "watchdog"))


@pytest.mark.parametrize("how", ["restart", "powercut"])
def test_toggle_state_at_every_boot(make_plug, how):
    plug = make_plug()
    assert plug.cmd("PowerOnState 2") == {"PowerOnState": 2}
    assert plug.cmd("Power on") == {"POWER": "ON"}
    expected = True
    for _ in range(4):
        plug.reboot(how)
        expected = expected_relay(2, expected, how)
        assert_relay(plug, expected)


def test_locked_on_refuses_every_way_to_switch_off(plug):
    assert plug.cmd("Power off") == {"POWER": "OFF"}
    assert plug.cmd("PowerOnState 4") == {"PowerOnState": 4}
    assert_relay(plug, True, glitch_free=False)
    for command in ["Power off", "Power 0", "Power false", "Power toggle", "Power1 2", "setChannel 1 0",
                    "toggleChannel 1"]:
        mark = plug.mark()
        reply = plug.cmd(command)
        assert reply.get("POWER") == "ON", (command, reply)
        plug.wait_log(r"PWR: channel 1 is locked on \(PowerOnState 4\)", since=mark)
    mark = plug.mark()
    plug.press(BUTTON_GPIO)
    plug.wait_log(r"BTN: button 1 click", since=mark)
    plug.wait_log(r"PWR: channel 1 is locked on", since=mark)
    assert plug.log_lines(r"PWR: channel 1 OFF") == []
    assert_relay(plug, True, glitch_free=False)
    # Unlocked again, it switches off.
    assert plug.cmd("PowerOnState 3") == {"PowerOnState": 3}
    assert plug.cmd("Power off") == {"POWER": "OFF"}
    assert_relay(plug, False, glitch_free=False)


def test_locked_on_switches_only_the_relays_the_board_has(plug):
    """A single-relay plug has one channel: PowerOnState 4 must not invent others."""
    mark = plug.mark()
    assert plug.cmd("PowerOnState 4") == {"PowerOnState": 4}
    assert plug.log_lines(r"PWR: channel [2-9] ", since=mark) == []
    assert plug.cmd("Status")["Status"]["Power"] == 1
    plug.restart()
    assert plug.cmd("Status")["Status"]["Power"] == 1


@pytest.mark.parametrize("arg", ["5", "-1", "on", "3 3", "1.5"])
def test_power_on_state_bad_argument_changes_nothing(plug, arg):
    assert plug.cmd("PowerOnState 1") == {"PowerOnState": 1}
    reply = plug.cmd("PowerOnState %s" % arg)
    assert reply["Command"] == "Error" and "PowerOnState" in reply["Error"], reply
    assert plug.cmd("PowerOnState") == {"PowerOnState": 1}


def test_set_start_value_maps_to_power_on_state(plug):
    for value, pos in [("0", 0), ("1", 1), ("-1", 3), ("1", 1)]:
        assert plug.cmd("SetStartValue 1 %s" % value) == {"PowerOnState": pos}
        assert plug.cmd("PowerOnState") == {"PowerOnState": pos}
    for bad in ["SetStartValue 1 2", "SetStartValue 1 -2", "SetStartValue 0 1", "SetStartValue 5 1",
                "SetStartValue 1", "SetStartValue", "SetStartValue 1 1 1", "SetStartValue x 1"]:
        reply = plug.cmd(bad)
        assert reply["Command"] == "Error", (bad, reply)
        assert plug.cmd("PowerOnState") == {"PowerOnState": 1}, bad
    # and it acts as PowerOnState at the next power-up
    assert plug.cmd("SetStartValue 1 0") == {"PowerOnState": 0}
    assert plug.cmd("Power on") == {"POWER": "ON"}
    plug.reboot("powercut")
    assert_relay(plug, False)


@pytest.mark.parametrize("timing", ["none", "real"])
def test_toggle_survives_a_power_cut_50ms_later(make_plug, timing):
    plug = make_plug(flash_timing=timing)
    state = plug.power()
    for _ in range(4):  # off->on, on->off, twice
        plug.send("Power toggle")
        time.sleep(0.05)
        assert plug.powercut() == 3
        state = not state
        plug.start()
        assert_relay(plug, state)
    for command, state in [("Power on", True), ("Power off", False)]:
        plug.send(command)
        time.sleep(0.05)
        assert plug.powercut() == 3
        plug.start()
        assert_relay(plug, state)
