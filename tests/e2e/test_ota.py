"""Firmware updates end to end (src/core/ota/, src/port/host/sim_boot2.c).

The plug runs the normal build of openplug-sim (version 1); the update is a
real build of the simulator under another version (openplug-sim-update),
packed by tools/mkota, pulled with OtaUrl + Upgrade 1 from an HTTP server
in the test that can cut the image into any chunk sizes or drop the
connection.  After the switch, the simulator's boot2 executes the slot: the
plug really runs the new program, and Status 2 says so.  Trial boots are
counted and rolled back by the firmware's boot guard (ota_boot_guard(), as on
the chip, whose boot2 does not), logged as "OTA: trial boot n of 3".

Covers: RAW and XZ updates running the new version; 253-byte and random
chunks; a connection dropped at a random byte, then a retry; every refusal
(bad magic, wrong hardware, oversize, truncated, flipped byte, unsigned
with a key set, wrong key) leaving the partition table and the running
firmware untouched; config and energy surviving; the same through POST /api/ota (curl, raw
sockets in 253-byte and random pieces, a cut connection, refusals with
the reason in the reply, a second upload at once, the web password); the trial (a second update
refused until confirmed, OtaConfirm, self-confirmation after 30 s online);
the button and metering working during an update with real flash timing;
six failures in a row leaking nothing, then a good update;
a firmware that dies at start rolled back after three tries, and one cut off
three times before confirming; a power cut
at sampled flash operations of a whole update (writer, table switch, boot2,
confirmation) always booting the old or the new firmware.
"""
import json
import random
import re
import shutil
import socket
import struct
import time

import pytest

import otalib
import weblib
from simlib import EXIT_POWERCUT, Plug, free_port, run_sim

BOOT_NEW = r"BOOT: OpenPlug \S+" + re.escape(otalib.UPDATE_VERSION_SUFFIX)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("images")
    update = otalib.firmware_image("openplug-sim-update", tmp / "update.elf")
    fatal = otalib.firmware_image("openplug-sim-fatal", tmp / "fatal.elf")
    if not update or not fatal:
        pytest.skip("no build of openplug-sim-update small enough for the firmware slot (make host)")
    key = tmp / "key.pem"
    other_key = tmp / "other.pem"
    imgs = {
        "old_version": otalib.sim_version(otalib.tool("openplug-sim")),
        "new_version": otalib.sim_version(update),
        "update_elf": update,
        "raw": otalib.mkota(update, tmp / "raw.ota", "v2"),
        "xz": otalib.mkota(update, tmp / "xz.ota", "v2xz", "--xz"),
        "fatal": otalib.mkota(fatal, tmp / "fatal.ota", "fatal"),
        "key_hex": otalib.make_key(key),
        "other_key_hex": otalib.make_key(other_key),
        "wrong_hw": otalib.mkota(update, tmp / "hw.ota", "v2", "--hardware", "OpenPlug-BL602"),
    }
    imgs["signed"] = otalib.mkota(update, tmp / "signed.ota", "v2signed", "--key", key)
    imgs["signed_other"] = otalib.mkota(update, tmp / "other.ota", "v2other", "--key", other_key)
    assert imgs["new_version"].endswith(otalib.UPDATE_VERSION_SUFFIX)
    # images of a real firmware's size: the RAW body is the padded program,
    # the XZ body packs it about as a firmware would (neither near zero)
    assert len(imgs["raw"]) == otalib.HEADER_SIZE + otalib.REALISTIC_IMAGE_SIZE
    assert otalib.REALISTIC_IMAGE_SIZE // 4 < len(imgs["xz"]) < otalib.REALISTIC_IMAGE_SIZE * 3 // 4
    assert imgs["old_version"] != imgs["new_version"]
    return imgs


@pytest.fixture
def server():
    s = otalib.ImageServer()
    yield s
    s.close()


def version(plug):
    return plug.cmd("Status 2")["StatusFWR"]["Version"]


def ota_status(plug):
    return plug.cmd("OtaStatus")["OtaStatus"]


def upgrade(plug, server):
    assert plug.cmd("OtaUrl " + server.url) == {"OtaUrl": server.url}
    return plug.cmd("Upgrade 1")


def wait_state(plug, states, timeout=30):
    """Poll OtaStatus until its State is one of states; returns the status."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        status = ota_status(plug)
        if status["State"] in states:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def wait_boot(plug, pattern, since, timeout=20):
    """Wait for a boot line matching pattern, then for that boot to be up;
    returns the boot line's index."""
    plug.wait_log(pattern, since=since, timeout=timeout)
    index = max(i for i, line in enumerate(plug.lines) if i >= since and re.search(pattern, line))
    plug.wait_log(Plug.BOOTED_RE, since=index, timeout=10)
    return index


def update_and_boot(plug, server, image, **serve):
    """Serve image, Upgrade 1, wait for the new firmware's boot."""
    server.serve(image, **serve)
    mark = plug.mark()
    assert upgrade(plug, server) == {"Upgrade": "Started"}
    plug.wait_log(r"OTA: update to \S+ written and verified", since=mark, timeout=60)
    wait_boot(plug, BOOT_NEW, mark)
    return mark


def refused(plug, server, image, error, flash, **serve):
    """The image is refused with `error`; nothing switched, old still runs."""
    before = otalib.ptable_bytes(flash)
    old = version(plug)
    server.serve(image, **serve)
    reply = upgrade(plug, server)
    assert reply == {"Upgrade": "Started"}, reply
    status = wait_state(plug, ("failed", "done"))
    assert status["State"] == "failed", status
    assert re.search(error, status["Error"]), status
    assert plug.log_lines(r"OTA: update failed: .*" + error)
    assert otalib.ptable_bytes(flash) == before
    assert plug.running() and version(plug) == old
    return status


# ---- Updates that work ----

def test_raw_update_runs_the_new_version_and_keeps_config_and_energy(make_plug, server, images, tmp_path):
    plug = make_plug()
    assert version(plug) == images["old_version"]
    assert plug.cmd("DeviceName kitchen") == {"DeviceName": "kitchen"}
    plug.cmd("EnergyTotal 12.5")
    plug.cmd("Power on")
    update_and_boot(plug, server, images["raw"])
    assert version(plug) == images["new_version"]
    assert plug.log_lines(r"OTA: trial boot 1 of 3 of the new firmware in slot 1")
    assert plug.cmd("DeviceName") == {"DeviceName": "kitchen"}
    assert plug.power() is True
    total = plug.cmd("EnergyTotal")
    assert total["EnergyTotal"]["Total"] >= 12.5, total
    status = ota_status(plug)
    assert status["Slot"] == 1 and status["Trial"] is True, status
    # A plug on trial takes no other update (it would overwrite the way back).
    server.serve(images["raw"])
    reply = plug.cmd("Upgrade 1")
    assert "confirm it first" in reply.get("Error", ""), reply
    assert plug.cmd("OtaConfirm") == {"OtaConfirm": "Confirming"}
    plug.wait_log(r"OTA: firmware \S+ in slot 1 confirmed", timeout=5)
    assert ota_status(plug)["Trial"] is False
    # Confirmed: a power cut and the new firmware stays, with no trial.
    assert plug.powercut() == EXIT_POWERCUT
    plug.start()
    assert version(plug) == images["new_version"]
    assert not plug.log_lines(r"OTA: trial", since=plug.boot_mark)


def test_new_firmware_confirms_itself_after_30_s_online(make_plug, server, images):
    plug = make_plug()
    update_and_boot(plug, server, images["raw"])
    plug.stop()
    # The 30 s online in virtual time: the guard counts the second trial boot,
    # the new firmware confirms itself, a later boot is no trial.
    result = run_sim(plug.flash, duration=40, exec_="OtaStatus")
    assert result.returncode == 0, result
    assert result.logs(r"OTA: trial boot 2 of 3 of the new firmware in slot 1")
    assert result.logs(r"OTA: firmware \S+ in slot 1 confirmed: it stays")
    assert result.replies[0]["OtaStatus"]["Trial"] is True
    again = run_sim(plug.flash, duration=1, exec_="Status 2; OtaStatus")
    assert not again.logs(r"OTA: trial")
    assert again.replies[0]["StatusFWR"]["Version"] == images["new_version"]
    assert again.replies[1]["OtaStatus"]["Trial"] is False


def test_button_and_metering_keep_working_during_an_update(make_plug, server, images):
    plug = make_plug(None, flash_timing="real")
    server.serve(images["raw"], chunk=1460)
    mark = plug.mark()
    assert upgrade(plug, server) == {"Upgrade": "Started"}
    wait_state(plug, ("receiving",), timeout=10)
    before = plug.power()
    # A 200 ms press while sectors are being erased: the button samples every
    # 10 ms and wants two samples, a loop turn may hold one 45 ms erase, so
    # a press shorter than ~150 ms can be missed during an update (README).
    plug.press(17, 200)
    plug.wait_log(r"PWR: channel 1 (ON|OFF) \(button\)", since=mark, timeout=2)
    assert wait_state(plug, ("receiving", "finishing", "done"))["State"] != "done"  # seen during the update
    assert plug.power() is not before
    assert wait_state(plug, ("receiving", "finishing", "done"))["State"] in ("receiving", "finishing", "done")
    counts = json.loads(plug.world("counts")[3:])
    assert counts["irq_cf1"] > 0  # the metering driver got its interrupts (held off during erases)
    wait_boot(plug, BOOT_NEW, mark, timeout=60)
    assert version(plug) == images["new_version"]


def test_failures_in_a_row_leak_nothing_and_the_next_try_works(make_plug, server, images):
    plug = make_plug()
    heaps = []
    for image, serve in [(images["raw"], {"drop_at": 3000}), (patched(images["raw"], 0, b"X"), {}),
                         (images["raw"][:-5], {}), (images["raw"], {"drop_at": 100}),
                         (images["wrong_hw"], {}), (images["raw"], {"drop_at": 70000})]:
        server.serve(image, **serve)
        upgrade(plug, server)
        assert wait_state(plug, ("failed",))["State"] == "failed"
        heaps.append(plug.cmd("Status 11")["StatusSTS"]["Heap"])
    # Each try takes ~5 KB of buffers: a leak of even 1 KB per try would lose
    # 4 KB over the last five.  The first try is the baseline's warm-up, and
    # the C library's own allocations (resolver, stdio) move the figure by a
    # KB or two with the host's timing: a CI run saw 108..110.
    assert max(heaps[1:]) - min(heaps[1:]) <= 3, heaps
    update_and_boot(plug, server, images["raw"])
    assert version(plug) == images["new_version"]


def test_xz_update_is_decompressed_by_boot2_and_runs(make_plug, server, images):
    plug = make_plug()
    mark = update_and_boot(plug, server, images["xz"])
    assert plug.log_lines(r"boot2: decompressing the XZ update over slot 0", since=mark)
    assert version(plug) == images["new_version"]
    status = ota_status(plug)
    assert status["Slot"] == 0 and status["Trial"] is False, status  # XZ: no trial, no way back


def test_xz_image_too_large_for_the_slot_is_kept_out_by_boot2(make_plug, server, images, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(open(images["update_elf"], "rb").read() + b"\0" * otalib.SLOT_SIZE[0])  # > 800 KB unpacked
    # mkota refuses such an image (the unpacked firmware is larger than the
    # slot): --slot lifts its check, for boot2's own to be seen.
    image = otalib.mkota(big, tmp_path / "big.ota", "v2big", "--xz", "--slot", 4000000)
    assert len(image) < otalib.SLOT_SIZE[1]  # packed, it fits the slot it is written to
    plug = make_plug()
    server.serve(image)
    mark = plug.mark()
    assert upgrade(plug, server) == {"Upgrade": "Started"}
    plug.wait_log(r"boot2: the XZ update does not decompress into slot 0: keeping the firmware there", since=mark,
                  timeout=30)
    back = wait_boot(plug, r"BOOT: ", plug.lines.index(plug.log_lines(r"boot2: the XZ", since=mark)[0]))
    plug.wait_log(r"OTA: the last \(XZ\) update did not decompress", since=back, timeout=5)
    assert version(plug) == images["old_version"]
    status = ota_status(plug)
    assert status["LastUpdate"] == "failed" and "did not decompress" in status["Error"], status


@pytest.mark.parametrize("chunks", ["253", "random"])
def test_small_and_random_chunks(make_plug, server, images, chunks):
    rng = random.Random(6)
    sizes = [rng.choice([1, 7, 253, 512, 1000, 4096, 4097, 9000]) for _ in range(100000)]
    chunk = 253 if chunks == "253" else (lambda i: sizes[i])
    plug = make_plug()
    update_and_boot(plug, server, images["raw"], chunk=chunk, gap=0.0005)
    assert version(plug) == images["new_version"]


def test_pull_by_host_name_and_a_name_that_does_not_resolve(make_plug, server, images):
    plug = make_plug()
    server.serve(images["raw"])
    bad = "http://no-such-host.invalid:%d/fw.ota" % server.port
    assert plug.cmd("OtaUrl " + bad) == {"OtaUrl": bad}
    assert plug.cmd("Upgrade 1") == {"Upgrade": "Started"}
    status = wait_state(plug, ("failed",))
    assert "cannot resolve" in status["Error"], status
    assert version(plug) == images["old_version"]
    named = server.url.replace("127.0.0.1", "localhost")
    assert plug.cmd("OtaUrl " + named) == {"OtaUrl": named}
    mark = plug.mark()
    assert plug.cmd("Upgrade 1") == {"Upgrade": "Started"}
    wait_boot(plug, BOOT_NEW, mark)
    assert version(plug) == images["new_version"]


def test_dropped_connection_keeps_the_old_firmware_and_a_retry_works(make_plug, server, images, tmp_path):
    plug = make_plug()
    drop = random.Random(7).randrange(600, len(images["raw"]) - 1)
    refused(plug, server, images["raw"], r"server closed the connection early", plug.flash, drop_at=drop)
    update_and_boot(plug, server, images["raw"])
    assert version(plug) == images["new_version"]


# ---- Refusals ----

def patched(image, offset, data):
    return image[:offset] + data + image[offset + len(data):]


REFUSALS = {
    "bad magic": (lambda i: patched(i["raw"], 0, b"BL60X_OTA_Ver9.9"), r"not an OTA image"),
    "wrong hardware": (lambda i: i["wrong_hw"], r"image is for hardware 'OpenPlug-BL602'"),
    "oversize": (lambda i: patched(i["raw"], 20, struct.pack("<I", otalib.SLOT_SIZE[1] + 4096)),
                 r"does not fit the \d+-byte slot"),
    "truncated": (lambda i: i["raw"][:-1000], r"the upload is \d+ bytes but the image header says \d+"),
    "truncated, no length": (lambda i: i["raw"][:-1000], r"truncated image: \d+ of \d+ bytes", -1),
    "flipped byte": (lambda i: patched(i["raw"], 5000, bytes([i["raw"][5000] ^ 0x10])),
                     r"SHA-256 does not match"),
    "longer than said": (lambda i: i["raw"] + b"\0" * 10, r"the upload is \d+ bytes but the image header says"),
    "longer, no length": (lambda i: i["raw"] + b"\0" * 10, r"longer than its header says", -1),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_images_are_refused_and_nothing_switches(make_plug, server, images, case):
    make_image, error, *length = REFUSALS[case]
    plug = make_plug()
    refused(plug, server, make_image(images), error, plug.flash, length=length[0] if length else None)


def test_signatures(make_plug, server, images):
    plug = make_plug()
    assert plug.cmd("OtaKey " + images["key_hex"]) == {"OtaKey": images["key_hex"]}
    assert "Error" in plug.cmd("OtaKey 04" + "00" * 64)  # not a point of the curve
    refused(plug, server, images["raw"], r"not signed and this plug requires a signature", plug.flash)
    refused(plug, server, images["signed_other"], r"bad signature", plug.flash)
    tampered = patched(images["signed"], 48, b"v3signed\0")  # the version string is signed too
    refused(plug, server, tampered, r"bad signature", plug.flash)
    update_and_boot(plug, server, images["signed"])
    assert version(plug) == images["new_version"]
    assert plug.cmd("OtaKey") == {"OtaKey": images["key_hex"]}


# ---- Rollback ----

def test_firmware_dying_at_start_is_rolled_back_after_three_tries(make_plug, server, images):
    plug = make_plug()
    server.serve(images["fatal"])
    mark = plug.mark()
    assert upgrade(plug, server) == {"Upgrade": "Started"}
    for attempt in (1, 2, 3):
        plug.wait_log(r"OTA: trial boot %d of 3 of the new firmware in slot 1" % attempt, since=mark, timeout=20)
    plug.wait_log(r"OTA: the firmware in slot 1 restarted 3 times without confirming itself: rolled back to slot 0",
                  since=mark, timeout=20)
    back = wait_boot(plug, r"BOOT: .*reset reason: OTA rollback", mark)  # the guard's restart into slot 0
    plug.wait_log(r"OTA: the last update did not confirm itself in 3 boots", since=back, timeout=5)
    assert version(plug) == images["old_version"]
    status = ota_status(plug)
    assert status["LastUpdate"] == "rolled back" and status["Slot"] == 0 and not status["Trial"], status
    # The old firmware takes the next update.
    update_and_boot(plug, server, images["raw"])
    assert version(plug) == images["new_version"]


def test_three_power_cuts_before_confirming_roll_back(make_plug, server, images):
    plug = make_plug()
    update_and_boot(plug, server, images["raw"])
    for attempt in (2, 3):
        assert plug.powercut() == EXIT_POWERCUT
        plug.start()
        assert plug.log_lines(r"OTA: trial boot %d of 3" % attempt, since=plug.boot_mark)
        assert version(plug) == images["new_version"]
    assert plug.powercut() == EXIT_POWERCUT
    plug.start()
    assert plug.log_lines(r"OTA: .* rolled back to slot 0", since=plug.boot_mark)
    assert version(plug) == images["old_version"]
    assert ota_status(plug)["LastUpdate"] == "rolled back"


# ---- Power cuts ----

def run_update_with_cut(make_plug, flash, server, image, cut):
    """Start the plug with --powercut-at-flash-op cut, update, confirm; returns
    once the process ended (by the cut) or the update was confirmed."""
    plug = make_plug(flash, "--powercut-at-flash-op", cut)
    mark = plug.mark()
    server.serve(image)
    plug.send("Upgrade 1")
    import time
    deadline = time.monotonic() + 30
    while plug.running() and time.monotonic() < deadline:
        if plug.log_lines(BOOT_NEW, since=mark) and plug.log_lines(r"WIF: Wi-Fi connecting", since=plug.lines.index(plug.log_lines(BOOT_NEW, since=mark)[0])):
            try:
                plug.cmd("OtaConfirm", timeout=2)
                plug.wait_log(r"OTA: firmware \S+ in slot \d confirmed", since=mark, timeout=3)
                break
            except AssertionError:
                if plug.running():
                    raise
        time.sleep(0.05)
    rc = plug.wait_exit(10) if not plug.running() else plug.stop()
    return rc


def flash_ops(plug):
    """Flash operations of a stopped plug's run (its last summary line)."""
    return int(re.search(r"(\d+) flash operations", plug.stderr_lines[-1]).group(1))


@pytest.mark.parametrize("kind", ["raw", "xz"])
def test_power_cut_at_sampled_flash_operations_boots_old_or_new(make_plug, server, images, tmp_path, kind):
    base = tmp_path / "base.bin"
    plug = make_plug(base)
    plug.cmd("DeviceName cutme")
    plug.cmd("OtaUrl " + server.url)  # saved now: the runs below only say Upgrade 1
    plug.stop()
    # A whole update without a cut: count its flash operations.
    full = tmp_path / "full.bin"
    shutil.copyfile(base, full)
    first = make_plug(full)
    server.serve(images[kind])
    first.cmd("Upgrade 1")
    wait_boot(first, BOOT_NEW, 0, timeout=60)
    first.cmd("OtaConfirm")
    first.stop()
    total = flash_ops(first)
    idle = tmp_path / "idle.bin"
    shutil.copyfile(base, idle)
    booted = make_plug(idle)
    booted.cmd("Status 2")
    booted.stop()
    at_boot = flash_ops(booted)  # the update's operations come after these
    assert total > at_boot + 40, (at_boot, total)
    rng = random.Random(kind)
    cuts = sorted(set(list(range(at_boot + 1, at_boot + 5)) + list(range(total - 10, total + 1)) +
                      rng.sample(range(at_boot + 5, total - 10), 12)))
    outcomes = {}
    for cut in cuts:
        flash = tmp_path / ("cut%d.bin" % cut)
        shutil.copyfile(base, flash)
        rc = run_update_with_cut(make_plug, flash, server, images[kind], cut)
        after = make_plug(flash)  # plugged in again, no cut
        running = version(after)
        assert running in (images["old_version"], images["new_version"]), running
        assert after.cmd("DeviceName") == {"DeviceName": "cutme"}
        outcomes[cut] = (rc, running == images["new_version"])
        after.stop()
    assert any(new for _, new in outcomes.values()) and any(not new for _, new in outcomes.values()), outcomes


# ---- Upload through the web server: POST /api/ota ----

def post_in_pieces(port, image, pieces, stop_at=None, pause=0.0005):
    """POST /api/ota over a raw socket, `pieces(i)` bytes at a time; stop
    (close the connection) after stop_at body bytes.  Returns the
    response (status, headers, body) or None when it stopped early."""
    head = ("POST /api/ota HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: %d\r\n\r\n" % len(image)).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        s.sendall(head)
        sent, i = 0, 0
        end = len(image) if stop_at is None else stop_at
        while sent < end:
            piece = image[sent:min(end, sent + pieces(i))]
            s.sendall(piece)
            sent += len(piece)
            i += 1
            if pause:
                time.sleep(pause)
        if stop_at is not None:
            return None
        return weblib.read_response(s, timeout=60)
    finally:
        s.close()


def test_api_upload_with_curl_runs_the_new_version(make_plug, images, tmp_path):
    port = free_port()  # the same port after the restart
    plug = weblib.start_web_plug(make_plug, "--http", str(port))
    stored = weblib.curl(plug.base + "/api/files/notes.txt", data="kept across updates\n", method="PUT",
                         headers=["Content-Type: text/plain"])
    assert stored.status == 200, stored
    plug.cmd("DeviceName updated-by-curl")
    status = weblib.curl(plug.base + "/api/ota")
    assert status.status == 200 and status.json()["State"] == "idle", status
    path = tmp_path / "fw.ota"
    path.write_bytes(images["raw"])
    mark = plug.mark()
    reply = weblib.curl(plug.base + "/api/ota", "--data-binary", "@%s" % path,
                        headers=["Content-Type: application/octet-stream"], timeout=60)
    assert reply.status == 200, reply
    body = reply.json()
    assert body["State"] == "done" and body["Received"] == body["Total"] == len(images["raw"]), body
    assert body["Version"] == "v2"
    wait_boot(plug, BOOT_NEW, mark)
    assert version(plug) == images["new_version"]
    assert plug.log_lines(r"OTA: update started \(web\)", since=mark)
    # Settings and the file store live outside both slots.
    assert plug.cmd("DeviceName") == {"DeviceName": "updated-by-curl"}
    weblib.wait_until(lambda: weblib.curl(plug.base + "/api/files/notes.txt").status == 200, what="the web server")
    assert weblib.curl(plug.base + "/api/files/notes.txt").body == "kept across updates\n"



@pytest.mark.parametrize("pieces", ["253", "random"])
def test_api_upload_in_small_and_random_pieces(make_plug, images, pieces):
    rng = random.Random(253)
    sizes = [rng.choice([1, 13, 253, 1460, 4095, 4096, 4097, 20000]) for _ in range(100000)]
    plug = weblib.start_web_plug(make_plug)
    mark = plug.mark()
    status, _, body = post_in_pieces(plug.port, images["raw"], (lambda i: 253) if pieces == "253" else sizes.__getitem__)
    assert status == 200, body
    wait_boot(plug, BOOT_NEW, mark)
    assert version(plug) == images["new_version"]


def test_api_upload_cut_at_a_random_byte_then_retried(make_plug, images, tmp_path):
    plug = weblib.start_web_plug(make_plug)
    before = otalib.ptable_bytes(plug.flash)
    stop = random.Random(11).randrange(1, len(images["raw"]) - 1)
    assert post_in_pieces(plug.port, images["raw"], lambda i: 1460, stop_at=stop) is None
    status = wait_state(plug, ("failed",))
    assert "upload connection closed" in status["Error"], status
    assert otalib.ptable_bytes(plug.flash) == before and version(plug) == images["old_version"]
    mark = plug.mark()
    status, _, body = post_in_pieces(plug.port, images["raw"], lambda i: 65536, pause=0)
    assert status == 200, body
    wait_boot(plug, BOOT_NEW, mark)
    assert version(plug) == images["new_version"]


def test_api_upload_refusals_say_why(make_plug, images):
    plug = weblib.start_web_plug(make_plug)
    before = otalib.ptable_bytes(plug.flash)
    for image, error in [(patched(images["raw"], 0, b"NOT_AN_OTA_IMAGE"), "not an OTA image"),
                         (images["wrong_hw"], "image is for hardware"),
                         (patched(images["raw"], 5000, bytes([images["raw"][5000] ^ 1])), "SHA-256 does not match")]:
        status, _, body = post_in_pieces(plug.port, image, lambda i: 65536, pause=0)
        assert status == 422, body
        reply = json.loads(body)
        assert reply["State"] == "failed" and error in reply["Error"], reply
    huge = weblib.raw_request(plug.port, b"POST /api/ota HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 9999999\r\n\r\n")
    assert b" 413 " in huge.split(b"\r\n")[0], huge
    assert otalib.ptable_bytes(plug.flash) == before and version(plug) == images["old_version"]


def test_api_second_upload_at_once_is_refused(make_plug, images):
    plug = weblib.start_web_plug(make_plug)
    first = socket.create_connection(("127.0.0.1", plug.port), timeout=10)
    try:
        first.sendall(b"POST /api/ota HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(images["raw"]))
        first.sendall(images["raw"][:2000])
        wait_state(plug, ("receiving",))
        status, _, body = post_in_pieces(plug.port, images["raw"], lambda i: 65536, pause=0)
        assert status == 409 and b"already running" in body, body
    finally:
        first.close()
    assert "closed" in wait_state(plug, ("failed",))["Error"]
    assert version(plug) == images["old_version"]


def test_api_upload_needs_the_web_password(make_plug, images):
    plug = weblib.start_web_plug(make_plug)
    assert "Error" not in plug.cmd("WebPassword s3cret-pw")
    status, headers, body = post_in_pieces(plug.port, images["raw"], lambda i: 65536, pause=0)
    assert status == 401, body
    assert ota_status(plug)["State"] == "idle"
