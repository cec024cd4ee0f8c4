#!/bin/bash
# final_loss of the start (B) and the after (A) binary on the same short runs, then the whole
# row-FMNIST training log (evaluations included, times removed) on 1 and 2 threads: must be the same bits.
# Session 14's 15 shapes, then H = 256, H = 1024, an odd H above 256 and B = 127 (the last four lines).
# Usage: B=<start binary> A=<binary to check> benchmarks/bits_check.sh  (every line must say "same")
B=${B:?set B, the start binary}; A=${A:?set A, the binary to check}
run() { for bin in $B $A; do $bin "$@" --json 2>/dev/null | tail -1 | python3 -c "import sys,json; print(json.load(sys.stdin)['final_loss'])"; done | sort -u | wc -l; }
while read -r line; do
  for th in 1 2; do
    n=$(run $line --threads $th); echo "$([ "$n" = 1 ] && echo same || echo DIFFER) threads=$th: $line"
  done
done <<'L'
bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 128 --classes 10 --steps 2 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell lstm --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --steps 2 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell relu --hidden 512 --input 64 --seq-len 100 --batch 64 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell relu --hidden 300 --input 3 --seq-len 30 --batch 7 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
bench --cell lstm --hidden 300 --input 8 --seq-len 12 --batch 7 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
bench --cell gru --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --steps 2 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell relu --hidden 100 --input 2 --seq-len 150 --batch 50 --classes 1 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
bench --trainer --task adding --length 150 --cell lstm --hidden 100 --batch 50 --lr 1e-3 --steps 20
bench --trainer --task rowmnist --cell irnn --hidden 128 --batch 64 --lr 1e-3 --steps 20 --data /usr/share/datasets/fashion-mnist
bench --cell relu --hidden 128 --input 28 --seq-len 28 --batch 64 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
bench --cell tanh --hidden 300 --input 64 --seq-len 20 --batch 9 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
bench --cell relu --hidden 5 --input 12 --seq-len 20 --batch 3 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
bench --cell indrnn --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell relu --hidden 256 --input 64 --seq-len 100 --batch 64 --classes 10 --steps 2 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell relu --hidden 1024 --input 64 --seq-len 30 --batch 64 --classes 10 --steps 2 --warmup 1 --min-seconds 0 --lr 1e-4
bench --cell relu --hidden 300 --input 5 --seq-len 40 --batch 13 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
bench --cell relu --hidden 100 --input 1 --seq-len 300 --batch 127 --classes 10 --steps 3 --warmup 1 --min-seconds 0 --lr 1e-3
L
for th in 1 2; do
  for bin in $B $A; do
    d=$(mktemp -d); (cd $d && $bin train --task rowmnist --cell irnn --hidden 128 --batch 64 --lr 1e-3 --clip-norm 1 --steps 300 --eval-every 100 --data /usr/share/datasets/fashion-mnist --threads $th --seed 1 --log log.jsonl > /dev/null 2>&1; python3 -c "
import json
for l in open('log.jsonl'):
    r = json.loads(l); r.pop('seconds', None); r.pop('wall', None); print(json.dumps(r, sort_keys=True))" | md5sum); rm -rf $d
  done | sort -u | wc -l | { read n; echo "$([ "$n" = 1 ] && echo same || echo DIFFER) threads=$th: train rowmnist irnn 300 steps, whole log without times"; }
done
