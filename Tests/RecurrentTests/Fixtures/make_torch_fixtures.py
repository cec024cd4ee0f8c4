#!/usr/bin/env python3
"""Reference values from PyTorch for Tests/RecurrentTests/PyTorchParityTests.swift.

Run once (needs torch and safetensors; the venv from ../shared/peers/setup.sh has torch):
    ~/.cache/recurrent-peers-venv/bin/pip install safetensors
    ~/.cache/recurrent-peers-venv/bin/python Tests/RecurrentTests/Fixtures/make_torch_fixtures.py

Writes torch_<name>.safetensors beside this script. Each file holds, in float64:
  - the model's state_dict under its PyTorch names (rnn.weight_ih_l0, ..., head.weight, head.bias),
  - x [B, T, I], h0 [L, B, H] (and c0 for LSTM), targets,
  - out (the head's outputs), hn (and cn), loss,
  - grad.<name> for every parameter, grad.x, grad.h0 (grad.c0),
  - after.sgd.<name>, after.adam.<name>, after.rmsprop.<name>: the parameters after one
    optimizer step from the same gradients (float64, PyTorch's own update rules).
Metadata: the configuration as JSON. `swift test` reads these files; it never runs Python.
"""
import json
import pathlib

import torch
from safetensors.torch import save_file

HERE = pathlib.Path(__file__).resolve().parent
torch.set_default_dtype(torch.float64)


class Model(torch.nn.Module):
    def __init__(self, cell, inputs, hidden, layers, outputs, nonlinearity, readout):
        super().__init__()
        if cell == "rnn":
            self.rnn = torch.nn.RNN(inputs, hidden, layers, batch_first=True, nonlinearity=nonlinearity)
        elif cell == "lstm":
            self.rnn = torch.nn.LSTM(inputs, hidden, layers, batch_first=True)
        else:
            self.rnn = torch.nn.GRU(inputs, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, outputs)
        self.readout = readout

    def forward(self, x, state):
        out, final = self.rnn(x, state)
        return self.head(out[:, -1] if self.readout == "last" else out), final


CASES = [
    dict(name="rnn_relu", cell="rnn", activation="relu", layers=2, readout="last", loss="cross_entropy"),
    dict(name="rnn_tanh", cell="rnn", activation="tanh", layers=1, readout="every", loss="mse"),
    dict(name="lstm", cell="lstm", activation="tanh", layers=2, readout="last", loss="cross_entropy"),
    dict(name="gru", cell="gru", activation="tanh", layers=2, readout="every", loss="cross_entropy"),
]
B, T, I, H, O = 3, 6, 2, 5, 4


def main():
    for case in CASES:
        torch.manual_seed(1234)
        model = Model(case["cell"], I, H, case["layers"], O, case["activation"], case["readout"])
        x = torch.rand(B, T, I) * 2 - 1
        h0 = torch.rand(case["layers"], B, H) * 0.5
        c0 = torch.rand(case["layers"], B, H) - 0.5
        x.requires_grad_(True)
        h0.requires_grad_(True)
        c0.requires_grad_(True)
        state = (h0, c0) if case["cell"] == "lstm" else h0
        out, final = model(x, state)
        tensors = {}
        if case["loss"] == "cross_entropy":
            if case["readout"] == "last":
                y = torch.randint(0, O, (B,))
                loss = torch.nn.functional.cross_entropy(out, y)
            else:
                y = torch.randint(0, O, (B, T))
                loss = torch.nn.functional.cross_entropy(out.reshape(B * T, O), y.reshape(B * T))
            tensors["targets"] = y.to(torch.int64)
        else:
            y = torch.rand(B, T, O) * 2 - 1 if case["readout"] == "every" else torch.rand(B, O)
            loss = torch.nn.functional.mse_loss(out, y)
            tensors["targets"] = y
        loss.backward()
        params = dict(model.named_parameters())
        for name, p in params.items():
            tensors[name] = p.detach().clone()
            tensors["grad." + name] = p.grad.detach().clone()
        tensors["x"] = x.detach()
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
        optimizers = {
            "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
            "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.001),
            "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01),
            "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        }
        for opt_name, make in optimizers.items():
            copies = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
            for n, c in copies.items():
                c.grad = params[n].grad.detach().clone()
            opt = make(list(copies.values()))
            opt.step()
            # a second step with the same gradients exercises the state (momentum, moments)
            opt.step()
            for n, c in copies.items():
                tensors[f"after.{opt_name}.{n}"] = c.detach().clone()
        metadata = {"configuration": json.dumps(dict(case, batch=B, steps=T, input=I, hidden=H, outputs=O)),
                    "generator": "Tests/RecurrentTests/Fixtures/make_torch_fixtures.py", "torch": torch.__version__}
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(HERE / f"torch_{case['name']}.safetensors"),
                  metadata=metadata)
        print("wrote", case["name"], "loss", float(loss))


if __name__ == "__main__":
    main()
