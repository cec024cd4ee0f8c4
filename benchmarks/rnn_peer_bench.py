#!/usr/bin/env python3
"""Time full RNN TRAINING steps on CPU with a peer framework (PyTorch / JAX / NumPy).

(The repository's copy of ../shared/peers/rnn_peer_bench.py, extended: the IndRNN cell,
--flush-denormal, --min-seconds and --check-recurrent. benchmarks/side_by_side.sh runs it.)

Model: one recurrent layer (relu | tanh | lstm | gru | indrnn), hidden state h_0 = 0,
followed by a linear readout on the LAST hidden state h_T.
One training step = forward through time + loss + backward through time +
SGD update of every parameter (recurrent layer and readout).

  loss: softmax cross-entropy when --classes > 1,
        mean-squared error against a scalar target when --classes == 1
        (e.g. the adding problem; --loss overrides).
  data: synthetic, generated once, cycled over --data-batches batches:
        --input 2 with --classes 1 -> adding-problem sequences
        (channel 0 ~ U(0,1), channel 1 marks one position in each half,
        target = sum of the two marked values); otherwise inputs ~ U(0,1)
        (pixel-like) with uniformly random integer labels.
  init: relu cells use the IRNN init (Le, Jaitly & Hinton 2015):
        W_hh = identity, recurrent biases 0, W_ih ~ N(0, 0.001^2);
        tanh/lstm/gru use the framework-default U(-1/sqrt(H), 1/sqrt(H));
        indrnn (Li et al. 2018, `recurrent`'s preset) h_t = relu(W_ih x_t + b_ih
        + u * h_{t-1} + b_hh) with u = 1, zero biases, W_ih ~ U(-1/sqrt(H), 1/sqrt(H)).
        The readout uses U(-1/sqrt(H), 1/sqrt(H)) weights and zero bias.
  lr:   plain SGD, default 1e-8 (harmless: parameters barely move, so the
        numerics stay in the same regime for every step that is timed).

Frameworks:
  torch  nn.RNN(nonlinearity=relu|tanh) / nn.LSTM / nn.GRU + nn.Linear,
         torch.optim.SGD, eager autograd, torch.set_num_threads(N).
  jax    hand-written cell inside jax.lax.scan, jax.value_and_grad, whole
         step jit-compiled (params donated); the input projection for all
         time steps is one matmul hoisted out of the scan. Compile time is
         measured separately (compile_s) and excluded from the step timings.
  torch indrnn: the step written by hand (PyTorch has no IndRNN): the input
         projection of all steps as one matmul, then h = relu(xw_t + u * h)
         in a Python loop over t, autograd through the loop.
  numpy  hand-written forward + BPTT (relu/tanh/indrnn only): one OpenBLAS matmul
         per time step forward and two per step backward; a "BLAS per time
         step from Python" reference. Threads via threadpoolctl.

Threads: OMP/MKL/OPENBLAS_NUM_THREADS=N are exported before any framework
is imported and, unless --no-pin, the process is pinned to the first N CPUs
(sched_setaffinity) when N is below the number of usable CPUs: that is the
only knob XLA honours (its pool is sized from the affinity mask).

Output: ONE JSON line on stdout (schema in README.md): median/min/mean
seconds per training step, sequences/s, useful FLOPs per step and GFLOP/s.

Example (pixel-MNIST IRNN, 1 thread):
  python rnn_peer_bench.py --framework torch --cell relu --hidden 100 \
      --input 1 --seq-len 784 --batch 16 --classes 10 --threads 1 \
      --steps 20 --warmup 3
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

GATES = {"relu": 1, "tanh": 1, "lstm": 4, "gru": 3, "indrnn": 1}


# --------------------------------------------------------------------------
# CLI, threads, FLOP model
# --------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=["torch", "jax", "numpy"], required=True)
    p.add_argument("--cell", choices=sorted(GATES), default="relu")
    p.add_argument("--hidden", "-H", type=int, default=100)
    p.add_argument("--input", "-I", type=int, default=1)
    p.add_argument("--seq-len", "-T", type=int, default=784)
    p.add_argument("--batch", "-B", type=int, default=16)
    p.add_argument("--classes", "-C", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20, help="timed training steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--lr", type=float, default=1e-8)
    p.add_argument("--loss", choices=["auto", "xent", "mse"], default="auto",
                   help="auto: xent if classes > 1 else mse")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-batches", type=int, default=4,
                   help="distinct synthetic batches cycled during timing")
    p.add_argument("--unroll", type=int, default=1,
                   help="jax only: lax.scan unroll factor")
    p.add_argument("--no-pin", action="store_true",
                   help="do not restrict CPU affinity to the first N CPUs")
    p.add_argument("--ceiling-gflops", type=float, default=None,
                   help="if given, report achieved GFLOP/s as %% of this ceiling")
    p.add_argument("--label", default=None, help="free text copied into the JSON")
    p.add_argument("--flush-denormal", action="store_true",
                   help="torch only: torch.set_flush_denormal(True) (FTZ/DAZ) before timing")
    p.add_argument("--min-seconds", type=float, default=0.0,
                   help="keep timing steps past --steps until the timed steps add up to this")
    p.add_argument("--check-recurrent", metavar="BINARY", default=None,
                   help="instead of timing: write this peer's initial weights as a checkpoint, run "
                        "`BINARY predict` on the first batch and compare logits and loss (exit 1 "
                        "above 1e-4 relative); torch only")
    args = p.parse_args(argv)
    if args.loss == "auto":
        args.loss = "xent" if args.classes > 1 else "mse"
    if args.loss == "xent" and args.classes < 2:
        p.error("cross-entropy needs --classes >= 2")
    if args.framework == "numpy" and args.cell not in ("relu", "tanh", "indrnn"):
        p.error("--framework numpy implements relu/tanh/indrnn cells only")
    if args.flush_denormal and args.framework != "torch":
        p.error("--flush-denormal is torch's switch (XLA flushes by default; NumPy has none)")
    if args.check_recurrent and args.framework != "torch":
        p.error("--check-recurrent compares against the torch peer: add --framework torch")
    return args


def configure_threads(n, pin):
    """Must run before numpy/torch/jax are imported."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    cpus = sorted(os.sched_getaffinity(0))
    if pin and n < len(cpus):
        os.sched_setaffinity(0, set(cpus[:n]))
    return sorted(os.sched_getaffinity(0))


def useful_flops(cell, B, T, I, H, C):
    """Matmul FLOPs of one training step: forward = 2*B*T*G*(I*H + H*H)
    (G = gates: 1 relu/tanh, 4 lstm, 3 gru) + readout 2*B*H*C; backward is
    counted as 2x forward (grad wrt activations + grad wrt weights)."""
    g = GATES[cell]
    recurrent = H if cell == "indrnn" else H * H   # IndRNN: u is a vector [H]
    fwd = 2.0 * B * T * g * (I * H + recurrent) + 2.0 * B * H * C
    return 3.0 * fwd, fwd


# --------------------------------------------------------------------------
# synthetic data (numpy, shared by all frameworks)
# --------------------------------------------------------------------------
def make_data(args):
    import numpy as np
    rng = np.random.default_rng(args.seed)
    T, B, I, C = args.seq_len, args.batch, args.input, args.classes
    batches = []
    for _ in range(max(1, args.data_batches)):
        if I == 2 and C == 1:  # adding problem
            x = np.zeros((T, B, 2), np.float32)
            x[:, :, 0] = rng.uniform(0.0, 1.0, (T, B))
            half = max(1, T // 2)
            a = rng.integers(0, half, B)
            b = rng.integers(half, T, B) if T > 1 else a
            cols = np.arange(B)
            x[a, cols, 1] = 1.0
            x[b, cols, 1] = 1.0
            y = (x[a, cols, 0] + x[b, cols, 0]).astype(np.float32).reshape(B, 1)
        else:
            x = rng.uniform(0.0, 1.0, (T, B, I)).astype(np.float32)
            if args.loss == "xent":
                y = rng.integers(0, C, B).astype(np.int64)
            else:
                y = rng.standard_normal((B, C)).astype(np.float32)
        batches.append((x, y))
    return batches


def init_params_np(args):
    """Parameters in (in, out) layout, gate order i,f,g,o (lstm) / r,z,n (gru)."""
    import numpy as np
    rng = np.random.default_rng(args.seed + 1)
    I, H, C, G = args.input, args.hidden, args.classes, GATES[args.cell]
    k = 1.0 / np.sqrt(H)
    if args.cell == "relu":
        w_ih = rng.normal(0.0, 1e-3, (I, H))
        w_hh = np.eye(H)
        b_ih = np.zeros(H)
        b_hh = np.zeros(H)
    elif args.cell == "indrnn":   # `recurrent`'s indrnn preset: u = 1, zero biases
        w_ih = rng.uniform(-k, k, (I, H))
        w_hh = np.ones(H)
        b_ih = np.zeros(H)
        b_hh = np.zeros(H)
    else:
        w_ih = rng.uniform(-k, k, (I, G * H))
        w_hh = rng.uniform(-k, k, (H, G * H))
        b_ih = rng.uniform(-k, k, G * H)
        b_hh = rng.uniform(-k, k, G * H)
    w_out = rng.uniform(-k, k, (H, C))
    b_out = np.zeros(C)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)
    return {n: f32(v) for n, v in dict(w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh,
                                       w_out=w_out, b_out=b_out).items()}


# --------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------
def build_torch(args, threads):
    import torch
    import torch.nn as nn
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    I, H, C = args.input, args.hidden, args.classes
    if args.cell == "indrnn":
        rnn = TorchIndRNN(I, H)
    elif args.cell in ("relu", "tanh"):
        rnn = nn.RNN(I, H, nonlinearity=args.cell)
    elif args.cell == "lstm":
        rnn = nn.LSTM(I, H)
    else:
        rnn = nn.GRU(I, H)
    head = nn.Linear(H, C)
    p = init_params_np(args)
    with torch.no_grad():  # same init as the other frameworks ((out, in) layout)
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["w_ih"].T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["w_hh"].T.copy()))   # IndRNN: u [H]
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b_ih"]))
        rnn.bias_hh_l0.copy_(torch.from_numpy(p["b_hh"]))
        if args.cell == "relu":
            nn.init.eye_(rnn.weight_hh_l0)
        head.weight.copy_(torch.from_numpy(p["w_out"].T.copy()))
        head.bias.copy_(torch.from_numpy(p["b_out"]))
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=args.lr)
    loss_fn = nn.CrossEntropyLoss() if args.loss == "xent" else nn.MSELoss()
    data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in make_data(args)]

    def step(i):
        x, y = data[i % len(data)]
        opt.zero_grad(set_to_none=True)
        _, h_n = rnn(x)
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        loss = loss_fn(head(h_n[-1]), y)
        loss.backward()
        opt.step()
        return loss

    def finish(loss):
        return float(loss.detach())

    info = {"framework_version": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "mkldnn": bool(torch.backends.mkldnn.is_available()),
            "flush_denormal": bool(args.flush_denormal)}
    if args.check_recurrent:
        return check_recurrent(args, rnn, head, data[0], loss_fn)
    return step, finish, info, 0.0


def torch_indrnn_class():
    import torch
    import torch.nn as nn

    class IndRNN(nn.Module):
        """h_t = relu(W_ih x_t + b_ih + u * h_{t-1} + b_hh), time-major x [T, B, I], h_0 = 0;
        returns (h [T, B, H], h_n [1, B, H]) like nn.RNN. Parameter names and shapes are
        `recurrent`'s checkpoint names: weight_hh_l0 is u [H]."""

        def __init__(self, I, H):
            super().__init__()
            self.weight_ih_l0 = nn.Parameter(torch.empty(H, I))
            self.weight_hh_l0 = nn.Parameter(torch.ones(H))
            self.bias_ih_l0 = nn.Parameter(torch.zeros(H))
            self.bias_hh_l0 = nn.Parameter(torch.zeros(H))

        def forward(self, x):
            T, B, _ = x.shape
            xw = torch.addmm(self.bias_ih_l0 + self.bias_hh_l0, x.reshape(T * B, -1),
                             self.weight_ih_l0.t()).reshape(T, B, -1)   # [T, B, H], one matmul
            h = x.new_zeros(B, self.weight_hh_l0.shape[0])
            hs = []
            for t in range(T):
                h = torch.relu(xw[t] + self.weight_hh_l0 * h)
                hs.append(h)
            return torch.stack(hs), h.unsqueeze(0)
    return IndRNN


def TorchIndRNN(I, H):
    return torch_indrnn_class()(I, H)


def check_recurrent(args, rnn, head, batch, loss_fn):
    """The torch peer's initial weights as a `recurrent` checkpoint (PyTorch's state_dict names),
    `recurrent predict` on the first batch (batch-first .npy), logits and loss compared."""
    import subprocess
    import tempfile
    import numpy as np
    import torch
    x, y = batch                                    # x [T, B, I]
    with torch.no_grad():
        _, h_n = rnn(x)
        if isinstance(h_n, tuple):
            h_n = h_n[0]
        want = head(h_n[-1])
        want_loss = float(loss_fn(want, y))
    want = want.numpy()
    tensors = {f"rnn.{k}": v.detach().numpy() for k, v in rnn.state_dict().items()}
    tensors.update({f"head.{k}": v.detach().numpy() for k, v in head.state_dict().items()})
    meta = {"cell": {"relu": "rnn", "tanh": "rnn"}.get(args.cell, args.cell), "readout": "last"}
    if args.cell in ("relu", "tanh", "indrnn"):
        meta["activation"] = "relu" if args.cell in ("relu", "indrnn") else "tanh"
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from inference_peer_bench import read_safetensors, write_safetensors
    with tempfile.TemporaryDirectory() as d:
        ckpt, inp, out = (os.path.join(d, n) for n in ("model.safetensors", "x.npy", "y.safetensors"))
        write_safetensors(ckpt, tensors, meta)
        np.save(inp, np.ascontiguousarray(x.numpy().transpose(1, 0, 2)))   # [B, T, I]
        subprocess.run([args.check_recurrent, "predict", "--checkpoint", ckpt, "--input", inp,
                        "--output", out, "--batch", str(args.batch)], check=True, capture_output=True, text=True)
        got = read_safetensors(out, "outputs")
    got_t = torch.from_numpy(np.array(got))
    got_loss = float(loss_fn(got_t, y))
    rel = float((np.abs(got - want) / (1.0 + np.abs(want))).max())
    report = {"check": "recurrent predict against the torch peer", "cell": args.cell,
              "shapes": {k: list(v.shape) for k, v in tensors.items()},
              "logits_max_rel_diff": rel, "loss_torch": want_loss, "loss_recurrent": got_loss,
              "loss_rel_diff": abs(got_loss - want_loss) / (1.0 + abs(want_loss))}
    report["ok"] = rel <= 1e-4 and report["loss_rel_diff"] <= 1e-4
    print(json.dumps(report), flush=True)
    sys.exit(0 if report["ok"] else 1)


# --------------------------------------------------------------------------
# jax
# --------------------------------------------------------------------------
def build_jax(args, threads):
    import jax
    import jax.numpy as jnp
    from jax import lax
    H, cell, lr = args.hidden, args.cell, args.lr
    p = init_params_np(args)
    params = {k: jnp.asarray(v) for k, v in p.items()}

    def cell_fn(w_hh, b_hh):
        if cell in ("relu", "tanh"):
            act = jax.nn.relu if cell == "relu" else jnp.tanh

            def f(h, xw):
                h = act(xw + h @ w_hh)
                return h, None
        elif cell == "indrnn":   # u = w_hh [H], elementwise
            def f(h, xw):
                return jax.nn.relu(xw + w_hh * h), None
        elif cell == "lstm":
            def f(carry, xw):
                h, c = carry
                g = xw + h @ w_hh
                i, fg, gg, o = jnp.split(g, 4, axis=-1)
                c = jax.nn.sigmoid(fg) * c + jax.nn.sigmoid(i) * jnp.tanh(gg)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h, c), None
        else:  # gru, torch semantics
            def f(h, xw):
                hw = h @ w_hh + b_hh
                xr, xz, xn = jnp.split(xw, 3, axis=-1)
                hr, hz, hn = jnp.split(hw, 3, axis=-1)
                r = jax.nn.sigmoid(xr + hr)
                z = jax.nn.sigmoid(xz + hz)
                n = jnp.tanh(xn + r * hn)
                return (1.0 - z) * n + z * h, None
        return f

    def loss_fn(prm, x, y):
        B = x.shape[1]
        # input projection for all T steps at once (one matmul outside the scan);
        # b_ih and b_hh stay separate parameters (as in torch) but, except for
        # the GRU's candidate gate, they are simply added
        xw = jnp.einsum("tbi,ig->tbg", x, prm["w_ih"]) + prm["b_ih"]
        if cell != "gru":
            xw = xw + prm["b_hh"]
        h0 = jnp.zeros((B, H), x.dtype)
        init = (h0, h0) if cell == "lstm" else h0
        carry, _ = lax.scan(cell_fn(prm["w_hh"], prm["b_hh"]), init, xw,
                            unroll=args.unroll)
        h = carry[0] if cell == "lstm" else carry
        out = h @ prm["w_out"] + prm["b_out"]
        if args.loss == "xent":
            logp = jax.nn.log_softmax(out, axis=-1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))
        return jnp.mean((out - y) ** 2)

    def train_step(prm, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(prm, x, y)
        prm = jax.tree_util.tree_map(lambda a, g: a - lr * g, prm, grads)
        return prm, loss

    data = [(jnp.asarray(x), jnp.asarray(y.astype("int32") if args.loss == "xent" else y))
            for x, y in make_data(args)]
    t0 = time.perf_counter()
    compiled = jax.jit(train_step, donate_argnums=0).lower(params, *data[0]).compile()
    compile_s = time.perf_counter() - t0
    state = {"params": params}

    def step(i):
        x, y = data[i % len(data)]
        state["params"], loss = compiled(state["params"], x, y)
        loss.block_until_ready()
        return loss

    def finish(loss):
        return float(loss)

    import jaxlib
    info = {"framework_version": jax.__version__, "jaxlib_version": jaxlib.__version__,
            "devices": [str(d) for d in jax.devices()], "unroll": args.unroll}
    return step, finish, info, compile_s


# --------------------------------------------------------------------------
# numpy (hand-written BPTT, relu/tanh)
# --------------------------------------------------------------------------
def build_numpy(args, threads):
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits
    threadpool_limits(threads)
    p = init_params_np(args)
    T, B, H = args.seq_len, args.batch, args.hidden
    lr, relu = np.float32(args.lr), args.cell in ("relu", "indrnn")
    ind = args.cell == "indrnn"   # u = w_hh [H]: elementwise recurrence
    data = make_data(args)
    hs = np.zeros((T + 1, B, H), np.float32)  # hs[0] = h_0 = 0
    tmp = np.empty((B, H), np.float32)
    dh = np.empty((B, H), np.float32)
    dz = np.empty((T, B, H), np.float32)

    def step(i):
        x, y = data[i % len(data)]
        w_ih, w_hh, w_out = p["w_ih"], p["w_hh"], p["w_out"]
        # forward: input projection for all steps at once, then the recurrence
        xw = (x.reshape(T * B, -1) @ w_ih).reshape(T, B, H)
        xw += p["b_ih"] + p["b_hh"]
        for t in range(T):
            if ind:
                np.multiply(hs[t], w_hh, out=tmp)
            else:
                np.matmul(hs[t], w_hh, out=tmp)
            np.add(tmp, xw[t], out=tmp)
            if relu:
                np.maximum(tmp, 0.0, out=hs[t + 1])
            else:
                np.tanh(tmp, out=hs[t + 1])
        hT = hs[T]
        out = hT @ w_out + p["b_out"]
        if args.loss == "xent":
            m = out - out.max(axis=1, keepdims=True)
            e = np.exp(m)
            s = e.sum(axis=1, keepdims=True)
            loss = float(np.mean(np.log(s[:, 0]) - m[np.arange(B), y]))
            dout = e / s
            dout[np.arange(B), y] -= 1.0
            dout /= B
        else:
            diff = out - y
            loss = float(np.mean(diff * diff))
            dout = (2.0 / diff.size) * diff
        dout = dout.astype(np.float32)
        # backward through time
        g_w_out = hT.T @ dout
        g_b_out = dout.sum(axis=0)
        np.matmul(dout, w_out.T, out=dh)
        for t in range(T - 1, -1, -1):
            h1 = hs[t + 1]
            if relu:
                np.multiply(dh, h1 > 0, out=dz[t])
            else:
                np.multiply(dh, 1.0 - h1 * h1, out=dz[t])
            if t:
                if ind:
                    np.multiply(dz[t], w_hh, out=dh)
                else:
                    np.matmul(dz[t], w_hh.T, out=dh)
        dzf = dz.reshape(T * B, H)
        if ind:
            g_w_hh = np.einsum("tbh,tbh->h", hs[:T], dz)
        else:
            g_w_hh = hs[:T].reshape(T * B, H).T @ dzf
        g_w_ih = x.reshape(T * B, -1).T @ dzf
        g_b = dzf.sum(axis=0)
        # SGD
        w_ih -= lr * g_w_ih
        w_hh -= lr * g_w_hh
        p["b_ih"] -= lr * g_b
        p["b_hh"] -= lr * g_b
        w_out -= lr * g_w_out
        p["b_out"] -= lr * g_b_out
        return loss

    info = {"framework_version": np.__version__,
            "blas": [{k: d.get(k) for k in ("internal_api", "version", "architecture",
                                            "num_threads")}
                     for d in threadpool_info() if d.get("user_api") == "blas"]}
    return step, float, info, 0.0


# --------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    cpus = configure_threads(args.threads, not args.no_pin)
    build = {"torch": build_torch, "jax": build_jax, "numpy": build_numpy}[args.framework]
    step, finish, info, compile_s = build(args, args.threads)

    for i in range(args.warmup):
        loss = step(i)
    # 1-minute load average just before timing: a value well above what this
    # run itself explains means another process was competing for the cores
    loadavg = os.getloadavg()[0]
    times = []
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.perf_counter()
    i = args.warmup
    while len(times) < args.steps or sum(times) < args.min_seconds:
        t0 = time.perf_counter()
        loss = step(i)
        times.append(time.perf_counter() - t0)
        i += 1
    wall = time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

    flops, fwd_flops = useful_flops(args.cell, args.batch, args.seq_len, args.input,
                                    args.hidden, args.classes)
    med, mn = statistics.median(times), min(times)
    res = {
        "framework": args.framework, **info,
        "cell": args.cell, "hidden": args.hidden, "input": args.input,
        "seq_len": args.seq_len, "batch": args.batch, "classes": args.classes,
        "loss": args.loss, "lr": args.lr, "threads": args.threads, "cpus": cpus,
        "steps": len(times), "warmup": args.warmup, "min_seconds": args.min_seconds,
        "median_s": med, "min_s": mn, "mean_s": statistics.fmean(times),
        "max_s": max(times),
        "seq_per_s": args.batch / med, "steps_per_s": 1.0 / med,
        "us_per_timestep": med / args.seq_len * 1e6,
        "flops_per_step": flops, "fwd_flops_per_step": fwd_flops,
        "gflops": flops / med / 1e9, "gflops_best": flops / mn / 1e9,
        "compile_s": compile_s, "cpu_util": cpu / wall if wall > 0 else None,
        "loadavg_1m_before": loadavg,
        "final_loss": finish(loss),
        "python": platform.python_version(), "label": args.label,
    }
    if args.ceiling_gflops:
        res["ceiling_gflops"] = args.ceiling_gflops
        res["pct_ceiling"] = 100.0 * res["gflops"] / args.ceiling_gflops
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
