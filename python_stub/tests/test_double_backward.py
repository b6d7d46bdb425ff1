"""Higher-order gradients against PyTorch in float64: nabla.autograd.grad with create_graph,
Tensor.backward(create_graph=True), WGAN-GP gradient penalties on a small MLP and a small
conv net (the penalty's gradient in the critic's weights), Hessian-vector products and the
second derivatives of a few ops; plus grad's errors and gradgradcheck."""
import numpy as np
import pytest

import nabla
from conftest import HAVE_TORCH, as_np, needs_torch, sample

if HAVE_TORCH:
    import torch


def lib_tensor(lib, a, requires_grad=False):
    a = np.ascontiguousarray(a, dtype=np.float64)
    if lib is nabla:
        return nabla.from_numpy(a.copy()).requires_grad_(requires_grad)
    return torch.tensor(a, requires_grad=requires_grad)


def both(fn, arrays, rtol=1e-10, atol=1e-12):
    """fn(lib, *tensors) -> tuple of tensors, run on nabla and torch; the results must agree."""
    got = fn(nabla, *[lib_tensor(nabla, a, True) for a in arrays])
    want = fn(torch, *[lib_tensor(torch, a, True) for a in arrays])
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(as_np(g), w.detach().numpy(), rtol=rtol, atol=atol)


def second_derivative(op):
    """d/dx sum(d/dx sum(op(x) * v) * u): the Hessian of sum(op v) applied to u."""

    def fn(lib, x):
        y = op(lib, x)
        v = lib_tensor(lib, sample(*y.shape, seed=7, low=0.5, high=1.5))
        u = lib_tensor(lib, sample(*x.shape, seed=8, low=0.5, high=1.5))
        (g,) = lib.autograd.grad((y * v).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * u).sum(), x)
        return g, h

    return fn


def F(lib):
    return lib.nn.functional


ELEMENTWISE = {
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: (x * x + 0.5).log(),
    "softplus": lambda lib, x: F(lib).softplus(x, beta=2.0),
    "gelu": lambda lib, x: F(lib).gelu(x),
    "silu": lambda lib, x: F(lib).silu(x),
    "elu": lambda lib, x: F(lib).elu(x, alpha=1.5),
    "relu": lambda lib, x: F(lib).relu(x) * x,
    "softmax": lambda lib, x: F(lib).softmax(x, dim=1),
    "log_softmax": lambda lib, x: F(lib).log_softmax(x, dim=0),
    "logsumexp": lambda lib, x: x.logsumexp(dim=1),
    "norm": lambda lib, x: x.norm(dim=1),
    "std": lambda lib, x: x.std(dim=0),
    "prod": lambda lib, x: (x * 0.25 + 1.0).prod(dim=1),
    "matmul": lambda lib, x: (x @ x.t()).tanh(),
    "cross_entropy": lambda lib, x: F(lib).cross_entropy(x, lib_index(lib, [2, 0, 3]), label_smoothing=0.1),
    "nll_loss": lambda lib, x: F(lib).nll_loss(F(lib).log_softmax(x, dim=1), lib_index(lib, [1, 3, 0])),
    "mse_loss": lambda lib, x: F(lib).mse_loss(x.tanh(), x * 0.5),
    "binary_cross_entropy": lambda lib, x: F(lib).binary_cross_entropy(x.sigmoid(), (x * 0.3).sigmoid()),
    "binary_cross_entropy_with_logits": lambda lib, x: F(lib).binary_cross_entropy_with_logits(x, (x * 0.3).sigmoid()),
}


def lib_index(lib, values):
    a = np.asarray(values, dtype=np.int64)
    return nabla.from_numpy(a.copy()) if lib is nabla else torch.tensor(a)


@needs_torch
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_second_derivatives_match_torch(name):
    both(second_derivative(ELEMENTWISE[name]), [sample(3, 4, seed=1, low=-1.5, high=1.5)])


@needs_torch
def test_hessian_vector_product_by_double_backward_through_grad_outputs():
    # J u from J^T v: grad_outputs that require grad, differentiated in v
    def fn(lib, x, v):
        y = (x @ x.t()).sigmoid()
        (jtv,) = lib.autograd.grad(y, x, grad_outputs=v, create_graph=True)
        u = lib_tensor(lib, sample(3, 4, seed=3))
        (ju,) = lib.autograd.grad(jtv, v, grad_outputs=u)
        return jtv, ju

    both(fn, [sample(3, 4, seed=1), sample(3, 3, seed=2)])


def mlp_critic(lib, x, w1, b1, w2, b2, w3):
    h = F(lib).linear(x, w1, b1).tanh()
    h = F(lib).leaky_relu(F(lib).linear(h, w2, b2), 0.2)
    return F(lib).linear(h, w3)


def conv_critic(lib, x, k1, c1, k2, w):
    h = F(lib).softplus(F(lib).conv2d(x, k1, c1, padding=1))
    h = F(lib).avg_pool2d(h, 2)
    h = F(lib).max_pool2d(F(lib).conv2d(h, k2, None, stride=1), 2)
    return F(lib).linear(h.reshape(h.shape[0], -1), w)


def gradient_penalty(critic):
    """WGAN-GP: (|d critic / d x| - 1)^2 at points between real and fake, backward into the weights."""

    def fn(lib, real, fake, *weights):
        eps = lib_tensor(lib, sample(real.shape[0], *([1] * (real.dim() - 1)), seed=11, low=0, high=1))
        x = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
        out = critic(lib, x, *weights)
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        penalty = ((g.reshape(g.shape[0], -1).norm(dim=1) - 1.0) ** 2).mean() * 10.0
        loss = out.mean() + penalty
        loss.backward()
        return (penalty,) + tuple(w.grad for w in weights)

    return fn


@needs_torch
def test_wgan_gp_gradient_penalty_of_an_mlp_matches_torch():
    arrays = [sample(5, 3, seed=1), sample(5, 3, seed=2), sample(6, 3, seed=3, low=-1, high=1),
              sample(6, seed=4, low=-1, high=1), sample(4, 6, seed=5, low=-1, high=1),
              sample(4, seed=6, low=-1, high=1), sample(1, 4, seed=7, low=-1, high=1)]
    both(gradient_penalty(mlp_critic), arrays)


@needs_torch
def test_wgan_gp_gradient_penalty_of_a_conv_net_matches_torch():
    arrays = [sample(2, 2, 8, 8, seed=1), sample(2, 2, 8, 8, seed=2), sample(3, 2, 3, 3, seed=3, low=-1, high=1),
              sample(3, seed=4, low=-1, high=1), sample(2, 3, 3, 3, seed=5, low=-1, high=1),
              sample(1, 2 * 1 * 1, seed=6, low=-1, high=1)]
    both(gradient_penalty(conv_critic), arrays)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # torch's cycle warning
def test_backward_with_create_graph_matches_torch():
    def fn(lib, x, w):
        y = (F(lib).conv2d(x, w, None, padding=1).tanh() ** 2).sum()
        y.backward(create_graph=True)
        gx, gw = x.grad, w.grad
        assert gx.requires_grad and gw.requires_grad
        (gx * gx).sum().backward()
        return gx, gw, x.grad, w.grad

    both(fn, [sample(1, 2, 4, 4, seed=1), sample(2, 2, 3, 3, seed=2, low=-0.5, high=0.5)])


def test_grad_leaves_dot_grad_alone_and_returns_a_tuple():
    x = nabla.from_numpy(np.array([1.0, 2.0])).requires_grad_(True)
    w = nabla.from_numpy(np.array([3.0, 4.0])).requires_grad_(True)
    r = nabla.autograd.grad([(x * w).sum()], [x])
    assert isinstance(r, tuple) and len(r) == 1
    np.testing.assert_array_equal(as_np(r[0]), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_grad_errors():
    x = nabla.from_numpy(np.array([1.0, 2.0])).requires_grad_(True)
    unused = nabla.from_numpy(np.array([1.0])).requires_grad_(True)
    y = (x * x).sum()
    with pytest.raises(nabla.Error, match="appears to not have been used in the graph"):
        nabla.autograd.grad(y, unused, retain_graph=True)
    assert nabla.autograd.grad(y, [x, unused], retain_graph=True, allow_unused=True)[1] is None
    with pytest.raises(nabla.Error, match="does not require grad"):
        nabla.autograd.grad(y, nabla.from_numpy(np.array([1.0])), retain_graph=True)
    with pytest.raises(nabla.Error, match="got 2 gradients for 1 outputs"):
        nabla.autograd.grad(y, x, grad_outputs=[None, None], retain_graph=True)
    with pytest.raises(TypeError, match="inputs must be a Tensor or a sequence of Tensors"):
        nabla.autograd.grad(y, 3, retain_graph=True)
    with pytest.raises(TypeError, match="must hold Tensors"):
        nabla.autograd.grad(y, [x, "x"], retain_graph=True)


def test_double_backward_of_batch_norm_is_not_supported():
    x = nabla.from_numpy(sample(4, 3, seed=1)).requires_grad_(True)
    y = (nabla.nn.functional.batch_norm(x, None, None, training=True) * x).sum()
    (g,) = nabla.autograd.grad(y, x, create_graph=True)
    with pytest.raises(nabla.Error, match="double backward of batch_norm is not supported"):
        nabla.autograd.grad(g.sum(), x)


def test_gradgradcheck():
    x = nabla.from_numpy(sample(3, 4, seed=1)).requires_grad_(True)
    ok, err, msg = nabla.autograd.gradgradcheck(lambda xs: nabla.nn.functional.softmax(xs[0].tanh(), 1), [x])
    assert ok, msg
    ok, err, msg = nabla.autograd.gradgradcheck(lambda xs: (xs[0] - xs[0].detach()) * xs[0].detach() * 2.0, [x])
    assert not ok and "second derivative" in msg
