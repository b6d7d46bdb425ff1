"""Linear regression by gradient descent: fits y = w x + b to y = 3x + 2 + noise.

The PyTorch program this mirrors line by line:

    x = torch.rand(n, 1) * 2 - 1; y = x * 3 + 2 + torch.randn(n, 1) * 0.1
    w = torch.zeros(1, requires_grad=True); b = torch.zeros(1, requires_grad=True)
    loss = ((x * w + b - y) ** 2).mean(); loss.backward()
    with torch.no_grad(): w -= w.grad * lr; b -= b.grad * lr; w.grad.zero_(); b.grad.zero_()

Ends with one JSON line {"b": ..., "loss": ..., "w": ...}.
"""
import nabla
from common import parse, print_json


def main():
    args = parse(__doc__.splitlines()[0], epochs=300, lr=0.1, batch_size=256, limit=256)
    nabla.manual_seed(args.seed)
    n = args.limit
    x = (nabla.rand(n, 1) * 2.0 - 1.0).to(args.device)
    y = x * 3.0 + 2.0 + nabla.randn(n, 1).to(args.device) * 0.1
    w = nabla.zeros(1, device=args.device, requires_grad=True)
    b = nabla.zeros(1, device=args.device, requires_grad=True)

    loss = 0.0
    for epoch in range(args.epochs):
        for s in range(0, n, args.batch_size):
            pred = x[s:s + args.batch_size] * w + b
            err = pred - y[s:s + args.batch_size]
            l = (err * err).mean()
            l.backward()
            with nabla.no_grad():
                w -= w.grad * args.lr
                b -= b.grad * args.lr
                w.grad.zero_()
                b.grad.zero_()
            loss = l.item()
        if not args.quiet and (epoch + 1) % max(1, args.epochs // 10) == 0:
            print(f"epoch {epoch + 1}/{args.epochs}  loss {loss:.6f}")
    if not args.quiet:
        print(f"learned w = {w.item():.4f}, b = {b.item():.4f} (true: w = 3, b = 2)")
    print_json({"w": w.item(), "b": b.item(), "loss": loss})


if __name__ == "__main__":
    main()
