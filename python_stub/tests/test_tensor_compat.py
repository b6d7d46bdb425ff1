"""PyTorch programs' uses of Tensor and the factories (issue 15), each checked against PyTorch
1.13 itself: Tensor.data, new_zeros and friends, .T/.mT/.H/.mH, the device and dtype
predicates, __format__, reading and assigning through index tensors, lists, ranges and masks
(index_put_), and the size=/dtype=/device=/requires_grad= keywords of every factory."""
import numpy as np
import pytest

import nabla
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch

pytestmark = needs_torch

LIBS = ("nabla", "torch")


def lib(name):
    return nabla if name == "nabla" else torch


def values(t):
    """A tensor of either library as a NumPy array."""
    return np.asarray(t.detach().cpu().numpy()).copy()


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def same(n, t, atol=0.0):
    """n (nabla) holds t's (torch) values, shape and dtype."""
    assert tuple(n.shape) == tuple(t.shape)
    assert dtype_name(n) == dtype_name(t)
    np.testing.assert_allclose(values(n), values(t), rtol=0, atol=atol)


def pair(array):
    """The same float64 array as a nabla and a torch tensor."""
    return nabla.tensor(array), torch.tensor(array)


X = np.arange(60, dtype=np.float64).reshape(3, 4, 5)

# Index keys, built per library (L is nabla or torch), for X of shape [3, 4, 5].
KEYS = {
    "range and list": lambda L: (range(3), [0, 1, 3]),
    "int list": lambda L: [0, 2],
    "negative list": lambda L: [-1, -3],
    "list of lists (a tuple)": lambda L: [[0, 2], [1, 3]],
    "list holding a slice (a tuple)": lambda L: [0, slice(1, 3)],
    "broadcast tensors": lambda L: (L.tensor([[0], [2]]), L.tensor([1, 3])),
    "after a whole slice": lambda L: (slice(None), L.tensor([3, 0])),
    "separated": lambda L: (L.tensor([1, 2]), slice(None), L.tensor([4, 0])),
    "int then list": lambda L: (0, slice(None), [0, 1]),
    "NumPy int then tensor": lambda L: (np.int64(2), L.tensor([3, 1])),
    "0-dim tensor then list": lambda L: (L.tensor(1), [0, 2]),
    "ellipsis then list": lambda L: (Ellipsis, [1, -1]),
    "None then list": lambda L: (None, [0, 2]),
    "slice then list": lambda L: (slice(1, None), [0, 2]),
    "stepped slice then tensor": lambda L: (slice(0, 3, 2), slice(None), L.tensor([1, 4])),
    "full mask": lambda L: L.tensor(X) > 30,
    "mask on dim 0": lambda L: L.tensor([True, False, True]),
    "mask over dims 1 and 2": lambda L: (slice(None), L.tensor(X[0] % 3 == 0)),
    "bool list": lambda L: [True, False, True],
    "True": lambda L: True,
    "False": lambda L: False,
    "empty list": lambda L: [],
    "empty index tensor": lambda L: L.tensor([], dtype=L.int64),
}
# None of the keys writes an element twice (which PyTorch leaves undefined).
WRITE_KEYS = list(KEYS)


@pytest.mark.parametrize("name", KEYS)
def test_reading_through_index_tensors_lists_and_masks(name):
    n, t = pair(X)
    same(n[KEYS[name](nabla)], t[KEYS[name](torch)])


@pytest.mark.parametrize("name", WRITE_KEYS)
@pytest.mark.parametrize("kind", ["scalar", "full", "broadcast row"])
def test_assignment_through_index_tensors_lists_and_masks(name, kind):
    n, t = pair(X)
    shape = tuple(t[KEYS[name](torch)].shape)
    if kind == "scalar":
        nv, tv = -7.5, -7.5
    else:  # values of the indexed shape, or one row of its last dim, broadcast
        v_shape = shape[-1:] if kind == "broadcast row" else shape
        nv, tv = pair(1000 + np.arange(int(np.prod(v_shape)), dtype=np.float64).reshape(v_shape))
    n[KEYS[name](nabla)] = nv
    t[KEYS[name](torch)] = tv
    same(n, t)


def test_assignment_converts_numbers_but_not_tensors():
    got = {}
    for name in LIBS:
        L = lib(name)
        x = L.arange(12).reshape(3, 4)
        x[x > 8] = -1
        x[[0, 2], [1, 3]] = 2.7  # a number is converted (truncated) to the tensor's dtype
        x[range(3), L.tensor([0, 1, 2])] = L.tensor([7])
        y = L.zeros(3)
        y[[True, False, True]] = True
        got[name] = (x, y)
        with pytest.raises(RuntimeError, match="dtype"):  # tensors are not
            y[[0, 2]] = L.tensor([1.5, 2.5], dtype=L.float64)
    for a, b in zip(got["nabla"], got["torch"]):
        same(a, b)


EDGE = {
    "empty rows, empty list": ((0, 3), lambda L: []),
    "empty rows, mask": ((0, 3), lambda L: L.zeros(0, 3) > 0),
    "empty rows, columns": ((0, 3), lambda L: (slice(None), [1, 2])),
    "0-dim, True": ((), lambda L: True),
    "0-dim, None and False": ((), lambda L: (None, False)),
    "zero-size dim after the index": ((2, 0), lambda L: [1, 0, 1]),
}


@pytest.mark.parametrize("name", EDGE)
def test_indexing_empty_and_0_dim_tensors(name):
    shape, key = EDGE[name]
    n, t = pair(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) + 1)
    same(n[key(nabla)], t[key(torch)])
    n[key(nabla)] = -1.0
    t[key(torch)] = -1.0
    same(n, t)


def test_index_put_and_index_put_match_pytorch_with_accumulate():
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    out = {}
    for name in LIBS:
        L = lib(name)
        x = L.tensor(base)
        rows, cols = L.tensor([0, 2, 0]), L.tensor([1, 3, 1])
        v = L.tensor([10.0, 20.0, 30.0], dtype=L.float64)
        acc = x.clone().index_put_((rows, cols), v, accumulate=True)
        masked = x.index_put((x > 6,), L.tensor(-1.0, dtype=L.float64))
        rowput = L.index_put(x, (L.tensor([1]),), L.tensor([5.0, 6.0, 7.0, 8.0], dtype=L.float64))
        out[name] = (acc, masked, rowput, x)
    for a, b in zip(out["nabla"], out["torch"]):
        same(a, b)


def test_duplicate_writes_the_last_one_wins():
    x = nabla.zeros(4)
    x[[1, 3, 1, 1]] = nabla.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.tolist() == [0.0, 4.0, 0.0, 2.0]
    y = nabla.zeros(2, 2)
    y.index_put_((nabla.tensor([0, 0]), nabla.tensor([1, 1])), nabla.tensor([5.0, 6.0]))
    assert y.tolist() == [[0.0, 6.0], [0.0, 0.0]]


def test_gradients_through_indexing_and_assignment_match_pytorch():
    rng = np.random.default_rng(0)
    a0, v0, w0 = rng.normal(size=(4, 3)), rng.normal(size=(2,)), rng.normal(size=(4, 3))
    grads = {}
    for name in LIBS:
        L = lib(name)
        a = L.tensor(a0, requires_grad=True)
        v = L.tensor(v0, requires_grad=True)
        w = L.tensor(w0)
        y = a * 2.0  # a non-leaf: assignment through an index into it is recorded
        y[[3, 0], [2, 1]] = v
        picked = y[range(4), L.tensor([0, 2, 1, 1])]  # as a negative log-likelihood's pick
        (((y * w).sum() + (picked * picked).sum())).backward()
        buf = L.zeros(2, 3, dtype=L.float64)
        buf[L.tensor([1, 0]), [1]] = v  # into a tensor that does not require grad
        buf.sum().backward()
        grads[name] = (a.grad, v.grad, y, buf)
    for g, h in zip(grads["nabla"], grads["torch"]):
        same(g, h, atol=1e-12)


def test_index_put_gradcheck_in_float64():
    rng = np.random.default_rng(1)
    x = nabla.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    v = nabla.tensor(rng.normal(size=(3,)), requires_grad=True)
    rows, cols = nabla.tensor([2, 0, 2]), nabla.tensor([1, 3, 1])  # (2, 1) twice

    def fn(inputs):
        xi, vi = inputs
        return xi.index_put((rows, cols), vi) * 3.0 + nabla.index_put(xi, (None, cols), vi, accumulate=True)

    ok, err, msg = nabla.autograd.gradcheck(fn, [x, v], eps=1e-6, atol=1e-8, rtol=1e-6)
    assert ok, msg


def test_indexing_errors():
    x = nabla.zeros(3, 4)
    with pytest.raises(nabla.Error, match="index: index 5 is out of bounds for dim 0 with size 3"):
        x[[0, 5]]
    with pytest.raises(nabla.Error, match="index_put: index 4 is out of bounds for dim 1 with size 4"):
        x[[0], [4]] = 1.0
    with pytest.raises(nabla.Error, match="index: index 0 has dtype float32"):
        x[nabla.tensor([0.5])]
    with pytest.raises(nabla.Error, match=r"index_put: values of shape \[3\] cannot be broadcast to the indexed "
                                          r"shape \[2, 4\]"):
        x[[0, 1]] = nabla.ones(3)
    with pytest.raises(nabla.Error, match=r"index_put: values of dtype float64 differ"):
        x.index_put_((nabla.tensor([0]),), nabla.ones(4, dtype=nabla.float64))
    with pytest.raises(nabla.Error, match="too many indices"):
        x[[0], [0], [0]]
    with pytest.raises(nabla.Error, match=r"the mask of shape \[2\]"):
        x[nabla.tensor([True, False])]
    with pytest.raises(TypeError, match="unsupported index of type str"):
        x["a"]
    v = nabla.ones(2, requires_grad=True)
    with pytest.raises(nabla.Error, match=r"write ints as one-element lists \(x\[idx, \[1\]\] = v"):
        x[nabla.tensor([1, 0]), 1] = v
    with nabla.no_grad():
        x[nabla.tensor([1, 0]), 1] = v  # not recorded: written through the view
    assert x[:, 1].tolist() == [1.0, 1.0, 0.0]
    leaf = nabla.zeros(3, requires_grad=True)
    with pytest.raises(nabla.Error, match="index_put_: a leaf tensor that requires grad"):
        leaf[[0]] = 1.0


# ---- Tensor.data ---------------------------------------------------------------------------

def test_data_is_a_detached_alias():
    for name in LIBS:
        L = lib(name)
        p = L.ones(3, requires_grad=True)
        d = p.data
        assert not d.requires_grad and d.is_leaf
        d.mul_(3.0)
        p.data.add_(1.0)
        p.data.copy_(p.data * 2.0)
        assert p.tolist() == [8.0, 8.0, 8.0] and p.requires_grad
        p.data.fill_(0.5)
        assert p.tolist() == [0.5] * 3
        p.data.zero_()
        assert p.tolist() == [0.0] * 3


def test_setting_data_replaces_contents_and_shape_and_keeps_autograd_identity():
    results = {}
    for name in LIBS:
        L = lib(name)
        p = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (p * 2.0).sum().backward()
        p.data = p.data * 0.5
        halved = p.detach().clone()
        p.data = L.zeros(2, 2, dtype=L.float64)
        results[name] = (halved, p.detach().clone(), p.grad)
        assert p.requires_grad and p.is_leaf
        p.grad = None
        (p * 3.0).sum().backward()  # the new data takes part in the graph
        assert p.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    for a, b in zip(results["nabla"], results["torch"]):
        same(a, b)


def test_setting_data_reaches_module_parameters():
    lin = nabla.nn.Linear(2, 3)
    lin.weight.data = nabla.ones(3, 2)
    lin.bias.data.fill_(0.25)
    assert lin(nabla.ones(1, 2)).tolist() == [[2.25, 2.25, 2.25]]
    assert [tuple(q.shape) for q in lin.parameters()] == [(3, 2), (3,)]


def test_setting_data_to_something_else_is_an_error():
    p = nabla.zeros(2, requires_grad=True)
    with pytest.raises(TypeError):
        p.data = 3
    with pytest.raises(nabla.Error, match="set_data: a tensor that requires grad needs floating-point data"):
        p.data = nabla.zeros(2, dtype=nabla.int64)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.zeros(2, requires_grad=True).data = torch.zeros(2, dtype=torch.int64)


# ---- new_*, transposes, predicates, __format__ ----------------------------------------------

NEW = {
    "new_zeros ints": lambda x, L: x.new_zeros(2, 3),
    "new_zeros tuple": lambda x, L: x.new_zeros((2, 3)),
    "new_zeros size=": lambda x, L: x.new_zeros(size=(4,)),
    "new_ones dtype": lambda x, L: x.new_ones(2, dtype=L.int64),
    "new_ones list": lambda x, L: x.new_ones([1, 2], requires_grad=True),
    "new_empty": lambda x, L: x.new_empty(3, 1).fill_(2),
    "new_empty size=": lambda x, L: x.new_empty(size=(2,)).fill_(2),
    "new_full": lambda x, L: x.new_full((2, 2), 1.5 if x.is_floating_point() else 3),
    "new_full int": lambda x, L: x.new_full((3,), 7, dtype=L.int32),
    "new_tensor list": lambda x, L: x.new_tensor([1, 2, 3]),
    "new_tensor nested": lambda x, L: x.new_tensor([[1.5], [2.5]], dtype=L.float32, requires_grad=True),
    "new_tensor device": lambda x, L: x.new_tensor([True, False], device="cpu"),
}


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("src_dtype", ["float64", "int64"])
def test_new_factories_inherit_dtype_and_device(name, src_dtype):
    n = nabla.zeros(3, 2, dtype=getattr(nabla, src_dtype))
    t = torch.zeros(3, 2, dtype=getattr(torch, src_dtype))
    if src_dtype == "int64" and "requires_grad" in name:
        return
    try:
        want = NEW[name](t, torch)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            NEW[name](n, nabla)
        return
    got = NEW[name](n, nabla)
    same(got, want)
    assert got.requires_grad == want.requires_grad
    assert got.device.type == want.device.type


def test_new_factories_reject_unknown_keywords():
    x = nabla.zeros(2)
    for fn in ("new_zeros", "new_ones", "new_empty"):
        with pytest.raises(TypeError, match=rf"(?s){fn}\(\).*layuot"):
            getattr(x, fn)(2, layuot=None)
    with pytest.raises(TypeError, match="(?s)new_full.*fill"):
        x.new_full((2,), fill=1)
    with pytest.raises(TypeError, match="new_zeros\\(\\): argument 'size' must be a sequence of ints, not float"):
        x.new_zeros(2.5)


@pytest.mark.filterwarnings("ignore:The use of `x.T`")  # PyTorch's deprecation of T beyond 2-D
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
@pytest.mark.parametrize("attr", ["T", "mT", "mH", "H"])
def test_transposes(shape, attr):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    n, t = pair(a)
    try:
        want = getattr(t, attr)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e).split(".")[0]):
            getattr(n, attr)
        return
    same(getattr(n, attr), want)


PREDICATES = ["is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_sparse", "is_sparse_csr", "is_quantized",
              "is_mkldnn", "is_vulkan", "is_ipu", "is_ort", "is_nested", "is_leaf", "is_complex",
              "is_floating_point", "is_signed", "is_conj", "is_neg", "is_inference", "is_contiguous"]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool"])
def test_predicates_match_pytorch(dtype):
    n = nabla.zeros(2, 3, dtype=getattr(nabla, dtype)).t()
    t = torch.zeros(2, 3, dtype=getattr(torch, dtype)).t()
    for name in PREDICATES:
        a, b = getattr(n, name), getattr(t, name)
        if callable(b):
            a, b = a(), b()
        assert a == b, name
    assert n.is_same_size(nabla.zeros(3, 2)) and not n.is_same_size(nabla.zeros(2, 3))
    assert nabla.tensor([2.0]).is_nonzero() and not nabla.tensor(0).is_nonzero()
    with pytest.raises(nabla.Error, match="is_nonzero"):
        n.is_nonzero()


def test_format_as_pytorch():
    for name in LIBS:
        L = lib(name)
        loss = L.tensor(0.123456, dtype=L.float64)
        assert f"{loss:.4f}" == "0.1235"
        assert f"{loss}" == "0.123456"
        assert "{:5d}".format(L.tensor(42)) == "   42"
        assert f"{L.tensor(True)}" == "True"
        assert f"{L.tensor([1.5, 2.0])}" == str(L.tensor([1.5, 2.0]))
        with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
            f"{L.tensor([1.5]):.2f}"
        with pytest.raises(ValueError, match="Unknown format code 'd'"):
            "{:d}".format(L.tensor(1.5))


# ---- factories' keywords --------------------------------------------------------------------

FACTORIES = {
    "empty size=": lambda L: L.empty(size=(2, 3)).fill_(1.0),
    "zeros ints and keywords": lambda L: L.zeros(2, 3, dtype=L.float64, device="cpu", requires_grad=True),
    "zeros size= keywords": lambda L: L.zeros(size=[2], dtype=L.int32),
    "zeros 0-dim": lambda L: L.zeros(()),
    "zeros tensor size": lambda L: L.zeros(L.tensor(2), 3),
    "ones size=": lambda L: L.ones(size=(1, 2), requires_grad=True),
    "full": lambda L: L.full((2,), 1.5),
    "full keywords": lambda L: L.full(size=(2, 1), fill_value=3, dtype=L.float64, requires_grad=True),
    "full int": lambda L: L.full((3,), 2),
    "rand tuple": lambda L: L.rand((2, 3)).mul(0.0),
    "rand size=": lambda L: L.rand(size=(4,), dtype=L.float64).mul(0.0),
    "randn tuple": lambda L: L.randn((2, 3)).mul(0.0),
    "randn requires_grad": lambda L: L.randn(3, requires_grad=True).detach().mul(0.0).requires_grad_(),
    "randint high size=": lambda L: L.randint(5, size=(3,)).clamp(0, 0),
    "randint keywords": lambda L: L.randint(low=2, high=3, size=(2,), dtype=L.int32, device="cpu"),
    "randperm dtype": lambda L: L.randperm(4, dtype=L.int32).sort()[0] if L is torch else L.tensor(
        sorted(L.randperm(4, dtype=L.int32).tolist()), dtype=L.int32),
    "arange end=": lambda L: L.arange(end=5),
    "arange keywords": lambda L: L.arange(start=1, end=4, step=0.5, dtype=L.float64, requires_grad=True),
    "linspace keywords": lambda L: L.linspace(start=0, end=1, steps=5, dtype=L.float64),
    "eye keywords": lambda L: L.eye(n=2, m=3, dtype=L.int64),
    "zeros_like keywords": lambda L: L.zeros_like(input=L.ones(2), dtype=L.float64, requires_grad=True),
    "ones_like": lambda L: L.ones_like(L.zeros(2, dtype=L.int32)),
    "empty_like": lambda L: L.empty_like(L.zeros(2), dtype=L.float64).fill_(0.0),
    "full_like requires_grad": lambda L: L.full_like(L.zeros(2), 4.0, requires_grad=True),
    "rand_like dtype": lambda L: L.rand_like(L.zeros(2), dtype=L.float64).mul(0.0),
    "randn_like keywords": lambda L: L.randn_like(L.zeros(2), dtype=L.float64, requires_grad=True).detach().mul(0),
    "randint_like": lambda L: L.randint_like(L.zeros(3), 1),
    "randint_like low high": lambda L: L.randint_like(L.zeros(3, dtype=L.float64), 4, 5, dtype=L.int64),
    "tensor keywords": lambda L: L.tensor(data=[1, 2], dtype=L.float64, device="cpu", requires_grad=True),
    "scalar_tensor": lambda L: L.scalar_tensor(2, dtype=L.int64),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_factory_keywords_match_pytorch(name):
    nabla.manual_seed(0)
    got, want = FACTORIES[name](nabla), FACTORIES[name](torch)
    same(got, want)
    assert got.requires_grad == want.requires_grad


@pytest.mark.parametrize("fn", ["empty", "zeros", "ones", "rand", "randn", "full", "arange", "linspace", "eye",
                                "randint", "randperm", "zeros_like", "ones_like", "empty_like", "full_like",
                                "rand_like", "randn_like", "randint_like", "tensor", "scalar_tensor"])
def test_factories_reject_unknown_keywords_naming_both(fn):
    args = {"full": ((2,), 1.0), "arange": (3,), "linspace": (0, 1, 3), "eye": (2,), "randint": (3, (2,)),
            "randperm": (3,), "full_like": (nabla.zeros(2), 1.0), "randint_like": (nabla.zeros(2), 3),
            "tensor": ([1.0],), "scalar_tensor": (1.0,)}.get(fn, (nabla.zeros(2),) if fn.endswith("_like") else (2,))
    getattr(nabla, fn)(*args)  # the call itself is fine
    with pytest.raises(TypeError, match=rf"(?s){fn}\(\).*dtpye"):
        getattr(nabla, fn)(*args, dtpye=nabla.float64)


def test_factory_sizes_are_checked():
    with pytest.raises(TypeError, match=r"zeros\(\): argument 'size' must be a sequence of ints, not float"):
        nabla.zeros(2.0)
    with pytest.raises(TypeError, match=r"ones\(\): missing the size"):
        nabla.ones()
    with pytest.raises(TypeError, match=r"(?s)zeros\(\).*size"):
        nabla.zeros(2, 3, size=(2,))
    with pytest.raises(TypeError):
        torch.zeros(2, 3, size=(2,))


def test_in_place_methods_return_the_tensor_object_itself():
    # PyTorch: x.add_(1) is x, and x += 1 keeps x's identity (a copy of the handle would share the
    # data but break `is` checks and chained code that relies on identity).
    x = nabla.zeros(3, dtype=nabla.float64) + 1
    same = [
        x.add_(1), x.sub_(0.5), x.mul_(2), x.div_(2), x.add_(x, alpha=0.5), x.relu_(), x.exp_(), x.log_(),
        x.clamp_(0, 10), x.pow_(1), x.fill_(3.0), x.zero_(), x.copy_(nabla.ones(3, dtype=nabla.float64)),
        x.masked_fill_(x > 2, 0.0), x.index_put_([nabla.tensor([0])], nabla.tensor([5.0], dtype=nabla.float64)),
        x.uniform_(), x.normal_(), x.requires_grad_(False),
    ]
    assert all(r is x for r in same)
    y = x
    x += 1
    x *= 2
    assert x is y
    t = torch.zeros(3, dtype=torch.float64) + 1
    assert t.add_(1) is t  # what the test above mirrors


def test_view_family_sizes_as_factories():
    # view/reshape/expand/permute read their sizes as the factories do (one size_args): ints or
    # one sequence, and anything else is PyTorch's TypeError naming the method
    x = nabla.zeros(2, 3)
    assert x.view(3, 2).shape == (3, 2) and x.view((6,)).shape == (6,)
    assert x.reshape([-1]).shape == (6,) and x.permute(1, 0).shape == (3, 2)
    assert x.expand(2, 2, 3).shape == (2, 2, 3) and x.view(nabla.tensor(6)).shape == (6,)
    for method in ("view", "reshape", "expand", "permute"):
        with pytest.raises(TypeError, match=rf"{method}\(\): argument 'size' must be a sequence of ints, not float"):
            getattr(x, method)(2.5)
