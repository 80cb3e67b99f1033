"""Replies of any length over every way in, and valid JSON from every command.

Covers: a 2 KB OpenBeken template imported through /cm (GET and POST),
/api/command, /api/template and MQTT; Help and Status 0 complete over HTTP
(chunked), MQTT (Status 0 split into Tasmota's STATUSn messages, Help in
parts) and the console, with the next command's reply still arriving;
Help <command>; and every command of the registry, with no argument and
with a typical one, over HTTP and MQTT: each reply parses as JSON with no
duplicate key.
"""
import json
import os
import urllib.parse

import pytest

from mqttlib import HA, Broker
from simlib import wait_until
from weblib import curl, start_web_plug

TOPIC = "plugtest"
WIFI = ("--wifi", "Home:correct-horse")
JOIN = ["SSId1 Home", "Password1 correct-horse"]
CORPUS = json.load(open(os.path.join(os.path.dirname(__file__), "templates", "corpus.json")))
LARGE = next(c["template"] for c in CORPUS if c["id"] == "large-2kb")
SM028 = next(c["template"] for c in CORPUS if c["id"] == "sm028-long-name")


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def strict(text):
    """Parse JSON, refusing a key twice in one object."""
    def pairs(items):
        keys = [k for k, _ in items]
        assert len(keys) == len(set(keys)), "duplicate key in %s" % text[:300]
        return dict(items)
    return json.loads(text, object_pairs_hook=pairs)


@pytest.fixture
def web(make_plug):
    return start_web_plug(make_plug, *WIFI)


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


def connect(plug, broker):
    mark = plug.mark()
    commands = JOIN + ["Topic %s" % TOPIC, "MqttPort %d" % broker.port, "MqttHost 127.0.0.1"]
    plug.replies("Backlog " + "; ".join(commands), len(commands))
    plug.wait_log(r"MQT: subscriptions acknowledged", since=mark, timeout=10)


def test_large_template_through_every_http_way(web):
    assert len(compact(LARGE)) > 2048
    line = "Template " + compact(LARGE)
    r = curl(web.base + "/cm?cmnd=" + urllib.parse.quote(line))
    assert r.status == 200 and strict(r.body) == LARGE, r
    web.cmd("Template " + compact(SM028))
    r = curl(web.base + "/cm", data="cmnd=" + urllib.parse.quote_plus(line),
             headers=["Content-Type: application/x-www-form-urlencoded"])
    assert r.status == 200 and strict(r.body) == LARGE, r
    web.cmd("Template " + compact(SM028))
    r = curl(web.base + "/api/command", data=json.dumps({"cmnd": line}))
    assert r.status == 200 and strict(r.body) == LARGE, r
    web.cmd("Template " + compact(SM028))
    r = curl(web.base + "/api/template", data=compact(LARGE))
    assert r.status == 200 and strict(r.body) == LARGE, r
    r = curl(web.base + "/api/template")
    assert r.status == 200 and strict(r.body) == LARGE, r
    # refusals: 400 with the reason; an empty pin map only when asked for
    r = curl(web.base + "/api/template", data='{"name":"bare","pins":{}}')
    assert r.status == 400 and "the pin map is empty" in r.json()["error"], r
    r = curl(web.base + "/api/template?empty=1", data='{"name":"bare","pins":{}}')
    assert r.status == 200 and r.json() == {"name": "bare", "pins": {}, "command": LARGE["command"]}, r


def test_large_template_over_mqtt(plug_wifi, broker, ha):
    connect(plug_wifi, broker)
    mark = ha.mark()
    ha.publish("cmnd/%s/Template" % TOPIC, compact(LARGE))
    reply = ha.wait("stat/%s/RESULT" % TOPIC, since=mark, predicate=lambda m: m.text.startswith('{"name"'))
    assert strict(reply.text) == LARGE
    assert plug_wifi.cmd("Template") == LARGE


@pytest.fixture
def plug_wifi(make_plug):
    return make_plug(None, *WIFI)


def test_help_and_status0_complete_over_http(web):
    console = web.help_commands()
    assert len(console) >= 70
    r = curl(web.base + "/cm?cmnd=Help")
    assert r.status == 200 and r.headers.get("transfer-encoding") == "chunked", r
    assert strict(r.body) == {"Commands": console}
    r = curl(web.base + "/cm?cmnd=Help%20Power")
    assert strict(r.body) == {"Commands": {"Power": console["Power"]}}
    assert strict(curl(web.base + "/cm?cmnd=Help%20Nothing").body)["Command"] == "Error"
    r = curl(web.base + "/cm?cmnd=Status%200")
    status = strict(r.body)
    assert {"Status", "StatusPRM", "StatusFWR", "StatusTIM", "StatusSTS"} <= set(status), status
    # a Backlog of long replies: all of them, in one object
    r = curl(web.base + "/cm?cmnd=" + urllib.parse.quote("Backlog Help; Status 0; Template"))
    both = strict(r.body)
    assert both["Commands"] == console and both["StatusFWR"] == status["StatusFWR"] and "pins" in both


def test_help_and_status0_complete_over_mqtt(plug_wifi, broker, ha):
    connect(plug_wifi, broker)
    console = plug_wifi.help_commands()
    mark = ha.mark()
    ha.publish("cmnd/%s/Help" % TOPIC, "")
    ha.publish("cmnd/%s/Status" % TOPIC, "0")
    ha.publish("cmnd/%s/Power" % TOPIC, "on")

    def got():
        msgs = ha.messages[mark:]
        return any(m.topic == "stat/%s/RESULT" % TOPIC and m.text == '{"POWER":"ON"}' for m in msgs) and msgs
    msgs = wait_until(got, timeout=10, what="the Power reply after Help and Status 0")
    listed = {}
    for m in msgs:
        if m.topic == "stat/%s/RESULT" % TOPIC and m.text.startswith('{"Commands"'):
            listed.update(strict(m.text)["Commands"])
    assert listed == console  # Help in parts, none lost
    parts = {m.topic.rsplit("/", 1)[1]: strict(m.text) for m in msgs if "/STATUS" in m.topic}
    for suffix, key in (("STATUS", "Status"), ("STATUS1", "StatusPRM"), ("STATUS2", "StatusFWR"),
                        ("STATUS7", "StatusTIM"), ("STATUS11", "StatusSTS")):
        assert list(parts[suffix]) == [key], parts
    assert "reply dropped" not in " ".join(plug_wifi.log_lines(r"MQT:"))


# A typical argument for every command (indexed ones with their index).
TYPICAL = {
    "Power": "Power1 on", "PowerOnState": "PowerOnState 3", "SetStartValue": "SetStartValue 1 -1",
    "setChannel": "setChannel 1 1", "toggleChannel": "toggleChannel 1", "LedPwmOn": "LedPwmOn 200",
    "LedPwmOff": "LedPwmOff 0", "Status": "Status 0", "Restart": "Restart 0", "Reset": "Reset 0",
    "DeviceName": "DeviceName Kitchen plug", "Template": "Template " + compact(SM028), "Pin": "Pin 4 LED;1",
    "startDriver": "startDriver NTP", "PowerSet": "PowerSet 100", "VoltageSet": "VoltageSet 230",
    "CurrentSet": "CurrentSet 0.5", "PowerCal": "PowerCal 1707150", "VoltageCal": "VoltageCal 156710",
    "CurrentCal": "CurrentCal 12870", "EnergyTotal": "EnergyTotal 1.5", "EnergyToday": "EnergyToday 0.2",
    "EnergyReset": "EnergyReset 1", "EnergySaveWh": "EnergySaveWh 10", "MaxPower": "MaxPower 0",
    "PowerLow": "PowerLow 0", "PowerHigh": "PowerHigh 0", "VoltageLow": "VoltageLow 0", "VoltageHigh": "VoltageHigh 0",
    "CurrentLow": "CurrentLow 0", "CurrentHigh": "CurrentHigh 0", "MaxPowerWindow": "MaxPowerWindow 0",
    "SetOption33": "SetOption33 5", "MaxEnergy": "MaxEnergy 0", "MaxEnergyStart": "MaxEnergyStart 0",
    "MaxVoltage": "MaxVoltage 0", "MinVoltage": "MinVoltage 0", "VoltageHold": "VoltageHold 0",
    "PulseTime": "PulseTime1 0",
    "MaxPowerHold": "MaxPowerHold 10", "Time": "Time 0", "NtpServer": "NtpServer1 0.pool.ntp.org",
    "Timezone": "Timezone 1", "TimeStd": "TimeStd 0,0,10,1,3,60", "TimeDst": "TimeDst 0,0,3,1,2,120",
    "SafeMode": "SafeMode 2", "StartupCommand": 'StartupCommand ""', "startScript": "startScript none.bat",
    "stopAllScripts": "stopAllScripts 1", "SSDP": "SSDP 1", "delay_s": "delay_s 1", "if": "if 1 then Power",
    "addEventHandler": "addEventHandler OnClick 17 Power toggle", "addRepeatingEvent": "addRepeatingEvent 60 1 Power",
    "addClockEvent": "addClockEvent 10:30 0x7F Power", "Latitude": "Latitude 52.5", "Timer": "Timer1", "Timers": "Timers", "Longitude": "Longitude 13.4",
    "listEvents": "listEvents 1", "clearEvents": "clearEvents 1", "SetupEnergyStats": "SetupEnergyStats 1 60 60",
    "OtaUrl": "OtaUrl http://127.0.0.1:1/fw.bin", "Upgrade": "Upgrade 0", "OtaStatus": "OtaStatus 1",
    "OtaConfirm": "OtaConfirm 1", "OtaKey": "OtaKey 0", "MqttHost": "MqttHost 0", "MqttPort": "MqttPort 1883",
    "MqttUser": "MqttUser 0", "MqttPassword": "MqttPassword 0", "MqttClient": "MqttClient 0",
    "Topic": "Topic " + TOPIC, "GroupTopic": "GroupTopic openplugs", "FullTopic": "FullTopic %prefix%/%topic%/",
    "TelePeriod": "TelePeriod 300", "MqttTLS": "MqttTLS 0", "MqttFingerprint": "MqttFingerprint 0",
    "MqttCA": "MqttCA 0", "SetOption19": "SetOption19 0", "PowerDelta": "PowerDelta 0", "MqttStatus": "MqttStatus 1",
    "State": "State 1", "Backlog": "Backlog Power on; Status 11", "Help": "Help Power", "SSId": "SSId2 Office",
    "Password": "Password2 secret-words", "WebPassword": "WebPassword 0", "WebHosts": "WebHosts plug.example",
}
# Over MQTT these would drop the connection the test listens on: no argument only.
MQTT_NO_ARG = {"MqttHost", "MqttPort", "MqttUser", "MqttPassword", "MqttClient", "Topic", "GroupTopic", "FullTopic",
               "MqttTLS", "MqttFingerprint", "MqttCA", "SSId", "Password", "SetOption19"}


def lines_for(commands, mqtt=False):
    lines = []
    for name in sorted(commands):
        lines.append(name)
        if not (mqtt and name in MQTT_NO_ARG):
            lines.append(TYPICAL[name])
    return lines


def test_every_command_has_a_typical_argument(plug):
    missing = set(plug.help_commands()) - set(TYPICAL)
    assert not missing, "add a typical argument for %s" % sorted(missing)


def test_every_command_replies_valid_json_over_http(web):
    commands = web.help_commands()
    for line in lines_for(commands):
        r = curl(web.base + "/cm?cmnd=" + urllib.parse.quote(line))
        assert r.status == 200, (line, r)
        reply = strict(r.body)
        assert isinstance(reply, dict) and reply, (line, r.body)


def test_every_command_replies_valid_json_over_mqtt(plug_wifi, broker, ha):
    connect(plug_wifi, broker)
    commands = plug_wifi.help_commands()
    end_marker = compact({"Commands": {"Reset": commands["Reset"]}})
    for line in lines_for(commands, mqtt=True):
        name, _, arg = line.partition(" ")
        mark = ha.mark()
        ha.publish("cmnd/%s/%s" % (TOPIC, name), arg)
        ha.publish("cmnd/%s/Help" % TOPIC, "Reset")  # its reply marks the end of the command's replies

        def done():
            msgs = ha.messages[mark:]
            ends = [i for i, m in enumerate(msgs) if m.topic == "stat/%s/RESULT" % TOPIC and m.text == end_marker]
            return msgs[:ends[-1]] if ends else None
        msgs = wait_until(done, timeout=10, what="the replies to %r" % line)
        replies = [m for m in msgs if m.topic.startswith("stat/%s/" % TOPIC) and m.topic.rsplit("/", 1)[1]
                   in ("RESULT",) + tuple("STATUS%s" % n for n in ("", 1, 2, 7, 8, 10, 11))]
        assert replies or name in ("delay_s",), line
        for m in replies:
            reply = strict(m.text)
            assert isinstance(reply, dict) and reply, (line, m.text)


def test_total_start_time_is_the_epoch_until_the_clock_is_set(plug):
    # as Tasmota: its unset time prints as the epoch (like "Time"), never ""
    energy = wait_until(lambda: plug.cmd("Status 8")["StatusSNS"].get("ENERGY"), timeout=10, what="metering")
    assert energy["TotalStartTime"] == "1970-01-01T00:00:00"
    plug.cmd("Time 1767225600")  # 2026-01-01 00:00 UTC
    wait_until(lambda: plug.cmd("Status 8")["StatusSNS"]["ENERGY"]["TotalStartTime"].startswith("2026-01-01T00:0"),
               timeout=10, what="TotalStartTime set when the clock is")
