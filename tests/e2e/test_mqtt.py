"""MQTT against a real mosquitto, with paho-mqtt playing Home Assistant:
commands and replies, relay changes from any source, the LWT, telemetry,
reconnection, settings commands.  (Discovery: test_hass.py; TLS, DNS and a
misbehaving broker: test_mqtt_net.py.)"""
import calendar
import json
import re
import time

import pytest

from mqttlib import HA, Broker
from simlib import BUTTON_GPIO, RELAY_GPIO

TOPIC = "plugtest"
WIFI = ("--wifi", "Home:correct-horse")  # the simulated world's network
JOIN = ["SSId1 Home", "Password1 correct-horse"]


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def ha(broker):
    client = HA(broker.port)
    yield client
    client.close()


@pytest.fixture
def plug(make_plug):
    """A plug in a world with a Wi-Fi network (joined by connect_plug)."""
    return make_plug(None, *WIFI)


def connect_plug(plug, broker, topic=TOPIC, extra=()):
    """Join Wi-Fi, point the plug at the broker; returns once the broker has
    acknowledged its subscriptions (a command published before that is not
    delivered to the plug)."""
    mark = plug.mark()
    commands = list(JOIN) + (["Topic %s" % topic] if topic else [])
    commands += list(extra) + ["MqttPort %d" % broker.port, "MqttHost 127.0.0.1"]
    plug.replies("Backlog " + "; ".join(commands), len(commands))
    plug.wait_log(r"MQT: connected to 127\.0\.0\.1:%d" % broker.port, since=mark, timeout=10)
    plug.wait_log(r"MQT: subscriptions acknowledged", since=mark, timeout=10)
    return plug


def online(ha, topic=TOPIC, since=0):
    """Wait for the plug's connect sequence: LWT Online ... stat/POWER."""
    m = ha.wait("tele/%s/LWT" % topic, "Online", since=since)
    ha.wait("stat/%s/POWER" % topic, since=ha.messages.index(m))
    return m


def relay_on(plug):
    return plug.pins()[RELAY_GPIO]["level"] == 1


def test_command_relay_stat_round_trip(plug, broker, ha):
    connect_plug(plug, broker)
    online(ha)
    for payload, state in (("ON", "ON"), ("off", "OFF"), ("1", "ON"), ("toggle", "OFF"), ("true", "ON")):
        mark = ha.mark()
        ha.publish("cmnd/%s/POWER" % TOPIC, payload)
        result = ha.wait("stat/%s/RESULT" % TOPIC, since=mark)
        assert json.loads(result.text) == {"POWER": state}
        assert ha.wait("stat/%s/POWER" % TOPIC, since=mark).text == state
        assert relay_on(plug) == (state == "ON")
    # POWER1 works the same; an empty payload asks.
    mark = ha.mark()
    ha.publish("cmnd/%s/POWER1" % TOPIC, "off")
    assert ha.wait("stat/%s/POWER" % TOPIC, since=mark).text == "OFF"
    assert json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark).text) == {"POWER": "OFF"}
    mark = ha.mark()
    ha.publish("cmnd/%s/POWER" % TOPIC, "")
    assert json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark).text) == {"POWER": "OFF"}
    assert not relay_on(plug)
    # Any command: unknown ones and bad arguments get Tasmota's error replies.
    mark = ha.mark()
    ha.publish("cmnd/%s/Bogus" % TOPIC, "1")
    assert json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark).text) == {"Command": "Unknown"}
    mark = ha.mark()
    ha.publish("cmnd/%s/PowerOnState" % TOPIC, "9")
    assert json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark).text)["Command"] == "Error"
    # The group topic reaches the plug too.
    mark = ha.mark()
    ha.publish("cmnd/openplugs/POWER", "on")
    assert ha.wait("stat/%s/POWER" % TOPIC, since=mark).text == "ON"
    assert relay_on(plug)


def test_relay_changes_from_any_source_are_published(plug, broker, ha):
    connect_plug(plug, broker)
    online(ha)
    was = relay_on(plug)
    mark = ha.mark()
    plug.press(BUTTON_GPIO)
    want = "OFF" if was else "ON"
    assert ha.wait("stat/%s/POWER" % TOPIC, since=mark).text == want
    assert json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark).text) == {"POWER": want}
    mark = ha.mark()
    plug.cmd("Power toggle")  # the console
    assert ha.wait("stat/%s/POWER" % TOPIC, since=mark).text == ("ON" if was else "OFF")


def test_connect_sequence_lwt_info_state_sensor(plug, broker, ha):
    connect_plug(plug, broker, extra=["Power on", "TelePeriod 10"])  # the 60 W load: every quantity measured
    lwt = ha.wait("tele/%s/LWT" % TOPIC, "Online")
    assert lwt.qos == 1
    info1 = json.loads(ha.wait("tele/%s/INFO1" % TOPIC).text)["Info1"]
    assert info1["FallbackTopic"] == TOPIC and info1["GroupTopic"] == "openplugs" and info1["Version"]
    assert json.loads(ha.wait("tele/%s/INFO2" % TOPIC).text)["Info2"]["IPAddress"] == "127.0.0.1"
    assert json.loads(ha.wait("tele/%s/INFO3" % TOPIC).text)["Info3"]["RestartReason"] == "Power on"
    assert ha.wait("stat/%s/POWER" % TOPIC).text in ("ON", "OFF")
    state = json.loads(ha.wait("tele/%s/STATE" % TOPIC, timeout=10).text)
    for key in ("Time", "Uptime", "UptimeSec", "Heap", "HeapFree", "HeapMin", "Sockets", "SocketsMax", "POWER"):
        assert key in state, key
    assert state["Sockets"] >= 1 and state["SocketsMax"] == 21
    wifi = state["Wifi"]
    assert set(wifi) >= {"SSId", "BSSId", "Channel", "RSSI", "Signal", "LinkCount", "Downtime"}
    assert re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", wifi["BSSId"]) and wifi["LinkCount"] == 1
    assert -100 < wifi["Signal"] < 0 and 0 <= wifi["RSSI"] <= 100
    # A quantity is left out until measured: current and voltage after ~4 s,
    # a window apart (SEL alternates), later on a loaded host; the apparent
    # power needs both.
    def measured(m):
        return {"Current", "Voltage"} <= set(json.loads(m.text).get("ENERGY", {}))
    sensor = json.loads(ha.wait("tele/%s/SENSOR" % TOPIC, timeout=25, predicate=measured).text)
    energy = sensor["ENERGY"]
    for key in ("TotalStartTime", "Total", "Yesterday", "Today", "Period", "Power", "ApparentPower",
                "ReactivePower", "Factor", "Voltage", "Current"):
        assert key in energy, key
    lwt_online_retained(broker)  # what a late subscriber sees


def test_rssi_is_fresh_in_every_state(plug, broker, ha):
    connect_plug(plug, broker, extra=["TelePeriod 10"])
    signals = set()
    for _ in range(6):
        mark = ha.mark()
        ha.publish("cmnd/%s/State" % TOPIC, "")
        reply = json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark,
                                   predicate=lambda m: "Wifi" in m.text).text)
        signals.add(reply["Wifi"]["Signal"])
    assert len(signals) > 1, "the same RSSI six times: read once, not fresh"


def test_lwt_offline_after_powercut_and_online_again(plug, broker, ha):
    connect_plug(plug, broker)
    online(ha)
    mark = ha.mark()
    assert plug.powercut() == 3
    ha.wait("tele/%s/LWT" % TOPIC, "Offline", since=mark, timeout=10)
    late = HA(broker.port, subscribe=("tele/%s/LWT" % TOPIC,), client_id="late")
    try:
        assert late.wait("tele/%s/LWT" % TOPIC).text == "Offline"
    finally:
        late.close()
    mark = ha.mark()
    plug.start()  # the settings survived: it connects by itself
    ha.wait("tele/%s/LWT" % TOPIC, "Online", since=mark, timeout=15)


def lwt_online_retained(broker):
    late = HA(broker.port, subscribe=("tele/%s/LWT" % TOPIC,), client_id="late")
    try:
        m = late.wait("tele/%s/LWT" % TOPIC)
        assert m.text == "Online" and m.retain
    finally:
        late.close()


def test_reconnects_after_broker_restart(plug, broker, ha):
    connect_plug(plug, broker)
    online(ha)
    ha.close()
    mark = plug.mark()
    broker.stop()
    plug.wait_log(r"MQT: (broker closed the connection|connection lost)", since=mark, timeout=10)
    # While the broker is away the plug works as ever.
    assert plug.cmd("Power on") == {"POWER": "ON"} and relay_on(plug)
    time.sleep(2)
    broker.start()
    plug.wait_log(r"MQT: connected to", since=mark, timeout=40)
    ha2 = HA(broker.port, client_id="ha-after")
    try:
        ha2.wait("tele/%s/LWT" % TOPIC, "Online", timeout=10)
        # ha2 may have subscribed before the plug published (then it saw it
        # live): a subscriber that comes after it sees it retained.
        lwt_online_retained(broker)
        mark2 = ha2.mark()
        ha2.publish("cmnd/%s/POWER" % TOPIC, "off")
        assert ha2.wait("stat/%s/POWER" % TOPIC, since=mark2).text == "OFF"
    finally:
        ha2.close()
    status = plug.cmd("MqttStatus")["MqttStatus"]
    assert status["State"] == "connected" and status["Connects"] == 2 and status["Disconnects"] == 1


def test_status_10_and_11_replies_on_their_topics(plug, broker, ha):
    connect_plug(plug, broker)
    online(ha)
    mark = ha.mark()
    ha.wait("tele/%s/SENSOR" % TOPIC, predicate=lambda m: "ENERGY" in m.text)  # metering has reported
    ha.publish("cmnd/%s/STATUS" % TOPIC, "10")
    assert "ENERGY" in json.loads(ha.wait("stat/%s/STATUS10" % TOPIC, since=mark).text)["StatusSNS"]
    ha.publish("cmnd/%s/STATUS" % TOPIC, "11")
    assert "Wifi" in json.loads(ha.wait("stat/%s/STATUS11" % TOPIC, since=mark).text)["StatusSTS"]


def test_retained_commands_are_ignored(plug, broker, ha):
    ha.publish("cmnd/%s/POWER" % TOPIC, "on", retain=True)
    plug.cmd("Power off")
    connect_plug(plug, broker)
    online(ha)
    plug.wait_log(r"MQT: ignored retained command", timeout=5)
    assert not relay_on(plug)
    ha.publish("cmnd/%s/POWER" % TOPIC, "", retain=True)  # clear it


def test_settings_commands(plug, broker, ha):
    mac_tail = plug.cmd("Topic")["Topic"]
    assert re.fullmatch(r"openplug_[0-9A-F]{6}", mac_tail)
    assert plug.cmd("FullTopic") == {"FullTopic": "%prefix%/%topic%/"}
    assert plug.cmd("TelePeriod") == {"TelePeriod": 300}
    assert plug.cmd("TelePeriod 5") == {"TelePeriod": 10}
    assert plug.cmd("TelePeriod 3601")["Command"] == "Error"
    assert plug.cmd("Topic a/b")["Command"] == "Error"
    assert plug.cmd("FullTopic %topic%/x/")["Command"] == "Error"
    assert plug.cmd("MqttPort 0")["Command"] == "Error"
    assert plug.cmd("MqttPassword s3cret") == {"MqttPassword": "****"}
    assert plug.cmd("MqttFingerprint 12")["Command"] == "Error"
    assert plug.cmd("SetOption19 2")["Command"] == "Error"
    assert plug.cmd("PowerDelta 101") == {"PowerDelta": 101}
    # Default topic on the wire, and FullTopic with another layout.
    connect_plug(plug, broker, topic=None, extra=["FullTopic openplug/%prefix%/%topic%/", "TelePeriod 300"])
    ha.wait("openplug/tele/%s/LWT" % mac_tail, "Online")
    mark = ha.mark()
    ha.publish("openplug/cmnd/%s/POWER" % mac_tail, "on")
    ha.wait("openplug/stat/%s/POWER" % mac_tail, "ON", since=mark)
    status = plug.cmd("MqttStatus")["MqttStatus"]
    assert status["State"] == "connected" and status["Topic"] == mac_tail
    assert status["Memory"]["Static"] > 0


def test_tele_period_and_power_delta(plug, broker, ha):
    plug.cmd("Power on")
    connect_plug(plug, broker, extra=["TelePeriod 10"])
    first = ha.wait("tele/%s/SENSOR" % TOPIC, timeout=30)
    second = ha.wait("tele/%s/SENSOR" % TOPIC, since=ha.messages.index(first) + 1, timeout=40)
    # every TelePeriod by the plug's own clock (the SENSOR's Time, whole
    # seconds), not by when a loaded host delivered them
    at = lambda m: calendar.timegm(time.strptime(json.loads(m.text)["Time"], "%Y-%m-%dT%H:%M:%S"))  # noqa: E731
    assert 9 <= at(second) - at(first) <= 11, ("SENSOR every TelePeriod", first, second)
    assert ha.wait("tele/%s/STATE" % TOPIC, since=ha.messages.index(first) + 1, timeout=10)
    # PowerDelta 150: a change of more than 50 W publishes a SENSOR at once.
    # "At once" without a stopwatch: the next periodic SENSOR is an hour away
    # (TelePeriod restarts its timer), so any SENSOR now is PowerDelta's.
    assert plug.cmd("TelePeriod 3600") == {"TelePeriod": 3600}
    assert plug.cmd("PowerDelta 150") == {"PowerDelta": 150}
    mark = ha.mark()
    assert plug.world("load 2000W").startswith("ok")
    # the new load's reading (60 W before; real-time metering on a loaded
    # host reads a few % low, so no tighter: accuracy is tested in virtual time)
    ha.wait("tele/%s/SENSOR" % TOPIC, since=mark, timeout=30,
            predicate=lambda m: json.loads(m.text)["ENERGY"]["Power"] > 1000)


def test_restart_says_offline_and_totals_never_go_back(make_plug, broker, ha):
    """A planned restart: LWT Offline at once (a clean disconnect sends no
    Will), Online again after; the energy counted since the last save is
    saved first, so the first SENSOR after boot never shows a lower Total
    (HA's total_increasing would read a drop as a meter reset)."""
    plug = make_plug(None, *WIFI, "--load", "2000W")
    connect_plug(plug, broker, extra=["TelePeriod 10", "Power on"])
    online(ha)
    last = ha.wait("tele/%s/SENSOR" % TOPIC, timeout=30,
                   predicate=lambda m: json.loads(m.text).get("ENERGY", {}).get("Total", 0) >= 0.004)
    mark = ha.mark()
    plug.restart()
    ha.wait("tele/%s/LWT" % TOPIC, "Offline", since=mark, timeout=5)
    online_again = ha.wait("tele/%s/LWT" % TOPIC, "Online", since=mark, timeout=20)
    before = max(json.loads(m.text)["ENERGY"]["Total"] for m in ha.messages[:mark]
                 if m.topic == "tele/%s/SENSOR" % TOPIC and "ENERGY" in m.text)
    assert before >= json.loads(last.text)["ENERGY"]["Total"]
    after = ha.wait("tele/%s/SENSOR" % TOPIC, since=ha.messages.index(online_again), timeout=15,
                    predicate=lambda m: "ENERGY" in m.text)
    assert json.loads(after.text)["ENERGY"]["Total"] >= before, (before, after)


def test_totals_never_go_back_across_a_power_cut(make_plug, broker, ha):
    """A power cut loses the energy counted since the last save: telemetry
    publishes only saved counters (each period saves first), so even a
    SENSOR sent between two periods (PowerDelta) is never above what the
    plug restores after the cut."""
    plug = make_plug(None, *WIFI, "--load", "3000W")
    connect_plug(plug, broker, extra=["TelePeriod 10", "PowerDelta 101", "Power on"])
    online(ha)
    sensors = lambda since=0: [json.loads(m.text)["ENERGY"]["Total"] for m in ha.messages[since:]
                               if m.topic == "tele/%s/SENSOR" % TOPIC and "ENERGY" in m.text]
    ha.wait("tele/%s/SENSOR" % TOPIC, timeout=30,
            predicate=lambda m: json.loads(m.text).get("ENERGY", {}).get("Total", 0) > 0)
    time.sleep(4)  # ~3 Wh counted and not yet saved
    mark = ha.mark()
    assert plug.world("load 1000W").startswith("ok")  # PowerDelta: a SENSOR at once
    ha.wait("tele/%s/SENSOR" % TOPIC, since=mark, timeout=6,
            predicate=lambda m: json.loads(m.text)["ENERGY"]["Power"] < 2000)
    before = max(sensors())
    assert plug.powercut() == 3
    mark = ha.mark()
    plug.start()
    ha.wait("tele/%s/SENSOR" % TOPIC, since=mark, timeout=20, predicate=lambda m: "ENERGY" in m.text)
    assert min(sensors(mark)) >= before, (before, sensors(mark))


def test_a_wedged_client_restarts_the_plug_naming_it(plug, broker, ha):
    """The client reports each turn to the health monitor: stuck, it is
    named as the reason of the watchdog restart, and connects again after."""
    connect_plug(plug, broker)
    online(ha)
    mark = plug.mark()
    assert plug.world("wedge mqtt") == "ok mqtt wedged"
    plug.wait_log(r"WDG: mqtt made no progress for \d+ ms", since=mark, timeout=35)
    plug.wait_log(r"BOOT: .*reset reason: Watchdog \(mqtt\)", since=mark, timeout=12)
    plug.wait_log(r"MQT: connected to", since=mark, timeout=20)


def test_wifi_loss_drops_and_rejoining_reconnects(plug, broker, ha):
    connect_plug(plug, broker)
    online(ha)
    plug.wait_log(r"WIF: Wi-Fi connected", timeout=5)  # wifi.c has seen the join too
    mark = plug.mark()
    hamark = ha.mark()
    assert plug.world("wifi down").startswith("ok")
    plug.wait_log(r"MQT: Wi-Fi link lost", since=mark, timeout=5)
    # The connection went without a DISCONNECT: the broker sends the Will.
    ha.wait("tele/%s/LWT" % TOPIC, "Offline", since=hamark, timeout=10)
    assert plug.cmd("MqttStatus")["MqttStatus"]["State"] == "waiting"
    assert plug.world("wifi up").startswith("ok")
    plug.wait_log(r"MQT: connected to", since=mark, timeout=40)
    ha.wait("tele/%s/LWT" % TOPIC, "Online", since=hamark, timeout=10)


def test_a_retained_message_too_long_is_skipped_not_fatal(plug, broker, ha):
    """Issue 16 D5: one retained message over the receive buffer on the
    group topic used to knock every plug of the broker off, again on each
    reconnect.  Now it is skipped (QoS 0 and QoS 1) and the plug stays."""
    ha.publish("cmnd/openplugs/Blob", "x" * 3500, retain=True)  # the receive buffer holds 3072 bytes
    ha.publish("cmnd/openplugs/Blob2", "y" * 5000, qos=1, retain=True)
    mark = plug.mark()
    connect_plug(plug, broker)
    online(ha)
    plug.wait_log(r"MQT: ignored a packet from the broker too long for the receive buffer: 35\d\d bytes", since=mark)
    plug.wait_log(r"MQT: ignored a packet from the broker too long for the receive buffer: 50\d\d bytes", since=mark)
    since = ha.mark()
    ha.publish("cmnd/%s/POWER" % TOPIC, "on")
    ha.wait("stat/%s/POWER" % TOPIC, "ON", since=since)
    ha.publish("cmnd/openplugs/Blob3", "z" * 4000)  # live, not retained
    since = ha.mark()
    ha.publish("cmnd/%s/POWER" % TOPIC, "off")
    ha.wait("stat/%s/POWER" % TOPIC, "OFF", since=since)
    assert len(plug.log_lines(r"MQT: connected to", since=mark)) == 1
    assert not plug.log_lines(r"MQT: .*(connection lost|closed the connection|next attempt)", since=mark)
    ha.publish("cmnd/openplugs/Blob", "", retain=True)
    ha.publish("cmnd/openplugs/Blob2", "", qos=1, retain=True)
