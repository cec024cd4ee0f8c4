#!/usr/bin/env python3
"""Inference (forward only) throughput of one RNN model: PyTorch, ONNX Runtime, Recurrent.

The model is `recurrent predict`'s many-to-one model and PyTorch's

    class Model(nn.Module):                       # batch_first, h_0 = 0
        rnn = nn.RNN(I, H, 1, batch_first=True, nonlinearity="relu")   # or tanh / nn.LSTM / nn.GRU
        head = nn.Linear(H, C)                    # on h_T: outputs [N, C] (raw logits)

with the peer training benchmark's initialisation (relu: IRNN, W_hh = I, W_ih ~ N(0, 0.001^2),
zero biases; others U(-1/sqrt(H), 1/sqrt(H)); readout U(-1/sqrt(H), 1/sqrt(H)), zero bias) and
inputs U(0, 1) of shape [B, T, I]. One timed call = the outputs of B sequences:

  torch        model(x) under torch.inference_mode(), torch.set_num_threads(N)
  onnxruntime  the same model exported with torch.onnx.export (opset 17, batch axis dynamic),
               InferenceSession with intra_op_num_threads = N, inter_op 1, all graph optimisations
  recurrent    `recurrent bench --inference` with the same shapes (RecurrentModel.predict, the
               library call behind `recurrent predict`, without the file I/O)

Output: one JSON line per framework (the training peer's fields where they apply, mode
"inference"): median_s / min_s per call, seq_per_s = B / median_s, fwd_flops_per_step.

--check also verifies that the three compute the same function: it writes the PyTorch weights as
a safetensors checkpoint under PyTorch's state_dict names (no `safetensors` package needed), runs
`recurrent predict` on the same inputs, and prints the largest differences of ONNX Runtime and
Recurrent against PyTorch (exit 1 above --tolerance).

  PY=~/.cache/recurrent-peers-venv/bin/python      # pip install torch onnxruntime onnx onnxscript
  $PY benchmarks/inference_peer_bench.py --cell relu --hidden 100 --input 1 --seq-len 784 \\
      --batch 1 --classes 10 --threads 1 --recurrent .build/release/recurrent --check
  # the issue's matrix (configurations a and e, batch 1 and 256, 1 and 2 threads):
  benchmarks/inference_matrix.sh
"""
import argparse
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time

GATES = {"relu": 1, "tanh": 1, "lstm": 4, "gru": 3}
RECURRENT_CELL = {"relu": "rnn", "tanh": "rnn", "lstm": "lstm", "gru": "gru"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frameworks", default="torch,onnxruntime,recurrent",
                   help="comma-separated: torch, onnxruntime, recurrent (recurrent needs --recurrent)")
    p.add_argument("--cell", choices=sorted(GATES), default="relu")
    p.add_argument("--hidden", "-H", type=int, default=100)
    p.add_argument("--input", "-I", type=int, default=1)
    p.add_argument("--seq-len", "-T", type=int, default=784)
    p.add_argument("--batch", "-B", type=int, default=1)
    p.add_argument("--classes", "-C", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20, help="timed calls")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    p.add_argument("--min-seconds", type=float, default=0.0,
                   help="keep timing calls past --steps until they add up to this many seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--recurrent", default=None, help="path of the recurrent binary")
    p.add_argument("--check", action="store_true", help="compare outputs of the three (see above)")
    p.add_argument("--tolerance", type=float, default=1e-4, help="--check: largest allowed |difference| / (1 + |y|)")
    p.add_argument("--no-pin", action="store_true", help="do not restrict the process to the first N CPUs")
    p.add_argument("--label", default=None)
    a = p.parse_args(argv)
    a.frameworks = [f for f in a.frameworks.split(",") if f]
    for f in a.frameworks:
        if f not in ("torch", "onnxruntime", "recurrent"):
            p.error(f"unknown framework {f!r}: torch, onnxruntime, recurrent")
    if ("recurrent" in a.frameworks or a.check) and not a.recurrent:
        if "recurrent" in a.frameworks and not a.check and a.frameworks != ["recurrent"]:
            a.frameworks.remove("recurrent")          # nothing to run it with
        else:
            p.error("--recurrent BINARY is needed for the recurrent framework and for --check")
    for name in ("hidden", "input", "seq_len", "batch", "classes", "threads", "steps"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return a


from rnn_peer_bench import configure_threads   # noqa: E402 (the training peer's; imports no framework)


def forward_flops(a):
    g = GATES[a.cell]
    return 2.0 * a.batch * a.seq_len * g * (a.input * a.hidden + a.hidden * a.hidden) + 2.0 * a.batch * a.hidden * a.classes


# --------------------------------------------------------------------------
# model, inputs
# --------------------------------------------------------------------------
def build_model(a):
    import numpy as np
    import torch
    import torch.nn as nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            I, H = a.input, a.hidden
            if a.cell in ("relu", "tanh"):
                self.rnn = nn.RNN(I, H, 1, batch_first=True, nonlinearity=a.cell)
            elif a.cell == "lstm":
                self.rnn = nn.LSTM(I, H, 1, batch_first=True)
            else:
                self.rnn = nn.GRU(I, H, 1, batch_first=True)
            self.head = nn.Linear(H, a.classes)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    torch.manual_seed(a.seed)
    model = Model().eval()
    rng = np.random.default_rng(a.seed + 1)
    H, k = a.hidden, 1.0 / np.sqrt(a.hidden)
    with torch.no_grad():
        if a.cell == "relu":     # IRNN
            model.rnn.weight_ih_l0.copy_(torch.from_numpy(rng.normal(0.0, 1e-3, (H, a.input)).astype(np.float32)))
            nn.init.eye_(model.rnn.weight_hh_l0)
            model.rnn.bias_ih_l0.zero_()
            model.rnn.bias_hh_l0.zero_()
        model.head.weight.copy_(torch.from_numpy(rng.uniform(-k, k, (a.classes, H)).astype(np.float32)))
        model.head.bias.zero_()
    return model


def make_inputs(a):
    import numpy as np
    return np.random.default_rng(a.seed).uniform(0.0, 1.0, (a.batch, a.seq_len, a.input)).astype(np.float32)


def timed(call, a):
    for _ in range(a.warmup):
        call()
    times = []
    while len(times) < a.steps or sum(times) < a.min_seconds:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return times


def record(a, framework, version, times, cpus, extra=None):
    med = statistics.median(times)
    r = {"framework": framework, "framework_version": version, "mode": "inference", "cell": a.cell,
         "hidden": a.hidden, "input": a.input, "seq_len": a.seq_len, "batch": a.batch, "classes": a.classes,
         "threads": a.threads, "cpus": cpus, "steps": len(times), "warmup": a.warmup, "min_seconds": a.min_seconds,
         "median_s": med, "min_s": min(times), "mean_s": statistics.fmean(times), "max_s": max(times),
         "seq_per_s": a.batch / med, "fwd_flops_per_step": forward_flops(a),
         "gflops": forward_flops(a) / med / 1e9, "loadavg_1m_before": os.getloadavg()[0],
         "python": platform.python_version()}
    if a.label:
        r["label"] = a.label
    r.update(extra or {})
    return r


# --------------------------------------------------------------------------
# frameworks
# --------------------------------------------------------------------------
def run_torch(a, model, x, cpus):
    import torch
    torch.set_num_threads(a.threads)
    xt = torch.from_numpy(x)

    def call():
        with torch.inference_mode():
            return model(xt)
    return record(a, "torch", torch.__version__, timed(call, a), cpus)


def export_onnx(a, model, x, path):
    import warnings
    import torch
    # The legacy exporter's deprecation notice, and its note on RNN_RELU with a batch other than
    # 1 (h_0 is built from the input's shape here, so any batch runs: --check tests it).
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*batch_size other than 1.*")
    xt = torch.from_numpy(x)
    kwargs = dict(input_names=["inputs"], output_names=["outputs"], opset_version=17,
                  dynamic_axes={"inputs": {0: "batch"}, "outputs": {0: "batch"}})
    try:       # the TorchScript exporter maps nn.RNN/LSTM/GRU to ONNX's RNN/LSTM/GRU operators
        torch.onnx.export(model, (xt,), path, dynamo=False, **kwargs)
        return "torchscript"
    except TypeError:                     # a torch without the dynamo argument
        torch.onnx.export(model, (xt,), path, **kwargs)
        return "torchscript"
    except Exception as e:                # a torch that dropped the TorchScript exporter
        print(f"torch.onnx.export(dynamo=False) failed ({e}); using the dynamo exporter", file=sys.stderr)
        torch.onnx.export(model, (xt,), path, dynamo=True, input_names=["inputs"], output_names=["outputs"])
        return "dynamo"


def ort_session(a, path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run_onnxruntime(a, session, exporter, x, cpus):
    import onnxruntime as ort
    ops = sorted({n.op_type for n in __import__("onnx").load(session._model_path).graph.node}) \
        if hasattr(session, "_model_path") else None
    call = lambda: session.run(["outputs"], {"inputs": x})
    return record(a, "onnxruntime", ort.__version__, timed(call, a), cpus,
                  {"exporter": exporter, **({"onnx_ops": ops} if ops else {})})


def run_recurrent(a):
    cmd = [a.recurrent, "bench", "--inference", "--cell", a.cell, "--hidden", str(a.hidden), "--input", str(a.input),
           "--seq-len", str(a.seq_len), "--batch", str(a.batch), "--classes", str(a.classes),
           "--threads", str(a.threads), "--steps", str(a.steps), "--warmup", str(a.warmup), "--json"]
    if a.min_seconds > 0:
        cmd += ["--min-seconds", str(a.min_seconds)]
    if a.no_pin:
        cmd.append("--no-pin")
    if a.label:
        cmd += ["--label", a.label]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --------------------------------------------------------------------------
# --check: the same function in the three
# --------------------------------------------------------------------------
def write_safetensors(path, tensors, metadata):
    """safetensors by hand: u64 header length, JSON header, raw little-endian F32 data."""
    import numpy as np
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        b = np.ascontiguousarray(t, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path, name):
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    e = header[name]
    assert e["dtype"] == "F32", e
    lo, hi = e["data_offsets"]
    return np.frombuffer(data[lo:hi], dtype="<f4").reshape(e["shape"])


def check(a, model, session, x, folder):
    import numpy as np
    import torch
    with torch.inference_mode():
        want = model(torch.from_numpy(x)).numpy()
    scale = 1.0 + np.abs(want)
    report = {"check": "outputs [B, C] against torch", "max_abs_torch": float(np.abs(want).max())}
    failures = []
    if session is not None:
        got = session.run(["outputs"], {"inputs": x})[0]
        report["onnxruntime_max_rel_diff"] = float((np.abs(got - want) / scale).max())
        if report["onnxruntime_max_rel_diff"] > a.tolerance:
            failures.append("onnxruntime")
    ckpt, inp, out = (os.path.join(folder, n) for n in ("model.safetensors", "x.npy", "y.safetensors"))
    meta = {"cell": RECURRENT_CELL[a.cell]}
    if a.cell in ("relu", "tanh"):
        meta["activation"] = a.cell
    write_safetensors(ckpt, {k: v.detach().numpy() for k, v in model.state_dict().items()}, meta)
    np.save(inp, x)
    subprocess.run([a.recurrent, "predict", "--checkpoint", ckpt, "--input", inp, "--output", out,
                    "--batch", str(a.batch)], check=True, capture_output=True, text=True)
    got = read_safetensors(out, "outputs")
    report["recurrent_max_rel_diff"] = float((np.abs(got - want) / scale).max())
    if report["recurrent_max_rel_diff"] > a.tolerance:
        failures.append("recurrent")
    report["ok"] = not failures
    print(json.dumps(report), file=sys.stderr)
    return failures


def main(argv=None):
    a = parse_args(argv)
    cpus = configure_threads(a.threads, not a.no_pin)
    x = make_inputs(a)
    needs_torch = a.check or any(f in a.frameworks for f in ("torch", "onnxruntime"))
    model = build_model(a) if needs_torch else None
    with tempfile.TemporaryDirectory() as folder:
        session, exporter = None, None
        if "onnxruntime" in a.frameworks or (a.check and needs_torch):
            try:
                path = os.path.join(folder, "model.onnx")
                exporter = export_onnx(a, model, x, path)
                session = ort_session(a, path)
                session._model_path = path
            except ImportError as e:
                if "onnxruntime" in a.frameworks:
                    raise SystemExit(f"onnxruntime is not installed ({e}): pip install onnxruntime onnx onnxscript")
        failures = check(a, model, session, x, folder) if a.check else []
        for f in a.frameworks:
            if f == "torch":
                r = run_torch(a, model, x, cpus)
            elif f == "onnxruntime":
                r = run_onnxruntime(a, session, exporter, x, cpus)
            else:
                r = run_recurrent(a)
            print(json.dumps(r), flush=True)
    if failures:
        raise SystemExit(f"outputs differ from torch's beyond {a.tolerance}: {', '.join(failures)}")


if __name__ == "__main__":
    main()
