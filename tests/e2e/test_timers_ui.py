"""The Timers page of the web UI (web/timers.js) in headless Chromium
(browser.py: no network beyond 127.0.0.1): a timer added and edited on the
page is the plug's Timer<x>; a sunset timer needs the place first (the
plug's error is shown) and is saved once Latitude/Longitude are set on the
page; a row's switch disables a timer, the page's box disarms them all;
Delete clears one; a bad offset is refused with the plug's message and
changes nothing; screenshots at 390 and 1280 px, light and dark."""
from weblib import start_web_plug


def set_value(browser, css, value):
    browser.js("const el = document.querySelector(arguments[0]); el.value = arguments[1];"
               "el.dispatchEvent(new Event('change'));", css, value)


def set_checked(browser, css, on):
    browser.js("const el = document.querySelector(arguments[0]); el.checked = arguments[1];", css, on)


def saved(browser, x):
    return lambda: browser.js("return openplugTimers.saved") == x and browser.find("#timer-form").get_attribute("hidden")


def test_timers_page_adds_edits_and_switches_off(make_plug, browser):
    plug = start_web_plug(make_plug)
    browser.open(plug.base + "/#timers")
    browser.wait(lambda: browser.text("#timers-msg") == "No timers yet.", what="the empty list")
    assert browser.find("#timers-armed").is_selected()

    # A clock timer: 07:30 Monday to Friday, relay on.
    browser.find("#timer-add").click()
    browser.wait(lambda: browser.find("#timer-form").is_displayed(), what="the editor")
    assert browser.text("#timer-title") == "Timer 1"
    set_value(browser, "#timer-form [name=Time]", "07:30")
    set_checked(browser, "#timer-form [name=day0]", False)
    set_checked(browser, "#timer-form [name=day6]", False)
    browser.find("#timer-form button[type=submit]").click()
    browser.wait(saved(browser, 1), what="Timer1 saved")
    assert plug.cmd("Timer1") == {"Timer1": {"Enable": 1, "Mode": 0, "Time": "07:30", "Window": 0, "Days": "0111110",
                                             "Repeat": 1, "Output": 1, "Action": 1}}
    browser.wait(lambda: "07:30 · Mon–Fri · On relay 1" in browser.text("#timer-list"), what="the row")

    # A sunset timer before the place is known: the plug says what is missing.
    browser.find("#timer-add").click()
    assert browser.text("#timer-title") == "Timer 2"
    set_value(browser, "#timer-form [name=Mode]", "2")
    assert browser.find("#timer-sign-label").is_displayed()
    set_value(browser, "#timer-form [name=sign]", "-")
    set_value(browser, "#timer-form [name=Time]", "01:00")
    set_value(browser, "#timer-form [name=Window]", "10")
    set_value(browser, "#timer-form [name=Action]", "0")
    browser.find("#timer-form button[type=submit]").click()
    browser.wait(lambda: "set Latitude and Longitude first" in browser.text("#timer-form .msg"), what="the refusal")
    assert plug.cmd("Timer2")["Timer2"]["Enable"] == 0
    set_value(browser, "#location-form [name=Latitude]", "52.52")
    set_value(browser, "#location-form [name=Longitude]", "13.405")
    browser.find("#location-form button[type=submit]").click()
    browser.wait(lambda: browser.text("#location-form .msg") == "Saved.", what="the place saved")
    assert plug.cmd("Latitude") == {"Latitude": 52.52} and plug.cmd("Longitude") == {"Longitude": 13.405}
    browser.find("#timer-form button[type=submit]").click()
    browser.wait(saved(browser, 2), what="Timer2 saved")
    assert plug.cmd("Timer2") == {"Timer2": {"Enable": 1, "Mode": 2, "Time": "-01:00", "Window": 10,
                                             "Days": "1111111", "Repeat": 1, "Output": 1, "Action": 0}}
    browser.wait(lambda: "Sunset −01:00 ±10 min · every day · Off relay 1" in browser.text("#timer-list"),
                 what="the sunset row")

    # An offset of 12 hours or more: the plug's message, nothing changed.
    browser.find("#timer-list li:nth-child(2) button").click()
    set_value(browser, "#timer-form [name=Time]", "13:00")
    browser.find("#timer-form button[type=submit]").click()
    browser.wait(lambda: "under 12 hours" in browser.text("#timer-form .msg"), what="the offset refused")
    assert plug.cmd("Timer2")["Timer2"]["Time"] == "-01:00"
    set_value(browser, "#timer-form [name=Time]", "00:45")
    for width in (390, 1280):
        browser.screenshot("ui-timers-edit-%d" % width, width)
    browser.screenshot("ui-timers-edit-390-dark", 390, dark=True)
    browser.find("#timer-cancel").click()

    # Switch Timer1 off from its row; disarm all; delete Timer2.
    browser.find("#timer-list li:nth-child(1) .timer-switch").click()
    browser.wait(lambda: plug.cmd("Timer1")["Timer1"]["Enable"] == 0, what="Timer1 disabled")
    browser.find("#timers-armed").click()
    browser.wait(lambda: plug.cmd("Timers")["Timers"] == "OFF", what="timers disarmed")
    browser.wait(lambda: "none fires" in browser.text("#timers-msg"), what="the page says so")
    for width in (390, 1280):
        browser.screenshot("ui-timers-%d" % width, width)
    browser.screenshot("ui-timers-1280-dark", 1280, dark=True)
    browser.find("#timer-list li:nth-child(2) button").click()
    browser.find("#timer-delete").click()
    browser.wait(lambda: browser.text("#timers-msg") == "Timer 2 deleted.", what="Timer2 deleted")
    assert plug.cmd("Timer2")["Timer2"] == {"Enable": 0, "Mode": 0, "Time": "00:00", "Window": 0,
                                            "Days": "0000000", "Repeat": 0, "Output": 1, "Action": 0}
    assert len(browser.driver.find_elements("css selector", "#timer-list li")) == 1
    assert not browser.console_errors()
    browser.assert_only_local(plug.base)
