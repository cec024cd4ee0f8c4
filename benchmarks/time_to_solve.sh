#!/usr/bin/env bash
# Time to solve, Recurrent against PyTorch (issue 12): the same model, hyper-parameters, stop
# rule and evaluation sets on both sides, several seeds, 1 and 2 threads.
#
#   benchmarks/time_to_solve.sh                                   # the whole grid (long: see BENCHMARKS.md)
#   CONFIGS="adding150-irnn rowfmnist-lstm" SEEDS="1 2 3" THREADS=1 OUT=/tmp/tts benchmarks/time_to_solve.sh
#
# Configurations (CONFIGS; hyper-parameters in `args` below, the same on both sides):
#   adding150-irnn adding150-lstm adding300-irnn adding300-lstm   adding problem, test MSE <= 0.01
#   rowfmnist-irnn rowfmnist-lstm        row-by-row Fashion-MNIST, validation accuracy >= 0.85
# Environment: CONFIGS (all six), SEEDS ("1 2 3"), THREADS ("1 2"), SIDES ("recurrent pytorch"),
# OUT (folder, default /tmp/time-to-solve; runs.jsonl there is appended to, table.md rewritten),
# RECURRENT (.build/release/recurrent), PYTHON (~/.cache/recurrent-peers-venv/bin/python),
# FMNIST (/usr/share/datasets/fashion-mnist), NICE (a command prefix, e.g. "nice -n 10"; empty),
# STEPS (give up after this many steps instead of the configuration's budget; e.g. STEPS=20 for a
# quick check of the whole pipeline), PEAKS (the FMA peak in GFLOP/s on 1 and 2 threads, e.g.
# "98.0 204.6" from benchmarks/kernels/fma_peak.c: the table then shows the share of it that 3x
# would take), PYTORCH_FLUSH (1: PyTorch runs with denormals flushed,
# torch.set_flush_denormal(True), reported as the peer "PyTorch FTZ"; its LSTM step slows down
# several times on subnormals at long T without it).
#
# For every configuration, `recurrent export-data` first writes the evaluation sets that
# torch_time_to_solve.py then evaluates on (the very same tensors). For every seed and thread
# count the two sides run back to back, Recurrent first; after Recurrent's first run of a
# configuration and seed, torch_time_to_solve.py --verify evaluates Recurrent's final
# checkpoint itself and must agree with the metrics Recurrent printed (else the script stops).
# Each run appends one JSON line to $OUT/runs.jsonl (time_to_solve_report.py record for
# Recurrent, torch_time_to_solve.py for PyTorch; both have steps, seconds, train_seconds,
# eval_seconds, curve, load_average); the end writes $OUT/table.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGS="${CONFIGS:-adding150-irnn adding150-lstm adding300-irnn adding300-lstm rowfmnist-irnn rowfmnist-lstm}"
SEEDS="${SEEDS:-1 2 3}"
THREADS="${THREADS:-1 2}"
SIDES="${SIDES:-recurrent pytorch}"
OUT="${OUT:-/tmp/time-to-solve}"
RECURRENT="${RECURRENT:-$ROOT/.build/release/recurrent}"
PYTHON="${PYTHON:-$HOME/.cache/recurrent-peers-venv/bin/python}"
FMNIST="${FMNIST:-/usr/share/datasets/fashion-mnist}"
read -r -a NICE <<< "${NICE:-}"

# The shared arguments of one configuration: recurrent train and torch_time_to_solve.py take the same spelling.
args() {
    local budget="--clip-norm 1 --steps"
    case "$1" in
        adding150-irnn) echo "--task adding --length 150 --cell irnn --hidden 100 --batch 50 --lr 3e-4 $budget 20000 --eval-every 200 --target 0.01" ;;
        adding150-lstm) echo "--task adding --length 150 --cell lstm --hidden 100 --batch 50 --lr 1e-3 $budget 20000 --eval-every 200 --target 0.01" ;;
        adding300-irnn) echo "--task adding --length 300 --cell irnn --hidden 100 --batch 50 --lr 1e-4 $budget 30000 --eval-every 200 --target 0.01" ;;
        adding300-lstm) echo "--task adding --length 300 --cell lstm --hidden 100 --batch 50 --lr 1e-3 $budget 20000 --eval-every 200 --target 0.01" ;;
        rowfmnist-irnn) echo "--task rowmnist --cell irnn --hidden 128 --batch 64 --lr 1e-3 $budget 20000 --eval-every 100 --target 0.85" ;;
        rowfmnist-lstm) echo "--task rowmnist --cell lstm --hidden 128 --batch 64 --lr 1e-3 $budget 20000 --eval-every 100 --target 0.85" ;;
        *) echo "unknown configuration '$1' (known: adding150-irnn adding150-lstm adding300-irnn adding300-lstm rowfmnist-irnn rowfmnist-lstm)" >&2; return 1 ;;
    esac
}
# The task's part of them (what export-data takes), and the data folder (rowmnist).
task_args() { local a; read -r -a a <<< "$(args "$1")"; [ "${a[1]}" = adding ] && echo "${a[*]:0:4}" || echo "${a[*]:0:2}"; }
data_args() { case "$1" in rowfmnist-*) echo "--data $FMNIST" ;; *) echo "" ;; esac; }

[ -x "$RECURRENT" ] || { echo "no recurrent binary at $RECURRENT: run 'swift build -c release' or set RECURRENT" >&2; exit 1; }
[ -x "$PYTHON" ] || { echo "no python at $PYTHON: build the peers' venv (/work/shared/peers/setup.sh) or set PYTHON" >&2; exit 1; }
# The PyTorch side also reads Recurrent's checkpoint (safetensors): check before any run starts.
"$PYTHON" -c 'import torch, numpy, safetensors' 2>/dev/null \
    || { echo "$PYTHON lacks one of torch, numpy, safetensors: $PYTHON -m pip install torch numpy safetensors" >&2; exit 1; }
for config in $CONFIGS; do args "$config" > /dev/null; done

mkdir -p "$OUT"
WORK="$(mktemp -d "$OUT/work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# Every run uses this copy: a rebuild of .build/release during the runs cannot change the binary.
cp "$RECURRENT" "$WORK/recurrent"
echo "recurrent $("$WORK/recurrent" --version) (sha256 $(sha256sum "$WORK/recurrent" | cut -d' ' -f1)); torch $("$PYTHON" -c 'import torch; print(torch.__version__)')" >&2
export OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS

for config in $CONFIGS; do
    read -r -a common <<< "$(args "$config")"
    if [ -n "${STEPS:-}" ]; then
        for i in "${!common[@]}"; do [ "${common[$i]}" = --steps ] && common[i+1]=$STEPS; done
    fi
    read -r -a task <<< "$(task_args "$config")"
    read -r -a data <<< "$(data_args "$config")"
    sets="$WORK/sets-$config"
    "$WORK/recurrent" export-data "${task[@]}" "${data[@]}" --out "$sets" > /dev/null
    for seed in $SEEDS; do
        verified=""
        for threads in $THREADS; do
            OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
            run="$WORK/$config-s$seed-t$threads"
            if [[ " $SIDES " == *" recurrent "* ]]; then
                echo "$config seed $seed, $threads thread(s): recurrent" >&2
                set +e
                "${NICE[@]}" /usr/bin/time -f "%e %U %S" -o "$run.time" "$WORK/recurrent" train "${common[@]}" "${data[@]}" \
                    --threads "$threads" --seed "$seed" --json --checkpoint-dir "$run" --name model --log "$run.log.jsonl" > "$run.json"
                status=$?
                set -e
                "$PYTHON" "$ROOT/benchmarks/time_to_solve_report.py" record "$config" "$seed" "$threads" "$run.json" "$run.log.jsonl" \
                    "$run.time" "$status" "$WORK/recurrent" >> "$OUT/runs.jsonl"
                if [ -z "$verified" ] && [ "$status" -eq 0 ]; then
                    "$PYTHON" "$ROOT/benchmarks/torch_time_to_solve.py" "${common[@]}" "${data[@]}" --eval-data "$sets" \
                        --verify "$run/model.safetensors" "$run.json" > "$run.verify.json" \
                        || { echo "PyTorch does not evaluate Recurrent's checkpoint as Recurrent does: $(cat "$run.verify.json")" >&2; exit 1; }
                    verified=yes
                fi
            fi
            if [[ " $SIDES " == *" pytorch "* ]]; then
                echo "$config seed $seed, $threads thread(s): pytorch" >&2
                "${NICE[@]}" "$PYTHON" "$ROOT/benchmarks/torch_time_to_solve.py" "${common[@]}" "${data[@]}" --eval-data "$sets" \
                    --threads "$threads" --seed "$seed" ${PYTORCH_FLUSH:+--flush-denormal} 2> "$run.torch.err" \
                    | "$PYTHON" -c 'import json, sys; r = json.loads(sys.stdin.read()); r["config"] = sys.argv[1]; print(json.dumps(r))' "$config" \
                    >> "$OUT/runs.jsonl" \
                    || { echo "pytorch $config seed $seed failed:" >&2; cat "$run.torch.err" >&2; }
            fi
        done
    done
done

read -r -a peaks <<< "${PEAKS:-}"
"$PYTHON" "$ROOT/benchmarks/time_to_solve_report.py" table "$OUT/runs.jsonl" "${peaks[@]}" | tee "$OUT/table.md"
echo "runs: $OUT/runs.jsonl; table: $OUT/table.md" >&2
