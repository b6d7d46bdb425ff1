"""The committed type stubs (python_stub/nabla/_C/**.pyi) are what nanobind's stubgen makes of
the module just built: this fails when the binding changed and the stubs were not regenerated
(python_stub/tools/gen_stubs.py, or the nabla_python_stubs build target)."""
import ast
import pathlib
import subprocess
import sys

import pytest

import nabla
from conftest import REPO

STUBS = REPO / "python_stub" / "nabla"
GEN = REPO / "python_stub" / "tools" / "gen_stubs.py"


def stub_files(root):
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted((root / "_C").rglob("*.pyi"))}


def test_stubs_are_current(tmp_path):
    subprocess.run([sys.executable, str(GEN), str(tmp_path)], check=True)
    fresh, committed = stub_files(tmp_path), stub_files(STUBS)
    assert fresh, "stubgen wrote nothing"
    assert sorted(fresh) == sorted(committed), "stub files added or removed: regenerate them"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale stubs {stale}: run python_stub/tools/gen_stubs.py python_stub/nabla"


def test_stubs_parse_and_cover_the_api():
    files = stub_files(STUBS)
    for name, text in files.items():
        ast.parse(text, filename=name)
    top = files["_C/__init__.pyi"]
    for api in ("class Tensor", "def zeros(", "def from_dlpack(", "def __dlpack__(", "def backward(", "def matmul("):
        assert api in top, api
    assert "class Conv2d(Module)" in files["_C/nn/__init__.pyi"]
    assert "def cross_entropy(" in files["_C/nn/functional.pyi"]


SAMPLE = '''
import nabla
import nabla.nn as nn
import nabla.nn.functional as F

x = nabla.zeros(2, 3, device="cpu", dtype=nabla.float64)
y: nabla.Tensor = x + 1.0
z = F.relu(y @ y.t()).sum(1, keepdim=True)
lin = nn.Linear(3, 2)
opt = nabla.optim.Adam(lin.parameters(), lr=1e-3)
sched = nabla.optim.lr_scheduler.StepLR(opt, step_size=1)
loss = F.mse_loss(lin(x.float()), nabla.ones(2, 2))
loss.backward()
opt.step()
shape: tuple[int, ...] = y.shape
n = y.detach().numpy()
t = nabla.from_dlpack(nabla.from_numpy(n))
for xb, yb in nabla.data.DataLoader(nabla.data.TensorDataset(x, x), batch_size=1):
    pass
'''


def test_type_checker_accepts_typical_code_and_rejects_typos(tmp_path, monkeypatch):
    mypy = pytest.importorskip("mypy.api", reason="mypy is not installed here")
    monkeypatch.setenv("MYPYPATH", str(pathlib.Path(nabla.__file__).parents[1]))  # the package under test
    good = tmp_path / "good.py"
    good.write_text(SAMPLE)
    bad = tmp_path / "bad.py"
    bad.write_text("import nabla\nnabla.zeros(2).not_a_method()\nnabla.tensor([1]).sum(dim='x')\n")
    env_args = ["--no-incremental", "--cache-dir", str(tmp_path / "cache"), "--python-executable", sys.executable]
    out, err, status = mypy.run([*env_args, str(good)])
    assert status == 0, out + err
    out, err, status = mypy.run([*env_args, str(bad)])
    assert status == 1 and "not_a_method" in out and 'bad.py:3' in out, out + err
