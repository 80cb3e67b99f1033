"""The Backup & restore page (web/backup.js) in headless Chromium: a
download of the plug's backup, a corrupt file refused with the plug's own
reason on the page and nothing changed, a good file restored with the
progress bar full, the restart followed and what the new boot applied
shown.  Screenshots at 390 and 1280 px, light and dark, in build/artifacts/."""
import backuplib
from backuplib import Backup, get_backup
from simlib import free_port
from test_web_ui import cm, form_message, js_errors, open_ui, ui_plug


def restore_file(browser, path):
    browser.js("document.querySelector('#restore-form .msg').textContent = ''")
    browser.find("#restore-form [name=file]").send_keys(str(path))
    browser.find("#restore-form button[type=submit]").click()


def shots(browser, name):
    for width, dark in ((390, False), (390, True), (1280, False), (1280, True)):
        browser.screenshot("backup-%s-%d%s" % (name, width, "-dark" if dark else ""), width, dark=dark)
        overflow = browser.js("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, width, overflow)
    browser.driver.set_window_size(1280, 900)


def test_backup_page_downloads_refuses_and_restores(make_plug, browser, tmp_path):
    plug = ui_plug(make_plug, "--http", str(free_port()), exec_="DeviceName Hall lamp")
    plug.port = int(plug.base.rsplit(":", 1)[1])
    open_ui(browser, plug, "backup")
    browser.wait(lambda: browser.find("#page-backup").is_displayed(), what="the page")
    shots(browser, "page")

    browser.find("#backup-form [name=energy]").click()
    browser.find("#backup-form button[type=submit]").click()
    message = form_message(browser, "#backup-form")
    size = len(get_backup(plug.port, "?energy=1"))
    assert message == "Saved Hall_lamp-backup.opb (%d bytes)." % size, message

    good = Backup(get_backup(plug.port))
    corrupt = bytearray(good.encode())
    corrupt[200] ^= 1
    (tmp_path / "corrupt.opb").write_bytes(bytes(corrupt))
    (tmp_path / "good.opb").write_bytes(good.encode())
    cm(plug, "DeviceName Changed")
    mark = plug.mark()
    restore_file(browser, tmp_path / "corrupt.opb")
    browser.wait(lambda: "failed" in browser.js("return openplugBackup.stages"), what="the refusal")
    assert browser.text("#restore-form .msg") == "corrupt file: its CRC does not match"
    assert "error" in browser.find("#restore-form .msg").get_attribute("class")
    assert not plug.log_lines(r"BOOT:|RST: backup checked", since=mark)
    assert cm(plug, "DeviceName") == {"DeviceName": "Changed"}
    shots(browser, "refused")

    restore_file(browser, tmp_path / "good.opb")
    browser.wait(lambda: "applied" in browser.js("return openplugBackup.stages") or
                 "failed" in browser.js("return openplugBackup.stages"), timeout=40, what="the restore")
    assert browser.js("return openplugBackup.stages") == ["committed", "applied"], browser.text("#restore-form .msg")
    assert browser.text("#restore-form .msg") == \
        "Restored (applied: settings, 0 files). Reload the page to see the restored settings."
    assert browser.find("#restore-progress").get_attribute("value") == "100"
    plug.wait_log(r"BOOT: .*reset reason: Restore \(web\)", since=mark)
    assert cm(plug, "DeviceName") == {"DeviceName": "Hall lamp"}
    assert backuplib.Backup(get_backup(plug.port)).settings == good.settings
    shots(browser, "restored")
    assert not js_errors(browser), js_errors(browser)
    browser.assert_only_local(plug.base)
