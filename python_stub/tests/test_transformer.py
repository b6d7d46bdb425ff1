"""nabla.nn.MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer,
TransformerEncoder, TransformerDecoder and Transformer against live PyTorch in float64: the same
constructor calls, PyTorch's parameters loaded by state-dict name (also from a file torch.save
wrote), the same inputs and masks, outputs and gradients at 1e-10; clear errors for bad input."""
import numpy as np
import pytest

import nabla
import nabla.nn as nn
from conftest import HAVE_TORCH, as_np, close, needs_torch, sample

if HAVE_TORCH:
    import torch

pytestmark = needs_torch


def randomise(tm, seed):
    """Random values for every PyTorch parameter (its initial biases are zero, its norms ones)."""
    g = np.random.default_rng(seed)
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.tensor(g.uniform(-0.6, 0.6, size=tuple(p.shape))))


def nabla_state(tm):
    return {k: nabla.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}


def twin(name, *args, seed=1, **kwargs):
    """(torch module, nabla module) built by the same call, nabla's holding PyTorch's parameters."""
    tm = getattr(torch.nn, name)(*args, **kwargs).double()
    randomise(tm, seed)
    nm = getattr(nn, name)(*args, **kwargs, dtype=nabla.float64)
    nm.load_state_dict(nabla_state(tm))
    return tm, nm


class Inputs:
    """Float inputs (requiring grad) and masks, as a torch and a nabla tensor each."""

    def __init__(self, **arrays):
        self.np = arrays
        self.t = {k: torch.tensor(v, requires_grad=v.dtype == np.float64 and k in FLOAT_INPUTS)
                  for k, v in arrays.items()}
        self.n = {k: nabla.tensor(v, requires_grad=v.dtype == np.float64 and k in FLOAT_INPUTS)
                  for k, v in arrays.items()}


FLOAT_INPUTS = {"x", "query", "key", "value", "src", "tgt", "memory"}


def compare(tm, nm, inputs, run, tol=1e-10):
    """run(module, tensors) -> tuple of outputs; compares them, then every gradient of
    sum(output * w) over the outputs."""
    t_out, n_out = run(tm, inputs.t), run(nm, inputs.n)
    assert len(t_out) == len(n_out)
    t_loss, n_loss = 0, 0
    for k, (a, b) in enumerate(zip(t_out, n_out)):
        if a is None:
            assert b is None, f"output {k}: PyTorch gives None"
            continue
        close(b, a.detach().numpy(), rtol=tol, atol=tol)
        w = sample(*a.shape, seed=10 + k)
        t_loss = t_loss + (a * torch.tensor(w)).sum()
        n_loss = n_loss + (b * nabla.tensor(w)).sum()
    t_loss.backward()
    n_loss.backward()
    for k, t in inputs.t.items():
        if t.requires_grad:
            close(inputs.n[k].grad, t.grad.numpy(), rtol=tol, atol=tol)
    theirs = dict(tm.named_parameters())
    ours = dict(nm.named_parameters())
    assert list(ours) == list(theirs)
    for k, p in ours.items():
        close(p.grad, theirs[k].grad.numpy(), rtol=tol, atol=tol)


def causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def padding(batch, length, masked):
    m = np.zeros((batch, length), dtype=bool)
    for b, s in masked:
        m[b, s] = True
    return m


# ---- MultiheadAttention -------------------------------------------------------------------------

def mha_call(q, k, v, **kw):
    def run(m, i):
        kpm, am = i.get("key_padding_mask"), i.get("attn_mask")
        return tuple(m(i[q], i[k], i[v], key_padding_mask=kpm, attn_mask=am, **kw))
    return run


def test_self_attention_with_padding_and_causal_masks():
    tm, nm = twin("MultiheadAttention", 8, 2)
    inp = Inputs(x=sample(5, 3, 8), key_padding_mask=padding(3, 5, [(0, 4), (2, 3), (2, 4)]),
                 attn_mask=causal(5))
    compare(tm, nm, inp, mha_call("x", "x", "x"))


def test_cross_attention_batch_first_per_head_weights_bool_mask():
    tm, nm = twin("MultiheadAttention", 8, 4, batch_first=True)
    am = np.zeros((3, 6), dtype=bool)
    am[0, 1] = am[1, 5] = am[2, :4] = True
    inp = Inputs(query=sample(2, 3, 8, seed=1), key=sample(2, 6, 8, seed=2), value=sample(2, 6, 8, seed=3),
                 attn_mask=am)
    compare(tm, nm, inp, mha_call("query", "key", "value", average_attn_weights=False))


def test_kdim_vdim_with_3d_float_mask_and_dropout_in_eval():
    tm, nm = twin("MultiheadAttention", 6, 3, dropout=0.3, kdim=4, vdim=5)
    tm.eval()
    nm.eval()
    assert nm.in_proj_weight is None and tm.in_proj_weight is None
    assert nm.q_proj_weight.shape == tuple(tm.q_proj_weight.shape)
    inp = Inputs(query=sample(3, 2, 6, seed=1), key=sample(4, 2, 4, seed=2), value=sample(4, 2, 5, seed=3),
                 attn_mask=sample(6, 3, 4, seed=4), key_padding_mask=padding(2, 4, [(1, 0)]))
    compare(tm, nm, inp, mha_call("query", "key", "value"))


def test_unbatched_with_bias_kv_and_zero_attn():
    tm, nm = twin("MultiheadAttention", 4, 2, add_bias_kv=True, add_zero_attn=True)
    inp = Inputs(query=sample(3, 4, seed=1), key=sample(5, 4, seed=2), value=sample(5, 4, seed=3),
                 key_padding_mask=np.array([False, True, False, False, True]))
    compare(tm, nm, inp, mha_call("query", "key", "value"))


def test_need_weights_false_gives_none_and_no_bias():
    tm, nm = twin("MultiheadAttention", 6, 2, bias=False)
    assert nm.in_proj_bias is None and "bias" not in dict(nm.out_proj.named_parameters())
    inp = Inputs(x=sample(4, 2, 6), key_padding_mask=sample(2, 4, seed=5))
    compare(tm, nm, inp, mha_call("x", "x", "x", need_weights=False))


def test_mha_attributes_as_pytorch():
    t, n = torch.nn.MultiheadAttention(8, 2, dropout=0.25, batch_first=True), nn.MultiheadAttention(8, 2, 0.25, batch_first=True)
    for a in ("embed_dim", "num_heads", "head_dim", "kdim", "vdim", "dropout", "batch_first", "add_zero_attn",
              "_qkv_same_embed_dim"):
        assert getattr(n, a) == getattr(t, a), a
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    # PyTorch's initialisation: zero biases, xavier_uniform_ in_proj_weight
    assert not as_np(n.in_proj_bias).any() and not as_np(n.out_proj.bias).any()
    bound = np.sqrt(6.0 / (8 + 24))
    w = as_np(n.in_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


# ---- layers, stacks, Transformer ----------------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer(activation, norm_first, batch_first):
    tm, nm = twin("TransformerEncoderLayer", 8, 2, dim_feedforward=12, dropout=0.0, activation=activation,
                  batch_first=batch_first, norm_first=norm_first, layer_norm_eps=1e-6)
    src = sample(3, 5, 8) if batch_first else sample(5, 3, 8)
    inp = Inputs(src=src, src_mask=causal(5), src_key_padding_mask=padding(3, 5, [(1, 4), (2, 3)]))
    compare(tm, nm, inp, lambda m, i: (m(i["src"], src_mask=i["src_mask"],
                                         src_key_padding_mask=i["src_key_padding_mask"]),))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, batch_first):
    tm, nm = twin("TransformerDecoderLayer", 8, 4, 10, 0.0, "gelu", batch_first=batch_first, norm_first=norm_first)
    tgt, mem = (sample(2, 4, 8, seed=1), sample(2, 6, 8, seed=2)) if batch_first else \
        (sample(4, 2, 8, seed=1), sample(6, 2, 8, seed=2))
    inp = Inputs(tgt=tgt, memory=mem, tgt_mask=causal(4), memory_mask=sample(4, 6, seed=3),
                 tgt_key_padding_mask=padding(2, 4, [(0, 3)]), memory_key_padding_mask=padding(2, 6, [(1, 5)]))
    compare(tm, nm, inp, lambda m, i: (m(i["tgt"], i["memory"], tgt_mask=i["tgt_mask"], memory_mask=i["memory_mask"],
                                         tgt_key_padding_mask=i["tgt_key_padding_mask"],
                                         memory_key_padding_mask=i["memory_key_padding_mask"]),))


def stack_twins():
    tl = torch.nn.TransformerEncoderLayer(4, 2, 6, 0.0).double()
    te = torch.nn.TransformerEncoder(tl, 3, torch.nn.LayerNorm(4).double())
    randomise(te, 3)
    ne = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 6, 0.0, dtype=nabla.float64), 3,
                               nn.LayerNorm(4, dtype=nabla.float64))
    ne.load_state_dict(nabla_state(te))
    return te, ne


def test_encoder_stack_and_its_independent_layers():
    te, ne = stack_twins()
    assert ne.num_layers == 3 and len(list(ne.layers.children())) == 3
    inp = Inputs(src=sample(5, 2, 4), mask=causal(5), src_key_padding_mask=padding(2, 5, [(0, 4)]))
    compare(te, ne, inp, lambda m, i: (m(i["src"], mask=i["mask"], src_key_padding_mask=i["src_key_padding_mask"]),))
    # loaded layer by layer: three different layers, as PyTorch's deep copies
    w = [as_np(getattr(ne.layers, str(k)).linear1.weight) for k in range(3)]
    assert not np.array_equal(w[0], w[1]) and not np.array_equal(w[1], w[2])


def test_decoder_stack():
    tl = torch.nn.TransformerDecoderLayer(4, 2, 6, 0.0, batch_first=True).double()
    td = torch.nn.TransformerDecoder(tl, 2)
    randomise(td, 4)
    nd = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 6, 0.0, batch_first=True, dtype=nabla.float64), 2)
    nd.load_state_dict(nabla_state(td))
    inp = Inputs(tgt=sample(2, 3, 4, seed=1), memory=sample(2, 5, 4, seed=2), tgt_mask=causal(3))
    compare(td, nd, inp, lambda m, i: (m(i["tgt"], i["memory"], tgt_mask=i["tgt_mask"]),))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(batch_first):
    tm, nm = twin("Transformer", d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
                  dropout=0.0, batch_first=batch_first)
    src, tgt = (sample(2, 5, 8, seed=1), sample(2, 4, 8, seed=2)) if batch_first else \
        (sample(5, 2, 8, seed=1), sample(4, 2, 8, seed=2))
    inp = Inputs(src=src, tgt=tgt, tgt_mask=causal(4), src_key_padding_mask=padding(2, 5, [(1, 4)]),
                 memory_key_padding_mask=padding(2, 5, [(1, 4)]), tgt_key_padding_mask=padding(2, 4, [(0, 3)]))
    compare(tm, nm, inp, lambda m, i: (m(i["src"], i["tgt"], tgt_mask=i["tgt_mask"],
                                         src_key_padding_mask=i["src_key_padding_mask"],
                                         tgt_key_padding_mask=i["tgt_key_padding_mask"],
                                         memory_key_padding_mask=i["memory_key_padding_mask"]),))


def test_transformer_unbatched_norm_first():
    tm, nm = twin("Transformer", 4, 2, 1, 1, 8, 0.0, "gelu", norm_first=True)
    inp = Inputs(src=sample(5, 4, seed=1), tgt=sample(3, 4, seed=2), src_mask=sample(5, 5, seed=3),
                 memory_mask=sample(3, 5, seed=4))
    compare(tm, nm, inp, lambda m, i: (m(i["src"], i["tgt"], src_mask=i["src_mask"], memory_mask=i["memory_mask"]),))


def test_state_dict_saved_by_pytorch_loads_and_gives_pytorchs_outputs(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=32,
                              dropout=0.1).double().eval()
    path = tmp_path / "transformer.pt"
    torch.save(tm.state_dict(), path)
    loaded = torch.load(path)
    nm = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=32,
                        dropout=0.1, dtype=nabla.float64)
    assert list(nm.state_dict()) == list(loaded)
    nm.load_state_dict({k: nabla.tensor(v.numpy()) for k, v in loaded.items()})
    nm.eval()
    src, tgt = sample(6, 2, 16, seed=1), sample(5, 2, 16, seed=2)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).double()
    want = tm(torch.tensor(src, requires_grad=True), torch.tensor(tgt), tgt_mask=mask)
    got = nm(nabla.tensor(src), nabla.tensor(tgt), tgt_mask=nn.Transformer.generate_square_subsequent_mask(5))
    close(got, want.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_inference_without_autograd_matches_pytorchs_fast_path():
    # PyTorch runs its fused inference path here (eval, no grad, batch_first, no masks)
    tm, nm = twin("TransformerEncoderLayer", 8, 2, 16, 0.1, batch_first=True)
    tm.eval()
    nm.eval()
    x = sample(2, 5, 8)
    with torch.no_grad():
        want = tm(torch.tensor(x)).numpy()
    with nabla.no_grad():
        got = nm(nabla.tensor(x))
    close(got, want, rtol=1e-9, atol=1e-9)


def test_square_subsequent_mask():
    got = nn.Transformer.generate_square_subsequent_mask(4)
    want = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert got.dtype == nabla.float32 and str(want.dtype) == "torch.float32"
    assert np.array_equal(as_np(got), want.numpy())


def test_defaults_as_pytorch():
    t, n = torch.nn.Transformer(), nn.Transformer()
    assert (n.d_model, n.nhead, n.batch_first) == (t.d_model, t.nhead, t.batch_first) == (512, 8, False)
    assert {k: tuple(v.shape) for k, v in t.state_dict().items()} == {k: v.shape for k, v in n.state_dict().items()}
    layer = nn.TransformerEncoderLayer(16, 2)
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1 and "1e-05" in layer.norm1.extra_repr()
    assert not layer.norm_first and not layer.self_attn.batch_first
    # every matrix re-initialised xavier_uniform_: linear1 of [2048, 512]
    bound = np.sqrt(6.0 / (512 + 2048))
    w = as_np(n.encoder.layers[0].linear1.weight) if hasattr(n.encoder.layers, "__getitem__") else \
        as_np(getattr(n.encoder.layers, "0").linear1.weight)
    assert np.abs(w).max() <= bound


def test_custom_python_encoder_is_called_with_pytorchs_keywords():
    seen = {}

    class Enc(nn.Module):
        def forward(self, src, mask=None, src_key_padding_mask=None):
            seen["kpm"] = src_key_padding_mask
            return src * 2.0

    nm = nn.Transformer(4, 2, 1, 1, 8, 0.0, custom_encoder=Enc())
    dec = nm.decoder
    src, tgt = nabla.tensor(sample(5, 2, 4, seed=1)).float(), nabla.tensor(sample(3, 2, 4, seed=2)).float()
    kpm = nabla.tensor(padding(2, 5, [(0, 1)]))
    got = nm(src, tgt, src_key_padding_mask=kpm)
    assert np.array_equal(as_np(seen["kpm"]), as_np(kpm))
    close(got, as_np(dec(tgt, src * 2.0)), rtol=1e-6, atol=1e-6)


def test_python_norm_module_in_a_stack():
    class Half(nn.Module):
        def forward(self, x):
            return x * 0.5

    layer = nn.TransformerEncoderLayer(4, 2, 8, 0.0)
    bare = nn.TransformerEncoder(layer, 1)
    normed = nn.TransformerEncoder(layer, 1, Half())
    normed.load_state_dict(bare.state_dict())
    x = nabla.tensor(sample(3, 2, 4)).float()
    close(normed(x), as_np(bare(x)) * 0.5, rtol=1e-6, atol=1e-6)


def test_callable_activation():
    import nabla.nn.functional as F

    a = nn.TransformerEncoderLayer(4, 2, 8, 0.0)
    b = nn.TransformerEncoderLayer(4, 2, 8, 0.0, activation=F.relu)
    c = nn.TransformerEncoderLayer(4, 2, 8, 0.0, activation=lambda x: x.tanh())
    b.load_state_dict(a.state_dict())
    c.load_state_dict(a.state_dict())
    x = nabla.tensor(sample(3, 2, 4)).float()
    assert np.array_equal(as_np(a(x)), as_np(b(x)))
    assert not np.allclose(as_np(a(x)), as_np(c(x)))


# ---- errors ------------------------------------------------------------------------------------

def test_errors_name_the_module_and_values():
    with pytest.raises(nabla.Error, match=r"MultiheadAttention.*divisible.*embed_dim=10.*num_heads=3"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(nabla.Error, match=r"TransformerEncoderLayer.*relu/gelu.*tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    m = nn.MultiheadAttention(8, 2)
    x = nabla.randn(5, 3, 8)
    with pytest.raises(nabla.Error, match=r"MultiheadAttention.*embedding dimension of 8.*6"):
        m(nabla.randn(5, 3, 6), x, x)
    with pytest.raises(nabla.Error, match=r"MultiheadAttention.*2-D attn_mask.*\[5, 4\].*\[5, 5\]"):
        m(x, x, x, attn_mask=nabla.zeros(5, 4))
    with pytest.raises(nabla.Error, match=r"MultiheadAttention.*key_padding_mask.*\[3, 5\].*\[3, 4\]"):
        m(x, x, x, key_padding_mask=nabla.zeros(3, 4, dtype=nabla.bool))
    with pytest.raises(nabla.Error, match=r"MultiheadAttention.*bool and floating.*int64"):
        m(x, x, x, key_padding_mask=nabla.zeros(3, 5, dtype=nabla.int64))
    t = nn.Transformer(4, 2, 1, 1, 8)
    with pytest.raises(nabla.Error, match=r"Transformer.*batch number"):
        t(nabla.randn(5, 2, 4), nabla.randn(3, 3, 4))
    with pytest.raises(nabla.Error, match=r"Transformer.*d_model=4"):
        t(nabla.randn(5, 2, 6), nabla.randn(3, 2, 6))
    with pytest.raises(TypeError):
        nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, 2), 2)

    class Sub(nn.TransformerEncoderLayer):
        pass

    with pytest.raises(nabla.Error, match=r"TransformerEncoder.*nabla.nn.TransformerEncoderLayer.*Sub"):
        nn.TransformerEncoder(Sub(4, 2), 2)


def test_layers_deepcopy_into_independent_layers():
    import copy

    a = nn.TransformerDecoderLayer(4, 2, 8, 0.0, dtype=nabla.float64).eval()
    b = copy.deepcopy(a)
    assert type(b) is nn.TransformerDecoderLayer and not b.training
    assert list(b.state_dict()) == list(a.state_dict())
    for (k, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(as_np(p), as_np(q)) and q.dtype == nabla.float64, k
    with nabla.no_grad():
        b.linear1.weight.fill_(3.0)
    assert not np.any(as_np(a.linear1.weight) == 3.0)
    e = copy.deepcopy(nn.TransformerEncoderLayer(4, 2, 8))
    assert isinstance(e, nn.TransformerEncoderLayer)
    # a Python activation travels with the copy (copied without the GIL, called with it)
    t = nn.TransformerEncoderLayer(4, 2, 8, 0.0, activation=lambda x: x.tanh())
    x = nabla.randn(3, 2, 4)
    close(copy.deepcopy(t)(x), as_np(t(x)), rtol=0, atol=0)


def test_pickling_refuses_clearly():
    import pickle

    # their extra_repr() (empty, as PyTorch's) cannot rebuild them: their state_dict() can
    with pytest.raises(TypeError, match=r"MultiheadAttention.*state_dict"):
        pickle.dumps(nn.MultiheadAttention(4, 2))
    with pytest.raises(TypeError, match=r"Transformer.*state_dict"):
        pickle.dumps(nn.Transformer(4, 2, 1, 1, 8))
