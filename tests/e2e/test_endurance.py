"""Flash wear: how many sector erases relay toggles and settings saves cost.

The relay record ring has 128 slots of 32 bytes per 4 KiB sector: each
toggle programs one slot (payload, then header: 2 programs) and a sector is
erased once per 128 records.  The settings ring has 2 slots per sector.
Counted from the simulator's exit summary over 1000 toggles (and 100 saves)
in virtual time; the figure "toggles per sector erase" is printed.
"""
import math

from simlib import BOOT_SLOT, CONFIG_SLOT, SECTOR, run_sim


def test_relay_toggles_per_sector_erase(tmp_path):
    toggles = 1000
    result = run_sim(tmp_path / "flash.bin", duration=5, stdin_lines=["Power 2"] * toggles, tmp=tmp_path)
    assert result.returncode == 0, result
    assert len(result.logs(r"PWR: channel 1 (ON|OFF) \(console\)")) == toggles
    assert result.replies[-1] == {"POWER": "OFF"}  # an even number of toggles from off

    records = toggles + 1  # the first boot writes the first record
    per_sector = SECTOR // BOOT_SLOT
    assert per_sector == 128
    boot_health_ops = 3  # the boot health record: sector erase + 2 programs (not a relay record)
    erases = result.flash_ops - boot_health_ops - 2 * records
    assert erases == math.ceil(records / per_sector), \
        "%d flash operations for %d records: %d erases" % (result.flash_ops, records, erases)
    if result.flash_erases is not None:
        assert result.flash_erases == erases + 1
    # every erase but the last opened a sector that then took `per_sector` records
    print("\nrelay record: %d toggles (+1 boot record), %d flash operations, %d sector erases -> "
          "%.1f toggles per sector erase on average (one erase per %d records; the last sector is %d/%d full)"
          % (toggles, result.flash_ops, erases, records / erases, per_sector, records - (erases - 1) * per_sector,
             per_sector))
    assert records / erases >= 0.9 * per_sector


def test_settings_saves_per_sector_erase(tmp_path):
    saves = 100
    result = run_sim(tmp_path / "flash.bin", duration=5,
                     stdin_lines=["DeviceName plug%d" % i for i in range(saves)], tmp=tmp_path)
    assert result.returncode == 0, result
    assert result.replies[-1] == {"DeviceName": "plug%d" % (saves - 1)}
    boot_ops = 3 + 3  # first boot: relay record and boot health record, each a sector erase + 2 programs
    per_sector = SECTOR // CONFIG_SLOT
    erases = result.flash_ops - boot_ops - 2 * saves
    assert erases == math.ceil(saves / per_sector), result.flash_ops
    print("\nsettings: %d saves, %d sector erases -> %.1f saves per sector erase" % (saves, erases, saves / erases))
    check = run_sim(tmp_path / "flash.bin", duration=1, exec_="Status 1; DeviceName")
    assert check.replies == [check.replies[0], {"DeviceName": "plug%d" % (saves - 1)}]
    assert check.replies[0]["StatusPRM"]["SaveCount"] == saves
