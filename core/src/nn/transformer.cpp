// MultiheadAttention and the Transformer modules: PyTorch 1.13's parameters, initialisation,
// mask handling (torch.nn.functional.multi_head_attention_forward) and layer wiring
// (torch/nn/modules/transformer.py), forward through nabla's ops.
#include "nabla/nn/transformer.h"

#include <cmath>
#include <limits>
#include <utility>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"

namespace nabla::nn {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The attention core on q [N, H, L, D], k [N, H, S, D], v [N, H, S, D] with an additive float
// mask broadcastable to [N, H, L, S] (undefined: none): softmax(q kᵀ / sqrt(D) + mask) v, dropout
// on the weights when training. Returns (output [N, H, L, D], weights [N, H, L, S]; the weights
// may be left undefined when !need_weights). This is the one place in this file that computes
// attention.
std::pair<Tensor, Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                    double dropout_p, bool training, bool need_weights) {
  // Without the weights, the fused op (online softmax, nothing of size L x S kept for the
  // backward). One difference from PyTorch 1.13's explicit path: a query whose keys are all
  // masked gives 0 there instead of NaN (the op's rule, that of PyTorch >= 2.5). The mask is
  // additive, as PyTorch 2's float attn_mask, and the op's default scale is 1/sqrt(D), as here.
  if (!need_weights) {
    return {functional::scaled_dot_product_attention(q, k, v, mask, training ? dropout_p : 0.0,
                                                     /*is_causal=*/false, /*scale=*/std::nullopt),
            Tensor()};
  }
  // As PyTorch 1.13: q is divided by sqrt(D) before the product, and the mask added after it
  // (baddbmm(mask, q_scaled, kᵀ)), so float64 results agree to rounding.
  const Tensor q_scaled = div(q, std::sqrt(static_cast<double>(q.size(-1))));
  Tensor scores = matmul(q_scaled, k.transpose(-2, -1));
  if (mask.defined()) scores = add(scores, mask);
  Tensor weights = softmax(scores, -1);
  if (training && dropout_p > 0.0) weights = functional::dropout(weights, dropout_p, /*training=*/true);
  return {matmul(weights, v), weights};
}

// A bool mask (true = may not attend) as an additive float mask of dtype `dtype`, -inf where
// true; a float mask converted to `dtype`.
Tensor additive_mask(const Tensor& mask, ScalarType dtype) {
  if (mask.dtype() == kBool) {
    return masked_fill(zeros(mask.sizes(), TensorOptions().dtype(dtype).device(mask.device())), mask,
                       kNegInf);
  }
  return mask.to(dtype);
}

// `extra` zero columns appended to the last dim of an additive mask (the key positions that
// add_bias_kv and add_zero_attn append, which every query may attend).
Tensor pad_last(const Tensor& mask, int64_t extra) {
  if (!mask.defined() || extra == 0) return mask;
  Shape s = mask.sizes();
  s.back() = extra;
  return cat({mask, zeros(s, TensorOptions().dtype(mask.dtype()).device(mask.device()))}, -1);
}

std::function<Tensor(const Tensor&)> activation_of(const TransformerLayerOptions& o, const char* who) {
  if (o.activation_fn) return o.activation_fn;
  if (o.activation == "relu") return [](const Tensor& x) { return relu(x); };
  if (o.activation == "gelu") return [](const Tensor& x) { return gelu(x); };
  NABLA_FAIL("{}: activation should be relu/gelu, not {}", who, o.activation);
}

void check_layer_args(const char* who, int64_t d_model, int64_t nhead, const TransformerLayerOptions& o) {
  NABLA_CHECK(d_model > 0 && nhead > 0, "{}: d_model and nhead must be positive, got {} and {}", who, d_model,
              nhead);
  NABLA_CHECK(o.dim_feedforward > 0, "{}: dim_feedforward must be positive, got {}", who, o.dim_feedforward);
  NABLA_CHECK(o.dropout >= 0.0 && o.dropout <= 1.0, "{}: dropout must be in [0, 1], got {}", who, o.dropout);
  activation_of(o, who);  // names a bad activation at construction, as PyTorch
}

// What clone() copies after building a fresh module from the same options: the dtype and device,
// the parameter and buffer values, requires_grad flags and each submodule's mode (a pre-order
// walk, so a child's own mode wins over its parent's recursive train()).
void copy_state(const Module& from, Module& to) {
  const auto params = from.named_parameters();
  if (!params.empty()) {
    to.to(params.front().second.dtype());
    to.to(params.front().second.device());
  }
  to.load_state_dict(from.state_dict());
  const auto to_params = to.named_parameters();
  for (std::size_t i = 0; i < params.size() && i < to_params.size(); ++i) {
    Tensor p = to_params[i].second;
    p.requires_grad_(params[i].second.requires_grad());
  }
  // (named_modules() hands out mutable pointers, so it is not const; `from` is only read)
  auto src = const_cast<Module&>(from).named_modules();
  auto dst = to.named_modules();
  for (std::size_t i = 0; i < src.size() && i < dst.size(); ++i)
    dst[i].second->train(src[i].second->is_training());
}

}  // namespace

// ---- MultiheadAttention -----------------------------------------------------------------------

MultiheadAttention::MultiheadAttention(int64_t embed_dim_, int64_t num_heads_,
                                       const MultiheadAttentionOptions& o)
    : Module("MultiheadAttention"),
      embed_dim(embed_dim_),
      num_heads(num_heads_),
      head_dim(0),
      kdim(o.kdim.value_or(embed_dim_)),
      vdim(o.vdim.value_or(embed_dim_)),
      options(o) {
  NABLA_CHECK(
      embed_dim > 0 && num_heads > 0,
      "MultiheadAttention: embed_dim and num_heads must be positive, got embed_dim={} and num_heads={}",
      embed_dim, num_heads);
  NABLA_CHECK(
      embed_dim % num_heads == 0,
      "MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim={} and num_heads={}",
      embed_dim, num_heads);
  NABLA_CHECK(kdim > 0 && vdim > 0,
              "MultiheadAttention: kdim and vdim must be positive, got kdim={} and vdim={}", kdim, vdim);
  NABLA_CHECK(o.dropout >= 0.0 && o.dropout <= 1.0, "MultiheadAttention: dropout must be in [0, 1], got {}",
              o.dropout);
  head_dim = embed_dim / num_heads;
  // PyTorch's order of registration (the state dict's order): the projections, in_proj_bias,
  // out_proj, bias_k, bias_v; _reset_parameters then initialises them.
  const bool same_dims = kdim == embed_dim && vdim == embed_dim;
  if (same_dims) {
    in_proj_weight = empty({3 * embed_dim, embed_dim});
    init::xavier_uniform_(in_proj_weight);
    in_proj_weight = register_parameter("in_proj_weight", in_proj_weight);
  } else {
    q_proj_weight = empty({embed_dim, embed_dim});
    k_proj_weight = empty({embed_dim, kdim});
    v_proj_weight = empty({embed_dim, vdim});
    init::xavier_uniform_(q_proj_weight);
    init::xavier_uniform_(k_proj_weight);
    init::xavier_uniform_(v_proj_weight);
    q_proj_weight = register_parameter("q_proj_weight", q_proj_weight);
    k_proj_weight = register_parameter("k_proj_weight", k_proj_weight);
    v_proj_weight = register_parameter("v_proj_weight", v_proj_weight);
  }
  if (o.bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * embed_dim}));
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, o.bias));
  if (o.bias) {
    NoGradGuard g;
    out_proj->bias.zero_();
  }
  if (o.add_bias_kv) {
    bias_k = empty({1, 1, embed_dim});
    bias_v = empty({1, 1, embed_dim});
    init::xavier_normal_(bias_k);
    init::xavier_normal_(bias_v);
    bias_k = register_parameter("bias_k", bias_k);
    bias_v = register_parameter("bias_v", bias_v);
  }
}

std::tuple<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                                       const Tensor& value, const Tensor& key_padding_mask,
                                                       bool need_weights, const Tensor& attn_mask,
                                                       bool average_attn_weights) {
  NABLA_CHECK(query.defined() && key.defined() && value.defined(),
              "MultiheadAttention: query, key and value must be defined tensors");
  // ---- shapes and dtypes (torch.nn.functional._mha_shape_check) ----
  const bool batched = query.dim() == 3;
  NABLA_CHECK(
      query.dim() == 2 || query.dim() == 3,
      "MultiheadAttention: query should be an unbatched 2-D or batched 3-D tensor, got a {}-D query of "
      "shape {}",
      query.dim(), query.shape_str());
  NABLA_CHECK(key.dim() == query.dim() && value.dim() == query.dim(),
              "MultiheadAttention: for a {}-D query, key and value must be {}-D too, got {}-D and {}-D",
              query.dim(), query.dim(), key.dim(), value.dim());
  if (key_padding_mask.defined()) {
    NABLA_CHECK(key_padding_mask.dim() == (batched ? 2 : 1),
                "MultiheadAttention: for a {} query, key_padding_mask must be {}-D, got shape {}",
                batched ? "batched (3-D)" : "unbatched (2-D)", batched ? 2 : 1, key_padding_mask.shape_str());
    NABLA_CHECK(key_padding_mask.dtype() == kBool || key_padding_mask.is_floating_point(),
                "MultiheadAttention: only bool and floating types of key_padding_mask are supported, got {}",
                dtype_name(key_padding_mask.dtype()));
  }
  if (attn_mask.defined()) {
    NABLA_CHECK(attn_mask.dim() == 2 || attn_mask.dim() == 3,
                "MultiheadAttention: attn_mask must be 2-D or 3-D, got shape {}", attn_mask.shape_str());
    NABLA_CHECK(attn_mask.dtype() == kBool || attn_mask.dtype() == kUInt8 || attn_mask.is_floating_point(),
                "MultiheadAttention: only float, byte, and bool types are supported for attn_mask, not {}",
                dtype_name(attn_mask.dtype()));
  }
  NABLA_CHECK(query.size(-1) == embed_dim,
              "MultiheadAttention: was expecting embedding dimension of {} (embed_dim), but the query has {} "
              "(shape {})",
              embed_dim, query.size(-1), query.shape_str());
  NABLA_CHECK(
      key.size(-1) == kdim && value.size(-1) == vdim,
      "MultiheadAttention: key and value must have kdim={} and vdim={} features, got shapes {} and {}", kdim,
      vdim, key.shape_str(), value.shape_str());

  // ---- to [L, N, E] ----
  Tensor q = query, k = key, v = value, kpm = key_padding_mask;
  if (batched && options.batch_first) {
    q = q.transpose(0, 1);
    k = k.transpose(0, 1);
    v = v.transpose(0, 1);
  }
  if (!batched) {
    q = q.unsqueeze(1);
    k = k.unsqueeze(1);
    v = v.unsqueeze(1);
    if (kpm.defined()) kpm = kpm.unsqueeze(0);
  }
  const int64_t L = q.size(0), N = q.size(1), E = embed_dim, H = num_heads, D = head_dim;
  const int64_t S = k.size(0);
  NABLA_CHECK(k.size(0) == v.size(0) && k.size(1) == v.size(1),
              "MultiheadAttention: key's sequence and batch dims ({}, {}) do not match value's ({}, {})",
              k.size(0), k.size(1), v.size(0), v.size(1));
  NABLA_CHECK(k.size(1) == N, "MultiheadAttention: key and value have batch size {}, the query {}", k.size(1),
              N);

  // ---- in-projection (one GEMM for self-attention, as _in_projection_packed) ----
  if (in_proj_weight.defined()) {
    if (query.impl() == key.impl() && key.impl() == value.impl()) {
      const std::vector<Tensor> qkv = linear(q, in_proj_weight, in_proj_bias).chunk(3, -1);
      q = qkv[0];
      k = qkv[1];
      v = qkv[2];
    } else {
      const std::vector<Tensor> w = in_proj_weight.chunk(3);
      std::vector<Tensor> b(3);
      if (in_proj_bias.defined()) b = in_proj_bias.chunk(3);
      q = linear(q, w[0], b[0]);
      k = linear(k, w[1], b[1]);
      v = linear(v, w[2], b[2]);
    }
  } else {
    std::vector<Tensor> b(3);
    if (in_proj_bias.defined()) b = in_proj_bias.chunk(3);
    q = linear(q, q_proj_weight, b[0]);
    k = linear(k, k_proj_weight, b[1]);
    v = linear(v, v_proj_weight, b[2]);
  }

  // ---- masks: one additive float mask broadcastable to [N, H, L, S] ----
  Tensor am = attn_mask;
  if (am.defined()) {
    if (am.dtype() == kUInt8) am = ne(am, 0);  // PyTorch's deprecated byte masks: nonzero = masked
    if (am.dim() == 2) {
      NABLA_CHECK(am.size(0) == L && am.size(1) == S,
                  "MultiheadAttention: the shape of the 2-D attn_mask is {}, but should be [{}, {}] (target "
                  "length, source length)",
                  am.shape_str(), L, S);
    } else {
      NABLA_CHECK(
          am.size(0) == N * H && am.size(1) == L && am.size(2) == S,
          "MultiheadAttention: the shape of the 3-D attn_mask is {}, but should be [{}, {}, {}] (batch * "
          "num_heads, target length, source length)",
          am.shape_str(), N * H, L, S);
      am = am.reshape({N, H, L, S});
    }
  }
  if (kpm.defined()) {
    NABLA_CHECK(
        kpm.size(0) == N && kpm.size(1) == S,
        "MultiheadAttention: expecting key_padding_mask shape of [{}, {}] (batch, source length), but got {}",
        N, S, key_padding_mask.shape_str());
    // PyTorch 1.13 merges a float padding mask into a bool attn_mask with logical_or: any nonzero
    // padding value masks that key.
    if (am.defined() && am.dtype() == kBool && kpm.dtype() != kBool) kpm = ne(kpm, 0);
    kpm = kpm.reshape({N, 1, 1, S});
  }
  Tensor mask;
  if (am.defined()) mask = additive_mask(am, q.dtype());
  if (kpm.defined()) {
    // (a float attn_mask with a float key_padding_mask: PyTorch 1.13 fails in masked_fill; they
    // are added, as PyTorch 2 does)
    const Tensor kp = additive_mask(kpm, q.dtype());
    mask = mask.defined() ? add(mask, kp) : kp;
  }

  // ---- extra key positions, heads ----
  int64_t extra = 0;
  if (bias_k.defined()) {
    k = cat({k, bias_k.expand({1, N, E})}, 0);
    v = cat({v, bias_v.expand({1, N, E})}, 0);
    ++extra;
  }
  const int64_t Sk = k.size(0);
  q = q.reshape({L, N, H, D}).permute({1, 2, 0, 3});
  k = k.reshape({Sk, N, H, D}).permute({1, 2, 0, 3});
  v = v.reshape({Sk, N, H, D}).permute({1, 2, 0, 3});
  if (options.add_zero_attn) {
    const Tensor z = zeros({N, H, 1, D}, TensorOptions().dtype(k.dtype()).device(k.device()));
    k = cat({k, z}, 2);
    v = cat({v, z}, 2);
    ++extra;
  }
  mask = pad_last(mask, extra);

  auto [out, weights] = attention(q, k, v, mask, options.dropout, is_training(), need_weights);

  out = out.permute({2, 0, 1, 3}).reshape({L * N, E});
  out = (*out_proj)(out).view({L, N, E});
  if (need_weights) {
    if (average_attn_weights) weights = div(sum(weights, {1}), static_cast<double>(H));
    if (!batched) weights = weights.squeeze(0);
  } else {
    weights = Tensor();
  }
  if (!batched) {
    out = out.squeeze(1);
  } else if (options.batch_first) {
    out = out.transpose(0, 1);
  }
  return {out, weights};
}

// ---- the layers ---------------------------------------------------------------------------------

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model_, int64_t nhead_,
                                                 const TransformerLayerOptions& o)
    : Module("TransformerEncoderLayer"), d_model(d_model_), nhead(nhead_), options(o) {
  check_layer_args("TransformerEncoderLayer", d_model, nhead, o);
  MultiheadAttentionOptions mo;
  mo.dropout = o.dropout;
  mo.batch_first = o.batch_first;
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(d_model, nhead, mo));
  linear1 = register_module("linear1", std::make_shared<Linear>(d_model, o.dim_feedforward));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, d_model));
  norm1 =
      register_module("norm1", std::make_shared<LayerNorm>(std::vector<int64_t>{d_model}, o.layer_norm_eps));
  norm2 =
      register_module("norm2", std::make_shared<LayerNorm>(std::vector<int64_t>{d_model}, o.layer_norm_eps));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) { return forward(src, Tensor(), Tensor()); }

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask) {
  const auto act = activation_of(options, "TransformerEncoderLayer");
  auto sa = [&](const Tensor& x) {
    return (*dropout1)(
        std::get<0>(self_attn->forward(x, x, x, src_key_padding_mask, /*need_weights=*/false, src_mask)));
  };
  auto ff = [&](const Tensor& x) { return (*dropout2)((*linear2)((*dropout)(act((*linear1)(x))))); };
  Tensor x = src;
  if (options.norm_first) {
    x = add(x, sa((*norm1)(x)));
    x = add(x, ff((*norm2)(x)));
  } else {
    x = (*norm1)(add(x, sa(x)));
    x = (*norm2)(add(x, ff(x)));
  }
  return x;
}

std::shared_ptr<TransformerEncoderLayer> TransformerEncoderLayer::clone() const {
  auto copy = std::make_shared<TransformerEncoderLayer>(d_model, nhead, options);
  copy_state(*this, *copy);
  return copy;
}

TransformerDecoderLayer::TransformerDecoderLayer(int64_t d_model_, int64_t nhead_,
                                                 const TransformerLayerOptions& o)
    : Module("TransformerDecoderLayer"), d_model(d_model_), nhead(nhead_), options(o) {
  check_layer_args("TransformerDecoderLayer", d_model, nhead, o);
  MultiheadAttentionOptions mo;
  mo.dropout = o.dropout;
  mo.batch_first = o.batch_first;
  self_attn = register_module("self_attn", std::make_shared<MultiheadAttention>(d_model, nhead, mo));
  multihead_attn =
      register_module("multihead_attn", std::make_shared<MultiheadAttention>(d_model, nhead, mo));
  linear1 = register_module("linear1", std::make_shared<Linear>(d_model, o.dim_feedforward));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, d_model));
  norm1 =
      register_module("norm1", std::make_shared<LayerNorm>(std::vector<int64_t>{d_model}, o.layer_norm_eps));
  norm2 =
      register_module("norm2", std::make_shared<LayerNorm>(std::vector<int64_t>{d_model}, o.layer_norm_eps));
  norm3 =
      register_module("norm3", std::make_shared<LayerNorm>(std::vector<int64_t>{d_model}, o.layer_norm_eps));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
  dropout3 = register_module("dropout3", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                        const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                        const Tensor& memory_key_padding_mask) {
  NABLA_CHECK(memory.defined(),
              "TransformerDecoderLayer: memory (the encoder's output) must be a defined tensor");
  const auto act = activation_of(options, "TransformerDecoderLayer");
  auto sa = [&](const Tensor& x) {
    return (*dropout1)(
        std::get<0>(self_attn->forward(x, x, x, tgt_key_padding_mask, /*need_weights=*/false, tgt_mask)));
  };
  auto mha = [&](const Tensor& x) {
    return (*dropout2)(std::get<0>(multihead_attn->forward(x, memory, memory, memory_key_padding_mask,
                                                           /*need_weights=*/false, memory_mask)));
  };
  auto ff = [&](const Tensor& x) { return (*dropout3)((*linear2)((*dropout)(act((*linear1)(x))))); };
  Tensor x = tgt;
  if (options.norm_first) {
    x = add(x, sa((*norm1)(x)));
    x = add(x, mha((*norm2)(x)));
    x = add(x, ff((*norm3)(x)));
  } else {
    x = (*norm1)(add(x, sa(x)));
    x = (*norm2)(add(x, mha(x)));
    x = (*norm3)(add(x, ff(x)));
  }
  return x;
}

std::shared_ptr<TransformerDecoderLayer> TransformerDecoderLayer::clone() const {
  auto copy = std::make_shared<TransformerDecoderLayer>(d_model, nhead, options);
  copy_state(*this, *copy);
  return copy;
}

// ---- the stacks -----------------------------------------------------------------------------------

TransformerEncoder::TransformerEncoder(const std::shared_ptr<TransformerEncoderLayer>& encoder_layer,
                                       int64_t num_layers_, std::shared_ptr<Module> norm_)
    : Module("TransformerEncoder"), num_layers(num_layers_), norm(std::move(norm_)) {
  NABLA_CHECK(encoder_layer != nullptr, "TransformerEncoder: encoder_layer is null");
  NABLA_CHECK(num_layers >= 0, "TransformerEncoder: num_layers must be non-negative, got {}", num_layers);
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < num_layers; ++i) layers->push_back(encoder_layer->clone());
  if (norm) register_module("norm", norm);
}

TransformerEncoderLayer& TransformerEncoder::layer(std::size_t i) const {
  return layers->at<TransformerEncoderLayer>(i);
}

Tensor TransformerEncoder::forward(const Tensor& src) { return forward(src, Tensor(), Tensor()); }

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask) {
  if (src_key_padding_mask.defined()) {
    NABLA_CHECK(src_key_padding_mask.dtype() == kBool || src_key_padding_mask.is_floating_point(),
                "TransformerEncoder: only bool and floating types of key_padding_mask are supported, got {}",
                dtype_name(src_key_padding_mask.dtype()));
  }
  Tensor out = src;
  for (std::size_t i = 0; i < layers->size(); ++i) out = layer(i).forward(out, mask, src_key_padding_mask);
  if (norm) out = (*norm)(out);
  return out;
}

TransformerDecoder::TransformerDecoder(const std::shared_ptr<TransformerDecoderLayer>& decoder_layer,
                                       int64_t num_layers_, std::shared_ptr<Module> norm_)
    : Module("TransformerDecoder"), num_layers(num_layers_), norm(std::move(norm_)) {
  NABLA_CHECK(decoder_layer != nullptr, "TransformerDecoder: decoder_layer is null");
  NABLA_CHECK(num_layers >= 0, "TransformerDecoder: num_layers must be non-negative, got {}", num_layers);
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < num_layers; ++i) layers->push_back(decoder_layer->clone());
  if (norm) register_module("norm", norm);
}

TransformerDecoderLayer& TransformerDecoder::layer(std::size_t i) const {
  return layers->at<TransformerDecoderLayer>(i);
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                   const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                   const Tensor& memory_key_padding_mask) {
  Tensor out = tgt;
  for (std::size_t i = 0; i < layers->size(); ++i)
    out = layer(i).forward(out, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
  if (norm) out = (*norm)(out);
  return out;
}

// ---- Transformer -------------------------------------------------------------------------------------

Transformer::Transformer(const TransformerOptions& o)
    : Module("Transformer"), d_model(o.d_model), nhead(o.nhead), batch_first(o.batch_first) {
  NABLA_CHECK(o.num_encoder_layers >= 0 && o.num_decoder_layers >= 0,
              "Transformer: num_encoder_layers and num_decoder_layers must be non-negative, got {} and {}",
              o.num_encoder_layers, o.num_decoder_layers);
  TransformerLayerOptions lo;
  lo.dim_feedforward = o.dim_feedforward;
  lo.dropout = o.dropout;
  lo.activation = o.activation;
  lo.activation_fn = o.activation_fn;
  lo.layer_norm_eps = o.layer_norm_eps;
  lo.batch_first = o.batch_first;
  lo.norm_first = o.norm_first;
  auto final_norm = [&] {
    return std::make_shared<LayerNorm>(std::vector<int64_t>{o.d_model}, o.layer_norm_eps);
  };
  if (o.custom_encoder) {
    encoder = o.custom_encoder;
  } else {
    encoder = std::make_shared<TransformerEncoder>(
        std::make_shared<TransformerEncoderLayer>(o.d_model, o.nhead, lo), o.num_encoder_layers,
        final_norm());
  }
  register_module("encoder", encoder);
  if (o.custom_decoder) {
    decoder = o.custom_decoder;
  } else {
    decoder = std::make_shared<TransformerDecoder>(
        std::make_shared<TransformerDecoderLayer>(o.d_model, o.nhead, lo), o.num_decoder_layers,
        final_norm());
  }
  register_module("decoder", decoder);
  // torch.nn.Transformer._reset_parameters
  for (Tensor& p : parameters()) {
    if (p.dim() > 1) init::xavier_uniform_(p);
  }
}

Tensor Transformer::forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask,
                            const Tensor& tgt_mask, const Tensor& memory_mask,
                            const Tensor& src_key_padding_mask, const Tensor& tgt_key_padding_mask,
                            const Tensor& memory_key_padding_mask) {
  NABLA_CHECK(src.defined() && tgt.defined(), "Transformer: src and tgt must be defined tensors");
  const bool batched = src.dim() == 3;
  if (batched) {
    const int64_t bdim = batch_first ? 0 : 1;
    NABLA_CHECK(
        tgt.dim() == 3 && src.size(bdim) == tgt.size(bdim),
        "Transformer: the batch number of src and tgt must be equal, got shapes {} and {} (batch_first={})",
        src.shape_str(), tgt.shape_str(), batch_first);
  }
  NABLA_CHECK(
      src.size(-1) == d_model && tgt.size(-1) == d_model,
      "Transformer: the feature number of src and tgt must be equal to d_model={}, got shapes {} and {}",
      d_model, src.shape_str(), tgt.shape_str());
  auto* enc = dynamic_cast<TransformerEncoder*>(encoder.get());
  auto* dec = dynamic_cast<TransformerDecoder*>(decoder.get());
  NABLA_CHECK(enc != nullptr,
              "Transformer: the encoder is a {}, which C++ cannot call with masks: it must be a "
              "TransformerEncoder (or a subclass)",
              encoder->type_name());
  NABLA_CHECK(dec != nullptr,
              "Transformer: the decoder is a {}, which C++ cannot call with masks: it must be a "
              "TransformerDecoder (or a subclass)",
              decoder->type_name());
  const Tensor memory = enc->forward(src, src_mask, src_key_padding_mask);
  return dec->forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
}

Tensor Transformer::generate_square_subsequent_mask(int64_t sz, const TensorOptions& options) {
  NABLA_CHECK(sz >= 0, "Transformer.generate_square_subsequent_mask: sz must be non-negative, got {}", sz);
  const TensorOptions idx = TensorOptions().dtype(kInt64).device(options.device());
  const Tensor rows = arange(sz, idx).unsqueeze(1), cols = arange(sz, idx).unsqueeze(0);
  return masked_fill(zeros({sz, sz}, options), gt(cols, rows), kNegInf);
}

}  // namespace nabla::nn
