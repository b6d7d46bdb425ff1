"""The classic CNN on Fashion-MNIST (Debian's dataset-fashion-mnist): Conv 32 3x3 ReLU, MaxPool 2,
Conv 64 3x3 ReLU, MaxPool 2, Flatten, Dense 128 ReLU, Dense 10; Adam, cross-entropy, batch 64, in
PyTorch's classic training loop. Ends with {"test_accuracy": ..., "test_loss": ..., "train_loss": ...}."""
import time

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from common import parse, print_json


def evaluate(model, loader):
    model.eval()
    loss, correct, n = 0.0, 0, 0
    with nabla.no_grad():
        for x, y in loader:
            out = model(x)
            loss += F.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
            n += y.shape[0]
    model.train()
    return loss / n, correct / n


def main():
    args = parse(__doc__.splitlines()[0], epochs=1, lr=1e-3, batch_size=64,
                 extra={"--data": dict(default="/usr/share/datasets/fashion-mnist", help="dataset directory")})
    nabla.manual_seed(args.seed)
    root = args.data
    train_set = nabla.data.FashionMNIST(root, train=True)
    test_set = nabla.data.FashionMNIST(root, train=False)
    if 0 < args.limit < len(train_set):
        train_set = nabla.data.TensorDataset(train_set.data[:args.limit], train_set.targets[:args.limit])
    train_loader = nabla.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed,
                                         device=args.device)
    test_loader = nabla.data.DataLoader(test_set, batch_size=1000, device=args.device)

    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    for m in model.children():  # Glorot-uniform weights and zero biases (Keras's defaults), as the C++ example
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    model.to(args.device)
    opt = nabla.optim.Adam(model.parameters(), lr=args.lr)
    if not args.quiet:
        print(model, f"\n{model.num_parameters()} parameters, training on {args.device}")

    train_loss = 0.0
    for epoch in range(args.epochs):
        start, total, n = time.perf_counter(), 0.0, 0
        for x, y in train_loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * y.shape[0]
            n += y.shape[0]
        train_loss = total / n
        if not args.quiet:
            test_loss, test_acc = evaluate(model, test_loader)
            print(f"epoch {epoch + 1}/{args.epochs}  loss {train_loss:.4f}  test loss {test_loss:.4f}  "
                  f"test accuracy {test_acc:.4f}  ({time.perf_counter() - start:.1f} s)")
    test_loss, test_acc = evaluate(model, test_loader)
    print_json({"test_accuracy": test_acc, "test_loss": test_loss, "train_loss": train_loss})


if __name__ == "__main__":
    main()
