#!/usr/bin/env bash
# bench/run.sh SIM — every benchmark of the project, each printing a table.
set -euo pipefail
sim=${1:?usage: bench/run.sh path/to/openplug-sim}
here=$(dirname "$0")
/usr/bin/python3 "$here/foundation.py" "$sim"
echo
echo "## Metering accuracy (bench/metering.py; targets of shared/BL0937.md)"
/usr/bin/python3 "$here/metering.py" "$sim"
echo
echo "## HTTP server (bench/http.py: wrk, keep-alive, pool of 4)"
/usr/bin/python3 "$here/http.py" "$sim"
echo
echo "## Instructions per HTTP request (bench/http_cost.py: callgrind)"
/usr/bin/python3 "$here/http_cost.py" "$sim"
echo
echo "## Firmware update (bench/ota.py: 500 KB over 127.0.0.1, --flash-timing real)"
/usr/bin/python3 "$here/ota.py" "$sim"
echo
/usr/bin/python3 "$here/health.py" "$sim"
echo
echo "## Web UI: bytes per asset, as stored in the image and served (bench/ui_assets.py)"
/usr/bin/python3 "$here/ui_assets.py"
echo
echo "## MQTT (bench/mqtt.py: round trips through mosquitto, client memory)"
/usr/bin/python3 "$here/mqtt.py" "$sim"
echo
/usr/bin/python3 "$here/fleet.py" "$sim" 100
echo
/usr/bin/python3 "$here/script.py" "$sim"
