"""A fleet of simulated plugs on one mosquitto, for tests/e2e/test_fleet.py
(10 plugs) and bench/fleet.py (100): processes on the loopback, each with
its own flash, world, seed (so its own MAC, topic and random source: the
jitter of its MQTT back-off) and topic `fleetNNN`, all in the group topic
`fleet`.

- Fleet.start() / connect(): boot every plug, join Wi-Fi, point it at the
  broker; returns once the broker acknowledged every plug's subscriptions.
- ha_discovery() / tasmota_discovery(): what a subscriber joining now (HA
  restarting) finds retained, checked against HA's rules: the JSON Schemas
  of tests/e2e/test_hass.py made for each plug's topic, unique ids, nodes
  and MACs across the fleet.
- group(): one message on the group topic; wait for every plug's answer.
- restart_broker(): stop and start mosquitto; every plug's reconnect delay
  in its own device time (from losing the broker to connected again) and
  the back-off each one chose.
- cpu_seconds(): user + system CPU of each plug's process (/proc).
- documented_acl(): the mosquitto ACL that docs/fleet.md gives.

Every wait is bounded (scaled by the fleet's size).
"""
import json
import os
import re
import time

import jsonschema

import simlib
import test_hass
from mqttlib import HA
from test_mqtt import WIFI

GROUP = "fleet"
SCHEMA_TOPIC = test_hass.TOPIC  # the topic test_hass's schemas name
CLK_TCK = os.sysconf("SC_CLK_TCK")


def topic_of(i):
    return "fleet%03d" % i


def for_topic(schema, topic):
    """test_hass's schema for a plug whose topic is `topic`."""
    return json.loads(json.dumps(schema).replace(SCHEMA_TOPIC, topic))


class Fleet:
    def __init__(self, workdir, sockdir, broker, size, first_seed=1000):
        self.broker = broker
        self.plugs = []
        for i in range(size):
            flash = os.path.join(str(workdir), "fleet%03d.bin" % i)
            world = os.path.join(str(sockdir), "f%d" % i)
            self.plugs.append(simlib.Plug(flash, world, *WIFI, "--seed", str(first_seed + i)))
        self.topics = [topic_of(i) for i in range(size)]
        self.auth = None  # (user, password) of HA's account, when the broker wants one

    def __len__(self):
        return len(self.plugs)

    def start(self):
        for plug in self.plugs:
            plug.start(wait_boot=False)
        for plug in self.plugs:
            plug.wait_log(plug.BOOTED_RE, since=plug.boot_mark, timeout=10 + len(self) / 5)
        return self

    def connect(self, extra=(), per_plug=lambda topic: []):
        """Join, topic, group topic, `extra` commands and per_plug(topic)'s,
        then the broker."""
        marks = []
        for plug, topic in zip(self.plugs, self.topics):
            commands = ["SSId1 Home", "Password1 correct-horse", "Topic " + topic, "GroupTopic " + GROUP]
            commands += list(extra) + per_plug(topic) + ["MqttPort %d" % self.broker.port, "MqttHost 127.0.0.1"]
            marks.append(plug.mark())
            plug.send("Backlog " + "; ".join(commands))
        for plug, mark in zip(self.plugs, marks):
            plug.wait_log(r"MQT: subscriptions acknowledged", since=mark, timeout=20 + len(self) / 2)
        return self

    def stop(self):
        for plug in self.plugs:
            plug.kill()

    # -- discovery, as a subscriber joining now finds it --

    def retained(self, prefix):
        """{topic: payload} of what a subscriber joining now gets retained
        (all of it once a marker it publishes after subscribing comes back)."""
        late = HA(self.broker.port, subscribe=(prefix + "#",), client_id="late-%d" % time.monotonic_ns(),
                  auth=self.auth)
        try:
            marker = prefix + "test-marker-%d" % time.monotonic_ns()
            late.publish(marker, "end")
            late.wait(marker, timeout=20 + len(self) / 2)
            return {m.topic: m.payload for m in late.messages if m.retain}
        finally:
            late.close()

    def ha_discovery(self):
        """{topic: {(component, object): config}} of the retained HA configs,
        checked against HA's rules; raises AssertionError otherwise."""
        found = {}
        unique_ids, nodes = set(), {}
        for config_topic, payload in self.retained("homeassistant/").items():
            match = test_hass.HA_TOPIC.match(config_topic)
            assert match, config_topic
            if not payload:
                continue
            config = json.loads(payload)
            topic = config["availability_topic"].split("/")[1]
            key = (match.group(1), match.group("object"))
            jsonschema.validate(config, for_topic(test_hass.HA_SCHEMAS[key], topic))
            assert config["unique_id"] not in unique_ids, "unique_id twice: %s" % config["unique_id"]
            unique_ids.add(config["unique_id"])
            assert nodes.setdefault(match.group("node"), topic) == topic, "node shared: %s" % config_topic
            found.setdefault(topic, {})[key] = config
        return found

    def wait_ha_discovery(self, timeout=None):
        """Every plug announced with every HA entity (retained)."""
        want = set(test_hass.HA_SCHEMAS)
        return self._wait_discovery(self.ha_discovery, lambda entities: set(entities) == want, timeout)

    def tasmota_discovery(self):
        """{topic: (config, sensors)} of the retained Tasmota discovery,
        checked as HA's Tasmota integration reads it."""
        kept = self.retained("tasmota/discovery/")
        found, macs = {}, set()
        for config_topic, payload in kept.items():
            match = re.match(r"^tasmota/discovery/([0-9A-F]{12})/config$", config_topic)
            if not match or not payload:
                continue
            config = json.loads(payload)
            jsonschema.validate(config, for_topic(test_hass.TASMOTA_CONFIG, config["t"]))
            assert config["mac"] == match.group(1)  # the integration drops a config whose MAC differs
            assert config["mac"] not in macs, "MAC twice: %s" % config["mac"]
            macs.add(config["mac"])
            sensors = kept.get("tasmota/discovery/%s/sensors" % config["mac"])
            if sensors:
                jsonschema.validate(json.loads(sensors), test_hass.TASMOTA_SENSORS)
            found[config["t"]] = (config, sensors)
        return found

    def wait_tasmota_discovery(self, timeout=None):
        return self._wait_discovery(self.tasmota_discovery, lambda entry: entry[1] is not None, timeout)

    def _wait_discovery(self, read, complete, timeout):
        deadline = time.monotonic() + (timeout or 20 + len(self) / 2)
        while True:
            found = read()
            missing = [t for t in self.topics if t not in found or not complete(found[t])]
            if not missing:
                return found
            if time.monotonic() > deadline:
                raise AssertionError("%d plugs not (fully) discovered: %s" % (len(missing), missing[:10]))
            time.sleep(0.2)

    # -- the group topic --

    def group(self, ha, command, payload, answer_topic, answer=None):
        """Publish cmnd/fleet/<command> once; wait for `answer_topic` (with
        %s for each plug's topic) from every plug.  Returns the seconds from
        the publish to each plug's answer (as HA received them)."""
        mark = ha.mark()
        start = time.monotonic()
        ha.publish("cmnd/%s/%s" % (GROUP, command), payload)
        times = []
        for topic in self.topics:
            m = ha.wait(answer_topic % topic, answer, since=mark, timeout=10 + len(self) / 5)
            times.append(m.at - start)
        return times

    # -- the broker restarts --

    def restart_broker(self):
        """Stop mosquitto, start it again (same port); wait until every plug
        is back with its subscriptions.  Returns (delays, backoffs): per plug
        the seconds of its own device time from the broker's loss to
        connected again, and the back-off delays (ms) it chose meanwhile."""
        marks = [plug.mark() for plug in self.plugs]
        self.broker.restart()
        delays, backoffs = [], []
        for plug, mark in zip(self.plugs, marks):
            plug.wait_log(r"MQT: subscriptions acknowledged", since=mark, timeout=30 + len(self) / 2)
            lines = plug.lines[mark:]
            chosen = [int(m.group(1)) for m in (re.search(r"MQT: next attempt in (\d+) ms", line)
                                                for line in lines) if m]
            assert chosen, "no back-off logged: %s" % lines[-20:]
            lost = next(line for line in lines if "MQT: next attempt in" in line)
            back = next(line for line in lines if re.search(r"MQT: connected to", line))
            delays.append(simlib.log_seconds(back) - simlib.log_seconds(lost))
            backoffs.append(chosen)
        return delays, backoffs

    # -- cost --

    def cpu_seconds(self):
        """User + system CPU seconds of each plug's process so far."""
        return [proc_cpu_seconds(plug.proc.pid) for plug in self.plugs]


def documented_acl():
    """The mosquitto ACL of docs/fleet.md, as the page shows it."""
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "fleet.md")) as f:
        page = f.read()
    block = page.split("# /etc/mosquitto/acl\n", 1)[1].split("```", 1)[0]
    return block.replace("cmnd/openplugs/", "cmnd/%s/" % GROUP)


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def spread(values):
    return max(values) - min(values)


def busiest_window(times, width):
    """The most events within any window of `width` seconds."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - width:
            j += 1
        best = max(best, i - j + 1)
    return best
