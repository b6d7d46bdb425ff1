#!/usr/bin/env python3
"""Side-by-side nabla vs libtorch C++ and PyTorch on this machine, measured in one run and
interleaved (nabla, libtorch, PyTorch, nabla, ...), per model and per op family. Writes the
results to bench/results/<date>-<device>-compare[-tag].{json,md,png} with the machine, GPU,
versions, date and command.

    /usr/bin/python3 bench/compare/compare.py [--device cpu|cuda] [--rounds 3] [--threads 2]
        [--models mlp,cnn,lstm,dcgan32] [--no-ops] [--no-grad] [--no-libtorch]
        [--interleave round|op] [--min-time 0.2] [--torch-blas openmp|system]
        [--bin build/bench/nabla-bench] [--out bench/results] [--tag TAG]

Models: the training step of `nabla-bench models` against libtorch-step (libtorch_step.cpp, the
same models in C++: no Python overhead in the reference) and model_step.py (PyTorch from Python).
libtorch-step is compiled on demand next to --bin with g++ and Debian's libtorch-dev (CPU only),
and again whenever libtorch_step.cpp is newer than it; without libtorch the column is n/a.
Op families: `nabla-bench ops --grad` at the medium size (1M elements; tests/op_db.cpp's
benchmark inputs) forward, and forward + backward (out.backward(ones) into fresh gradients of
the inputs that require grad), with the same shapes and the same in PyTorch's autograd.
--interleave round (default) runs every nabla op, then every PyTorch op, per round; op
alternates per op family (one nabla-bench process per family and round: slower, and less
exposed to a change of machine load within a round).
--torch-blas openmp (default, where Debian's libopenblas0-openmp is installed) runs PyTorch and
libtorch on OpenBLAS's OpenMP build, as nabla does (LD_LIBRARY_PATH, the script re-executes
itself): its GEMMs then run on torch's own OpenMP threads, at the thread count asked for.
system keeps the libblas.so.3 alternative, on Debian OpenBLAS's pthread build: a second pool
of threads (all cores, whatever --threads says) that fights the OpenMP one (measured here:
the mlp step twice as slow at 2 threads), which would flatter nabla.
Needs PyTorch (Debian: python3-torch) and, for the chart, matplotlib (python3-matplotlib).
A ratio below 1 means nabla is faster.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

OPENBLAS_OPENMP = f"/usr/lib/{platform.machine()}-linux-gnu/openblas-openmp"

# Shapes follow tests/op_db.cpp's add_bench_inputs at n = 2^20 (medium).
N = 1 << 20


def torch_ops(dev):
    """op family -> (nabla-bench op_db entry, inputs, PyTorch function of them, indices of the
    inputs that require grad: op_db's floating inputs less its no_grad_inputs)."""
    u = lambda *shape: torch.rand(*shape, device=dev) * 1.9 + 0.1  # noqa: E731
    rows = N // 1000
    b = max(N // (64 * 56 * 56), 1)
    bn_b = max(N // (64 * 56 * 56), 2)
    return {
        "unary (relu)": ("relu", (u(N),), lambda x: torch.relu(x), (0,)),
        "binary (add)": ("add", (u(N), u(N)), lambda x, y: x + y, (0, 1)),
        "reduce (sum)": ("sum", (u(N // 1024, 1024),), lambda x: x.sum(), (0,)),
        "linalg (matmul)": ("matmul", (u(1024, 1024), u(1024, 1024)), lambda x, y: x @ y, (0, 1)),
        "softmax": ("softmax", (u(rows, 1000) * 3 - 3,), lambda x: torch.softmax(x, -1), (0,)),
        "conv (conv2d 3x3)": ("conv2d", (u(b, 64, 56, 56) - 1, u(64, 64, 3, 3) * 0.1, u(64) * 0.1),
                              lambda x, w, bias: F.conv2d(x, w, bias), (0, 1, 2)),
        "pool (max_pool2d)": ("max_pool2d", (u(b, 64, 56, 56) - 1,), lambda x: F.max_pool2d(x, 2), (0,)),
        "norm (batch_norm)": ("batch_norm", (u(bn_b, 64, 56, 56) - 1, u(64), u(64), u(bn_b, 64, 56, 56) - 1),
                              lambda x, w, bias, g: F.batch_norm(x, torch.zeros(64, device=dev), torch.ones(64, device=dev),
                                                                 w, bias, training=True, momentum=0.1, eps=1e-5) * g,
                              (0, 1, 2)),
    }


def time_loop(call, sync, min_time):
    for _ in range(3):
        call()
    sync()
    n, t0 = 0, time.perf_counter()
    while True:
        call()
        n += 1
        if n % 5 == 0:
            sync()
            if time.perf_counter() - t0 >= min_time:
                break
    sync()
    return (time.perf_counter() - t0) / n * 1e6  # microseconds


def time_torch(fn, args, dev, min_time, grad_inputs=None):
    """Forward under no_grad, or (grad_inputs given) forward + backward of ones into fresh
    gradients, as nabla-bench ops --grad does."""
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if grad_inputs is None:
        with torch.no_grad():
            return time_loop(lambda: fn(*args), sync, min_time)
    args = [a.detach().requires_grad_(i in grad_inputs) for i, a in enumerate(args)]
    leaves = [a for a in args if a.requires_grad]
    gout = torch.ones_like(fn(*args))

    def step():
        for a in leaves:
            a.grad = None
        fn(*args).backward(gout)
    return time_loop(step, sync, min_time)


def nabla_ops_us(binary, device, names, threads, grad, min_time):
    """{(entry, grad?): microseconds or None}, and the failures' reasons. nabla-bench exits 1
    when a benchmark failed but still writes the others, so its JSON is read whatever its exit."""
    flt = "^(" + "|".join(names) + ")/medium(/|$)"  # Google Benchmark appends /real_time or /manual_time
    cmd = [binary, "ops", "--device", device, "--sizes", "medium", "--benchmark_filter=" + flt,
           "--benchmark_format=json", f"--benchmark_min_time={min_time}"] + (["--grad"] if grad else [])
    p = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(threads))
    res, errors = {}, []
    try:
        benchmarks = json.loads(p.stdout)["benchmarks"]
    except (ValueError, KeyError):
        return res, [f"nabla-bench ops exited {p.returncode} without JSON: {p.stderr.strip()[-500:]}"]
    for bm in benchmarks:
        parts = bm["name"].split("/")
        key = (parts[0], "grad" in parts[2:])
        if bm.get("error_occurred"):
            res[key] = None
            errors.append(bm.get("error_message", bm["name"]))
            continue
        unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[bm.get("time_unit", "ns")]
        res[key] = bm["real_time"] * unit
    if p.returncode != 0 and not errors:
        errors.append(f"nabla-bench ops exited {p.returncode}: {p.stderr.strip()[-500:]}")
    return res, errors


def thread_env(threads):
    env = dict(os.environ)
    if threads:
        env["NABLA_NUM_THREADS"] = str(threads)  # nabla's thread count (core/src/util/parallel.cpp)
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def run_json(cmd, env=None):
    """The last stdout line of cmd as JSON, or {"error": why} when cmd failed."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    try:
        if p.returncode == 0:
            return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        pass
    return {"error": f"{shlex.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-500:]}"}


def libtorch_step_binary(bin_dir):
    """Path of libtorch-step next to nabla-bench, compiled (once, or again when its source is
    newer) with g++ against Debian's libtorch-dev; None (and why on stderr) when it cannot be."""
    src = os.path.join(HERE, "libtorch_step.cpp")
    exe = os.path.join(bin_dir, "libtorch-step")
    if os.access(exe, os.X_OK) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe
    inc = "/usr/include/torch/csrc/api/include"
    cxx = os.environ.get("CXX") or shutil.which("g++") or "c++"
    if not os.path.isdir(inc):
        print(f"compare.py: {inc} is missing (apt-get install libtorch-dev): no libtorch column", file=sys.stderr)
        return None
    cmd = [cxx, "-std=c++17", "-O2", "-D_GLIBCXX_USE_CXX11_ABI=1", "-I" + inc, src, "-o", exe + ".tmp",
           "-ltorch", "-ltorch_cpu", "-lc10"]
    print(f"compare.py: compiling {exe} (libtorch's headers: about a minute)", file=sys.stderr, flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"compare.py: {shlex.join(cmd)} failed: no libtorch column\n{p.stderr[-2000:]}", file=sys.stderr)
        return None
    os.replace(exe + ".tmp", exe)
    return exe


def machine(dev):
    info = {"date": datetime.date.today().isoformat(), "host": platform.node(), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open("/proc/self/maps") as f:  # the OpenBLAS build this process's torch loaded
        info["torch_blas"] = next((line.split()[-1] for line in f if "libopenblas" in line), "not OpenBLAS")
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    try:
        info["nabla_commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=True,
                                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def median_or_none(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def run_models(a, dev, results):
    lt = None
    if with_libtorch(a, dev):
        lt = libtorch_step_binary(os.path.dirname(os.path.abspath(a.bin)))
    env = thread_env(a.threads)
    for m in [m for m in a.models.split(",") if m]:
        runs, errors = [], []
        for r in range(a.rounds):
            n = run_json([a.bin, "models", "--model", m, "--device", a.device, "--threads", str(a.threads), "--json"], env)
            c = run_json([lt, "--model", m, "--threads", str(a.threads)], env) if lt else {}
            t = run_json([sys.executable, os.path.join(HERE, "model_step.py"), "--model", m, "--device", a.device,
                          "--threads", str(a.threads)], env)
            row = {"nabla_ms": n.get("ms_per_step"), "libtorch_ms": c.get("ms_per_step"), "torch_ms": t.get("ms_per_step"),
                   "batch": n.get("batch", t.get("batch")), "nabla_peak_mb": n.get("peak_memory_mb")}
            if dev.type == "cuda":
                g = run_json([sys.executable, os.path.join(HERE, "model_step.py"), "--model", m, "--device", a.device,
                              "--cuda-graph"], env)
                row["torch_graph_ms"] = g.get("ms_per_step")
                errors += [g["error"]] if "error" in g else []
            errors += [x["error"] for x in (n, c, t) if "error" in x]
            if "framework" in c:
                results["machine"]["libtorch"] = c["framework"].split(" ", 1)[-1]
            runs.append(row)
            print(f"{m} round {r + 1}: nabla {fmt(row['nabla_ms'], '.3f')} ms, libtorch {fmt(row['libtorch_ms'], '.3f')} ms, "
                  f"pytorch {fmt(row['torch_ms'], '.3f')} ms", flush=True)
        entry = {"runs": runs, "batch": runs[0]["batch"],
                 "ratio_median": median_or_none(ratio(x["nabla_ms"], x["torch_ms"]) for x in runs),
                 "ratio_libtorch_median": median_or_none(ratio(x["nabla_ms"], x["libtorch_ms"]) for x in runs)}
        if dev.type == "cuda":
            entry["ratio_vs_graph_median"] = median_or_none(ratio(x["nabla_ms"], x["torch_graph_ms"]) for x in runs)
        if errors:
            entry["errors"] = errors
            print(f"{m}: " + "\n  ".join(errors), file=sys.stderr)
        results["models"][m] = entry


def run_ops(a, dev, results):
    table = torch_ops(dev)
    grad = not a.no_grad
    for fam, (entry, *_rest) in table.items():
        results["ops"][fam] = {"entry": entry, "runs": [], "errors": []}

    def torch_side(fam, nab):
        entry, args, fn, grad_inputs = table[fam]
        run = {"nabla_us": nab.get((entry, False)), "torch_us": time_torch(fn, args, dev, a.min_time)}
        if grad:
            run["nabla_grad_us"] = nab.get((entry, True))
            run["torch_grad_us"] = time_torch(fn, args, dev, a.min_time, grad_inputs)
        results["ops"][fam]["runs"].append(run)

    for r in range(a.rounds):
        if a.interleave == "op":
            for fam in table:
                nab, errors = nabla_ops_us(a.bin, a.device, [table[fam][0]], a.threads, grad, a.min_time)
                results["ops"][fam]["errors"] += errors
                torch_side(fam, nab)
        else:
            nab, errors = nabla_ops_us(a.bin, a.device, [v[0] for v in table.values()], a.threads, grad, a.min_time)
            entries = [v[0] for v in table.values()]
            for fam in table:
                # a failure names its benchmark ("relu/medium/grad: ..."); one naming none, every family
                results["ops"][fam]["errors"] += [e for e in errors if e.split("/")[0] == table[fam][0] or
                                                  e.split("/")[0] not in entries]
                torch_side(fam, nab)
        print(f"op families round {r + 1} done", flush=True)
    for fam, e in results["ops"].items():
        e["ratio_median"] = median_or_none(ratio(x["nabla_us"], x["torch_us"]) for x in e["runs"])
        if grad:
            e["grad_ratio_median"] = median_or_none(ratio(x.get("nabla_grad_us"), x.get("torch_grad_us")) for x in e["runs"])
        if e["errors"]:
            print(f"{fam}: " + "\n  ".join(e["errors"]), file=sys.stderr)
        else:
            del e["errors"]


def with_libtorch(a, dev):
    """Whether the models are compared with libtorch-step (Debian's libtorch is CPU-only)."""
    return dev.type == "cpu" and not a.no_libtorch


def write_md(a, dev, results, stem, command):
    cuda = dev.type == "cuda"
    lt = with_libtorch(a, dev)  # without it, the columns are those of before (bench/gpu/run.sh reads them)
    md = [f"# nabla vs libtorch / PyTorch, {a.device}, {results['machine']['date']}", "",
          "Machine: " + ", ".join(f"{k} {v}" for k, v in results["machine"].items()) + f"; threads {a.threads}.", "",
          f"Command: `{command}`. Interleaved runs ({a.interleave}); ratio = nabla / reference (median over "
          f"{a.rounds} rounds), < 1: nabla faster.", ""]
    if results["models"]:
        md += ["Training step (forward, backward, optimizer step) of bench/models.h; "
               + ("libtorch: bench/compare/libtorch_step.cpp (C++), " if lt else "")
               + "PyTorch: bench/compare/model_step.py (Python).", "",
               "| model | batch | nabla ms/step |" + (" libtorch ms/step |" if lt else "") + " PyTorch ms/step |"
               + (" vs libtorch |" if lt else "") + " vs PyTorch |" + (" vs CUDA graph |" if cuda else ""),
               "|---|---|---|---|---|" + ("---|---|" if lt else "") + ("---|" if cuda else "")]
        for m, e in results["models"].items():
            med = {k: median_or_none(x[k] for x in e["runs"]) for k in ("nabla_ms", "libtorch_ms", "torch_ms")}
            line = (f"| {m} | {e['batch']} | {fmt(med['nabla_ms'], '.3f')} |"
                    + (f" {fmt(med['libtorch_ms'], '.3f')} |" if lt else "") + f" {fmt(med['torch_ms'], '.3f')} |"
                    + (f" {fmt(e['ratio_libtorch_median'], '.3f')} |" if lt else "") + f" {fmt(e['ratio_median'], '.3f')} |")
            if cuda:
                line += f" {fmt(e['ratio_vs_graph_median'], '.3f')} |"
            md.append(line)
    if results["ops"]:
        grad = not a.no_grad
        md += ["", "Op families at 1M elements (nabla-bench ops --sizes medium" + (" --grad" if grad else "")
               + ")" + ("; fwd+bwd: forward, then backward of ones into fresh input gradients." if grad else "."), "",
               "| op family | nabla fwd us | PyTorch fwd us | fwd ratio |"
               + (" nabla fwd+bwd us | PyTorch fwd+bwd us | fwd+bwd ratio |" if grad else ""),
               "|---|---|---|---|" + ("---|---|---|" if grad else "")]
        for fam, e in results["ops"].items():
            med = {k: median_or_none(x.get(k) for x in e["runs"])
                   for k in ("nabla_us", "torch_us", "nabla_grad_us", "torch_grad_us")}
            line = f"| {fam} | {fmt(med['nabla_us'], '.1f')} | {fmt(med['torch_us'], '.1f')} | {fmt(e['ratio_median'], '.3f')} |"
            if grad:
                line += (f" {fmt(med['nabla_grad_us'], '.1f')} | {fmt(med['torch_grad_us'], '.1f')} | "
                         f"{fmt(e['grad_ratio_median'], '.3f')} |")
            md.append(line)
        failed = [f"- {fam}: {err}" for fam, e in results["ops"].items() for err in e.get("errors", [])]
        if failed:
            md += ["", "Failed:"] + failed
    with open(stem + ".md", "w") as f:
        f.write("\n".join(md) + "\n")


def write_chart(a, dev, results, stem):
    """Two panels: models (nabla / libtorch and nabla / PyTorch) and op families (forward and
    forward + backward), one bar per ratio; n/a ratios are left out."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("compare.py: matplotlib is missing (apt-get install python3-matplotlib): no chart", file=sys.stderr)
        return
    panels = []
    if results["models"]:
        series = [("vs libtorch C++", "ratio_libtorch_median", "tab:blue")] if with_libtorch(a, dev) else []
        series.append(("vs PyTorch", "ratio_median", "tab:orange"))
        if dev.type == "cuda":
            series.append(("vs PyTorch CUDA graph", "ratio_vs_graph_median", "tab:green"))
        panels.append(("training step", list(results["models"]), series, results["models"]))
    if results["ops"]:
        series = [("forward", "ratio_median", "tab:blue")]
        if not a.no_grad:
            series.append(("forward + backward", "grad_ratio_median", "tab:purple"))
        panels.append(("op family, 1M elements (vs PyTorch)", list(results["ops"]), series, results["ops"]))
    if not panels:
        return
    heights = [len(p[1]) * len(p[2]) for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 0.28 * sum(heights) + 1.6 * len(panels)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (title, names, series, data) in zip(axes[:, 0], panels):
        width = 0.8 / len(series)
        for k, (label, key, color) in enumerate(series):
            ys = [i + (k - (len(series) - 1) / 2) * width for i in range(len(names))]
            vals = [data[n].get(key) for n in names]
            ax.barh([y for y, v in zip(ys, vals) if v is not None], [v for v in vals if v is not None], height=width,
                    color=color, label=label)
            for y, v in zip(ys, vals):
                if v is not None:
                    ax.text(v, y, f" {v:.2f}", va="center", fontsize=7)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xlim(0, 1.12 * max([1.0] + [d.get(k) or 0 for d in data.values() for _, k, _ in series]))
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="best")
    axes[-1, 0].set_xlabel("time ratio nabla / reference (< 1: nabla faster)")
    fig.suptitle(f"nabla vs libtorch / PyTorch {torch.__version__}, {a.device}, {a.threads} thread(s), "
                 f"{results['machine']['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(stem + ".png", dpi=100)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models", default="mlp,cnn,lstm,dcgan32")
    p.add_argument("--no-ops", action="store_true")
    p.add_argument("--no-grad", action="store_true", help="op families forward only")
    p.add_argument("--no-libtorch", action="store_true", help="models against PyTorch (Python) only")
    p.add_argument("--interleave", choices=["round", "op"], default="round")
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per op benchmark and side")
    p.add_argument("--torch-blas", choices=["openmp", "system"], default="openmp",
                   help="OpenBLAS build under PyTorch and libtorch (see above)")
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bench", "nabla-bench"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--tag", default="", help="appended to the results' file names")
    a = p.parse_args()
    if a.torch_blas == "openmp" and os.path.isdir(OPENBLAS_OPENMP):
        paths = os.environ.get("LD_LIBRARY_PATH", "").split(":")
        if OPENBLAS_OPENMP not in paths:  # the loader reads it at start only: run again with it
            env = dict(os.environ, LD_LIBRARY_PATH=":".join([OPENBLAS_OPENMP] + [x for x in paths if x]))
            os.execve(sys.executable, [sys.executable] + sys.argv, env)
    dev = torch.device(a.device)
    if not os.access(a.bin, os.X_OK):
        sys.exit(f"compare.py: {a.bin} is missing: build first (bash cmake/dev.sh build)")
    if a.threads:
        torch.set_num_threads(a.threads)
    command = shlex.join(["/usr/bin/python3", "bench/compare/compare.py"] + sys.argv[1:])
    results = {"machine": machine(dev), "device": a.device, "threads": a.threads, "rounds": a.rounds,
               "interleave": a.interleave, "command": command, "models": {}, "ops": {}}
    if a.models:
        run_models(a, dev, results)
    if not a.no_ops:
        run_ops(a, dev, results)

    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"{results['machine']['date']}-{a.device}-compare" + (f"-{a.tag}" if a.tag else ""))
    with open(stem + ".json", "w") as f:
        json.dump(results, f, indent=1)
    write_md(a, dev, results, stem, command)
    write_chart(a, dev, results, stem)
    print(open(stem + ".md").read())


if __name__ == "__main__":
    main()
