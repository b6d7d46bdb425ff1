"""PyTorch side of bench/mlp_step.cpp: the same model, optimizer, loss and timing protocol.

Prints one JSON line with ms_per_step (median of 5 rounds)."""
import argparse
import json
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        rounds.append((time.perf_counter() - t0) * 1000.0 / a.steps)
    rounds.sort()
    ms = rounds[len(rounds) // 2]
    print(json.dumps({"model": "mlp", "framework": "pytorch " + torch.__version__, "device": "cpu",
                      "threads": torch.get_num_threads(), "batch": a.batch, "ms_per_step": round(ms, 4),
                      "samples_per_s": round(1000.0 * a.batch / ms, 1)}))


if __name__ == "__main__":
    main()
