"""Console commands: parsing, replies and bad arguments (Tasmota style).

Covers: case-insensitive names and words; every Power word; a bad Power
argument (or a missing relay channel) changes nothing; unknown commands;
Backlog with several replies; Status and its sections (and errors for the
others); Help lists every command with a description; DeviceName limits
and persistence; OpenBeken setChannel/toggleChannel/startDriver; Restart
and Reset refuse anything but 1; over-long and blank lines.
"""
import re
import subprocess
import time

import pytest

from simlib import RELAY_GPIO, sim_path

ALL_COMMANDS = {"Power", "PowerOnState", "SetStartValue", "setChannel", "toggleChannel", "startDriver", "Backlog",
                "Help", "Status", "Restart", "Reset", "DeviceName", "Template", "Pin"}


def is_error(reply):
    return reply.get("Command") == "Error" and isinstance(reply.get("Error"), str) and reply["Error"] != ""


def relay(plug):
    return plug.pins()[RELAY_GPIO]


def test_names_and_words_are_case_insensitive(plug):
    assert plug.cmd("POWER ON") == {"POWER": "ON"}
    assert plug.cmd("power OFF") == {"POWER": "OFF"}
    assert plug.cmd("pOwEr1 ToGgLe") == {"POWER": "ON"}
    assert plug.cmd("power True") == {"POWER": "ON"}
    assert plug.cmd("POWERONSTATE") == {"PowerOnState": 3}
    assert plug.cmd("SETCHANNEL 1 0") == {"POWER": "OFF"}
    assert plug.cmd("togglechannel 1") == {"POWER": "ON"}
    assert "StatusSTS" in plug.cmd("status 11")
    assert plug.cmd("devicename") == {"DeviceName": "OpenPlug"}
    assert plug.cmd("TEMPLATE")["name"] == "SM-028_V1.3"
    assert "Power" in plug.help_commands("help")
    assert plug.replies("BACKLOG power off; POWER", 2) == [{"POWER": "OFF"}, {"POWER": "OFF"}]
    assert relay(plug)["level"] == 0


@pytest.mark.parametrize("word, on", [
    ("1", True), ("on", True), ("true", True), ("ON", True), ("True", True),
    ("0", False), ("off", False), ("false", False), ("OFF", False), ("FALSE", False),
])
def test_power_words(plug, word, on):
    start = not on
    assert plug.cmd("Power %s" % ("on" if start else "off"))["POWER"] == ("ON" if start else "OFF")
    assert plug.cmd("Power %s" % word) == {"POWER": "ON" if on else "OFF"}
    assert relay(plug)["level"] == int(on)
    # the same word again changes nothing
    changes = relay(plug)["changes"]
    assert plug.cmd("Power %s" % word) == {"POWER": "ON" if on else "OFF"}
    assert relay(plug)["changes"] == changes


@pytest.mark.parametrize("word", ["2", "toggle", "TOGGLE"])
def test_power_toggle_words(plug, word):
    assert plug.cmd("Power %s" % word) == {"POWER": "ON"}
    assert plug.cmd("Power1 %s" % word) == {"POWER": "OFF"}
    assert relay(plug)["changes"] == 2


def test_power_query_and_whitespace(plug):
    assert plug.cmd("Power") == {"POWER": "OFF"}
    assert plug.cmd("Power1") == {"POWER": "OFF"}
    assert plug.cmd("   Power    on   ") == {"POWER": "ON"}
    assert plug.cmd("Power\ton") == {"POWER": "ON"}
    plug.send("Power off\r")  # CR LF from a terminal
    assert plug.cmd("Power") == {"POWER": "OFF"}


@pytest.mark.parametrize("arg", ["3", "-1", "onn", "01", "yes", "1 2", "on off", "2x", "0x1", "\u00e9"])
def test_power_bad_argument_changes_nothing(plug, arg):
    assert plug.cmd("Power on") == {"POWER": "ON"}
    before = relay(plug)
    mark = plug.mark()
    reply = plug.cmd("Power %s" % arg)
    assert is_error(reply), reply
    assert "expected" in reply["Error"], reply
    assert relay(plug) == before
    assert plug.log_lines(r"PWR:", since=mark) == []
    assert plug.cmd("Power") == {"POWER": "ON"}


@pytest.mark.parametrize("command", ["Power2 on", "Power2", "Power4 toggle", "Power5 1", "Power2 off"])
def test_no_relay_on_other_channels(plug, command):
    before = relay(plug)
    mark = plug.mark()
    reply = plug.cmd(command)
    assert is_error(reply), reply
    assert relay(plug) == before
    assert plug.log_lines(r"PWR:", since=mark) == []
    assert plug.cmd("Status")["Status"]["Power"] == 0


@pytest.mark.parametrize("command", ["Foo", "Powerr on", "Pow", "Statuses", "Power123", "Help2", "_", "1"])
def test_unknown_command(plug, command):
    mark = plug.mark()
    assert plug.cmd(command) == {"Command": "Unknown"}
    plug.wait_log(r"CMD: unknown command", since=mark)
    assert relay(plug)["changes"] == 0


def test_backlog_replies_once_per_command(plug):
    replies = plug.replies("Backlog Power on; Status 11; DeviceName Bob; Foo; Power", 5)
    assert replies[0] == {"POWER": "ON"}
    assert replies[1]["StatusSTS"]["POWER"] == "ON"
    assert replies[2] == {"DeviceName": "Bob"}
    assert replies[3] == {"Command": "Unknown"}
    assert replies[4] == {"POWER": "ON"}
    # no stray extra reply: the next command gets its own
    assert plug.cmd("DeviceName") == {"DeviceName": "Bob"}


def test_backlog_errors(plug):
    reply = plug.cmd("Backlog")
    assert is_error(reply) and "Backlog" in reply["Error"], reply
    reply = plug.cmd("Backlog Backlog Power on")
    assert is_error(reply) and "inside" in reply["Error"], reply
    assert plug.cmd("Power") == {"POWER": "OFF"}
    # empty commands between semicolons are skipped
    assert plug.replies("Backlog Power on;; ;Power off", 2) == [{"POWER": "ON"}, {"POWER": "OFF"}]
    assert plug.cmd("Power") == {"POWER": "OFF"}


def test_status_sections(plug):
    version = subprocess.run([sim_path(), "--version"], stdout=subprocess.PIPE, timeout=10, check=True)
    version = version.stdout.decode().split()[-1]

    status = plug.cmd("Status")
    assert list(status) == ["Status"]
    assert status["Status"]["DeviceName"] == "OpenPlug"
    assert status["Status"]["FriendlyName"] == ["OpenPlug"]
    assert status["Status"]["Power"] == 0 and status["Status"]["PowerOnState"] == 3

    everything = plug.cmd("Status 0")
    assert list(everything) == ["Status", "StatusPRM", "StatusFWR", "StatusTIM", "StatusSNS", "StatusSTS"]

    prm = plug.cmd("Status 1")["StatusPRM"]
    assert prm["RestartReason"] == "Power on"
    assert prm["SaveCount"] == 0
    assert plug.cmd("DeviceName One") == {"DeviceName": "One"}
    assert plug.cmd("PowerOnState 1") == {"PowerOnState": 1}
    assert plug.cmd("Status 1")["StatusPRM"]["SaveCount"] == 2

    fwr = plug.cmd("Status 2")["StatusFWR"]
    assert fwr["Version"] == version
    assert fwr["Hardware"] == "BL602"

    sts = plug.cmd("Status 11")["StatusSTS"]
    for key in ("Time", "Uptime", "UptimeSec", "Heap", "POWER", "Wifi"):
        assert key in sts, sts
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", sts["Time"]), sts
    assert re.fullmatch(r"0T00:00:0\d", sts["Uptime"]), sts
    assert isinstance(sts["UptimeSec"], int) and 0 <= sts["UptimeSec"] < 10
    assert isinstance(sts["Heap"], int) and 0 < sts["Heap"] <= 128
    assert sts["POWER"] == "OFF"
    assert set(sts["Wifi"]) == {"RSSI", "Signal", "LinkCount", "Downtime", "State"}

    # a blank plug opens its set-up access point (Wi-Fi joins: test_wifi.py)
    plug.wait_log(r"WIF: Wi-Fi access point OpenPlug-[0-9A-F]{6}", timeout=4)
    wifi = plug.cmd("Status 11")["StatusSTS"]["Wifi"]
    assert wifi == {"RSSI": 0, "Signal": 0, "LinkCount": 0, "Downtime": "0T00:00:00", "State": "access point"}


@pytest.mark.parametrize("arg", ["5", "3", "99", "100", "-1", "x", "1 1", "0x1"])
def test_status_other_numbers_are_errors(plug, arg):
    reply = plug.cmd("Status %s" % arg)
    assert is_error(reply), reply
    assert "Status" in reply["Error"]


def test_help_lists_every_command_with_a_description(plug):
    commands = plug.help_commands()
    missing = ALL_COMMANDS - set(commands)
    assert not missing, "Help does not list %s" % sorted(missing)
    for name, description in commands.items():
        assert isinstance(description, str) and len(description) >= 10, (name, description)
    # and the interpreter knows each of them by that name
    for name in sorted(ALL_COMMANDS):
        if name in ("Restart", "Reset"):
            name += " 0"  # refused: must not restart the plug
        assert plug.cmd(name) != {"Command": "Unknown"}, name
    assert plug.log_lines(r"SYS:") == []


def test_device_name(plug):
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}
    assert plug.cmd("DeviceName Kitchen plug") == {"DeviceName": "Kitchen plug"}
    name32 = "N" * 32
    assert plug.cmd("DeviceName " + name32) == {"DeviceName": name32}
    reply = plug.cmd("DeviceName " + "M" * 33)
    assert is_error(reply) and "32" in reply["Error"], reply
    assert plug.cmd("DeviceName") == {"DeviceName": name32}
    assert plug.cmd('DeviceName Caf\u00e9 "quoted" \\') == {"DeviceName": 'Caf\u00e9 "quoted" \\'}
    plug.restart()
    assert plug.cmd("DeviceName") == {"DeviceName": 'Caf\u00e9 "quoted" \\'}
    assert plug.cmd("Status")["Status"]["FriendlyName"] == ['Caf\u00e9 "quoted" \\']


def test_openbeken_channel_commands(plug):
    assert plug.cmd("setChannel 1 1") == {"POWER": "ON"}
    assert relay(plug)["level"] == 1
    assert plug.cmd("toggleChannel 1") == {"POWER": "OFF"}
    assert plug.cmd("setChannel 1 2") == {"POWER": "ON"}
    assert relay(plug)["level"] == 1
    for bad in ["setChannel 1", "setChannel", "setChannel 0 1", "setChannel x 1", "setChannel 1 5",
                "toggleChannel", "toggleChannel 1 1", "toggleChannel 9"]:
        reply = plug.cmd(bad)
        assert is_error(reply), (bad, reply)
    assert relay(plug) == {"mode": "output", "level": 1, "changes": 3}


def test_start_driver_knows_its_drivers(plug):
    """BL0937 runs already (the template has its pins): starting it again is
    fine; a driver this build lacks is named as such, with the list."""
    assert plug.cmd("startDriver BL0937") == {"startDriver": "BL0937"}
    assert plug.cmd("startdriver bl0937") == {"startDriver": "bl0937"}
    assert plug.cmd("startDriver NTP") == {"startDriver": "NTP"}  # on by default: running already
    reply = plug.cmd("startDriver Toaster")
    assert is_error(reply), reply
    assert "no driver 'Toaster' in this build (available: " in reply["Error"], reply
    assert "BL0937" in reply["Error"] and "NTP" in reply["Error"] and "SSDP" in reply["Error"], reply
    assert is_error(plug.cmd("startDriver"))


@pytest.mark.parametrize("command", ["Restart", "Restart 0", "Restart 2", "Restart 1 1", "Reset", "Reset 2",
                                     "Reset yes"])
def test_restart_and_reset_need_1(plug, command):
    assert plug.cmd("DeviceName Kept") == {"DeviceName": "Kept"}
    mark = plug.mark()
    reply = plug.cmd(command)
    assert is_error(reply) and " 1" in reply["Error"], reply
    time.sleep(0.25)  # a planned restart would happen 100 ms later
    assert plug.log_lines(r"SYS:|BOOT:", since=mark) == []
    assert plug.cmd("DeviceName") == {"DeviceName": "Kept"}
    assert not any("reboot" in line for line in plug.stderr_lines)


def test_over_long_line_is_ignored(plug):
    mark = plug.mark()
    plug.send("Power on " + "x" * 3600)
    plug.wait_log(r"CMD: line longer than 3584 characters: ignored", since=mark)
    assert plug.cmd("Power") == {"POWER": "OFF"}
    # a 3584-character line is still accepted (a Template's)
    line = "DeviceName " + "a" * 20 + " " * (3584 - 31)
    assert len(line) == 3584
    assert plug.cmd(line) == {"DeviceName": "a" * 20}
