"""The project's own corpus of OpenBeken templates (tests/e2e/templates/corpus.json):
realistic plug templates written for this test in OpenBeken's format — long
names, channel 0, WiFiLED, every plug role, a command, image/wiki/keywords
and unknown members, one over 2 KB — and templates for hardware a plug does
not have.  Each one either applies (export gives it back whole, the export
re-imports identically, it survives a restart, and its roles work on the
simulated board) or is refused with its message and changes nothing.
"""
import json
import os
import time

import pytest

from simlib import DEFAULT_TEMPLATE, ROLES, wait_until

CORPUS = json.load(open(os.path.join(os.path.dirname(__file__), "templates", "corpus.json")))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def canonical(template):
    """The template as the plug exports it: role names in OpenBeken's main
    spelling (WiFiLED -> WifiLED), one channel per pin."""
    pins = {}
    for gpio, value in template["pins"].items():
        role, _, rest = value.partition(";")
        role = next(r for r in ROLES if r.lower() == role.lower())
        pins[gpio] = "%s;%s" % (role, rest.split(";")[0] if rest else "1")
    return dict(template, pins=pins)


def check_roles(plug, checks):
    """The roles of an applied template at work on the simulated board."""
    for power, gpio in checks.get("relay", {}).items():
        assert plug.cmd(power + " on")[power if len(checks["relay"]) > 1 else "POWER"] == "ON"
        assert plug.pins()[gpio]["level"] == 1, (power, gpio)
        plug.cmd(power + " off")
        assert plug.pins()[gpio]["level"] == 0, (power, gpio)
    if "button" in checks:
        mark = plug.mark()
        plug.press(checks["button"])
        plug.wait_log(r"PWR: channel 1 ON \(button\)", since=mark)
        gpio = list(checks["relay"].values())[0]
        assert plug.pins()[gpio]["level"] == 1
        plug.cmd("Power1 off")
    for command, gpio in checks.get("channel", {}).items():
        plug.cmd(command + " 1")
        assert plug.pins()[gpio]["level"] == 1
        plug.cmd(command + " 0")
        assert plug.pins()[gpio]["level"] == 0
    if "led" in checks:
        led = checks["led"]
        plug.cmd("Power on")
        assert plug.pins()[led["gpio"]]["level"] == (0 if led["inverted"] else 1)
        plug.cmd("Power off")
        assert plug.pins()[led["gpio"]]["level"] == (1 if led["inverted"] else 0)
    if "wifiled" in checks:
        assert plug.pins()[checks["wifiled"]]["mode"] == "output"
    if "switch" in checks:
        gpio = checks["switch"]
        assert plug.pins()[gpio]["mode"] == "input_pullup"
        for position, state in (("on", "ON"), ("off", "OFF"), ("on", "ON")):
            mark = plug.mark()
            assert plug.world("switch %d %s" % (gpio, position)).startswith("ok")
            plug.wait_log(r"PWR: channel 1 %s \(button\)" % state, since=mark)
    if "toggle_all" in checks:
        relays = checks["relays"]
        plug.cmd("Power2 on")
        mark = plug.mark()
        plug.press(checks["toggle_all"])  # one is on: all off
        plug.wait_log(r"BTN: button \d+ click", since=mark)
        wait_until(lambda: all(plug.pins()[g]["level"] == 0 for g in relays), what="every relay off")
        time.sleep(0.5)  # past the double-click time
        mark = plug.mark()
        plug.press(checks["toggle_all"])  # all off: all on
        plug.wait_log(r"BTN: button \d+ click", since=mark)
        wait_until(lambda: all(plug.pins()[g]["level"] == 1 for g in relays), what="every relay on")
    for gpio, level in checks.get("always", {}).items():
        pin = plug.pins()[int(gpio)]
        assert pin["mode"] == "output" and pin["level"] == level, (gpio, pin)
    if "pwm" in checks:
        gpio = checks["pwm"]
        assert plug.cmd("Power on") == {"POWER": "ON"}
        assert plug.pins()[gpio]["level"] == 1 and "pwm" not in plug.pins()[gpio]  # full brightness: a level
        assert plug.cmd("LedPwmOn 128") == {"LedPwmOn": 128}
        assert plug.pins()[gpio]["pwm"] == 502
        assert plug.cmd("LedPwmOff 20") == {"LedPwmOff": 20}
        plug.cmd("Power off")
        assert plug.pins()[gpio]["pwm"] == 78
        plug.cmd("LedPwmOn 255")
        plug.cmd("LedPwmOff 0")
        assert plug.pins()[gpio]["level"] == 0 and "pwm" not in plug.pins()[gpio]
    if "script_button" in checks:
        mark = plug.mark()
        plug.press(checks["script_button"])
        plug.wait_log(r"BTN: button \d+ click", since=mark)
        time.sleep(0.2)
        assert plug.log_lines(r"PWR: channel", since=mark) == []


@pytest.mark.parametrize("case", [c for c in CORPUS if c["expect"] == "applied"], ids=lambda c: c["id"])
def test_corpus_template_applies(plug, case):
    reply = plug.cmd("Template " + compact(case["template"]))
    template = canonical(case["template"])
    assert reply == template, reply
    assert list(reply) == ["name"] + [k for k in template if k not in ("name", "pins", "command")] + ["pins", "command"]
    assert plug.cmd("Status")["Status"]["Template"] == template["name"]
    exported = plug.cmd("Template")
    assert exported == template
    assert plug.cmd("Template " + compact(exported)) == exported  # import -> export -> import
    check_roles(plug, case.get("checks", {}))
    plug.restart()
    assert plug.cmd("Template") == template


@pytest.mark.parametrize("case", [c for c in CORPUS if c["expect"] == "refused"], ids=lambda c: c["id"])
def test_corpus_template_is_refused(plug, case):
    before = plug.pins()
    reply = plug.cmd("Template " + compact(case["template"]))
    assert reply.get("Command") == "Error", reply
    assert case["error"] in reply["Error"], reply
    assert reply["Error"].endswith("the current template is kept"), reply
    assert plug.cmd("Template") == DEFAULT_TEMPLATE
    assert plug.pins()[2] == before[2]


def test_corpus_covers_every_role_and_quirk():
    applied = [c["template"] for c in CORPUS if c["expect"] == "applied"]
    roles = {value.split(";")[0] for t in applied for value in t["pins"].values()}
    for role in ["Rel", "Btn", "Btn_n", "LED", "LED_n", "WifiLED", "WiFiLED_n", "TglChanOnTgl", "Btn_Tgl_All",
                 "AlwaysHigh", "AlwaysLow", "PWM", "Btn_ScriptOnly", "BL0937CF", "BL0937CF1", "BL0937SEL"]:
        assert role in roles, role
    assert any(len(t["name"]) > 32 for t in applied)
    assert any(len(compact(t)) > 2048 for t in applied)
    assert any(v.endswith(";0") and v.startswith("Rel") for t in applied for v in t["pins"].values())
    assert any(t["command"] for t in applied)
