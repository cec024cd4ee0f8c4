#!/usr/bin/env bash
# Inference throughput, side by side: PyTorch (torch.inference_mode), ONNX Runtime (the same
# model exported from PyTorch) and Recurrent (`recurrent bench --inference`, i.e.
# RecurrentModel.predict), for the issue's configurations a and e at batch 1 and 256, on 1 and
# 2 threads. Each configuration is checked first (`--check`: the three give the same outputs).
# Run on an idle machine; prints one JSON line per (configuration, batch, threads, framework)
# into $OUT (default ./inference-results.jsonl) and a table at the end.
#
#   benchmarks/inference_matrix.sh [BINARY]            (default .build/release/recurrent)
#   PY=~/.cache/recurrent-peers-venv/bin/python THREADS="1 2" BATCHES="1 256" CONFIGS="a e" STEPS=20 REPEATS=2
#
# Needs torch, onnxruntime, onnx and onnxscript in $PY's environment:
#   ~/.cache/recurrent-peers-venv/bin/pip install onnxruntime onnx onnxscript
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${1:-$here/../.build/release/recurrent}")
PY=${PY:-${XDG_CACHE_HOME:-$HOME/.cache}/recurrent-peers-venv/bin/python}
OUT=${OUT:-$PWD/inference-results.jsonl}
THREADS=${THREADS:-"1 2"}; BATCHES=${BATCHES:-"1 256"}; CONFIGS=${CONFIGS:-"a e"}
STEPS=${STEPS:-20}; WARMUP=${WARMUP:-3}; REPEATS=${REPEATS:-2}
declare -A CFG=([a]="relu 100 1 784 10" [e]="relu 512 64 100 10")   # cell H I T C
: > "$OUT"
for c in $CONFIGS; do
    read -r cell h i t k <<<"${CFG[$c]}"
    for b in $BATCHES; do
        # batch 1 calls are short: more of them, so that each figure covers about a second
        steps=$STEPS; [ "$b" = 1 ] && steps=$((STEPS * 10))
        common=(--cell "$cell" --hidden "$h" --input "$i" --seq-len "$t" --batch "$b" --classes "$k"
                --steps "$steps" --warmup "$WARMUP" --recurrent "$binary" --label "$c")
        "$PY" "$here/inference_peer_bench.py" "${common[@]}" --steps 1 --warmup 0 --frameworks torch --check >/dev/null
        for threads in $THREADS; do
            for r in $(seq "$REPEATS"); do
                echo "[$(date +%H:%M:%S)] config $c batch $b threads $threads repeat $r" >&2
                "$PY" "$here/inference_peer_bench.py" "${common[@]}" --threads "$threads" >>"$OUT"
            done
        done
    done
done
"$PY" - "$OUT" <<'PY'
import json, statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[(r.get("label"), r["batch"], r["threads"], r["framework"])].append(r["seq_per_s"])
keys = sorted({k[:3] for k in rows})
print("| config | batch | threads | Recurrent seq/s | PyTorch seq/s | ONNX Runtime seq/s | vs faster peer |")
print("|---|---|---|---|---|---|---|")
for k in keys:
    med = {f: statistics.median(rows[k + (f,)]) for f in ("recurrent", "torch", "onnxruntime") if rows.get(k + (f,))}
    peer = max(med.get("torch", 0), med.get("onnxruntime", 0))
    ratio = f"{med['recurrent'] / peer:.2f}x" if peer and "recurrent" in med else ""
    print(f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(f"{med[f]:.1f}" if f in med else "-" for f in ("recurrent", "torch", "onnxruntime")) + f" | {ratio} |")
PY
