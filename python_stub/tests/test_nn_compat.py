"""nn.Module as PyTorch 1.13's (issue 15): factory keyword arguments (device=, dtype=) on the
layers, inplace= on the activations and dropouts, Module.apply, flatten_parameters, the
iterator-returning traversals, and Python forwards that take several arguments and return
anything (tuples, dicts, None), through module(x), the forward hooks and Sequential. Compared
with PyTorch where it is importable."""
import numpy as np
import pytest

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from conftest import HAVE_TORCH, as_np, close, needs_torch, sample

if HAVE_TORCH:
    import torch

# ---- device= and dtype= --------------------------------------------------------------------

# Constructor arguments of every concrete layer class of nabla.nn (a new class fails
# test_every_layer_class_is_covered until it is listed here).
LAYER_ARGS = {
    "AdaptiveAvgPool2d": (2,),
    "AvgPool2d": (2,),
    "BCELoss": (),
    "BCEWithLogitsLoss": (),
    "BatchNorm1d": (3,),
    "BatchNorm2d": (3,),
    "Conv2d": (2, 3, 3),
    "ConvTranspose2d": (2, 3, 3),
    "CrossEntropyLoss": (),
    "Dropout": (),
    "Dropout2d": (),
    "ELU": (),
    "Embedding": (5, 3),
    "Flatten": (),
    "GELU": (),
    "GRU": (3, 4),
    "GRUCell": (3, 4),
    "HingeEmbeddingLoss": (),
    "Identity": (),
    "L1Loss": (),
    "LSTM": (3, 4),
    "LSTMCell": (3, 4),
    "LayerNorm": (3,),
    "LeakyReLU": (),
    "Linear": (3, 4),
    "LogSoftmax": (1,),
    "MSELoss": (),
    "MaxPool2d": (2,),
    "MultiMarginLoss": (),
    "NLLLoss": (),
    "RNN": (3, 4),
    "RNNCell": (3, 4),
    "ReLU": (),
    "Sequential": (),
    "SiLU": (),
    "Sigmoid": (),
    "SmoothL1Loss": (),
    "Softmax": (1,),
    "Softplus": (),
    "Tanh": (),
    "MultiheadAttention": (4, 2),
    "TransformerEncoderLayer": (4, 2, 8),
    "TransformerDecoderLayer": (4, 2, 8),
    "TransformerEncoder": (nn.TransformerEncoderLayer(4, 2, 8), 2),
    "TransformerDecoder": (nn.TransformerDecoderLayer(4, 2, 8), 2),
    "Transformer": (4, 2, 1, 1, 8),
}
# Bases that are not constructed (as torch.nn's _BatchNorm, RNNBase, RNNCellBase, _Loss).
ABSTRACT = {"Module", "BatchNorm", "Loss", "RNNBase", "RNNCellBase"}
# Those of torch.nn 1.13 that take device= and dtype= (the ones with parameters or buffers);
# checked against torch itself below where it is importable.
FACTORY = {"BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Embedding", "GRU", "GRUCell",
           "LSTM", "LSTMCell", "LayerNorm", "Linear", "RNN", "RNNCell", "MultiheadAttention",
           "TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"}


def layer_classes():
    # those bound in C++ (python_stub/src/nn.cpp); Python-level additions to nabla.nn are not
    c_nn = nabla._C.nn
    return sorted(n for n in dir(c_nn)
                  if isinstance(getattr(c_nn, n), type) and issubclass(getattr(c_nn, n), nn.Module))


def test_every_layer_class_is_covered():
    assert set(layer_classes()) - ABSTRACT == set(LAYER_ARGS)


@needs_torch
@pytest.mark.parametrize("name", sorted(LAYER_ARGS))
def test_factory_kwargs_are_accepted_where_pytorch_accepts_them(name):
    try:
        getattr(torch.nn, name)(*LAYER_ARGS[name], device="cpu", dtype=torch.float64)
        torch_accepts = True
    except TypeError:
        torch_accepts = False
    # torch.nn.Identity takes (and ignores) any arguments; nabla's too
    assert torch_accepts == (name in FACTORY or name == "Identity")


def dtype_map(named):
    return {n: str(t.dtype).split(".")[-1] for n, t in named}


@pytest.mark.parametrize("name", sorted(LAYER_ARGS))
def test_every_layer_takes_device_and_dtype_as_pytorch(name):
    cls, args = getattr(nn, name), LAYER_ARGS[name]
    if name not in FACTORY and name != "Identity":
        with pytest.raises(TypeError):
            cls(*args, device="cpu", dtype=nabla.float64)
        return
    m = cls(*args, device="cpu", dtype=nabla.float64)
    m2 = cls(*args, device=nabla.device("cpu"), dtype=nabla.float64)
    for mod in (m, m2):
        for n, p in mod.named_parameters():
            assert p.dtype == nabla.float64 and p.device == "cpu" and p.requires_grad and p.is_leaf, n
        for n, b in mod.named_buffers():
            assert b.dtype == (nabla.int64 if n.endswith("num_batches_tracked") else nabla.float64), n
    # the same parameters and buffers, of the same dtypes, as PyTorch's
    if HAVE_TORCH and name != "Identity":
        t = getattr(torch.nn, name)(*args, device="cpu", dtype=torch.float64)
        assert dtype_map(m.named_parameters()) == dtype_map(t.named_parameters())
        assert dtype_map(m.named_buffers()) == dtype_map(t.named_buffers())
        assert {n: p.shape for n, p in m.named_parameters()} == {n: tuple(p.shape) for n, p in t.named_parameters()}


@pytest.mark.parametrize("name", sorted(FACTORY))
def test_dtype_initialises_as_constructing_then_converting(name):
    # The documented choice: the layer draws its initialisation as always (float32) and is then
    # converted, so it holds exactly what Layer(...).to(dtype) holds.
    cls, args = getattr(nn, name), LAYER_ARGS[name]
    nabla.manual_seed(7)
    direct = cls(*args, dtype=nabla.float64)
    nabla.manual_seed(7)
    converted = cls(*args).to(nabla.float64)
    a, b = direct.state_dict(), converted.state_dict()
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype
        np.testing.assert_array_equal(as_np(a[k]), as_np(b[k]))
    nabla.manual_seed(7)
    half = cls(*args, dtype=nabla.float16)
    assert all(p.dtype == nabla.float16 for p in half.parameters())


def test_factory_kwargs_errors():
    with pytest.raises(nabla.Error, match="Linear: dtype must be a floating-point dtype .*got int64"):
        nn.Linear(3, 4, dtype=nabla.int64)
    with pytest.raises(nabla.Error, match="BatchNorm2d: dtype must be a floating-point dtype .*got bool"):
        nn.BatchNorm2d(3, dtype=nabla.bool)
    with pytest.raises(TypeError):  # keyword-only: positions differ from PyTorch's (Conv2d has no padding_mode)
        nn.Linear(3, 4, True, "cpu")
    if not nabla.cuda.is_available():
        with pytest.raises(nabla.Error):
            nn.Linear(3, 4, device="cuda")


# ---- inplace= --------------------------------------------------------------------------------

# (nabla layer, nabla functional, the torch layer's name, its arguments): layer(x) == fn(x, inplace).
ACTIVATIONS = [
    ("ReLU", (), lambda x, inplace: F.relu(x, inplace=inplace)),
    ("LeakyReLU", (0.2,), lambda x, inplace: F.leaky_relu(x, 0.2, inplace=inplace)),
    ("ELU", (0.7,), lambda x, inplace: F.elu(x, 0.7, inplace=inplace)),
    ("SiLU", (), lambda x, inplace: F.silu(x, inplace=inplace)),
]
DROPOUTS = [
    ("Dropout", (0.3,), lambda x, inplace: F.dropout(x, 0.3, True, inplace)),
    ("Dropout2d", (0.3,), lambda x, inplace: F.dropout2d(x, 0.3, True, inplace)),
]
ALL = ACTIVATIONS + DROPOUTS


def inputs(seed=0):
    return nabla.tensor(sample(2, 3, 4, 5, seed=seed))


@pytest.mark.parametrize("name,args,fn", ALL, ids=[a[0] for a in ALL])
def test_inplace_writes_into_the_input_and_returns_it(name, args, fn):
    for call in (lambda x, ip: getattr(nn, name)(*args, inplace=ip)(x), fn):
        nabla.manual_seed(3)
        ref = call(inputs(), False)
        x = inputs()
        v = x._version
        nabla.manual_seed(3)  # the same dropout mask
        y = call(x, True)
        assert y is x and x._version > v
        np.testing.assert_array_equal(as_np(x), as_np(ref))
    assert getattr(nn, name)(*args, inplace=True).inplace and not getattr(nn, name)(*args).inplace


@needs_torch
@pytest.mark.parametrize("name,args,fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_inplace_activations_match_pytorch_values_and_gradients(name, args, fn):
    xs = sample(2, 3, 4, 5, seed=1)
    w = sample(2, 3, 4, 5, seed=2)
    x = nabla.tensor(xs, requires_grad=True)
    h = x * 1.5  # a non-leaf: in place is allowed, and the gradient flows through it
    y = getattr(nn, name)(*args, inplace=True)(h)
    assert y is h
    (y * nabla.tensor(w)).sum().backward()
    tx = torch.tensor(xs, requires_grad=True)
    ty = getattr(torch.nn, name)(*args, inplace=True)(tx * 1.5)
    (ty * torch.tensor(w)).sum().backward()
    close(y, ty.detach().numpy())
    close(x.grad, tx.grad.numpy())
    # the functional form gives the same gradient
    x2 = nabla.tensor(xs, requires_grad=True)
    (fn(x2 * 1.5, True) * nabla.tensor(w)).sum().backward()
    close(x2.grad, tx.grad.numpy())


@pytest.mark.parametrize("name,args,fn", DROPOUTS, ids=[a[0] for a in DROPOUTS])
def test_inplace_dropout_gradients_equal_the_out_of_place_ones(name, args, fn):
    xs, w = sample(2, 3, 4, 5, seed=1), nabla.tensor(sample(2, 3, 4, 5, seed=2))
    grads = []
    for inplace in (False, True):
        x = nabla.tensor(xs, requires_grad=True)
        nabla.manual_seed(11)
        (getattr(nn, name)(*args, inplace=inplace)(x * 1.5) * w).sum().backward()
        grads.append(as_np(x.grad))
    np.testing.assert_array_equal(grads[0], grads[1])
    assert (grads[0] == 0).any() and (grads[0] != 0).any()  # some dropped, some kept


@pytest.mark.parametrize("name,args,fn", ALL, ids=[a[0] for a in ALL])
def test_inplace_on_a_leaf_that_requires_grad_is_an_error(name, args, fn):
    x = inputs().requires_grad_()
    with pytest.raises(nabla.Error, match="a leaf tensor that requires grad is being used in an in-place operation"):
        getattr(nn, name)(*args, inplace=True)(x)
    with pytest.raises(nabla.Error, match="a leaf tensor that requires grad is being used in an in-place operation"):
        fn(x, True)
    with nabla.no_grad():  # as PyTorch, allowed without grad mode
        assert getattr(nn, name)(*args, inplace=True)(x) is x


@pytest.mark.parametrize("name,args,fn", ALL, ids=[a[0] for a in ALL])
def test_inplace_on_a_tensor_saved_for_backward_fails_that_backward(name, args, fn):
    x = inputs().requires_grad_()
    s = x.sigmoid()  # sigmoid saves its output for backward
    getattr(nn, name)(*args, inplace=True)(s)
    with pytest.raises(nabla.Error, match="modified by an in-place operation"):
        s.sum().backward()


@needs_torch
@pytest.mark.parametrize("block", ["conv-bn-relu", "linear-layernorm-leaky", "embedding-elu", "flatten-silu"])
def test_inplace_after_layers_whose_output_is_an_internal_view(block):
    # batch_norm, layer_norm and embedding return a reshaped view of a temporary: nothing else
    # holds its storage, so writing it in place is safe, as PyTorch lets it be
    def build(lib, inplace):
        n = lib.nn
        return {"conv-bn-relu": lambda: n.Sequential(n.Conv2d(2, 3, 3), n.BatchNorm2d(3), n.ReLU(inplace=inplace)),
                "linear-layernorm-leaky": lambda: n.Sequential(n.Linear(5, 4), n.LayerNorm(4),
                                                               n.LeakyReLU(0.1, inplace=inplace)),
                "embedding-elu": lambda: n.Sequential(n.Embedding(6, 4), n.ELU(inplace=inplace)),
                "flatten-silu": lambda: n.Sequential(n.Linear(5, 4), n.Flatten(0), n.SiLU(inplace=inplace))}[block]()

    x = {"conv-bn-relu": sample(2, 2, 5, 5), "linear-layernorm-leaky": sample(3, 5), "flatten-silu": sample(3, 5),
         "embedding-elu": np.array([[1, 5, 0], [2, 2, 3]])}[block]
    ours, ref = build(nabla, True).to(nabla.float64), build(nabla, False).to(nabla.float64)
    ref.load_state_dict(ours.state_dict())
    theirs = build(torch, True).double()
    theirs.load_state_dict({k: torch.tensor(as_np(v)) for k, v in ours.state_dict().items()})
    w = sample(*theirs(torch.tensor(x)).shape, seed=4)
    for m in (ours, ref):
        (m(nabla.tensor(x)) * nabla.tensor(w)).sum().backward()
    (theirs(torch.tensor(x)) * torch.tensor(w)).sum().backward()
    for (n, p), (_, q), (_, t) in zip(ours.named_parameters(), ref.named_parameters(), theirs.named_parameters()):
        np.testing.assert_array_equal(as_np(p.grad), as_np(q.grad), err_msg=n)
        close(p.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_inplace_on_a_view_under_autograd_is_a_clear_error():
    # a view of a tensor that is still alive: PyTorch rebases the view's history; nabla refuses
    # instead of computing a wrong gradient for the base's other users
    h = inputs().requires_grad_() * 2
    with pytest.raises(nabla.Error, match="relu_: in-place operations on a view are not supported"):
        nn.ReLU(inplace=True)(h[0])
    t = inputs()  # without autograd a view is fine, and its base sees the write
    v = t[0]
    assert F.relu(v, inplace=True) is v
    assert (as_np(t[0]) >= 0).all() and (as_np(t[1]) < 0).any()


@needs_torch
def test_inplace_dropout_in_eval_mode_returns_the_input_untouched():
    for name in ("Dropout", "Dropout2d"):
        x, tx = inputs(), torch.tensor(sample(2, 3, 4, 5))
        v, tv = x._version, tx._version
        assert getattr(nn, name)(0.5, inplace=True).eval()(x) is x
        assert getattr(torch.nn, name)(0.5, inplace=True).eval()(tx) is tx
        assert x._version == v and tx._version == tv
    x = inputs()
    assert F.dropout(x, 0.5, training=False, inplace=True) is x


def test_trailing_underscore_functionals():
    for fn, ref in [(F.relu_, F.relu), (lambda t: F.leaky_relu_(t, 0.3), lambda t: F.leaky_relu(t, 0.3)),
                    (lambda t: F.elu_(t, 0.5), lambda t: F.elu(t, 0.5)), (F.silu_, F.silu)]:
        x = inputs()
        expected = as_np(ref(x))
        assert fn(x) is x
        np.testing.assert_array_equal(as_np(x), expected)
    for fn, ref in [(F.dropout_, F.dropout), (F.dropout2d_, F.dropout2d)]:
        nabla.manual_seed(5)
        expected = as_np(ref(inputs(), 0.4))
        x = inputs()
        nabla.manual_seed(5)
        assert fn(x, 0.4) is x
        np.testing.assert_array_equal(as_np(x), expected)
    with pytest.raises(nabla.Error, match="leaky_relu_: result type float32 cannot be cast to the in-place output"):
        F.leaky_relu_(nabla.tensor([1, -2]))
    with pytest.raises(nabla.Error, match="dropout_: probability must be in \\[0, 1\\], got 1.5"):
        F.dropout_(inputs(), 1.5)


@needs_torch
def test_inplace_reprs_match_pytorch():
    for name, args, _ in ALL:
        for inplace in (False, True):
            ours, theirs = getattr(nn, name)(*args, inplace=inplace), getattr(torch.nn, name)(*args, inplace=inplace)
            assert repr(ours) == repr(theirs)


def test_inplace_layers_in_a_sequential():
    nabla.manual_seed(0)
    f64 = {"dtype": nabla.float64}
    net = nn.Sequential(nn.Linear(5, 6, **f64), nn.ReLU(inplace=True), nn.Dropout(0.5, inplace=True),
                        nn.Linear(6, 2, **f64))
    nabla.manual_seed(0)
    ref = nn.Sequential(nn.Linear(5, 6, **f64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2, **f64))
    x = nabla.tensor(sample(4, 5))
    for m in (net, ref):
        nabla.manual_seed(1)
        m(x).sum().backward()
    for (n, p), (_, q) in zip(net.named_parameters(), ref.named_parameters()):
        np.testing.assert_array_equal(as_np(p.grad), as_np(q.grad), err_msg=n)


# ---- apply, flatten_parameters, iterators ------------------------------------------------


def make_nets():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Sequential(nn.Flatten(), nn.Linear(8, 3)))
    if not HAVE_TORCH:
        return net, None
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                               torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 3)))
    return net, tnet


def test_apply_visits_children_first_then_self_and_returns_self():
    net, tnet = make_nets()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear", "Sequential", "Sequential"]
    if tnet is not None:
        tseen = []
        tnet.apply(lambda m: tseen.append(type(m).__name__))
        assert seen == tseen

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    net.apply(init)
    assert (as_np(net[3][1].weight) == 0.5).all()

    class Custom(nn.Module):  # a Python subclass's own apply is the one called
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(2, 2)

        def forward(self, x):
            return self.inner(x)

    c = Custom()
    visited = []
    nn.Sequential(c).apply(visited.append)
    assert visited[0] is c.inner and visited[1] is c


def test_flatten_parameters_is_a_no_op():
    for cls in (nn.RNN, nn.LSTM, nn.GRU):
        nabla.manual_seed(0)
        m = cls(3, 4)
        x = nabla.tensor(sample(5, 2, 3), dtype=nabla.float32)
        before = as_np(m(x)[0])
        assert m.flatten_parameters() is None
        np.testing.assert_array_equal(as_np(m(x)[0]), before)


def test_traversals_are_iterators_as_pytorch():
    net, tnet = make_nets()
    for method in ("parameters", "buffers", "children", "modules", "named_parameters", "named_buffers",
                   "named_children", "named_modules"):
        it = getattr(net, method)()
        assert iter(it) is it, method  # an iterator, not a list
        first = next(it)
        rest = list(it)
        everything = list(getattr(net, method)())
        assert len(everything) == len(rest) + 1
        if tnet is not None:
            assert len(everything) == len(list(getattr(tnet, method)())), method
    assert next(net.parameters()).shape == (2, 1, 3, 3)
    assert next(net.modules()) is net and next(net.named_modules()) == ("", net)
    if tnet is not None:
        assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
        assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
        assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()]
        assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
        for kw in ({"prefix": "model"}, {"recurse": False}, {"prefix": "m", "recurse": True}):
            assert [n for n, _ in net[0].named_parameters(**kw)] == [n for n, _ in tnet[0].named_parameters(**kw)]
        assert [n for n, _ in net.named_modules(prefix="m")] == [n for n, _ in tnet.named_modules(prefix="m")]
        assert [n for n, _ in net[1].named_buffers("bn")] == [n for n, _ in tnet[1].named_buffers("bn")]
    assert list(net.parameters(recurse=False)) == []


def test_optimizers_and_clipping_take_the_iterators():
    net, _ = make_nets()
    x = nabla.tensor(sample(2, 1, 4, 4), dtype=nabla.float32)
    for opt in (nabla.optim.SGD(net.parameters(), lr=0.1),
                nabla.optim.Adam([{"params": net[0].parameters()}, {"params": net[3].parameters(), "lr": 1e-2}])):
        before = [as_np(p) for p in net.parameters()]
        opt.zero_grad()
        net(x).sum().backward()
        opt.step()
        assert any((as_np(p) != b).any() for p, b in zip(net.parameters(), before))
    assert len(opt.param_groups) == 2 and len(opt.param_groups[1]["params"]) == 2
    net(x).sum().backward()
    grads = [as_np(p.grad) for p in net.parameters()]
    total = np.sqrt(sum((g ** 2).sum() for g in grads))
    assert nn.utils.clip_grad_norm_(net.parameters(), 0.5) == pytest.approx(total, rel=1e-5)
    w = net[0].weight
    nn.utils.clip_grad_value_(w, 1e-3)  # one tensor, as PyTorch allows
    assert np.abs(as_np(w.grad)).max() <= np.float32(1e-3)
    with pytest.raises(nabla.Error, match="clip_grad_norm_: parameters must be tensors, got a str"):
        nn.utils.clip_grad_norm_(["x"], 1.0)


# ---- forward: any arguments, any result --------------------------------------------------


class Returns(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.lin = nn.Linear(3, 2)

    def forward(self, x):
        y = self.lin(x)
        return {"tuple": (y, x), "dict": {"y": y}, "list": [y, y], "none": None, "int": 7, "str": "s"}[self.kind]


@pytest.mark.parametrize("kind", ["tuple", "dict", "list", "none", "int", "str"])
def test_forward_may_return_anything_and_hooks_see_it(kind):
    m = Returns(kind)
    x = nabla.ones(4, 3)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append((mod, args, out)))
    out = m(x)
    expected = m.forward(x)
    assert type(out) is type(expected)
    if kind == "tuple":
        assert out[1] is x
    if kind == "dict":
        assert out["y"].shape == (4, 2)
    assert len(seen) == 1
    mod, args, hook_out = seen[0]
    assert mod is m and isinstance(args, tuple) and len(args) == 1 and args[0] is x and hook_out is out


def test_forward_with_several_arguments_and_keywords():
    class Cell(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x, hidden, mask=None, *, scale=1.0):
            h = self.lin(x) + hidden
            if mask is not None:
                h = h * mask
            return h * scale, h

    c = Cell()
    x, h0, mask = nabla.ones(2, 3), nabla.zeros(2, 3), nabla.tensor([[1.0, 0.0, 1.0]] * 2)
    seen = []
    c.register_forward_hook(lambda mod, args, out: seen.append(len(args)))
    y, h = c(x, h0)
    y2, _ = c(x, h0, mask=mask, scale=2.0)
    y3, _ = c(x, h0, mask)
    np.testing.assert_allclose(as_np(y2), 2 * as_np(y) * as_np(mask))
    np.testing.assert_array_equal(as_np(y3), as_np(y) * as_np(mask))
    assert seen == [2, 2, 3]  # as PyTorch 1.13: the hook gets the positional arguments only
    with pytest.raises(TypeError):
        c(x)


def test_a_forward_assigned_to_the_instance_is_the_one_called():
    class Plain(nn.Module):
        pass

    class Sub(nn.Linear):
        pass

    m, lin = Plain(), Sub(2, 2)
    m.forward = lambda x: x * 3
    lin.forward = lambda x: ("patched", x)
    close(m(nabla.ones(2, dtype=nabla.float64)), [3.0, 3.0])
    assert lin(nabla.ones(2))[0] == "patched"
    assert nn.Linear(2, 2)(nabla.ones(2)).shape == (2,)


@needs_torch
def test_forward_hook_results_replace_the_output_as_pytorch():
    def double(m, args, out):
        return out * 2

    def keep(m, args, out):
        return None

    for lib in (nabla, torch):
        lib.manual_seed(0)
    lin, tlin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    tlin.load_state_dict({k: torch.tensor(as_np(v)) for k, v in lin.state_dict().items()})
    for m in (lin, tlin):
        m.register_forward_hook(double)
        m.register_forward_hook(keep)
        m.register_forward_hook(double)
    xs = sample(4, 3)
    close(lin(nabla.tensor(xs, dtype=nabla.float32)), tlin(torch.tensor(xs, dtype=torch.float32)).detach().numpy(),
          rtol=1e-6, atol=1e-6)
    # inside a C++ Sequential too (the C++ container runs the child's hooks)
    seq = nn.Sequential(lin)
    close(seq(nabla.tensor(xs, dtype=nabla.float32)), tlin(torch.tensor(xs, dtype=torch.float32)).detach().numpy(),
          rtol=1e-6, atol=1e-6)
    # and for a Python forward returning a tuple: the hook's tuple is the result
    m = Returns("tuple")
    m.register_forward_hook(lambda mod, args, out: (out[0], "replaced"))
    assert m(nabla.ones(1, 3))[1] == "replaced"


def test_hook_handles_remove_their_hooks_as_pytorchs():
    lin = nn.Linear(2, 2)
    seen = []
    h = lin.register_forward_hook(lambda m, args, out: seen.append("fwd"))
    b = lin.register_backward_hook(lambda m, g: seen.append("bwd"))
    lin(nabla.ones(1, 2)).sum().backward()
    assert seen == ["fwd", "bwd"]
    h.remove()
    h.remove()  # twice is harmless
    lin.remove_backward_hook(b)  # the remove_*_hook spelling takes the handle too
    lin(nabla.ones(1, 2)).sum().backward()
    assert seen == ["fwd", "bwd"]
    with lin.register_forward_hook(lambda m, args, out: seen.append("with")):
        lin(nabla.ones(1, 2))
    lin(nabla.ones(1, 2))
    assert seen == ["fwd", "bwd", "with"]
    assert isinstance(h, nn.RemovableHandle) and isinstance(h.id, int)


def test_recurrent_layers_run_their_hooks():
    lstm = nn.LSTM(3, 4)
    seen = []
    lstm.register_forward_hook(lambda m, args, out: seen.append((len(args), type(out), type(out[1]))))
    x = nabla.tensor(sample(5, 2, 3), dtype=nabla.float32)
    out, (h, c) = lstm(x)
    lstm(x, (h, c))
    assert seen == [(1, tuple, tuple), (2, tuple, tuple)]
    cell = nn.GRUCell(3, 4)
    cell.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    cell(x[0])
    assert seen[-1] == (2, 4)


class Split(nn.Module):
    def forward(self, x):
        return x[:, :2], x[:, 2:]


class Join(nn.Module):
    def forward(self, pair):
        a, b = pair
        return a.sum(1) + b.sum(1)


class Nothing(nn.Module):
    def forward(self, x):
        return None


class IsNone(nn.Module):
    def forward(self, x):
        return x is None


def test_sequential_passes_any_value_along_as_pytorch():
    x = nabla.tensor(sample(3, 5))
    out = nn.Sequential(nn.Identity(), Split(), Join())(x)
    close(out, as_np(x).sum(1))
    assert nn.Sequential(Nothing(), IsNone())(x) is True
    assert nn.Sequential(Split())(x)[0].shape == (3, 2)
    assert nn.Sequential()(x) is x
    pair = (x, x)
    assert nn.Sequential(nn.Identity())(pair) is pair  # a tuple input is one value too
    # an LSTM's (output, (h, c)) reaches the next module as its one argument
    take = type("Take", (nn.Module,), {"forward": lambda self, o: o[0]})
    assert nn.Sequential(nn.LSTM(5, 4), take())(x.float().unsqueeze(1)).shape == (3, 1, 4)
    if HAVE_TORCH:
        tout = torch.nn.Sequential(torch.nn.Identity(), TorchSplit(), TorchJoin())(torch.tensor(as_np(x)))
        close(out, tout.numpy())


if HAVE_TORCH:
    class TorchSplit(torch.nn.Module):
        def forward(self, x):
            return x[:, :2], x[:, 2:]

    class TorchJoin(torch.nn.Module):
        def forward(self, pair):
            a, b = pair
            return a.sum(1) + b.sum(1)


def test_errors_name_what_calls_the_forward():
    class Wrong(nn.Module):
        def forward(self, x):
            return "not a tensor"

    assert Wrong()(nabla.ones(1)) == "not a tensor"  # no container involved: no error
    # the C++ Sequential.forward (the base Module.forward reaches it) needs tensors
    with pytest.raises(nabla.Error, match="Wrong.forward returned a str when called from C\\+\\+ code"):
        nn.Module.forward(nn.Sequential(Wrong()), nabla.ones(1))

    class Doubled(nn.Linear):
        def forward(self, x):
            return (super().forward(x) * 2, "extra")

    lin = Doubled(3, 2)
    y, extra = lin(nabla.ones(1, 3))  # a Python subclass of a C++ layer may return a tuple
    assert extra == "extra" and y.shape == (1, 2)
    with pytest.raises(nabla.Error, match="Doubled overrides forward in Python, but it subclasses the C\\+\\+ layer"):
        nn.Sequential(lin)
