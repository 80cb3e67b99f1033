"""The Template page with an OpenBeken template: the startup command its
"command" set is shown; the running template is offered as text to copy
and as a download, both the export (kept members included); saving the pin
editor keeps the template's other members and command."""
import json
import os

from test_web_ui import cm, form_message, open_ui, submit, ui_plug  # noqa: F401 (fixtures come from conftest)

CORPUS = json.load(open(os.path.join(os.path.dirname(__file__), "templates", "corpus.json")))
SM028 = next(c["template"] for c in CORPUS if c["id"] == "sm028-long-name")


def test_template_page_shows_command_and_offers_the_export(make_plug, browser):
    plug = ui_plug(make_plug)
    open_ui(browser, plug, "template")
    submit(browser, "#import-form", {"json": json.dumps(SM028)})
    assert form_message(browser, "#import-form") == "Template applied. Runs at start: " + SM028["command"]
    browser.wait(lambda: browser.text("#template-command") == SM028["command"], what="the startup command shown")
    assert cm(plug, "StartupCommand")["StartupCommand"] == SM028["command"]
    # the export as text, exactly what Template prints
    browser.wait(lambda: browser.js("return document.querySelector('#export-form textarea').value") != "",
                 what="the export text")
    text = browser.js("return document.querySelector('#export-form textarea').value")
    assert json.loads(text) == SM028 == cm(plug, "Template")
    # ... and as a download of the same text
    link = browser.find("#template-download")
    assert link.get_attribute("href").startswith("blob:")
    assert link.get_attribute("download").endswith(".json") and "Aubess" in link.get_attribute("download")
    downloaded = browser.js(
        "var x = new XMLHttpRequest(); x.open('GET', document.querySelector('#template-download').href, false);"
        "x.send(); return x.responseText;")
    assert json.loads(downloaded) == SM028
    # Copy: said on the page
    browser.find("#export-form button").click()
    assert form_message(browser, "#export-form") in ("Copied.", "Selected: copy it with Ctrl+C.")
    # The pin editor keeps the other members and the command.
    browser.js("""const row = document.querySelector('#pins-body tr[data-gpio="20"]');
                  row.querySelector('.role').value = 'LED';""")
    submit(browser, "#pins-form", {})
    assert form_message(browser, "#pins-form") == "Pins saved."
    after = cm(plug, "Template")
    assert after["pins"]["20"] == "LED;1"
    assert {k: v for k, v in after.items() if k != "pins"} == {k: v for k, v in SM028.items() if k != "pins"}
