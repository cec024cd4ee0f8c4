#!/usr/bin/env python3
"""Checks that a `recurrent` checkpoint of sequences of uneven length (and bidirectional
layers, bias-free layers) is a PyTorch state_dict that predicts the same.

Loads CHECKPOINT into

    class Model(nn.Module):   # rnn = nn.RNN/LSTM/GRU(I, H, L, batch_first=True, bidirectional=..., bias=...),
                              # head = nn.Linear(D*H, O)

with `load_state_dict(strict=True)` (the architecture from the checkpoint's metadata), runs
INPUTS [N, T, I] with LENGTHS [N] as packed sequences (`enforce_sorted=False`), and compares
with PREDICTED, the file `recurrent predict --lengths` wrote: the outputs (head of each
sequence's last step, or of every step of pad_packed_sequence's output) and h_n (c_n).
Prints the largest absolute differences; exits non-zero when one exceeds 1e-5.

    python scripts/check_pytorch_sequences.py CHECKPOINT INPUTS.npy LENGTHS.npy PREDICTED.safetensors
"""
import json
import sys

import numpy as np
import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def main(checkpoint, inputs, lengths, predicted):
    with safe_open(checkpoint, "pt") as f:
        meta = f.metadata()
    c = json.loads(meta["recurrent.configuration"])
    kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[c["cell"]]
    kw = dict(batch_first=True, bidirectional=c.get("bidirectional", False), bias=c.get("bias", True))
    if c["cell"] == "rnn":
        kw["nonlinearity"] = c["activation"]
    d = 2 if kw["bidirectional"] else 1
    model = nn.Module()
    model.rnn = kind(c["inputSize"], c["hiddenSize"], c["layers"], **kw)
    model.head = nn.Linear(d * c["hiddenSize"], c["outputs"])
    model.load_state_dict(load_file(checkpoint), strict=True)
    print(f"loaded {checkpoint} into nn.{kind.__name__}({c['inputSize']}, {c['hiddenSize']}, {c['layers']}, "
          f"batch_first=True, bidirectional={kw['bidirectional']}, bias={kw['bias']}) + nn.Linear({d * c['hiddenSize']}, "
          f"{c['outputs']}) with strict=True")
    x = torch.from_numpy(np.nan_to_num(np.load(inputs))).float()
    n = torch.from_numpy(np.load(lengths)).long()
    with torch.no_grad():
        out, state = model.rnn(pack_padded_sequence(x, n, batch_first=True, enforce_sorted=False))
        seq, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        y = model.head(seq[torch.arange(len(n)), n - 1] if c["readout"] == "last" else seq)
    ours = load_file(predicted)
    worst = 0.0
    for name, theirs in [("outputs", y), ("hidden", state[0] if isinstance(state, tuple) else state)] + \
            ([("cell", state[1])] if isinstance(state, tuple) else []):
        diff = (ours[name] - theirs).abs().max().item()
        worst = max(worst, diff)
        print(f"{name} {list(theirs.shape)}: max |ours - PyTorch| = {diff:.3g}")
    sys.exit(0 if worst < 1e-5 else 1)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
