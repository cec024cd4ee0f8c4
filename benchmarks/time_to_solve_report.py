#!/usr/bin/env python3
"""The Recurrent side's record and the Markdown table of benchmarks/time_to_solve.sh.

    time_to_solve_report.py record CONFIG SEED THREADS TRAIN_JSON LOG_JSONL TIME_FILE EXIT_STATUS BINARY
        prints one JSON line for a `recurrent train --json --log` run, with the fields of
        torch_time_to_solve.py's line: steps, seconds (to the end of the evaluation that reached
        the target), train_seconds, eval_seconds, curve, ...
    time_to_solve_report.py table RUNS_JSONL
        prints the Markdown table: per configuration and thread count, the median seconds to
        solve of each side over the seeds, their ratio (PyTorch / Recurrent), and the steps to
        solve of every seed.

Recurrent's evaluation time is read from its --log: an evaluation at step s is logged after the
training record of step s (the driver evaluates every N steps, a multiple of --log-every), so
its cost is the last evaluation record's `seconds` minus that step record's `seconds`.
"""
import json
import os
import statistics
import subprocess
import sys


def record(config, seed, threads, train_json, log_jsonl, time_file, exit_status, binary):
    raw = {}
    lines = [l for l in open(train_json).read().splitlines() if l.strip()]
    if lines:
        raw = json.loads(lines[-1])
    step_seconds, evals = {}, {}
    for line in open(log_jsonl):
        r = json.loads(line)
        if r.get("kind") == "step":
            step_seconds[r["step"]] = r["seconds"]
        elif r.get("kind") == "evaluation":
            evals.setdefault(r["step"], []).append(r)
    deciding = "val" if any(e["split"] == "val" for es in evals.values() for e in es) else "test"
    curve, eval_seconds, seconds = [], 0.0, None
    for step in sorted(evals):
        done = max(e["seconds"] for e in evals[step])
        if step in step_seconds:
            eval_seconds += done - step_seconds[step]
        metric = next(e["metric"] for e in evals[step] if e["split"] == deciding)
        curve.append([step, round(done, 4), metric])
        seconds = done
    wall = user = system = None
    try:
        wall, user, system = (float(v) for v in open(time_file).read().split()[-3:])
    except (OSError, ValueError):
        pass
    steps = raw.get("steps") or 0
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    print(json.dumps({
        "framework": "recurrent", "recurrent_version": version, "config": config, "seed": int(seed), "threads": int(threads),
        "task": raw.get("task"), "metric": raw.get("metric"), "deciding_split": deciding,
        "solved": raw.get("target_reached_step") is not None, "reason": raw.get("reason"), "steps": steps,
        "target_reached_step": raw.get("target_reached_step"),
        "seconds": seconds, "train_seconds": None if seconds is None else seconds - eval_seconds, "eval_seconds": eval_seconds,
        "evaluations": len(curve), "ms_per_step": 1000 * (seconds - eval_seconds) / steps if steps and seconds else None,
        "final": {"val": raw.get("val"), "test": raw.get("test")},
        "process_seconds": wall, "cpu_seconds": None if user is None else user + system,
        "load_average": list(os.getloadavg()), "exit_status": int(exit_status), "curve": curve, "raw": raw,
    }))


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip() and l.lstrip().startswith("{")]
    runs = [r for r in rows if r.get("framework") in ("recurrent", "pytorch")]
    groups = {}
    for r in runs:
        # PyTorch with denormals flushed (--flush-denormal) is a peer of its own: "pytorch-ftz".
        side = "pytorch-ftz" if r["framework"] == "pytorch" and r.get("flush_denormal") else r["framework"]
        groups.setdefault((r["config"], r["threads"]), {}).setdefault(side, []).append(r)

    def median_seconds(rs):
        solved = [r["seconds"] for r in rs if r.get("solved")]
        return statistics.median(solved) if solved and len(solved) == len(rs) else None

    def steps(rs):
        return ", ".join(f"{r['seed']}: {r['steps'] if r.get('solved') else 'not by ' + str(r['steps'])}"
                         for r in sorted(rs, key=lambda r: r["seed"]))

    def fmt(v, spec=".1f"):
        return format(v, spec) if isinstance(v, (int, float)) else "-"

    def median_of(rs, key):
        vs = [r[key] for r in rs if r.get("solved") and r.get(key) is not None]
        return statistics.median(vs) if vs else None

    print("| config | threads | Recurrent s (median) | PyTorch s (median) | PyTorch / Recurrent | Recurrent steps (seed: steps) | PyTorch steps "
          "| Recurrent ms/step | PyTorch ms/step | Recurrent eval s | 3x needs ms/step (eval as now / eval free) |")
    print("|---|---:|---:|---:|---:|---|---|---:|---:|---:|---|")
    rows = [(config, threads, sides, peer) for (config, threads), sides in sorted(groups.items())
            for peer in [p for p in ("pytorch", "pytorch-ftz") if p in sides] or ["pytorch"]]
    for config, threads, sides, peer in rows:
        ours, theirs = sides.get("recurrent", []), sides.get(peer, [])
        label = config + (" (PyTorch FTZ)" if peer == "pytorch-ftz" else "")
        a, b = median_seconds(ours), median_seconds(theirs)
        ms = lambda rs: statistics.median([r["ms_per_step"] for r in rs if r.get("ms_per_step")]) if any(r.get("ms_per_step") for r in rs) else None
        # The training step 3x needs at our median steps: (PyTorch's seconds / 3 - our evaluation
        # seconds) / steps; and with evaluation costing nothing. Negative: evaluation alone is too slow.
        n, ev = median_of(ours, "steps"), median_of(ours, "eval_seconds")
        need = lambda e: fmt(1e3 * (b / 3 - e) / n, ".2f") if b and n and e is not None else "-"
        print(f"| {label} | {threads} | {fmt(a)} | {fmt(b)} | {fmt(b / a if a and b else None, '.2f')}x | {steps(ours)} | {steps(theirs)} "
              f"| {fmt(ms(ours))} | {fmt(ms(theirs))} | {fmt(ev)} | {need(ev)} / {need(0.0)} |")
    print()
    print("Medians are over seeds that all solved the task (else -). Seconds: from the first step to the end of the")
    print("evaluation that reached the target, evaluations included; ms/step: training time only / steps. The last")
    print("column: the training step that would make Recurrent 3x sooner than PyTorch's median at Recurrent's median")
    print("steps, with its evaluations as measured and with evaluations free (a negative value: not reachable).")
    print("PyTorch FTZ: PyTorch with torch.set_flush_denormal(True) (time_to_solve.sh with PYTORCH_FLUSH=1).")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "record" and len(sys.argv) == 10:
        record(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
