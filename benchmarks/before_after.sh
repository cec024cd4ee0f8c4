#!/bin/bash
# Times two `recurrent` binaries against each other, interleaved (before, after, before, ...),
# on the shapes issue #12 is about: training steps of configs a, b, c, e, g and the row-FMNIST
# LSTM, a and b on two threads, inference at batch 1 and at the evaluation's B = 500, and the
# long pixel runs' LSTM trainer step (needs Fashion-MNIST in /usr/share/datasets/fashion-mnist). Idle machine only.
#   benchmarks/before_after.sh BEFORE/recurrent AFTER/recurrent [ROUNDS=2] > records.jsonl
# One JSON line per run: {"bin", "round", "cmd", "rec": the bench's own JSON record}.
set -u
B=$1; A=$2; R=${3:-2}
cmds=(
 "bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --threads 1 --min-seconds 2"
 "bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 128 --classes 10 --threads 1 --min-seconds 2"
 "bench --cell lstm --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --threads 1 --min-seconds 2"
 "bench --cell relu --hidden 512 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 1 --min-seconds 2"
 "bench --cell indrnn --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --threads 1 --min-seconds 2"
 "bench --cell lstm --hidden 128 --input 28 --seq-len 28 --batch 64 --classes 10 --threads 1 --min-seconds 2"
 "bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --threads 2 --min-seconds 2"
 "bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 128 --classes 10 --threads 2 --min-seconds 2"
 "bench --inference --cell relu --hidden 100 --input 1 --seq-len 784 --batch 1 --classes 10 --threads 1 --min-seconds 2"
 "bench --inference --cell relu --hidden 512 --input 64 --seq-len 100 --batch 1 --classes 10 --threads 1 --min-seconds 2"
 "bench --inference --cell lstm --hidden 128 --input 28 --seq-len 28 --batch 500 --classes 10 --threads 1 --min-seconds 2"
 "bench --trainer --task smnist --cell lstm --hidden 100 --batch 32 --lr 1e-3 --threads 1 --steps 12"
)
for r in $(seq $R); do
 for c in "${cmds[@]}"; do
  for bin in "$B" "$A"; do
   rec=$($bin $c --json 2>/dev/null | tail -1)
   echo "{\"bin\": \"$bin\", \"round\": $r, \"cmd\": \"$c\", \"rec\": $rec}"
  done
 done
done
