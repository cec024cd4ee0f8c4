#!/usr/bin/env python3
"""The whole speed comparison of issue #12 in one run: training steps, the GRU and IndRNN rows,
denormal flushing on and off, and inference, Recurrent against PyTorch, JAX, NumPy and ONNX
Runtime. Run through benchmarks/side_by_side.sh (which checks the environment first).

Every figure is one process timing repeated calls until they cover --min-seconds (each
framework's own `--min-seconds`), after --warmup untimed calls; --repeats rounds run the whole
list in the same interleaved order (framework after framework within a configuration), and the
tables give the median over the rounds of each process's median. Before timing, the GRU and
IndRNN peers are checked against `recurrent predict` on the same weights
(rnn_peer_bench.py --check-recurrent) and each inference configuration against PyTorch
(inference_peer_bench.py --check): a failed check stops the run.

Output in --out: raw.jsonl (every record, with section, config, variant and round),
table.md (Markdown for BENCHMARKS.md), log.txt (the commands run).
"""
import argparse
import collections
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (cell, H, I, T, B, C): the configurations a-e, and the c-shaped GRU and IndRNN
TRAIN = {
    "a": ("relu", 100, 1, 784, 16, 10),     # pixel-MNIST IRNN (Le et al. 2015)
    "b": ("relu", 100, 1, 784, 128, 10),    # the same, batch 128
    "c": ("lstm", 100, 1, 784, 16, 10),     # pixel-MNIST LSTM
    "d": ("relu", 100, 2, 150, 16, 1),      # adding problem T = 150, MSE
    "e": ("relu", 512, 64, 100, 64, 10),    # a large relu layer
    "e256": ("relu", 256, 64, 100, 64, 10),    # e's smaller and larger variants (issue #12: H = 256, 1024)
    "e1024": ("relu", 1024, 64, 100, 64, 10),
    "f": ("gru", 100, 1, 784, 16, 10),      # c's shape, GRU
    "g": ("indrnn", 100, 1, 784, 16, 10),   # c's shape, IndRNN
}
# inference: (cell, H, I, T, C) at each batch size
INFER = {"a": ("relu", 100, 1, 784, 10), "e": ("relu", 512, 64, 100, 10)}
# issue #12's targets, as a multiple of the best peer's speed: (config, threads) or config -> ratio
TARGETS = {("a", 1): 2.0, ("a", 2): 3.5, "b": 2.0, "c": 2.0, "e": 1.15, "e256": 1.15, "e1024": 1.15, "f": 2.0, "g": 2.0}
GATED = ("lstm", "gru")          # PyTorch also with set_flush_denormal(True)
NUMPY = ("relu", "tanh", "indrnn")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recurrent", required=True, help="the release binary")
    p.add_argument("--out", required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", default="1 2")
    p.add_argument("--configs", default="a b c d e f g")
    p.add_argument("--frameworks", default="torch jax numpy", help="training peers")
    p.add_argument("--infer-configs", default="a e")
    p.add_argument("--batches", default="1 256")
    p.add_argument("--sections", default="train inference",
                   help="any of: train inference ceiling (ceiling: NumPy/OpenBLAS 1024^3 sgemm per thread count, "
                        "for the table of what each target needs; always on with train)")
    p.add_argument("--quick", action="store_true",
                   help="tiny shapes (T <= 20, H <= 64, batch <= 8): checks that everything runs, times nothing")
    a = p.parse_args()
    a.threads = [int(t) for t in a.threads.split()]
    a.configs, a.infer_configs = a.configs.split(), a.infer_configs.split()
    a.batches = [int(b) for b in a.batches.split()]
    a.frameworks, a.sections = a.frameworks.split(), a.sections.split()
    for c in a.configs:
        if c not in TRAIN:
            p.error(f"unknown training config {c!r}: {' '.join(TRAIN)}")
    for c in a.infer_configs:
        if c not in INFER:
            p.error(f"unknown inference config {c!r}: {' '.join(INFER)}")
    return a


def shrink(shape, quick):
    """--quick: H <= 64, I <= 8, T <= 20 and (training) B <= 8; the cell, C and the task stay."""
    if not quick:
        return shape
    cell, h, i, t, *rest = shape
    if len(rest) == 2:                      # training: (B, C)
        rest = [min(rest[0], 8), rest[1]]
    return (cell, min(h, 64), min(i, 8), min(t, 20), *rest)


class Runner:
    def __init__(self, a):
        self.a = a
        self.py = sys.executable
        self.log = open(os.path.join(a.out, "log.txt"), "a")
        self.raw = open(os.path.join(a.out, "raw.jsonl"), "a")
        self.keep = "--keep-denormals" in subprocess.run([a.recurrent, "bench", "--help"], capture_output=True,
                                                          text=True).stdout
        self.t0 = time.time()

    def run(self, cmd, meta=None, records=1):
        """Runs cmd, returns its last `records` JSON lines (each tagged with meta, appended to raw.jsonl)."""
        self.log.write(f"[{time.strftime('%H:%M:%S')}] {shlex.join(cmd)}\n")
        self.log.flush()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(f"FAILED ({r.returncode}): {shlex.join(cmd)}\n{r.stdout[-2000:]}{r.stderr[-3000:]}\n")
            raise SystemExit(1)
        lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
        out = []
        for line in lines[-records:]:
            d = json.loads(line)
            if meta is not None:
                d.update(meta)
                self.raw.write(json.dumps(d) + "\n")
                self.raw.flush()
            out.append(d)
        return out

    def say(self, text):
        print(f"[{time.strftime('%H:%M:%S')} +{time.time() - self.t0:5.0f}s] {text}", file=sys.stderr, flush=True)

    # -- training ------------------------------------------------------------
    def train_jobs(self):
        a, jobs = self.a, []
        for name in a.configs:
            cell, h, i, t, b, c = shrink(TRAIN[name], a.quick)
            shape = ["--cell", cell, "--hidden", str(h), "--input", str(i), "--seq-len", str(t),
                     "--batch", str(b), "--classes", str(c)]
            timing = ["--steps", "3", "--warmup", str(a.warmup), "--min-seconds", str(a.min_seconds)]
            for th in a.threads:
                meta = dict(section="train", config=name, threads=th)
                ours = [a.recurrent, "bench", *shape, *timing, "--threads", str(th), "--label", name, "--json"]
                jobs.append((ours, dict(meta, variant="recurrent")))
                if cell in GATED and name == "c":
                    if self.keep:
                        jobs.append((ours + ["--keep-denormals"], dict(meta, variant="recurrent keep-denormals")))
                for fw in a.frameworks:
                    if fw == "numpy" and cell not in NUMPY:
                        continue
                    peer = [self.py, os.path.join(HERE, "rnn_peer_bench.py"), "--framework", fw, *shape, *timing,
                            "--threads", str(th), "--label", name]
                    jobs.append((peer, dict(meta, variant=fw)))
                    if fw == "torch" and cell in GATED:
                        jobs.append((peer + ["--flush-denormal"], dict(meta, variant="torch flush-denormal")))
        return jobs

    def train_checks(self):
        """The GRU and IndRNN peers compute `recurrent`'s function: same weights, same logits and loss."""
        for name in self.a.configs:
            cell, h, i, t, b, c = shrink(TRAIN[name], self.a.quick)
            if cell not in ("gru", "indrnn"):
                continue
            rec = self.run([self.py, os.path.join(HERE, "rnn_peer_bench.py"), "--framework", "torch", "--cell", cell,
                            "--hidden", str(h), "--input", str(i), "--seq-len", str(t), "--batch", str(b),
                            "--classes", str(c), "--check-recurrent", self.a.recurrent],
                           dict(section="check", config=name))[0]
            self.say(f"check {name} ({cell}): logits {rec['logits_max_rel_diff']:.2e}, loss torch "
                     f"{rec['loss_torch']:.6f} recurrent {rec['loss_recurrent']:.6f}")

    # -- the machine's ceiling -------------------------------------------------
    def ceiling_jobs(self):
        """NumPy/OpenBLAS float32 1024^3 matmul, best of 5 repetitions of >= --min-seconds / 5 each:
        the rate a large square product reaches on this core (the denominator of "% of ceiling")."""
        n = 64 if self.a.quick else 1024
        code = (
            "import os, sys, json, time\n"
            "th = int(sys.argv[1]); n = int(sys.argv[2]); span = float(sys.argv[3])\n"
            "import numpy as np\n"
            "from threadpoolctl import threadpool_limits\n"
            "threadpool_limits(th)\n"
            "r = np.random.default_rng(0); a = r.standard_normal((n, n), dtype=np.float32)\n"
            "b = r.standard_normal((n, n), dtype=np.float32); c = np.empty_like(a); np.matmul(a, b, out=c)\n"
            "best = None\n"
            "for _ in range(5):\n"
            "    k, t0 = 0, time.perf_counter()\n"
            "    while True:\n"
            "        np.matmul(a, b, out=c); k += 1; dt = time.perf_counter() - t0\n"
            "        if dt >= span / 5: break\n"
            "    best = dt / k if best is None else min(best, dt / k)\n"
            "print(json.dumps({'gflops': 2.0 * n ** 3 / best / 1e9, 'n': n, 'best_s': best}))\n")
        return [([self.py, "-c", code, str(th), str(n), str(self.a.min_seconds)],
                 dict(section="ceiling", config="sgemm", threads=th, variant="numpy"), 1) for th in self.a.threads]

    # -- inference -----------------------------------------------------------
    def infer_jobs(self):
        a, jobs = self.a, []
        for name in a.infer_configs:
            cell, h, i, t, c = shrink(INFER[name], a.quick)
            for b in a.batches:
                b = min(b, 8) if a.quick else b
                shape = ["--cell", cell, "--hidden", str(h), "--input", str(i), "--seq-len", str(t),
                         "--batch", str(b), "--classes", str(c)]
                timing = ["--steps", "3", "--warmup", str(a.warmup), "--min-seconds", str(a.min_seconds)]
                for th in a.threads:
                    meta = dict(section="inference", config=name, threads=th)
                    ours = [a.recurrent, "bench", "--inference", *shape, *timing, "--threads", str(th), "--label", name, "--json"]
                    jobs.append((ours, dict(meta, variant="recurrent"), 1))
                    peers = [self.py, os.path.join(HERE, "inference_peer_bench.py"), "--frameworks", "torch,onnxruntime",
                             *shape, *timing, "--threads", str(th), "--label", name]
                    jobs.append((peers, dict(meta, variant=None), 2))
        return jobs

    def infer_checks(self):
        for name in self.a.infer_configs:
            cell, h, i, t, c = shrink(INFER[name], self.a.quick)
            for b in self.a.batches:
                b = min(b, 8) if self.a.quick else b
                cmd = [self.py, os.path.join(HERE, "inference_peer_bench.py"), "--frameworks", "torch", "--check",
                       "--recurrent", self.a.recurrent, "--cell", cell, "--hidden", str(h), "--input", str(i),
                       "--seq-len", str(t), "--batch", str(b), "--classes", str(c), "--steps", "1", "--warmup", "0"]
                self.log.write(f"[{time.strftime('%H:%M:%S')}] {shlex.join(cmd)}\n")
                r = subprocess.run(cmd, capture_output=True, text=True)
                report = [line for line in r.stderr.splitlines() if line.startswith("{")]
                if r.returncode != 0 or not report:
                    sys.stderr.write(f"FAILED inference check: {shlex.join(cmd)}\n{r.stderr[-3000:]}\n")
                    raise SystemExit(1)
                d = json.loads(report[-1])
                self.raw.write(json.dumps(dict(d, section="check", config=name, batch=b)) + "\n")
                self.say(f"check inference {name} batch {b}: recurrent {d['recurrent_max_rel_diff']:.1e}, "
                         f"onnxruntime {d.get('onnxruntime_max_rel_diff', float('nan')):.1e} (relative, against torch)")


# -- tables --------------------------------------------------------------------
def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    return (max(xs) / min(xs) - 1) * 100 if len(xs) > 1 and min(xs) > 0 else 0.0


def describe(shape):
    cell, h, i, t, b, c = shape
    return f"{cell} H{h} I{i} T{t} B{b} C{c}"


def tables(records, a):
    out = []
    train = collections.defaultdict(list)
    infer = collections.defaultdict(list)
    ceiling = collections.defaultdict(list)
    flops = {}
    for r in records:
        if r.get("section") == "ceiling":
            ceiling[r["threads"]].append(r["gflops"])
        if r.get("section") == "train" and r.get("variant") == "recurrent":
            flops[r["config"]] = r.get("flops_per_step")
        if r.get("section") == "train":
            train[(r["config"], r["threads"], r["variant"])].append(r["median_s"])
        elif r.get("section") == "inference":
            infer[(r["config"], r["batch"], r["threads"], r["variant"])].append(r["seq_per_s"])
    if train:
        peers = ["torch", "torch flush-denormal", "jax", "numpy"]
        out += ["### Training step (ms per step, median over rounds; lower is better)", "",
                "\"vs best peer\": the fastest peer's time divided by Recurrent's (above 1: Recurrent is faster). "
                "Recurrent flushes denormals by default; PyTorch does not unless `set_flush_denormal(True)`.", "",
                "| config | thr | Recurrent | spread | PyTorch | PyTorch FTZ | JAX | NumPy | best peer | vs best peer | vs PyTorch | Recurrent, keep denormals |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for name in a.configs:
            shape = shrink(TRAIN[name], a.quick)
            for th in a.threads:
                ours = train.get((name, th, "recurrent"), [])
                if not ours:
                    continue
                m = {p: med(train.get((name, th, p), [])) for p in peers}
                best = min(((v, p) for p, v in m.items() if v), default=(None, None))
                keep = med(train.get((name, th, "recurrent keep-denormals"), []))
                cell = lambda v: f"{v * 1e3:.2f}" if v else "—"
                ratio = lambda v: f"{v / med(ours):.2f}x" if v else "—"
                out.append(f"| {name}: {describe(shape)} | {th} | **{med(ours) * 1e3:.2f}** | {spread(ours):.0f}% | "
                           + " | ".join(cell(m[p]) for p in peers)
                           + f" | {best[1] or '—'} | {ratio(best[0])} | {ratio(m['torch'])} | {cell(keep)} |")
        out.append("")
    if train and ceiling:
        out += bound_table(train, flops, ceiling, a)
    if infer:
        out += ["### Inference (sequences per second, median over rounds; higher is better)", "",
                "| config | batch | thr | Recurrent | spread | PyTorch (inference_mode) | ONNX Runtime | vs faster peer |",
                "|---|---|---|---|---|---|---|---|"]
        for key in sorted({k[:3] for k in infer}, key=lambda k: (a.infer_configs.index(k[0]), k[1], k[2])):
            ours = infer.get(key + ("recurrent",), [])
            t, o = med(infer.get(key + ("torch",), [])), med(infer.get(key + ("onnxruntime",), []))
            best = max(v for v in (t, o, 0) if v is not None)
            shape = shrink(INFER[key[0]], a.quick)
            fmt = lambda v: f"{v:.1f}" if v else "—"
            out.append(f"| {key[0]}: {shape[0]} H{shape[1]} I{shape[2]} T{shape[3]} C{shape[4]} | {key[1]} | {key[2]} | "
                       f"**{fmt(med(ours))}** | {spread(ours):.0f}% | {fmt(t)} | {fmt(o)} | "
                       + (f"{med(ours) / best:.2f}x" if ours and best else "—") + " |")
        out.append("")
    return "\n".join(out)


def bound_table(train, flops, ceiling, a):
    """What each target asks of the machine: the product rate (GFLOP/s, matmul FLOPs of a step as
    the peers count them: 3x the forward's) Recurrent reaches, the best peer reaches, and the target
    would need, each as a percentage of OpenBLAS's 1024^3 sgemm rate at the same thread count."""
    peers = ["torch", "torch flush-denormal", "jax", "numpy"]
    out = ["### What each target needs, against the machine's ceiling", "",
           "Product rate = matmul FLOPs per step (forward 2·B·T·G·H·(I+H) + readout, times 3, as the peer "
           "script counts) / ms per step. Ceiling = NumPy/OpenBLAS float32 1024³ sgemm, best of 5, same run "
           "and thread count. \"Needs\" = the rate the target ratio over the best peer would take; above "
           "about 100% it cannot be met by faster products alone (IndRNN's step is elementwise: % is not meaningful).", "",
           "| config | thr | GFLOP per step | Recurrent GFLOP/s (% ceiling) | best peer GFLOP/s (% ceiling) | target | needs GFLOP/s (% ceiling) |",
           "|---|---|---|---|---|---|---|"]
    for name in a.configs:
        f = flops.get(name)
        for th in a.threads:
            ours = train.get((name, th, "recurrent"), [])
            ceil = max(ceiling.get(th, []), default=None)
            if not ours or not f or not ceil:
                continue
            best = min((med(train[(name, th, p)]) for p in peers if train.get((name, th, p))), default=None)
            target = TARGETS.get((name, th), TARGETS.get(name))
            rate = lambda s: f / s / 1e9
            pct = lambda g: f"{g:.1f} ({100 * g / ceil:.0f}%)"
            need = pct(rate(best) * target) if best and target else "—"
            out.append(f"| {name} | {th} | {f / 1e9:.3f} | {pct(rate(med(ours)))} | "
                       + (pct(rate(best)) if best else "—") + f" | {f'{target}x' if target else '—'} | {need} |")
    out.append("")
    out += [f"Ceiling: {th} thread(s) {max(v):.1f} GFLOP/s." for th, v in sorted(ceiling.items())] + [""]
    return out


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    runner = Runner(a)
    runner.say(f"Recurrent {a.recurrent} (--keep-denormals {'available' if runner.keep else 'NOT in this binary: its row is skipped'}), "
               f"python {runner.py}, out {a.out}")
    jobs = []
    if "train" in a.sections or "ceiling" in a.sections:
        jobs += runner.ceiling_jobs()
    if "train" in a.sections:
        runner.train_checks()
        jobs += [(cmd, meta, 1) for cmd, meta in runner.train_jobs()]
    if "inference" in a.sections:
        runner.infer_checks()
        jobs += runner.infer_jobs()
    records = []
    for rnd in range(1, a.repeats + 1):
        for k, (cmd, meta, n) in enumerate(jobs):
            runner.say(f"round {rnd}/{a.repeats} job {k + 1}/{len(jobs)}: {meta['section']} {meta['config']} "
                       f"{meta['variant'] or 'torch+onnxruntime'} threads {meta['threads']}")
            for r in runner.run(cmd, None, n):
                r.update({k2: v for k2, v in meta.items() if v is not None})
                r.setdefault("variant", r.get("framework"))
                r["round"] = rnd
                runner.raw.write(json.dumps(r) + "\n")
                runner.raw.flush()
                records.append(r)
    text = tables(records, a)
    head = (f"Run {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, {a.repeats} round(s), each figure over "
            f">= {a.min_seconds} s of timed calls after {a.warmup} untimed; binary {a.recurrent}; "
            f"wall time {time.time() - runner.t0:.0f} s.\n\n")
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(head + text)
    print(head + text)


if __name__ == "__main__":
    main()
