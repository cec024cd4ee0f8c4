#!/usr/bin/env python3
"""The Recurrent side's record and the Markdown table of benchmarks/time_to_solve.sh.

    time_to_solve_report.py record CONFIG SEED THREADS TRAIN_JSON LOG_JSONL TIME_FILE EXIT_STATUS BINARY
        prints one JSON line for a `recurrent train --json --log` run, with the fields of
        torch_time_to_solve.py's line: steps, seconds (to the end of the evaluation that reached
        the target), train_seconds, eval_seconds, curve, ...
    time_to_solve_report.py table RUNS_JSONL [PEAK_GFLOPS_1T PEAK_GFLOPS_2T]
        prints the Markdown table: per configuration and thread count, the median seconds to
        solve of each side over the seeds, their ratio (PyTorch / Recurrent), and the steps to
        solve of every seed; and the work 3x would take: our run's FLOPs (`run_gflop`) over a
        third of PyTorch's seconds, in GFLOP/s and, given the machine's FMA peak on one and two
        threads (fma_peak's register-only rate), as a share of it (over 100%: beyond the machine).

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


# Shapes of each configuration (time_to_solve.sh's `args`): gate blocks G (1 IRNN, 4 LSTM), hidden
# H, inputs I, steps T, batch B, and the sequences one evaluation runs (adding: the 1000-sequence
# test set; row-FMNIST: 3000 validation + 10000 test).
SHAPES = {
    "adding150-irnn": (1, 100, 2, 150, 50, 1000), "adding150-lstm": (4, 100, 2, 150, 50, 1000),
    "adding300-irnn": (1, 100, 2, 300, 50, 1000), "adding300-lstm": (4, 100, 2, 300, 50, 1000),
    "rowfmnist-irnn": (1, 128, 28, 28, 64, 13000), "rowfmnist-lstm": (4, 128, 28, 28, 64, 13000),
}


def run_gflop(config, steps, evaluations):
    """GFLOP of a run of `steps` training steps and `evaluations` evaluations, counted as the peer
    script counts them: a sequence's forward pass 2·T·G·H·(I + H), a training step 3x its batch's
    forward (forward, dL/dh, weight gradients); the readout and the gates' elementwise work not counted."""
    g, h, i, t, b, n = SHAPES[config]
    forward = 2.0 * t * g * h * (i + h)
    return (steps * 3 * b * forward + evaluations * n * forward) / 1e9


def table(path, peaks=None):
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
          "| Recurrent ms/step | PyTorch ms/step | Recurrent eval s | 3x needs ms/step (eval as now / eval free) "
          "| GFLOP/s: we run / 3x needs (% of FMA peak) |")
    print("|---|---:|---:|---:|---:|---|---|---:|---:|---:|---|---|")
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
        # The whole run's rate, ours and the one 3x would take (our median steps and evaluations).
        rate = "-"
        evals = median_of(ours, "evaluations")
        if config in SHAPES and a and b and n and evals is not None:
            work = run_gflop(config, n, evals)
            peak = peaks.get(int(threads)) if peaks else None
            share = f" ({100 * work / (b / 3) / peak:.0f}%)" if peak else ""
            rate = f"{work / a:.1f} / {work / (b / 3):.1f}{share}"
        print(f"| {label} | {threads} | {fmt(a)} | {fmt(b)} | {fmt(b / a if a and b else None, '.2f')}x | {steps(ours)} | {steps(theirs)} "
              f"| {fmt(ms(ours))} | {fmt(ms(theirs))} | {fmt(ev)} | {need(ev)} / {need(0.0)} | {rate} |")
    print()
    print("Medians are over seeds that all solved the task (else -). Seconds: from the first step to the end of the")
    print("evaluation that reached the target, evaluations included; ms/step: training time only / steps. The last")
    print("column: the training step that would make Recurrent 3x sooner than PyTorch's median at Recurrent's median")
    print("steps, with its evaluations as measured and with evaluations free (a negative value: not reachable).")
    print("PyTorch FTZ: PyTorch with torch.set_flush_denormal(True) (time_to_solve.sh with PYTORCH_FLUSH=1).")
    print("GFLOP/s: the FLOPs of our run (median steps and evaluations; run_gflop) over our median seconds, and over")
    print("a third of PyTorch's" + (f"; % of the FMA peak given ({peaks[1]:g} / {peaks[2]:g} GFLOP/s on 1 / 2 threads)." if peaks else "."))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "record" and len(sys.argv) == 10:
        record(*sys.argv[2:])
    elif len(sys.argv) in (3, 5) and sys.argv[1] == "table":
        table(sys.argv[2], {1: float(sys.argv[3]), 2: float(sys.argv[4])} if len(sys.argv) == 5 else None)
    else:
        sys.exit(__doc__)
