"""The committed type stubs (python_stub/nabla/_C/**.pyi) are what nanobind's stubgen makes of
the module just built: this fails when the binding changed and the stubs were not regenerated
(python_stub/tools/gen_stubs.py, or the nabla_python_stubs build target)."""
import ast
import pathlib
import subprocess
import sys

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
