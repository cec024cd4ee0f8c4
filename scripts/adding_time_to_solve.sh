#!/usr/bin/env bash
# Time to solve the adding problem (T = 150, test MSE <= 0.01) with an IRNN: Recurrent against
# PyTorch (scripts/adding_time_to_solve.py), same model and hyper-parameters, 1 thread each,
# back to back for every seed. The time-to-solve row of BENCHMARKS.md.
#
#   scripts/adding_time_to_solve.sh
#   SEEDS="1 2 3" OUT=/tmp/adding-tts.jsonl scripts/adding_time_to_solve.sh
#
# Environment: SEEDS (default "1 2"), OUT (JSON lines, default /tmp/adding-tts.jsonl; replaced),
# RECURRENT (default .build/release/recurrent), PYTHON (default ~/.cache/recurrent-peers-venv/bin/python),
# LENGTH (150), STEPS (8000), LR (0.0003).
#
# Every line of $OUT has the fields of the PyTorch script's line (framework, seed, solved, steps,
# seconds, ms_per_step, final_test_mse, cpu_seconds, load_average, curve, ...); Recurrent's line also
# keeps the object that `recurrent train --json` printed under "raw", and its curve comes from the
# --log file. cpu_seconds: Recurrent's is the whole process's user + system time (/usr/bin/time;
# start-up and the final checkpoint included, a few ms), PyTorch's the timed span's
# time.process_time(). On a busy machine compare cpu_seconds rather than seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEEDS="${SEEDS:-1 2}"
OUT="${OUT:-/tmp/adding-tts.jsonl}"
RECURRENT="${RECURRENT:-$ROOT/.build/release/recurrent}"
PYTHON="${PYTHON:-$HOME/.cache/recurrent-peers-venv/bin/python}"
LENGTH="${LENGTH:-150}"
STEPS="${STEPS:-8000}"
LR="${LR:-0.0003}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

WORK="$(mktemp -d /tmp/adding-tts.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
: > "$OUT"
# Every run uses this copy: a rebuild of .build/release during the runs cannot change the binary.
cp "$RECURRENT" "$WORK/recurrent"
BINARY_SHA256="$(sha256sum "$WORK/recurrent" | cut -d' ' -f1)"
echo "recurrent: $RECURRENT (sha256 $BINARY_SHA256)" >&2

for seed in $SEEDS; do
    echo "seed $seed: recurrent" >&2
    set +e
    /usr/bin/time -f "%e %U %S" -o "$WORK/time-$seed" "$WORK/recurrent" train --task adding --length "$LENGTH" --cell irnn --hidden 100 --batch 50 --lr "$LR" \
        --clip-norm 1 --eval-every 200 --target 0.01 --steps "$STEPS" --threads 1 --seed "$seed" --json \
        --checkpoint-dir "$WORK/ckpt-$seed" --log "$WORK/log-$seed.jsonl" > "$WORK/recurrent-$seed.json"
    rc=$?
    set -e
    "$PYTHON" - "$WORK/recurrent-$seed.json" "$WORK/log-$seed.jsonl" "$seed" "$LR" "$LENGTH" "$rc" "$WORK/recurrent" "$WORK/time-$seed" "$BINARY_SHA256" >> "$OUT" <<'EOF'
import json, os, subprocess, sys
raw_path, log_path, seed, lr, length, rc, binary, time_path, sha256 = sys.argv[1:]
_, user, system = open(time_path).read().split()[-3:]
raw = json.loads(open(raw_path).read().strip().splitlines()[-1])
curve = []
for line in open(log_path):
    r = json.loads(line)
    if r.get("kind") == "evaluation" and r.get("split") == "test":
        curve.append([r["step"], round(r["seconds"], 4), r["metric"]])
version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
steps = raw.get("steps") or 0
seconds = raw.get("seconds")
print(json.dumps({
    "framework": "recurrent", "recurrent_version": version, "binary_sha256": sha256, "threads": 1, "seed": int(seed), "lr": float(lr),
    "length": int(length), "solved": raw.get("target_reached_step") is not None, "reason": raw.get("reason"),
    "steps": steps, "seconds": seconds, "ms_per_step": 1000 * seconds / steps if steps and seconds else None,
    "final_test_mse": (raw.get("test") or {}).get("mse"),
    "cpu_seconds": float(user) + float(system), "load_average": list(os.getloadavg()), "exit_status": int(rc), "curve": curve, "raw": raw,
}))
EOF
    echo "seed $seed: pytorch" >&2
    "$PYTHON" "$ROOT/scripts/adding_time_to_solve.py" --length "$LENGTH" --lr "$LR" --steps "$STEPS" \
        --threads 1 --seed "$seed" 2> "$WORK/pytorch-$seed.err" >> "$OUT" \
        || { echo "pytorch seed $seed failed:" >&2; cat "$WORK/pytorch-$seed.err" >&2; }
done

"$PYTHON" - "$OUT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def f(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"
print("| framework | seed | solved | steps | seconds | ms/step | CPU s | final test MSE |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['framework']} | {r['seed']} | {'yes' if r['solved'] else 'no'} | {r['steps']} | {f(r.get('seconds'), '.1f')} | "
          f"{f(r.get('ms_per_step'), '.1f')} | {f(r.get('cpu_seconds'), '.1f')} | {f(r.get('final_test_mse'), '.4g')} |")
EOF
echo "raw JSON lines: $OUT" >&2
