"""tools/mkflash checked against the formats as documented, not against its
own code: the boot header's fields at their offsets (BL602-PORT.md, the
SDK's bootheader keys), its CRCs by zlib, the image hash by hashlib, the
partition table as boot2's PtTable_Entry_Config lays it out (name at byte
3), the whole-flash image's regions, and the OTA file mkota makes of the
firmware slot image.  docs/flashing.md's layout table is held to
`mkflash layout`.

MKFLASH and MKOTA name the tools (ctest sets them)."""
import hashlib
import os
import pathlib
import re
import struct
import subprocess
import zlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "host"
MKFLASH = os.environ.get("MKFLASH", str(BUILD / "mkflash"))
MKOTA = os.environ.get("MKOTA", str(BUILD / "mkota"))
FLASH_SIZE = 0x200000
HEADER = 176


def mkflash(*args, check=True):
    return subprocess.run([MKFLASH] + [str(a) for a in args], capture_output=True, text=True, timeout=60,
                          check=check)


def code_like(n, seed=1):
    """n bytes that are not all alike (a hash over them means something)."""
    out = bytearray()
    block = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d-%d" % (seed, block)).digest()
        block += 1
    return bytes(out[:n])


def u32(data, offset):
    return struct.unpack_from("<I", data, offset)[0]


def layout():
    rows = [line.split() for line in mkflash("layout").stdout.splitlines() if not line.startswith("#")]
    return {r[0]: (int(r[1]), int(r[2], 16), int(r[3], 16), int(r[4], 16), int(r[5], 16)) for r in rows}


def check_header(header, image, image_start):
    """Every field of a 176-byte boot header, computed independently."""
    assert header[0:4] == b"BFNP" and u32(header, 4) == 1
    assert header[8:12] == b"FCFG"
    assert u32(header, 96) == zlib.crc32(header[12:96])
    assert header[100:104] == b"PCFG"
    assert u32(header, 112) == zlib.crc32(header[104:112])
    bits = u32(header, 116)
    assert bits & 0x3 == 0 and (bits >> 2) & 0x3 == 0          # not signed, not encrypted
    assert (bits >> 8) & 1 == 1 and (bits >> 9) & 1 == 1        # no segments, cache on
    assert (bits >> 16) & 1 == 0 and (bits >> 17) & 1 == 0      # CRC and hash are checked by boot2
    padded = (len(image) + 15) // 16 * 16
    assert u32(header, 120) == padded
    assert u32(header, 124) == 0 and u32(header, 128) == image_start
    assert header[132:164] == hashlib.sha256(image + b"\0" * (padded - len(image))).digest()
    assert header[132:136] != b"\xef\xbe\xad\xde"
    assert header[164:172] == b"\0" * 8
    assert u32(header, 172) == zlib.crc32(header[0:172])


@pytest.mark.parametrize("size", [4096, 123457, 800 * 1024 + 3])
def test_firmware_slot_image_has_a_true_header(tmp_path, size):
    image = code_like(size)
    (tmp_path / "fw.bin").write_bytes(image)
    mkflash("firmware", tmp_path / "fw.bin", tmp_path / "slot.bin")
    slot = (tmp_path / "slot.bin").read_bytes()
    padded = (size + 15) // 16 * 16
    assert len(slot) == 0x1000 + padded
    check_header(slot[:HEADER], image, 0x11000)
    assert slot[HEADER:0x1000] == b"\xff" * (0x1000 - HEADER)
    assert slot[0x1000:0x1000 + size] == image and slot[0x1000 + size:] == b"\0" * (padded - size)


def test_default_flash_and_clock_configuration(tmp_path):
    """SPI_Flash_Cfg_Type of bl602_sflash.h, GD25Q16E; clock: 40 MHz crystal,
    PLL 160 MHz, hclk div 0, bclk div 1, flash on the 80 MHz clock div 1."""
    (tmp_path / "fw.bin").write_bytes(code_like(64))
    mkflash("firmware", tmp_path / "fw.bin", tmp_path / "slot.bin")
    cfg = (tmp_path / "slot.bin").read_bytes()[12:96]
    assert cfg[0] == 4 and cfg[1] == 1                           # ioMode quad I/O, continuous read
    assert cfg[8] == 0x9F                                         # jedecIdCmd
    assert cfg[12] == 4 and cfg[13] == 0xC8                       # 4 KiB sectors, GigaDevice
    assert struct.unpack_from("<H", cfg, 14)[0] == 256            # pageSize
    assert cfg[16:20] == bytes([0xC7, 0x20, 0x52, 0xD8])          # chip, 4K, 32K, 64K erase
    assert cfg[34:36] == bytes([0xEB, 2])                         # fastReadQioCmd, dummy clocks
    assert cfg[52:56] == bytes([0x05, 0x35, 0, 0])                # readRegCmd
    assert struct.unpack_from("<5H", cfg, 72) == (300, 1200, 1200, 5, 20000)
    assert cfg[82:84] == bytes([20, 0])                           # pdDelay, qeData
    header = (tmp_path / "slot.bin").read_bytes()
    assert header[104:112] == bytes([4, 4, 0, 1, 3, 1, 0, 0])


def test_flash_configuration_taken_from_a_dump_or_a_file(tmp_path):
    image = code_like(1000)
    (tmp_path / "fw.bin").write_bytes(image)
    cfg = bytearray(code_like(84, seed=9))
    (tmp_path / "cfg.bin").write_bytes(cfg)
    mkflash("firmware", "--flash-cfg", tmp_path / "cfg.bin", tmp_path / "fw.bin", tmp_path / "a.bin")
    a = (tmp_path / "a.bin").read_bytes()
    assert a[12:96] == cfg
    check_header(a[:HEADER], image, 0x11000)
    # a plug's dump (a header followed by anything) gives its block
    (tmp_path / "dump.bin").write_bytes(a + code_like(5000, seed=3))
    mkflash("firmware", "--flash-cfg", tmp_path / "dump.bin", "--xtal", "26", tmp_path / "fw.bin", tmp_path / "b.bin")
    b = (tmp_path / "b.bin").read_bytes()
    assert b[12:96] == cfg and b[104] == 5                        # xtal type 5: 26 MHz
    check_header(b[:HEADER], image, 0x11000)
    # a dump whose flash configuration CRC is broken is refused
    broken = bytearray(a)
    broken[20] ^= 0x40
    (tmp_path / "broken.bin").write_bytes(broken)
    r = mkflash("firmware", "--flash-cfg", tmp_path / "broken.bin", tmp_path / "fw.bin", tmp_path / "c.bin",
                check=False)
    assert r.returncode == 1 and "flash configuration CRC-32 is wrong" in r.stderr
    (tmp_path / "odd.bin").write_bytes(b"x" * 100)
    r = mkflash("firmware", "--flash-cfg", tmp_path / "odd.bin", tmp_path / "fw.bin", tmp_path / "c.bin", check=False)
    assert r.returncode == 1 and "neither 84 bytes" in r.stderr
    r = mkflash("firmware", "--xtal", "12", tmp_path / "fw.bin", tmp_path / "c.bin", check=False)
    assert r.returncode == 2 and "unknown crystal" in r.stderr


def parse_ptable(copy):
    """boot2's table: 16-byte header, 36-byte entries, CRC of the entries."""
    assert copy[0:4] == b"BFPT"
    count = struct.unpack_from("<H", copy, 6)[0]
    assert u32(copy, 12) == zlib.crc32(copy[0:12])
    entries = copy[16:16 + 36 * count]
    assert u32(copy, 16 + 36 * count) == zlib.crc32(entries)
    out = {}
    for i in range(count):
        e = entries[36 * i:36 * i + 36]
        name = e[3:12].split(b"\0")[0].decode()
        out[name] = (e[0], u32(e, 12), u32(e, 20), u32(e, 16), u32(e, 24))
    return out


def test_partition_table_is_boot2s_and_the_layout_holds(tmp_path):
    mkflash("ptable", tmp_path / "pt.bin")
    copy = (tmp_path / "pt.bin").read_bytes()
    assert len(copy) == 4096
    table = parse_ptable(copy)
    assert table == layout()
    # the SDK's entry types; names looked up by the SDK (hal_boot2)
    assert {n: t[0] for n, t in table.items()} == {"FW": 0, "media": 2, "PSM": 3, "KEY": 4, "DATA": 5, "factory": 6}
    fw, media = table["FW"], table["media"]
    assert fw[1] == 0x10000 and fw[3] == fw[1] + fw[2]           # slot 1 follows slot 0
    assert media[1] == fw[3] + fw[4] and media[1] + media[2] == table["PSM"][1]
    assert media[2] >= 56 * 4096                                  # layout.h's rings and file store
    assert table["PSM"][1:3] == (0x1E9000, 0x8000) and table["factory"][1] == 0x1F8000
    spans = sorted((a, a + s) for _, a, s, a1, s1 in table.values() for a, s in ((a, s), (a1, s1)) if s)
    assert all(end <= nxt for (_, end), (nxt, _) in zip(spans, spans[1:])) and spans[-1][1] <= FLASH_SIZE
    assert all(a % 4096 == 0 and (e - a) % 4096 == 0 for a, e in spans)


def test_whole_flash_image_from_a_raw_boot2(tmp_path):
    image, boot2 = code_like(300001, seed=2), code_like(38608, seed=4)
    factory = code_like(3000, seed=5)
    for name, data in (("fw.bin", image), ("boot2.bin", boot2), ("factory.dtb", factory)):
        (tmp_path / name).write_bytes(data)
    mkflash("whole", "--boot2", tmp_path / "boot2.bin", "--factory", tmp_path / "factory.dtb",
            tmp_path / "fw.bin", tmp_path / "flash.bin")
    mkflash("firmware", tmp_path / "fw.bin", tmp_path / "slot.bin")
    flash, slot = (tmp_path / "flash.bin").read_bytes(), (tmp_path / "slot.bin").read_bytes()
    assert len(flash) == FLASH_SIZE
    check_header(flash[0:HEADER], boot2, 0x2000)
    assert flash[HEADER:0x2000] == b"\xff" * (0x2000 - HEADER)
    assert flash[0x2000:0x2000 + len(boot2)] == boot2
    mkflash("ptable", tmp_path / "pt.bin")
    assert flash[0xE000:0xF000] == flash[0xF000:0x10000] == (tmp_path / "pt.bin").read_bytes()
    assert flash[0x10000:0x10000 + len(slot)] == slot
    assert flash[0x1F8000:0x1F8000 + len(factory)] == factory
    used = [(0, 0x2000 + len(boot2) + 15 & ~15), (0xE000, 0x10000 + len(slot)), (0x1F8000, 0x1F8000 + len(factory))]
    gaps = [(used[i][1], used[i + 1][0]) for i in range(len(used) - 1)] + [(used[-1][1], FLASH_SIZE)]
    for start, end in gaps:
        assert flash[start:end] == b"\xff" * (end - start), hex(start)


def test_whole_flash_image_keeps_a_boot2_dump_and_refuses_what_cannot_fit(tmp_path):
    (tmp_path / "fw.bin").write_bytes(code_like(5000))
    (tmp_path / "boot2.bin").write_bytes(code_like(30000, seed=6))
    mkflash("whole", "--boot2", tmp_path / "boot2.bin", tmp_path / "fw.bin", tmp_path / "first.bin")
    dump = (tmp_path / "first.bin").read_bytes()[:0xE000]        # what a plug's flash holds below the tables
    (tmp_path / "dump.bin").write_bytes(dump)
    r = mkflash("whole", "--boot2", tmp_path / "dump.bin", tmp_path / "fw.bin", tmp_path / "second.bin")
    assert "dump kept" in r.stdout
    assert (tmp_path / "second.bin").read_bytes()[:0xE000] == dump
    (tmp_path / "big_boot2.bin").write_bytes(code_like(0xC001, seed=7))
    r = mkflash("whole", "--boot2", tmp_path / "big_boot2.bin", tmp_path / "fw.bin", tmp_path / "x.bin", check=False)
    assert r.returncode == 1 and "does not fit between 0x2000" in r.stderr
    slot0 = layout()["FW"][2]
    (tmp_path / "big.bin").write_bytes(code_like(slot0 - 0x1000 + 1))
    r = mkflash("whole", "--boot2", tmp_path / "boot2.bin", tmp_path / "big.bin", tmp_path / "x.bin", check=False)
    assert r.returncode == 1 and "does not fit slot 0" in r.stderr
    r = mkflash("whole", tmp_path / "fw.bin", tmp_path / "x.bin", check=False)
    assert r.returncode == 2 and "usage" in r.stderr
    assert not (tmp_path / "x.bin").exists()


def test_ota_file_carries_the_slot_image(tmp_path):
    (tmp_path / "fw.bin").write_bytes(code_like(20000))
    mkflash("firmware", tmp_path / "fw.bin", tmp_path / "slot.bin")
    subprocess.run([MKOTA, "--version", "0.2.0", tmp_path / "slot.bin", tmp_path / "fw.ota"], check=True,
                   capture_output=True, timeout=60)
    ota, slot = (tmp_path / "fw.ota").read_bytes(), (tmp_path / "slot.bin").read_bytes()
    assert ota[0:16] == b"BL60X_OTA_Ver1.0" and ota[16:20] == b"RAW " and u32(ota, 20) == len(slot)
    assert ota[64:96] == hashlib.sha256(slot).digest() and ota[512:] == slot


def test_flashing_doc_shows_the_layout():
    doc = (ROOT / "docs" / "flashing.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\d) \| (0x[0-9A-F]+) \| (0x[0-9A-F]+) \|(?: (0x[0-9A-F]+) \| (0x[0-9A-F]+) \|)?",
                      doc, re.M)
    documented = {r[0]: (int(r[1]), int(r[2], 16), int(r[3], 16), int(r[4] or "0", 16), int(r[5] or "0", 16))
                  for r in rows}
    assert documented == layout()
