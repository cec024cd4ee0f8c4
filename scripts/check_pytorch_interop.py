#!/usr/bin/env python3
"""Checks by hand that `recurrent train` checkpoints are PyTorch state_dicts.

For each cell (irnn, lstm, gru) it trains a tiny model with the `recurrent` binary, loads the
checkpoint into

    class Model(nn.Module):   # rnn = nn.RNN/LSTM/GRU(I, H, L, batch_first=True), head = nn.Linear(H, O)

with `load_state_dict(strict=True)`, runs the same inputs through PyTorch and `recurrent predict`,
and prints the largest absolute difference of the outputs and of the final hidden state.
Exits non-zero when one exceeds 1e-5. Not run by CI (it needs torch and safetensors):

    swift build -c release
    python scripts/check_pytorch_interop.py [--binary .build/release/recurrent]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import load_file as load_numpy
from safetensors.torch import load_file


class Model(nn.Module):
    def __init__(self, rnn, head):
        super().__init__()
        self.rnn = rnn
        self.head = head

    def forward(self, x):                       # x [N, T, I] -> outputs [N, O], h_n [L, N, H]
        out, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state
        return self.head(out[:, -1]), h


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(root, ".build/release/recurrent"))
    args = parser.parse_args()
    I, H, L, T, N = 2, 16, 2, 20, 8
    worst = 0.0
    with tempfile.TemporaryDirectory() as work:
        x = np.random.default_rng(0).random((N, T, I), dtype=np.float32)
        np.save(os.path.join(work, "x.npy"), x)
        for cell, module in [("irnn", nn.RNN(I, H, L, nonlinearity="relu", batch_first=True)),
                             ("lstm", nn.LSTM(I, H, L, batch_first=True)),
                             ("gru", nn.GRU(I, H, L, batch_first=True))]:
            subprocess.run([args.binary, "train", "--task", "adding", "--length", str(T), "--cell", cell, "--hidden", str(H),
                            "--layers", str(L), "--steps", "30", "--limit", "50", "--checkpoint-dir", work, "--json"],
                           check=True, stdout=subprocess.DEVNULL)
            checkpoint = os.path.join(work, f"adding-{cell}.safetensors")
            model = Model(module, nn.Linear(H, 1))
            model.load_state_dict(load_file(checkpoint), strict=True)
            with torch.no_grad():
                outputs, hidden = model(torch.from_numpy(x))
            y = os.path.join(work, f"y-{cell}.safetensors")
            subprocess.run([args.binary, "predict", "--checkpoint", checkpoint, "--input", os.path.join(work, "x.npy"),
                            "--output", y], check=True, stdout=subprocess.DEVNULL)
            ours = load_numpy(y)
            d_out = float(np.abs(ours["outputs"] - outputs.numpy()).max())
            d_hidden = float(np.abs(ours["hidden"] - hidden.numpy()).max())
            worst = max(worst, d_out, d_hidden)
            print(f"{cell:5s} L={L} H={H} T={T}: max |outputs diff| {d_out:.3g}, max |hidden diff| {d_hidden:.3g}")
    print(f"max difference {worst:.3g} ({'ok' if worst <= 1e-5 else 'FAIL'}: tolerance 1e-5)")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main()
