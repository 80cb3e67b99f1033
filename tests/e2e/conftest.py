"""Fixtures of the end-to-end suite: the simulator, short temp dirs for
UNIX sockets, and live plugs that are always killed at the end of a test.

The simulator is taken from $OPENPLUG_SIM (set by ctest), else from
build/host/openplug-sim.  Helpers live in simlib.py.
"""
import shutil
import tempfile

import pytest

import simlib


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium at 1280 x 900 (tests/e2e/browser.py), one per module."""
    from browser import Browser
    b = Browser(1280, 900)
    yield b
    b.close()


@pytest.fixture(scope="session")
def sim():
    return simlib.sim_path()


@pytest.fixture
def sockdir():
    """A short directory for UNIX sockets (sun_path is limited to 108 bytes)."""
    path = tempfile.mkdtemp(prefix="op-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_plug(tmp_path, sockdir, sim):
    """make_plug(flash=None, *args, start=True) -> a live Plug in real time.

    Each plug gets its own world socket; a fresh flash image is used unless
    one is given.  Every plug made is killed when the test ends.
    """
    plugs = []

    def make(flash=None, *args, start=True, flash_timing=None):
        n = len(plugs)
        if flash is None:
            flash = tmp_path / ("flash%d.bin" % n)
        plug = simlib.Plug(flash, "%s/w%d" % (sockdir, n), *args, flash_timing=flash_timing)
        plugs.append(plug)
        if start:
            plug.start()
        return plug

    yield make
    for plug in plugs:
        plug.kill()


@pytest.fixture
def plug(make_plug):
    """A live plug on a fresh (blank) flash image, booted."""
    return make_plug()
