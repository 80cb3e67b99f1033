#!/usr/bin/env bash
# size-table.sh BUILD_DIR [LIMITS_FILE] — what OpenPlug itself puts into the
# BL602 image: text/data/bss of every object of the rv32-newlib tree's
# openplug_chip library (rv32imfc, newlib, -Os, function sections) — the
# core, the network services, the TLS glue and the gzipped web UI — per
# file, per module, in total against the targets (flash <= 200 KB, static
# RAM <= 48 KB), then the biggest static RAM users by symbol.  Object sizes:
# the final link's --gc-sections can only make them smaller.  The SDK's
# parts (lwIP, mbedTLS, Wi-Fi, FreeRTOS, newlib) are not counted.
#
# With LIMITS_FILE (bench/size-limits: "flash_bytes N" and
# "static_ram_bytes N" lines), exits 1 when a total is above its limit.
set -euo pipefail
build=${1:?usage: size-table.sh BUILD_DIR [LIMITS_FILE]}
limits=${2:-}
objdir="$build/CMakeFiles/openplug_chip.dir"
size_tool=riscv64-unknown-elf-size
nm_tool=riscv64-unknown-elf-nm
target_flash=$((200 * 1024))
target_ram=$((48 * 1024))
[ -d "$objdir" ] || { echo "size-table: no objects under $objdir (run make rv32-newlib)" >&2; exit 1; }
mapfile -t objects < <(find "$objdir" -name '*.obj' | sort)

"$size_tool" -B "${objects[@]}" | awk -v root="$objdir/" -v tflash="$target_flash" -v tram="$target_ram" '
NR == 1 { next }
{
    file = $6; sub(root, "", file); sub(/\.obj$/, "", file)
    if (file == "web_assets.c") { file = "web UI (web/, gzipped)"; module = "web assets" }
    else { sub(/^src\/core\//, "", file); module = file; if (index(module, "/")) sub(/\/.*/, "", module); else module = "(loop, log, system)" }
    text[file] = $1; data[file] = $2; bss[file] = $3; files[++n] = file
    if (!(module in mt)) order[++modules] = module
    mt[module] += $1; md[module] += $2; mb[module] += $3
    tt += $1; td += $2; tb += $3
}
END {
    printf "%-30s %8s %6s %6s\n", "src/core file", "text", "data", "bss"
    for (i = 1; i <= n; i++) { f = files[i]; printf "%-30s %8d %6d %6d\n", f, text[f], data[f], bss[f] }
    printf "\n%-30s %8s %6s %6s\n", "module", "text", "data", "bss"
    for (i = 1; i <= modules; i++) { m = order[i]; printf "%-30s %8d %6d %6d\n", m, mt[m], md[m], mb[m] }
    printf "%-30s %8d %6d %6d\n", "TOTAL", tt, td, tb
    printf "\nflash (text+data)  %7d bytes  (%.1f KB; target %d KB: %s)\n", tt + td, (tt + td) / 1024, tflash / 1024, tt + td <= tflash ? "met" : "NOT met"
    printf "static RAM (data+bss) %4d bytes  (%.1f KB; target %d KB: %s)\n", td + tb, (td + tb) / 1024, tram / 1024, td + tb <= tram ? "met" : "NOT met"
    printf "%d %d\n", tt + td, td + tb > "/dev/stderr"
}' 2> "$build/size-totals"

echo
echo "biggest static RAM users (symbol, bytes, file):"
for object in "${objects[@]}"; do
    "$nm_tool" -S -t d --size-sort "$object" | awk -v file="${object#"$objdir"/}" '
        $3 ~ /^[bBdDsSgG]$/ { printf "%d %s %s\n", $2, $4, file }'
done | sort -n -r | awk 'NR <= 15 { sub(/^src\/core\//, "", $3); sub(/\.obj$/, "", $3); printf "  %-34s %7d  %s\n", $2, $1, $3 }'

[ -n "$limits" ] || exit 0
read -r flash ram < "$build/size-totals"
flash_limit=$(awk '$1 == "flash_bytes" { print $2 }' "$limits")
ram_limit=$(awk '$1 == "static_ram_bytes" { print $2 }' "$limits")
echo
status=0
if [ "$flash" -gt "$flash_limit" ]; then
    echo "size: flash $flash bytes is above the limit of $flash_limit ($limits)" >&2; status=1
fi
if [ "$ram" -gt "$ram_limit" ]; then
    echo "size: static RAM $ram bytes is above the limit of $ram_limit ($limits)" >&2; status=1
fi
[ "$status" -ne 0 ] || echo "within the limits of $limits: flash $flash <= $flash_limit, static RAM $ram <= $ram_limit bytes"
exit "$status"
