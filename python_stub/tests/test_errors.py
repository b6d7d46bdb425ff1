"""Errors: nabla.Error is a RuntimeError carrying the C++ message, OutOfMemoryError derives
from it, and no call with bad arguments crashes the interpreter (each runs in this process:
a crash would take the whole test run down)."""
import itertools

import numpy as np
import pytest

import nabla
import nabla.nn.functional as F


def test_error_types_and_messages():
    assert issubclass(nabla.Error, RuntimeError)
    assert issubclass(nabla.OutOfMemoryError, nabla.Error)
    with pytest.raises(nabla.Error, match=r"matmul.*\[2, 3\].*\[2, 3\]"):
        nabla.ones(2, 3) @ nabla.ones(2, 3)
    with pytest.raises(RuntimeError, match="broadcast"):
        nabla.ones(2) + nabla.ones(3)
    with pytest.raises(nabla.OutOfMemoryError, match="cannot allocate"):
        nabla.empty(1 << 45)
    with pytest.raises(nabla.Error, match="cuda"):
        nabla.device("gpu")
    if not nabla.cuda.is_available():
        with pytest.raises(nabla.Error):
            nabla.ones(2, device="cuda")
        with pytest.raises(nabla.Error):
            nabla.ones(2).cuda()


def test_in_place_on_saved_tensor_is_detected():
    x = nabla.ones(3, requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    with pytest.raises(nabla.Error, match="modified|version"):
        z.sum().backward()


BAD = [None, "x", -1, 2**70, -(2**70), 1.5, [], [[1], [2, 3]], (), float("nan"), nabla.ones(0),
       nabla.ones(2, 3), nabla.ones(3, dtype=nabla.int64), nabla.ones(1, dtype=nabla.bool), object(), np.zeros(2)]


def _calls():
    t = nabla.ones(2, 3)
    yield from [
        lambda a: nabla.zeros(a), lambda a: nabla.ones(2, a), lambda a: nabla.arange(a), lambda a: nabla.tensor(a),
        lambda a: nabla.full([2], a), lambda a: nabla.eye(a), lambda a: nabla.randint(0, a, [2]),
        lambda a: t.view(a), lambda a: t.reshape(a), lambda a: t.permute(a), lambda a: t.transpose(a, 0),
        lambda a: t.sum(a), lambda a: t.max(a), lambda a: t.softmax(a), lambda a: t[a], lambda a: t.__setitem__(a, 1.0),
        lambda a: t.__setitem__(0, a), lambda a: t + a, lambda a: t @ a, lambda a: t.to(a), lambda a: t.expand(a),
        lambda a: t.narrow(0, a, 1), lambda a: t.select(1, a), lambda a: t.gather(1, a), lambda a: t.index_select(0, a),
        lambda a: nabla.cat([t, a]), lambda a: nabla.stack(a), lambda a: nabla.split(t, a),
        lambda a: nabla.from_numpy(a), lambda a: nabla.from_dlpack(a), lambda a: nabla.one_hot(a),
        lambda a: F.conv2d(a, nabla.ones(1, 1, 1, 1)), lambda a: F.max_pool2d(nabla.ones(1, 1, 4, 4), a),
        lambda a: F.cross_entropy(nabla.ones(2, 3), a), lambda a: F.layer_norm(t, a),
        lambda a: nabla.nn.Linear(a, 2), lambda a: nabla.nn.Conv2d(1, 1, a), lambda a: nabla.nn.Sequential(a),
        lambda a: nabla.optim.SGD(a), lambda a: nabla.data.DataLoader(a), lambda a: nabla.io.load_safetensors(a),
        lambda a: nabla.as_strided(t, [2, 2], [a, 1]), lambda a: t.backward(a), lambda a: nabla.manual_seed(a),
    ]


def test_bad_arguments_raise_and_never_crash():
    raised = 0
    for call, arg in itertools.product(list(_calls()), BAD):
        try:
            call(arg)
        except (nabla.Error, TypeError, ValueError, IndexError, OverflowError, RuntimeError):
            raised += 1
    assert raised > len(BAD) * 30  # most of these combinations are invalid


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # nanobind warns before raising
def test_module_subclass_without_super_init():
    class Broken(nabla.nn.Module):
        def __init__(self):
            pass

    with pytest.raises((TypeError, RuntimeError)):
        Broken()(nabla.ones(1))


def test_python_callbacks_errors_surface():
    class Bad(nabla.nn.Module):
        def forward(self, x):
            raise ValueError("boom from python")

    class Wrong(nabla.nn.Module):
        def forward(self, x):
            return "not a tensor"

    class NoForward(nabla.nn.Module):
        pass

    seq = nabla.nn.Sequential(nabla.nn.Linear(2, 2), Bad())
    for _ in range(3):  # repeatedly: the interpreter state stays sound
        with pytest.raises(ValueError, match="boom"):
            seq(nabla.ones(1, 2))
    # as PyTorch's, Sequential passes any value along; C++ code calling the Python forward (the
    # C++ Sequential.forward, reached through the base Module.forward) needs a Tensor
    assert nabla.nn.Sequential(Wrong())(nabla.ones(1)) == "not a tensor"
    with pytest.raises(nabla.Error, match="Wrong.forward returned a str when called from C\\+\\+ code"):
        nabla.nn.Module.forward(nabla.nn.Sequential(Wrong()), nabla.ones(1))
    with pytest.raises(nabla.Error, match="not implemented"):
        NoForward()(nabla.ones(1))
    with pytest.raises(nabla.Error, match="expected a Tensor"):
        nabla.autograd.gradcheck(lambda xs: "x", [nabla.ones(2, dtype=nabla.float64, requires_grad=True)])
    with pytest.raises(ZeroDivisionError):
        nabla.autograd.gradcheck(lambda xs: 1 / 0, [nabla.ones(2, dtype=nabla.float64, requires_grad=True)])

    lin = nabla.nn.Linear(2, 2)
    seen = []
    handle = lin.register_forward_hook(lambda m, i, o: seen.append((m, i[0].shape, o.shape)))  # i: the args
    lin(nabla.ones(3, 2))
    assert seen == [(lin, (3, 2), (3, 2))]
    lin.remove_forward_hook(handle)

    def failing_hook(m, i, o):
        raise KeyError("hook error")

    lin.register_forward_hook(failing_hook)
    with pytest.raises(KeyError):
        lin(nabla.ones(1, 2))
    with pytest.raises(nabla.Error, match="callable"):
        lin.register_forward_hook(3)
