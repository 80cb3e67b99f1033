"""The firmware update page of the web UI (web/ota.js) in headless
Chromium (browser.py: no network beyond 127.0.0.1): a version-2 image
chosen in the file input is uploaded with a progress bar that follows the
bytes the plug has written (the plug runs with --flash-timing real, so the
upload takes seconds), the page waits for the restart and shows the new
version; a bad image is refused with the plug's reason on the page and
nothing changes.
"""

import otalib
from test_ota import BOOT_NEW, images, version, wait_boot  # noqa: F401  (the images fixture)
from weblib import start_web_plug



from simlib import free_port




def open_ota_page(browser, make_plug, *args):
    port = free_port()  # the same port after the restart: the page follows the plug
    plug = start_web_plug(make_plug, "--http", str(port), *args)
    browser.open(plug.base + "/#ota")
    browser.wait(lambda: browser.text("#ota-version") not in ("", "–"), what="the running version")
    return plug


def choose_and_upload(browser, path):
    browser.find("#ota-form [name=image]").send_keys(str(path))
    browser.find("#ota-form button[type=submit]").click()


def test_upload_page_shows_progress_and_the_new_version(make_plug, browser, images, tmp_path):
    plug = open_ota_page(browser, make_plug, "--flash-timing", "real")
    assert browser.text("#ota-version") == images["old_version"]
    path = tmp_path / "update.ota"
    path.write_bytes(images["raw"])
    mark = plug.mark()
    choose_and_upload(browser, path)
    browser.wait(lambda: browser.js("return openplugOta.done"), timeout=90, what="the update to finish")
    assert browser.js("return openplugOta.done") == images["new_version"]
    seen = browser.js("return openplugOta.seen")
    assert len(seen) >= 3 and any(0 < p < 100 for p in seen) and seen == sorted(seen), seen
    assert browser.find("#ota-progress").get_attribute("value") == "100"
    assert "now running " + images["new_version"] in browser.text("#ota-form .msg")
    assert browser.text("#ota-version") == images["new_version"]
    assert "on trial" in browser.text("#ota-trial")
    wait_boot(plug, BOOT_NEW, mark)
    assert version(plug) == images["new_version"]
    # Keep it: the button confirms the new firmware.
    browser.find("#ota-confirm").click()
    plug.wait_log(r"OTA: firmware \S+ in slot 1 confirmed", since=mark, timeout=10)
    browser.wait(lambda: browser.find("#ota-confirm").get_attribute("hidden") is not None, what="confirm hidden")
    browser.assert_only_local(plug.base)


def test_upload_page_says_why_an_image_is_refused(make_plug, browser, images, tmp_path):
    plug = open_ota_page(browser, make_plug)
    before = otalib.ptable_bytes(plug.flash)
    path = tmp_path / "other.ota"
    path.write_bytes(images["wrong_hw"])
    choose_and_upload(browser, path)
    browser.wait(lambda: browser.js("return openplugOta.done") == "failed", timeout=30, what="the refusal")
    message = browser.text("#ota-form .msg")
    assert "image is for hardware 'OpenPlug-BL602'" in message, message
    assert "error" in browser.find("#ota-form .msg").get_attribute("class")
    assert otalib.ptable_bytes(plug.flash) == before and version(plug) == images["old_version"]
