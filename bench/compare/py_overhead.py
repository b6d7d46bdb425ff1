"""Per-op Python overhead on small CPU tensors, nabla against PyTorch: the headline is `a + b`
on two 16-element float32 tensors; a few other calls (a scalar multiply, a reduction, a view,
a 4x4 matmul, a NumPy round trip) are measured the same way for context.

Both libraries are timed in one process, interleaved (nabla, torch, nabla, torch, ...: ROUNDS
rounds of N calls each), so machine noise hits both alike; the median time per call of each
is reported, with their ratio. Threads are set to 1 on both sides (such small ops never
benefit from more).

    PYTHONPATH=build/python build/pyenv/bin/python bench/compare/py_overhead.py [--json out.json]
"""
import argparse
import json
import platform
import statistics
import timeit

import nabla
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--number", type=int, default=10000)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    nabla.set_num_threads(1)
    torch.set_num_threads(1)
    na, nb_ = nabla.rand(16), nabla.rand(16)
    ta, tb = torch.rand(16), torch.rand(16)
    nm, tm = nabla.rand(4, 4), torch.rand(4, 4)
    ops = {  # name: (nabla call, torch call)
        "a + b": (lambda: na + nb_, lambda: ta + tb),
        "a * 2.0": (lambda: na * 2.0, lambda: ta * 2.0),
        "a.sum()": (lambda: na.sum(), lambda: ta.sum()),
        "a[2:10]": (lambda: na[2:10], lambda: ta[2:10]),
        "m @ m (4x4)": (lambda: nm @ nm, lambda: tm @ tm),
        "from_numpy(a.numpy())": (lambda: nabla.from_numpy(na.numpy()), lambda: torch.from_numpy(ta.numpy())),
    }
    cases = {(op, lib): f for op, fs in ops.items() for lib, f in zip(("nabla", "torch"), fs)}
    for f in cases.values():  # warm up
        for _ in range(1000):
            f()
    times = {k: [] for k in cases}
    for _ in range(args.rounds):
        for k, f in cases.items():
            times[k].append(timeit.timeit(f, number=args.number) / args.number * 1e9)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "op": "a + b, float32[16], CPU",
        "nabla_ns": round(med[("a + b", "nabla")], 1),
        "torch_ns": round(med[("a + b", "torch")], 1),
        "ratio_nabla_over_torch": round(med[("a + b", "nabla")] / med[("a + b", "torch")], 3),
        "all_ns": {op: {"nabla": round(med[(op, "nabla")], 1), "torch": round(med[(op, "torch")], 1),
                        "ratio": round(med[(op, "nabla")] / med[(op, "torch")], 3)} for op in ops},
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "rounds": args.rounds,
        "calls_per_round": args.number,
    }
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
