#!/usr/bin/env python3
"""Reference numbers for tests/test_nn.cpp and tests/test_optim.cpp, computed with PyTorch.

Run with a Python that has torch (the numbers in the tests came from PyTorch 1.13.1, Debian's
python3-torch, which reports its version as 1.13.0a0):

    /usr/bin/python3 tests/reference/make_nn_reference.py > /tmp/nn_reference.txt

It prints C++ initializers (17 significant digits, float64 throughout) that were pasted into
the tests. CI never runs this script, so the tests need no PyTorch.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def fmt(v):
    if isinstance(v, torch.Tensor):
        v = v.detach().reshape(-1).tolist()
    elif not isinstance(v, (list, tuple)):
        v = [v]
    out = []
    for x in v:
        if math.isinf(x):
            out.append("INFINITY" if x > 0 else "-INFINITY")
        else:
            out.append(repr(float(x)) if abs(x) >= 1e-3 or x == 0 else "%.17g" % x)
    return "{" + ", ".join(out) + "}"


def section(title):
    print()
    print("// ---- " + title + " " + "-" * max(0, 80 - len(title)))


# ============================================================================================
# losses: value and gradient w.r.t. the input, per reduction
# ============================================================================================
def loss_case(name, fn, x, *args, **kw):
    """Prints {name, value(s), grad of value.sum() w.r.t. x} for reductions none/sum/mean."""
    for red in ("none", "sum", "mean"):
        xi = x.clone().requires_grad_(True)
        val = fn(xi, *args, reduction=red, **kw)
        val.sum().backward()
        print('    {"%s/%s", %s, %s},' % (name, red, fmt(val), fmt(xi.grad)))


section("losses: {case, value, d sum(value) / d input}")
X = torch.tensor([[0.2, -1.3, 0.7], [1.5, 0.3, -0.4]])
Y = torch.tensor([[0.5, -0.2, 0.1], [-1.0, 0.1, 0.9]])
print("// X =", fmt(X), " Y =", fmt(Y), "(shape [2, 3])")
loss_case("mse", F.mse_loss, X, Y)
loss_case("l1", F.l1_loss, X, Y)
loss_case("smooth_l1_b1", F.smooth_l1_loss, X, Y, beta=1.0)
loss_case("smooth_l1_b05", F.smooth_l1_loss, X, Y, beta=0.5)

LOGITS = torch.tensor([[0.3, -1.2, 2.0, 0.5, -0.1],
                       [1.1, 0.4, -0.7, 0.0, 2.2],
                       [-0.5, 0.9, 0.1, -1.5, 0.6],
                       [2.5, -0.3, 0.8, 1.2, -2.0]])
TGT = torch.tensor([1, 0, 4, 2])
W = torch.tensor([0.2, 1.0, 0.5, 2.0, 1.5])
print("// LOGITS =", fmt(LOGITS), "(shape [4, 5]); TGT = {1, 0, 4, 2}; W =", fmt(W))
loss_case("ce", F.cross_entropy, LOGITS, TGT)
loss_case("ce_weight", F.cross_entropy, LOGITS, TGT, weight=W)
TGT_IGN = torch.tensor([1, -100, 4, 2])
loss_case("ce_ignore_default", F.cross_entropy, LOGITS, TGT_IGN, weight=W)
TGT_IGN2 = torch.tensor([1, 2, 4, 2])
loss_case("ce_ignore_2", F.cross_entropy, LOGITS, TGT_IGN2, ignore_index=2)
loss_case("ce_smooth", F.cross_entropy, LOGITS, TGT, label_smoothing=0.1)
loss_case("ce_smooth_weight_ignore", F.cross_entropy, LOGITS, TGT_IGN, weight=W, label_smoothing=0.1)
PROB = torch.softmax(torch.tensor([[0.1, 0.2, -0.3, 1.0, 0.0],
                                   [1.0, -1.0, 0.5, 0.2, 0.3],
                                   [0.0, 0.0, 0.0, 2.0, -2.0],
                                   [0.7, 0.1, 0.3, -0.6, 0.9]]), dim=1)
print("// PROB =", fmt(PROB))
loss_case("ce_prob", F.cross_entropy, LOGITS, PROB)
loss_case("ce_prob_weight_smooth", F.cross_entropy, LOGITS, PROB, weight=W, label_smoothing=0.1)
X3 = torch.tensor([[[0.2, -0.4, 1.0, 0.3], [1.5, 0.1, -0.2, 0.0], [-0.7, 0.8, 0.4, -1.1]],
                   [[0.0, 0.6, -0.5, 2.0], [0.3, -1.0, 0.9, 0.2], [1.2, 0.5, 0.1, -0.3]]])
T3 = torch.tensor([[0, 2, 1, 1], [2, 0, 0, 1]])
W3 = torch.tensor([0.5, 1.0, 2.0])
print("// X3 =", fmt(X3), "(shape [2, 3, 4]); T3 = {0, 2, 1, 1, 2, 0, 0, 1} ([2, 4]); W3 =", fmt(W3))
loss_case("ce_3d", F.cross_entropy, X3, T3)
loss_case("ce_3d_weight_smooth", F.cross_entropy, X3, T3, weight=W3, label_smoothing=0.1)
X1 = torch.tensor([0.5, -0.25, 1.5])
loss_case("ce_1d", F.cross_entropy, X1, torch.tensor(2))

LOGP = torch.log_softmax(LOGITS, dim=1)
print("// LOGP = log_softmax(LOGITS, 1)")
loss_case("nll", F.nll_loss, LOGP, TGT)
loss_case("nll_weight_ignore", F.nll_loss, LOGP, TGT_IGN, weight=W)

P = torch.tensor([[0.1, 0.5, 0.9], [0.0, 1.0, 0.3], [0.0, 1.0, 0.75]])
PT = torch.tensor([[0.0, 1.0, 1.0], [0.0, 1.0, 0.5], [1.0, 0.0, 0.2]])
BW = torch.tensor([[1.0, 2.0, 0.5], [1.5, 1.0, 0.25], [1.0, 1.0, 3.0]])
print("// P =", fmt(P), " PT =", fmt(PT), " BW =", fmt(BW), "(shape [3, 3])")
loss_case("bce", F.binary_cross_entropy, P, PT)
loss_case("bce_weight", F.binary_cross_entropy, P, PT, weight=BW)

BX = torch.tensor([[-100.0, 100.0, 0.0, 2.5], [100.0, -100.0, -1.5, 0.0]])
BT = torch.tensor([[0.0, 1.0, 0.0, 0.3], [0.0, 1.0, 1.0, 1.0]])
PW = torch.tensor([2.0, 0.5, 3.0, 1.5])
print("// BX =", fmt(BX), " BT =", fmt(BT), " PW =", fmt(PW), "(shape [2, 4], PW [4])")
loss_case("bce_logits", F.binary_cross_entropy_with_logits, BX, BT)
loss_case("bce_logits_pos_weight", F.binary_cross_entropy_with_logits, BX, BT, pos_weight=PW)
loss_case("bce_logits_weight_pos_weight", F.binary_cross_entropy_with_logits, BX, BT,
          weight=torch.tensor([1.0, 2.0, 0.5, 1.0]), pos_weight=PW)

HX = torch.tensor([0.3, -0.5, 1.7, 0.2, 1.0, -1.0])  # 1.0 with target -1: a tie at margin 1
HT = torch.tensor([1.0, -1.0, -1.0, 1.0, -1.0, 1.0])
print("// HX =", fmt(HX), " HT =", fmt(HT))
loss_case("hinge_m1", F.hinge_embedding_loss, HX, HT, margin=1.0)
loss_case("hinge_m15", F.hinge_embedding_loss, HX, HT, margin=1.5)

MX = torch.tensor([[0.1, 0.9, -0.3, 0.4], [1.2, 0.35, 0.8, -0.6], [-0.2, 0.15, 0.05, 0.7]])
MT = torch.tensor([2, 0, 3])
MW = torch.tensor([0.5, 1.0, 2.0, 1.5])
print("// MX =", fmt(MX), " MT = {2, 0, 3}; MW =", fmt(MW))
loss_case("multi_margin_p1", F.multi_margin_loss, MX, MT)
loss_case("multi_margin_p2", F.multi_margin_loss, MX, MT, p=2)
loss_case("multi_margin_p1_weight_m05", F.multi_margin_loss, MX, MT, margin=0.5, weight=MW)
loss_case("multi_margin_p2_weight", F.multi_margin_loss, MX, MT, p=2, weight=MW)

section("losses: gradients w.r.t. the target (mean reduction)")
PTg = PT.clone().requires_grad_(True)
F.binary_cross_entropy(P, PTg, weight=BW).backward()
print("// bce_weight d/d target:", fmt(PTg.grad), "(inf where the input is exactly 0 or 1)")
BTg = BT.clone().requires_grad_(True)
F.binary_cross_entropy_with_logits(BX, BTg, pos_weight=PW).backward()
print("// bce_logits_pos_weight d/d target:", fmt(BTg.grad))
PROBg = PROB.clone().requires_grad_(True)
F.cross_entropy(LOGITS, PROBg, weight=W, label_smoothing=0.1).backward()
print("// ce_prob_weight_smooth d/d target:", fmt(PROBg.grad))

# ============================================================================================
# modules: names and printing
# ============================================================================================
section("modules")
m = nn.Sequential(nn.Sequential(nn.Linear(4, 3), nn.Tanh()), nn.ReLU(), nn.Linear(3, 2),
                  nn.Sequential(nn.Linear(2, 2, bias=False)))
print("// state_dict keys:", list(m.state_dict().keys()))
print("// named_parameters:", [n for n, _ in m.named_parameters()])
print("// parameter count:", sum(p.numel() for p in m.parameters()))
print("// named_modules:", [n for n, _ in m.named_modules()])


class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(2))
        self.register_buffer("running", torch.zeros(2))
        self.inner = nn.Linear(2, 2)


print("// custom module with a buffer:", list(WithBuffer().state_dict().keys()))
print("// repr:")
print(repr(nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))))
print(repr(nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(4, 3, bias=False), nn.Dropout(0.25)),
                         nn.LeakyReLU(0.2), nn.ELU(), nn.Softmax(dim=1), nn.LogSoftmax(dim=1),
                         nn.Sigmoid(), nn.Tanh(), nn.Identity(), nn.Dropout())))
print("// calculate_gain:", {k: nn.init.calculate_gain(k) for k in
                             ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")},
      "leaky_relu(0.2):", nn.init.calculate_gain("leaky_relu", 0.2))

# ============================================================================================
# optimizers: parameters after each of 5 steps on a quadratic
# ============================================================================================
section("optimizers: parameters after steps 1..5 (row-major [2, 2])")
P0 = [[0.5, -1.2], [2.0, 0.1]]
TARGET = torch.tensor([[1.0, 0.5], [-0.5, 0.3]])
C = torch.tensor([[1.0, 2.0], [0.5, 3.0]])
print("// p0 =", fmt(torch.tensor(P0)), " target =", fmt(TARGET), " c =", fmt(C),
      "; loss = sum((p - target)^2 * c)")


def run_opt(name, cls, **kw):
    p = torch.tensor(P0, requires_grad=True)
    opt = cls([p], **kw)
    rows = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((p - TARGET) ** 2 * C).sum()
        loss.backward()
        opt.step()
        rows.append(fmt(p))
    print('    {"%s", {%s}},' % (name, ", ".join(rows)))


run_opt("sgd", torch.optim.SGD, lr=0.1)
run_opt("sgd_momentum", torch.optim.SGD, lr=0.1, momentum=0.9)
run_opt("sgd_nesterov", torch.optim.SGD, lr=0.1, momentum=0.9, nesterov=True)
run_opt("sgd_dampening", torch.optim.SGD, lr=0.1, momentum=0.9, dampening=0.5)
run_opt("sgd_weight_decay", torch.optim.SGD, lr=0.1, weight_decay=0.1)
run_opt("sgd_momentum_weight_decay", torch.optim.SGD, lr=0.1, momentum=0.5, weight_decay=0.1)
run_opt("sgd_maximize", torch.optim.SGD, lr=0.01, momentum=0.5, maximize=True)
run_opt("adam", torch.optim.Adam, lr=0.1)
run_opt("adam_weight_decay", torch.optim.Adam, lr=0.1, weight_decay=0.1)
run_opt("adam_amsgrad", torch.optim.Adam, lr=0.3, betas=(0.9, 0.5), amsgrad=True)
run_opt("adam_no_amsgrad", torch.optim.Adam, lr=0.3, betas=(0.9, 0.5))
run_opt("adam_maximize", torch.optim.Adam, lr=0.1, maximize=True)
run_opt("adamw", torch.optim.AdamW, lr=0.1)
run_opt("adamw_weight_decay", torch.optim.AdamW, lr=0.1, weight_decay=0.5, amsgrad=True)
run_opt("rmsprop", torch.optim.RMSprop, lr=0.01)
run_opt("rmsprop_momentum", torch.optim.RMSprop, lr=0.01, momentum=0.9)
run_opt("rmsprop_centered", torch.optim.RMSprop, lr=0.01, centered=True)
run_opt("rmsprop_centered_momentum_wd", torch.optim.RMSprop, lr=0.01, alpha=0.9, centered=True, momentum=0.5,
        weight_decay=0.1)
run_opt("adagrad", torch.optim.Adagrad, lr=0.1)
run_opt("adagrad_lr_decay", torch.optim.Adagrad, lr=0.1, lr_decay=0.1)
run_opt("adagrad_initial_accumulator", torch.optim.Adagrad, lr=0.1, initial_accumulator_value=0.5,
        weight_decay=0.1)

print("// defaults:")
p = torch.zeros(1, requires_grad=True)
for cls in (torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop, torch.optim.Adagrad):
    print("//  ", cls.__name__, cls([p]).defaults)
print("//   SGD", torch.optim.SGD([p], lr=0.1).defaults)

section("parameter groups: two groups with lr 0.1 and 0.01 (SGD momentum 0.9)")
pa = torch.tensor(P0[0], requires_grad=True)
pb = torch.tensor(P0[1], requires_grad=True)
opt = torch.optim.SGD([{"params": [pa]}, {"params": [pb], "lr": 0.01}], lr=0.1, momentum=0.9)
for _ in range(3):
    opt.zero_grad()
    (((pa - TARGET[0]) ** 2 * C[0]).sum() + ((pb - TARGET[1]) ** 2 * C[1]).sum()).backward()
    opt.step()
print("// after 3 steps: pa =", fmt(pa), " pb =", fmt(pb))

# ============================================================================================
# schedulers: the lr of 12 epochs (before the first step, then after each step)
# ============================================================================================
section("schedulers: lr at epochs 0..12 (base lr 0.1)")


def run_sched(name, make):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    s = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(12):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    print('    {"%s", %s},' % (name, fmt(lrs)))


sched = torch.optim.lr_scheduler
run_sched("step", lambda o: sched.StepLR(o, 3, 0.5))
run_sched("multistep", lambda o: sched.MultiStepLR(o, [2, 5], 0.1))
run_sched("exponential", lambda o: sched.ExponentialLR(o, 0.9))
run_sched("cosine", lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.001))
run_sched("linear", lambda o: sched.LinearLR(o, start_factor=1.0 / 3, total_iters=5))
run_sched("linear_half_to_quarter", lambda o: sched.LinearLR(o, start_factor=0.5, end_factor=0.25, total_iters=4))

METRICS = [1.0, 0.9, 0.8, 0.8, 0.80001, 0.79995, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69, 0.7]
print("// plateau metrics:", fmt(METRICS))
for label, kw in (("plateau", dict(patience=2, factor=0.5)),
                  ("plateau_cooldown", dict(patience=1, factor=0.5, cooldown=2, min_lr=0.03)),
                  ("plateau_max", dict(mode="max", patience=1, factor=0.1))):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    s = sched.ReduceLROnPlateau(opt, **kw)
    lrs = []
    for mtr in METRICS:
        s.step(mtr)
        lrs.append(opt.param_groups[0]["lr"])
    print('    {"%s", %s},  // %s' % (label, fmt(lrs), kw))
