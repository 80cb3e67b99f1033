"""Time: the SNTP client against a real chrony (Debian's chronyd on
127.0.0.1 at a free port, its own config in a temp dir, never touching the
system clock: -x and a local reference), time zones and DST rules (POSIX
and Tasmota's TimeStd/TimeDst) checked against Python's reading of the same
rules, and energy days that clock jumps (first sync, DST ending across
midnight, steps back and forward) neither count twice nor skip
(virtual time, commands typed at device times with --at)."""
import calendar
import os
import shutil
import socket
import subprocess
import time

import pytest

from simlib import run_sim

CHRONYD = shutil.which("chronyd") or "/usr/sbin/chronyd"


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ntp_answers(port, timeout=5):
    """True once the server at port answers an NTP client request."""
    deadline = time.monotonic() + timeout
    request = bytes([0x23]) + bytes(47)
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(request, ("127.0.0.1", port))
                if len(s.recvfrom(128)[0]) >= 48:
                    return True
            except OSError:
                time.sleep(0.1)
    return False


@pytest.fixture
def chrony(tmp_path):
    """chronyd serving NTP on 127.0.0.1:<port>; yields the port."""
    if not os.access(CHRONYD, os.X_OK):
        pytest.fail("chronyd is not installed (Debian package chrony)")
    port = free_udp_port()
    conf = tmp_path / "chrony.conf"
    conf.write_text("port %d\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\ncmdport 0\n"
                    "pidfile %s\ndriftfile %s\n" % (port, tmp_path / "chronyd.pid", tmp_path / "drift"))
    proc = subprocess.Popen([CHRONYD, "-x", "-d", "-f", str(conf)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        assert ntp_answers(port), "chronyd did not answer: %s" % proc.stdout.read1(4096) if proc.poll() else ""
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def local_now(rule):
    """(ISO local time, UTC offset in s, DST flag) by glibc for a POSIX rule."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = rule
    time.tzset()
    try:
        now = time.time()
        lt = time.localtime(now)
        return now, lt.tm_gmtoff, lt.tm_isdst
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def host_time_around(read):
    """(host time before, read(), host time after).  A plug synced from the
    local chronyd reads the host's clock: its whole seconds lie between
    these two, give or take a second (truncation and the sync's error),
    however long a loaded host takes to answer — unlike a comparison with
    the host's time taken once, afterwards."""
    before = time.time()
    value = read()
    return before, value, time.time()


def assert_reads_host_time(read):
    before, epoch, after = host_time_around(read)
    assert before - 1 <= epoch <= after + 1, (before, epoch, after)


def synced_plug(make_plug, port):
    plug = make_plug()
    mark = plug.mark()
    assert plug.cmd("NtpServer1 127.0.0.1:%d" % port) == {"NtpServer1": "127.0.0.1:%d" % port}
    plug.wait_log(r"NTP: time from 127\.0\.0\.1:%d \(stratum 8\)" % port, since=mark, timeout=10)
    return plug


def test_ntp_sets_the_clock(make_plug, chrony):
    plug = synced_plug(make_plug, chrony)
    assert_reads_host_time(lambda: plug.cmd("Time")["Epoch"])
    tim = plug.cmd("Status 7")["StatusTIM"]
    assert tim["ClockSource"] == "ntp" and tim["Timezone"] == "+00:00" and tim["UTC"] == tim["Local"]
    assert plug.cmd("Status 11")["StatusSTS"]["Sockets"] <= 21


@pytest.mark.parametrize("rule", ["CET-1CEST,M3.5.0,M10.5.0/3", "AEST-10AEDT,M10.1.0,M4.1.0/3",
                                  "<+0530>-5:30", "EST5EDT,M3.2.0,M11.1.0"])
def test_timezone_and_dst_are_applied(make_plug, chrony, rule):
    plug = synced_plug(make_plug, chrony)
    reply = plug.cmd("Timezone " + rule)
    assert reply["TZ"] == rule
    tim = {}

    def utc_now():
        tim.update(plug.cmd("Status 7")["StatusTIM"])
        return calendar.timegm(time.strptime(tim["UTC"], "%Y-%m-%dT%H:%M:%S"))
    assert_reads_host_time(utc_now)
    _, offset, dst = local_now(rule)
    local = calendar.timegm(time.strptime(tim["Local"], "%Y-%m-%dT%H:%M:%S"))
    assert local - calendar.timegm(time.strptime(tim["UTC"], "%Y-%m-%dT%H:%M:%S")) == offset, (tim, offset)
    assert tim.get("DST", 0) == dst
    assert plug.cmd("Timezone")["Timezone"] == (99 if "," in rule else reply["Timezone"])


def test_time_set_by_hand_pauses_ntp_and_time_0_resyncs(make_plug, chrony):
    plug = synced_plug(make_plug, chrony)
    mark = plug.mark()
    set_from, reply, set_by = host_time_around(lambda: plug.cmd("Time 1790000000"))
    assert reply == {"Time": "2026-09-21T14:13:20", "Epoch": 1790000000}
    assert plug.cmd("Status 7")["StatusTIM"]["ClockSource"] == "console"
    # a new server would be tried at once, but not while the clock is set by hand
    assert plug.cmd("NtpServer2 127.0.0.1:%d" % chrony)["NtpServer2"] == "127.0.0.1:%d" % chrony
    time.sleep(1)
    assert not plug.log_lines(r"NTP: time from", since=mark)
    plug.cmd("Time 0")
    m = plug.wait_log(r"NTP: time from 127\.0\.0\.1:%d \(stratum 8\), off by (-?\d+) ms" % chrony, since=mark,
                      timeout=10)
    # the step put it right: it was off by the host's time when it was set by hand
    assert set_from - 1790000000 - 1 <= int(m.group(1)) / 1000 <= set_by - 1790000000 + 1, (set_from, m.group(0))
    assert_reads_host_time(lambda: plug.cmd("Time")["Epoch"])
    assert plug.cmd("Status 7")["StatusTIM"]["ClockSource"] == "ntp"


def test_unreachable_servers_fail_over_and_retry(make_plug, chrony):
    dead = free_udp_port()  # nobody listens there
    plug = make_plug()
    # the round at boot (on the default pool servers) is over
    plug.wait_log(r"NTP: (no server answered|time from)", timeout=20)
    mark = plug.mark()
    # one Backlog: the round that the first change starts sees all three
    replies = plug.replies("Backlog NtpServer1 127.0.0.1:%d; NtpServer2 no-such-host.invalid; "
                           "NtpServer3 127.0.0.1:%d" % (dead, chrony), 3)
    assert replies[0] == {"NtpServer1": "127.0.0.1:%d" % dead}
    assert plug.cmd("Power") == {"POWER": "OFF"}  # served while the request is out
    plug.wait_log(r"NTP: time from 127\.0\.0\.1:%d" % chrony, since=mark, timeout=30)
    # the round never held the loop up: the firmware's own worst loop lag of
    # the last minute, in device time (waiting in the loop for the dead
    # server's reply would show as its whole 2 s, the lookup's as up to 5 s)
    lag = plug.cmd("Status 11")["StatusSTS"]["LoopLag"]
    assert lag < 1000, "the loop stalled for %d ms during the round" % lag
    assert plug.log_lines(r"NTP: 127\.0\.0\.1:%d: no reply" % dead, since=mark)
    assert plug.log_lines(r"NTP: no-such-host\.invalid:123: (no such host|name lookup timed out)", since=mark)


def test_ntp_server_commands(plug):
    assert plug.cmd("NtpServer1") == {"NtpServer1": "0.pool.ntp.org"}
    assert plug.cmd("NtpServer3") == {"NtpServer3": "2.pool.ntp.org"}
    for bad in ("host:0", "host:65536", "bad host", "-x", "a:b", "h:123x", "x" * 65):
        reply = plug.cmd("NtpServer2 " + bad)
        assert reply["Command"] == "Error", (bad, reply)
    assert plug.cmd("NtpServer2") == {"NtpServer2": "1.pool.ntp.org"}  # unchanged
    assert plug.cmd("NtpServer4 x")["Command"] in ("Error", "Unknown")
    assert plug.cmd("NtpServer2 0") == {"NtpServer2": ""}
    assert plug.cmd("NtpServer2 1") == {"NtpServer2": "1.pool.ntp.org"}
    assert plug.cmd("NtpServer time.example:1123") == {"NtpServer1": "time.example:1123"}


def test_tasmota_timestd_timedst(plug):
    assert plug.cmd("TimeStd")["Command"] == "Error"  # UTC has no DST rule yet
    assert plug.cmd("Timezone 99") == {"Timezone": 99, "TZ": "STD-1DST,M3.5.0,M10.5.0/3"}
    assert plug.cmd("TimeDst") == {"TimeDst": {"Hemisphere": 0, "Week": 0, "Month": 3, "Day": 1, "Hour": 2,
                                               "Offset": 120}}
    assert plug.cmd("TimeDst 1,1,10,1,2,660")["TimeDst"]["Offset"] == 660
    assert plug.cmd("TimeStd 1,1,4,1,3,600")["TimeStd"] == {"Hemisphere": 1, "Week": 1, "Month": 4, "Day": 1,
                                                            "Hour": 3, "Offset": 600}
    assert plug.cmd("Timezone")["TZ"] == "STD-10DST,M10.1.0,M4.1.0/3"  # Sydney, in Tasmota's words
    for bad in ("0,0,13,1,2,60", "0,5,3,1,2,60", "0,0,3,0,2,60", "0,0,3,1,24,60", "0,0,3,1,2,781", "1,2,3",
                "0,0,3,1,2,60,7", "a,b,c,d,e,f"):
        assert plug.cmd("TimeDst " + bad)["Command"] == "Error", bad
    assert plug.cmd("Timezone")["TZ"] == "STD-10DST,M10.1.0,M4.1.0/3"  # unchanged
    assert plug.cmd("Timezone +05:30") == {"Timezone": "+05:30", "TZ": "<+0530>-5:30"}
    assert plug.cmd("Timezone -3") == {"Timezone": "-03:00", "TZ": "<-0300>3"}
    for bad in ("+15", "-14", "5:60", "CET", "CET-1CEST,M3.5.0", "99:00"):
        assert plug.cmd("Timezone " + bad)["Command"] == "Error", bad
    assert plug.cmd("Timezone 0") == {"Timezone": "+00:00", "TZ": "UTC0"}


# ---- Energy days across clock jumps (virtual time) ----

def energy_at(result):
    """The ENERGY of every Status 8 reply, in order."""
    return [r["StatusSNS"]["ENERGY"] for r in result.replies if "StatusSNS" in r]


def kwh(wh):
    return round(wh / 1000, 3)


def close(measured, expected, tolerance=0.002):
    """kWh with three decimals, within a pulse or two and the rounding."""
    return abs(measured - expected) <= tolerance


def test_energy_days_across_first_sync_and_clock_steps(tmp_path):
    """1000 W from t=0 with the clock unknown; first sync at 60 s to 23:59:00
    UTC; midnight at 120 s; stepped back 30 s over midnight at 200 s (the
    repeated midnight at 230 s must not roll over again); 3 days forward at
    310 s (Yesterday empty); 33 days back at 410 s (the next midnight rolls)."""
    at = ["--at", "59 Status 8", "--at", "60 Time 1790121540", "--at", "119 Status 8", "--at", "121 Status 8",
          "--at", "200 Time 1790121570", "--at", "300 Status 8", "--at", "310 Time 1790424000",
          "--at", "400 Status 8", "--at", "410 Time 1787227200", "--at", "420 Status 8"]
    result = run_sim(tmp_path / "flash.bin", "--load", "1000W", *at, duration=421, exec_="Power on", timeout=120)
    assert result.returncode == 0, result
    e = energy_at(result)
    assert len(e) == 6, result
    # before the sync: all in Today, no day yet
    assert close(e[0]["Today"], kwh(59 * 1000 / 3600)) and e[0]["Yesterday"] == 0
    # at 23:59:59 the day is the synced one: nothing moved
    assert close(e[1]["Today"], kwh(119 * 1000 / 3600)) and e[1]["Yesterday"] == 0
    # one second past midnight: the whole first 120 s are Yesterday
    assert close(e[2]["Yesterday"], kwh(120 * 1000 / 3600)) and e[2]["Today"] <= 0.001
    # stepped back over midnight: no second rollover, nothing counted twice
    assert e[3]["Yesterday"] == e[2]["Yesterday"]
    assert close(e[3]["Today"], kwh(180 * 1000 / 3600))
    assert close(e[3]["Total"], kwh(300 * 1000 / 3600))
    # three days forward: Yesterday had nothing, Today starts again
    assert e[4]["Yesterday"] == 0 and close(e[4]["Today"], kwh(90 * 1000 / 3600))
    # Total counts every second exactly once, whatever the clock did
    assert close(e[4]["Total"], kwh(400 * 1000 / 3600))
    assert close(e[5]["Total"], kwh(420 * 1000 / 3600))
    # 33 days back: Today keeps counting (no rollover into Yesterday)
    assert close(e[5]["Today"], kwh(110 * 1000 / 3600)) and e[5]["Yesterday"] == 0
    totals = [x["Total"] for x in e]
    assert totals == sorted(totals)


def test_energy_day_when_dst_ends_across_midnight(tmp_path):
    """A rule whose DST ends at 00:30: local time goes 00:29:59 (25 Oct) ->
    23:30:00 (24 Oct) and passes midnight twice; only the first rolls over."""
    rule = "AAA-1BBB-2,M3.5.0,M10.5.0/0:30"
    at = ["--at", "599 Status 8", "--at", "601 Status 8", "--at", "2399 Status 7", "--at", "2401 Status 7",
          "--at", "4199 Status 8", "--at", "4201 Status 8", "--at", "6000 Status 8"]
    result = run_sim(tmp_path / "flash.bin", "--load", "1000W", *at, duration=6001,
                     exec_="Timezone %s; Time 1792878600; Power on" % rule, timeout=180)  # 23:50 local (DST)
    assert result.returncode == 0, result
    e = energy_at(result)
    tim = [r["StatusTIM"] for r in result.replies if "StatusTIM" in r]
    assert [t["Local"] for t in tim] == ["2026-10-25T00:29:59", "2026-10-24T23:30:01"]
    assert [t["DST"] for t in tim] == [1, 0]
    assert (tim[0]["StartDST"], tim[0]["EndDST"]) == ("2026-03-29T02:00:00", "2026-10-25T00:30:00")
    assert result.logs(r"TIM: daylight saving time ends")
    ten_minutes = kwh(600 * 1000 / 3600)
    assert e[0]["Yesterday"] == 0 and close(e[1]["Yesterday"], ten_minutes)  # the first midnight rolled over
    assert e[2]["Yesterday"] == e[1]["Yesterday"] == e[3]["Yesterday"]  # the repeated midnight did not roll
    assert close(e[3]["Today"], kwh(3601 * 1000 / 3600))
    assert close(e[4]["Total"], kwh(6000 * 1000 / 3600))
    assert close(e[4]["Total"], e[4]["Today"] + e[4]["Yesterday"])  # every second counted once


def test_ntp_syncs_again_when_wifi_comes_back(make_plug, chrony):
    plug = make_plug(None, "--wifi", "Home:correct-horse")
    mark = plug.mark()
    plug.replies("Backlog SSId1 Home; Password1 correct-horse; NtpServer1 127.0.0.1:%d" % chrony, 3)
    plug.wait_log(r"WIF: Wi-Fi connected", since=mark, timeout=10)
    joined = [i for i, line in enumerate(plug.lines) if "WIF: Wi-Fi connected" in line][-1]
    plug.wait_log(r"NTP: time from 127\.0\.0\.1:%d" % chrony, since=joined, timeout=10)  # network up: a sync
    time.sleep(0.3)
    mark = plug.mark()
    assert plug.world("wifi down") == "ok wifi down"
    plug.wait_log(r"WIF: Wi-Fi (connecting|off|lost)", since=mark, timeout=10)
    time.sleep(0.5)
    assert not plug.log_lines(r"NTP: time from", since=mark)  # nothing new until the link is back
    assert plug.world("wifi up") == "ok wifi up"
    up = plug.wait_log(r"WIF: Wi-Fi connected", since=mark, timeout=20)
    assert up
    plug.wait_log(r"NTP: time from 127\.0\.0\.1:%d \(stratum 8\), off by -?\d+ ms" % chrony, since=mark, timeout=10)
