#!/usr/bin/env python3
"""Time to solve in PyTorch: the peer of `recurrent train --target X` (issue 12).

It trains what `recurrent train` trains, with the same hyper-parameters, evaluates every
--eval-every steps on the same evaluation sets, and stops on the same rule:

    recurrent train --task adding --length 150 --cell irnn --hidden 100 --batch 50 --lr 3e-4 \\
        --clip-norm 1 --eval-every 200 --target 0.01 --steps 20000 --threads 1 --seed 1
    python benchmarks/torch_time_to_solve.py --task adding --length 150 --cell irnn --hidden 100 \\
        --batch 50 --lr 3e-4 --clip-norm 1 --eval-every 200 --target 0.01 --steps 20000 \\
        --threads 1 --seed 1 --eval-data DIR

What is mirrored, and where Recurrent defines it:

- evaluation sets: read from the files `recurrent export-data --out DIR` writes (DIR/test.safetensors,
  DIR/val.safetensors when the task has a validation split): the very tensors Recurrent
  evaluates on, bit for bit. Evaluated in batches of --eval-batch (500, TrainingDefaults).
  Every split is evaluated at each evaluation (as `Trainer.run`'s `evaluateAll`); the deciding
  split is validation when there is one, else test (`Trainer.decidingSplit`).
- stop rule (`TaskMetric.reaches`): mse <= target, accuracy >= target, at an evaluation; a run
  also evaluates at its last step.
- adding (Sources/Recurrent/Data/AddingProblem.swift): fresh training sequences every step,
  value ~ U(0, 1) as float32, one marker uniform in [0, T//2), one in [T//2, T), target their
  sum; MSE. Drawn from numpy's PCG64 (scripts/adding_time_to_solve.py, `training_batch`): the
  same distribution as Recurrent's, another random stream.
- rowmnist (Sources/Recurrent/Data/MNIST.swift): 28 steps of one 28-pixel row, pixel / 255 as
  float32; the validation split is the last round(60000 x --val-fraction) training images
  (0.05: 3000, `TaskSpec.Defaults.mnistValidationFraction`), checked bit for bit against the
  exported val.safetensors; every epoch a fresh permutation of the rest, cut into batches,
  the last incomplete batch dropped (`DatasetTask.batchesPerEpoch`); cross-entropy on the
  last step's output, accuracy = argmax.
- models (`ModelConfiguration.preset`): nn.RNN(relu) or nn.LSTM, one layer, then
  nn.Linear(H, O) on the last step's h. irnn: W_hh = I, W_ih ~ N(0, 0.001^2), zero biases;
  lstm: PyTorch's default draws (U(-1/sqrt(H), 1/sqrt(H))), and with --forget-bias b the
  forget block of bias_ih at b and that of bias_hh at 0 (as `LSTMCell.initialParameters`);
  the head: nn.Linear's default, which is Recurrent's. Initial weights come from
  torch.manual_seed(--seed): the same distributions as Recurrent, another random stream.
- optimizer: torch.optim.Adam(lr, betas (0.9, 0.999), eps 1e-8) = `Adam`'s defaults;
  clip_grad_norm_(--clip-norm) over all parameters before every step (`clipGlobalNorm`); a
  non-finite loss or gradient norm ends the run as "diverged" (Recurrent: exit status 3).

Timing: `seconds` runs from just before the first training step to the end of the evaluation
that reached the target (or of the last evaluation), as Recurrent's evaluation records'
`seconds`; `train_seconds` and `eval_seconds` split it (batch generation counts as training).
`cpu_seconds` is this process's CPU time over the same span. Loading the data and building the
model happen before the clock starts, in both frameworks.

--verify CHECKPOINT METRICS_JSON loads a Recurrent checkpoint (PyTorch's state_dict names),
evaluates it on --eval-data and compares with the `val`/`test` objects of `recurrent train
--json` (loss to 1e-4 relative, accuracy to 1/N): the proof that both sides evaluate the same
thing the same way. benchmarks/time_to_solve.sh runs it after every Recurrent run.

Prints one JSON line (framework, torch_version, task, cell, seed, threads, solved, reason,
steps, seconds, train_seconds, eval_seconds, final metrics, curve [[step, seconds, metric of
the deciding split], ...]); progress on stderr.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from adding_time_to_solve import training_batch as adding_batch  # noqa: E402  (Recurrent's adding rule, numpy's stream)

MNIST_SIDE = 28


# MARK: - Data

def load_split(directory, split):
    """An exported evaluation split: inputs [N, T, I] float32 -> time-major tensor [T, N, I], targets."""
    path = os.path.join(directory, f"{split}.safetensors")
    if not os.path.exists(path):
        return None
    tensors = load_file(path)
    if "lengths" in tensors:
        sys.exit(f"{path}: sequences of uneven length are not supported here")
    x = torch.from_numpy(np.ascontiguousarray(tensors["inputs"].transpose(1, 0, 2)))
    y = tensors["targets"]
    y = torch.from_numpy(y.astype(np.int64) if y.dtype.kind in "iu" else y.astype(np.float32))
    return {"split": split, "x": x, "y": y, "raw_inputs": tensors["inputs"]}


def read_idx(path):
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def idx_file(directory, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    sys.exit(f"{directory}: no {stem}[.gz]; pass --data DIR with the four IDX files")


def row_mnist_training(directory, val_fraction, exported_val):
    """The training split as Recurrent cuts it: images [N, 28, 28] float32 in [0, 1], labels [N]."""
    images = read_idx(idx_file(directory, "train-images-idx3-ubyte"))
    labels = read_idx(idx_file(directory, "train-labels-idx1-ubyte")).astype(np.int64)
    n_val = int(round(len(images) * val_fraction))          # round half to even, as Swift's .toNearestOrEven
    scaled = lambda a: a.astype(np.float32) / np.float32(255)  # Float(p) / 255, correctly rounded in both
    if n_val:
        if exported_val is None:
            sys.exit("--val-fraction > 0 but the export has no val.safetensors: export with the same --val-fraction")
        mine = scaled(images[len(images) - n_val:])
        if mine.shape != exported_val["raw_inputs"].shape or not np.array_equal(mine, exported_val["raw_inputs"]) \
                or not np.array_equal(labels[len(images) - n_val:], exported_val["y"].numpy()):
            sys.exit("the validation split cut from the IDX files differs from Recurrent's export: "
                     "check --data and --val-fraction against the export's")
    elif exported_val is not None:
        sys.exit("the export has a validation split but --val-fraction is 0")
    keep = len(images) - n_val
    return scaled(images[:keep]), labels[:keep]


class EpochBatches:
    """Shuffled mini-batches, a fresh permutation every epoch, the last partial batch dropped."""

    def __init__(self, images, labels, batch, rng):
        self.images, self.labels, self.batch, self.rng = images, labels, batch, rng
        self.drop_last = len(images) >= batch
        self.order, self.position = None, 0

    def next(self):
        n = len(self.images)
        if self.order is None or self.position + (self.batch if self.drop_last else 1) > n:
            self.order, self.position = self.rng.permutation(n), 0
        rows = self.order[self.position:self.position + self.batch]
        self.position += self.batch
        x = torch.from_numpy(np.ascontiguousarray(self.images[rows].transpose(1, 0, 2)))   # [T=28, B, I=28]
        return x, torch.from_numpy(self.labels[rows])


# MARK: - Model

class Model(nn.Module):
    """nn.RNN / nn.LSTM + nn.Linear on h_T: Recurrent's checkpoint layout (rnn.*, head.*)."""

    def __init__(self, cell, inputs, hidden, outputs, forget_bias=None):
        super().__init__()
        if cell == "irnn":
            self.rnn = nn.RNN(inputs, hidden, nonlinearity="relu")
            with torch.no_grad():
                self.rnn.weight_ih_l0.normal_(0.0, 0.001)
                self.rnn.weight_hh_l0.copy_(torch.eye(hidden))
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_hh_l0.zero_()
        elif cell == "lstm":
            self.rnn = nn.LSTM(inputs, hidden)
            if forget_bias is not None:
                with torch.no_grad():
                    self.rnn.bias_ih_l0[hidden:2 * hidden].fill_(forget_bias)
                    self.rnn.bias_hh_l0[hidden:2 * hidden].zero_()
        else:
            raise ValueError(cell)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x):                      # x [T, B, I] -> [B, O]
        out, _ = self.rnn(x)
        return self.head(out[-1])


# MARK: - Evaluation

def evaluate(model, data, loss_fn, classify, eval_batch):
    """{"loss", "mse" | "accuracy"} over one split: the mean over sequences, as Recurrent's."""
    n = data["x"].shape[1]
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, n, eval_batch):
            xb, yb = data["x"][:, start:start + eval_batch], data["y"][start:start + eval_batch]
            out = model(xb)
            total += loss_fn(out, yb).item() * yb.shape[0]
            if classify:
                correct += (out.argmax(dim=1) == yb).sum().item()
    loss = total / n
    return {"loss": loss, "accuracy": correct / n} if classify else {"loss": loss, "mse": loss}


def reaches(metric_name, value, target):
    return value >= target if metric_name == "accuracy" else value <= target


def verify(model, splits, loss_fn, classify, eval_batch, checkpoint, metrics_path):
    """Recurrent's checkpoint evaluated here against the metrics Recurrent printed."""
    state = {k: torch.from_numpy(v.copy()) for k, v in load_file(checkpoint).items()}
    state = {k: v.reshape(model.state_dict()[k].shape) if k in model.state_dict() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    ours = json.loads(open(metrics_path).read().strip().splitlines()[-1])
    report, ok = {}, True
    for data in splits:
        mine = evaluate(model, data, loss_fn, classify, eval_batch)
        theirs = ours.get(data["split"])
        if theirs is None:
            sys.exit(f"{metrics_path}: no '{data['split']}' object to compare with")
        n = data["x"].shape[1]
        loss_ok = abs(mine["loss"] - theirs["loss"]) <= 1e-4 * max(abs(theirs["loss"]), 1e-12)
        acc_ok = not classify or abs(mine["accuracy"] - theirs["accuracy"]) <= 1.0 / n + 1e-12
        ok = ok and loss_ok and acc_ok
        report[data["split"]] = {"pytorch": mine, "recurrent": {k: theirs[k] for k in mine if k in theirs}}
    print(json.dumps({"verify": checkpoint, "agree": ok, "splits": report}), flush=True)
    return ok


# MARK: - Main

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["adding", "rowmnist"], required=True)
    p.add_argument("--cell", choices=["irnn", "lstm"], required=True)
    p.add_argument("--length", type=int, default=150, help="adding: T")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="rowmnist: the IDX folder")
    p.add_argument("--val-fraction", type=float, default=0.05, help="rowmnist: as recurrent's --val-fraction")
    p.add_argument("--eval-data", required=True, help="the folder `recurrent export-data --out` wrote")
    p.add_argument("--hidden", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--clip-norm", type=float, default=1.0)
    p.add_argument("--forget-bias", type=float, default=None, help="lstm: as recurrent's --forget-bias")
    p.add_argument("--steps", type=int, required=True, help="give up after this many steps")
    p.add_argument("--eval-every", type=int, required=True)
    p.add_argument("--eval-batch", type=int, default=500)
    p.add_argument("--target", type=float, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--flush-denormal", action="store_true",
                   help="torch.set_flush_denormal(True) (FTZ/DAZ) first: PyTorch's LSTM step is several times "
                        "slower on subnormals at long T; the side-by-side's 'PyTorch FTZ' peer")
    p.add_argument("--verify", nargs=2, metavar=("CHECKPOINT", "METRICS_JSON"),
                   help="only compare a Recurrent checkpoint's evaluation with the metrics it printed")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    data_rng = np.random.default_rng(args.seed)

    val, test = load_split(args.eval_data, "val"), load_split(args.eval_data, "test")
    if test is None:
        sys.exit(f"{args.eval_data}: no test.safetensors; write it with `recurrent export-data --out {args.eval_data}`")
    splits = [s for s in (val, test) if s is not None]
    deciding = splits[0]
    classify = args.task == "rowmnist"
    metric_name = "accuracy" if classify else "mse"
    if classify:
        images, labels = row_mnist_training(args.data, args.val_fraction, val)
        batches = EpochBatches(images, labels, args.batch, data_rng)
        next_batch = batches.next
        inputs, outputs, loss_fn = MNIST_SIDE, 10, nn.CrossEntropyLoss()
        expected_steps = MNIST_SIDE
    else:
        next_batch = lambda: adding_batch(data_rng, args.length, args.batch)
        inputs, outputs, loss_fn = 2, 1, nn.MSELoss()
        expected_steps = args.length
    if test["x"].shape[0] != expected_steps or test["x"].shape[2] != inputs:
        sys.exit(f"{args.eval_data}: sequences of {test['x'].shape[0]} steps of {test['x'].shape[2]}, "
                 f"expected {expected_steps} of {inputs}: export the same task and --length")
    model = Model(args.cell, inputs, args.hidden, outputs, args.forget_bias)

    if args.verify:
        sys.exit(0 if verify(model, splits, loss_fn, classify, args.eval_batch, *args.verify) else 1)

    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)   # betas (0.9, 0.999), eps 1e-8
    curve, last = [], {}
    solved, reason, step = False, "completed", 0
    train_seconds = eval_seconds = 0.0
    start = time.perf_counter()
    cpu_start = time.process_time()
    seconds = 0.0
    while step < args.steps:
        t0 = time.perf_counter()
        x, y = next_batch()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
        if not (math.isfinite(loss.item()) and math.isfinite(norm.item())):
            reason = "diverged"
            train_seconds += time.perf_counter() - t0
            seconds = time.perf_counter() - start
            break
        optimizer.step()
        step += 1
        train_seconds += time.perf_counter() - t0
        if step % args.eval_every == 0 or step == args.steps:
            t1 = time.perf_counter()
            last = {s["split"]: evaluate(model, s, loss_fn, classify, args.eval_batch) for s in splits}
            eval_seconds += time.perf_counter() - t1
            seconds = time.perf_counter() - start
            value = last[deciding["split"]][metric_name]
            curve.append([step, round(seconds, 4), value])
            print(f"step {step}  {seconds:.1f} s  {deciding['split']} {metric_name} {value:.5f}", file=sys.stderr, flush=True)
            if reaches(metric_name, value, args.target):
                solved = True
                reason = "target reached" if step < args.steps else "completed"
                break
    cpu_seconds = time.process_time() - cpu_start

    print(json.dumps({
        "framework": "pytorch", "torch_version": torch.__version__, "task": args.task, "cell": args.cell,
        "length": args.length if args.task == "adding" else MNIST_SIDE, "hidden": args.hidden, "batch": args.batch,
        "lr": args.lr, "eval_every": args.eval_every, "target": args.target, "metric": metric_name,
        "deciding_split": deciding["split"], "threads": args.threads, "seed": args.seed,
        "flush_denormal": bool(args.flush_denormal), "solved": solved, "reason": reason, "steps": step, "target_reached_step": step if solved else None,
        "seconds": seconds, "train_seconds": train_seconds, "eval_seconds": eval_seconds,
        "evaluations": len(curve), "ms_per_step": 1000 * train_seconds / step if step else None,
        "final": last, "cpu_seconds": cpu_seconds, "load_average": list(os.getloadavg()), "curve": curve,
    }), flush=True)


if __name__ == "__main__":
    main()
