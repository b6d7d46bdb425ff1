"""python_stub/tools/torch_coverage.py runs and its numbers add up."""
import importlib.util
import json
import subprocess
import sys

import pytest

import nabla
from conftest import REPO, needs_torch

SCRIPT = REPO / "python_stub" / "tools" / "torch_coverage.py"


def load_script():
    spec = importlib.util.spec_from_file_location("torch_coverage", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["torch_coverage"] = mod  # its dataclass looks its module up there
    spec.loader.exec_module(mod)
    return mod


def test_which_names_count():
    cov = load_script()
    import os
    import typing

    assert not cov.counts("os", os) and not cov.counts("Optional", typing.Optional)
    assert not cov.counts("TYPE_CHECKING", False) and not cov.counts("notes", {"a": 1})
    assert not cov.counts("_private", len) and not cov.counts("DType", int)
    assert cov.counts("pi", 3.14159) and cov.counts("zeros", nabla.zeros)


@needs_torch
def test_the_script_runs_and_its_counts_are_consistent(tmp_path):
    out = tmp_path / "cov.json"
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- torch-coverage:begin -->\nold table\n<!-- torch-coverage:end -->\nafter\n")
    r = subprocess.run([sys.executable, str(SCRIPT), "--json", str(out), "--readme", str(readme)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    import torch

    assert data["torch_version"] == str(torch.__version__)
    spaces = {d["nabla"]: d for d in data["namespaces"]}
    assert list(spaces) == ["nabla", "nabla.nn", "nabla.nn.functional", "nabla.optim", "nabla.Tensor"]
    where = {"nabla": nabla, "nabla.nn": nabla.nn, "nabla.nn.functional": nabla.nn.functional,
             "nabla.optim": nabla.optim, "nabla.Tensor": nabla.Tensor}
    text = readme.read_text()
    assert text.startswith("before\n<!-- torch-coverage:begin -->\n")
    assert text.endswith("<!-- torch-coverage:end -->\nafter\n")
    assert "old table" not in text
    for name, d in spaces.items():
        have, missing = set(d["have"]), set(d["missing"])
        assert not have & missing and have, name
        assert all(hasattr(where[name], n) for n in have) and not any(hasattr(where[name], n) for n in missing)
        total = len(have) + len(missing)
        assert f"| `{name}` | {len(have)} | {total} |" in text
        assert f"{len(have):5d} / {total:5d}" in r.stdout
    # names nabla certainly has and PyTorch certainly exports
    assert {"zeros", "save", "load", "no_grad"} <= set(spaces["nabla"]["have"])
    assert "DataParallel" in spaces["nabla.nn"]["have"] and "backward" in spaces["nabla.Tensor"]["have"]


def test_missing_markers_are_an_error(tmp_path):
    cov = load_script()
    p = tmp_path / "R.md"
    p.write_text("no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        cov.write_between_markers(p, "table")


@needs_torch
def test_the_committed_tables_are_current(tmp_path):
    # The counts quoted in python_stub/README.md (the table) and README.md (the summary line)
    # are what the script gives for this build: a name added or removed without rerunning
    # `torch_coverage.py --readme python_stub/README.md` (and updating README.md) fails here.
    out = tmp_path / "cov.json"
    r = subprocess.run([sys.executable, str(SCRIPT), "--json", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    table = (REPO / "python_stub" / "README.md").read_text()
    summary = " ".join((REPO / "README.md").read_text().split())
    torch_names = {"nabla": "torch", "nabla.nn": "torch.nn", "nabla.nn.functional": "torch.nn.functional",
                   "nabla.optim": "torch.optim", "nabla.Tensor": "torch.Tensor"}
    for d in json.loads(out.read_text())["namespaces"]:
        have, total = len(d["have"]), len(d["have"]) + len(d["missing"])
        assert f"| `{d['nabla']}` | {have} | {total} |" in table, (
            f"python_stub/README.md's coverage row of {d['nabla']} is stale ({have}/{total} now): rerun "
            "python_stub/tools/torch_coverage.py --readme python_stub/README.md")
        assert f"`{torch_names[d['nabla']]}` {have} of {total}" in summary, (
            f"README.md's coverage count of {torch_names[d['nabla']]} is stale ({have} of {total} now)")
