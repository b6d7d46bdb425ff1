"""Shared helpers of the binding's tests: float64 sample inputs and NumPy comparison."""
import os
import pathlib

import numpy as np
import pytest

import nabla

REPO = pathlib.Path(os.environ.get("NABLA_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except Exception:  # noqa: BLE001 - any import failure means "no torch here"
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not importable here (DLPack interop with torch)")
needs_cuda = pytest.mark.skipif(not nabla.cuda.is_available(), reason="no CUDA device available to nabla")


def sample(*shape, seed=0, low=-2.0, high=2.0):
    """A float64 NumPy array of uniform values, deterministic per seed."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def as_np(t):
    """A copy of a nabla tensor as a NumPy array (any dtype, any device)."""
    return np.asarray(t.detach().cpu().numpy()).copy()


def close(t, expected, rtol=1e-10, atol=1e-12):
    got = as_np(t)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
