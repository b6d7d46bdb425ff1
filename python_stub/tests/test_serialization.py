"""nabla.save / nabla.load (torch.save / torch.load) and pickling of tensors and modules."""
import collections
import copy
import io
import pickle
import struct

import numpy as np
import pytest

import nabla
import nabla.nn as nn
import nabla.serialization as ser
from conftest import as_np, needs_torch, sample

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool"]


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    nabla.save(obj, buf)
    buf.seek(0)
    return nabla.load(buf, **load_kwargs)


def same(a, b):
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape) and a.requires_grad == b.requires_grad
    assert str(a.device) == str(b.device)
    # compared as float64 (bfloat16 has no NumPy dtype); every value of these dtypes is exact there
    np.testing.assert_array_equal(as_np(a.detach().double()), as_np(b.detach().double()))


@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_keeps_its_values_shape_and_dtype(name):
    dt = getattr(nabla, name)
    x = nabla.tensor(sample(3, 5, seed=1) * 50).to(dt)
    for t in (x, x.t(), x[1], x[:, 1:4:2], nabla.tensor(7.0).to(dt), nabla.zeros(0, 4).to(dt)):
        back = roundtrip(t)
        same(back, t)
        assert back.is_contiguous()


def test_paths_file_objects_and_nested_containers(tmp_path):
    w = nabla.tensor(sample(4, 3), dtype=nabla.float64)
    obj = {
        "w": w,
        "list": [w * 2, 3, "text", None],
        "tuple": (w.float(), {"deep": [nabla.arange(5)]}),
        "od": collections.OrderedDict([("b", nabla.ones(2)), ("a", 1.5)]),
    }
    path = tmp_path / "obj.pt"
    nabla.save(obj, path)
    nabla.save(obj, str(tmp_path / "obj2.pt"))
    with open(tmp_path / "obj3.pt", "wb") as f:
        nabla.save(obj, f)
    for p in (path, str(tmp_path / "obj2.pt")):
        back = nabla.load(p)
        assert type(back["tuple"]) is tuple and type(back["od"]) is collections.OrderedDict
        assert list(back["od"]) == ["b", "a"] and back["list"][1:] == [3, "text", None]
        same(back["w"], w)
        same(back["list"][0], w * 2)
        same(back["tuple"][1]["deep"][0], nabla.arange(5))
    with open(tmp_path / "obj3.pt", "rb") as f:
        same(nabla.load(f)["w"], w)


def test_objects_saved_one_after_another_in_a_stream_load_in_turn():
    buf = io.BytesIO()
    nabla.save({"a": nabla.ones(2)}, buf)
    nabla.save([nabla.zeros(3)], buf)
    buf.seek(0)
    assert nabla.load(buf)["a"].tolist() == [1.0, 1.0]
    assert nabla.load(buf)[0].tolist() == [0.0, 0.0, 0.0]
    cut = io.BytesIO(buf.getvalue()[:-3])
    assert nabla.load(cut)["a"].tolist() == [1.0, 1.0]
    with pytest.raises(nabla.Error, match="truncated"):
        nabla.load(cut)


def test_requires_grad_and_parameters_survive_and_grads_are_not_saved():
    p = nn.Parameter(nabla.randn(3, 2))
    (p * p).sum().backward()
    plain = nabla.randn(2)
    back = roundtrip({"p": p, "plain": plain})
    assert back["p"].requires_grad and back["p"].is_leaf and back["p"].grad is None
    assert not back["plain"].requires_grad
    same(back["p"], p)


def test_a_tensor_reached_twice_is_loaded_once():
    t = nabla.randn(3)
    back = roundtrip([t, t, {"again": t}])
    assert back[0] is back[1] is back[2]["again"]
    lin = nn.Linear(3, 2)
    # two Python handles of one parameter (nabla hands out a new one per access)
    back = roundtrip([lin.weight, lin.weight])
    assert back[0] is back[1]


def test_module_state_dict_roundtrip_gives_the_same_outputs():
    nabla.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    x = nabla.randn(2, 1, 8, 8)
    model(x)  # running stats move
    model.eval()
    fresh = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    fresh.load_state_dict(roundtrip(model.state_dict()))
    fresh.eval()
    np.testing.assert_array_equal(as_np(fresh(x)), as_np(model(x)))


@pytest.mark.parametrize("make", [
    lambda ps: nabla.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: nabla.optim.Adam(ps, lr=0.05),
])
def test_optimizer_resumes_identically_from_a_saved_checkpoint(make, tmp_path):
    x, y = nabla.tensor(sample(8, 3, seed=2)).float(), nabla.tensor(sample(8, 2, seed=3)).float()

    def steps(model, opt, n):
        for _ in range(n):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()

    nabla.manual_seed(1)
    model = nn.Linear(3, 2)
    opt = make(model.parameters())
    steps(model, opt, 3)
    nabla.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    steps(model, opt, 4)  # the run that was not interrupted

    ckpt = nabla.load(tmp_path / "ckpt.pt", map_location="cpu")
    nabla.manual_seed(99)
    resumed = nn.Linear(3, 2)
    resumed.load_state_dict(ckpt["model"])
    ropt = make(resumed.parameters())
    ropt.load_state_dict(ckpt["opt"])
    steps(resumed, ropt, 4)
    assert ckpt["epoch"] == 3
    for a, b in zip(resumed.parameters(), model.parameters()):
        np.testing.assert_array_equal(as_np(a), as_np(b))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Dropout(0.25))
        self.head = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(nabla.ones(2))
        self.register_buffer("offset", nabla.full([2], 0.5))
        self.note = {"name": "net", "k": 3}

    def forward(self, x):
        return self.head(self.body(x)) * self.scale + self.offset


def check_same_module(a, b):
    assert type(a) is type(b)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        same(sa[k], sb[k])
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]


def test_whole_modules_pickle_and_load(tmp_path):
    nabla.manual_seed(3)
    net = Net()
    net.eval()
    nabla.save(net, tmp_path / "net.pt")
    back = nabla.load(tmp_path / "net.pt")
    check_same_module(back, net)
    assert back.note == {"name": "net", "k": 3} and not back.training and not back.body.training
    x = nabla.randn(5, 3)
    np.testing.assert_array_equal(as_np(back(x)), as_np(net(x)))
    # the attribute and the registered parameter stay one tensor: training the copy moves both
    assert back.scale.data_ptr() == dict(back.named_parameters())["scale"].data_ptr()
    back2 = pickle.loads(pickle.dumps(net))
    check_same_module(back2, net)
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False)
    check_same_module(pickle.loads(pickle.dumps(conv)), conv)


LAYERS = [
    lambda: nn.Linear(3, 2, bias=False), lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1),
    lambda: nn.ConvTranspose2d(2, 3, 3, stride=2), lambda: nn.BatchNorm1d(3, affine=False),
    lambda: nn.BatchNorm2d(3, momentum=0.2), lambda: nn.LayerNorm(4), lambda: nn.Embedding(10, 3, padding_idx=1),
    lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True), lambda: nn.GRU(3, 4),
    lambda: nn.LSTMCell(3, 4), lambda: nn.GRUCell(3, 4), lambda: nn.RNNCell(3, 4, nonlinearity="relu"),
    lambda: nn.MaxPool2d(3, stride=2, padding=1), lambda: nn.AvgPool2d(2), lambda: nn.AdaptiveAvgPool2d((2, 3)),
    lambda: nn.Dropout(0.1), lambda: nn.Dropout2d(0.2), lambda: nn.Flatten(0, 2), lambda: nn.Softmax(0),
    lambda: nn.LogSoftmax(1), lambda: nn.LeakyReLU(0.2), lambda: nn.ELU(0.5), lambda: nn.GELU(),
    lambda: nn.Softplus(2, 10), lambda: nn.Identity(), lambda: nn.SiLU(), lambda: nn.Sigmoid(),
]


@pytest.mark.parametrize("make", LAYERS)
def test_each_layer_is_rebuilt_with_its_arguments_and_values(make):
    nabla.manual_seed(5)
    layer = make()
    back = pickle.loads(pickle.dumps(layer))
    assert back.extra_repr() == layer.extra_repr()
    check_same_module(back, layer)


def test_modules_whose_arguments_are_not_recoverable_refuse_to_pickle():
    with pytest.raises(TypeError, match="state_dict"):
        pickle.dumps(nn.CrossEntropyLoss(reduction="sum"))
    with pytest.raises(TypeError, match="state_dict"):
        pickle.dumps(nn.RNN(3, 4, nonlinearity="relu"))


def test_deepcopy_of_tensors_and_modules_is_independent():
    t = nabla.randn(3, requires_grad=True)
    c = copy.deepcopy(t)
    same(c, t)
    with nabla.no_grad():
        c.add_(1.0)
    assert not np.array_equal(as_np(c), as_np(t))
    nabla.manual_seed(4)
    net = Net()
    twin = copy.deepcopy(net)
    check_same_module(twin, net)
    with nabla.no_grad():
        twin.head.weight.mul_(0.0)
    assert np.abs(as_np(net.head.weight)).sum() > 0
    assert np.abs(as_np(twin.head.weight)).sum() == 0
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    check_same_module(copy.deepcopy(seq), seq)


def test_pickle_of_tensors_dtypes_and_devices():
    t = nabla.randn(2, 3).to(nabla.float16)
    same(pickle.loads(pickle.dumps(t)), t)
    assert pickle.loads(pickle.dumps(nabla.bfloat16)) is nabla.bfloat16
    assert str(pickle.loads(pickle.dumps(nabla.device("cuda:1")))) == "cuda:1"


def saved_on(location, values):
    """Bytes of nabla.save output holding one float32 tensor recorded as living on `location`
    (how a file written on a GPU machine looks), built without a GPU."""

    class OnDevice:
        def __reduce__(self):
            data = np.asarray(values, dtype="<f4").tobytes()
            return (ser._rebuild_tensor, ("float32", (len(values),), data, False, location))

    buf = io.BytesIO()
    nabla.save({"w": OnDevice()}, buf)
    return buf.getvalue()


def test_map_location_forms():
    raw = saved_on("cuda:0", [1.0, 2.0, 3.0])
    for ml in ("cpu", nabla.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        w = nabla.load(io.BytesIO(raw), map_location=ml)["w"]
        assert str(w.device) == "cpu" and w.tolist() == [1.0, 2.0, 3.0]
    seen = []

    def record(storage, loc):
        seen.append((loc, str(storage.device)))
        return None if loc == "cpu" else storage * 2  # None: the default placement

    assert nabla.load(io.BytesIO(raw), map_location=record)["w"].tolist() == [2.0, 4.0, 6.0]
    assert seen == [("cuda:0", "cpu")]
    assert roundtrip({"c": nabla.ones(2)}, map_location=record)["c"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="map_location"):
        nabla.load(io.BytesIO(raw), map_location=3)
    with pytest.raises(TypeError, match="map_location returned"):
        nabla.load(io.BytesIO(raw), map_location=lambda s, loc: "cpu")


@pytest.mark.skipif(nabla.cuda.is_available(), reason="checks the CPU-only error")
def test_a_cuda_file_on_a_cpu_only_machine_asks_for_map_location():
    raw = saved_on("cuda:0", [1.0])
    with pytest.raises(nabla.Error, match="map_location='cpu'"):
        nabla.load(io.BytesIO(raw))
    with pytest.raises(nabla.Error, match="is_available"):
        nabla.load(io.BytesIO(saved_on("cpu", [1.0])), map_location={"cpu": "cuda:0"})


def test_corrupt_truncated_and_foreign_files_are_clear_errors(tmp_path):
    buf = io.BytesIO()
    nabla.save({"w": nabla.randn(100)}, buf)
    raw = buf.getvalue()
    assert raw[:8] == ser.MAGIC and struct.unpack_from("<I", raw, 8)[0] == ser.FORMAT_VERSION
    cases = {
        "not a nabla.save file": b"hello, world, this is text",
        "not a nabla.save file ": b"",
        "truncated": raw[: len(raw) // 2],
        "trailing": raw + b"x",
        "corrupt": raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:],
        "format version 7": raw[:8] + struct.pack("<I", 7) + raw[12:],
    }
    for what, data in cases.items():
        p = tmp_path / "bad.pt"
        p.write_bytes(data)
        with pytest.raises(nabla.Error, match=what.strip()) as err:
            nabla.load(p)
        assert "bad.pt" in str(err.value)


@pytest.mark.parametrize("name", ["float32", "bfloat16"])
def test_tensor_data_that_does_not_fit_its_shape_is_an_error(name):
    class Short:
        def __reduce__(self):
            return (ser._rebuild_tensor, (name, (3,), b"\x00" * 5, False, "cpu"))

    buf = io.BytesIO()
    nabla.save([Short()], buf)
    buf.seek(0)
    with pytest.raises(nabla.Error):
        nabla.load(buf)


@needs_torch
def test_a_pytorch_checkpoint_is_named_as_one(tmp_path):
    import torch

    torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")
    with pytest.raises(nabla.Error, match="PyTorch"):
        nabla.load(tmp_path / "torch.pt")


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_weights_only_loads_tensors_and_refuses_other_classes():
    sd = nn.Linear(2, 2).state_dict()
    back = roundtrip(collections.OrderedDict(sd), weights_only=True)
    assert list(back) == list(sd)
    with pytest.raises(nabla.Error, match="builtins.print"):
        roundtrip({"x": Evil()}, weights_only=True)


def test_a_load_inside_map_location_keeps_the_outer_one():
    inner = saved_on("cuda:0", [5.0])

    def ml(storage, loc):
        nabla.load(io.BytesIO(inner), map_location="cpu")
        return None

    assert roundtrip({"a": nabla.ones(1)}, map_location=ml)["a"].tolist() == [1.0]
