#!/bin/bash
# Session 8's idle-machine timing, run unattended (long runs and tts step counters SIGSTOPped first).
set -u
O=/tmp/idle8; mkdir -p $O; cd /work/wt-int8
AFTER=/tmp/after8/recurrent; BEFORE=/root/.cache/recurrent-longrun/ab0f8a2fcc73564df46d2e251d1ad0e965aaafc0/recurrent
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" > $O/log.txt
/tmp/fma_peak 1.5 > $O/fma_peak.txt 2>&1
benchmarks/before_after.sh $BEFORE $AFTER 1 > $O/before-after.jsonl 2>>$O/log.txt
echo "before/after done $(date -u +%T)" >> $O/log.txt
OUT=$O/sbs REPEATS=2 benchmarks/side_by_side.sh $AFTER > $O/sbs.out 2>&1
echo "sbs done $(date -u +%T)" >> $O/log.txt
CONFIGS="adding150-irnn" SEEDS="1 2 3" THREADS=1 OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh > $O/tts.out 2>&1
CONFIGS="adding150-irnn" SEEDS="1" THREADS=2 OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
echo "tts done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $O/log.txt
STEPS=300 CONFIGS="adding150-lstm adding300-irnn adding300-lstm rowfmnist-irnn" SEEDS=1 THREADS="1 2" OUT=$O/tts-steptime RECURRENT=$AFTER benchmarks/time_to_solve.sh > $O/tts-steptime.out 2>&1
echo "steptime done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $O/log.txt
