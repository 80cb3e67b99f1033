#!/bin/sh
# run-long.sh — `make fuzz`: every fuzz target in turn, one at a time, each
# until it has run RUNS inputs or SECONDS seconds, whichever comes first,
# under `nice -n 19`, with its dictionary and a growing corpus in
# BUILD/fuzz/long/<target>/ (the committed seeds only read).  Each target's
# libFuzzer output goes to BUILD/fuzz/long/<target>.log, its findings to
# BUILD/fuzz/long/<target>-crash-… (timeout-, oom-, leak-); a finding ends
# that target's run, and the next target starts.  At the end a table:
# executions, seconds, coverage (cov/ft of the last status line), corpus
# entries, findings.  Exit status 1 when anything was found.
#
#   fuzz/run-long.sh BUILD/fuzz [RUNS [SECONDS [BUDGET]]]
# BUDGET (seconds, optional): the whole run's wall-clock limit; each target
# gets at most an equal share of what is left (a target built while the run
# goes on is picked up when its turn comes, in name order).
set -u
fuzz_dir=${1:?usage: run-long.sh BUILD/fuzz [RUNS [SECONDS [BUDGET]]]}
runs=${2:-10000000}
seconds=${3:-7200}
budget=${4:-0}
src=$(cd "$(dirname "$0")" && pwd)
long=$fuzz_dir/long
mkdir -p "$long"
table=$long/table.txt
started=$(date +%s)
done_list=" "
found_any=0
printf '%-18s %12s %7s %8s %8s %7s %s\n' target executions seconds cov ft corpus findings > "$table"

next_target() {
    for f in "$fuzz_dir"/fuzz_*; do
        name=$(basename "$f")
        [ -f "$f" ] && [ -x "$f" ] || continue
        case "$done_list" in *" $name "*) continue ;; esac
        echo "$name"
        return
    done
}

left_count() {
    n=0
    for f in "$fuzz_dir"/fuzz_*; do
        name=$(basename "$f")
        [ -f "$f" ] && [ -x "$f" ] || continue
        case "$done_list" in *" $name "*) ;; *) n=$((n + 1)) ;; esac
    done
    echo "$n"
}

while name=$(next_target) && [ -n "$name" ]; do
    limit=$seconds
    if [ "$budget" -gt 0 ]; then
        share=$(( (budget - ($(date +%s) - started)) / $(left_count) ))
        [ "$share" -lt "$limit" ] && limit=$share
        [ "$limit" -lt 10 ] && limit=10
    fi
    short=${name#fuzz_}
    dict=
    [ -f "$src/dict/$short.dict" ] && dict=-dict=$src/dict/$short.dict
    mkdir -p "$long/$name"
    log=$long/$name.log
    echo "== $name: up to $runs runs or $limit s ($(date -u +%H:%M:%S) UTC)"
    t0=$(date +%s)
    nice -n 19 "$fuzz_dir/$name" -runs="$runs" -max_total_time="$limit" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 $dict -artifact_prefix="$long/$name-" "$long/$name" "$src/corpus/$name" \
        > "$log" 2>&1
    status=$?
    t1=$(date +%s)
    done_list="$done_list$name "
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then # no final stats (a finding): the last status line's count
        execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "$long/$name/" -type f | wc -l)
    findings=$(find "$long" -maxdepth 1 -type f -name "$name-*" | wc -l)
    [ "$status" -ne 0 ] && [ "$findings" -eq 0 ] && findings="exit $status"
    [ "$findings" != 0 ] && found_any=1
    grep -E '^#[0-9]+.*cov:' "$log" | tail -1
    sed -n '/^stat::/p' "$log"
    printf '%-18s %12s %7s %8s %8s %7s %s\n' "$name" "${execs:-?}" $((t1 - t0)) "${cov:-?}" "${ft:-?}" "$corpus" \
        "$findings" >> "$table"
done
echo
cat "$table"
exit $found_any
