"""A fleet of 10 plugs on one mosquitto (processes on the loopback; 100 in
bench/fleet.py): every plug discovered by HA's rules in both discovery
kinds, switched between them and on and off by one message on the group
topic, and back with its subscriptions after the broker restarts, each
after a back-off of its own (no thundering herd)."""
import re
import subprocess

import paho.mqtt.client as paho
import pytest

from fleetlib import Fleet, documented_acl, spread, topic_of
from mqttlib import HA, Broker
from simlib import RELAY_GPIO, free_port, log_seconds, run_sim, wait_until
from test_mqtt import broker  # noqa: F401  the fixture: mosquitto on a free port

SIZE = 10


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


def test_per_plug_credentials_and_the_acl_of_docs_fleet_md(tmp_path, sockdir):
    """docs/fleet.md's mosquitto set-up, as the page gives it: no anonymous
    clients, a user per plug named like its topic, the ACL tying each to its
    own topics.  Every plug connects, is discovered, follows the group;
    one plug's credentials neither switch another nor fake its readings."""
    users = {"homeassistant": "ha-secret"}
    users.update({topic_of(i): "pw-%d-plug" % i for i in range(3)})
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    passwd.touch()
    for user, password in users.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True, timeout=10)
    acl.write_text(documented_acl())
    broker = Broker(tmp_path, conf=["allow_anonymous false", "password_file %s" % passwd,
                                    "acl_file %s" % acl]).start()
    fleet = Fleet(tmp_path, sockdir, broker, 3)
    fleet.auth = ("homeassistant", users["homeassistant"])
    clients = []
    try:
        fleet.start().connect(per_plug=lambda t: ["MqttUser " + t, "MqttPassword " + users[t]])
        ha = HA(broker.port, auth=fleet.auth)
        clients.append(ha)
        fleet.group(ha, "SetOption19", "1", "stat/%s/RESULT", '{"SetOption19":"ON"}')
        assert set(fleet.wait_ha_discovery()) == set(fleet.topics)

        # plug 0's credentials (as if pulled out of its flash)
        thief = HA(broker.port, subscribe=("cmnd/fleet000/#",), client_id="thief", auth=("fleet000", users["fleet000"]))
        clients.append(thief)
        thief.publish("cmnd/fleet001/POWER", "ON", qos=1)  # acknowledged, and dropped
        thief.publish("tele/fleet001/SENSOR", '{"ENERGY":{"Power":9999}}', qos=1)
        mark = ha.mark()
        thief.publish("tele/fleet000/SENSOR", "its own: allowed", qos=1)
        ha.wait("tele/fleet000/SENSOR", "its own: allowed", since=mark)
        assert not [m for m in ha.messages if "9999" in m.text]
        mark = ha.mark()
        ha.publish("cmnd/fleet001/POWER", "")
        assert ha.wait("stat/fleet001/RESULT", since=mark).text == '{"POWER":"OFF"}'
        assert fleet.plugs[1].pins()[RELAY_GPIO]["level"] == 0
        fleet.group(ha, "POWER", "ON", "stat/%s/POWER", "ON")  # the group still reaches them all

        # no credentials, no entry
        refused = {}
        anonymous = paho.Client(client_id="anonymous")
        anonymous.on_connect = lambda c, u, f, rc, *rest: refused.setdefault("rc", rc)
        anonymous.connect("127.0.0.1", broker.port)
        anonymous.loop_start()
        try:
            wait_until(lambda: "rc" in refused, timeout=10, what="the broker's CONNACK")
        finally:
            anonymous.loop_stop()
        assert refused["rc"] == 5  # not authorised
    finally:
        for client in clients:
            client.close()
        fleet.stop()
        broker.stop()
