"""The file store over HTTP (/api/files) with curl: list, upload (PUT and
POST), download, delete, limits and bad names, admin auth, autoexec.bat
uploaded then run at the next boot, and power cuts torn into every flash
operation of an upload (the old or the new file, whole)."""
import os
import re
import shutil
import subprocess

from weblib import curl, start_web_plug, wait_until

CERT = bytes((i * 7 + 3) % 256 for i in range(8128))  # the largest file: two sectors less the header


def put(plug, name, data, method="PUT", user=None):
    if isinstance(data, bytes):  # curl reads binary bodies from a file
        path = "%s.upload" % plug.flash
        with open(path, "wb") as f:
            f.write(data)
        return curl(plug.base + "/api/files/" + name, "--data-binary", "@" + path, method=method,
                    headers=("Content-Type: application/octet-stream",), user=user)
    return curl(plug.base + "/api/files/" + name, method=method, data=data,
                headers=("Content-Type: application/octet-stream",), user=user)


def get_bytes(plug, name, user=None):
    cmd = ["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}", plug.base + "/api/files/" + name]
    if user:
        cmd[1:1] = ["-u", user]
    out = subprocess.run(cmd, capture_output=True, timeout=15).stdout
    body, _, code = out.rpartition(b"\n")
    return int(code), body


def test_round_trip_list_download_delete(make_plug, tmp_path):
    plug = start_web_plug(make_plug)
    r = curl(plug.base + "/api/files")
    assert r.status == 200 and r.json() == {"files": [], "slots": 8, "free": 8, "max_size": 8128}
    r = put(plug, "autoexec.bat", "Power on\nDeviceName uploaded\n")
    assert r.status == 200 and r.json()["size"] == 29, r
    cert = tmp_path / "cert.pem"
    cert.write_bytes(CERT)
    r = curl(plug.base + "/api/files/ca.pem", "--data-binary", "@%s" % cert, method="POST",
             headers=("Content-Type: application/octet-stream",))
    assert r.status == 200 and r.json() == {"name": "ca.pem", "size": 8128, "crc": __import__("zlib").crc32(CERT)}
    assert get_bytes(plug, "ca.pem") == (200, CERT)
    assert get_bytes(plug, "autoexec.bat") == (200, b"Power on\nDeviceName uploaded\n")
    listing = curl(plug.base + "/api/files").json()
    assert [(f["name"], f["size"]) for f in listing["files"]] == [("autoexec.bat", 29), ("ca.pem", 8128)]
    assert listing["free"] == 6
    # Replace with a shorter version, then delete.
    assert put(plug, "ca.pem", "short").status == 200
    assert get_bytes(plug, "ca.pem") == (200, b"short")
    assert curl(plug.base + "/api/files/ca.pem", method="DELETE").status == 204
    assert curl(plug.base + "/api/files/ca.pem").status == 404
    assert curl(plug.base + "/api/files/ca.pem", method="DELETE").status == 404
    # Survives a restart.
    plug.restart()
    plug.port = int(plug.wait_log(r"HTTP: web server on http://127\.0\.0\.1:(\d+)/", since=plug.boot_mark).group(1))
    plug.base = "http://127.0.0.1:%d" % plug.port
    assert get_bytes(plug, "autoexec.bat") == (200, b"Power on\nDeviceName uploaded\n")


def test_limits_and_bad_names_change_nothing(make_plug):
    plug = start_web_plug(make_plug)
    assert put(plug, "keep.txt", "kept").status == 200
    r = put(plug, "big.bin", "x" * 8129)
    assert r.status == 413 and "8128 bytes at most" in r.json()["error"], r
    for bad in (".hidden", "a%20b", "x" * 33, "a;b"):
        r = put(plug, bad, "data")
        assert r.status == 400 and "bad file name" in r.json()["error"], (bad, r)
    for i in range(7):
        assert put(plug, "f%d" % i, "n").status == 200
    r = put(plug, "ninth", "n")
    assert r.status == 507 and "file store full" in r.json()["error"]
    assert get_bytes(plug, "keep.txt") == (200, b"kept")
    assert curl(plug.base + "/api/files").json()["free"] == 0
    assert plug.cmd("Power on") == {"POWER": "ON"}


def test_admin_auth_required_when_a_password_is_set(make_plug):
    plug = start_web_plug(make_plug)
    assert put(plug, "a.txt", "secret").status == 200
    plug.cmd("WebPassword s3cret-pw")
    assert curl(plug.base + "/api/files").status == 401
    assert get_bytes(plug, "a.txt")[0] == 401
    assert put(plug, "a.txt", "changed").status == 401
    assert curl(plug.base + "/api/files/a.txt", method="DELETE").status == 401
    assert get_bytes(plug, "a.txt", user="admin:s3cret-pw") == (200, b"secret")
    assert put(plug, "a.txt", "changed", user="admin:s3cret-pw").status == 200
    assert get_bytes(plug, "a.txt", user="admin:s3cret-pw") == (200, b"changed")


def test_uploaded_autoexec_runs_at_boot(make_plug):
    plug = start_web_plug(make_plug)
    assert put(plug, "autoexec.bat", "DeviceName from-upload\naddEventHandler OnChannelChange 1 DeviceName ch$CH1\n"
                                     "delay_s 1\nPower on\n").status == 200
    plug.restart()
    plug.wait_log(r"SCR: running autoexec.bat \(\d+ bytes\)", since=plug.boot_mark)
    plug.wait_log(r'SCR: -> \{"DeviceName":"ch1"\}', since=plug.boot_mark, timeout=5)
    assert plug.cmd("DeviceName") == {"DeviceName": "ch1"}


def flash_ops(stderr_text):
    m = re.findall(r"\((?:boot \d+, )?(\d+) flash operations", stderr_text)
    return int(m[-1]) if m else None


def test_power_cut_during_an_upload_keeps_the_old_or_the_new_file(make_plug, tmp_path):
    old, new = bytes(range(256)) * 20, bytes(reversed(range(256))) * 30  # 5120 and 7680 bytes: two sectors each
    base = tmp_path / "base.bin"
    plug = start_web_plug(make_plug, flash=base)
    assert put(plug, "data.bin", old).status == 200
    plug.stop()
    # A dry run: how many flash operations boot and the upload take.
    shutil.copy(base, tmp_path / "dry.bin")
    plug = start_web_plug(make_plug, flash=tmp_path / "dry.bin")
    assert put(plug, "data.bin", new).status == 200
    plug.stop()
    total = flash_ops("\n".join(plug.stderr_lines))
    plug = start_web_plug(make_plug, flash=tmp_path / "boot.bin")  # blank: only to learn boot's count
    plug.stop()
    shutil.copy(base, tmp_path / "count.bin")
    plug = start_web_plug(make_plug, flash=tmp_path / "count.bin")
    plug.stop()
    boot_ops = flash_ops("\n".join(plug.stderr_lines))
    assert total is not None and boot_ops is not None and total > boot_ops, (total, boot_ops)
    seen = set()
    for n in range(boot_ops + 1, total + 1):
        image = tmp_path / ("cut%d.bin" % n)
        shutil.copy(base, image)
        plug = start_web_plug(make_plug, "--powercut-at-flash-op", n, flash=image)
        subprocess.run(["curl", "-sS", "--max-time", "5", "-X", "PUT", "--data-binary", "@-",
                        plug.base + "/api/files/data.bin"], input=new, capture_output=True, timeout=10)
        rc = plug.wait_exit(timeout=5) if n <= total else None
        assert rc == 3, (n, rc, plug.stderr_lines[-3:])
        after = start_web_plug(make_plug, flash=image)
        code, body = get_bytes(after, "data.bin")
        assert code == 200 and body in (old, new), (n, code, len(body))
        seen.add(body == new)
        assert after.cmd("Power on") == {"POWER": "ON"}
        after.stop()
    # Every cut fell inside the upload (its last operation is the header):
    # each left the old version whole; without a cut the new one is there.
    assert seen == {False} and total - boot_ops >= 4, (seen, boot_ops, total)


def test_startup_command_through_api_config(make_plug):
    """The UI's way to the startup command: POST /api/config, read back by
    GET, run at the next boot."""
    plug = start_web_plug(make_plug)
    line = "DeviceName via-api; startDriver SSDP"
    r = curl(plug.base + "/api/config", method="POST", data={"StartupCommand": line})
    assert r.status == 200 and r.json()["results"]["StartupCommand"] == {"StartupCommand": line}, r
    assert curl(plug.base + "/api/config").json()["StartupCommand"] == line
    plug.restart()
    plug.wait_log(r'SCR: -> \{"DeviceName":"via-api"\}', since=plug.boot_mark)
    plug.wait_log(r'SCR: -> \{"startDriver":"SSDP"\}', since=plug.boot_mark)


def test_one_upload_at_a_time_and_an_abandoned_upload_changes_nothing(make_plug):
    import socket
    plug = start_web_plug(make_plug)
    assert put(plug, "a.txt", "old").status == 200
    slow = socket.create_connection(("127.0.0.1", plug.port), timeout=5)
    slow.sendall(b"PUT /api/files/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n" + b"n" * 100)
    # once the server has begun the slow upload (polled: a loaded host may
    # take a while to read its head), another is refused while it lasts
    def refused():
        r = put(plug, "b.txt", "other")
        return r if r.status == 409 else None
    r = wait_until(refused, timeout=10, what="a second upload to be refused")
    assert "another file is being written" in r.json()["error"], r
    slow.close()  # the client goes away mid-body
    plug.wait_log(r"FILE: upload aborted: the previous version stays", timeout=15)
    assert get_bytes(plug, "a.txt") == (200, b"old")
    assert put(plug, "b.txt", "other").status == 200
