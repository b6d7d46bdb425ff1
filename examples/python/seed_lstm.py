"""The classic sequence classifier: LSTM(50, tanh) over sequences of 10 steps x 3 features,
then a dense layer of 3 with softmax (nabla's fused cross_entropy on its logits), Adam, batch 10.

The seed task: each sequence is 10 steps of 3 features, x_t = 0.35 e_c + standard normal noise
for a class c in {0, 1, 2}; the label is the feature with the largest sum over the 10 steps.
1500 training and 500 test sequences drawn after manual_seed(--seed + 1000). Ends with
{"loss": ..., "test_accuracy": ..., "train_accuracy": ...}."""
import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from common import parse, print_json


def seed_task(n):
    """Sequences [n, 10, 3] and int64 labels [n]."""
    c = nabla.randint(0, 3, [n])
    drift = F.one_hot(c, 3).float().unsqueeze(1) * 0.35
    x = nabla.randn(n, 10, 3) + drift
    return x, x.sum(1).argmax(1)


class SeedLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 50, batch_first=True)
        self.dense = nn.Linear(50, 3)

    def forward(self, x):  # logits of the last step's hidden state
        _, (h, _) = self.lstm(x)
        return self.dense(h[0])


def main():
    args = parse(__doc__.splitlines()[0], epochs=8, lr=1e-3, batch_size=10)
    nabla.manual_seed(args.seed + 1000)  # the data first, then the model from --seed
    n_train = args.limit or 1500
    x_train, y_train = (t.to(args.device) for t in seed_task(n_train))
    x_test, y_test = (t.to(args.device) for t in seed_task(500))

    nabla.manual_seed(args.seed)
    model = SeedLSTM().to(args.device)
    opt = nabla.optim.Adam(model.parameters(), lr=args.lr)

    def accuracy(x, y):
        with nabla.no_grad():
            return (model(x).argmax(1) == y).float().mean().item()

    loss = 0.0
    for epoch in range(args.epochs):
        perm = nabla.randperm(n_train, device=args.device)
        total, batches = 0.0, 0
        for s in range(0, n_train, args.batch_size):
            idx = perm[s:s + args.batch_size]
            opt.zero_grad()
            l = F.cross_entropy(model(x_train[idx]), y_train[idx])
            l.backward()
            opt.step()
            total += l.item()
            batches += 1
        loss = total / batches
        if not args.quiet:
            print(f"epoch {epoch + 1}/{args.epochs}  loss {loss:.4f}  test accuracy {accuracy(x_test, y_test):.3f}")
    print_json({"loss": loss, "test_accuracy": accuracy(x_test, y_test), "train_accuracy": accuracy(x_train, y_train)})


if __name__ == "__main__":
    main()
