#!/usr/bin/env bash
# The trainer's step against the benchmark's, in instructions (callgrind), for the same
# shapes: for each row below, `recurrent train` (marginal instructions per step: N steps
# minus M steps; the last step of each run is a logged one, so the difference holds no
# logged step) and `recurrent bench` in its peer mode (plain SGD on synthetic data, 3
# steps minus 1) with the shapes the trainer mode reports for the same options (I, T, C,
# readout). Prints a Markdown table.
#
#   scripts/trainer_vs_bench.sh [BINARY]          (default .build/release/recurrent)
#   ROWS="adding-irnn charlm-gru" TRAINER=1 MNIST=DIR TEXT=FILE N=5 M=2 scripts/trainer_vs_bench.sh
#
# TRAINER=1 adds a column for `bench --trainer` (the same code path as train: it should
# equal the train column). SHAPES_BINARY (default BINARY) is the binary whose `bench
# --trainer` gives the shapes, for a BINARY from before that mode; a peer configuration
# BINARY does not know (--readout, indrnn) shows as n/a. MNIST is an IDX directory
# (default: a fake one of 2000 + 100 images is written with Python), TEXT a UTF-8 file
# (default /usr/share/common-licenses/GPL-3). Slow: callgrind runs about 50 times slower
# than the program, so a row takes minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${1:-$here/../.build/release/recurrent}")
n=${N:-5}; m=${M:-2}
shapes_binary=$(realpath "${SHAPES_BINARY:-$binary}")
count="$here/instructions_per_step.sh"
text=${TEXT:-/usr/share/common-licenses/GPL-3}
if [ -z "${MNIST:-}" ]; then
    MNIST=$(mktemp -d)
    trap 'rm -rf "$MNIST"' EXIT
    python3 - "$MNIST" <<'EOF'
import random, struct, sys
random.seed(0)
def write(name, dims, data):
    with open(f"{sys.argv[1]}/{name}", "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 8, len(dims)))
        for d in dims: f.write(struct.pack(">I", d))
        f.write(bytes(data))
for prefix, count in [("train", 2000), ("t10k", 100)]:
    write(f"{prefix}-images-idx3-ubyte", [count, 28, 28], [random.randrange(256) for _ in range(count * 784)])
    write(f"{prefix}-labels-idx1-ubyte", [count], [random.randrange(10) for _ in range(count)])
EOF
fi

shared=(--hidden 100 --batch 50 --lr 3e-4 --threads 1)
options() {   # the task and cell options of row $1
    case $1 in
        adding-*) echo "--task adding --length 150 --cell ${1#adding-}" ;;
        rowmnist-*) echo "--task rowmnist --data $MNIST --cell ${1#rowmnist-}" ;;
        copy-*) echo "--task copy --length 50 --cell ${1#copy-}" ;;
        charlm-*) echo "--task charlm --data $text --bptt 50 --cell ${1#charlm-}" ;;
        *) echo "unknown row $1" >&2; exit 64 ;;
    esac
}
# test sequences (adding, copy) or characters (charlm); the MNIST rows use every image
limit() { case $1 in charlm-*) echo "--limit 20000" ;; rowmnist-*) ;; *) echo "--limit 50" ;; esac; }
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1" <<<"$2"; }

rows=${ROWS:-"adding-irnn adding-rnn adding-lstm adding-gru adding-indrnn rowmnist-irnn rowmnist-lstm copy-irnn charlm-irnn charlm-gru"}
echo "| row | train (Ir/step) |$([ -n "${TRAINER:-}" ] && echo " bench --trainer |") bench peer (Ir/step) | train / bench |"
echo "|---|---|$([ -n "${TRAINER:-}" ] && echo "---|")---|---|"
for row in $rows; do
    read -ra task <<<"$(options "$row")"
    # The shapes, from the trainer mode itself (one untimed step).
    shape=$("$shapes_binary" bench --trainer "${task[@]}" "${shared[@]}" $(limit "$row") --steps 1 --warmup 0 --json)
    cell=${row#*-}; case $cell in irnn) cell=relu ;; rnn) cell=tanh ;; esac
    peer=(bench --cell "$cell" --hidden 100 --batch 50 --threads 1 --input "$(field input "$shape")"
          --seq-len "$(field seq_len "$shape")" --classes "$(field classes "$shape")" --loss "$(field loss "$shape")")
    [ "$(field readout "$shape")" = every ] && peer+=(--readout every)
    train=$("$count" "$binary" "$n" "$m" train "${task[@]}" "${shared[@]}" $(limit "$row") | cut -d' ' -f1)
    column=""
    if [ -n "${TRAINER:-}" ]; then
        column=" $("$count" "$binary" "$n" "$m" bench --trainer "${task[@]}" "${shared[@]}" $(limit "$row") | cut -d' ' -f1) |"
    fi
    if "$binary" "${peer[@]}" --steps 1 --warmup 0 --json >/dev/null 2>&1; then
        bench=$("$count" "$binary" 3 1 "${peer[@]}" | cut -d' ' -f1)
        echo "| $row | $train |$column $bench | $(python3 -c "print(f'{$train / $bench:.3f}')") |"
    else
        echo "| $row | $train |$column n/a | |"
    fi
done
