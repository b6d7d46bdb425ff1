"""The namespaces PyTorch programs import: nabla.utils.data, nn.parallel, backends."""
import importlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import nabla
import nabla.nn as nn
from conftest import as_np


def test_utils_data_is_nabla_data():
    import nabla.utils.data as ud
    from nabla.utils.data import DataLoader, Dataset

    assert ud is nabla.data and nabla.utils.data is nabla.data
    assert DataLoader is nabla.data.DataLoader and Dataset is nabla.data.Dataset
    assert importlib.import_module("nabla.utils.data") is nabla.data


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


@pytest.mark.parametrize("wrap", [nn.DataParallel, nn.parallel.DataParallel, nn.parallel.DistributedDataParallel])
def test_parallel_wrappers_forward_and_expose_the_module(wrap, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    nabla.manual_seed(0)
    model = Tiny()
    wrapped = wrap(model)
    assert wrapped.module is model
    x = nabla.randn(4, 3)
    np.testing.assert_array_equal(as_np(wrapped(x)), as_np(model(x)))
    # state dict keys gain "module.", as in PyTorch, and load back into the bare model
    sd = wrapped.state_dict()
    assert list(sd) == ["module.fc.weight", "module.fc.bias"]
    assert len(list(wrapped.parameters())) == 2  # an iterator, as PyTorch's
    wrapped(x).sum().backward()
    assert model.fc.weight.grad is not None


def test_a_module_attribute_may_be_none():
    # the wrappers keep output_device=None; PyTorch modules often set self.downsample = None
    m = Tiny()
    m.downsample = None
    assert m.downsample is None and [n for n, _ in m.named_parameters()] == ["fc.weight", "fc.bias"]


def test_ddp_no_sync_and_its_refusals(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ddp = nn.parallel.DistributedDataParallel(Tiny(), device_ids=None)
    with ddp.no_sync():
        ddp(nabla.ones(1, 3)).sum().backward()
    monkeypatch.setenv("WORLD_SIZE", "4")
    with pytest.raises(nabla.Error, match=r"4 processes.*nabla.distributed \(issue 17\)"):
        nn.parallel.DistributedDataParallel(Tiny())
    monkeypatch.setenv("WORLD_SIZE", "1")
    with pytest.raises(nabla.Error, match="one device per process"):
        nn.parallel.DistributedDataParallel(Tiny(), device_ids=[0, 1])
    with pytest.raises(nabla.Error, match=r"device_ids \[0, 1\].*issue 17"):
        nn.DataParallel(Tiny(), device_ids=[0, 1])


@pytest.fixture
def restore_switches():
    cudnn = nabla.backends.cudnn
    saved = (cudnn.benchmark, cudnn.deterministic, cudnn.enabled, nabla.backends.cuda.matmul.allow_tf32)
    yield
    cudnn.benchmark, cudnn.deterministic = saved[0], saved[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cudnn.enabled = saved[2]
    nabla.backends.cuda.matmul.allow_tf32 = saved[3]


def test_cudnn_switches_are_nablas_own(restore_switches):
    from nabla.backends import cudnn

    assert cudnn.benchmark is False and cudnn.deterministic is False and cudnn.enabled is True
    cudnn.benchmark = True
    assert cudnn.benchmark is True and nabla.cuda.cudnn_benchmark() is True
    nabla.cuda.set_cudnn_benchmark(False)
    assert cudnn.benchmark is False
    cudnn.deterministic = True
    assert nabla.cuda.deterministic() is True and nabla.backends.cudnn.deterministic is True
    with pytest.warns(UserWarning, match="no effect"):
        cudnn.enabled = False
    assert cudnn.enabled is False
    assert cudnn.is_available() == nabla.cuda.is_available()
    assert nabla.backends.mps.is_available() is False and nabla.backends.mps.is_built() is False


def test_matmul_tf32_switch(restore_switches):
    m = nabla.backends.cuda.matmul
    m.allow_tf32 = True
    assert nabla.cuda.allow_tf32() is True and m.allow_tf32 is True
    m.allow_tf32 = False
    assert nabla.cuda.allow_tf32() is False
    with pytest.raises(AttributeError, match="allow_tf32"):
        m.allow_fp16_reduced_precision_reduction = True


def test_plain_import_reaches_the_python_packages_not_the_extensions_submodules():
    # `import nabla` alone (no `import nabla.nn`): nabla.nn, nabla.data ... must be the Python
    # packages (DataParallel, the worker DataLoader), not _C's submodules of the same names
    # that `from ._C import *` brings. A fresh interpreter: this process imported them already.
    code = (
        "import nabla\n"
        "mods = [nabla.autograd, nabla.cuda, nabla.data, nabla.io, nabla.nn, nabla.optim,\n"
        "        nabla.nn.functional, nabla.nn.init, nabla.nn.utils, nabla.optim.lr_scheduler]\n"
        "bad = [m.__name__ for m in mods if not hasattr(m, '__file__')]\n"
        "assert not bad, bad\n"
        "assert nabla.nn.DataParallel and nabla.data.get_worker_info and nabla.utils.data is nabla.data\n"
        "assert not hasattr(nabla, '_sub') and not hasattr(nabla.nn, '_sub')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
