"""Settings storage in the PSM partition of the flash image.

Covers: the on-flash record format (checked from Python); settings survive
a restart and a power cut, SaveCount counts saves; a version-1 record
written by hand is migrated (DeviceName, PowerOnState and pins kept) and a
later save writes version 2; a settings area full of random bytes boots
with defaults and says "corrupt", after which saves work and survive
restarts, also once the ring has wrapped; records of an unknown version or
with out-of-range fields are not used; a corrupt relay record falls back
to PowerOnState.
"""
import random

import pytest

import simlib
from simlib import (BOOT_MAGIC, BOOT_OFFSET, BOOT_SECTORS, BOOT_SLOT, CONFIG_MAGIC, CONFIG_OFFSET, CONFIG_SECTORS,
                    CONFIG_SLOT, DEFAULT_TEMPLATE, RELAY_GPIO, SECTOR, run_sim)


def fresh_image(path):
    """A flash image after one first boot: partition table, relay record, settings area blank."""
    result = run_sim(path, duration=1)
    assert result.returncode == 0, result
    assert result.logs(r"CFG: settings area blank \(first boot\)"), result
    assert simlib.read_flash(path, CONFIG_OFFSET, CONFIG_SECTORS * SECTOR) == b"\xff" * (CONFIG_SECTORS * SECTOR)
    return path


def config_records(path):
    return simlib.valid_records(path, CONFIG_OFFSET, CONFIG_SECTORS, CONFIG_SLOT, CONFIG_MAGIC)


def test_record_format_on_flash(tmp_path):
    image = fresh_image(tmp_path / "flash.bin")
    boot = simlib.valid_records(image, BOOT_OFFSET, BOOT_SECTORS, BOOT_SLOT, BOOT_MAGIC)
    assert len(boot) == 1 and boot[0][1] == 1, boot
    result = run_sim(image, duration=1, exec_="DeviceName Alpha; PowerOnState 1")
    assert result.returncode == 0, result
    records = config_records(image)
    assert [(slot, seq, version, len(payload)) for slot, seq, version, payload in records] == \
        [(0, 1, 9, 2028), (1, 2, 9, 2028)]
    first, second = records[0][3], records[1][3]
    assert first[:6] == b"Alpha\0" and first[33] == 3
    assert second[:6] == b"Alpha\0" and second[33] == 1
    pins = {gpio: (second[34 + 2 * gpio], second[35 + 2 * gpio]) for gpio in range(32)
            if second[34 + 2 * gpio]}
    assert pins == {2: (1, 1), 3: (10, 0), 14: (9, 0), 17: (7, 1), 20: (4, 1), 21: (11, 0)}
    assert second[98:98 + 33] == bytes(33)  # version 2's 32-character name field, empty since version 7
    assert second[1572:1572 + 12] == b"SM-028_V1.3\0"  # version 7's name field (128 characters)


@pytest.mark.parametrize("how", ["restart", "powercut"])
def test_settings_survive_reboot(make_plug, how):
    plug = make_plug()
    assert plug.cmd("DeviceName Porch") == {"DeviceName": "Porch"}
    assert plug.cmd("PowerOnState 0") == {"PowerOnState": 0}
    assert plug.cmd("Pin 4 LED;1") == {"Pin4": "LED;1"}
    template = plug.cmd("Template")
    assert plug.cmd("Status 1")["StatusPRM"]["SaveCount"] == 3
    plug.reboot(how)
    plug.wait_log(r"CFG: settings loaded \(save 3\)", since=plug.boot_mark)
    assert plug.cmd("DeviceName") == {"DeviceName": "Porch"}
    assert plug.cmd("PowerOnState") == {"PowerOnState": 0}
    assert plug.cmd("Template") == template
    assert plug.cmd("Status 1")["StatusPRM"]["SaveCount"] == 3


def test_version_1_settings_are_migrated(tmp_path, make_plug):
    image = fresh_image(tmp_path / "flash.bin")
    v1 = simlib.config_v1_payload("Old kitchen", 1, {5: ("Rel", 1), 12: ("Btn", 1), 20: ("LED_n", 1),
                                                      3: ("BL0937CF1", 0)})
    simlib.patch_flash(image, CONFIG_OFFSET, simlib.record(1, 1, CONFIG_MAGIC, v1))
    v1_template = {"name": "", "pins": {"3": "BL0937CF1;0", "5": "Rel;1", "12": "Btn;1", "20": "LED_n;1"},
                   "command": ""}

    plug = make_plug(image)
    plug.wait_log(r"CFG: settings migrated from version 1 to 9")
    assert plug.log_lines(r"CFG: settings area|using defaults") == []
    assert plug.cmd("DeviceName") == {"DeviceName": "Old kitchen"}
    assert plug.cmd("PowerOnState") == {"PowerOnState": 1}
    assert plug.cmd("Template") == v1_template
    assert plug.cmd("Status 1")["StatusPRM"]["SaveCount"] == 1
    pins = plug.pins()
    assert pins[5]["mode"] == "output" and pins[5]["level"] == 1  # PowerOnState 1 (on)
    assert pins[RELAY_GPIO]["mode"] == "disabled"
    assert pins[12]["mode"] == "input_pullup"
    # the migrated button works (the v2 button timings got their defaults)
    mark = plug.mark()
    plug.press(12)
    plug.wait_log(r"PWR: channel 1 OFF \(button\)", since=mark)

    # nothing saved yet: the next boot migrates the same record again
    plug.restart()
    plug.wait_log(r"CFG: settings migrated from version 1 to 9", since=plug.boot_mark)
    assert plug.cmd("DeviceName") == {"DeviceName": "Old kitchen"}

    # a save writes the version-2 layout, which then loads as such
    assert plug.cmd("DeviceName New kitchen") == {"DeviceName": "New kitchen"}
    plug.restart()
    plug.wait_log(r"CFG: settings loaded \(save 2\)", since=plug.boot_mark)
    assert plug.log_lines(r"migrated", since=plug.boot_mark) == []
    assert plug.cmd("PowerOnState") == {"PowerOnState": 1}
    assert plug.cmd("Template") == v1_template
    plug.stop()
    newest = max(config_records(image), key=lambda r: r[1])
    assert newest[1:3] == (2, 9) and len(newest[3]) == 2028


def fill_random(path, offset, length, seed):
    simlib.patch_flash(path, offset, random.Random(seed).randbytes(length))


@pytest.mark.parametrize("seed", [1, 2])
def test_corrupt_settings_area_recovers(tmp_path, make_plug, seed):
    image = fresh_image(tmp_path / "flash.bin")
    assert run_sim(image, duration=1, exec_="DeviceName Before; PowerOnState 1").returncode == 0
    fill_random(image, CONFIG_OFFSET, CONFIG_SECTORS * SECTOR, seed)

    plug = make_plug(image)
    m = plug.wait_log(r"CFG: settings area corrupt \((\d+) damaged records\): using defaults")
    assert int(m.group(1)) == CONFIG_SECTORS * SECTOR // CONFIG_SLOT
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}
    assert plug.cmd("PowerOnState") == {"PowerOnState": 3}
    assert plug.cmd("Template") == DEFAULT_TEMPLATE

    # a save works and survives a restart
    assert plug.cmd("DeviceName Fixed") == {"DeviceName": "Fixed"}
    plug.restart()
    plug.wait_log(r"CFG: settings loaded \(save 1\)", since=plug.boot_mark)
    assert plug.cmd("DeviceName") == {"DeviceName": "Fixed"}

    # and so do enough saves to go round the whole ring (4 sectors x 2 slots)
    names = ["Ring%d" % i for i in range(9)]
    replies = plug.replies("Backlog " + "; ".join("DeviceName " + n for n in names), len(names))
    assert replies == [{"DeviceName": n} for n in names]
    plug.restart()
    plug.wait_log(r"CFG: settings loaded \(save 10\)", since=plug.boot_mark)
    assert plug.log_lines(r"corrupt", since=plug.boot_mark) == []
    assert plug.cmd("DeviceName") == {"DeviceName": "Ring8"}
    assert plug.cmd("Status 1")["StatusPRM"]["SaveCount"] == 10


def test_unknown_version_is_not_used(tmp_path, make_plug):
    image = fresh_image(tmp_path / "flash.bin")
    payload = bytearray(160)
    payload[:5] = b"Later"
    simlib.patch_flash(image, CONFIG_OFFSET, simlib.record(1, 9, CONFIG_MAGIC, bytes(payload)))
    plug = make_plug(image)
    plug.wait_log(r"CFG: stored settings have unknown version 9 \(160 bytes\): using defaults")
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}


@pytest.mark.parametrize("field, payload", [
    ("power_on_state", simlib.config_v1_payload("Bad", 9, {2: ("Rel", 1)})),
    ("name", b"N" * 33 + bytes([3]) + bytes(64)),
    ("pins", simlib.config_v1_payload("Bad", 3, {})[:34] + bytes([200, 1]) + bytes(62)),
])
def test_out_of_range_fields_are_not_used(tmp_path, make_plug, field, payload):
    image = fresh_image(tmp_path / "flash.bin")
    simlib.patch_flash(image, CONFIG_OFFSET, simlib.record(1, 1, CONFIG_MAGIC, payload))
    plug = make_plug(image)
    plug.wait_log(r"CFG: stored settings are invalid \(%s\): using defaults" % field)
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}
    assert plug.cmd("PowerOnState") == {"PowerOnState": 3}
    assert plug.cmd("Template") == DEFAULT_TEMPLATE


def test_corrupt_relay_record_falls_back_to_power_on_state(tmp_path, make_plug):
    image = fresh_image(tmp_path / "flash.bin")
    assert run_sim(image, duration=1, exec_="PowerOnState 1; Power off").returncode == 0
    fill_random(image, BOOT_OFFSET, BOOT_SECTORS * SECTOR, 7)
    plug = make_plug(image)
    plug.wait_log(r"PWR: no relay record: relays set by PowerOnState 1")
    assert plug.pins()[RELAY_GPIO] == {"mode": "output", "level": 1, "changes": 0}
    assert plug.cmd("Power") == {"POWER": "ON"}
    # and the record is written again
    plug.restart()
    plug.wait_log(r"PWR: relays restored by PowerOnState 1", since=plug.boot_mark)
    assert plug.pins()[RELAY_GPIO] == {"mode": "output", "level": 1, "changes": 0}

