#!/usr/bin/env bash
# chip-symbols.sh BUILD_DIR — would OpenPlug's part of the BL602 image link?
# Every symbol the rv32-newlib tree's openplug_chip library needs from
# outside must come from one of the image's other parts:
#   newlib (this tree's libc.a, libm.a) or libgcc — the chip's C library;
#   a hal_* function declared in src/hal/ — the BL602 port provides it;
#   lwIP 2.1 (Debian's liblwip.so exports the same API) — the SDK's lwIP;
#   mbedTLS 2.28 (Debian's libmbed*.so) — the SDK's mbedTLS.
# Anything else (a glibc-only call, a name lwIP does not have) would break
# the chip's link: listed, exit 1.  Prints how many symbols each part gives.
set -euo pipefail
build=${1:?usage: chip-symbols.sh BUILD_DIR}
nm_tool=riscv64-unknown-elf-nm
lib="$build/libopenplug_chip.a"
sysroot=$(ls -d "$build"/newlib-rv32imfc/install/riscv64-unknown-elf)
libgcc=$(riscv64-unknown-elf-gcc -march=rv32imfc -misa-spec=2.2 -mabi=ilp32f -print-libgcc-file-name)
hostlib=/usr/lib/x86_64-linux-gnu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

defined() { "$@" 2>/dev/null | awk 'NF >= 3 && $(NF-1) ~ /^[TDRBWVSG]$/ { print $NF }' | sort -u; }

"$nm_tool" -u "$lib" | awk 'NF == 2 { print $2 }' | sort -u > "$work/wanted"
defined "$nm_tool" --defined-only "$lib" > "$work/own"
comm -23 "$work/wanted" "$work/own" > "$work/needed"
defined "$nm_tool" --defined-only "$sysroot/lib/libc.a" "$sysroot/lib/libm.a" "$libgcc" > "$work/newlib"
grep -hoE '\bhal_[a-z0-9_]+\(' "$root"/src/hal/*.h | tr -d '(' | sort -u > "$work/hal"
defined nm -D --defined-only "$hostlib/liblwip.so" > "$work/lwip"
defined nm -D --defined-only "$hostlib/libmbedtls.so" "$hostlib/libmbedx509.so" "$hostlib/libmbedcrypto.so" > "$work/mbedtls"

cp "$work/needed" "$work/left"
for part in newlib hal lwip mbedtls; do
    comm -12 "$work/left" "$work/$part" > "$work/from_$part"
    comm -23 "$work/left" "$work/$part" > "$work/rest" && mv "$work/rest" "$work/left"
done
printf "openplug_chip needs %d symbols: newlib/libgcc %d, BL602 HAL %d, lwIP 2.1 %d, mbedTLS 2.28 %d\n" \
    "$(wc -l < "$work/needed")" "$(wc -l < "$work/from_newlib")" "$(wc -l < "$work/from_hal")" \
    "$(wc -l < "$work/from_lwip")" "$(wc -l < "$work/from_mbedtls")"
if [ -s "$work/left" ]; then
    echo "no part of the chip's image provides:" $(cat "$work/left") >&2
    exit 1
fi
echo "OK: every symbol has a provider"
