"""Autograd from Python: gradients of a representative set of ops against central finite
differences (computed here in NumPy-free float64 loops over nabla's forward), no_grad,
detach, retain_graph, and the library's own gradcheck through the binding."""
import numpy as np
import pytest

import nabla
import nabla.nn.functional as F
from conftest import sample


def t(x, grad=True):
    return nabla.tensor(np.asarray(x), dtype=nabla.float64, requires_grad=grad)


def finite_diff(fn, inputs, eps=1e-6):
    """d sum(fn(inputs) * w) / d inputs by central differences, w a fixed projection."""
    with nabla.no_grad():
        out = fn(*inputs)
        w = nabla.tensor(np.random.default_rng(7).uniform(0.5, 1.5, out.shape), dtype=nabla.float64)
        grads = []
        for x in inputs:
            if not x.requires_grad:
                grads.append(None)
                continue
            flat = x.detach().view(-1)  # shares x's memory
            g = np.zeros(x.numel())
            for i in range(x.numel()):
                orig = flat[i].item()
                flat[i] = orig + eps
                hi = (fn(*inputs) * w).sum().item()
                flat[i] = orig - eps
                lo = (fn(*inputs) * w).sum().item()
                flat[i] = orig
                g[i] = (hi - lo) / (2 * eps)
            grads.append(g.reshape(x.shape))
    return w, grads


CASES = {
    "mul_add": (lambda a, b: a * b + a, [sample(3, 4, seed=1), sample(3, 4, seed=2)]),
    "div_broadcast": (lambda a, b: a / b, [sample(3, 4, seed=1), sample(4, seed=2, low=0.5, high=2)]),
    "pow_exp_log": (lambda a: (a.exp() + 1).log() * a.pow(2), [sample(2, 3, seed=3)]),
    "tanh_sigmoid": (lambda a: a.tanh() * a.sigmoid(), [sample(5, seed=4)]),
    "matmul": (lambda a, b: a @ b, [sample(3, 4, seed=5), sample(4, 2, seed=6)]),
    "bmm": (lambda a, b: nabla.bmm(a, b), [sample(2, 3, 4, seed=5), sample(2, 4, 2, seed=6)]),
    "sum_mean_dims": (lambda a: a.sum(1) * a.mean(0)[:3], [sample(3, 4, seed=7)]),
    "softmax": (lambda a: nabla.softmax(a, 1), [sample(3, 5, seed=8)]),
    "log_softmax": (lambda a: nabla.log_softmax(a, 0), [sample(3, 5, seed=8)]),
    "views": (lambda a: a.t().reshape(2, 6)[:, 1:4] * 2, [sample(3, 4, seed=9)]),
    "max_dim": (lambda a: nabla.max(a, 1)[0], [sample(3, 4, seed=10)]),
    "linear": (lambda x, w, b: F.linear(x, w, b), [sample(4, 3, seed=11), sample(2, 3, seed=12), sample(2, seed=13)]),
    "mse": (lambda a, b: F.mse_loss(a, b), [sample(4, 3, seed=14), sample(4, 3, seed=15)]),
    "conv2d": (lambda x, w: F.conv2d(x, w, padding=1), [sample(1, 2, 4, 4, seed=16), sample(3, 2, 3, 3, seed=17)]),
    "layer_norm": (lambda x: F.layer_norm(x, [4]), [sample(3, 4, seed=18)]),
    "gather_cat": (lambda a, b: nabla.cat([a, b], 0).gather(1, nabla.tensor([[0], [2], [1], [3]])), [sample(2, 4, seed=19), sample(2, 4, seed=20)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    fn, arrays = CASES[name]
    inputs = [t(a) for a in arrays]
    w, numeric = finite_diff(fn, inputs)
    (fn(*inputs) * w).sum().backward()
    for x, g in zip(inputs, numeric):
        np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-5, atol=1e-6)


def test_cross_entropy_gradient():
    logits = t(sample(4, 5, seed=21))
    target = nabla.tensor([1, 0, 4, 2])
    w, numeric = finite_diff(lambda x: F.cross_entropy(x, target).reshape(1), [logits])
    F.cross_entropy(logits, target).backward()
    np.testing.assert_allclose(logits.grad.numpy() * w.item(), numeric[0], rtol=1e-5, atol=1e-7)


def test_library_gradcheck_through_the_binding():
    ok, err, msg = nabla.autograd.gradcheck(lambda xs: (xs[0] * xs[1]).sin(), [t(sample(3, seed=1)), t(sample(3, seed=2))])
    assert ok, msg
    assert err < 1e-6


def test_grad_controls():
    x = t([1.0, 2.0, 3.0])
    assert x.is_leaf and x.grad is None and x.grad_fn is None
    y = (x * x).sum()
    assert y.grad_fn == "SumBackward" and not y.is_leaf
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2, 4, 6])
    y.backward()  # accumulates
    np.testing.assert_allclose(x.grad.numpy(), [4, 8, 12])
    x.grad = None
    assert x.grad is None
    with nabla.no_grad():
        z = x * 2
    assert not z.requires_grad and nabla.is_grad_enabled()

    @nabla.no_grad()
    def f(a):
        return a * 3

    assert not f(x).requires_grad
    with nabla.no_grad():
        with nabla.enable_grad():
            assert (x * 2).requires_grad
    d = x.detach()
    assert not d.requires_grad and d.is_alias_of(x)
    v = (x * 2)
    v.backward(nabla.ones(3, dtype=nabla.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])
    a = nabla.ones(2).requires_grad_()
    assert a.requires_grad
    a.requires_grad = False
    assert not a.requires_grad
    p, q = t([1.0]), t([2.0])
    nabla.autograd.backward([p * q, p + q])
    np.testing.assert_allclose(p.grad.numpy(), [3.0])
    with pytest.raises(nabla.Error):
        (x * 2).backward()  # non-scalar without a gradient
