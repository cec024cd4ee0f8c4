#!/bin/bash
# Session 15's idle-machine timing on the AMD EPYC (Zen 3, AVX2) VM, run unattended (long runs
# stopped first, no helper or build running). Sections in order of priority; each logs its end.
set -u
O=${O:-/tmp/s15/idle}; mkdir -p $O; cd /work/main
AFTER=${AFTER:-/tmp/s15/after/recurrent}; BEFORE=${BEFORE:-/tmp/s15/recurrent-start}
stamp() { echo "$1 $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> $O/log.txt; }
stamp start
/tmp/fma_peak 1.5 > $O/fma_peak.txt 2>&1
# The FMA peak (GFLOP/s, registers only) on 1 and 2 threads: the time-to-solve table's yardstick
export PEAKS="$(awk '/^fma 256-bit.*threads 1 /{a=$11} /^fma 256-bit.*threads 2 /{b=$11} END{print a, b}' $O/fma_peak.txt)"
benchmarks/before_after.sh $BEFORE $AFTER 1 > $O/before-after.jsonl 2>>$O/log.txt
stamp before-after
# The trainer's step against the bench's (issue: within 10%): marginal train step = (t(1000) - t(100)) / 900
for steps in 1000 100; do
  (cd $O && $AFTER train --task adding --length 150 --hidden 100 --batch 50 --lr 3e-4 --threads 1 --steps $steps --json 2>/dev/null | tail -1 >> $O/trainer.txt)
done
$AFTER bench --trainer --task adding --length 150 --hidden 100 --batch 50 --lr 3e-4 --threads 1 --steps 200 --warmup 5 --json >> $O/trainer.txt
$AFTER bench --cell relu --hidden 100 --input 2 --seq-len 150 --batch 50 --classes 1 --threads 1 --steps 200 --warmup 5 --json >> $O/trainer.txt
stamp trainer
CONFIGS="a b c d e f g e256 e1024" OUT=$O/sbs REPEATS=3 benchmarks/side_by_side.sh $AFTER > $O/sbs.out 2>&1
stamp sbs
# Where the time of the targets still short goes: perf shares of the whole process
prof() { local name=$1; shift; perf record -q -o $O/perf-$name.data -- "$@" > /dev/null 2>&1
         perf report -i $O/perf-$name.data --no-children --sort symbol 2>/dev/null | grep '%' | grep -v '^#' | head -25 | cut -c1-110 > $O/profile-$name.txt; }
prof b $AFTER bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 128 --classes 10 --threads 1 --min-seconds 3
prof a-2t $AFTER bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --threads 2 --min-seconds 3
prof e $AFTER bench --cell relu --hidden 512 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 1 --min-seconds 3
prof e1024 $AFTER bench --cell relu --hidden 1024 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 1 --min-seconds 3
prof rowirnn-1t $AFTER bench --trainer --task rowmnist --cell irnn --hidden 128 --batch 64 --lr 1e-3 --threads 1 --steps 300
prof rowirnn-eval $AFTER bench --inference --cell relu --hidden 128 --input 28 --seq-len 28 --batch 500 --classes 10 --threads 1 --min-seconds 3
stamp profiles
CONFIGS="rowfmnist-irnn" SEEDS="1 2 3" THREADS="1 2" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh > $O/tts.out 2>&1
stamp tts-rowfmnist-irnn
CONFIGS="adding300-irnn" SEEDS="1" THREADS="1" OUT=$O/tts RECURRENT=$AFTER benchmarks/time_to_solve.sh >> $O/tts.out 2>&1
stamp tts-adding300-irnn
