"""The automation page of the web UI (web/pages.js) in headless Chromium
(browser.py: no network beyond 127.0.0.1): the startup command and
autoexec.bat edited and saved on the page reach the plug and run at its
next boot; a file uploaded through the file input is listed, downloadable
and deleted; the event tables are shown and cleared."""

from test_files import get_bytes
from weblib import start_web_plug

from simlib import free_port




def set_text(browser, css, value):
    browser.js("const el = document.querySelector(arguments[0]); el.value = arguments[1];", css, value)


def test_scripts_page_edits_and_runs_at_boot(make_plug, browser):
    plug = start_web_plug(make_plug, "--http", str(free_port()))
    plug.cmd("addEventHandler OnClick 17 toggleChannel 1")
    browser.open(plug.base + "/#scripts")
    browser.wait(lambda: "OnClick 17: toggleChannel 1" in browser.text("#events"), what="the event table")
    set_text(browser, "#startup-form [name=StartupCommand]", "DeviceName from-ui-startup")
    browser.find("#startup-form button[type=submit]").click()
    browser.wait(lambda: browser.js("return openplugScripts.saved") == "startup", what="the startup command saved")
    assert plug.cmd("StartupCommand") == {"StartupCommand": "DeviceName from-ui-startup"}
    set_text(browser, "#autoexec-form [name=text]", "// from the UI\nPower on\n")
    browser.find("#autoexec-form button[type=submit]").click()
    browser.wait(lambda: browser.js("return openplugScripts.saved") == "autoexec", what="autoexec.bat saved")
    assert get_bytes(plug, "autoexec.bat") == (200, b"// from the UI\nPower on\n")
    browser.wait(lambda: "autoexec.bat" in browser.text("#files-body"), what="the file list")
    browser.find("#events-clear").click()
    browser.wait(lambda: browser.text("#events").startswith("No events."), what="events cleared")
    browser.assert_only_local(plug.base)
    plug.restart()
    plug.wait_log(r'SCR: -> \{"DeviceName":"from-ui-startup"\}', since=plug.boot_mark)
    plug.wait_log(r'SCR: -> \{"POWER":"ON"\}', since=plug.boot_mark)


def test_scripts_page_uploads_lists_and_deletes_files(make_plug, browser, tmp_path):
    plug = start_web_plug(make_plug)
    browser.open(plug.base + "/#scripts")
    browser.wait(lambda: browser.text("#events") != "", what="the page loaded")
    cert = tmp_path / "ca.pem"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    browser.find("#files-form [name=file]").send_keys(str(cert))
    browser.find("#files-form button[type=submit]").click()
    browser.wait(lambda: "ca.pem" in browser.text("#files-body"), what="the uploaded file listed")
    assert get_bytes(plug, "ca.pem") == (200, cert.read_bytes())
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 9000)
    browser.find("#files-form [name=file]").send_keys(str(big))
    browser.find("#files-form button[type=submit]").click()
    browser.wait(lambda: "8128 bytes at most" in browser.text("#files-form .msg"), what="the refusal")
    browser.find("#files-body button.danger").click()
    browser.wait(lambda: "ca.pem" not in browser.text("#files-body"), what="the file deleted")
    assert get_bytes(plug, "ca.pem")[0] == 404
