#!/usr/bin/env bash
# size-table.sh BUILD_DIR — text/data/bss of every src/core object as built
# for the BL602 CPU (rv32imafc, -Os, function sections), per file, per
# module (directory), and in total.  Object sizes: the final link's
# --gc-sections can only make them smaller.
set -euo pipefail
build=${1:?usage: size-table.sh BUILD_DIR}
objdir="$build/CMakeFiles/openplug_core.dir/src/core"
size_tool=riscv64-unknown-elf-size
[ -d "$objdir" ] || { echo "size-table: no core objects under $objdir (run make rv32)" >&2; exit 1; }

find "$objdir" -name '*.obj' | sort | xargs "$size_tool" -B | awk -v root="$objdir/" '
NR == 1 { next }
{
    file = $6; sub(root, "", file); sub(/\.c\.obj$/, ".c", file)
    module = file; if (index(module, "/")) sub(/\/.*/, "", module); else module = "(loop, log, system)"
    text[file] = $1; data[file] = $2; bss[file] = $3; mod[file] = module; files[++n] = file
    if (!(module in mt)) order[++modules] = module
    mt[module] += $1; md[module] += $2; mb[module] += $3
    tt += $1; td += $2; tb += $3
}
END {
    printf "%-28s %8s %6s %6s\n", "src/core file", "text", "data", "bss"
    for (i = 1; i <= n; i++) { f = files[i]; printf "%-28s %8d %6d %6d\n", f, text[f], data[f], bss[f] }
    printf "\n%-28s %8s %6s %6s\n", "module", "text", "data", "bss"
    for (i = 1; i <= modules; i++) { m = order[i]; printf "%-28s %8d %6d %6d\n", m, mt[m], md[m], mb[m] }
    printf "%-28s %8d %6d %6d\n", "TOTAL (flash = text+data)", tt, td, tb
    printf "%-28s %8d bytes flash, %d bytes RAM\n", "", tt + td, td + tb
}'
