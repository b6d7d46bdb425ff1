"""A 2-5-1 ReLU/sigmoid classifier on two separable Gaussian blobs, mini-batches from a
DataLoader, SGD with momentum, BCE loss. Ends with {"accuracy": ..., "loss": ...}."""
import nabla
import nabla.nn as nn
from common import parse, print_json


def main():
    args = parse(__doc__.splitlines()[0], epochs=10, lr=0.1, batch_size=32, limit=512)
    nabla.manual_seed(args.seed)
    n = args.limit // 2
    a = nabla.randn(n, 2) * 0.5 + nabla.tensor([2.0, 2.0])
    b = nabla.randn(n, 2) * 0.5 - nabla.tensor([2.0, 2.0])
    x = nabla.cat([a, b])
    y = nabla.cat([nabla.ones(n, 1), nabla.zeros(n, 1)])
    loader = nabla.data.DataLoader(nabla.data.TensorDataset(x, y), batch_size=args.batch_size, shuffle=True,
                                   seed=args.seed, device=args.device)
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1), nn.Sigmoid()).to(args.device)
    criterion = nn.BCELoss()
    opt = nabla.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss = 0.0
    for epoch in range(args.epochs):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            l = criterion(model(xb), yb)
            l.backward()
            opt.step()
            total += l.item() * xb.shape[0]
        loss = total / x.shape[0]
        if not args.quiet:
            print(f"epoch {epoch + 1}/{args.epochs}  loss {loss:.5f}")
    model.eval()
    with nabla.no_grad():
        acc = ((model(x.to(args.device)) > 0.5) == (y.to(args.device) > 0.5)).float().mean().item()
    print_json({"accuracy": acc, "loss": loss})


if __name__ == "__main__":
    main()
