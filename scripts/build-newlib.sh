#!/usr/bin/env bash
# build-newlib.sh OUT_DIR — the C library of the BL602 CPU, built once.
#
# Builds newlib from Debian's newlib-source (/usr/src/newlib/newlib-*.tar.xz)
# with Debian's riscv64-unknown-elf-gcc for exactly one multilib, the one
# the BL602 SDK uses: -march=rv32imfc -mabi=ilp32f (no atomics).  GCC 12
# needs -misa-spec=2.2 so that plain rv32imfc implies zicsr (newlib's fenv
# reads fflags); see cmake/riscv-bl602.cmake.
#
# Installs into OUT_DIR/install (include/ and lib/ under riscv64-unknown-elf/)
# and leaves OUT_DIR/install/.stamp holding the configuration: a second run
# with the same configuration does nothing.  No syscalls come with it
# (--disable-newlib-supplied-syscalls, no libgloss): the board port provides
# _sbrk, _write and the rest.  Nano stdio and nano malloc, as on small chips.
set -euo pipefail
out=${1:?usage: build-newlib.sh OUT_DIR}
mkdir -p "$out" && out=$(cd "$out" && pwd)
tarball=$(ls /usr/src/newlib/newlib-*.tar.xz 2>/dev/null | sort | tail -n 1)
[ -n "$tarball" ] || { echo "build-newlib: no newlib source (apt-get install newlib-source)" >&2; exit 1; }
target=riscv64-unknown-elf
arch_flags="-march=rv32imfc -misa-spec=2.2 -mabi=ilp32f"
target_cflags="$arch_flags -Os -g0 -ffunction-sections -fdata-sections -DPREFER_SIZE_OVER_SPEED"
options=(
    --target=$target --disable-multilib --disable-libgloss --disable-nls
    --disable-newlib-supplied-syscalls
    --enable-newlib-nano-formatted-io --enable-newlib-nano-malloc
    --enable-newlib-reent-small --enable-lite-exit --enable-newlib-global-atexit
    --disable-newlib-fvwrite-in-streamio --disable-newlib-fseek-optimization
    --disable-newlib-wide-orient --disable-newlib-unbuf-stream-opt
    --disable-newlib-multithread
)
stamp="$(basename "$tarball") ${options[*]} $target_cflags"
install_dir="$out/install"
if [ -f "$install_dir/.stamp" ] && [ "$(cat "$install_dir/.stamp")" = "$stamp" ]; then
    exit 0
fi

start=$(date +%s)
echo "build-newlib: building $(basename "$tarball") for rv32imfc/ilp32f into $install_dir (once per build tree)"
rm -rf "$out/src" "$out/obj" "$install_dir"
mkdir -p "$out/src" "$out/obj"
tar -xJf "$tarball" -C "$out/src" --strip-components=1
log="$out/build.log"
(
    cd "$out/obj"
    CC_FOR_TARGET="$target-gcc" AR_FOR_TARGET="$target-ar" RANLIB_FOR_TARGET="$target-ranlib" \
    AS_FOR_TARGET="$target-as" LD_FOR_TARGET="$target-ld" NM_FOR_TARGET="$target-nm" \
    CFLAGS_FOR_TARGET="$target_cflags" \
        ../src/configure --prefix="$install_dir" "${options[@]}"
    make -j"${JOBS:-2}" all-target-newlib
    make install-target-newlib
) >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "build-newlib: failed, full log in $log" >&2; exit 1; }
echo "$stamp" >"$install_dir/.stamp"
rm -rf "$out/src" "$out/obj"
echo "build-newlib: done in $(( $(date +%s) - start )) s"
