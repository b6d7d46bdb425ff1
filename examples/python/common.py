"""Shared by the Python examples: the command line of the C++ examples (--device cpu|cuda|auto,
--epochs, --batch-size, --lr, --seed, --limit, --quiet) and the final JSON line."""
import argparse
import json
import sys

import nabla


def parse(description, **defaults):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (cuda when available)")
    ap.add_argument("--epochs", type=int, default=defaults.get("epochs", 1))
    ap.add_argument("--batch-size", type=int, default=defaults.get("batch_size", 64))
    ap.add_argument("--lr", type=float, default=defaults.get("lr", 1e-3))
    ap.add_argument("--seed", type=int, default=defaults.get("seed", 0))
    ap.add_argument("--limit", type=int, default=defaults.get("limit", 0), help="use the first N samples (0: all)")
    ap.add_argument("--quiet", action="store_true")
    for flag, kw in defaults.get("extra", {}).items():
        ap.add_argument(flag, **kw)
    args = ap.parse_args()
    if args.device == "auto":
        args.device = "cuda" if nabla.cuda.is_available() else "cpu"
    elif args.device.startswith("cuda") and not nabla.cuda.is_available():
        sys.exit(f"error: --device {args.device}: no CUDA device is available here")
    return args


def print_json(metrics):
    """The last line of every example: its final metrics, keys sorted (as the C++ examples)."""
    print(json.dumps({k: metrics[k] for k in sorted(metrics)}))
