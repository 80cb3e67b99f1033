"""Backup and restore (GET /api/backup, POST /api/restore; issue 15):
one file with the settings, the template, the files and, when asked, the
energy counters and history; secrets only when asked, and a restore of a
file without them keeps the plug's own; a file is checked whole before
anything changes, and a bad or foreign one changes nothing; a power cut at
any flash operation of the apply ends in the backup's state."""
import http.client
import json
import re
import shutil
import socket

import backuplib
from backuplib import Backup, get_backup, request
from simlib import EXIT_POWERCUT, SUMMARY_RE, free_port, run_sim
from weblib import start_web_plug as start_any_port

T_0955 = 1772445300  # 2026-03-02 09:55 UTC: an hour changes during the energy run


def start_web_plug(make_plug, *args, flash=None):
    """A plug on a fixed port: the same after the restarts of a restore."""
    return start_any_port(make_plug, "--http", str(free_port()), *args, flash=flash)


def cm(plug, command, headers=None):
    status, body = request(plug.port, "GET", "/cm?cmnd=" + command.replace(" ", "%20"), headers=headers)
    assert status == 200, (command, status, body)
    return json.loads(body)


def put_file(plug, name, data, headers=None):
    """Store a file; returns once the plug's log line about it has been
    read (a test's later mark must not find it)."""
    mark = plug.mark()
    status, body = request(plug.port, "PUT", "/api/files/" + name, data, headers)
    assert status == 200, (name, status, body)
    plug.wait_log(r"FILE: %s written" % re.escape(name), since=mark)


def restore(plug, raw, headers=None):
    status, body = request(plug.port, "POST", "/api/restore", raw, headers)
    return status, json.loads(body)


def restore_and_wait(plug, raw, headers=None):
    mark = plug.mark()
    status, reply = restore(plug, raw, headers)
    assert status == 200 and reply["State"] == "restarting", (status, reply)
    plug.wait_log(r"BOOT: .*reset reason: Restore \(web\)", since=mark, timeout=10)
    line = plug.wait_log(r"RST: restore ((?:not )?applied.*)", since=mark, timeout=10).group(1)
    plug.wait_log(plug.BOOTED_RE, since=mark, timeout=10)
    plug.wait_log(r"HTTP: web server on", since=mark, timeout=10)
    return line


def state(plug, headers=None):
    """Everything a restore brings back, as the plug answers it."""
    def get(path):
        status, body = request(plug.port, "GET", path, headers=headers)
        assert status == 200, (path, status)
        return json.loads(body)
    files = get("/api/files")["files"]
    return {"config": get("/api/config"), "template": get("/api/template"),
            "files": sorted((f["name"], f["size"], f["crc"]) for f in files),
            "energy": cm(plug, "EnergyTotal", headers)["EnergyTotal"], "history": get("/api/history")}


def energy_image(path):
    """An image with saved energy counters and history (virtual time), and settings changed."""
    result = run_sim(path, "--load", "3680W", duration=600,
                     exec_="Time %d; Power on; EnergySaveWh 1; DeviceName kitchen; PowerOnState 1; MaxPower 3900; "
                           "Timezone CET-1CEST,M3.5.0,M10.5.0/3; TelePeriod 60; Pin 4 LED;1; LedPwmOn 128" % T_0955)
    assert result.returncode == 0, result
    return path


def test_round_trip_with_energy_after_a_factory_reset(make_plug, tmp_path):
    plug = start_web_plug(make_plug, "--load", "0W", flash=energy_image(tmp_path / "plug.bin"))
    put_file(plug, "autoexec.bat", b"addEventHandler OnClick 17 toggleChannel 1\n")
    put_file(plug, "notes.txt", bytes(range(256)) * 30)  # 7680 bytes: the largest sort
    before = state(plug)
    assert before["energy"]["Total"] > 0.5 and sum(before["history"]["hours_wh"]) > 500, before
    full = Backup(get_backup(plug.port, "?energy=1"))
    assert full.model == b"BL602" and full.format == 1 and full.flags == backuplib.ENERGY
    assert [r[0] for r in full.records] == [1, 2, 2, 3, 4]
    assert full.of_type(backuplib.SETTINGS)[0][1] == 9 and len(full.settings) == backuplib.CONFIG_SIZE
    assert full.files() == {"autoexec.bat": b"addEventHandler OnClick 17 toggleChannel 1\n",
                            "notes.txt": bytes(range(256)) * 30}
    plain = Backup(get_backup(plug.port))
    assert plain.flags == 0 and [r[0] for r in plain.records] == [1, 2, 2]

    # A factory reset, other files, counters at zero: nothing of it is left after the restore.
    mark = plug.mark()
    assert request(plug.port, "POST", "/api/reset", b'{"confirm":"reset"}',
                   {"Content-Type": "application/json"})[0] == 200
    plug.wait_log(r"BOOT: .*reset reason: Factory reset", since=mark, timeout=10)
    plug.wait_log(r"HTTP: web server on", since=mark, timeout=10)
    assert request(plug.port, "DELETE", "/api/files/notes.txt")[0] == 204
    put_file(plug, "autoexec.bat", b"// other\n")
    put_file(plug, "junk.txt", b"junk")
    cm(plug, "EnergyReset")
    reset = state(plug)
    assert reset["config"] != before["config"] and reset["files"] != before["files"]
    assert reset["energy"]["Total"] == 0

    assert restore_and_wait(plug, full.encode()) == "applied: settings, 2 files, energy"
    after = state(plug)
    for key in before:
        assert after[key] == before[key], (key, before[key], after[key])
    again = Backup(get_backup(plug.port, "?energy=1"))
    assert again.settings == full.settings and again.files() == full.files()
    status, progress = request(plug.port, "GET", "/api/restore")
    assert json.loads(progress)["LastRestore"] == "applied: settings, 2 files, energy"

    # Without the energy records the counters stay as they are.
    cm(plug, "EnergyTotal 7")
    assert restore_and_wait(plug, plain.encode()) == "applied: settings, 2 files"
    assert cm(plug, "EnergyTotal")["EnergyTotal"]["Total"] == 7


WIFI, MQTT, WEB, NEWER = "wifi-Secret-11", "mqtt-Secret-22", "web-Secret-33", "wifi-Newer-44"


def test_secrets_only_when_asked_and_kept_on_restore(make_plug):
    plug = start_web_plug(make_plug)
    cm(plug, "Backlog SSId1 home; Password1 %s; MqttHost 127.0.0.1; MqttPassword %s; WebPassword %s" %
       (WIFI, MQTT, WEB))
    auth = {"Authorization": "Basic " + __import__("base64").b64encode(("admin:" + WEB).encode()).decode()}
    assert request(plug.port, "GET", "/api/backup")[0] == 401  # admin only, like every read of settings
    assert request(plug.port, "POST", "/api/restore", b"x" * 100)[0] == 401
    plain_raw = get_backup(plug.port, headers=auth)
    plain, full = Backup(plain_raw), Backup(get_backup(plug.port, "?secrets=1", auth))
    assert plain.flags == 0 and full.flags == backuplib.SECRETS
    for secret in (WIFI, MQTT):
        assert secret.encode() not in plain_raw and secret.encode() in full.settings
    assert plain.settings[backuplib.OFF_WEB:backuplib.OFF_WEB + 48] == bytes(48)
    assert full.settings[backuplib.OFF_WEB:backuplib.OFF_WEB + 48] != bytes(48)
    assert plain.settings.replace(b"\0", b"") != b"" and b"home" in plain.settings  # the SSId is no secret

    cm(plug, "Password1 " + NEWER, auth)
    restore_and_wait(plug, plain.encode(), auth)
    now = get_backup(plug.port, "?secrets=1", auth)
    assert NEWER.encode() in now and MQTT.encode() in now and WIFI.encode() not in now  # the plug's own kept
    assert request(plug.port, "GET", "/api/backup")[0] == 401  # the web password too
    assert Backup(now).settings[backuplib.OFF_WEB:][:48] == full.settings[backuplib.OFF_WEB:][:48]

    restore_and_wait(plug, full.encode(), auth)  # a file with secrets brings its own
    now = get_backup(plug.port, "?secrets=1", auth)
    assert WIFI.encode() in now and NEWER.encode() not in now


def bad_files(good):
    """(name, file, status, the plug's exact reason)."""
    raw = good.encode()
    flipped = {at: raw[:at] + bytes([raw[at] ^ 0x10]) + raw[at + 1:] for at in (70, 1000, len(raw) - 6, len(raw) - 2)}
    out = [("flipped byte %d" % at, f, 422, "corrupt file: its CRC does not match") for at, f in flipped.items()]
    out += [("truncated", raw[:len(raw) // 2], 422, "truncated file: %d of %d bytes" % (len(raw) // 2, len(raw))),
            ("shorter than a header", raw[:40], 400, "send the backup file as the request body"),
            ("trailing bytes", raw + b"\0\0", 422, "2 bytes after the end of the backup"),
            ("other model", good.encode(model=b"ESP32"), 422, "backup of another model (ESP32): this plug is BL602"),
            ("other magic", good.encode(magic=b"TASMOTA1"), 422, "not an OpenPlug backup file"),
            ("newer format", good.encode(fmt=2), 422, "backup format 2: this firmware reads format 1")]
    bad = Backup(raw)
    bad.set_settings(backuplib.OFF_POWER_ON_STATE, b"\x63")
    out.append(("invalid setting", bad.encode(), 422, "invalid settings (power_on_state) (record at byte 48)"))
    newer = Backup(raw)
    newer.records[0][1] = 10
    out.append(("newer settings", newer.encode(), 422,
                "settings of version 10 (2028 bytes): this firmware reads 1 to 9 (record at byte 48)"))
    for name, change, why in (
            ("bad file name", lambda r: r.records.append([2, 0, "../x", b"x"]), "a file with a bad name (record at"),
            ("nine files", lambda r: r.records.extend([2, 0, "f%d" % i, b"x"] for i in range(8)),
             "more files than the file store holds (record at"),
            ("no settings", lambda r: r.records.pop(0), "no settings in the file"),
            ("unknown record", lambda r: r.records.append([9, 0, "", b"x"]), "unknown record type 9 (record at"),
            ("bad energy record", lambda r: r.records.append([3, 1, "", b"x" * 8]),
             "an energy record this firmware does not read (record at")):
        r = Backup(raw)
        change(r)
        out.append((name, r.encode(), 422, why))
    return out


def test_a_bad_or_foreign_file_changes_nothing(make_plug):
    plug = start_web_plug(make_plug)
    put_file(plug, "keep.txt", b"keep me")
    cm(plug, "DeviceName original")
    good = Backup(get_backup(plug.port))
    good.set_settings(backuplib.OFF_DEVICE_NAME, b"restored\0")
    before = state(plug)
    for name, raw, status, why in bad_files(good):
        mark = plug.mark()
        got, reply = restore(plug, raw)
        assert got == status, (name, got, reply)
        assert reply["error"] == why or why.endswith("(record at") and reply["error"].startswith(why), (name, reply)
        assert not plug.log_lines(r"BOOT:|RST: backup checked|FILE:", since=mark), name
        assert state(plug) == before, name
    status, reply = restore(plug, b"\0" * 64, {"Content-Length": str(16 << 20)})  # refused on its head
    assert status == 413 and reply["error"] == "file larger than any backup", (status, reply)
    # the update slot was given back each time: a good file still restores
    assert restore_and_wait(plug, good.encode()) == "applied: settings, 1 files"
    assert cm(plug, "DeviceName")["DeviceName"] == "restored"


def staged_image(tmp_path, make_plug):
    """A plug in state A and a backup of state B (another name, other files)."""
    image = tmp_path / "base.bin"
    plug = start_web_plug(make_plug, flash=image)
    cm(plug, "DeviceName stateB")
    put_file(plug, "autoexec.bat", b"// B\n")
    put_file(plug, "b.txt", b"B" * 5000)
    backup_b = get_backup(plug.port)
    cm(plug, "DeviceName stateA")
    put_file(plug, "autoexec.bat", b"// A\n")
    assert request(plug.port, "DELETE", "/api/files/b.txt")[0] == 204
    put_file(plug, "a.txt", b"A" * 100)
    plug.stop()
    return image, backup_b


def read_state(make_plug, image):
    plug = start_web_plug(make_plug, flash=image)
    got = (cm(plug, "DeviceName")["DeviceName"],
           sorted((f["name"], f["size"]) for f in json.loads(request(plug.port, "GET", "/api/files")[1])["files"]))
    last = json.loads(request(plug.port, "GET", "/api/restore")[1])["LastRestore"]
    plug.kill()
    return got, last


STATE_A = ("stateA", [("a.txt", 100), ("autoexec.bat", 5)])
STATE_B = ("stateB", [("autoexec.bat", 5), ("b.txt", 5000)])


def ops_in(lines):
    return [int(m.group("ops")) for m in (SUMMARY_RE.search(line) for line in lines) if m]


def test_power_cut_at_every_flash_operation_of_a_restore(make_plug, tmp_path):
    base, backup_b = staged_image(tmp_path, make_plug)
    # A run without a cut: the flash operations at the restart (staging done) and at the end.
    image = tmp_path / "run.bin"
    shutil.copyfile(base, image)
    plug = start_web_plug(make_plug, flash=image)
    assert restore_and_wait(plug, backup_b) == "applied: settings, 2 files"
    plug.stop()
    at_restart, at_end = ops_in(plug.stderr_lines)
    staging = 1 + 2 * ((len(backup_b) + 4095) // 4096) + 1  # marker erase, each sector, marker program
    assert at_end - at_restart >= 8, (at_restart, at_end)  # delete, two file writes, settings, done
    outcomes = {}
    for op in range(at_restart - staging + 1, at_end + 1):
        shutil.copyfile(base, image)
        plug = start_web_plug(make_plug, "--powercut-at-flash-op", op, flash=image)
        try:
            request(plug.port, "POST", "/api/restore", backup_b)
        except (ConnectionError, http.client.HTTPException):
            pass  # the cut came while staging: no answer
        assert plug.wait_exit(timeout=20) == EXIT_POWERCUT, op
        got, last = read_state(make_plug, image)
        if op <= at_restart:  # staging: nothing changed, nothing applied
            assert got == STATE_A and last == "", (op, got, last)
        else:  # the apply (resumed at this boot if the cut came before its end)
            assert got == STATE_B, (op, got, last)
        outcomes[op] = last
    resumed = [op for op, last in outcomes.items() if last.startswith("applied")]
    assert len(resumed) >= at_end - at_restart - 4, outcomes  # most cuts fell inside the apply
    print("restore sweep: %d cut points, %d resumed the apply at the next boot" % (len(outcomes), len(resumed)))


def test_a_restore_and_an_update_never_share_the_slot(make_plug):
    """Each holds the inactive slot while it streams: the other is refused
    with the reason, and gets it back once the first is over."""
    plug = start_web_plug(make_plug)
    good = get_backup(plug.port)
    for first, started, second, why in (
            ("/api/ota", r"OTA: update started", "/api/restore", "an update is already running"),
            ("/api/restore", r"RST: restore started", "/api/ota", "a restore is using the update slot")):
        mark = plug.mark()
        held = socket.create_connection(("127.0.0.1", plug.port), timeout=10)
        held.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                      "Content-Length: 60000\r\n\r\n" % first).encode() + b"\0" * 20)
        plug.wait_log(started, since=mark)
        status, reply = request(plug.port, "POST", second, good if second == "/api/restore" else b"\xff" * 600)
        assert status == 409 and json.loads(reply)["error"] == why, (first, status, reply)
        held.close()  # the client goes away: the first ends, and gives the slot back
        plug.wait_log(r"the upload connection closed", since=mark, timeout=10)
    assert restore_and_wait(plug, good) == "applied: settings, 0 files"
