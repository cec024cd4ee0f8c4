#!/bin/bash
# Session 12's idle-machine timing on the AMD EPYC (Zen 3, AVX2) VM, run unattended
# (long runs SIGSTOPped first, no helper or build running). Sections in order of priority.
set -u
O=${O:-/tmp/s12/idle}; mkdir -p $O; cd /work/main
AFTER=${AFTER:-/tmp/s12/after/recurrent}; BEFORE=${BEFORE:-/tmp/s12/recurrent-start}
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" > $O/log.txt
/tmp/fma_peak 1.5 > $O/fma_peak.txt 2>&1
benchmarks/before_after.sh $BEFORE $AFTER 1 > $O/before-after.jsonl 2>>$O/log.txt
echo "before/after done $(date -u +%T)" >> $O/log.txt
OUT=$O/sbs REPEATS=2 benchmarks/side_by_side.sh $AFTER > $O/sbs.out 2>&1
echo "sbs done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $O/log.txt
CONFIGS="rowfmnist-irnn" SEEDS="1" THREADS="1 2" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh > $O/tts.out 2>&1
PYTORCH_FLUSH=1 CONFIGS="rowfmnist-lstm" SEEDS="1" THREADS="1 2" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts rowfmnist done $(date -u +%T)" >> $O/log.txt
CONFIGS="adding150-irnn" SEEDS="1" THREADS="1 2" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts adding150-irnn done $(date -u +%T)" >> $O/log.txt
PYTORCH_FLUSH=1 CONFIGS="adding150-lstm" SEEDS="1" THREADS="1" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts adding150-lstm done $(date -u +%T)" >> $O/log.txt
