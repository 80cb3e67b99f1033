"""Home Assistant discovery against a real mosquitto, paho-mqtt playing HA:
both kinds (SetOption19 1: HA's MQTT discovery; 0: Tasmota discovery for
HA's Tasmota integration), validated with JSON Schemas of the keys, units
and id charset HA requires; re-publication on `homeassistant/status
online`; switching kinds clears the other's retained configs; the runtime
behaviour the Tasmota integration relies on (POWER1, STATUS 10, STATE)."""
import json
import re
import time

import jsonschema
import types
import pytest

from mqttlib import HA
from simlib import wait_until
from test_mqtt import TOPIC, connect_plug, online, relay_on
from test_mqtt import broker, ha, plug  # noqa: F401  the fixtures: a broker, HA, a plug in a world with Wi-Fi

ID = r"^[a-zA-Z0-9_-]+$"
HA_TOPIC = re.compile(r"^homeassistant/(switch|sensor|binary_sensor)/(?P<node>[a-zA-Z0-9_-]+)/(?P<object>[a-zA-Z0-9_-]+)/config$")

DEVICE = {
    "type": "object",
    "required": ["identifiers", "connections", "name"],
    "properties": {
        "identifiers": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": ID}},
        "connections": {"type": "array", "minItems": 1, "contains": {
            "type": "array", "minItems": 2, "maxItems": 2,
            "prefixItems": [{"const": "mac"}, {"type": "string", "pattern": "^([0-9a-f]{2}:){5}[0-9a-f]{2}$"}]}},
    },
}
COMMON = {
    "type": "object",
    "required": ["name", "unique_id", "availability_topic", "payload_available", "payload_not_available",
                 "device"],
    "properties": {
        "unique_id": {"type": "string", "pattern": ID},
        "availability_topic": {"const": "tele/%s/LWT" % TOPIC},
        "payload_available": {"const": "Online"},
        "payload_not_available": {"const": "Offline"},
        "device": DEVICE,
    },
}
SWITCH = {"allOf": [COMMON, {
    "required": ["command_topic", "state_topic", "device_class", "payload_on", "payload_off"],
    "properties": {"device_class": {"const": "outlet"}, "command_topic": {"const": "cmnd/%s/POWER" % TOPIC},
                   "state_topic": {"const": "stat/%s/POWER" % TOPIC},
                   "payload_on": {"const": "ON"}, "payload_off": {"const": "OFF"}}}]}


ALARM = {"allOf": [COMMON, {
    "required": ["state_topic", "value_template", "device_class"],
    "properties": {"state_topic": {"const": "tele/%s/LIMITS" % TOPIC}, "device_class": {"const": "problem"},
                   "value_template": {"type": "string", "pattern": r"^\{\{ .*value_json\..* \}\}$"}}}]}


def sensor(unit, device_class, state_class, diagnostic=False):
    props = {"state_topic": {"type": "string", "pattern": "^tele/%s/(SENSOR|STATE|INFO2|INFO3|LIMITS)$" % TOPIC},
             "value_template": {"type": "string", "pattern": r"^\{\{ value_json\.[A-Za-z0-9_.]+ \}\}$"}}
    required = ["state_topic", "value_template"]
    for key, value in (("unit_of_measurement", unit), ("device_class", device_class), ("state_class", state_class)):
        if value is None:
            props[key] = False  # must be absent
        else:
            props[key] = {"const": value}
            required.append(key)
    if diagnostic:
        props["entity_category"] = {"const": "diagnostic"}
        required.append("entity_category")
    return {"allOf": [COMMON, {"required": required, "properties": props}]}


HA_SCHEMAS = {
    ("switch", "relay"): SWITCH,
    ("sensor", "power"): sensor("W", "power", "measurement"),
    ("sensor", "voltage"): sensor("V", "voltage", "measurement"),
    ("sensor", "current"): sensor("A", "current", "measurement"),
    ("sensor", "power_factor"): sensor(None, "power_factor", "measurement"),
    ("sensor", "energy_total"): sensor("kWh", "energy", "total_increasing"),
    ("sensor", "energy_today"): sensor("kWh", "energy", "total_increasing"),
    # a value that changes once a day: no state class (HA's Tasmota integration has none either)
    ("sensor", "energy_yesterday"): sensor("kWh", "energy", None),
    ("sensor", "rssi"): sensor("dBm", "signal_strength", "measurement", diagnostic=True),
    ("sensor", "ip"): sensor(None, None, None, diagnostic=True),
    ("sensor", "uptime"): sensor("s", "duration", "total_increasing", diagnostic=True),
    ("sensor", "restart_reason"): sensor(None, None, None, diagnostic=True),
    # protection (limits.h): tele/<topic>/LIMITS, retained
    ("binary_sensor", "trip"): ALARM,
    ("binary_sensor", "margin"): ALARM,
    ("sensor", "trip_reason"): sensor(None, None, None, diagnostic=True),
}

# Announced while a price is set (EnergyPrice), in its Currency.
COST_ENTITIES = {
    ("sensor", "cost_total"): sensor("EUR", "monetary", "total"),
    ("sensor", "cost_today"): sensor("EUR", "monetary", None),
}

# The keys HA's Tasmota integration (hatasmota) requires of tasmota/discovery/<MAC>/config.
TASMOTA_CONFIG = {
    "type": "object",
    "required": ["ip", "dn", "fn", "hn", "mac", "md", "ty", "ofln", "onln", "state", "sw", "t", "ft", "tp", "rl",
                 "swc", "btn", "so", "lk", "lt_st", "ver"],
    "properties": {
        "ip": {"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+$"},
        "mac": {"type": "string", "pattern": "^[0-9A-F]{12}$"},
        "fn": {"type": "array", "items": {"type": ["string", "null"]}},
        "ty": {"enum": [0, 1]}, "lk": {"enum": [0, 1]}, "lt_st": {"type": "integer", "minimum": 0},
        "ofln": {"const": "Offline"}, "onln": {"const": "Online"},
        "state": {"type": "array", "minItems": 4, "items": {"type": "string"}},
        "t": {"const": TOPIC}, "ft": {"const": "%prefix%/%topic%/"},
        "tp": {"const": ["cmnd", "stat", "tele"]},
        "rl": {"type": "array", "items": {"type": "integer", "minimum": 0}, "contains": {"const": 1}},
        "swc": {"type": "array", "items": {"type": "integer"}},
        "btn": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "so": {"type": "object", "required": ["4", "11", "13", "17", "20", "30", "68", "73", "82"],
               "additionalProperties": {"enum": [0, 1]}},
        "ver": {"const": 1},
    },
}
TASMOTA_SENSORS = {
    "type": "object", "required": ["sn", "ver"],
    "properties": {"ver": {"const": 1}, "sn": {"type": "object", "required": ["Time"]}},
}


def ha_configs(ha, since=0):
    """{(component, object): payload dict or None (cleared)} of the newest HA configs."""
    found = {}
    for m in ha.messages[since:]:
        match = HA_TOPIC.match(m.topic)
        if match:
            found[(match.group(1), match.group("object"))] = (json.loads(m.text) if m.payload else None, m)
    return found


def wait_ha_configs(ha, since=0, count=len(HA_SCHEMAS), timeout=15):
    """Wait until `count` HA configs with a payload came after `since`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        configs = ha_configs(ha, since)
        if len([c for c in configs.values() if c[0] is not None]) >= count:
            return configs
        time.sleep(0.1)
    raise AssertionError("only %s" % sorted(ha_configs(ha, since)))


def wait_cleared(ha, since, keys, timeout=10):
    """Wait until the HA configs of `keys` were cleared (empty retained payloads) after `since`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if {k for k, (p, _) in ha_configs(ha, since).items() if p is None} >= set(keys):
            return
        time.sleep(0.1)
    raise AssertionError("not cleared: %s" % sorted(set(keys) - {k for k, (p, _) in ha_configs(ha, since).items()
                                                                   if p is None}))


def announced(configs):
    """The configs with a payload (not the cleared ones: the cost entities without a price)."""
    return {key: config for key, config in configs.items() if config[0] is not None}


def retained(broker, prefix, timeout=20):
    """{topic: payload} of the retained messages a new subscriber gets: all of
    them once a marker it publishes after subscribing comes back (the broker
    sends the retained ones first), not after a fixed wait."""
    late = HA(broker.port, subscribe=(prefix + "#",), client_id="late-%d" % time.monotonic_ns())
    try:
        marker = prefix + "test-marker-%d" % time.monotonic_ns()
        late.publish(marker, "end")
        late.wait(marker, timeout=timeout)
        return {m.topic: m.payload for m in late.messages if m.retain}
    finally:
        late.close()


def test_ha_mqtt_discovery_payloads_follow_has_rules(plug, broker, ha):
    connect_plug(plug, broker, extra=["SetOption19 1", "DeviceName Kitchen plug", "TelePeriod 10"])
    configs = wait_ha_configs(ha)
    # without a price (EnergyPrice) the cost entities are removed (an empty
    # retained config), and so is what the BL0937 does not measure: frequency
    cleared = {key for key, (payload, _) in configs.items() if payload is None}
    assert cleared == set(COST_ENTITIES) | {("sensor", "frequency")}, sorted(configs)
    configs = announced(configs)
    assert set(configs) == set(HA_SCHEMAS), sorted(configs)
    nodes = set()
    kept = retained(broker, "homeassistant/")
    for key, (payload, msg) in configs.items():
        assert json.loads(kept[msg.topic]) == payload, "not retained: %s" % msg.topic
        jsonschema.validate(payload, HA_SCHEMAS[key])
        nodes.add(HA_TOPIC.match(msg.topic).group("node"))
        assert payload["device"]["name"] == "Kitchen plug"
    assert len(nodes) == 1, nodes
    uids = [payload["unique_id"] for payload, _ in configs.values()]
    assert len(set(uids)) == len(uids)
    # The topics they name carry what the templates read, once measured (a
    # quantity is left out until then: the relay is off, 0 W is known after
    # 12.4 s without a CF pulse).
    measured = ("Power", "Voltage", "Current", "Factor")
    sensor = json.loads(ha.wait("tele/%s/SENSOR" % TOPIC, timeout=40, predicate=lambda m: all(
        k in json.loads(m.text).get("ENERGY", {}) for k in measured)).text)
    for key in ("Power", "Voltage", "Current", "Factor", "Total", "Today", "Yesterday"):
        assert isinstance(sensor["ENERGY"][key], (int, float)), key
    state = json.loads(ha.wait("tele/%s/STATE" % TOPIC).text)
    assert isinstance(state["Wifi"]["Signal"], int) and isinstance(state["UptimeSec"], int)
    assert json.loads(ha.wait("tele/%s/INFO2" % TOPIC).text)["Info2"]["IPAddress"] == "127.0.0.1"
    assert json.loads(ha.wait("tele/%s/INFO3" % TOPIC).text)["Info3"]["RestartReason"]
    # The switch works through the topics it announces.
    switch = configs[("switch", "relay")][0]
    mark = ha.mark()
    ha.publish(switch["command_topic"], switch["payload_on"])
    assert ha.wait(switch["state_topic"], since=mark).text == switch["state_on"]
    assert relay_on(plug)


def test_device_name_is_the_plugs_name_not_openplug(plug, broker, ha):
    # a plug whose DeviceName was never set is named by its topic (unique), in both discovery kinds
    connect_plug(plug, broker, extra=["SetOption19 1"])
    configs = announced(wait_ha_configs(ha))
    assert plug.cmd("DeviceName") == {"DeviceName": "OpenPlug"}
    assert {payload["device"]["name"] for payload, _ in configs.values()} == {TOPIC}
    mark = ha.mark()
    assert plug.cmd("SetOption19 0") == {"SetOption19": "OFF"}
    config = None
    deadline = time.monotonic() + 10
    while config is None and time.monotonic() < deadline:
        found = [m for m in ha.messages[mark:] if re.match(r"^tasmota/discovery/[0-9A-F]{12}/config$", m.topic)
                 and m.payload]
        config = json.loads(found[0].text) if found else None
        time.sleep(0.05)
    assert config, "no Tasmota discovery seen"
    assert config["dn"] == TOPIC and config["fn"][0] == TOPIC


def test_discovery_follows_device_name_and_template_at_once(plug, broker, ha):
    """A new DeviceName or template reaches HA at once (the settings-changed
    event), not at the next reconnect; a template without metering takes
    the metering entities away."""
    connect_plug(plug, broker, extra=["SetOption19 1"])
    wait_ha_configs(ha)
    mark = ha.mark()
    assert plug.cmd("DeviceName Garden plug") == {"DeviceName": "Garden plug"}
    configs = announced(wait_ha_configs(ha, since=mark))
    assert {payload["device"]["name"] for payload, _ in configs.values()} == {"Garden plug"}
    mark = ha.mark()
    plug.cmd('Template {"name":"Relay only","pins":{"2":"Rel;1","17":"Btn;1"}}')
    metering = {key for key in HA_SCHEMAS if key[1] in ("power", "voltage", "current", "power_factor",
                                                        "energy_total", "energy_today", "energy_yesterday")}
    configs = announced(wait_ha_configs(ha, since=mark, count=len(HA_SCHEMAS) - len(metering)))
    assert {payload["device"]["model"] for payload, _ in configs.values()} == {"Relay only"}
    assert not metering & set(configs), sorted(metering & set(configs))  # no meter: not announced
    wait_cleared(ha, mark, metering)  # and what was announced is taken back from HA


def test_ha_status_online_publishes_again(plug, broker, ha):
    connect_plug(plug, broker, extra=["SetOption19 1"])
    wait_ha_configs(ha)
    mark = ha.mark()
    ha.publish("homeassistant/status", "offline")
    ha.publish("homeassistant/status", "online")
    configs = announced(wait_ha_configs(ha, since=mark))
    assert set(configs) == set(HA_SCHEMAS)
    # ... and the states HA lost when it restarted.
    ha.wait("stat/%s/POWER" % TOPIC, since=mark)
    ha.wait("tele/%s/STATE" % TOPIC, since=mark)
    ha.wait("tele/%s/INFO2" % TOPIC, since=mark)


def test_switching_to_tasmota_discovery_clears_ha_configs(plug, broker, ha):
    connect_plug(plug, broker, extra=["SetOption19 1"])
    wait_ha_configs(ha)
    mark = ha.mark()
    assert plug.cmd("SetOption19 0") == {"SetOption19": "OFF"}
    wait_cleared(ha, mark, HA_SCHEMAS)
    # A late subscriber (HA restarting) finds no HA config left, and the Tasmota one.
    assert retained(broker, "homeassistant/") == {}
    ha.wait("tasmota/discovery/%s/sensors" % tasmota_mac(ha), since=mark)
    kept = retained(broker, "tasmota/discovery/")
    assert json.loads(kept["tasmota/discovery/%s/config" % tasmota_mac(ha)])["t"] == TOPIC


def test_cost_entities_come_with_a_price_and_go_with_it(plug, broker, ha):
    """EnergyPrice and Currency announce two monetary sensors (the total
    cost, state class total; today's), whose template reads the SENSOR keys
    that come with the price; EnergyPrice 0 removes them."""
    connect_plug(plug, broker, extra=["SetOption19 1", "TelePeriod 10"])
    wait_ha_configs(ha)
    mark = ha.mark()
    plug.cmd("Currency EUR")
    plug.cmd("EnergyPrice 0.30")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not set(COST_ENTITIES) <= set(announced(ha_configs(ha, mark))):
        time.sleep(0.1)
    configs = announced(ha_configs(ha, mark))
    for key, schema in COST_ENTITIES.items():
        jsonschema.validate(configs[key][0], schema)
        assert configs[key][0]["value_template"].startswith("{{ value_json.ENERGY.Cost")
    mark = ha.mark()
    sensor = json.loads(ha.wait("tele/%s/SENSOR" % TOPIC, since=mark, timeout=20).text)["ENERGY"]
    for key in ("CostTotal", "CostYesterday", "CostToday", "CostMonth"):
        assert isinstance(sensor[key], (int, float)), key
    mark = ha.mark()
    plug.cmd("EnergyPrice 0")
    wait_cleared(ha, mark, COST_ENTITIES)
    assert not [k for k in retained(broker, "homeassistant/") if "/cost_" in k]
    sensor = json.loads(ha.wait("tele/%s/SENSOR" % TOPIC, since=ha.mark(), timeout=20).text)["ENERGY"]
    assert not [key for key in sensor if key.startswith("Cost")], sensor


def tasmota_mac(ha):
    for m in ha.messages:
        match = re.match(r"^tasmota/discovery/([0-9A-F]{12})/config$", m.topic)
        if match and m.payload:
            return match.group(1)
    raise AssertionError("no Tasmota discovery seen")


def test_tasmota_discovery_for_has_tasmota_integration(plug, broker, ha):
    connect_plug(plug, broker)  # SetOption19 0 is the default
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(m.topic.endswith("/sensors") for m in ha.messages):
        time.sleep(0.1)
    mac = tasmota_mac(ha)
    config_msg = ha.wait("tasmota/discovery/%s/config" % mac)
    sensors_msg = ha.wait("tasmota/discovery/%s/sensors" % mac)
    kept = retained(broker, "tasmota/discovery/")
    assert set(kept) == {config_msg.topic, sensors_msg.topic}
    config = json.loads(config_msg.text)
    jsonschema.validate(config, TASMOTA_CONFIG)
    assert config["mac"] == mac  # the integration drops a config whose MAC differs from the topic's
    jsonschema.validate(json.loads(sensors_msg.text), TASMOTA_SENSORS)
    assert not [m for m in ha.messages if m.topic.startswith("homeassistant/")]
    # What the integration then does, answered as Tasmota answers it.
    online(ha)
    mark = ha.mark()
    ha.publish("cmnd/%s/POWER1" % TOPIC, config["state"][1])
    assert json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark).text) == {"POWER": "ON"}
    assert relay_on(plug)
    # Once the meter has measured power and voltage (the voltage comes a
    # window after the power: the BL0937's SEL pin takes turns).
    wait_until(lambda: {"Power", "Voltage"} <= set(plug.cmd("Status 10")["StatusSNS"]["ENERGY"]), timeout=15,
               what="power and voltage measured")
    ha.publish("cmnd/%s/STATUS" % TOPIC, "10")
    sns = json.loads(ha.wait("stat/%s/STATUS10" % TOPIC, since=mark).text)["StatusSNS"]
    assert {"Power", "Total", "Voltage"} <= set(sns["ENERGY"])
    ha.publish("cmnd/%s/STATE" % TOPIC, "")
    state = json.loads(ha.wait("stat/%s/RESULT" % TOPIC, since=mark, predicate=lambda m: "Wifi" in m.text).text)
    assert state["POWER"] == "ON" and "UptimeSec" in state and state["MqttCount"] == 1
    assert state["Wifi"]["SSId"] == "Home" and state["Wifi"]["LinkCount"] == 1


def render(config, payload):
    """What HA makes of `payload` with the entity's value_template.  These
    templates are one Jinja expression that is Python too ('a' if x == 'b'
    else 'c', `in` a list): evaluated with value_json's members as attributes."""
    template = config["value_template"]
    assert template.startswith("{{ ") and template.endswith(" }}"), template
    value_json = types.SimpleNamespace(**json.loads(payload))
    return str(eval(template[3:-3], {"__builtins__": {}}, {"value_json": value_json}))


def test_limits_reach_mqtt_and_has_alarm_entities(plug, broker, ha):
    """A margin: tele/…/MARGINS as Tasmota sends it; a MaxPower trip:
    stat/…/WARNING {"Time","MaxPowerReached"}; both in the retained
    tele/…/LIMITS that HA's alarm entities read; switching on over MQTT
    ends the latch."""
    connect_plug(plug, broker, extra=["SetOption19 1"])
    configs = wait_ha_configs(ha)
    trip, margin = configs[("binary_sensor", "trip")][0], configs[("binary_sensor", "margin")][0]
    limits = ha.wait("tele/%s/LIMITS" % TOPIC)
    assert render(trip, limits.payload) == "OFF" and render(margin, limits.payload) == "OFF"
    assert retained(broker, "tele/")["tele/%s/LIMITS" % TOPIC] == limits.payload  # HA restarting gets it
    mark = ha.mark()
    plug.cmd("PowerHigh 30")
    plug.cmd("Power on")  # the simulated load: 60 W
    assert json.loads(ha.wait("tele/%s/MARGINS" % TOPIC, since=mark, timeout=20).text) == \
        {"MARGINS": {"PowerHigh": "ON"}}
    limits = ha.wait("tele/%s/LIMITS" % TOPIC, since=mark, predicate=lambda m: b'"PowerHigh":"ON"' in m.payload)
    assert render(margin, limits.payload) == "ON" and render(trip, limits.payload) == "OFF"
    mark = ha.mark()
    plug.cmd("MaxPower 40")
    plug.cmd("MaxPowerHold 1")
    warning = json.loads(ha.wait("stat/%s/WARNING" % TOPIC, since=mark, timeout=20).text)
    assert set(warning) == {"Time", "MaxPowerReached"} and 55 <= warning["MaxPowerReached"] <= 65, warning
    assert ha.wait("stat/%s/POWER" % TOPIC, "OFF", since=mark).text == "OFF"
    limits = ha.wait("tele/%s/LIMITS" % TOPIC, since=mark, predicate=lambda m: b'"Tripped":"MaxPower"' in m.payload)
    assert render(trip, limits.payload) == "ON"
    assert json.loads(limits.text)["Limit"] == 40
    assert configs[("sensor", "trip_reason")][0]["value_template"] == "{{ value_json.Tripped }}"
    plug.cmd("MaxPower 0")
    mark = ha.mark()
    ha.publish("cmnd/%s/POWER" % TOPIC, "ON")
    limits = ha.wait("tele/%s/LIMITS" % TOPIC, since=mark, predicate=lambda m: b'"Tripped":"OFF"' in m.payload)
    assert render(trip, limits.payload) == "OFF"
    plug.wait_log(r"NRG: MaxPower trip reset: switched on \(mqtt\)")
