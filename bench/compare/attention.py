#!/usr/bin/env python3
"""Attention against PyTorch: `nabla-bench attention` (the fused scaled_dot_product_attention)
and, at the same shapes, PyTorch's explicit softmax(q kᵀ * scale + mask) v, its
nn.MultiheadAttention (self-attention of [batch, seq, heads * head_dim] with need_weights=False:
this includes the four projections, so it is timed, not rated) and, where the PyTorch has one
(2.0 and later: the GPU machine's, not Debian's 1.13), F.scaled_dot_product_attention.

    /usr/bin/python3 bench/compare/attention.py [--device cpu|cuda] [--threads N] [--grad]
        [--seq 128,512,2048] [--head-dim 64,128] [--batch 2] [--heads 8] [--min-time 0.5]
        [--bin build/bench/nabla-bench] [--out bench/results] [--tag TAG]

Writes results/<date>-<device>-attention[-grad][-tag].{json,md}: per shape the milliseconds of
each implementation, nabla's GFLOP/s and fraction of the GEMM peak (measured in nabla's run), and
the ratios (nabla's time / PyTorch's: below 1, nabla is faster, as in compare.py). PyTorch runs on OpenBLAS's
OpenMP build as in compare.py (LD_LIBRARY_PATH; the script re-executes itself)."""
import argparse
import datetime
import json
import math
import os
import shlex
import subprocess
import sys

from compare import OPENBLAS_OPENMP, ROOT, machine, thread_env, time_loop

import torch


def torch_impls(dev, batch, heads, seq, e, causal):
    """{name: (function of (q, k, v) or of x, its inputs)} at one shape."""
    torch.manual_seed(0)
    shape = (batch, heads, seq, e)
    q, k, v = (torch.randn(shape, device=dev) for _ in range(3))
    scale = 1.0 / math.sqrt(e)
    mask = torch.full((seq, seq), float("-inf"), device=dev).triu(1) if causal else None

    def explicit(q, k, v):
        s = q @ k.transpose(-2, -1) * scale
        if mask is not None:
            s = s + mask
        return torch.softmax(s, -1) @ v

    impls = {"torch_explicit": (explicit, [q, k, v])}
    mha = torch.nn.MultiheadAttention(heads * e, heads, batch_first=True).to(dev)
    x = torch.randn(batch, seq, heads * e, device=dev)
    impls["torch_mha"] = (lambda x: mha(x, x, x, attn_mask=mask, need_weights=False)[0], [x])
    sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    if sdpa is not None:
        impls["torch_sdpa"] = (lambda q, k, v: sdpa(q, k, v, is_causal=causal), [q, k, v])
    return impls


def time_torch(fn, args, dev, grad, min_time):
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if not grad:
        with torch.no_grad():
            return time_loop(lambda: fn(*args), sync, min_time) / 1e3
    args = [a.detach().requires_grad_(True) for a in args]
    gout = torch.ones_like(fn(*args))

    def step():
        for a in args:
            a.grad = None
        fn(*args).backward(gout)
    return time_loop(step, sync, min_time) / 1e3  # milliseconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--grad", action="store_true", help="forward + backward")
    p.add_argument("--seq", default="128,512,2048")
    p.add_argument("--head-dim", default="64,128")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per PyTorch measurement")
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bench", "nabla-bench"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--tag", default="")
    p.add_argument("--report", metavar="JSON", help="only rebuild the .md of a recorded run from its .json")
    a = p.parse_args()
    if a.report:
        with open(a.report) as f:
            run = json.load(f)
        write_report(run["machine"], run["rows"], a.report[:-len(".json")] + ".md")
        return
    if os.path.isdir(OPENBLAS_OPENMP) and OPENBLAS_OPENMP not in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
        env = dict(os.environ, LD_LIBRARY_PATH=":".join([OPENBLAS_OPENMP] + [x for x in os.environ.get(
            "LD_LIBRARY_PATH", "").split(":") if x]))
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    if not os.access(a.bin, os.X_OK):
        sys.exit(f"attention.py: {a.bin} is missing: build first (bash cmake/dev.sh build)")
    dev = torch.device(a.device)
    if a.threads:
        torch.set_num_threads(a.threads)

    cmd = [a.bin, "attention", "--device", a.device, "--seq", a.seq, "--head-dim", a.head_dim, "--batch",
           str(a.batch), "--heads", str(a.heads), "--json"] + (["--grad"] if a.grad else [])
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(a.threads))
    if run.returncode != 0:
        sys.exit(f"attention.py: {shlex.join(cmd)} exited {run.returncode}: {run.stderr.strip()[-800:]}")
    rows = []
    for line in run.stdout.splitlines():
        n = json.loads(line)
        row = {k: n[k] for k in ("seq", "head_dim", "causal", "ms", "gflops", "gemm_peak_fraction")}
        row["nabla_ms"] = row.pop("ms")
        impls = torch_impls(dev, a.batch, a.heads, n["seq"], n["head_dim"], bool(n["causal"]))
        for name, (fn, args) in impls.items():
            row[name + "_ms"] = round(time_torch(fn, args, dev, a.grad, a.min_time), 4)
        rows.append(row)
        print(json.dumps(row), flush=True)

    info = machine(dev)
    info["threads"] = a.threads or torch.get_num_threads()
    info["command"] = shlex.join(["/usr/bin/python3", "bench/compare/attention.py"] + sys.argv[1:])
    info["device"], info["grad"], info["batch"], info["heads"] = a.device, a.grad, a.batch, a.heads
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"{datetime.date.today().isoformat()}-{dev.type}-attention"
                               f"{'-grad' if a.grad else ''}{'-' + a.tag if a.tag else ''}")
    with open(stem + ".json", "w") as f:
        json.dump({"machine": info, "rows": rows}, f, indent=1)
    write_report(info, rows, stem + ".md")
    print(f"attention.py: wrote {stem}.md and .json")


def write_report(info, rows, path):
    """The markdown table of one run (also rebuilt from its .json: attention.py --report FILE)."""
    names = [k[:-3] for k in rows[0] if k.startswith("torch_")] if rows else []
    md = [f"# Attention, nabla against PyTorch ({info['date']}, {info['device']}, "
          f"{'forward + backward' if info['grad'] else 'forward'})", "",
          f"Machine: {info.get('cpu')} ({info.get('cores')} cores{', ' + info['gpu'] if 'gpu' in info else ''}), "
          f"{info['threads']} threads; PyTorch {info['torch']} on {info['torch_blas']}; nabla {info.get('nabla_commit', '?')}.",
          f"Command: `{info['command']}`. q, k, v [{info['batch']}, {info['heads']}, seq, head_dim] float32.", "",
          "nabla: the fused op (online softmax over key blocks). torch_explicit: softmax(q kᵀ scale + mask) v. "
          "torch_mha: nn.MultiheadAttention self-attention incl. its projections (need_weights=False). "
          "Ratio = nabla's time / PyTorch's (below 1: nabla faster), as in compare.py. GFLOP/s and the "
          "GEMM-peak fraction are nabla's (FlashAttention-2's FLOP count; causal counts half).", "",
          "| seq | head_dim | causal | nabla ms | GFLOP/s | of GEMM peak | " +
          " | ".join(f"{n} ms | nabla / {n}" for n in names) + " |",
          "|" + "---|" * (6 + 2 * len(names))]
    for r in rows:
        md.append(f"| {r['seq']} | {r['head_dim']} | {'yes' if r['causal'] else 'no'} | {r['nabla_ms']:.3f} | "
                  f"{r['gflops']:.1f} | {100 * r['gemm_peak_fraction']:.1f}% | " +
                  " | ".join(f"{r[n + '_ms']:.3f} | {r['nabla_ms'] / r[n + '_ms']:.2f}" for n in names) + " |")
    with open(path, "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
