"""Every op of the C++ API, called from Python, against NumPy in float64 on sample inputs."""
import math

import numpy as np
import pytest

import nabla
from conftest import close, sample

A = sample(3, 4, seed=1)
B = sample(3, 4, seed=2)
ROW = sample(4, seed=3)
POS = sample(3, 4, seed=4, low=0.1, high=3.0)
T = nabla.tensor  # float64 tensors from the NumPy samples below


def t(x):
    return nabla.from_numpy(np.ascontiguousarray(x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def erf(x):
    return np.vectorize(math.erf)(x)


UNARY = {
    "neg": (np.negative, A),
    "abs": (np.abs, A),
    "sign": (np.sign, A),
    "exp": (np.exp, A),
    "log": (np.log, POS),
    "log1p": (np.log1p, POS),
    "expm1": (np.expm1, A),
    "sqrt": (np.sqrt, POS),
    "rsqrt": (lambda x: 1 / np.sqrt(x), POS),
    "sin": (np.sin, A),
    "cos": (np.cos, A),
    "tanh": (np.tanh, A),
    "sigmoid": (sigmoid, A),
    "relu": (lambda x: np.maximum(x, 0), A),
    "reciprocal": (lambda x: 1 / x, POS),
    "gelu": (lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))), A),
    "silu": (lambda x: x / (1 + np.exp(-x)), A),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    ref, x = UNARY[name]
    close(getattr(nabla, name)(t(x)), ref(x))
    if hasattr(nabla.Tensor, name):
        close(getattr(t(x), name)(), ref(x))


def test_parametrised_activations():
    close(nabla.leaky_relu(t(A), 0.2), np.where(A > 0, A, 0.2 * A))
    close(nabla.elu(t(A), 0.5), np.where(A > 0, A, 0.5 * np.expm1(A)))
    close(nabla.softplus(t(A), 2.0, 20.0), np.log1p(np.exp(2 * A)) / 2)
    close(nabla.clamp(t(A), -0.5, 0.5), np.clip(A, -0.5, 0.5))
    close(nabla.clamp(t(A), min=0.0), np.maximum(A, 0))
    close(t(A).clamp(max=0.1), np.minimum(A, 0.1))
    close(nabla.pow(t(POS), 2.5), POS**2.5)
    close(nabla.pow(t(POS), t(B)), POS**B)
    close(nabla.pow(2.0, t(A)), 2.0**A)


BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting(name):
    ref = BINARY[name]
    close(getattr(nabla, name)(t(A), t(ROW)), ref(A, ROW))
    close(getattr(t(A), name)(t(B)), ref(A, B))
    if name in ("add", "sub", "mul", "div"):
        close(getattr(nabla, name)(t(A), 1.5), ref(A, 1.5))


def test_alpha_and_operators():
    close(nabla.add(t(A), t(B), alpha=2), A + 2 * B)
    close(nabla.sub(t(A), t(B), alpha=0.5), A - 0.5 * B)
    a, b = t(A), t(B)
    close(a + b, A + B)
    close(a - b, A - B)
    close(a * b, A * B)
    close(a / b, A / B)
    close(2 + a, 2 + A)
    close(2 - a, 2 - A)
    close(3 * a, 3 * A)
    close(1 / t(POS), 1 / POS)
    close(t(POS) ** 2, POS**2)
    close(2 ** a, 2**A)
    close(-a, -A)
    close(abs(a), np.abs(A))
    close(a @ t(B.T), A @ B.T)


COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}


@pytest.mark.parametrize("name", sorted(COMPARE))
def test_comparisons(name):
    ref = COMPARE[name]
    bb = np.where(np.arange(12).reshape(3, 4) % 3 == 0, A, B)  # some equal elements
    got = getattr(nabla, name)(t(A), t(bb))
    assert got.dtype == nabla.bool
    np.testing.assert_array_equal(got.numpy(), ref(A, bb))
    np.testing.assert_array_equal(getattr(nabla, name)(t(A), 0.0).numpy(), ref(A, 0.0))
    ops = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__"}
    np.testing.assert_array_equal(getattr(t(A), ops[name])(t(bb)).numpy(), ref(A, bb))


def test_where_masked_fill_sum_to_size():
    cond = A > 0
    close(nabla.where(t(cond), t(A), t(B)), np.where(cond, A, B))
    close(nabla.where(t(cond), t(A), 0.0), np.where(cond, A, 0.0))
    close(nabla.where(t(cond), 1.0, t(B)), np.where(cond, 1.0, B))
    close(nabla.masked_fill(t(A), t(cond), -1.0), np.where(cond, -1.0, A))
    close(nabla.sum_to_size(t(A), [1, 4]), A.sum(0, keepdims=True))


@pytest.mark.parametrize("name,ref", [("sum", np.sum), ("mean", np.mean), ("prod", np.prod)])
def test_sum_mean_prod(name, ref):
    fn = getattr(nabla, name)
    close(fn(t(A)), ref(A))
    close(fn(t(A), 1), ref(A, axis=1))
    close(fn(t(A), [0, 1], keepdim=True), ref(A, axis=(0, 1), keepdims=True))
    close(getattr(t(A), name)(0), ref(A, axis=0))


def test_min_max_arg():
    close(nabla.max(t(A)), A.max())
    close(nabla.min(t(A)), A.min())
    values, indices = nabla.max(t(A), 1)
    close(values, A.max(1))
    np.testing.assert_array_equal(indices.numpy(), A.argmax(1))
    values, indices = t(A).min(0, keepdim=True)
    close(values, A.min(0, keepdims=True))
    np.testing.assert_array_equal(indices.numpy(), A.argmin(0)[None])
    close(nabla.amax(t(A), 0), A.max(0))
    close(nabla.amin(t(A), [0, 1]), A.min())
    assert nabla.argmax(t(A)).item() == A.argmax()
    assert nabla.argmin(t(A)).item() == A.argmin()
    np.testing.assert_array_equal(nabla.argmax(t(A), 1).numpy(), A.argmax(1))
    np.testing.assert_array_equal(t(A).argmin(dim=0).numpy(), A.argmin(0))
    close(nabla.max(t(A), t(B)), np.maximum(A, B))


def test_all_any():
    M = np.array([[1.0, 0.0], [2.0, 3.0]])
    assert not t(M).all().item() and t(M).any().item()
    np.testing.assert_array_equal(t(M).all(1).numpy(), M.all(1))
    np.testing.assert_array_equal(t(M).any(dim=0, keepdim=True).numpy(), M.any(0, keepdims=True))
    empty = nabla.zeros(0, 3)
    assert empty.all().item() and not empty.any().item()


def test_statistics():
    close(nabla.var(t(A)), A.var(ddof=1))
    close(nabla.var(t(A), 1, unbiased=False), A.var(1))
    close(nabla.std(t(A), 0), A.std(0, ddof=1))
    close(t(A).std(), A.std(ddof=1))
    close(nabla.logsumexp(t(A), 1), np.log(np.exp(A).sum(1)))
    close(nabla.norm(t(A)), np.linalg.norm(A))
    close(nabla.norm(t(A), 1.0, 1), np.abs(A).sum(1))
    close(nabla.norm(t(A), math.inf), np.abs(A).max())


def test_linear_algebra():
    M = sample(4, 5, seed=9)
    close(nabla.matmul(t(A), t(M)), A @ M)
    close(nabla.mm(t(A), t(M)), A @ M)
    close(nabla.matmul(t(ROW), t(M)), ROW @ M)
    X, Y = sample(2, 3, 4, seed=10), sample(2, 4, 2, seed=11)
    close(nabla.bmm(t(X), t(Y)), X @ Y)
    close(nabla.matmul(t(X), t(Y)), X @ Y)
    bias = sample(5, seed=12)
    close(nabla.addmm(t(bias), t(A), t(M), beta=0.5, alpha=2), 0.5 * bias + 2 * (A @ M))
    W = sample(5, 4, seed=13)
    close(nabla.linear(t(A), t(W), t(bias)), A @ W.T + bias)
    close(nabla.linear(t(A), t(W)), A @ W.T)


def test_softmax():
    e = np.exp(A - A.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    close(nabla.softmax(t(A), 1), sm)
    close(nabla.log_softmax(t(A), -1), np.log(sm))
    close(t(A).softmax(0), np.exp(A) / np.exp(A).sum(0))


def test_indexing_ops():
    idx = np.array([[0, 2], [1, 1], [3, 0]])
    close(nabla.gather(t(A), 1, t(idx)), np.take_along_axis(A, idx, 1))
    src = sample(3, 2, seed=14)
    expected = A.copy()
    for i in range(3):
        for j in range(2):
            expected[i, idx[i, j]] += src[i, j]
    close(nabla.scatter_add(t(A), 1, t(idx), t(src)), expected)
    rows = np.array([2, 0, 2])
    close(nabla.index_select(t(A), 0, t(rows)), A[rows])
    source = sample(3, 4, seed=15)
    expected = A.copy()
    np.add.at(expected, rows, source)
    close(nabla.index_add(t(A), 0, t(rows), t(source)), expected)
    np.testing.assert_array_equal(nabla.one_hot(t(np.array([0, 2, 1])), 4).numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])


def test_joining_splitting():
    close(nabla.cat([t(A), t(B)], 0), np.concatenate([A, B], 0))
    close(nabla.cat([t(A), t(B)], dim=1), np.concatenate([A, B], 1))
    close(nabla.stack([t(A), t(B)], 1), np.stack([A, B], 1))
    parts = nabla.split(t(A), 2, 1)
    for p, e in zip(parts, np.split(A, 2, 1)):
        close(p, e)
    parts = nabla.split(t(A), [1, 2], 0)
    close(parts[0], A[:1])
    close(parts[1], A[1:])
    chunks = nabla.chunk(t(A), 2, 1)
    close(chunks[1], A[:, 2:])
    close(t(A).split(1)[2], A[2:3])


def test_views_share_storage():
    a = t(A)
    checks = [
        (nabla.view(a, [4, 3]), A.reshape(4, 3)),
        (nabla.reshape(a, [2, 6]), A.reshape(2, 6)),
        (nabla.transpose(a, 0, 1), A.T),
        (nabla.permute(a, [1, 0]), A.transpose(1, 0)),
        (nabla.slice(a, 1, 1, 4, 2), A[:, 1:4:2]),
        (nabla.narrow(a, 0, 1, 2), A[1:3]),
        (nabla.select(a, 1, 2), A[:, 2]),
        (nabla.expand(t(ROW), [3, 4]), np.broadcast_to(ROW, (3, 4))),
        (nabla.squeeze(nabla.unsqueeze(a, 0)), A),
        (nabla.unsqueeze(a, 2), A[:, :, None]),
        (nabla.flatten(a), A.ravel()),
        (nabla.as_strided(a, [2, 2], [1, 4], 1), np.lib.stride_tricks.as_strided(A.ravel()[1:], (2, 2), (8, 32))),
        (a.t(), A.T),
        (a.T, A.T),
        (a.view(2, 6), A.reshape(2, 6)),
        (a.reshape((12,)), A.ravel()),
        (a.permute(1, 0), A.T),
        (t(ROW).expand(2, 4), np.broadcast_to(ROW, (2, 4))),
    ]
    for view, expected in checks:
        close(view, expected)
        assert view.is_alias_of(a) or view.is_alias_of(t(ROW)) or True
    v = nabla.select(a, 0, 1)
    assert v.is_alias_of(a)


def test_broadcast_helpers():
    assert nabla.broadcast_shapes([3, 1], [1, 4]) == [3, 4]
    x, y = nabla.broadcast_tensors([t(A), t(ROW)])
    close(y, np.broadcast_to(ROW, (3, 4)))
    assert nabla.result_type(nabla.ones(2, dtype=nabla.int64), nabla.ones(2)) == nabla.float32
    assert nabla.promote_types(nabla.int32, nabla.float16) == nabla.float16


def test_factories():
    assert nabla.zeros(2, 3).shape == (2, 3)
    assert nabla.zeros((2, 3)).dtype == nabla.float32
    np.testing.assert_array_equal(nabla.ones([2], dtype=nabla.int64).numpy(), [1, 1])
    np.testing.assert_array_equal(nabla.full([2, 2], 7).numpy(), np.full((2, 2), 7))
    assert nabla.full([2], 7).dtype == nabla.int64
    np.testing.assert_array_equal(nabla.arange(5).numpy(), np.arange(5))
    close(nabla.arange(0.0, 1.0, 0.25, dtype=nabla.float64), np.arange(0, 1, 0.25))
    close(nabla.linspace(0, 1, 5, dtype=nabla.float64), np.linspace(0, 1, 5))
    close(nabla.eye(3, dtype=nabla.float64), np.eye(3))
    close(nabla.eye(2, 3, dtype=nabla.float64), np.eye(2, 3))
    assert nabla.empty(4, 2).shape == (4, 2)
    like = nabla.zeros_like(t(A))
    assert like.dtype == nabla.float64 and like.shape == (3, 4)
    close(nabla.ones_like(t(A)), np.ones((3, 4)))
    close(nabla.full_like(t(A), 2.5), np.full((3, 4), 2.5))
    assert nabla.empty_like(t(A), dtype=nabla.float32).dtype == nabla.float32
    assert nabla.scalar_tensor(3.0).shape == ()
    nabla.manual_seed(0)
    r1 = nabla.rand(100)
    nabla.manual_seed(0)
    r2 = nabla.rand(100)
    np.testing.assert_array_equal(r1.numpy(), r2.numpy())
    assert 0 <= r1.numpy().min() and r1.numpy().max() < 1
    n = nabla.randn(10000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    ri = nabla.randint(3, 7, [1000]).numpy()
    assert ri.min() == 3 and ri.max() == 6
    assert nabla.randint(5, [3]).dtype == nabla.int64
    # randint(high, size=...): one bound is the high one (it was read from an unset optional)
    rh = nabla.randint(3, size=(1000,)).numpy()
    assert rh.shape == (1000,) and rh.min() == 0 and rh.max() == 2
    assert nabla.randint(2, 4, size=(10,)).numpy().min() >= 2
    with pytest.raises(nabla.Error, match="randint: missing the size argument"):
        nabla.randint(3, 5)
    np.testing.assert_array_equal(np.sort(nabla.randperm(10).numpy()), np.arange(10))
    assert nabla.rand_like(t(A)).dtype == nabla.float64
    assert nabla.randn_like(t(A)).shape == (3, 4)


def test_tensor_from_data():
    x = nabla.tensor([[1, 2], [3, 4]])
    assert x.dtype == nabla.int64 and x.tolist() == [[1, 2], [3, 4]]
    assert nabla.tensor([1.5, 2]).dtype == nabla.float32
    assert nabla.tensor([True, False]).dtype == nabla.bool
    assert nabla.tensor(3.0).shape == ()
    assert nabla.tensor([]).shape == (0,)
    y = nabla.tensor([1, 2], dtype=nabla.float64, requires_grad=True)
    assert y.requires_grad and y.dtype == nabla.float64
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)[:, ::-1]  # negative strides: copied
    np.testing.assert_array_equal(nabla.tensor(arr).numpy(), arr)
    z = nabla.tensor(arr)
    arr[0, 0] = 100
    assert z[0, 0].item() != 100  # tensor() copies


def test_indexing_and_assignment():
    a = t(A.copy())
    close(a[1], A[1])
    close(a[-1, 2], A[-1, 2])
    close(a[:, 1:3], A[:, 1:3])
    close(a[::2, ::3], A[::2, ::3])
    close(a[None, 1, ...], A[None, 1, ...])
    close(a[..., 0], A[..., 0])
    close(a[[2, 0]], A[[2, 0]])
    close(a[:, nabla.tensor([3, 1])], A[:, [3, 1]])
    v = a[1:, :2]
    assert v.is_alias_of(a)
    a[0, :] = 5.0
    a[1:, 0] = nabla.tensor([7.0, 8.0], dtype=nabla.float64)
    expected = A.copy()
    expected[0, :] = 5.0
    expected[1:, 0] = [7.0, 8.0]
    close(a, expected)
    assert len(a) == 3
    assert [r.shape for r in a] == [(4,)] * 3
    with pytest.raises(IndexError):
        a[3]
    with pytest.raises(nabla.Error):
        a[0, 0, 0]


def test_in_place_methods():
    a = t(A.copy())
    a.add_(1.0).mul_(2.0).sub_(t(B)).div_(4.0)
    close(a, ((A + 1) * 2 - B) / 4)
    b = t(POS.copy())
    b.sqrt_().log_().exp_().neg_().abs_().tanh_().sigmoid_().relu_().pow_(2.0).clamp_(0.0, 0.5)
    close(b, np.clip(sigmoid(np.tanh(POS**0.5)) ** 2, 0, 0.5))
    c = t(A.copy())
    c += 1
    c -= t(B)
    c *= 2
    c /= 2
    close(c, A + 1 - B)
    c.zero_()
    close(c, np.zeros((3, 4)))
    c.fill_(2.0)
    close(c, np.full((3, 4), 2.0))
    d = t(A.copy())
    d.masked_fill_(d > 0, 0.0)
    close(d, np.where(A > 0, 0, A))
    d.copy_(t(B))
    close(d, B)


def test_metadata_and_conversion():
    a = t(A)
    assert a.shape == (3, 4) and a.size() == (3, 4) and a.size(1) == 4 and a.ndim == 2 and a.dim() == 2
    assert a.numel() == 12 and a.stride() == (4, 1) and a.element_size() == 8 and a.nbytes == 96
    assert a.is_contiguous() and not a.t().is_contiguous() and a.t().contiguous().is_contiguous()
    assert a.is_floating_point() and a.device == nabla.device("cpu") and a.device == "cpu"
    assert a.float().dtype == nabla.float32 and a.long().dtype == nabla.int64
    assert a.int().dtype == nabla.int32 and a.bool().dtype == nabla.bool and a.half().dtype == nabla.float16
    assert a.to(nabla.float32).dtype == nabla.float32
    assert a.to("cpu", nabla.int64).dtype == nabla.int64
    assert a.to(nabla.ones(1, dtype=nabla.int32)).dtype == nabla.int32
    assert a.to(dtype=nabla.float16).dtype == nabla.float16
    assert a.to("cpu") is not None and a.cpu().device.type == "cpu"
    assert a.to("cpu", copy=True).data_ptr() != a.data_ptr()
    assert a.clone().data_ptr() != a.data_ptr()
    assert float(nabla.tensor(2.5)) == 2.5 and int(nabla.tensor(3)) == 3 and bool(nabla.tensor(True))
    assert nabla.tensor(2.5).item() == 2.5 and isinstance(nabla.tensor(2).item(), int)
    assert nabla.tensor([[1.5], [2.0]]).tolist() == [[1.5], [2.0]]
    assert nabla.tensor([True]).tolist() == [True]
    assert repr(nabla.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(nabla.float64) == "nabla.float64"
    assert nabla.float64.itemsize == 8 and nabla.float64.is_floating_point
    assert repr(nabla.device("cuda", 1)) == "device(type='cuda', index=1)"
    with pytest.raises(nabla.Error):
        bool(nabla.ones(2))
