"""nn modules (built-in and Python subclasses), functional layers, init, optimizers and
schedulers, data loading and safetensors from Python, against NumPy references."""
import numpy as np
import pytest

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from conftest import close, sample


def f64(x):
    return nabla.tensor(np.asarray(x), dtype=nabla.float64)


def test_linear_module_matches_numpy():
    nabla.manual_seed(0)
    lin = nn.Linear(3, 2).double()
    x = sample(5, 3)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.shape == (2, 3) and np.all(np.abs(w) <= 1 / np.sqrt(3))
    close(lin(f64(x)), x @ w.T + b)
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=True)"
    assert lin.num_parameters() == 8


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 2)
        self.scale = nn.Parameter(nabla.ones(2))
        self.register_buffer("steps", nabla.zeros(1))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_python_subclass_registers_and_runs():
    nabla.manual_seed(1)
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert list(net.state_dict()) == ["scale", "steps"] + names[1:]  # own entries first, as PyTorch
    assert "Net(" in repr(net) and "(fc1): Linear(in_features=4" in repr(net)
    x = nabla.randn(3, 4)
    y = net(x)
    ref = np.maximum(x.numpy() @ net.fc1.weight.numpy(force=True).T + net.fc1.bias.numpy(force=True), 0)
    ref = (ref @ net.fc2.weight.numpy(force=True).T + net.fc2.bias.numpy(force=True))
    np.testing.assert_allclose(y.numpy(force=True), ref, rtol=1e-5, atol=1e-6)
    # Inside a C++ container, the Python forward is what runs.
    seq = nn.Sequential(net, nn.Sigmoid())
    np.testing.assert_allclose(seq(x).numpy(force=True), 1 / (1 + np.exp(-ref)), rtol=1e-5, atol=1e-6)
    assert len(seq) == 2 and isinstance(seq[1], nn.Sigmoid)
    y.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.training and not net.eval().training and net.train().training


def test_state_dict_round_trip_through_safetensors(tmp_path):
    nabla.manual_seed(2)
    a, b = Net(), Net()
    path = str(tmp_path / "net.safetensors")
    nabla.io.save_safetensors(path, a.state_dict(), {"note": "test"})
    loaded = nabla.io.load_safetensors(path)
    assert list(loaded) == list(a.state_dict())
    assert nabla.io.load_safetensors_metadata(path) == {"note": "test"}
    b.load_state_dict(loaded)
    x = nabla.randn(2, 4)
    np.testing.assert_array_equal(a(x).numpy(force=True), b(x).numpy(force=True))
    with pytest.raises(nabla.Error):
        b.load_state_dict({"nope": nabla.ones(1)})
    (tmp_path / "bad.safetensors").write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    with pytest.raises(nabla.Error, match="bad.safetensors"):
        nabla.io.load_safetensors(str(tmp_path / "bad.safetensors"))


def test_conv_stack_layers():
    nabla.manual_seed(4)
    x = nabla.randn(2, 3, 8, 8)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    assert conv(x).shape == (2, 4, 8, 8)
    assert nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)(x).shape == (2, 2, 16, 16)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(2, stride=1)(x).shape == (2, 3, 7, 7)
    assert nn.AdaptiveAvgPool2d((1, 1))(x).shape == (2, 3, 1, 1)
    bn = nn.BatchNorm2d(3)
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y.mean((0, 2, 3)), 0, atol=1e-5)
    assert bn.running_mean.numpy().any()
    assert nn.BatchNorm1d(3)(nabla.randn(4, 3)).shape == (4, 3)
    ln = nn.LayerNorm([8])
    np.testing.assert_allclose(ln(x).detach().numpy().mean(-1), 0, atol=1e-5)
    assert nn.Dropout2d(0.5).eval()(x).numpy().tolist() == x.numpy().tolist()
    values, idx = F.max_pool2d(x, 2, return_indices=True)
    assert values.shape == idx.shape == (2, 3, 4, 4) and idx.dtype == nabla.int64
    xs = x.numpy().astype(np.float64)
    close(F.avg_pool2d(f64(xs), 2), xs.reshape(2, 3, 4, 2, 4, 2).mean((3, 5)))
    close(F.adaptive_avg_pool2d(f64(xs), 1), xs.mean((2, 3), keepdims=True))
    w = sample(4, 3, 3, 3, seed=5)
    out = F.conv2d(f64(xs), f64(w), stride=2)
    ref = np.zeros((2, 4, 3, 3))
    for i in range(3):
        for j in range(3):
            patch = xs[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            ref[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    close(out, ref, rtol=1e-9)
    rm, rv = nabla.zeros(3, dtype=nabla.float64), nabla.ones(3, dtype=nabla.float64)
    close(F.batch_norm(f64(xs), rm, rv), xs / np.sqrt(1 + 1e-5), rtol=1e-9)
    close(F.layer_norm(f64(xs), [8]), (xs - xs.mean(-1, keepdims=True)) / np.sqrt(xs.var(-1, keepdims=True) + 1e-5), rtol=1e-7)


def test_activation_modules_and_losses():
    x, y = sample(4, 3, seed=6), sample(4, 3, seed=7)
    X, Y = f64(x), f64(y)
    close(nn.Tanh()(X), np.tanh(x))
    close(nn.LeakyReLU(0.1)(X), np.where(x > 0, x, 0.1 * x))
    close(nn.Softmax(1)(X), np.exp(x) / np.exp(x).sum(1, keepdims=True))
    close(nn.LogSoftmax(1)(X), x - np.log(np.exp(x).sum(1, keepdims=True)))
    close(nn.ELU()(X), np.where(x > 0, x, np.expm1(x)))
    close(nn.Softplus()(X), np.log1p(np.exp(x)))
    close(nn.SiLU()(X), x / (1 + np.exp(-x)))
    close(nn.Flatten()(f64(sample(2, 3, 4))), sample(2, 3, 4).reshape(2, 12))
    close(nn.Identity()(X), x)
    assert nn.GELU()(X).shape == (4, 3) and nn.Dropout(0.3).eval()(X).numpy().tolist() == x.tolist()
    close(nn.MSELoss()(X, Y), ((x - y) ** 2).mean())
    close(F.mse_loss(X, Y, reduction="sum"), ((x - y) ** 2).sum())
    close(nn.L1Loss(reduction="none")(X, Y), np.abs(x - y))
    d = np.abs(x - y)
    close(nn.SmoothL1Loss()(X, Y), np.where(d < 1, 0.5 * d**2, d - 0.5).mean())
    target = np.array([0, 2, 1, 2])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    close(nn.CrossEntropyLoss()(X, nabla.tensor(target)), -logp[np.arange(4), target].mean())
    close(F.nll_loss(f64(logp), nabla.tensor(target), reduction="sum"), -logp[np.arange(4), target].sum())
    p = 1 / (1 + np.exp(-x))
    t01 = (y > 0).astype(np.float64)
    bce = -(t01 * np.log(p) + (1 - t01) * np.log(1 - p)).mean()
    close(nn.BCELoss()(f64(p), f64(t01)), bce)
    close(nn.BCEWithLogitsLoss()(X, f64(t01)), bce)
    pm = np.where(y > 0, 1.0, -1.0)
    close(nn.HingeEmbeddingLoss()(X, f64(pm)), np.where(pm > 0, x, np.maximum(0, 1 - x)).mean())
    mm = np.maximum(0, 1 - x[np.arange(4), target][:, None] + x)
    mm[np.arange(4), target] = 0
    close(nn.MultiMarginLoss()(X, nabla.tensor(target)), (mm.sum(1) / 3).mean())
    with pytest.raises(nabla.Error, match="reduction"):
        F.mse_loss(X, Y, reduction="avg")


def test_init_functions():
    w = nabla.empty(64, 32)
    nn.init.constant_(w, 0.5)
    assert np.all(w.numpy() == 0.5)
    nn.init.xavier_uniform_(w)
    bound = np.sqrt(6 / (64 + 32))
    assert np.abs(w.numpy()).max() <= bound and w.numpy().std() > bound / 3
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - np.sqrt(2 / 64)) < 0.03
    nn.init.zeros_(w)
    assert not w.numpy().any()
    assert nn.init.calculate_gain("relu") == pytest.approx(np.sqrt(2))


def quadratic_steps(make_opt, steps=60):
    """Minimise |x - 3|^2 from 0; returns x."""
    x = nabla.zeros(2, dtype=nabla.float64, requires_grad=True)
    opt = make_opt([x])
    for _ in range(steps):
        opt.zero_grad()
        ((x - 3.0) ** 2).sum().backward()
        opt.step()
    return x.detach().numpy()


def test_optimizers_converge_and_sgd_matches_formula():
    x = quadratic_steps(lambda p: nabla.optim.SGD(p, lr=0.1), steps=1)
    np.testing.assert_allclose(x, [0.6, 0.6])  # 0 - 0.1 * 2 * (0 - 3)
    for make in [lambda p: nabla.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                 lambda p: nabla.optim.Adam(p, lr=0.3),
                 lambda p: nabla.optim.AdamW(p, lr=0.3, weight_decay=0.0),
                 lambda p: nabla.optim.RMSprop(p, lr=0.1),
                 lambda p: nabla.optim.Adagrad(p, lr=1.0)]:
        np.testing.assert_allclose(quadratic_steps(make, steps=200), [3, 3], atol=0.05)


def test_param_groups_state_dict_and_schedulers():
    a = nabla.ones(2, requires_grad=True)
    b = nabla.ones(2, requires_grad=True)
    opt = nabla.optim.Adam([{"params": [a], "lr": 0.5}, {"params": [b], "betas": (0.8, 0.9)}], lr=0.1)
    groups = opt.param_groups
    assert groups[0]["lr"] == 0.5 and groups[1]["lr"] == 0.1 and groups[1]["beta1"] == 0.8
    (a.sum() + b.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert any(k.startswith("state.") for k in sd)
    opt2 = nabla.optim.Adam([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.1)
    opt2.load_state_dict(sd)
    sgd = nabla.optim.SGD([a], lr=1.0)
    sched = nabla.optim.lr_scheduler.StepLR(sgd, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        sched.step()
        lrs.append(sgd.get_lr())
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25] and sched.last_epoch == 5
    cos = nabla.optim.lr_scheduler.CosineAnnealingLR(nabla.optim.SGD([a], lr=1.0), T_max=4)
    cos.step()
    assert cos.get_last_lr()[0] == pytest.approx((1 + np.cos(np.pi / 4)) / 2)
    assert nabla.optim.lr_scheduler.ExponentialLR(sgd, 0.9) is not None
    assert nabla.optim.lr_scheduler.MultiStepLR(sgd, [1, 3]) is not None
    assert nabla.optim.lr_scheduler.LinearLR(sgd) is not None
    plateau = nabla.optim.lr_scheduler.ReduceLROnPlateau(sgd, patience=0, factor=0.5)
    sgd.set_lr(1.0)
    plateau.step(1.0)
    plateau.step(2.0)
    assert sgd.get_lr() == 0.5
    del opt  # a scheduler keeps its optimizer alive
    s2 = nabla.optim.lr_scheduler.StepLR(nabla.optim.SGD([a], lr=1.0), 1)
    s2.step()
    assert s2.get_last_lr() == [0.1]
    norm = nabla.nn.utils.clip_grad_norm_([a, b], 0.1)
    assert norm > 0.1 and np.sqrt((a.grad.numpy() ** 2).sum() + (b.grad.numpy() ** 2).sum()) == pytest.approx(0.1, rel=1e-4)


def test_data_loader():
    data = nabla.arange(10, dtype=nabla.float32).view(10, 1)
    targets = nabla.arange(10)
    ds = nabla.data.TensorDataset(data, targets)
    assert len(ds) == 10 and ds[3][1].item() == 3
    loader = nabla.data.DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert batches[2][1].tolist() == [8, 9]
    shuffled = nabla.data.DataLoader(ds, batch_size=5, shuffle=True, drop_last=True, seed=1)
    seen = sorted(v for _, y in shuffled for v in y.tolist())
    assert seen == list(range(10))
    again = [y.tolist() for _, y in nabla.data.DataLoader(ds, batch_size=5, shuffle=True, seed=1)]
    assert again != [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    with pytest.raises(nabla.Error):
        nabla.data.DataLoader(ds, batch_size=0)
    with pytest.raises(IndexError):
        ds[10]


def test_gil_is_released_in_long_calls():
    """While a thread runs a long matmul, the main thread keeps running Python. Holding the GIL
    would stall it for the whole product; a loaded machine may stall it for a while too, so
    one clean attempt out of three passes (a GIL-holding binding fails all three)."""
    import threading
    import time

    for n in (1200, 1800, 2400, 3200):  # a product long enough to see a stall
        a = nabla.randn(n, n, dtype=nabla.float64)
        start = time.perf_counter()
        a @ a
        duration = time.perf_counter() - start
        if duration >= 0.1:
            break
    if duration < 0.05:
        pytest.skip(f"matmul too fast here ({duration * 1e3:.1f} ms) to see the GIL")
    stalls = []
    for _ in range(3):
        started = threading.Event()

        def work():
            started.set()
            a @ a

        th = threading.Thread(target=work)
        th.start()
        started.wait()
        worst, last = 0.0, time.perf_counter()
        while th.is_alive():
            now = time.perf_counter()
            worst, last = max(worst, now - last), now
        th.join()
        stalls.append(worst)
        if worst < duration / 2:
            return
    pytest.fail(f"main thread stalled {[round(s * 1e3, 1) for s in stalls]} ms during a {duration * 1e3:.1f} ms matmul")


def test_safetensors_bytes_and_checkpoints(tmp_path):
    tensors = {"a": nabla.arange(6, dtype=nabla.float64).view(2, 3), "b": nabla.tensor([True, False])}
    data = nabla.io.serialize_safetensors(tensors, {"k": "v"})
    header = int.from_bytes(data[:8], "little")
    assert b'"a":{"dtype":"F64","shape":[2,3]' in data[8:8 + header].replace(b" ", b"")
    back, meta = nabla.io.parse_safetensors(data)
    assert meta == {"k": "v"} and back["a"].tolist() == tensors["a"].tolist() and back["b"].tolist() == [True, False]
    with pytest.raises(nabla.Error, match="mine"):
        nabla.io.parse_safetensors(data[:-1], "mine")
    path = str(tmp_path / "ckpt.safetensors")
    nabla.io.save_checkpoint(path, tensors, {"epoch": "3"})
    loaded, meta = nabla.io.load_checkpoint(path)
    assert meta == {"epoch": "3"} and loaded["a"].tolist() == tensors["a"].tolist()
    raw = bytearray(open(path, "rb").read())
    raw[-9] ^= 1  # flip a bit of a's data
    open(path, "wb").write(bytes(raw))
    with pytest.raises(nabla.Error, match="checksum"):
        nabla.io.load_checkpoint(path)


def test_rng_state_round_trip():
    nabla.manual_seed(5)
    nabla.rand(3)
    state = nabla.get_rng_state()
    a = nabla.rand(4).tolist()
    nabla.set_rng_state(*state)
    assert nabla.rand(4).tolist() == a
    assert state[0] == 5


def test_penalties_and_fans():
    p = [f64([1.0, -2.0]), f64([[3.0]])]
    assert nabla.optim.l1_penalty(p).item() == 6.0
    assert nabla.optim.l2_penalty(p).item() == 14.0
    assert nn.init.calculate_fan_in_and_fan_out(nabla.empty(8, 4, 3, 3)) == (36, 72)
    x = nabla.randn(1, 2, 4, 4)
    v1, i1 = F.max_pool2d_with_indices(x, 2)
    v2, i2 = F.max_pool2d(x, 2, return_indices=True)
    assert v1.tolist() == v2.tolist() and i1.tolist() == i2.tolist()
    assert x.ndimension() == 4 and x.scalar_type() == nabla.float32


def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_recurrent_layers_match_numpy():
    nabla.manual_seed(0)
    lstm = nn.LSTM(3, 4).double()
    x = sample(5, 2, 3, seed=30)  # [T, B, I]
    out, (h, c) = lstm(f64(x))
    assert out.shape == (5, 2, 4) and h.shape == c.shape == (1, 2, 4)
    w_ih, w_hh = lstm.weight_ih_l0.detach().numpy(), lstm.weight_hh_l0.detach().numpy()
    b = lstm.bias_ih_l0.detach().numpy() + lstm.bias_hh_l0.detach().numpy()
    hh, cc, outs = np.zeros((2, 4)), np.zeros((2, 4)), []
    for t in range(5):
        g = x[t] @ w_ih.T + hh @ w_hh.T + b
        i, f, gg, o = _sig(g[:, :4]), _sig(g[:, 4:8]), np.tanh(g[:, 8:12]), _sig(g[:, 12:])
        cc = f * cc + i * gg
        hh = o * np.tanh(cc)
        outs.append(hh)
    close(out, np.stack(outs), rtol=1e-9)
    close(c[0], cc, rtol=1e-9)
    # the functional form with the module's flat weights, and a given initial state
    o2, h2, c2 = F.lstm(f64(x), h, c, lstm.flat_weights)
    out3, (h3, c3) = lstm(f64(x), (h, c))
    close(o2, out3.detach().numpy(), rtol=1e-12)

    rnn = nn.RNN(3, 4, batch_first=True).double()
    xb = sample(2, 5, 3, seed=31)  # [B, T, I]
    out, h = rnn(f64(xb))
    assert out.shape == (2, 5, 4) and h.shape == (1, 2, 4) and rnn.batch_first
    w_ih, w_hh = rnn.weight_ih_l0.detach().numpy(), rnn.weight_hh_l0.detach().numpy()
    b = rnn.bias_ih_l0.detach().numpy() + rnn.bias_hh_l0.detach().numpy()
    hh = np.zeros((2, 4))
    for t in range(5):
        hh = np.tanh(xb[:, t] @ w_ih.T + hh @ w_hh.T + b)
    close(h[0], hh, rtol=1e-9)

    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    out, h = gru(nabla.randn(5, 2, 3))
    assert out.shape == (5, 2, 8) and h.shape == (4, 2, 4) and gru.num_layers == 2
    assert "weight_hh_l1_reverse" in gru.state_dict()
    out.sum().backward()
    assert all(p.grad is not None for p in gru.parameters())


def test_cells_and_embedding():
    nabla.manual_seed(1)
    cell = nn.LSTMCell(3, 4).double()
    x = f64(sample(2, 3, seed=32))
    h, c = cell(x)
    h2, c2 = cell(x, (h, c))
    g = x.numpy() @ cell.weight_ih.detach().numpy().T + h.detach().numpy() @ cell.weight_hh.detach().numpy().T
    g += cell.bias_ih.detach().numpy() + cell.bias_hh.detach().numpy()
    cc = _sig(g[:, 4:8]) * c.detach().numpy() + _sig(g[:, :4]) * np.tanh(g[:, 8:12])
    close(c2, cc, rtol=1e-9)
    rc = nn.RNNCell(3, 4, nonlinearity="relu").double()
    close(rc(x), np.maximum(0, x.numpy() @ rc.weight_ih.detach().numpy().T + rc.bias_ih.detach().numpy()
                            + rc.bias_hh.detach().numpy()), rtol=1e-9)
    assert nn.GRUCell(3, 4)(nabla.randn(2, 3)).shape == (2, 4)
    assert F.gru_cell(nabla.randn(3), None, nabla.randn(12, 3), nabla.randn(12, 4)).shape == (4,)
    emb = nn.Embedding(10, 3, padding_idx=0)
    idx = nabla.tensor([[0, 2], [9, 2]])
    out = emb(idx)
    assert out.shape == (2, 2, 3) and out[0, 0].tolist() == [0, 0, 0]
    np.testing.assert_array_equal(F.embedding(idx, emb.weight).detach().numpy(), emb.weight.detach().numpy()[idx.numpy()])
    out.sum().backward()
    assert emb.weight.grad[0].tolist() == [0, 0, 0] and emb.weight.grad[2].tolist() == [2, 2, 2]


def test_backward_hooks():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    (y * y).sum().backward()
    assert seen == [[6.0, 12.0]]
    lin = nn.Linear(2, 1)
    grads = []
    handle = lin.register_backward_hook(lambda m, g: grads.append((m, g.shape)))
    lin(nabla.ones(4, 2)).sum().backward()
    assert grads == [(lin, (4, 1))]
    lin.remove_backward_hook(handle)
    lin(nabla.ones(4, 2)).sum().backward()
    assert len(grads) == 1
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lin.nope


def test_python_subclass_of_a_cpp_layer_runs_its_own_forward():
    # issue 15: layer(x) ran the C++ Linear.forward and ignored the Python override
    class Doubled(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    nabla.manual_seed(0)
    lin = Doubled(3, 2)
    seen = []
    lin.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    x = nabla.randn(4, 3)
    ref = x.numpy() @ lin.weight.numpy(force=True).T + lin.bias.numpy(force=True)
    np.testing.assert_allclose(lin(x).numpy(force=True), 2 * ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lin.forward(x).numpy(force=True), 2 * ref, rtol=1e-5, atol=1e-6)
    assert seen == [(4, 2)]  # the module's hooks still run
    # a C++ container would call the C++ forward: refused instead of silently wrong
    with pytest.raises(nabla.Error, match="Doubled overrides forward in Python, but it subclasses the C\\+\\+ layer Linear"):
        nn.Sequential(lin)
    with pytest.raises(nabla.Error, match="Sequential.append: .*Doubled overrides forward"):
        nn.Sequential().append(lin)
