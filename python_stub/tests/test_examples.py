"""The Python examples (examples/python/) run and learn: each ends with a JSON line of metrics."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = REPO / "examples" / "python"
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


def run(name, *args, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(EXAMPLES), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--device", "cpu", "--quiet", *args],
                         capture_output=True, text=True, timeout=timeout, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_linear_regression():
    m = run("linear_regression", "--epochs", "200")
    assert abs(m["w"] - 3) < 0.05 and abs(m["b"] - 2) < 0.05, m


def test_xor_mlp():
    assert run("xor_mlp")["accuracy"] == 1.0


def test_binary_classifier():
    assert run("binary_classifier")["accuracy"] >= 0.95


@pytest.mark.skipif(not (FASHION / "t10k-labels-idx1-ubyte.gz").exists() and not (FASHION / "t10k-labels-idx1-ubyte").exists(),
                    reason="Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
def test_fashion_mlp_brief():
    m = run("fashion_mlp", "--epochs", "1", "--limit", "10000")
    assert m["test_accuracy"] >= 0.75, m


@pytest.mark.skipif(not (FASHION / "train-labels-idx1-ubyte.gz").exists() and not (FASHION / "train-labels-idx1-ubyte").exists(),
                    reason="Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
def test_dcgan_runs_and_writes_a_png(tmp_path):
    m = run("dcgan", "--epochs", "1", "--limit", "128", "--batch-size", "32", "--width", "8", "--out", str(tmp_path))
    assert 0 < m["d_real"] < 1 and 0 < m["d_fake"] < 1 and m["d_loss"] > 0 and m["g_loss"] > 0, m
    assert (tmp_path / "epoch_1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sine_lstm_python_module_subclass():
    m = run("sine_lstm", "--epochs", "4", "--limit", "1000")
    assert m["test_mse"] < 0.02, m


def test_seed_lstm_matches_the_cpp_example():
    """The Python program mirrors the C++ one step for step: same seeds, same ops, same numbers."""
    import nabla

    cpp = pathlib.Path(nabla.__file__).resolve().parents[2] / "examples" / "seed_lstm"  # <build>/python/nabla
    py = run("seed_lstm", "--epochs", "2", "--limit", "300")
    assert py["test_accuracy"] > 0.6, py
    if not cpp.exists():
        pytest.skip(f"no C++ build of seed_lstm at {cpp}")
    out = subprocess.run([str(cpp), "--device", "cpu", "--quiet", "--epochs", "2", "--limit", "300"],
                         capture_output=True, text=True, timeout=300, check=True)
    ref = json.loads(out.stdout.strip().splitlines()[-1])
    for k in ("loss", "test_accuracy", "train_accuracy"):
        assert abs(py[k] - ref[k]) < 1e-5, (k, py[k], ref[k])


@pytest.mark.parametrize("model", ["transformer", "lstm"])
def test_tiny_lm(model):
    # 300 steps: the validation perplexity falls from about the vocabulary size (49) below 9
    m = run("tiny_lm", "--model", model, "--steps", "300")
    assert m["val_perplexity"] < 9 and m["vocab"] == 49, m
