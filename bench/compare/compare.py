#!/usr/bin/env python3
"""Side-by-side nabla vs PyTorch on this machine, measured in one run and interleaved
(nabla, PyTorch, nabla, PyTorch, ...), per model and per op family. Writes the results to
bench/results/<date>-<device>-compare.{json,md,png} with the machine, GPU, versions and date.

    /usr/bin/python3 bench/compare/compare.py [--device cpu|cuda] [--rounds 3] [--threads 2]
        [--models mlp,cnn,lstm,dcgan32] [--no-ops] [--bin build/bench/nabla-bench] [--out bench/results]

Needs PyTorch (Debian: python3-torch) and, for the chart, matplotlib (python3-matplotlib).
A ratio below 1 means nabla is faster. Op families are timed at the medium size of
`nabla-bench ops` (tests/op_db.cpp's benchmark inputs), with the same shapes in PyTorch.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# op family -> (nabla-bench op_db entry, PyTorch function of the same inputs)
# Shapes follow tests/op_db.cpp's add_bench_inputs at n = 2^20 (medium).
N = 1 << 20


def torch_ops(dev):
    u = lambda *shape: torch.rand(*shape, device=dev) * 1.9 + 0.1  # noqa: E731
    rows = N // 1000
    b = max(N // (64 * 56 * 56), 1)
    return {
        "unary (relu)": ("relu", (u(N),), lambda x: torch.relu(x)),
        "binary (add)": ("add", (u(N), u(N)), lambda x, y: x + y),
        "reduce (sum)": ("sum", (u(N // 1024, 1024),), lambda x: x.sum()),
        "linalg (matmul)": ("matmul", (u(1024, 1024), u(1024, 1024)), lambda x, y: x @ y),
        "softmax": ("softmax", (u(rows, 1000) * 3 - 3,), lambda x: torch.softmax(x, -1)),
        "conv (conv2d 3x3)": ("conv2d", (u(b, 64, 56, 56) - 1, u(64, 64, 3, 3) * 0.1, u(64) * 0.1),
                              lambda x, w, bias: F.conv2d(x, w, bias)),
        "pool (max_pool2d)": ("max_pool2d", (u(b, 64, 56, 56) - 1,), lambda x: F.max_pool2d(x, 2)),
        "norm (batch_norm)": ("batch_norm", (u(b, 64, 56, 56) - 1, u(64), u(64), u(b, 64, 56, 56) - 1),
                              lambda x, w, bias, g: F.batch_norm(x, torch.zeros(64, device=dev), torch.ones(64, device=dev),
                                                                 w, bias, training=True, momentum=0.1, eps=1e-5) * g),
    }


def time_torch(fn, args, dev, min_time=0.2):
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    with torch.no_grad():
        for _ in range(3):
            fn(*args)
        sync()
        n, t0 = 0, time.perf_counter()
        while True:
            fn(*args)
            n += 1
            if n % 5 == 0:
                sync()
                if time.perf_counter() - t0 >= min_time:
                    break
        sync()
        return (time.perf_counter() - t0) / n * 1e6  # microseconds


def nabla_ops_us(binary, device, names, threads):
    flt = "^(" + "|".join(names) + ")/medium(/|$)"  # Google Benchmark appends /real_time or /manual_time
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run([binary, "ops", "--device", device, "--sizes", "medium", "--benchmark_filter=" + flt,
                          "--benchmark_format=json", "--benchmark_min_time=0.2"], check=True, capture_output=True,
                         text=True, env=env).stdout
    res = {}
    for bm in json.loads(out)["benchmarks"]:
        name = bm["name"].split("/")[0]
        t = bm["real_time"] if bm.get("time_unit") == "us" else bm["real_time"] / 1e3
        res[name] = t
    return res


def run_json(cmd, env=None):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1])


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
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    try:
        info["nabla_commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=True,
                                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models", default="mlp,cnn,lstm,dcgan32")
    p.add_argument("--no-ops", action="store_true")
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bench", "nabla-bench"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = p.parse_args()
    dev = torch.device(a.device)
    if not os.access(a.bin, os.X_OK):
        sys.exit(f"compare.py: {a.bin} is missing: build first (bash cmake/dev.sh build)")
    if a.threads:
        torch.set_num_threads(a.threads)
    env = dict(os.environ)
    results = {"machine": machine(dev), "device": a.device, "threads": a.threads, "rounds": a.rounds, "models": {}, "ops": {}}
    models = [m for m in a.models.split(",") if m]
    for m in models:
        runs = []
        for r in range(a.rounds):
            n = run_json([a.bin, "models", "--model", m, "--device", a.device, "--threads", str(a.threads), "--json"], env)
            t = run_json([sys.executable, os.path.join(HERE, "model_step.py"), "--model", m, "--device", a.device,
                          "--threads", str(a.threads)], env)
            row = {"nabla_ms": n["ms_per_step"], "torch_ms": t["ms_per_step"], "batch": n["batch"],
                   "nabla_peak_mb": n.get("peak_memory_mb")}
            if dev.type == "cuda":
                g = run_json([sys.executable, os.path.join(HERE, "model_step.py"), "--model", m, "--device", a.device,
                              "--cuda-graph"], env)
                row["torch_graph_ms"] = g["ms_per_step"]
            runs.append(row)
            print(f"{m} round {r + 1}: nabla {row['nabla_ms']:.3f} ms, pytorch {row['torch_ms']:.3f} ms", flush=True)
        ratio = statistics.median(x["nabla_ms"] / x["torch_ms"] for x in runs)
        entry = {"runs": runs, "ratio_median": ratio, "batch": runs[0]["batch"]}
        if dev.type == "cuda":
            entry["ratio_vs_graph_median"] = statistics.median(x["nabla_ms"] / x["torch_graph_ms"] for x in runs)
        results["models"][m] = entry
    if not a.no_ops:
        table = torch_ops(dev)
        for r in range(a.rounds):
            nab = nabla_ops_us(a.bin, a.device, [v[0] for v in table.values()], a.threads)
            for fam, (entry, args, fn) in table.items():
                tus = time_torch(fn, args, dev)
                results["ops"].setdefault(fam, {"entry": entry, "runs": []})["runs"].append(
                    {"nabla_us": nab.get(entry), "torch_us": tus})
            print(f"op families round {r + 1} done", flush=True)
        for fam, e in results["ops"].items():
            ok = [x for x in e["runs"] if x["nabla_us"]]
            e["ratio_median"] = statistics.median(x["nabla_us"] / x["torch_us"] for x in ok) if ok else None

    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"{results['machine']['date']}-{a.device}-compare")
    with open(stem + ".json", "w") as f:
        json.dump(results, f, indent=1)
    md = [f"# nabla vs PyTorch, {a.device}, {results['machine']['date']}", "",
          "Machine: " + ", ".join(f"{k} {v}" for k, v in results["machine"].items()) + f"; threads {a.threads}.", "",
          f"Command: `/usr/bin/python3 bench/compare/compare.py --device {a.device} --rounds {a.rounds} "
          f"--threads {a.threads}`. Interleaved runs; ratio = nabla / PyTorch (median over rounds), < 1: nabla faster.",
          "", "| model | batch | nabla ms/step | PyTorch ms/step | ratio |" + (" ratio vs CUDA graph |" if dev.type == "cuda" else ""),
          "|---|---|---|---|---|" + ("---|" if dev.type == "cuda" else "")]
    for m, e in results["models"].items():
        nm = statistics.median(x["nabla_ms"] for x in e["runs"])
        tm = statistics.median(x["torch_ms"] for x in e["runs"])
        line = f"| {m} | {e['batch']} | {nm:.3f} | {tm:.3f} | {e['ratio_median']:.3f} |"
        if dev.type == "cuda":
            line += f" {e['ratio_vs_graph_median']:.3f} |"
        md.append(line)
    if results["ops"]:
        md += ["", "| op family (medium size) | nabla us | PyTorch us | ratio |", "|---|---|---|---|"]
        for fam, e in results["ops"].items():
            ok = [x for x in e["runs"] if x["nabla_us"]]
            if not ok:
                md.append(f"| {fam} | n/a | | |")
                continue
            md.append(f"| {fam} | {statistics.median(x['nabla_us'] for x in ok):.1f} | "
                      f"{statistics.median(x['torch_us'] for x in ok):.1f} | {e['ratio_median']:.3f} |")
    with open(stem + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        labels = [f"model {m}" for m in results["models"]] + [f for f, e in results["ops"].items() if e.get("ratio_median")]
        values = [e["ratio_median"] for e in results["models"].values()] + \
                 [e["ratio_median"] for e in results["ops"].values() if e.get("ratio_median")]
        fig, ax = plt.subplots(figsize=(8, 0.4 * len(labels) + 1.5))
        ax.barh(labels, values, color=["tab:green" if v <= 1 else "tab:red" for v in values])
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xlabel("time ratio nabla / PyTorch (< 1: nabla faster)")
        ax.set_title(f"nabla vs PyTorch {torch.__version__}, {a.device}, {results['machine']['date']}")
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(stem + ".png", dpi=100)
    except ImportError:
        print("compare.py: matplotlib is missing (apt-get install python3-matplotlib): no chart", file=sys.stderr)
    print(open(stem + ".md").read())


if __name__ == "__main__":
    main()
