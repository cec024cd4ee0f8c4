#!/usr/bin/env bash
# Issue #12's whole comparison in one go, on an IDLE machine: training steps of configs a-e
# (Recurrent, PyTorch, JAX, NumPy), the c-shaped GRU (f) and IndRNN (g), PyTorch with and
# without set_flush_denormal(True) on the LSTM/GRU rows and Recurrent with and without
# --keep-denormals on c, and inference (`bench --inference`, sequences/s, batch 1 and 256,
# configs a and e) against PyTorch under inference_mode and ONNX Runtime; 1 and 2 threads.
# Each figure covers >= MIN_SECONDS of timed calls; REPEATS rounds, interleaved. Writes
# $OUT/table.md (Markdown for BENCHMARKS.md), $OUT/raw.jsonl and $OUT/log.txt.
#
#   swift build -c release
#   benchmarks/side_by_side.sh [BINARY]                # default .build/release/recurrent; ~20 min idle
#   QUICK=1 REPEATS=1 MIN_SECONDS=0.05 benchmarks/side_by_side.sh   # tiny shapes: checks that it all runs
#
# Knobs (defaults): PY (~/.cache/recurrent-peers-venv/bin/python: torch, jax, numpy,
# threadpoolctl, onnxruntime, onnx), OUT (./side-by-side-<UTC time>), REPEATS (3),
# MIN_SECONDS (1.0), WARMUP (2), THREADS ("1 2"), CONFIGS ("a b c d e f g"; also e256, e1024: e at H = 256, 1024),
# FRAMEWORKS ("torch jax numpy"), INFER_CONFIGS ("a e"), BATCHES ("1 256"),
# SECTIONS ("train inference"), QUICK (unset).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${1:-$here/../.build/release/recurrent}")
PY=${PY:-${XDG_CACHE_HOME:-$HOME/.cache}/recurrent-peers-venv/bin/python}
OUT=${OUT:-$PWD/side-by-side-$(date -u +%Y%m%d-%H%M)}
[ -x "$binary" ] || { echo "no binary at $binary: run swift build -c release, or pass its path" >&2; exit 64; }
"$PY" -c 'import torch, jax, numpy, threadpoolctl, onnxruntime, onnx' 2>/dev/null || {
    echo "$PY lacks one of torch, jax, numpy, threadpoolctl, onnxruntime, onnx:" >&2
    echo "  /work/shared/peers/setup.sh, then $PY -m pip install onnxruntime onnx onnxscript" >&2; exit 64; }
busy=$(ps -eo pcpu=,pid=,args= --sort=-pcpu | awk -v me=$$ '$1 > 20 && $2 != me' | head -3)
[ -z "$busy" ] || { echo "WARNING: other busy processes; the figures will be perturbed:" >&2; echo "$busy" >&2; }
quick=(); [ -n "${QUICK:-}" ] && quick=(--quick)
exec "$PY" "$here/side_by_side.py" --recurrent "$binary" --out "$OUT" \
    --repeats "${REPEATS:-3}" --min-seconds "${MIN_SECONDS:-1.0}" --warmup "${WARMUP:-2}" \
    --threads "${THREADS:-1 2}" --configs "${CONFIGS:-a b c d e f g}" --frameworks "${FRAMEWORKS:-torch jax numpy}" \
    --infer-configs "${INFER_CONFIGS:-a e}" --batches "${BATCHES:-1 256}" --sections "${SECTIONS:-train inference}" \
    "${quick[@]}"
