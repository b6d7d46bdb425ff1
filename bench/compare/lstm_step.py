"""PyTorch side of bench/lstm_step.cpp: the same model, optimizer, loss and timing protocol.

Prints one JSON line with ms_per_step (median of 5 rounds)."""
import argparse
import json
import time

import torch


class SeedLstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 50, batch_first=True)
        self.dense = torch.nn.Linear(50, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.dense(h[0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    model = SeedLstm().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 10, 3, device=dev)
    y = torch.randint(0, 3, (a.batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(a.warmup):
        step()
    sync()
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        sync()
        rounds.append((time.perf_counter() - t0) * 1000.0 / a.steps)
    rounds.sort()
    ms = rounds[len(rounds) // 2]
    print(json.dumps({"model": "lstm", "framework": "pytorch " + torch.__version__, "device": a.device,
                      "threads": torch.get_num_threads(), "batch": a.batch, "ms_per_step": round(ms, 4),
                      "samples_per_s": round(1000.0 * a.batch / ms, 1)}))


if __name__ == "__main__":
    main()
