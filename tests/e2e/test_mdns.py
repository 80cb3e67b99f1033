"""mDNS (startDriver MDNS) seen by avahi's own tools, as a Linux desktop
would see the plug: avahi-daemon (with a private D-Bus) in a network
namespace this test makes (loopback up with multicast and a route for
224.0.0.0/4), the simulator inside it; avahi-browse finds the web UI as an
_http._tcp service named after DeviceName and resolves it to
<host>.local, port and TXT path=/; avahi-resolve gives the host's address;
a planned restart says goodbye.  Needs root (network namespaces) and
avahi-utils + avahi-daemon: skipped with that reason otherwise."""
import os
import shutil
import signal
import subprocess
import time

import pytest

import simlib

WIFI = ("--wifi", "Home:correct-horse")
JOIN = "SSId1 Home; Password1 correct-horse; startDriver MDNS"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("avahi-browse")
    or not shutil.which("avahi-daemon") or not shutil.which("dbus-daemon"),
    reason="needs root (ip netns), iproute2, avahi-utils, avahi-daemon and dbus-daemon")

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
"""
AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
ratelimit-interval-usec=0
[publish]
disable-publishing=yes
"""


@pytest.fixture
def avahi(sockdir, monkeypatch):
    """(namespace, environment for avahi's tools): a namespace with avahi-daemon
    on its loopback, OPENPLUG_SIM pointed at a wrapper that runs the
    simulator inside it."""
    name = "openplug-mdns-%d" % os.getpid()
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    for cmd in (["ip", "netns", "add", name],
                ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
                ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "multicast", "on"],
                ["ip", "netns", "exec", name, "ip", "route", "add", "224.0.0.0/4", "dev", "lo"]):
        subprocess.run(cmd, check=True, capture_output=True, timeout=10)
    bus = os.path.join(sockdir, "bus")
    with open(os.path.join(sockdir, "bus.conf"), "w") as f:
        f.write(BUS_CONF % bus)
    with open(os.path.join(sockdir, "avahi.conf"), "w") as f:
        f.write(AVAHI_CONF)
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + bus)
    dbus = subprocess.Popen(["dbus-daemon", "--nofork", "--config-file=" + os.path.join(sockdir, "bus.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    simlib.wait_until(lambda: os.path.exists(bus), what="the private D-Bus")
    # A private /run/avahi-daemon (its pid file): another test run's daemon
    # on the same machine does not stop this one from starting.
    private_run = "mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon \"$@\""
    daemon = subprocess.Popen(["ip", "netns", "exec", name, "unshare", "--mount", "--propagation", "private",
                               "sh", "-c", private_run, "avahi-daemon", "-f", os.path.join(sockdir, "avahi.conf"),
                               "--no-drop-root", "--no-chroot", "--no-rlimits"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in daemon.stdout:
            if "Server startup complete" in line:
                break
        else:
            pytest.fail("avahi-daemon did not start")
        wrapper = os.path.join(sockdir, "sim-in-netns")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (name, simlib.sim_path()))
        os.chmod(wrapper, 0o755)
        monkeypatch.setenv(simlib.SIM_ENV, wrapper)
        yield name, env
    finally:
        for proc in (daemon, dbus):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def in_ns(avahi, *cmd, timeout=20):
    ns, env = avahi
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd), capture_output=True, text=True,
                          timeout=timeout, env=env).stdout


def browse(avahi):
    """avahi-browse's resolved _http._tcp services: (name, host, address, port, txt)."""
    out = in_ns(avahi, "avahi-browse", "-rtp", "_http._tcp")
    return {tuple(line.split(";")[3:4] + line.split(";")[6:10])
            for line in out.splitlines() if line.startswith("=")}


def test_avahi_browses_and_resolves_the_plug(avahi, make_plug):
    plug = make_plug(None, "--http", "0", *WIFI, "--exec", JOIN + "; DeviceName Kitchen Plug")
    m = plug.wait_log(r"MDNS: (openplug-[0-9a-f]{6})\.local and _http\._tcp \"Kitchen Plug\" on port (\d+) announced",
                      timeout=10)
    host, port = m.group(1), m.group(2)
    found = simlib.wait_until(lambda: browse(avahi), timeout=15, what="the service")
    assert found == {("Kitchen\\032Plug", host + ".local", "127.0.0.1", port, '"path=/"')}, found
    resolved = in_ns(avahi, "avahi-resolve", "-4", "-n", host + ".local")
    assert resolved.split() == [host + ".local", "127.0.0.1"], resolved
    # A name in another case is the same name (DNS compares without case).
    assert in_ns(avahi, "avahi-resolve", "-4", "-n", host.upper() + ".local").split()[1:] == ["127.0.0.1"]
    # Nothing for a name that is not the plug's.
    assert in_ns(avahi, "avahi-resolve", "-4", "-n", "someone-else.local", timeout=30).strip() == ""


def test_a_renamed_plug_is_found_under_its_new_name(avahi, make_plug):
    plug = make_plug(None, "--http", "0", *WIFI, "--exec", JOIN)
    plug.wait_log(r"MDNS: .* announced", timeout=10)
    plug.cmd("DeviceName Hall")
    found = simlib.wait_until(lambda: [s for s in browse(avahi) if s[0] == "Hall"], timeout=15,
                              what="the service under its new name")
    assert found[0][1].startswith("openplug-")
