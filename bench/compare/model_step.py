"""PyTorch side of `nabla-bench models` (bench/models.h): the same model definitions,
optimizers, losses and timing protocol (median of 5 rounds of --steps steps after --warmup).

    python3 bench/compare/model_step.py --model mlp|cnn|dcgan32|lstm|lstm512 [--batch N] [--steps N]
        [--warmup N] [--threads N] [--device cpu|cuda] [--cuda-graph]

--cuda-graph (GPU only) captures one whole training step in a CUDA graph and replays it.
Prints one JSON line with ms_per_step."""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp_or_cnn(cnn, batch, dev, capturable=False):
    if cnn:
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=capturable)
    x = torch.rand(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def dcgan32(batch, dev, capturable=False):
    g = nn.Sequential(nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
                      nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh()).to(dev)
    d = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                      nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                      nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
                      nn.Conv2d(256, 1, 4, 1, 0, bias=False), nn.Sigmoid()).to(dev)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), capturable=capturable)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), capturable=capturable)
    real = torch.rand(batch, 3, 32, 32, device=dev) * 2 - 1
    z = torch.randn(batch, 100, 1, 1, device=dev)
    ones, zeros = torch.ones(batch, device=dev), torch.zeros(batch, device=dev)

    def step():
        fake = g(z)
        opt_d.zero_grad(set_to_none=True)
        (F.binary_cross_entropy(d(real).view(-1), ones) + F.binary_cross_entropy(d(fake.detach()).view(-1), zeros)).backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        F.binary_cross_entropy(d(fake).view(-1), ones).backward()
        opt_g.step()
    return step


class SeedLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 50, batch_first=True)
        self.dense = nn.Linear(50, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.dense(h[0])


def seed_lstm(batch, dev, capturable=False):
    model = SeedLstm().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=capturable)
    x = torch.randn(batch, 10, 3, device=dev)
    y = torch.randint(0, 3, (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def lstm512(batch, dev):
    """torch.nn.LSTM(512, 512, 2 layers) over 100 steps: forward + backward of sum(output)."""
    lstm = nn.LSTM(512, 512, num_layers=2).to(dev)
    x = torch.rand(100, batch, 512, device=dev) * 2 - 1

    def step():
        lstm.zero_grad(set_to_none=True)
        lstm(x)[0].sum().backward()
    return step


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="mlp", choices=["mlp", "cnn", "dcgan32", "lstm", "lstm512"])
    p.add_argument("--batch", type=int, default=0)
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--cuda-graph", action="store_true")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    if a.model in ("mlp", "cnn"):
        batch = a.batch or 64
        steps = a.steps or (50 if dev.type == "cuda" else 200 if a.model == "mlp" else 20)
        step = mlp_or_cnn(a.model == "cnn", batch, dev, a.cuda_graph)
    elif a.model == "lstm512":
        batch = a.batch or 64
        steps = a.steps or (20 if dev.type == "cuda" else 2)
        step = lstm512(batch, dev)
    elif a.model == "lstm":
        batch = a.batch or 10
        steps = a.steps or (50 if dev.type == "cuda" else 200)
        step = seed_lstm(batch, dev, a.cuda_graph)
    else:
        batch = a.batch or (128 if dev.type == "cuda" else 16)
        steps = a.steps or (50 if dev.type == "cuda" else 5)
        step = dcgan32(batch, dev, a.cuda_graph)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if a.cuda_graph:
        if dev.type != "cuda":
            raise SystemExit("--cuda-graph needs --device cuda")
        # warm up on a side stream (as torch.cuda.graphs requires), capture, then replay
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(max(a.warmup, 3)):
                step()
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
        step = graph.replay
    for _ in range(a.warmup):
        step()
    sync()
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        rounds.append((time.perf_counter() - t0) * 1000.0 / steps)
    rounds.sort()
    ms = rounds[len(rounds) // 2]
    framework = "pytorch " + torch.__version__ + (" cuda-graph" if a.cuda_graph else "")
    print(json.dumps({"model": a.model, "framework": framework, "device": a.device,
                      "threads": torch.get_num_threads(), "batch": batch, "ms_per_step": round(ms, 4),
                      "samples_per_s": round(1000.0 * batch / ms, 1)}))


if __name__ == "__main__":
    main()
