"""Next-value prediction on noisy sine waves with an LSTM(1 -> 32) and a linear read-out: a
Python subclass of nn.Module, as the PyTorch program would be.

Each sample is 20 observed values y_t = sin(w t + phase) + noise (w uniform in [0.5, 1.5],
phase uniform in [0, 2 pi), noise normal with std 0.03); the target is the next value y_20.
The noise alone sets a floor of 0.0009 on the mean squared error. Data: 2000 training and 500
test windows drawn after manual_seed(--seed + 2000). Ends with {"loss": ..., "test_mse": ...}."""
import math

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from common import parse, print_json

STEPS = 20


def sine_windows(n):
    """Windows [n, 20, 1] and next values [n, 1]."""
    w = nabla.rand(n, 1) + 0.5
    phase = nabla.rand(n, 1) * (2 * math.pi)
    t = nabla.arange(STEPS + 1, dtype=nabla.float32).unsqueeze(0)
    y = nabla.sin(w * t + phase) + nabla.randn(n, STEPS + 1) * 0.03
    return y[:, :STEPS].unsqueeze(2).contiguous(), y[:, STEPS:].contiguous()


class SineLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[0])


def main():
    args = parse(__doc__.splitlines()[0], epochs=15, lr=1e-2, batch_size=32)
    nabla.manual_seed(args.seed + 2000)  # the data first, then the model from --seed
    n_train = args.limit or 2000
    x_train, y_train = (t.to(args.device) for t in sine_windows(n_train))
    x_test, y_test = (t.to(args.device) for t in sine_windows(500))

    nabla.manual_seed(args.seed)
    model = SineLSTM().to(args.device)
    opt = nabla.optim.Adam(model.parameters(), lr=args.lr)

    def test_mse():
        with nabla.no_grad():
            return F.mse_loss(model(x_test), y_test).item()

    loss = 0.0
    for epoch in range(args.epochs):
        perm = nabla.randperm(n_train, device=args.device)
        total, batches = 0.0, 0
        for s in range(0, n_train, args.batch_size):
            idx = perm[s:s + args.batch_size]
            opt.zero_grad()
            l = F.mse_loss(model(x_train[idx]), y_train[idx])
            l.backward()
            opt.step()
            total += l.item()
            batches += 1
        loss = total / batches
        if not args.quiet:
            print(f"epoch {epoch + 1}/{args.epochs}  loss {loss:.5f}  test mse {test_mse():.5f}")
    print_json({"loss": loss, "test_mse": test_mse()})


if __name__ == "__main__":
    main()
