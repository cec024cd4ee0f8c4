#!/usr/bin/env python3
"""Reference values from PyTorch for Tests/RecurrentTests/SequenceParityTests.swift:
variable-length (packed) sequences with unsorted lengths, bidirectional stacks (equal and
uneven lengths), and stacks without biases (bias=False).

Run once (needs torch and safetensors):
    python Tests/RecurrentTests/Fixtures/make_torch_sequence_fixtures.py

Writes torch_seq_<name>.safetensors beside this script. Each file holds, in float64:
  - the model's state_dict under its PyTorch names (rnn.weight_ih_l0, ..., head.weight, head.bias),
  - x [B, T, I] whose padded steps hold large random values (PyTorch never reads them),
    lengths [B] (int64, unsorted), h0 [L*D, B, H] (and c0 for LSTM), targets [B] or [B, T(, O)]
    (padded steps hold real targets too: the loss must skip them),
  - out: head(pad_packed_sequence(output)) [B, T, O] or head(output at each sequence's
    last step) [B, O]; hn (and cn) [L*D, B, H]; loss,
  - grad.<name> for every parameter, grad.x, grad.h0 (grad.c0).
The per-step losses are PyTorch's over the packed steps only: mse_loss(out[mask], y[mask]),
cross_entropy(out[mask], y[mask]). `swift test` reads these files; it never runs Python.
"""
import json
import pathlib

import torch
from safetensors.torch import save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = pathlib.Path(__file__).resolve().parent
torch.set_default_dtype(torch.float64)


class Model(torch.nn.Module):
    def __init__(self, cell, inputs, hidden, layers, outputs, nonlinearity, bidirectional, bias):
        super().__init__()
        kw = dict(batch_first=True, bidirectional=bidirectional, bias=bias)
        if cell == "rnn":
            self.rnn = torch.nn.RNN(inputs, hidden, layers, nonlinearity=nonlinearity, **kw)
        elif cell == "lstm":
            self.rnn = torch.nn.LSTM(inputs, hidden, layers, **kw)
        else:
            self.rnn = torch.nn.GRU(inputs, hidden, layers, **kw)
        self.head = torch.nn.Linear(hidden * (2 if bidirectional else 1), outputs)


CASES = [
    dict(name="packed_rnn_relu", cell="rnn", activation="relu", layers=2, readout="last", loss="cross_entropy"),
    dict(name="packed_rnn_tanh", cell="rnn", activation="tanh", layers=1, readout="every", loss="mse"),
    dict(name="packed_lstm", cell="lstm", activation="tanh", layers=2, readout="every", loss="mse"),
    dict(name="packed_gru", cell="gru", activation="tanh", layers=2, readout="every", loss="cross_entropy"),
    dict(name="packed_lstm_last", cell="lstm", activation="tanh", layers=1, readout="last", loss="mse"),
    # bidirectional stacks: equal lengths, then packed (the reverse direction starts at each
    # sequence's own last step)
    dict(name="bi_rnn_tanh", cell="rnn", activation="tanh", layers=2, readout="every", loss="mse",
         bidirectional=True, lengths=[6, 6, 6, 6]),
    dict(name="bi_lstm_last", cell="lstm", activation="tanh", layers=2, readout="last", loss="cross_entropy",
         bidirectional=True, lengths=[6, 6, 6, 6]),
    dict(name="packed_bi_gru", cell="gru", activation="tanh", layers=2, readout="every", loss="cross_entropy",
         bidirectional=True),
    dict(name="packed_bi_lstm_last", cell="lstm", activation="tanh", layers=2, readout="last", loss="mse",
         bidirectional=True),
    dict(name="packed_bi_rnn_relu", cell="rnn", activation="relu", layers=1, readout="last", loss="cross_entropy",
         bidirectional=True),
    # layers without biases (bias=False): the state_dict has no rnn.bias_* tensors
    dict(name="nobias_rnn_tanh", cell="rnn", activation="tanh", layers=2, readout="every", loss="mse",
         bias=False, lengths=[6, 6, 6, 6]),
    dict(name="nobias_packed_lstm", cell="lstm", activation="tanh", layers=2, readout="last", loss="cross_entropy", bias=False),
    dict(name="nobias_packed_bi_gru", cell="gru", activation="tanh", layers=2, readout="every", loss="mse",
         bidirectional=True, bias=False),
]
B, T, I, H, O = 4, 6, 2, 5, 3
LENGTHS = [4, 6, 1, 5]          # unsorted, one full, one of a single step


def main():
    for case in CASES:
        bidirectional, bias = case.get("bidirectional", False), case.get("bias", True)
        d = 2 if bidirectional else 1
        torch.manual_seed(4321)
        model = Model(case["cell"], I, H, case["layers"], O, case["activation"], bidirectional, bias)
        lengths = torch.tensor(case.get("lengths", LENGTHS), dtype=torch.int64)
        mask = torch.arange(T)[None, :] < lengths[:, None]                 # [B, T]
        x = torch.rand(B, T, I) * 2 - 1
        x = torch.where(mask[:, :, None], x, torch.rand(B, T, I) * 1e3)    # padding PyTorch never reads
        h0 = torch.rand(case["layers"] * d, B, H) * 0.5
        c0 = torch.rand(case["layers"] * d, B, H) - 0.5
        for t in (x, h0, c0):
            t.requires_grad_(True)
        state = (h0, c0) if case["cell"] == "lstm" else h0
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out_packed, final = model.rnn(packed, state)
        seq, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=T)    # [B, T, D*H], 0 past the end
        if case["readout"] == "last":
            out = model.head(seq[torch.arange(B), lengths - 1])
        else:
            out = model.head(seq)
        tensors = {}
        if case["loss"] == "cross_entropy":
            if case["readout"] == "last":
                y = torch.randint(0, O, (B,))
                loss = torch.nn.functional.cross_entropy(out, y)
            else:
                y = torch.randint(0, O, (B, T))
                loss = torch.nn.functional.cross_entropy(out[mask], y[mask])
            tensors["targets"] = y.to(torch.int64)
        else:
            y = torch.rand(B, T, O) * 2 - 1 if case["readout"] == "every" else torch.rand(B, O)
            loss = torch.nn.functional.mse_loss(out[mask], y[mask]) if case["readout"] == "every" \
                else torch.nn.functional.mse_loss(out, y)
            tensors["targets"] = y
        loss.backward()
        for name, p in model.named_parameters():
            tensors[name] = p.detach().clone()
            tensors["grad." + name] = p.grad.detach().clone()
        tensors["x"] = x.detach()
        tensors["lengths"] = lengths
        tensors["h0"] = h0.detach()
        tensors["grad.x"] = x.grad.detach()
        tensors["grad.h0"] = h0.grad.detach()
        tensors["out"] = out.detach()
        if case["cell"] == "lstm":
            tensors["c0"] = c0.detach()
            tensors["grad.c0"] = c0.grad.detach()
            tensors["hn"], tensors["cn"] = final[0].detach(), final[1].detach()
        else:
            tensors["hn"] = final.detach()
        tensors["loss"] = loss.detach().reshape(1)
        config = dict(case, batch=B, steps=T, input=I, hidden=H, outputs=O, bidirectional=bidirectional, bias=bias)
        config.pop("lengths", None)
        metadata = {"configuration": json.dumps(config),
                    "generator": "Tests/RecurrentTests/Fixtures/make_torch_sequence_fixtures.py", "torch": torch.__version__}
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(HERE / f"torch_seq_{case['name']}.safetensors"),
                  metadata=metadata)
        print("wrote", case["name"], "loss", float(loss))


if __name__ == "__main__":
    main()
