#!/usr/bin/env python3
"""Regenerate Tests/RecurrentTests/Fixtures/cornn_reference.safetensors.

An independent reference for the coRNN cell (CoRNNTests.swift): the authors' model,
transcribed line by line from github.com/tk-rusch/coRNN (psMNIST/network.py, adding/model.py)
into plain NumPy float64, with nothing taken from the Swift code:

    class coRNNCell(nn.Module):
        def __init__(self, n_inp, n_hid, dt, gamma, epsilon):
            self.i2h = nn.Linear(n_inp + n_hid + n_hid, n_hid)
        def forward(self, x, hy, hz):
            hz = hz + self.dt * (torch.tanh(self.i2h(torch.cat((x, hz, hy), 1)))
                                 - self.gamma * hy - self.epsilon * hz)
            hy = hy + self.dt * hz
            return hy, hz

    class coRNN(nn.Module):   # hy = hz = 0; for t: hy, hz = cell(x[t], hy, hz); readout(hy)

The one `i2h` weight [H, I + 2H] is split into the Swift names by its columns:
weight_ih = i2h.weight[:, :I] (on x), weight_hz = i2h.weight[:, I:I+H] (on hz),
weight_hh = i2h.weight[:, I+H:] (on hy); bias_ih = i2h.bias.

The file holds the model as a state_dict with metadata cell/dt/gamma/epsilon only (so Swift
reads it as a file from PyTorch: the cell is recognised from the tensors, the
hyper-parameters from the metadata), and, under `ref.`, the inputs and targets, every hy_t and
hz_t, the outputs, the MSE loss, the gradient of the loss by central differences (step 1e-6)
and the weights after two plain SGD steps (lr 0.5) on the same batch.

Usage: python3 Tests/RecurrentTests/Fixtures/make_cornn_fixture.py   (needs: numpy)
"""
import json
import struct
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "cornn_reference.safetensors"

I, H, O, T, B = 2, 4, 1, 6, 3
DT, GAMMA, EPSILON = 0.2, 2.0, 1.5   # not the defaults: the metadata must carry them
LR = 0.5


def cell(x, hy, hz, w_i2h, b_i2h):
    """The authors' coRNNCell.forward, in NumPy."""
    hz = hz + DT * (np.tanh(np.concatenate((x, hz, hy), 1) @ w_i2h.T + b_i2h) - GAMMA * hy - EPSILON * hz)
    hy = hy + DT * hz
    return hy, hz


def model(p, x):
    """The authors' coRNN.forward with batch-first x [B, T, I]: states and readout(hy_T)."""
    hy = np.zeros((x.shape[0], H))
    hz = np.zeros((x.shape[0], H))
    ys, zs = [hy], [hz]
    for t in range(x.shape[1]):
        hy, hz = cell(x[:, t, :], hy, hz, p["i2h.weight"], p["i2h.bias"])
        ys.append(hy)
        zs.append(hz)
    return np.stack(ys), np.stack(zs), hy @ p["readout.weight"].T + p["readout.bias"]


def loss(p, x, y):
    return float(np.mean((model(p, x)[2] - y) ** 2))   # nn.MSELoss()


def numeric_gradient(p, x, y, step=1e-6):
    g = {}
    for name, value in p.items():
        d = np.zeros_like(value)
        for k in np.ndindex(value.shape):
            plus = {n: v.copy() for n, v in p.items()}
            minus = {n: v.copy() for n, v in p.items()}
            plus[name][k] += step
            minus[name][k] -= step
            d[k] = (loss(plus, x, y) - loss(minus, x, y)) / (2 * step)
        g[name] = d
    return g


def swift_names(p):
    """The authors' tensors under the Swift (PyTorch-style) names."""
    w = p["i2h.weight"]
    return {
        "rnn.weight_ih_l0": w[:, :I],
        "rnn.weight_hh_l0": w[:, I + H:],
        "rnn.weight_hz_l0": w[:, I:I + H],
        "rnn.bias_ih_l0": p["i2h.bias"],
        "head.weight": p["readout.weight"],
        "head.bias": p["readout.bias"],
    }


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(np.shape(tensors[name])), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    rng = np.random.default_rng(2021)
    bound = 1 / np.sqrt(I + 2 * H)                   # nn.Linear(I + 2H, H)'s default range, made wider below
    p = {
        "i2h.weight": rng.uniform(-3 * bound, 3 * bound, (H, I + 2 * H)),
        "i2h.bias": rng.uniform(-bound, bound, H),
        "readout.weight": rng.uniform(-0.5, 0.5, (O, H)),
        "readout.bias": rng.uniform(-0.5, 0.5, O),
    }
    x = rng.uniform(-1, 1, (B, T, I))
    y = rng.uniform(0, 1, (B, O))
    ys, zs, out = model(p, x)
    tensors = dict(swift_names(p))
    tensors.update({
        "ref.inputs": x, "ref.targets": y, "ref.hy": ys, "ref.hz": zs, "ref.outputs": out,
        "ref.loss": np.array([loss(p, x, y)]),
    })
    for name, g in swift_names(numeric_gradient(p, x, y)).items():
        tensors["ref.grad." + name] = g
    q = p
    for _ in range(2):
        g = numeric_gradient(q, x, y)
        q = {n: q[n] - LR * g[n] for n in q}
    for name, v in swift_names(q).items():
        tensors["ref.sgd2." + name] = v
    write_safetensors(OUT, tensors, {"cell": "cornn", "dt": repr(DT), "gamma": repr(GAMMA), "epsilon": repr(EPSILON)})
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes); loss {tensors['ref.loss'][0]:.6f}, |hy_T| {np.abs(ys[-1]).max():.4f}")
