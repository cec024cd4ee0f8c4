#!/bin/bash
# Session 11's idle-machine timing, run unattended (long runs SIGSTOPped first, no builds running).
set -u
O=${O:-/tmp/s11/idle}; mkdir -p $O; cd /work/main
AFTER=${AFTER:-/tmp/s11/after/recurrent}; BEFORE=${BEFORE:-/tmp/s11/before/recurrent}
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" > $O/log.txt
/tmp/fma_peak 1.5 > $O/fma_peak.txt 2>&1
for t in 1 2; do perf record -q -e cpu-clock -F 2000 -g -o $O/perf-e-infer-$t.data -- $AFTER bench --inference --cell relu --hidden 512 --input 64 --seq-len 100 --batch 1 --classes 10 --threads $t --min-seconds 4 --json > $O/perf-e-infer-$t.json 2>&1; done
echo "perf done $(date -u +%T)" >> $O/log.txt
benchmarks/before_after.sh $BEFORE $AFTER 1 > $O/before-after.jsonl 2>>$O/log.txt
echo "before/after done $(date -u +%T)" >> $O/log.txt
OUT=$O/sbs REPEATS=2 benchmarks/side_by_side.sh $AFTER > $O/sbs.out 2>&1
echo "sbs done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $O/log.txt
PYTORCH_FLUSH=1 CONFIGS="rowfmnist-lstm" SEEDS="1" THREADS="1 2" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh > $O/tts.out 2>&1
CONFIGS="rowfmnist-irnn" SEEDS="1" THREADS="1 2" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts rowfmnist done $(date -u +%T)" >> $O/log.txt
PYTORCH_FLUSH=1 CONFIGS="adding150-lstm" SEEDS="1" THREADS="1" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts adding150-lstm done $(date -u +%T)" >> $O/log.txt
CONFIGS="adding150-irnn" SEEDS="2 3" THREADS="1" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts adding150-irnn done $(date -u +%T)" >> $O/log.txt
CONFIGS="adding300-irnn" SEEDS="1" THREADS="1" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts adding300-irnn done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $O/log.txt
