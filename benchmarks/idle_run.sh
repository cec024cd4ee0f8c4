#!/bin/bash
# The idle-machine timing run for issue #12, unattended: stop the long runs (SIGSTOP) and let no
# helper or build run first. Each session records its command line in BENCHMARKS.md, e.g.
#   O=/tmp/s16/idle BEFORE=/tmp/s16/recurrent-start AFTER=.build/release/recurrent \
#   PROFILES="b a-2t e e1024" TTS="rowfmnist-irnn:1 2 3:1 2" benchmarks/idle_run.sh
# Sections in this order; each logs its end (time and load) in $O/log.txt:
#   fma_peak (the yardstick), before_after.sh (BEFORE against AFTER), the trainer's marginal step
#   against bench's, side_by_side.sh over CONFIGS, perf profiles (PROFILES, names below), and
#   time_to_solve.sh for each entry of TTS ("config:seeds:threads[:ftz]", entries separated by ';';
#   ftz: PyTorch with denormals flushed, PYTORCH_FLUSH=1, as the LSTM configs are compared).
# SKIP lists sections to leave out (fma before-after trainer sbs profiles tts).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
O=${O:?set O, the output folder}; BEFORE=${BEFORE:?set BEFORE, the start binary}; AFTER=${AFTER:?set AFTER, the binary to time}
CONFIGS=${CONFIGS:-a b c d e f g e256 e1024}; REPEATS=${REPEATS:-3}
PROFILES=${PROFILES:-}; TTS=${TTS:-}; SKIP=${SKIP:-}
FMA_PEAK=${FMA_PEAK:-/tmp/fma_peak}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
mkdir -p "$O"; cd "$here"
stamp() { echo "$1 $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$O/log.txt"; }
wanted() { case " $SKIP " in *" $1 "*) return 1;; esac; }

# The command profiled under each name of PROFILES.
profile_command() {
  case $1 in
    a)            echo bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --threads 1 --min-seconds 3;;
    a-2t)         echo bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 16 --classes 10 --threads 2 --min-seconds 3;;
    b)            echo bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 128 --classes 10 --threads 1 --min-seconds 3;;
    b-2t)         echo bench --cell relu --hidden 100 --input 1 --seq-len 784 --batch 128 --classes 10 --threads 2 --min-seconds 3;;
    e)            echo bench --cell relu --hidden 512 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 1 --min-seconds 3;;
    e-2t)         echo bench --cell relu --hidden 512 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 2 --min-seconds 3;;
    e256)         echo bench --cell relu --hidden 256 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 1 --min-seconds 3;;
    e1024)        echo bench --cell relu --hidden 1024 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 1 --min-seconds 3;;
    e1024-2t)     echo bench --cell relu --hidden 1024 --input 64 --seq-len 100 --batch 64 --classes 10 --threads 2 --min-seconds 3;;
    rowirnn-1t)   echo bench --trainer --task rowmnist --cell irnn --hidden 128 --batch 64 --lr 1e-3 --threads 1 --steps 300 --data "$FMNIST";;
    rowirnn-2t)   echo bench --trainer --task rowmnist --cell irnn --hidden 128 --batch 64 --lr 1e-3 --threads 2 --steps 300 --data "$FMNIST";;
    rowirnn-eval) echo bench --inference --cell relu --hidden 128 --input 28 --seq-len 28 --batch 500 --classes 10 --threads 1 --min-seconds 3;;
    *) echo "idle_run.sh: unknown profile '$1' (see profile_command)" >&2; return 1;;
  esac
}

stamp start
if wanted fma; then
  "$FMA_PEAK" 1.5 > "$O/fma_peak.txt" 2>&1
  # GFLOP/s of the register-only FMA loop on 1 and 2 threads: the time-to-solve table's yardstick
  export PEAKS="$(awk '/^fma 256-bit.*threads 1 /{a=$11} /^fma 256-bit.*threads 2 /{b=$11} END{print a, b}' "$O/fma_peak.txt")"
  stamp fma
fi
if wanted before-after; then
  benchmarks/before_after.sh "$BEFORE" "$AFTER" 1 > "$O/before-after.jsonl" 2>> "$O/log.txt"
  stamp before-after
fi
if wanted trainer; then
  # The trainer's step against the bench's (issue: within 10%): marginal step = (t(1000) - t(100)) / 900
  for steps in 1000 100; do
    (cd "$O" && "$AFTER" train --task adding --length 150 --hidden 100 --batch 50 --lr 3e-4 --threads 1 --steps $steps --json 2>/dev/null | tail -1 >> "$O/trainer.txt")
  done
  "$AFTER" bench --trainer --task adding --length 150 --hidden 100 --batch 50 --lr 3e-4 --threads 1 --steps 200 --warmup 5 --json >> "$O/trainer.txt"
  "$AFTER" bench --cell relu --hidden 100 --input 2 --seq-len 150 --batch 50 --classes 1 --threads 1 --steps 200 --warmup 5 --json >> "$O/trainer.txt"
  stamp trainer
fi
if wanted sbs; then
  CONFIGS="$CONFIGS" OUT="$O/sbs" REPEATS="$REPEATS" benchmarks/side_by_side.sh "$AFTER" > "$O/sbs.out" 2>&1
  stamp sbs
fi
if wanted profiles && [ -n "$PROFILES" ]; then
  # Where the time goes: perf's shares of the whole process, by symbol
  for name in $PROFILES; do
    cmd=$(profile_command "$name") || continue
    perf record -q -o "$O/perf-$name.data" -- "$AFTER" $cmd > /dev/null 2>&1
    perf report -i "$O/perf-$name.data" --no-children --sort symbol 2>/dev/null | grep '%' | grep -v '^#' | head -25 | cut -c1-110 > "$O/profile-$name.txt"
  done
  stamp profiles
fi
if wanted tts && [ -n "$TTS" ]; then
  IFS=';' read -ra entries <<< "$TTS"
  for entry in "${entries[@]}"; do
    IFS=':' read -r config seeds threads ftz <<< "$entry"
    # time_to_solve.sh flushes PyTorch's denormals when PYTORCH_FLUSH is set at all, to any value
    if [ "$ftz" = ftz ]; then export PYTORCH_FLUSH=1; else unset PYTORCH_FLUSH; fi
    CONFIGS="$config" SEEDS="$seeds" THREADS="$threads" OUT="$O/tts" RECURRENT="$AFTER" benchmarks/time_to_solve.sh >> "$O/tts.out" 2>&1
    stamp "tts-$config"
  done
fi
stamp end
