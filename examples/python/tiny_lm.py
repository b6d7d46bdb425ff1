"""A character-level language model on examples/data/tiny_corpus.txt (the twin of tiny_lm.cpp).

--model transformer: token + learned position embeddings, a causal nn.TransformerEncoder
(pre-norm, GELU, batch_first), a final LayerNorm and a linear head; --model lstm: an embedding,
an LSTM and a linear head. The last 10% of the text is held out; training draws random windows
of --context characters from the rest. Reports the validation perplexity (exp of the mean
next-character cross-entropy on the held-out windows) and a greedy continuation. Written against
PyTorch's API: `--torch` runs the same code on PyTorch. Ends with {"model": ..., "steps": ...,
"train_loss": ..., "val_loss": ..., "val_perplexity": ..., "vocab": ...}."""
import math
import pathlib
import random
import sys

if "--torch" in sys.argv:
    # PyTorch before nabla (common imports nabla): Debian's torch loads OpenBLAS's pthread build,
    # nabla its OpenMP build, and with nabla's loaded first the two builds mix in one process and
    # torch's threaded GEMMs hang. Loaded in this order, both use torch's.
    import torch  # noqa: F401

from common import parse, print_json  # noqa: E402

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "data" / "tiny_corpus.txt"


class TinyLM:
    """Built lazily from the library module (nabla or torch) so that both can run this file."""

    @staticmethod
    def make(lib, transformer, vocab, context):
        nn = lib.nn

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                d = 64
                self.transformer = transformer
                self.embed = nn.Embedding(vocab, d)
                if transformer:
                    self.pos = nn.Embedding(context, d)
                    layer = nn.TransformerEncoderLayer(d, 4, dim_feedforward=4 * d, dropout=0.1, activation="gelu",
                                                       batch_first=True, norm_first=True)
                    self.encoder = nn.TransformerEncoder(layer, num_layers=2)
                    self.norm = nn.LayerNorm(d)
                    self.head = nn.Linear(d, vocab)
                else:
                    self.lstm = nn.LSTM(d, 128, batch_first=True)
                    self.head = nn.Linear(128, vocab)

            def forward(self, tokens):
                t = tokens.shape[1]
                h = self.embed(tokens)
                if self.transformer:
                    h = h + self.pos(lib.arange(t, device=tokens.device))
                    mask = nn.Transformer.generate_square_subsequent_mask(t).to(h.device)
                    h = self.norm(self.encoder(h, mask=mask))
                else:
                    h, _ = self.lstm(h)
                return self.head(h)

        return Model()


def windows(lib, ids, starts, context, device):
    x = [[ids[s + i] for i in range(context)] for s in starts]
    y = [[ids[s + i + 1] for i in range(context)] for s in starts]
    return lib.tensor(x, dtype=lib.int64).to(device), lib.tensor(y, dtype=lib.int64).to(device)


def main():
    args = parse(__doc__.splitlines()[0], batch_size=32, lr=3e-3, extra={
        "--model": dict(default="transformer", choices=["transformer", "lstm"]),
        "--steps": dict(type=int, default=600),
        "--context": dict(type=int, default=64),
        "--eval-every": dict(type=int, default=100),
        "--data": dict(default=str(CORPUS)),
        "--torch": dict(action="store_true", help="run on PyTorch instead of nabla"),
    })
    if args.torch:
        import torch as lib
    else:
        import nabla as lib
    F = lib.nn.functional

    text = pathlib.Path(args.data).read_bytes()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in text]
    n_train = len(ids) * 9 // 10
    if len(ids) - n_train <= args.context + 1:
        sys.exit(f"tiny_lm: the corpus {args.data} ({len(ids)} bytes) is too short for windows of {args.context}")
    train_ids, val_ids = ids[:n_train], ids[n_train:]
    val_starts = list(range(0, len(val_ids) - args.context, args.context))
    val_x, val_y = windows(lib, val_ids, val_starts, args.context, args.device)

    lib.manual_seed(args.seed)
    model = TinyLM.make(lib, args.model == "transformer", len(chars), args.context).to(args.device)
    opt = lib.optim.AdamW(model.parameters(), lr=args.lr)
    rng = random.Random(args.seed + 1)  # the windows' draws: the same for both variants and libraries

    train_loss = val_loss = float("nan")
    for step in range(1, args.steps + 1):
        model.train()
        starts = [rng.randint(0, n_train - args.context - 2) for _ in range(args.batch_size)]
        x, y = windows(lib, train_ids, starts, args.context, args.device)
        opt.zero_grad()
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_loss = loss.item()
        if step % args.eval_every == 0 or step == args.steps:
            model.eval()
            with lib.no_grad():
                val_loss = F.cross_entropy(model(val_x).reshape(-1, len(chars)), val_y.reshape(-1)).item()
            if not args.quiet:
                print(f"step {step:5d}  train loss {train_loss:.4f}  val loss {val_loss:.4f}  "
                      f"val perplexity {math.exp(val_loss):.3f}")

    if not args.quiet:  # a greedy continuation of the text's first 24 characters
        model.eval()
        ctx = ids[:24]
        with lib.no_grad():
            for _ in range(160):
                window = ctx[-args.context:]
                logits = model(lib.tensor([window], dtype=lib.int64).to(args.device))
                ctx.append(int(logits[0, -1].argmax().item()))
        print("sample (greedy, after %r): %s" % (bytes(chars[i] for i in ids[:24]).decode(),
                                                 bytes(chars[i] for i in ctx[24:]).decode(errors="replace")))
    print_json({"model": args.model, "steps": args.steps, "train_loss": train_loss, "val_loss": val_loss,
                "val_perplexity": math.exp(val_loss), "vocab": len(chars)})


if __name__ == "__main__":
    main()
