"""What a newcomer meets with `make run` (issue 15): the web UI on a port
that is free (the next one when the asked one is taken, said plainly),
the time from the simulated world's own NTP server (--date: the host's
clock or a chosen date; the firmware's NTP client is the real one and
looks up its default servers, which the world's name service answers),
and an update image of the simulator's own firmware in one command
(`make ota-image`) that the plug takes and runs.
"""
import json
import os
import re
import socket
import subprocess
import time

import otalib
from simlib import run_sim, free_port
from weblib import curl, start_web_plug

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_a_taken_port_moves_to_the_next_free_one_and_says_so(make_plug):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    try:
        plug = make_plug(None, "--http", str(taken), "--http-next-free")
        m = plug.wait_log(r"HTTP: web server on http://127\.0\.0\.1:(\d+)/", since=plug.boot_mark)
        port = int(m.group(1))
        assert port != taken and taken < port < taken + 50
        line = plug.wait_stderr(r"port %d is taken by another program: the web UI is on "
                                r"http://127\.0\.0\.1:%d/ instead" % (taken, port))
        assert line
        assert curl("http://127.0.0.1:%d/cm?cmnd=Power" % port).json() == {"POWER": "OFF"}
        # A restart keeps the port the user has open, even once the first is free.
        holder.close()
        mark = plug.mark()
        plug.cmd("Restart 1")
        m = plug.wait_log(r"HTTP: web server on http://127\.0\.0\.1:(\d+)/", since=mark, timeout=10)
        assert int(m.group(1)) == port
    finally:
        holder.close()


def test_a_free_port_is_used_as_asked(make_plug):
    port = free_port()
    plug = make_plug(None, "--http", str(port), "--http-next-free")
    plug.wait_log(r"HTTP: web server on http://127\.0\.0\.1:%d/" % port, since=plug.boot_mark)
    assert not any("is taken" in line for line in plug.stderr_lines)


def test_the_world_answers_ntp_with_the_chosen_date(tmp_path):
    # 2026-06-21 12:00 UTC; the default NtpServer1 (0.pool.ntp.org) is the world's.
    # The clock read an hour later: the world's time has run with device time.
    r = run_sim(tmp_path / "f.bin", "--date", "2026-06-21T12:00", "--at", "3600 Time", duration=3601)
    assert r.logs(r"NTP: time from 0\.pool\.ntp\.org:123 \(stratum 1\)"), r
    assert not r.logs("no such host")
    times = [x for x in r.replies if "Epoch" in x]
    assert times and times[-1]["Epoch"] == 1782043200 + 3600, r


def test_without_date_the_world_has_no_time_server(tmp_path):
    r = run_sim(tmp_path / "f.bin", duration=30)
    assert not r.logs(r"NTP: time from"), r


def test_date_is_checked(tmp_path):
    r = run_sim(tmp_path / "f.bin", "--date", "yesterday", duration=1)
    assert r.returncode == 2 and "--date takes now" in r.stderr


def test_make_ota_image_is_an_update_the_simulator_takes(make_plug, tmp_path):
    build = tmp_path / "b"
    host = os.path.join(ROOT, "build", "host")
    os.makedirs(build / "host")
    for name in ("openplug-sim", "mkota"):
        os.symlink(os.path.join(host, name), build / "host" / name)
    # The target itself, on prebuilt binaries (its "host" prerequisite is the build's own business).
    out = subprocess.run(["make", "-s", "-C", ROOT, "-o", "host", "ota-image", "BUILD=%s" % build],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    image = build / "openplug-sim.ota"
    assert "RAW body" in out.stdout and image.exists()
    port = free_port()
    plug = start_web_plug(make_plug, "--http", str(port))
    mark = plug.mark()
    r = curl(plug.base + "/api/ota", "--data-binary", "@%s" % image, timeout=60)
    assert r.status == 200, r
    plug.wait_log(r"BOOT: OpenPlug", since=mark, timeout=30)
    status = plug.cmd("OtaStatus")
    assert "failed" not in json.dumps(status), status


def test_mkota_refuses_an_image_larger_than_the_slot(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x13" * (900 * 1024))
    r = subprocess.run([otalib.tool("mkota"), "--version", "9", str(big), str(tmp_path / "o.ota")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "larger than the plug's firmware slot" in r.stderr
    assert not (tmp_path / "o.ota").exists()
