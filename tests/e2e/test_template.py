"""Templates (OpenBeken JSON) and the Pin command.

Covers: the default SM-028_V1.3 template; importing a full OpenBeken
template that moves the relay to GPIO5 and the button to GPIO22 (the board
is re-wired at once: the new button toggles the new relay, the old pins are
released, and all of it survives a restart without a relay glitch); bad
templates (malformed JSON, unknown role, GPIO 40, no pins, bad channel)
are refused with a clear error and the old template is kept, also after a
restart; the printed template re-imports identically; Pin shows and sets
one pin.
"""
import json
import time

import pytest

from simlib import BUTTON_GPIO, DEFAULT_TEMPLATE, LED_GPIO, RELAY_GPIO, steady

MOVED = {
    "vendor": "Tuya", "bDetailed": "0", "name": "Moved plug", "model": "SM-028", "chip": "BL602",
    "board": "SM-028_V1.3", "flags": "1024", "keywords": ["plug", "BL0937"], "command": "",
    "pins": {"5": "Rel;1", "22": "Btn;1", "20": "LED_n;1", "3": "BL0937CF1;0", "14": "BL0937CF;0",
             "21": "BL0937SEL;0"},
    "image": "", "wiki": "", "extra": {"nested": [1, 2.5e3, -3, True, False, None, {"a": "b"}]},
}
# Exported whole: name, every other member kept, pins, command.
MOVED_REPLY = MOVED


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def test_default_template(plug):
    assert plug.cmd("Template") == DEFAULT_TEMPLATE
    pins = plug.pins()
    assert pins[RELAY_GPIO]["mode"] == "output"
    assert pins[LED_GPIO]["mode"] == "output"
    assert pins[BUTTON_GPIO]["mode"] == "input_pullup"
    assert pins[3]["mode"] == "input" and pins[14]["mode"] == "input"  # BL0937 CF1, CF
    assert pins[21]["mode"] == "output"  # SEL, driven by the metering driver
    assert plug.cmd("Status")["Status"]["Template"] == "SM-028_V1.3"


def test_import_moves_relay_and_button(plug):
    reply = plug.cmd("Template " + compact(MOVED))
    assert reply == MOVED_REPLY
    assert plug.cmd("Template") == MOVED_REPLY
    pins = plug.pins()
    assert pins[5]["mode"] == "output" and pins[5]["level"] == 0
    assert pins[22]["mode"] == "input_pullup"
    assert pins[RELAY_GPIO]["mode"] == "disabled", "old relay pin not released"
    assert pins[BUTTON_GPIO]["mode"] == "disabled", "old button pin not released"

    # the new button toggles the new relay, the LED follows
    mark = plug.mark()
    plug.press(22)
    plug.wait_log(r"BTN: button 1 click", since=mark)
    plug.wait_log(r"PWR: channel 1 ON \(button\)", since=mark)
    pins = plug.pins()
    assert (pins[5]["level"], pins[LED_GPIO]["level"]) == (1, 0)
    assert pins[RELAY_GPIO]["changes"] == 0 and pins[RELAY_GPIO]["level"] == 0

    # the old button does nothing any more
    time.sleep(0.45)
    mark = plug.mark()
    plug.press(BUTTON_GPIO)
    time.sleep(0.3)
    assert plug.log_lines(r"BTN:|PWR:", since=mark) == []
    assert plug.pins()[5]["level"] == 1

    # Power drives GPIO5 now
    assert plug.cmd("Power off") == {"POWER": "OFF"}
    assert plug.pins()[5]["level"] == 0
    assert plug.cmd("Power on") == {"POWER": "ON"}

    plug.restart()
    assert plug.cmd("Template") == MOVED_REPLY
    assert plug.cmd("Status")["Status"]["Template"] == "Moved plug"
    pins = plug.pins()
    assert pins[5] == {"mode": "output", "level": 1, "changes": 0}
    assert pins[LED_GPIO] == {"mode": "output", "level": 0, "changes": 0}
    assert pins[RELAY_GPIO]["mode"] == "disabled" and pins[RELAY_GPIO]["changes"] == 0
    assert pins[22]["mode"] == "input_pullup" and pins[BUTTON_GPIO]["mode"] == "disabled"
    mark = plug.mark()
    plug.press(22)
    plug.wait_log(r"PWR: channel 1 OFF \(button\)", since=mark)
    assert plug.pins()[5]["level"] == 0


BAD_TEMPLATES = [
    ("malformed", '{"name":"x","pins":{"2":"Rel;1"', "not valid JSON"),
    ("not_json", "Rel;1 on 2", "not valid JSON"),
    ("trailing", '{"pins":{"2":"Rel;1"}} x', "not valid JSON"),
    ("unknown_role", '{"pins":{"2":"Relay;1"}}', "unknown pin role 'Relay'"),
    ("gpio_40", '{"pins":{"2":"Rel;1","40":"Btn;1"}}', "GPIO 40"),
    ("gpio_23", '{"pins":{"23":"Rel;1"}}', "GPIO 23"),
    ("gpio_text", '{"pins":{"two":"Rel;1"}}', "GPIO"),
    ("missing_pins", '{"name":"no pins here","flags":"0"}', '"pins"'),
    ("pins_not_object", '{"pins":["Rel;1"]}', '"pins" must be an object'),
    ("bad_channel", '{"pins":{"2":"Rel;9"}}', "channel"),
    ("name_too_long", '{"name":"%s","pins":{"2":"Rel;1"}}' % ("n" * 129), "name longer than 128 characters"),
    ("empty_pins", '{"name":"bare","pins":{}}', "the pin map is empty"),
    ("ir_role", '{"pins":{"2":"Rel;1","5":"IRRecv;0"}}', "role 'IRRecv' refused: a plug has no infrared receiver"),
]


@pytest.mark.parametrize("text, error", [b[1:] for b in BAD_TEMPLATES], ids=[b[0] for b in BAD_TEMPLATES])
def test_bad_template_is_refused_and_old_kept(plug, text, error):
    assert plug.cmd("Template " + compact(MOVED)) == MOVED_REPLY
    before_pins = plug.pins()
    reply = plug.cmd("Template " + text)
    assert reply.get("Command") == "Error", reply
    assert reply["Error"].startswith("Template: "), reply
    assert error in reply["Error"], reply
    assert "kept" in reply["Error"], reply
    assert plug.cmd("Template") == MOVED_REPLY
    assert steady(plug.pins()) == steady(before_pins)
    plug.restart()
    assert plug.cmd("Template") == MOVED_REPLY
    assert plug.pins()[5]["mode"] == "output"


def test_template_round_trip(plug):
    # the default template prints and re-imports identically
    printed = plug.cmd("Template")
    assert plug.cmd("Template " + compact(printed)) == printed
    # every role, several channels, a name that needs escaping
    template = {"name": 'Desk "A" \\ 2',
                "pins": {"0": "Rel_n;2", "1": "LED;2", "2": "Rel;1", "4": "WifiLED;0", "5": "WifiLED_n;0",
                         "6": "Btn_n;2", "7": "BL0937SEL_n;0", "3": "BL0937CF1;0", "14": "BL0937CF;0",
                         "17": "Btn;1", "20": "LED_n;1", "21": "BL0937SEL;0", "22": "LED_n;2"}}
    first = plug.cmd("Template " + compact(template))
    assert first["name"] == template["name"]
    assert first["pins"] == template["pins"]
    assert list(first["pins"]) == sorted(first["pins"], key=int), "pins not printed in GPIO order"
    assert plug.cmd("Template " + compact(first)) == first
    assert plug.cmd("Template") == first
    plug.restart()
    assert plug.cmd("Template") == first


def test_role_names_are_case_insensitive_and_channel_defaults(plug):
    reply = plug.cmd('Template {"pins":{"2":"rel","17":"BTN;1","20":"led_N"}}')
    assert reply == {"name": "", "pins": {"2": "Rel;1", "17": "Btn;1", "20": "LED_n;1"}, "command": ""}


def test_pin_command(plug):
    assert plug.cmd("Pin 2") == {"Pin2": "Rel;1"}
    assert plug.cmd("Pin 4") == {"Pin4": "none"}
    assert plug.cmd("Pin 4 LED;1") == {"Pin4": "LED;1"}
    pins = plug.pins()
    assert pins[4]["mode"] == "output" and pins[4]["level"] == 0
    assert plug.cmd("Power on") == {"POWER": "ON"}
    assert plug.pins()[4]["level"] == 1
    assert plug.cmd("Template")["pins"]["4"] == "LED;1"
    plug.restart()
    assert plug.cmd("Pin 4") == {"Pin4": "LED;1"}
    assert plug.pins()[4] == {"mode": "output", "level": 1, "changes": 0}
    assert plug.cmd("Pin 4 none") == {"Pin4": "none"}
    assert plug.pins()[4]["mode"] == "disabled"
    # a channel given with "none" is dropped, so that the template round-trips
    assert plug.cmd("Pin 4 none;3") == {"Pin4": "none"}
    template = plug.cmd('Template {"pins":{"2":"Rel;1","4":"none;2","17":"Btn;1"}}')
    assert template == {"name": "", "pins": {"2": "Rel;1", "17": "Btn;1"}, "command": ""}
    assert plug.cmd("Template " + compact(template)) == template
    for bad in ["Pin 23", "Pin x", "Pin", "Pin 4 Bogus;1", "Pin 4 Rel;7", "Pin -1"]:
        reply = plug.cmd(bad)
        assert reply.get("Command") == "Error", (bad, reply)
    assert plug.cmd("Pin 4") == {"Pin4": "none"}


def test_led_brightness_by_pwm_where_the_pin_has_a_free_unit(plug):
    # GPIO 1 and 6 share the BL602's PWM unit 1: the first gets the wave, the other falls back to on/off
    reply = plug.cmd('Template {"name":"two dimmed LEDs","pins":{"2":"Rel;1","1":"LED;1","6":"PWM_n;1"}}')
    assert reply["pins"] == {"1": "LED;1", "2": "Rel;1", "6": "PWM_n;1"}
    assert plug.cmd("LedPwmOn 100") == {"LedPwmOn": 100}
    plug.cmd("Power on")
    pins = plug.pins()
    assert pins[1]["pwm"] == 392  # 100/255
    assert "pwm" not in pins[6] and pins[6]["level"] == 1  # inverted, 100 < 128: dark-ish, so high
    assert plug.cmd("LedPwmOn 200") == {"LedPwmOn": 200}
    pins = plug.pins()
    assert pins[1]["pwm"] == 784 and pins[6]["level"] == 0  # 200 >= 128: lit, inverted: low
    plug.restart()
    assert plug.cmd("LedPwmOn") == {"LedPwmOn": 200}
    assert plug.pins()[1]["pwm"] == 784
    for bad in ("LedPwmOn 256", "LedPwmOff -1", "LedPwmOn x"):
        assert plug.cmd(bad)["Command"] == "Error", bad
