"""XOR with a 2-4-1 multilayer perceptron (tanh, sigmoid), full batch, Adam, binary cross-entropy.

Written as the PyTorch program would be (replace `nabla` by `torch`). Ends with
{"accuracy": ..., "loss": ...}.
"""
import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from common import parse, print_json


def main():
    # Four tanh units can settle in a local minimum for some initialisations; seed 1 does not.
    args = parse(__doc__.splitlines()[0], epochs=1000, lr=0.1, seed=1, batch_size=4)
    nabla.manual_seed(args.seed)
    x = nabla.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], device=args.device)
    y = nabla.tensor([[0.0], [1.0], [1.0], [0.0]], device=args.device)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid()).to(args.device)
    opt = nabla.optim.Adam(model.parameters(), lr=args.lr)

    loss = 0.0
    for epoch in range(args.epochs):
        opt.zero_grad()
        l = F.binary_cross_entropy(model(x), y)
        l.backward()
        opt.step()
        loss = l.item()
        if not args.quiet and (epoch + 1) % max(1, args.epochs // 5) == 0:
            print(f"epoch {epoch + 1}/{args.epochs}  loss {loss:.5f}")
    with nabla.no_grad():
        pred = model(x)
        acc = ((pred > 0.5) == (y > 0.5)).float().mean().item()
    if not args.quiet:
        print("predictions", pred.reshape(-1))
    print_json({"accuracy": acc, "loss": loss})


if __name__ == "__main__":
    main()
