"""A fleet of 10 plugs on one mosquitto (processes on the loopback; 100 in
bench/fleet.py): every plug discovered by HA's rules in both discovery
kinds, switched between them and on and off by one message on the group
topic, and back with its subscriptions after the broker restarts, each
after a back-off of its own (no thundering herd)."""
import re

import pytest

from fleetlib import Fleet, spread
from mqttlib import HA, Broker
from simlib import RELAY_GPIO, free_port, log_seconds, run_sim

SIZE = 10


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def fleet(tmp_path, sockdir, broker):
    f = Fleet(tmp_path, sockdir, broker, SIZE)
    try:
        yield f.start()
    finally:
        f.stop()


def test_fleet_discovery_group_topic_and_broker_restart(fleet, broker):
    ha = HA(broker.port)
    try:
        fleet.connect()  # SetOption19 0, the default: Tasmota discovery
        found = fleet.wait_tasmota_discovery()
        assert set(found) == set(fleet.topics)
        assert all(config["t"] == topic for topic, (config, _) in found.items())

        # One message switches every plug to HA's MQTT discovery; the
        # Tasmota configs are cleared (a retained empty message each).
        answers = fleet.group(ha, "SetOption19", "1", "stat/%s/RESULT", '{"SetOption19":"ON"}')
        assert len(answers) == SIZE
        entities = fleet.wait_ha_discovery()
        assert set(entities) == set(fleet.topics)
        assert fleet.tasmota_discovery() == {}
        names = {config["device"]["name"] for plug in entities.values() for config in plug.values()}
        assert names == set(fleet.topics)  # each plug under its own name

        # The group topic switches them all, on and off.
        for payload in ("ON", "OFF"):
            fleet.group(ha, "POWER", payload, "stat/%s/POWER", payload)
            levels = [plug.pins()[RELAY_GPIO]["level"] for plug in fleet.plugs]
            assert levels == [int(payload == "ON")] * SIZE, levels

        # The broker restarts (and forgets everything retained): every plug
        # comes back after a back-off it drew from its own random source,
        # and announces itself again.
        delays, backoffs = fleet.restart_broker()
        first = [chosen[0] for chosen in backoffs]
        # equal jitter after the first failure: 500..1000 ms, each plug its own
        assert all(500 <= ms <= 1000 for ms in first), first
        assert len(set(first)) >= SIZE // 2 and spread(first) >= 150, first
        # reconnected after the chosen back-off (device time, not the test's)
        assert all(delay >= ms / 1000 - 0.01 for delay, ms in zip(delays, first)), (delays, first)
        ha.wait_connected()
        assert set(fleet.wait_ha_discovery()) == set(fleet.topics)
        fleet.group(ha, "POWER", "ON", "stat/%s/POWER", "ON")
    finally:
        ha.close()


def test_plugs_that_boot_together_retry_apart(tmp_path):
    """Plugs powered up together (one fuse) and losing the broker together:
    each retries when the back-off it drew ends, to the millisecond of its
    own clock, not on a shared tick (virtual time; deterministic by seed).
    The loop used to wake for the attempt only at its 1 s tick: plugs that
    booted in the same instant retried in the same instant whatever they drew."""
    port = free_port()  # nobody listens: every attempt is refused at once
    first = []
    for seed in range(1000, 1000 + SIZE):
        result = run_sim(tmp_path / ("f%d.bin" % seed), "--wifi", "Home:correct-horse", "--seed", seed,
                         duration=20, exec_="Backlog SSId1 Home; Password1 correct-horse; "
                                            "MqttPort %d; MqttHost 127.0.0.1" % port)
        events = result.logs(r"MQT: (connecting to|next attempt in)")
        waits = [(log_seconds(line), int(re.search(r"in (\d+) ms", line).group(1)))
                 for line in events if "next attempt" in line]
        tries = [log_seconds(line) for line in events if "connecting to" in line]
        assert len(waits) >= 3 and len(tries) >= 4, result
        for (failed, ms), retried in zip(waits, tries[1:]):
            assert round((retried - failed) * 1000) == ms, events
        first.append(waits[0][1])
    assert all(500 <= ms <= 1000 for ms in first), first
    assert len(set(first)) >= SIZE // 2 and spread(first) >= 150, first
