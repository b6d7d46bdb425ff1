"""How much of PyTorch's public Python API nabla's binding has, namespace by namespace.

    PYTHONPATH=build-cpu/python python python_stub/tools/torch_coverage.py [--readme python_stub/README.md]
        [--json FILE] [--quiet]

For each pair (torch namespace, nabla namespace at the same place):

    torch                 nabla
    torch.nn              nabla.nn
    torch.nn.functional   nabla.nn.functional
    torch.optim           nabla.optim
    torch.Tensor          nabla.Tensor

it lists the public names of the installed PyTorch (dir() without a leading underscore) that
count (below), and says which nabla has (hasattr at the same place). It prints one count line
per namespace, then a markdown table (have / total / %) and the missing names of each
namespace in a collapsible <details> section. --readme FILE replaces the text between the
markers `<!-- torch-coverage:begin -->` and `<!-- torch-coverage:end -->` in FILE with that
markdown; --json FILE writes the raw lists.

Which names count: every public name whose object is PyTorch's own API, i.e. functions,
builtins, classes, methods and properties, PyTorch submodules (torch.*), and PyTorch's typed
values (dtypes, layouts, memory formats, the default generator, the float constants e, pi,
inf, nan). Left out are what a namespace merely imports or configures: modules from outside
torch (os, sys, math, ...), typing helpers (Optional, Callable, ...), builtins classes, and
plain Python data (bool switches such as TYPE_CHECKING or has_cuda, strings, dicts such as
F.tf32_notes, tuples). JIT and other torch._C classes that dir(torch) shows do count, since
they are public there; the torch row is therefore a pessimistic figure for what programs use.
"""
from __future__ import annotations

import argparse
import importlib
import json
import pathlib
import sys
import types
from dataclasses import dataclass, field
from typing import Any

BEGIN = "<!-- torch-coverage:begin -->"
END = "<!-- torch-coverage:end -->"

# (torch namespace, nabla namespace); "X.Tensor" is the class, the others modules.
PAIRS = [
    ("torch", "nabla"),
    ("torch.nn", "nabla.nn"),
    ("torch.nn.functional", "nabla.nn.functional"),
    ("torch.optim", "nabla.optim"),
    ("torch.Tensor", "nabla.Tensor"),
]

# Plain Python data: switches, notes, tables. Floats are kept (torch.pi, torch.inf).
_PLAIN_DATA = (bool, int, str, bytes, dict, list, tuple, set, frozenset)


@dataclass
class Row:
    torch_name: str
    nabla_name: str
    have: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.have) + len(self.missing)

    @property
    def percent(self) -> float:
        return 100.0 * len(self.have) / self.total if self.total else 0.0


def resolve(dotted: str) -> Any:
    """The module or class named `dotted` ("torch.nn.functional", "nabla.Tensor")."""
    try:
        return importlib.import_module(dotted)
    except ImportError:
        parent, _, attr = dotted.rpartition(".")
        return getattr(importlib.import_module(parent), attr)


def counts(name: str, obj: Any) -> bool:
    """Whether the public name `name` of a torch namespace, bound to `obj`, is PyTorch API."""
    if name.startswith("_"):
        return False
    if isinstance(obj, types.ModuleType):
        return obj.__name__ == "torch" or obj.__name__.startswith("torch.")
    if type(obj) in _PLAIN_DATA:
        return False
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and (module == "typing" or module.startswith("typing.")):
        return False
    if isinstance(obj, type) and module == "builtins":
        return False  # e.g. F.DType, an alias of int
    if type(obj).__module__ == "typing":  # typing special forms whose __module__ is not set
        return False
    return True


def public_names(ns: Any) -> list[str]:
    names = []
    for n in dir(ns):
        if n.startswith("_"):
            continue
        try:
            obj = getattr(ns, n)
        except Exception:  # noqa: BLE001 - a name dir() lists but getattr refuses does not count
            continue
        if counts(n, obj):
            names.append(n)
    return sorted(names)


def compare(pairs: list[tuple[str, str]] = PAIRS) -> list[Row]:
    rows = []
    for tname, nname in pairs:
        tns, nns = resolve(tname), resolve(nname)
        row = Row(tname, nname)
        for n in public_names(tns):
            (row.have if hasattr(nns, n) else row.missing).append(n)
        rows.append(row)
    return rows


def markdown(rows: list[Row], torch_version: str) -> str:
    total_have = sum(len(r.have) for r in rows)
    total = sum(r.total for r in rows)
    lines = [
        f"Names of PyTorch {torch_version}'s public API that nabla has at the same place "
        "(`python_stub/tools/torch_coverage.py`; its docstring says which names count):",
        "",
        "| PyTorch | nabla | have | total | % |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| `{r.torch_name}` | `{r.nabla_name}` | {len(r.have)} | {r.total} | {r.percent:.1f} |")
    pct = 100.0 * total_have / total if total else 0.0
    lines.append(f"| all | | {total_have} | {total} | {pct:.1f} |")
    for r in rows:
        lines += [
            "",
            f"<details><summary>Missing from <code>{r.nabla_name}</code> ({len(r.missing)})</summary>",
            "",
            ", ".join(f"`{n}`" for n in r.missing) if r.missing else "(none)",
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def write_between_markers(path: pathlib.Path, text: str) -> None:
    content = path.read_text()
    start, end = content.find(BEGIN), content.find(END)
    if start < 0 or end < 0 or end < start:
        raise SystemExit(f"{path}: no '{BEGIN}' ... '{END}' markers to write the table between")
    path.write_text(content[: start + len(BEGIN)] + "\n" + text + content[end:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readme", type=pathlib.Path, help="write the markdown between the markers of this file")
    ap.add_argument("--json", type=pathlib.Path, help="write the have/missing lists as JSON")
    ap.add_argument("--quiet", action="store_true", help="print only the count lines")
    args = ap.parse_args(argv)

    import torch  # noqa: F401 - the reference; resolve() imports the namespaces

    rows = compare()
    version = str(torch.__version__)
    for r in rows:
        print(f"{r.nabla_name:22s} {len(r.have):5d} / {r.total:5d}  ({r.percent:5.1f} %)  of {r.torch_name}")
    md = markdown(rows, version)
    if not args.quiet:
        print()
        print(md, end="")
    if args.readme:
        write_between_markers(args.readme, md)
    if args.json:
        data = {
            "torch_version": version,
            "namespaces": [
                {"torch": r.torch_name, "nabla": r.nabla_name, "have": r.have, "missing": r.missing} for r in rows
            ],
        }
        args.json.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
