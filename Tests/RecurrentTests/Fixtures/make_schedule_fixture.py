"""Learning rates of PyTorch's schedulers for the first steps: the reference of
ScheduleParityTests (run once; `swift test` reads schedule_reference.json).

    ~/.cache/recurrent-peers-venv/bin/python Tests/RecurrentTests/Fixtures/make_schedule_fixture.py

Each case is a `--schedule` text, the run's total steps, and the rate PyTorch's optimizer holds
before each of the first steps (what our `LearningRateSchedule.rate(base:step:)` gives for
step t = 0, 1, ...). Warm-ups are SequentialLR([LinearLR(start_factor, total_iters=N), after],
milestones=[N]). Plateau cases feed ReduceLROnPlateau (threshold 1e-4 rel, cooldown 0) a fixed
metric sequence, one per evaluation, and record the rate after each.
"""
import json, math, os
import torch

BASE = 0.1


def optimizer():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)


def rates(make, steps):
    opt = optimizer()
    sched = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def warm(n, start, after):
    return lambda opt: torch.optim.lr_scheduler.SequentialLR(
        opt, [torch.optim.lr_scheduler.LinearLR(opt, start_factor=start, end_factor=1.0, total_iters=n), after(opt)], milestones=[n])


L = torch.optim.lr_scheduler
cases = [
    ("exponential:0.9", 40, lambda o: L.ExponentialLR(o, gamma=0.9)),
    ("warmup:10", 40, lambda o: L.LinearLR(o, start_factor=1 / 3, end_factor=1.0, total_iters=10)),
    ("warmup:10:0.01,cosine", 40, warm(10, 0.01, lambda o: L.CosineAnnealingLR(o, T_max=30, eta_min=0))),
    ("warmup:8,cosine:0.001", 30, warm(8, 1 / 3, lambda o: L.CosineAnnealingLR(o, T_max=22, eta_min=0.001))),
    ("warmup:5:0.2,exponential:0.95", 30, warm(5, 0.2, lambda o: L.ExponentialLR(o, gamma=0.95))),
    ("warmup:5,step:4:0.5", 30, warm(5, 1 / 3, lambda o: L.StepLR(o, step_size=4, gamma=0.5))),
]
out = {"base": BASE, "torch": torch.__version__, "stepped": [], "plateau": []}
for text, total, make in cases:
    out["stepped"].append({"schedule": text, "total": total, "rates": rates(make, total)})

metrics = [1.0, 0.9, 0.9, 0.95, 0.89995, 0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.71, 0.72, 0.72, 0.72, 0.72, 0.6, float("nan"), 0.6, 0.6, 0.6]
for text, mode, seq in [("plateau:2:0.5", "min", metrics), ("plateau:0:0.1", "min", metrics),
                        ("plateau:1:0.5", "max", [1 - m if not math.isnan(m) else m for m in metrics])]:
    _, patience, factor = text.split(":")
    opt = optimizer()
    sched = L.ReduceLROnPlateau(opt, mode=mode, factor=float(factor), patience=int(patience), threshold=1e-4, cooldown=0)
    after = []
    for m in seq:
        sched.step(m)
        after.append(opt.param_groups[0]["lr"])
    out["plateau"].append({"schedule": text, "mode": mode, "metrics": [None if math.isnan(m) else m for m in seq], "rates": after})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedule_reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
