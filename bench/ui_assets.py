#!/usr/bin/python3
"""The bytes the web UI costs: every file of web/ as the firmware stores and
serves it (gzip level 9, by tools/webassets.py, the build's own tool),
printed as a table.  The total is what a first visit downloads and what
the image carries for the UI; tests/e2e/test_web_ui.py checks that the
plug serves exactly these bytes.

    bench/ui_assets.py            the Markdown table
    bench/ui_assets.py --json     {"assets": {path: [bytes, gzip bytes]}, "total_gzip": n}
"""
import glob
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import webassets  # noqa: E402


def measure():
    return webassets.load(sorted(glob.glob(os.path.join(ROOT, "web", "*"))))


def main():
    assets = measure()
    if "--json" in sys.argv[1:]:
        print(json.dumps({"assets": {a.path: [len(a.raw), len(a.gzip)] for a in assets},
                          "total_gzip": sum(len(a.gzip) for a in assets)}))
        return 0
    webassets.print_table(assets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
