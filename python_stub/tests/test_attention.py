"""nabla.nn.functional.scaled_dot_product_attention against PyTorch's explicit math
(torch.softmax(q @ k.T * scale + mask) @ v: PyTorch 1.13 has no F.scaled_dot_product_attention),
forward and gradients in float64; PyTorch 2's keyword arguments and errors."""
import math

import numpy as np
import pytest

import nabla
import nabla.nn.functional as F
from conftest import close, needs_torch, sample

CASES = [
    # name, q, k, v shapes, mask kind (None, "bool", "float"), mask shape, is_causal, scale
    ("plain", (2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), None, None, False, None),
    ("broadcast key and value", (2, 3, 5, 4), (1, 3, 7, 4), (7, 2), None, None, False, 0.3),
    ("bool mask", (2, 2, 5, 4), (2, 2, 70, 4), (2, 2, 70, 3), "bool", (2, 1, 5, 70), False, None),
    ("additive mask", (2, 40, 8), (2, 90, 8), (2, 90, 8), "float", (40, 90), False, None),
    ("causal", (1, 2, 45, 8), (1, 2, 80, 8), (1, 2, 80, 4), None, None, True, None),
]


def torch_math(q, k, v, mask, causal, scale):
    import torch

    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-2, -1) * scale
    if causal:
        s = s.masked_fill(~torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril(), -math.inf)
    if mask is not None:
        s = s.masked_fill(~mask, -math.inf) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_math_forward_and_backward(case):
    import torch

    _, qs, ks, vs, kind, ms, causal, scale = case
    arrays = [sample(*qs, seed=1, low=-1, high=1), sample(*ks, seed=2, low=-1, high=1),
              sample(*vs, seed=3, low=-1, high=1)]
    mask_np = None
    if kind == "bool":
        mask_np = sample(*ms, seed=4) > -1.0
        mask_np[..., 0] = True  # no row without keys (PyTorch 1.13's math gives NaN there)
    elif kind == "float":
        mask_np = sample(*ms, seed=4)
    tin = [torch.tensor(a, requires_grad=True) for a in arrays]
    nin = [nabla.tensor(a, dtype=nabla.float64).requires_grad_() for a in arrays]
    tmask = nmask = None
    if mask_np is not None:
        tmask = torch.tensor(mask_np)
        nmask = nabla.tensor(mask_np) if kind == "bool" else nabla.tensor(mask_np, dtype=nabla.float64)
        if kind == "float":
            tmask.requires_grad_()
            nmask.requires_grad_()
    want = torch_math(*tin, tmask, causal, scale)
    got = F.scaled_dot_product_attention(*nin, attn_mask=nmask, is_causal=causal, scale=scale)
    close(got, want.detach().numpy(), rtol=0, atol=1e-12)
    w = sample(*want.shape, seed=5)
    want.backward(torch.tensor(w))
    got.backward(nabla.tensor(w, dtype=nabla.float64))
    pairs = list(zip(nin, tin)) + ([(nmask, tmask)] if kind == "float" else [])
    for n, t in pairs:
        close(n.grad, t.grad.numpy(), rtol=0, atol=1e-10)


def test_defaults_dropout_and_errors():
    q = nabla.tensor(sample(2, 3, 4, seed=6), dtype=nabla.float32)
    k = nabla.tensor(sample(2, 5, 4, seed=7), dtype=nabla.float32)
    v = nabla.tensor(sample(2, 5, 2, seed=8), dtype=nabla.float32)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 2) and out.dtype == nabla.float32
    # dropout draws from the global generator, one draw per call
    nabla.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    nabla.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), out.numpy())
    with pytest.raises(nabla.Error, match="attn_mask and is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=nabla.tensor(np.ones((3, 5), dtype=bool)), is_causal=True)
    with pytest.raises(nabla.Error, match=r"scaled_dot_product_attention: .*\[2, 3, 4\] and key \[2, 5, 3\]"):
        F.scaled_dot_product_attention(q, nabla.zeros(2, 5, 3), v)
