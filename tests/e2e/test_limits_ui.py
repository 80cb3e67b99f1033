"""The home page's protection banner and PulseTime countdown, in headless
Chromium against the simulator (real time): a MaxPower trip shows why the
plug is off and how to reset it, pushed by the event stream, and after a
reload (the latch is on the plug, not in the page); switching on from the
page ends it and the banner goes; a margin crossed shows as a lighter note;
PulseTime counts down to the switch-off.  Every wait polls."""
import re

from test_web_truth import plug_on_port
from test_web_ui import cm, form_message, open_ui, submit


def test_trip_banner_says_why_and_how_to_reset(make_plug, browser):
    plug = plug_on_port(make_plug, "--load", "2500W", exec_="MaxPower 2000; MaxPowerHold 1; Power on")
    open_ui(browser, plug)
    browser.wait(lambda: browser.find("#trip-banner").is_displayed(), timeout=15, what="the trip banner")
    banner = browser.text("#trip-banner")
    assert banner.startswith("Switched off by protection: the power stayed above MaxPower (2000 W)."), banner
    assert "Switch the relay on to reset it" in banner and "restarts and power cuts" in banner
    assert browser.text("#relay-state") == "Off"
    assert browser.find("#trip-banner").get_attribute("role") == "alert"
    for width in (390, 1280):
        browser.screenshot("ui-trip-banner-%d" % width, width)
    browser.screenshot("ui-trip-banner-390-dark", 390, dark=True)
    # The latch is the plug's: a reload shows it again.
    browser.open(plug.base + "/")
    browser.wait(lambda: browser.find("#trip-banner").is_displayed(), timeout=10, what="the banner after a reload")
    # Switched on from the page: the latch ends, the banner goes (the plug
    # trips again 1 s later at 2500 W: MaxPower 0 first).
    plug.cmd("MaxPower 0")
    browser.find("#relay").click()
    browser.wait(lambda: browser.text("#relay-state") == "On", what="the relay on")
    browser.wait(lambda: not browser.find("#trip-banner").is_displayed(), what="the banner gone")
    plug.wait_log(r"NRG: MaxPower trip reset: switched on \(web\)")
    # A margin crossed: a note, not a trip.
    plug.cmd("PowerHigh 1000")
    browser.wait(lambda: browser.find("#trip-banner").is_displayed(), timeout=10, what="the margin note")
    assert browser.text("#trip-banner") == "Limits crossed: PowerHigh"
    assert "tripped" not in browser.find("#trip-banner").get_attribute("class")
    browser.screenshot("ui-margin-note-1280", 1280)


def test_pulse_time_counts_down_on_the_home_page(make_plug, browser):
    plug = plug_on_port(make_plug, exec_="PulseTime 130")  # 30 s
    open_ui(browser, plug)
    browser.wait(lambda: browser.text("#relay-state") == "Off", what="the relay off")
    browser.find("#relay").click()
    browser.wait(lambda: browser.text("#pulse-countdown").startswith("Off in "), what="the countdown")
    first = re.match(r"Off in 0:(\d\d) \(PulseTime\)$", browser.text("#pulse-countdown"))
    assert first and 25 <= int(first.group(1)) <= 30, browser.text("#pulse-countdown")
    browser.wait(lambda: int(re.search(r"0:(\d\d)", browser.text("#pulse-countdown")).group(1)) < int(first.group(1)),
                 timeout=5, what="the countdown moving")
    for width in (390, 1280):
        browser.screenshot("ui-pulse-countdown-%d" % width, width)
    browser.screenshot("ui-pulse-countdown-1280-dark", 1280, dark=True)
    # Switched off before the end: the countdown goes.
    browser.find("#relay").click()
    browser.wait(lambda: browser.text("#pulse-countdown") == "", what="the countdown gone")
    # And when it runs out, the plug switches off and the page says so.
    plug.cmd("PulseTime 20")  # 2 s
    browser.find("#relay").click()
    browser.wait(lambda: browser.text("#relay-state") == "On", what="on")
    browser.wait(lambda: browser.text("#relay-state") == "Off", timeout=8, what="off by PulseTime")
    assert browser.text("#pulse-countdown") == ""
    plug.wait_log(r"PWR: channel 1 OFF \(pulsetime\)")


def test_protection_settings_on_the_energy_page(make_plug, browser):
    plug = plug_on_port(make_plug, exec_="MaxVoltage 250; PulseTime1 25")
    open_ui(browser, plug, "energy")
    field = lambda name: browser.find("#protection-form [name=%s]" % name).get_attribute("value")
    browser.wait(lambda: field("MaxVoltage") == "250" and field("PulseTime1") == "25", what="the values loaded")
    submit(browser, "#protection-form", {"MinVoltage": "190", "MaxEnergy": "1500"})
    assert form_message(browser, "#protection-form") == "Saved: MaxEnergy, MinVoltage."
    assert cm(plug, "MinVoltage") == {"MinVoltage": 190} and cm(plug, "MaxEnergy") == {"MaxEnergy": 1500}
    submit(browser, "#protection-form", {"MinVoltage": "260"})  # not below MaxVoltage: refused, kept
    assert "MinVoltage must stay below MaxVoltage" in form_message(browser, "#protection-form")
    assert cm(plug, "MinVoltage") == {"MinVoltage": 190}
    browser.screenshot("ui-protection-form-390", 390)
    browser.screenshot("ui-protection-form-1280-dark", 1280, dark=True)
