"""First boot and Wi-Fi set-up through the simulator's world of networks
(--wifi SSID:PASS, --rssi): the set-up access point of a blank plug, the
set-up form's API with good and bad passwords, Tasmota's SSId/Password
commands, backoff and the fall-back to the access point."""
import re

from simlib import run_sim
from weblib import curl, start_web_plug, wait_until

WORLD = ("--wifi", "Home:correct-horse", "--wifi", "Cafe", "--rssi", "-67")


def wifi(plug):
    return curl(plug.base + "/api/wifi").json()


def test_blank_plug_opens_its_setup_access_point(make_plug):
    plug = start_web_plug(make_plug, *WORLD)
    m = plug.wait_log(r"WIF: Wi-Fi access point (OpenPlug-[0-9A-F]{6}) \(open\)")
    w = wifi(plug)
    assert w["state"] == "access point" and w["ap_open"] is True
    assert w["ap_name"] == m.group(1)
    assert w["saved"] == ["", ""] and w["setup"] is None and w["rssi"] == 0
    assert w["ip"] == "192.168.4.1"
    assert curl(plug.base + "/api/state").json()["wifi"]["state"] == "access point"


def test_setup_with_a_wrong_password_then_the_right_one(make_plug):
    plug = start_web_plug(make_plug, *WORLD)
    r = curl(plug.base + "/api/wifi", data={"ssid": "Home", "password": "correct-horsE"})
    assert r.status == 202 and r.json() == {"state": "connecting", "ssid": "Home"}
    w = wait_until(lambda: (lambda w: w if w["setup"]["state"] != "connecting" else None)(wifi(plug)),
                   timeout=6, what="the join to fail")
    assert w["setup"] == {"ssid": "Home", "state": "failed", "error": "wrong password"}
    assert w["state"] == "access point" and w["ap_open"]  # the owner is not locked out
    assert w["saved"] == ["", ""]  # nothing saved
    assert plug.cmd("SSId1") == {"SSId1": ""}
    r = curl(plug.base + "/api/wifi", data={"ssid": "Nowhere", "password": "whatever1"})
    w = wait_until(lambda: (lambda w: w if w["setup"]["state"] == "failed" else None)(wifi(plug)), timeout=6,
                   what="the join to fail")
    assert w["setup"]["error"] == "network not found"

    curl(plug.base + "/api/wifi", data={"ssid": "Home", "password": "correct-horse"})
    w = wait_until(lambda: (lambda w: w if w["state"] == "connected" and not w["ap_open"] else None)(wifi(plug)),
                   timeout=6, what="the join (and the AP closed)")
    assert w["ssid"] == "Home" and w["rssi"] == -67 and not w["ap_open"]
    assert w["saved"] == ["Home", ""] and w["setup"]["state"] == "connected"
    assert w["ip"] == "127.0.0.1" and w["url"] == plug.base + "/"  # where the owner finds it now
    plug.wait_log(r"WIF: Wi-Fi connected \(RSSI -67 dBm\) to Home")
    assert plug.cmd("SSId1") == {"SSId1": "Home"}
    assert plug.cmd("Password1") == {"Password1": "****"}
    status = plug.cmd("Status 11")["StatusSTS"]["Wifi"]
    assert {k: status[k] for k in ("RSSI", "Signal", "State", "SSId", "LinkCount")} == {
        "RSSI": 66, "Signal": -67, "State": "connected", "SSId": "Home", "LinkCount": 1}
    # the password is in no response and no log line
    assert "correct-horse" not in curl(plug.base + "/api/config").body
    assert not [line for line in plug.lines if "correct-horse" in line]
    # saved: after a restart the plug joins Home by itself
    plug.restart()
    plug.wait_log(r"WIF: Wi-Fi connected \(RSSI -67 dBm\) to Home", since=plug.boot_mark, timeout=6)
    assert not plug.log_lines(r"WIF: Wi-Fi access point", since=plug.boot_mark)


def test_bad_setup_requests(make_plug):
    plug = start_web_plug(make_plug, *WORLD)
    for body in ({"ssid": ""}, {"ssid": "x" * 33, "password": "p"}, {"ssid": "Home", "password": "p" * 65},
                 {"password": "nothing"}):
        r = curl(plug.base + "/api/wifi", data=body)
        assert r.status == 400, body
    assert wifi(plug)["setup"] is None


def test_console_ssid_and_password_join(make_plug):
    plug = start_web_plug(make_plug, *WORLD)
    assert plug.replies("Backlog SSId1 Home; Password1 correct-horse", 2) == [{"SSId1": "Home"},
                                                                               {"Password1": "****"}]
    plug.wait_log(r"WIF: Wi-Fi connected \(RSSI -67 dBm\) to Home", timeout=6)
    assert plug.cmd("SSId2 Cafe") == {"SSId2": "Cafe"}  # an open network, joined next
    plug.wait_log(r"WIF: Wi-Fi connected \(RSSI -67 dBm\) to Cafe", timeout=6)
    assert plug.cmd("SSId3 x")["Command"] == "Error"
    assert plug.cmd("SSId1 " + "x" * 33)["Command"] == "Error"


def test_repeated_failures_back_off_and_open_the_access_point(tmp_path):
    """A saved network whose password changed: retries with growing waits,
    the set-up AP after three rounds, and retries go on beside it."""
    flash = tmp_path / "flash.bin"
    first = run_sim(flash, "--wifi", "Home:old-password", "--http", "0", duration=5,
                    exec_="SSId1 Home; Password1 old-password")
    assert first.logs(r"WIF: Wi-Fi connected .* to Home"), first.lines
    # the router's password was changed since
    result = run_sim(flash, *WORLD, "--http", "0", duration=150)
    assert result.returncode == 0, result
    assert result.logs(r"WIF: Wi-Fi connecting")
    fails = result.logs(r"WIF: joining Home failed: wrong password")
    assert len(fails) >= 5, result.lines
    waits = [int(m) for m in re.findall(r"next attempt in (\d+) s", result.stdout)]
    assert waits[:5] == [5, 10, 20, 40, 60], waits
    ap = result.logs(r"no saved network joined in 3 rounds: opening the set-up access point")
    assert len(ap) == 1
    assert result.logs(r"WIF: Wi-Fi access point")  # announced
    # the third failure opened it
    assert result.lines.index(ap[0]) > result.lines.index(fails[2])


def test_bad_wifi_options_are_refused(tmp_path):
    for args in (["--wifi", ":pw"], ["--wifi", "Home:short"], ["--rssi", "5"], ["--rssi", "x"]):
        result = run_sim(tmp_path / "f.bin", *args, duration=1)
        assert result.returncode == 2, (args, result)


def test_lost_link_is_joined_again(make_plug):
    plug = start_web_plug(make_plug, *WORLD)
    plug.replies("Backlog SSId1 Home; Password1 correct-horse", 2)
    plug.wait_log(r"WIF: Wi-Fi connected \(RSSI -67 dBm\) to Home", timeout=6)
    mark = plug.mark()
    assert plug.world("wifi down") == "ok wifi down"
    plug.wait_log(r"WIF: link lost: joining again", since=mark, timeout=4)
    plug.wait_log(r"WIF: joining Home failed: network not found", since=mark, timeout=6)
    assert wifi(plug)["state"] != "connected" and wifi(plug)["last_error"] == "network not found"
    assert plug.world("wifi up") == "ok wifi up"
    plug.wait_log(r"WIF: Wi-Fi connected \(RSSI -67 dBm\) to Home", since=mark, timeout=12)
    w = wifi(plug)
    assert w["state"] == "connected" and w["last_error"] == "" and not w["ap_open"]
