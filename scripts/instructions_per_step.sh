#!/usr/bin/env bash
# Instructions per training step of `recurrent train` or `recurrent bench`, counted by
# callgrind: a run of N steps minus a run of M steps, divided by N - M (the marginal
# cost of a step: start-up, evaluation and checkpoint writing cancel out). Instruction
# counts do not depend on what else runs on the machine, unlike wall-clock times.
#
#   scripts/instructions_per_step.sh BINARY N M SUBCOMMAND [OPTIONS...]
#   scripts/instructions_per_step.sh .build/release/recurrent 12 4 train --task adding --length 150 \
#       --hidden 100 --batch 50 --lr 3e-4 --threads 1
#   scripts/instructions_per_step.sh .build/release/recurrent 12 4 bench --cell relu --hidden 100 \
#       --input 2 --seq-len 150 --batch 50 --classes 1 --threads 1
#
# The script appends `--steps K` (and `--warmup 0` for bench) itself, runs in a scratch
# directory (train writes its checkpoint there) and profiles a copy of BINARY without
# debug information (valgrind 3.19 cannot read Swift 6.3's DWARF 5). Prints one line:
#   <instructions per step> <Ir of N steps> <Ir of M steps>
# KEEP=DIR keeps the two callgrind output files in DIR (for callgrind_annotate).
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '2,17p' "$0" >&2
    exit 64
fi
binary=$1; n=$2; m=$3; shift 3
if ! [ "$n" -gt "$m" ] 2>/dev/null; then echo "N ($n) must be greater than M ($m)" >&2; exit 64; fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
strip --strip-debug -o "$scratch/recurrent" "$binary"
extra=()
[ "$1" = "bench" ] && extra=(--warmup 0)

# count K ARGS...: the total instructions (Ir) of one run of ARGS
count() {
    local k=$1; shift
    local out="$scratch/callgrind.$k"
    if ! (cd "$scratch" && valgrind --tool=callgrind --callgrind-out-file="$out" \
            "$scratch/recurrent" "$@" >"$scratch/out.$k.log" 2>"$scratch/valgrind.$k.log") \
        || ! grep -q '^totals:' "$out" 2>/dev/null; then
        echo "the callgrind run with $k steps failed:" >&2
        tail -5 "$scratch/out.$k.log" >&2
        tail -20 "$scratch/valgrind.$k.log" >&2
        exit 1
    fi
    [ -n "${KEEP:-}" ] && cp "$out" "$KEEP/"
    awk '/^totals:/ { print $2 }' "$out"
}
irN=$(count "$n" "$@" --steps "$n" "${extra[@]}")
irM=$(count "$m" "$@" --steps "$m" "${extra[@]}")
echo "$(( (irN - irM) / (n - m) )) $irN $irM"
