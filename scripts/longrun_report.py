#!/usr/bin/env python3
"""Tables and learning curves of the long runs made by scripts/longrun.sh.

    python3 scripts/longrun_report.py [RUN_DIR ...] [--out experiments/longruns]

For every run folder (default: experiments/longruns/*) it reads run.conf (the train options), train.log
(the segments: one line per start or resume, with the machine) and log.jsonl (the JSON Lines metrics
log, appended across resumes), and writes, grouped by task:
  - OUT/report.md: per task a table (model, H, layers, parameters, epochs done, best validation accuracy,
    test accuracy at that evaluation, wall-clock hours, machine, state) and the command of each run;
  - OUT/<task>-curves.svg: validation accuracy against epochs and against wall-clock hours.
Wall-clock time is summed over the segments (a resumed process restarts its clock at 0); the steps a
killed segment did after its last checkpoint are counted in the time but their records are replaced
by the resumed segment's. Only the standard library is used.
"""
import argparse
import glob
import json
import os
import re
import shlex
import struct

def parse_conf(path):
    conf = {}
    for line in open(path):
        key, _, value = line.rstrip("\n").partition("=")
        conf[key] = shlex.split(value)[0] if value else ""
    args = shlex.split(conf.get("ARGS", ""))
    options = {}
    i = 0
    while i < len(args):
        if args[i].startswith("--"):
            if i + 1 < len(args) and not args[i + 1].startswith("--"):
                options[args[i][2:]] = args[i + 1]
                i += 2
            else:
                options[args[i][2:]] = True
                i += 1
        else:
            i += 1
    return conf.get("COMMIT", ""), conf.get("ARGS", ""), options


def parameter_count(checkpoint):
    """Sum of the tensor sizes in a safetensors file (its JSON header only)."""
    if not os.path.exists(checkpoint):
        return None
    with open(checkpoint, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    total = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        size = 1
        for d in entry["shape"]:
            size *= d
        total += size
    return total


def read_log(path):
    """Evaluation records with cumulative wall seconds, later segments replacing replayed steps."""
    evals = {}          # (step, split) -> record
    offset = 0.0
    last_seconds = 0.0
    last_step = 0
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill
        seconds = float(r.get("seconds", 0))
        if seconds < last_seconds - 1e-9:   # a new process: its clock starts again
            offset += last_seconds
        last_seconds = seconds
        last_step = max(last_step, r.get("step", 0))
        if r.get("kind") == "evaluation":
            r["wall"] = offset + seconds
            evals[(r["step"], r["split"])] = r
    return evals, offset + last_seconds, last_step


def segments(train_log):
    """The machines and the binaries' commits of the run's segments (in order, each once), and its total steps."""
    machines, commits, steps_total = [], [], None
    if not os.path.exists(train_log):
        return machines, commits, steps_total
    for line in open(train_log):
        # The CPU name may hold parentheses itself ("Intel(R) Xeon(R) Processor").
        m = re.match(r"== \S+ (\S+) \((.*)\) pid \d+:", line)
        if m:
            machines.append(f"{m.group(1)} ({m.group(2)})")
            b = re.search(r"recurrent-longrun/([0-9a-f]{7,40})/recurrent ", line)
            if b and (not commits or commits[-1][:7] != b.group(1)[:7]):   # paths hold 7 or 40 digits
                commits.append(b.group(1)[:10])
        m = re.match(r"\s+(\d+) steps of (\d+)", line)
        if m:
            steps_total = int(m.group(1))
    return machines, commits, steps_total


def svg_chart(title, series, xlabel, ylabel, width=640, height=360):
    """A plain line chart: series = [(label, [(x, y), ...]), ...]."""
    left, right, top, bottom = 60, 170, 30, 45
    xs = [x for _, pts in series for x, _ in pts] or [0, 1]
    ys = [y for _, pts in series for _, y in pts] or [0, 1]
    x0, x1 = 0.0, max(xs) or 1.0
    y0, y1 = min(0.1, min(ys)), 1.0
    pw, ph = width - left - right, height - top - bottom
    sx = lambda x: left + (x - x0) / (x1 - x0) * pw
    sy = lambda y: top + ph - (y - y0) / (y1 - y0) * ph
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">{title}</text>']
    for k in range(6):
        y = y0 + (y1 - y0) * k / 5
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:.2f}</text>')
    for k in range(6):
        x = x0 + (x1 - x0) * k / 5
        out.append(f'<text x="{sx(x):.1f}" y="{top + ph + 16}" text-anchor="middle">{x:.3g}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text x="14" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 {top + ph / 2})">{ylabel}</text>')
    for i, (label, pts) in enumerate(series):
        c = colors[i % len(colors)]
        if pts:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="1.6"/>')
        ly = top + 14 + 16 * i
        out.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 28}" y1="{ly - 4}" y2="{ly - 4}" stroke="{c}" stroke-width="2"/>')
        out.append(f'<text x="{left + pw + 32}" y="{ly}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="*")
    p.add_argument("--out", default="experiments/longruns")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    runs = a.runs or sorted(d for d in glob.glob("experiments/longruns/*") if os.path.isdir(d))
    rows = {}
    for d in runs:
        if not os.path.exists(os.path.join(d, "run.conf")):
            continue
        commit, args, o = parse_conf(os.path.join(d, "run.conf"))
        evals, wall, last_step = read_log(os.path.join(d, "log.jsonl")) if os.path.exists(os.path.join(d, "log.jsonl")) else ({}, 0, 0)
        machines, commits, total = segments(os.path.join(d, "train.log"))
        epochs = int(o.get("epochs", 0)) or None
        per_epoch = total / epochs if total and epochs else None
        val = sorted((r for (s, sp), r in evals.items() if sp == "val"), key=lambda r: r["step"])
        test = {r["step"]: r for (s, sp), r in evals.items() if sp == "test"}
        best = max(val, key=lambda r: (r["metric"], -r["step"])) if val else None
        state = "done" if os.path.exists(os.path.join(d, "DONE")) else "diverged" if os.path.exists(os.path.join(d, "DIVERGED")) else "running/unfinished"
        task = o.get("task", "?")
        rows.setdefault(task, []).append(dict(
            name=os.path.basename(d.rstrip("/")), cell=o.get("cell", "irnn"), hidden=o.get("hidden", "64"), layers=o.get("layers", "1"),
            params=parameter_count(os.path.join(d, "model.safetensors")), epochs_done=(last_step / per_epoch) if per_epoch else None,
            epochs=epochs, best=best, test=test.get(best["step"]) if best else None, hours=wall / 3600,
            machines=sorted(set(machines)), state=state, args=args, commits=commits or [commit[:10]], val=val, per_epoch=per_epoch))
    md = ["# Long runs (made by scripts/longrun_report.py; do not edit by hand)", ""]
    for task, rs in sorted(rows.items()):
        md += [f"## {task}", "", "| run | cell | H | layers | parameters | epochs | best val acc | test acc at best val | hours | state |",
               "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rs:
            ep = f"{r['epochs_done']:.1f} / {r['epochs']}" if r["epochs_done"] is not None else "?"
            bv = f"{100 * r['best']['metric']:.2f}% (epoch {r['best']['step'] / r['per_epoch']:.0f})" if r["best"] and r["per_epoch"] else "—"
            ta = f"{100 * r['test']['metric']:.2f}%" if r["test"] else "—"
            md.append(f"| {r['name']} | {r['cell']} | {r['hidden']} | {r['layers']} | {r['params'] or '?'} | {ep} | {bv} | {ta} | {r['hours']:.2f} | {r['state']} |")
        md.append("")
        for r in rs:
            md.append(f"- `{r['name']}`: `scripts/longrun.sh new experiments/longruns/{r['name']} {r['args']}` (binary of commit(s) {' → '.join(r['commits'])}; each move and why is in its train.log); machine: {'; '.join(r['machines'])}")
        md.append("")
        by_epoch = [(r["name"], [(v["step"] / r["per_epoch"], v["metric"]) for v in r["val"]]) for r in rs if r["per_epoch"]]
        by_hour = [(r["name"], [(v["wall"] / 3600, v["metric"]) for v in r["val"]]) for r in rs]
        with open(os.path.join(a.out, f"{task}-curves-epochs.svg"), "w") as f:
            f.write(svg_chart(f"{task}: validation accuracy", by_epoch, "epochs", "accuracy"))
        with open(os.path.join(a.out, f"{task}-curves-hours.svg"), "w") as f:
            f.write(svg_chart(f"{task}: validation accuracy", by_hour, "wall-clock hours (shared machine)", "accuracy"))
        md += [f"![{task} by epoch]({task}-curves-epochs.svg) ![{task} by hour]({task}-curves-hours.svg)", ""]
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
