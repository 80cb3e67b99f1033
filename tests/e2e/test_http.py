"""The web server through real clients (curl, raw sockets): Tasmota's /cm,
the REST API, keep-alive, a full pool, bad requests of every kind, and the
plug keeps switching through all of it."""
import json
import socket

import pytest

from weblib import curl, raw_request, read_all, read_response, relay_level, start_web_plug, status_line, wait_until


@pytest.fixture
def web(make_plug):
    return start_web_plug(make_plug)


def test_cm_power_round_trip_switches_the_relay(web):
    assert curl(web.base + "/cm?cmnd=Power%20On").json() == {"POWER": "ON"}
    assert relay_level(web) == 1
    r = curl(web.base + "/cm?cmnd=Power%20Toggle")
    assert r.status == 200 and r.json() == {"POWER": "OFF"}
    assert r.headers["content-type"] == "application/json"
    assert relay_level(web) == 0
    assert web.cmd("Power") == {"POWER": "OFF"}  # the console agrees
    web.wait_log(r"PWR: channel 1 OFF \(web\)")


def test_cm_backlog_merges_replies(web):
    r = curl(web.base + "/cm?cmnd=Backlog%20Power%20on%3B%20Status%2011").json()
    assert r["POWER"] == "ON" and r["StatusSTS"]["POWER"] == "ON"
    assert relay_level(web) == 1


def test_cm_long_backlog_streams_every_reply(web):
    """Six Status 0 replies (about 5 KiB) do not fit any buffer of the
    server: each command's reply goes out as its own chunk."""
    r = curl(web.base + "/cm?cmnd=Backlog%20" + "%3B".join(["Status%200"] * 6) + "%3BPower%20On")
    assert r.status == 200 and r.headers["transfer-encoding"] == "chunked"
    assert len(r.body) > 4096
    assert r.body.count('"StatusFWR":') == 6
    assert r.body.endswith('"POWER":"ON"}')
    pairs = json.loads(r.body, object_pairs_hook=lambda kv: kv)  # duplicate keys, as Tasmota's
    assert [k for k, _ in pairs].count("StatusSTS") == 6
    assert relay_level(web) == 1
    r = curl(web.base + "/api/command", data={"cmnd": "Backlog Power off; Status 0; Power"})
    assert r.body.endswith('"POWER":"OFF"}') and '"StatusSNS"' in r.body


def test_cm_unknown_and_bad_commands(web):
    assert curl(web.base + "/cm?cmnd=Frobnicate").json() == {"Command": "Unknown"}
    r = curl(web.base + "/cm?cmnd=Power%20maybe").json()
    assert r["Command"] == "Error"
    r = curl(web.base + "/cm")
    assert r.status == 400 and "cmnd" in r.json()["error"]
    r = curl(web.base + "/cm?cmnd=Power%2")
    assert r.status == 400


def test_api_state_and_power(web):
    state = curl(web.base + "/api/state").json()
    assert state["device_name"] == "OpenPlug"
    assert state["relays"] == [{"channel": 1, "on": False}]
    assert set(state["energy"]) >= {"valid", "today_kwh", "total_kwh"}
    assert state["wifi"]["ap_name"].startswith("OpenPlug-")
    r = curl(web.base + "/api/power", data={"channel": 1, "state": "on"})
    assert r.status == 200 and r.json() == {"relays": [{"channel": 1, "on": True}]}
    assert relay_level(web) == 1
    assert curl(web.base + "/api/state").json()["relays"][0]["on"] is True
    r = curl(web.base + "/api/power", data={"channel": 9, "state": "on"})
    assert r.status == 400
    r = curl(web.base + "/api/power", data="{not json")
    assert r.status == 400 and relay_level(web) == 1


def test_state_changes_only_by_post(web):
    r = curl(web.base + "/api/power")
    assert r.status == 405 and "POST" in r.headers["allow"]
    r = curl(web.base + "/api/state", method="POST", data="{}")
    assert r.status == 405 and "GET" in r.headers["allow"]


def test_api_command_runs_the_console(web):
    r = curl(web.base + "/api/command", data={"cmnd": "DeviceName Kitchen"})
    assert r.json() == {"DeviceName": "Kitchen"}
    assert curl(web.base + "/api/state").json()["device_name"] == "Kitchen"


def test_cross_site_post_is_refused(web):
    for header in ("Origin: http://evil.example", "Referer: http://evil.example/page",
                   "Sec-Fetch-Site: cross-site", "Origin: null"):
        r = curl(web.base + "/api/power", data={"state": "on"}, headers=[header])
        assert r.status == 403, header
    r = curl(web.base + "/cm?cmnd=Power%20On", headers=["Sec-Fetch-Site: cross-site"])
    assert r.status == 403
    assert relay_level(web) == 0
    same = "Origin: http://127.0.0.1:%d" % web.port
    r = curl(web.base + "/api/power", data={"state": "on"}, headers=[same, "Sec-Fetch-Site: same-origin"])
    assert r.status == 200 and relay_level(web) == 1


def test_keep_alive_serves_many_requests_on_one_connection(web):
    s = socket.create_connection(("127.0.0.1", web.port), timeout=5)
    try:
        for i in range(20):
            s.sendall(b"GET /cm?cmnd=Power%20Toggle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, headers, body = read_response(s)
            assert status == 200 and "connection" not in headers
            assert json.loads(body) == {"POWER": "ON" if i % 2 == 0 else "OFF"}
        # two pipelined requests in one segment
        s.sendall(b"GET /cm?cmnd=Power%20On HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                  b"GET /cm?cmnd=Power HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert json.loads(read_response(s)[2]) == {"POWER": "ON"}
        assert json.loads(read_response(s)[2]) == {"POWER": "ON"}
    finally:
        s.close()


def test_http10_and_connection_close_close(web):
    raw = raw_request(web.port, b"GET /api/state HTTP/1.0\r\n\r\n")
    assert status_line(raw) == 200 and b"Connection: close" in raw
    raw = raw_request(web.port, b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_line(raw) == 200 and b"Connection: close" in raw


@pytest.mark.parametrize("request_bytes,status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
    (b"BREW /pot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 501),
    (b"GET /api/state HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
    (b"GET /../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /a%00b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /a\\..\\b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n folded: yes\r\n\r\n", 400),
    (b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: 1\r\n\r\n", 400),
    (b"POST /api/power HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
    (b"POST /api/power HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST /api/power HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
    (b"POST /api/power HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 404),
])
def test_malformed_requests_get_the_right_status(web, request_bytes, status):
    raw = raw_request(web.port, request_bytes)
    assert status_line(raw) == status, raw
    assert b'{"error":' in raw
    assert curl(web.base + "/cm?cmnd=Power%20Toggle").json() == {"POWER": "ON"}  # still serving and switching


def test_oversized_request_line_headers_and_body(web):
    raw = raw_request(web.port, b"GET /" + b"a" * 3700 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_line(raw) == 414
    raw = raw_request(web.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Big: " + b"b" * 4200 + b"\r\n\r\n")
    assert status_line(raw) == 431
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(30))
    raw = raw_request(web.port, b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
    assert status_line(raw) == 431
    r = curl(web.base + "/api/command", data=json.dumps({"cmnd": "x" * 4000}))
    assert r.status == 413
    raw = raw_request(web.port, b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n0123456789")
    assert status_line(raw) == 413
    assert curl(web.base + "/cm?cmnd=Power%20On").json() == {"POWER": "ON"}
    assert relay_level(web) == 1


def test_full_pool_client_waits_in_the_backlog_and_the_plug_keeps_switching(web):
    def sockets():
        return web.cmd("Status 11")["StatusSTS"]["Sockets"]
    # the web server's listening socket alone, once the boot's transient
    # sockets are gone (a baseline taken with one of them never reaches +4)
    wait_until(lambda: sockets() == 1, timeout=20, what="the listening socket alone")
    in_use = 1
    # four clients each in the middle of a request hold the whole pool
    holders = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        s.sendall(b"GET /api/state HTTP/1.1\r\nHo")
        holders.append(s)
    # the server has taken the four (its own count, which other sockets may
    # join: at least), rather than a fixed sleep
    wait_until(lambda: sockets() >= in_use + 4, timeout=10, what="the server to take the four holders")

    def dropped(s):
        """Closed by the server: end of stream (or a reset)."""
        s.settimeout(20)
        try:
            return s.recv(1) == b""
        except OSError:
            return True
    # a fifth client is not turned away: it waits in the listen backlog until
    # a holder has been slow for HTTP_SLOW_RECLAIM_MS (2 s) and loses its
    # slot to it; the slowest (the first) goes
    raw = raw_request(web.port, b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=20)
    assert status_line(raw) == 200, raw[:200]
    assert dropped(holders[0])
    # the console and the button still switch
    assert web.cmd("Power on") == {"POWER": "ON"}
    web.press(17)
    wait_until(lambda: relay_level(web) == 0, timeout=10, what="the button to switch the relay off")
    for s in holders:
        s.close()
    assert curl(web.base + "/cm?cmnd=Power%20On").json() == {"POWER": "ON"}


def test_idle_keep_alive_connections_make_room_for_new_clients(web):
    idle = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", web.port), timeout=5)
        s.sendall(b"GET /api/sensors HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(s)[0] == 200
        idle.append(s)
    assert curl(web.base + "/cm?cmnd=Power%20On").json() == {"POWER": "ON"}
    for s in idle:
        s.close()
