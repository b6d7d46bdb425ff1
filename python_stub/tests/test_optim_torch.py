"""nabla.optim.Adadelta and LBFGS against torch.optim's, live, in float64: the same seeded
problems, the same options, the parameters and returned losses compared after every step (LBFGS
with and without its strong-Wolfe line search, and its func_evals / n_iter). Also their
defaults, step(closure) of every optimizer, the LBFGS state dict round trip (through a
safetensors checkpoint) and the errors."""
import numpy as np
import pytest

import nabla
from conftest import HAVE_TORCH, as_np, needs_torch

if HAVE_TORCH:
    import torch

RTOL = 1e-10
ATOL = 1e-12


# ---- problems, written once for both libraries -----------------------------------------------
def rosenbrock(x):
    return (1 - x[0]) * (1 - x[0]) + 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0])


def data(seed=0):
    """A small logistic regression: 40 samples of 5 features, noisy labels (seeded)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 5))
    y = (X @ rng.standard_normal(5) + 0.5 * rng.standard_normal(40) > 0).astype(np.float64)
    A = rng.standard_normal((8, 3))
    b = rng.standard_normal(8)
    return X, y, A, b


def as_lib(lib, a):
    if lib == "torch":
        return torch.tensor(np.asarray(a, dtype=np.float64))
    return nabla.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def bce_with_logits(lib, z, y):
    f = torch.nn.functional if lib == "torch" else nabla.nn.functional
    return f.binary_cross_entropy_with_logits(z, y)


class Problem:
    """Parameters and a loss of one library; `params` start from the same values for both."""

    def __init__(self, lib, name, seed=0):
        self.lib, self.name = lib, name
        X, y, A, b = data(seed)
        if name == "rosenbrock":
            self.params = [as_lib(lib, [-1.5, 2.0]).requires_grad_(True)]
        elif name == "logistic":
            self.X, self.y = as_lib(lib, X), as_lib(lib, y)
            self.params = [as_lib(lib, np.zeros(5)).requires_grad_(True), as_lib(lib, np.zeros(1)).requires_grad_(True)]
        else:  # least squares with a ridge term, over a [3] and a [1] parameter
            self.A, self.b = as_lib(lib, A), as_lib(lib, b)
            self.params = [as_lib(lib, np.full(3, 0.5)).requires_grad_(True), as_lib(lib, [0.0]).requires_grad_(True)]

    def loss(self):
        p = self.params
        if self.name == "rosenbrock":
            return rosenbrock(p[0])
        if self.name == "logistic":
            return bce_with_logits(self.lib, self.X.matmul(p[0]) + p[1], self.y) + 1e-2 * (p[0] * p[0]).sum()
        r = self.A.matmul(p[0]) + p[1] - self.b
        return 0.5 * (r * r).sum() + 0.1 * (p[0] * p[0]).sum()

    def flat(self):
        return np.concatenate([as_np(p).reshape(-1) for p in self.params])


def torch_np(t):
    return t.detach().numpy().copy()


def closure_for(opt, prob):
    def closure():
        opt.zero_grad()
        loss = prob.loss()
        loss.backward()
        return loss

    return closure


# ---- Adadelta ----------------------------------------------------------------------------------
ADADELTA_CASES = [
    {},
    dict(lr=0.5, rho=0.8, weight_decay=0.1),
    dict(eps=1e-4, maximize=True),
    dict(rho=0.0),
    dict(rho=1.0),
]


@needs_torch
@pytest.mark.parametrize("kw", ADADELTA_CASES, ids=str)
def test_adadelta_matches_torch(kw):
    tp, np_ = Problem("torch", "logistic"), Problem("nabla", "logistic")
    topt = torch.optim.Adadelta(tp.params, **kw)
    nopt = nabla.optim.Adadelta(np_.params, **kw)
    for step in range(25):
        for opt, prob in ((topt, tp), (nopt, np_)):
            opt.zero_grad()
            prob.loss().backward()
            opt.step()
        np.testing.assert_allclose(np_.flat(), np.concatenate([torch_np(p).reshape(-1) for p in tp.params]),
                                   rtol=RTOL, atol=ATOL, err_msg=f"after step {step + 1}")
    for i, p in enumerate(tp.params):
        ts = topt.state[p]
        sd = nopt.state_dict()
        assert int(sd[f"state.{i}.step"].item()) == ts["step"]
        for key in ("square_avg", "acc_delta"):
            np.testing.assert_allclose(as_np(sd[f"state.{i}.{key}"]), torch_np(ts[key]), rtol=RTOL, atol=ATOL)


@needs_torch
def test_adadelta_parameter_groups_match_torch():
    tp, np_ = Problem("torch", "lsq"), Problem("nabla", "lsq")
    topt = torch.optim.Adadelta([{"params": [tp.params[0]]}, {"params": [tp.params[1]], "lr": 0.3, "rho": 0.5}])
    nopt = nabla.optim.Adadelta([{"params": [np_.params[0]]}, {"params": [np_.params[1]], "lr": 0.3, "rho": 0.5}])
    for _ in range(10):
        for opt, prob in ((topt, tp), (nopt, np_)):
            opt.zero_grad()
            prob.loss().backward()
            opt.step()
    np.testing.assert_allclose(np_.flat(), np.concatenate([torch_np(p).reshape(-1) for p in tp.params]),
                               rtol=RTOL, atol=ATOL)
    assert nopt.param_groups[1]["rho"] == 0.5 and nopt.param_groups[0]["rho"] == 0.9


# ---- LBFGS -------------------------------------------------------------------------------------
# (problem, steps, options). Rosenbrock is ill-conditioned: PyTorch's own iterates move by ~1e-8
# within a few steps when x0 moves by one ulp, so its cases stay short.
LBFGS_CASES = [
    ("rosenbrock", 3, dict(lr=0.5, max_iter=5)),
    ("rosenbrock", 3, dict(line_search_fn="strong_wolfe")),
    ("rosenbrock", 2, dict(line_search_fn="strong_wolfe", history_size=2, max_iter=8)),
    ("logistic", 6, dict(max_iter=5)),
    ("logistic", 4, dict(line_search_fn="strong_wolfe", history_size=3, max_iter=10)),
    ("logistic", 5, dict(lr=0.7, history_size=2, max_iter=4, max_eval=3)),
    ("lsq", 4, {}),
    ("lsq", 3, dict(line_search_fn="strong_wolfe", max_iter=4, tolerance_grad=1e-5)),
    ("lsq", 3, dict(line_search_fn="strong_wolfe", tolerance_change=1e-3)),
]


def lbfgs_case_id(case):
    problem, steps, kw = case
    return problem + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def lbfgs_run(lib, problem, steps, kw):
    prob = Problem(lib, problem)
    opt = (torch.optim.LBFGS if lib == "torch" else nabla.optim.LBFGS)(prob.params, **kw)
    out = []
    for _ in range(steps):
        loss = opt.step(closure_for(opt, prob))
        if lib == "torch":
            st = opt.state[prob.params[0]]
            flat = np.concatenate([torch_np(p).reshape(-1) for p in prob.params])
            out.append((flat, float(loss), st["func_evals"], st["n_iter"]))
        else:
            sd = opt.state_dict()
            out.append((prob.flat(), float(loss.item()), int(sd["state.0.func_evals"].item()),
                        int(sd["state.0.n_iter"].item())))
    return out


@needs_torch
@pytest.mark.parametrize("case", LBFGS_CASES, ids=lbfgs_case_id)
def test_lbfgs_matches_torch(case):
    problem, steps, kw = case
    want, got = lbfgs_run("torch", problem, steps, kw), lbfgs_run("nabla", problem, steps, kw)
    for s, ((wx, wl, we, wi), (gx, gl, ge, gi)) in enumerate(zip(want, got)):
        np.testing.assert_allclose(gx, wx, rtol=RTOL, atol=ATOL, err_msg=f"parameters after step {s + 1}")
        np.testing.assert_allclose(gl, wl, rtol=RTOL, atol=ATOL, err_msg=f"loss of step {s + 1}")
        assert (ge, gi) == (we, wi), f"func_evals, n_iter after step {s + 1}"


@needs_torch
def test_lbfgs_state_matches_torch():
    tp, np_ = Problem("torch", "logistic"), Problem("nabla", "logistic")
    topt = torch.optim.LBFGS(tp.params, history_size=3, max_iter=6, line_search_fn="strong_wolfe")
    nopt = nabla.optim.LBFGS(np_.params, history_size=3, max_iter=6, line_search_fn="strong_wolfe")
    for _ in range(2):
        topt.step(closure_for(topt, tp))
        nopt.step(closure_for(nopt, np_))
    ts, sd = topt.state[tp.params[0]], nopt.state_dict()
    for key in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(as_np(sd[f"state.0.{key}"]), torch_np(ts[key]), rtol=1e-9, atol=1e-12)
    for key in ("old_dirs", "old_stps"):
        np.testing.assert_allclose(as_np(sd[f"state.0.{key}"]), np.stack([torch_np(v) for v in ts[key]]),
                                   rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(as_np(sd["state.0.ro"]), [float(r) for r in ts["ro"]], rtol=1e-9)
    for key in ("t", "H_diag", "prev_loss"):
        np.testing.assert_allclose(float(sd[f"state.0.{key}"].item()), float(ts[key]), rtol=1e-9)


@needs_torch
def test_defaults_are_torchs():
    p = nabla.zeros(2, dtype=nabla.float64).requires_grad_(True)
    tp = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    assert nabla.optim.LBFGS([p]).defaults == torch.optim.LBFGS([tp]).defaults
    assert nabla.optim.LBFGS([p], max_iter=7).defaults == torch.optim.LBFGS([tp], max_iter=7).defaults
    want = dict(torch.optim.Adadelta([tp]).defaults)
    assert want.pop("foreach") is None  # a PyTorch implementation choice, not an option of the math
    assert nabla.optim.Adadelta([p]).defaults == want
    group = nabla.optim.LBFGS([p], line_search_fn="strong_wolfe").param_groups[0]
    assert group["line_search_fn"] == "strong_wolfe" and group["history_size"] == 100
    assert isinstance(group["max_iter"], int) and isinstance(group["max_eval"], int)


def test_step_with_closure_returns_what_the_closure_returned():
    x = nabla.tensor([1.0, -2.0], dtype=nabla.float64, requires_grad=True)
    opt = nabla.optim.SGD([x], lr=0.1)
    seen = []

    def closure():
        seen.append(nabla.is_grad_enabled())
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with nabla.no_grad():
        first = opt.step(closure)
    assert seen == [True]  # the closure runs with grad mode on, as torch.optim's
    assert first.item() == 5.0
    np.testing.assert_allclose(as_np(x), [0.8, -1.6], rtol=1e-15)
    assert opt.step() is None
    # LBFGS returns the first loss object itself, as PyTorch (orig_loss)
    lb = nabla.optim.LBFGS([x], max_iter=3)
    losses = []

    def lb_closure():
        loss = closure()
        losses.append(loss)
        return loss

    assert lb.step(lb_closure) is losses[0]
    assert len(losses) == 3
    # a closure may return a Python number (PyTorch converts with float())
    y = nabla.tensor([3.0], dtype=nabla.float64, requires_grad=True)
    lb2 = nabla.optim.LBFGS([y])

    def number_closure():
        lb2.zero_grad()
        loss = (y - 1.0) * (y - 1.0)
        loss.sum().backward()
        return loss.item()

    assert lb2.step(number_closure) == 4.0
    np.testing.assert_allclose(as_np(y), [1.0], atol=1e-6)


def test_lbfgs_state_dict_round_trip_resumes_exactly(tmp_path):
    for kw in ({}, dict(line_search_fn="strong_wolfe", history_size=2)):
        a = Problem("nabla", "logistic")
        opt_a = nabla.optim.LBFGS(a.params, max_iter=4, **kw)
        for _ in range(4):
            opt_a.step(closure_for(opt_a, a))

        b = Problem("nabla", "logistic")
        opt_b = nabla.optim.LBFGS(b.params, max_iter=4, **kw)
        for _ in range(2):
            opt_b.step(closure_for(opt_b, b))
        path = str(tmp_path / "lbfgs.safetensors")
        nabla.io.save_checkpoint(path, opt_b.state_dict())
        saved, _ = nabla.io.load_checkpoint(path)
        assert saved["state.0.old_dirs"].shape[1] == 6 and tuple(saved["state.0.d"].shape) == (6,)

        c = Problem("nabla", "logistic")
        for pc, pb in zip(c.params, b.params):
            with nabla.no_grad():
                pc.copy_(pb)
        opt_c = nabla.optim.LBFGS(c.params, lr=0.25)  # the loaded options replace these
        opt_c.load_state_dict(saved)
        assert opt_c.param_groups[0]["lr"] == 1.0 and opt_c.param_groups[0]["max_iter"] == 4
        for _ in range(2):
            opt_c.step(closure_for(opt_c, c))
        np.testing.assert_array_equal(c.flat(), a.flat())


def test_errors():
    x = nabla.tensor([1.0, 2.0], dtype=nabla.float64, requires_grad=True)
    with pytest.raises(nabla.Error, match=r"LBFGS.*step\(closure\)"):
        nabla.optim.LBFGS([x]).step()
    with pytest.raises(nabla.Error, match="LBFGS: unknown line_search_fn 'backtracking'"):
        nabla.optim.LBFGS([x], line_search_fn="backtracking")
    with pytest.raises(nabla.Error, match="LBFGS: line_search_fn must be None or 'strong_wolfe', got a int"):
        nabla.optim.LBFGS([x], line_search_fn=3)
    with pytest.raises(nabla.Error, match="LBFGS: invalid history_size 0"):
        nabla.optim.LBFGS([x], history_size=0)
    with pytest.raises(nabla.Error, match="LBFGS: invalid learning rate -1"):
        nabla.optim.LBFGS([x], lr=-1)
    y = nabla.zeros(3, dtype=nabla.float64).requires_grad_(True)
    with pytest.raises(nabla.Error, match="LBFGS: doesn't support per-parameter options"):
        nabla.optim.LBFGS([{"params": [x]}, {"params": [y]}])
    with pytest.raises(nabla.Error, match="Adadelta: invalid rho 1.5"):
        nabla.optim.Adadelta([x], rho=1.5)
    with pytest.raises(nabla.Error, match="Adadelta: invalid learning rate -0.5"):
        nabla.optim.Adadelta([x], lr=-0.5)
    with pytest.raises(nabla.Error, match="Adadelta: invalid weight_decay -1"):
        nabla.optim.Adadelta([x], weight_decay=-1)

    opt = nabla.optim.LBFGS([x], max_iter=2)
    with pytest.raises(TypeError, match="the closure must return the loss.*str"):
        opt.step(lambda: "loss")
    with pytest.raises(nabla.Error, match="LBFGS: the closure returned no loss"):
        opt.step(lambda: None)
    with pytest.raises(TypeError, match="SGD: step\\(closure\\): the closure must be callable, got a int"):
        nabla.optim.SGD([x]).step(3)

    # an exception in the closure reaches the caller as itself; the optimizer stays usable
    def failing():
        raise ValueError("closure failed")

    with pytest.raises(ValueError, match="closure failed"):
        opt.step(failing)

    def closure():
        opt.zero_grad()
        loss = ((x - 3.0) * (x - 3.0)).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 5.0
