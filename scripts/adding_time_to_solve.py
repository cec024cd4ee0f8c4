#!/usr/bin/env python3
"""Time to solve the adding problem with an IRNN in PyTorch: the peer of `recurrent train`.

This is the PyTorch side of the time-to-solve row in BENCHMARKS.md (issue 5). It trains the
model and hyper-parameters that

    recurrent train --task adding --length 150 --cell irnn --hidden 100 --batch 50 \\
        --lr 0.0003 --clip-norm 1 --eval-every 200 --target 0.01 --steps 8000 --threads 1

trains, and measures the wall-clock time until the test MSE reaches the target:

- task (Sources/Recurrent/Data/AddingProblem.swift): T steps of [value, marker], value ~ U(0, 1),
  exactly two markers, one uniform in [0, T//2) and one uniform in [T//2, T); target = the sum of
  the two marked values (float32); loss = MSE over the batch. Fresh training sequences every step.
- test set: the same 1000 sequences as Recurrent, bit for bit: `AddingProblem.testSet` is
  regenerated here with Recurrent's generator (xoshiro256** seeded by SplitMix64 with seed
  20150401, values = top 53 bits * 2^-53 rounded to float32, marker positions by Lemire's method).
  It is built before the clock starts. Evaluated in batches of 500 like Recurrent.
- model: nn.RNN(2, 100, nonlinearity='relu') + nn.Linear(100, 1) on h_T, IRNN init (Le et al.
  2015): weight_hh = I, weight_ih ~ N(0, 0.001^2), both biases 0; the readout keeps nn.Linear's
  default init, U(-1/sqrt(H), 1/sqrt(H)) for weight and bias, which is also Recurrent's.
- optimizer: Adam(lr, PyTorch defaults otherwise); clip_grad_norm_(1.0) on all parameters.
- stop: when the test MSE is <= the target (Recurrent's rule, `metric <= target`) at an
  evaluation (every --eval-every steps), or after --steps.

Training batches come from numpy's PCG64 seeded with --seed and the initial weights from
torch.manual_seed(--seed): the same distributions as Recurrent but different random streams.

`seconds` is wall-clock time from just before the first training step (batch generation, the
step, and every evaluation included, as in Recurrent's `TrainingSummary.seconds`) to the end of
the evaluation that reached the target (or of the last evaluation). `cpu_seconds` is this
process's CPU time over the same span (time.process_time()): on a busy machine it is the fairer
number; `load_average` is os.getloadavg() at the end, to spot contention.

Run (one thread):

    ~/.cache/recurrent-peers-venv/bin/python scripts/adding_time_to_solve.py --seed 1
    scripts/adding_time_to_solve.sh        # Recurrent and this script, back to back

Prints one JSON line: framework, torch_version, threads, seed, lr, length, solved, steps,
seconds, ms_per_step, final_test_mse, curve [[step, seconds, mse], ...] and a few extras.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

MASK64 = (1 << 64) - 1
TEST_SEED = 20_150_401  # AddingProblem.defaultTestSeed


class Xoshiro256StarStar:
    """Recurrent's SeededGenerator (Sources/Recurrent/Tensor/SeededGenerator.swift)."""

    def __init__(self, seed):
        s = seed & MASK64
        state = []
        for _ in range(4):
            s = (s + 0x9E3779B97F4A7C15) & MASK64
            z = s
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            state.append(z ^ (z >> 31))
        self.s = state

    def next(self):
        s0, s1, s2, s3 = self.s
        x = (s1 * 5) & MASK64
        result = ((((x << 7) | (x >> 57)) & MASK64) * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK64
        self.s = [s0, s1, s2, s3]
        return result

    def uniform01(self):
        return (self.next() >> 11) * 2.0 ** -53

    def uniform_index(self, bound):
        """Lemire's multiply-and-reject, as `Draw.index(below:)` in Draw.swift."""
        if bound <= 1:
            return 0
        product = bound * self.next()
        low = product & MASK64
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = bound * self.next()
                low = product & MASK64
        return product >> 64


def recurrent_test_set(length, size=1000, seed=TEST_SEED):
    """AddingProblem(steps: length).testSet(size:seed:) as float32 arrays x [T, N, 2], y [N, 1]."""
    rng = Xoshiro256StarStar(seed)
    half = length // 2
    x = np.zeros((size, length, 2), dtype=np.float32)
    y = np.zeros((size, 1), dtype=np.float32)
    for b in range(size):
        x[b, :, 0] = np.array([rng.uniform01() for _ in range(length)], dtype=np.float64).astype(np.float32)
        first = rng.uniform_index(half)
        second = half + rng.uniform_index(length - half)
        x[b, first, 1] = 1
        x[b, second, 1] = 1
        y[b, 0] = np.float32(x[b, first, 0]) + np.float32(x[b, second, 0])
    return np.ascontiguousarray(x.transpose(1, 0, 2)), y


def training_batch(rng, length, size):
    """Fresh sequences with Recurrent's rule, from numpy's generator: x [T, B, 2], y [B, 1]."""
    half = length // 2
    values = rng.random((size, length)).astype(np.float32)   # float64 in [0, 1) rounded to float32
    first = rng.integers(0, half, size)
    second = half + rng.integers(0, length - half, size)
    x = np.zeros((length, size, 2), dtype=np.float32)
    x[:, :, 0] = values.T
    rows = np.arange(size)
    x[first, rows, 1] = 1
    x[second, rows, 1] = 1
    y = (values[rows, first] + values[rows, second]).astype(np.float32).reshape(size, 1)
    return torch.from_numpy(x), torch.from_numpy(y)


class IRNN(nn.Module):
    def __init__(self, inputs, hidden, outputs):
        super().__init__()
        self.rnn = nn.RNN(inputs, hidden, nonlinearity="relu", batch_first=False)
        self.head = nn.Linear(hidden, outputs)       # PyTorch default init, as Recurrent's head
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(torch.eye(hidden))
            self.rnn.weight_ih_l0.normal_(0.0, 0.001)
            self.rnn.bias_ih_l0.zero_()
            self.rnn.bias_hh_l0.zero_()

    def forward(self, x):                             # x [T, B, I] -> [B, O]
        out, _ = self.rnn(x)
        return self.head(out[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=150, help="sequence length T (default 150)")
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--clip-norm", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=8000, help="give up after this many steps")
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--eval-batch", type=int, default=500, help="Recurrent evaluates in batches of 500")
    parser.add_argument("--target", type=float, default=0.01, help="solved when test MSE <= target")
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data_rng = np.random.default_rng(args.seed)

    x_test, y_test = recurrent_test_set(args.length, args.test_size)
    x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)

    model = IRNN(2, args.hidden, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()

    def evaluate():
        total = 0.0
        with torch.no_grad():
            for start in range(0, x_test.shape[1], args.eval_batch):
                xb = x_test[:, start:start + args.eval_batch]
                yb = y_test[start:start + args.eval_batch]
                total += loss_fn(model(xb), yb).item() * yb.shape[0]
        return total / x_test.shape[1]

    curve = []
    solved = False
    reason = "completed"
    step = 0
    mse = float("nan")
    start = time.perf_counter()
    cpu_start = time.process_time()
    seconds = cpu_seconds = 0.0
    while step < args.steps:
        x, y = training_batch(data_rng, args.length, args.batch)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
        if not (math.isfinite(loss.item()) and math.isfinite(norm.item())):
            reason = "diverged"
            seconds = time.perf_counter() - start
            cpu_seconds = time.process_time() - cpu_start
            break
        optimizer.step()
        step += 1
        if step % args.eval_every == 0 or step == args.steps:
            mse = evaluate()
            seconds = time.perf_counter() - start
            cpu_seconds = time.process_time() - cpu_start
            curve.append([step, round(seconds, 4), mse])
            print(f"step {step}  {seconds:.1f} s  test mse {mse:.5f}", file=sys.stderr, flush=True)
            if mse <= args.target:
                solved = True
                reason = "target reached"
                break

    print(json.dumps({
        "framework": "pytorch", "torch_version": torch.__version__, "threads": args.threads, "seed": args.seed,
        "lr": args.lr, "length": args.length, "hidden": args.hidden, "batch": args.batch, "target": args.target,
        "solved": solved, "reason": reason, "steps": step, "seconds": seconds,
        "ms_per_step": 1000 * seconds / step if step else None, "final_test_mse": mse,
        "cpu_seconds": cpu_seconds, "load_average": list(os.getloadavg()), "curve": curve,
    }), flush=True)


if __name__ == "__main__":
    main()
