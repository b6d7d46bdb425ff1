// Attention and Transformer modules: MultiheadAttention, TransformerEncoderLayer,
// TransformerDecoderLayer, TransformerEncoder, TransformerDecoder and Transformer, with PyTorch
// 1.13's names, defaults, parameter names (state dicts move between nabla and PyTorch
// unchanged), initialisation and mask semantics.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "nabla/nn/containers.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/module.h"
#include "nabla/nn/modules.h"

namespace nabla::nn {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverloaded-virtual"  // multi-input forwards beside Module's

/// torch.nn.MultiheadAttention's arguments after embed_dim and num_heads.
struct MultiheadAttentionOptions {
  double dropout = 0.0;  // on the attention weights, in training only
  bool bias = true;      // in_proj_bias and out_proj.bias
  bool add_bias_kv = false;
  bool add_zero_attn = false;
  std::optional<int64_t> kdim, vdim;  // features of key and value (default: embed_dim)
  bool batch_first = false;           // [N, L, E] instead of [L, N, E]
};

/// Multi-head scaled dot-product attention. Parameters: in_proj_weight [3E, E] (or, when kdim
/// or vdim differs from embed_dim, q_proj_weight [E, E], k_proj_weight [E, kdim],
/// v_proj_weight [E, vdim]), in_proj_bias [3E], out_proj (a Linear: weight [E, E], bias [E]),
/// and with add_bias_kv bias_k, bias_v [1, 1, E]. Initialised as PyTorch: xavier_uniform_
/// projections, zero biases, xavier_normal_ bias_k/bias_v.
class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, const MultiheadAttentionOptions& options = {});
  /// query [L, N, E] (batch_first: [N, L, E]; unbatched: [L, E]), key [S, N, kdim], value
  /// [S, N, vdim]. key_padding_mask [N, S] ([S] unbatched): bool (true = ignore that key) or
  /// float (added). attn_mask [L, S] or [N * num_heads, L, S] ([num_heads, L, S] unbatched):
  /// bool or uint8 (true = may not attend) or float (added to the scores). Returns the output
  /// (query's layout) and, when need_weights, the attention weights, averaged over heads
  /// ([N, L, S]) or per head ([N, num_heads, L, S]) without average_attn_weights (undefined
  /// otherwise).
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& key_padding_mask = Tensor(), bool need_weights = true,
                                     const Tensor& attn_mask = Tensor(), bool average_attn_weights = true);

  int64_t embed_dim, num_heads, head_dim, kdim, vdim;
  MultiheadAttentionOptions options;
  Tensor in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias, bias_k, bias_v;
  std::shared_ptr<Linear> out_proj;
};

/// The arguments torch.nn.TransformerEncoderLayer and TransformerDecoderLayer take after
/// d_model and nhead.
struct TransformerLayerOptions {
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";  // "relu" or "gelu"
  /// A callable activation instead (PyTorch's activation=<callable>); used when set.
  std::function<Tensor(const Tensor&)> activation_fn;
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;  // pre-norm: x + block(norm(x)) instead of norm(x + block(x))
};

/// Self-attention and a feed-forward block, each with a residual connection and a LayerNorm.
/// Children (state-dict names as PyTorch's): self_attn, linear1, dropout, linear2, norm1, norm2,
/// dropout1, dropout2.
class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, const TransformerLayerOptions& options = {});
  Tensor forward(const Tensor& src) override;
  /// src as MultiheadAttention's query; src_mask its attn_mask, src_key_padding_mask its
  /// key_padding_mask (either may be undefined).
  virtual Tensor forward(const Tensor& src, const Tensor& src_mask,
                         const Tensor& src_key_padding_mask = Tensor());
  /// An independent copy (PyTorch's copy.deepcopy): the same options, parameter values and
  /// mode, its own parameters.
  virtual std::shared_ptr<TransformerEncoderLayer> clone() const;

  int64_t d_model, nhead;
  TransformerLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;
  std::shared_ptr<LayerNorm> norm1, norm2;
};

/// Self-attention, attention over the encoder's output (memory) and a feed-forward block.
/// Children: self_attn, multihead_attn, linear1, dropout, linear2, norm1, norm2, norm3, dropout1,
/// dropout2, dropout3.
class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(int64_t d_model, int64_t nhead, const TransformerLayerOptions& options = {});
  virtual Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                         const Tensor& memory_mask = Tensor(), const Tensor& tgt_key_padding_mask = Tensor(),
                         const Tensor& memory_key_padding_mask = Tensor());
  /// An independent copy, as TransformerEncoderLayer::clone.
  virtual std::shared_ptr<TransformerDecoderLayer> clone() const;

  int64_t d_model, nhead;
  TransformerLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn, multihead_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2, dropout3;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
};

/// num_layers clones of encoder_layer (children layers.0, layers.1, ...), then norm (a child
/// "norm" when given; it is used as is, not copied, as PyTorch's). Padded positions get the
/// output of PyTorch's general path (its inference-only NestedTensor path returns zeros there).
class TransformerEncoder : public Module {
 public:
  TransformerEncoder(const std::shared_ptr<TransformerEncoderLayer>& encoder_layer, int64_t num_layers,
                     std::shared_ptr<Module> norm = nullptr);
  Tensor forward(const Tensor& src) override;
  virtual Tensor forward(const Tensor& src, const Tensor& mask,
                         const Tensor& src_key_padding_mask = Tensor());
  /// The i-th layer; Error when i >= num_layers.
  TransformerEncoderLayer& layer(std::size_t i) const;

  int64_t num_layers;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<Module> norm;
};

/// num_layers clones of decoder_layer, then norm, as TransformerEncoder.
class TransformerDecoder : public Module {
 public:
  TransformerDecoder(const std::shared_ptr<TransformerDecoderLayer>& decoder_layer, int64_t num_layers,
                     std::shared_ptr<Module> norm = nullptr);
  virtual Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                         const Tensor& memory_mask = Tensor(), const Tensor& tgt_key_padding_mask = Tensor(),
                         const Tensor& memory_key_padding_mask = Tensor());
  TransformerDecoderLayer& layer(std::size_t i) const;

  int64_t num_layers;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<Module> norm;
};

/// torch.nn.Transformer's arguments.
struct TransformerOptions {
  int64_t d_model = 512;
  int64_t nhead = 8;
  int64_t num_encoder_layers = 6;
  int64_t num_decoder_layers = 6;
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";
  std::function<Tensor(const Tensor&)> activation_fn;  // used instead of activation when set
  /// Replace the default encoder / decoder (forward() calls them as a TransformerEncoder /
  /// TransformerDecoder, so in C++ they must be one, or a subclass).
  std::shared_ptr<Module> custom_encoder, custom_decoder;
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
};

/// An encoder (with a final LayerNorm) and a decoder (likewise), as torch.nn.Transformer:
/// children encoder and decoder; every parameter of more than one dim (custom encoder and
/// decoder included) is re-initialised xavier_uniform_.
class Transformer : public Module {
 public:
  explicit Transformer(const TransformerOptions& options = {});
  /// src [S, N, E] (batch_first: [N, S, E]; unbatched [S, E]), tgt [T, N, E]; masks as
  /// MultiheadAttention's (src_mask [S, S], tgt_mask [T, T], memory_mask [T, S]). Returns the
  /// decoder's output, tgt's shape.
  virtual Tensor forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask = Tensor(),
                         const Tensor& tgt_mask = Tensor(), const Tensor& memory_mask = Tensor(),
                         const Tensor& src_key_padding_mask = Tensor(),
                         const Tensor& tgt_key_padding_mask = Tensor(),
                         const Tensor& memory_key_padding_mask = Tensor());
  /// [sz, sz]: -inf above the diagonal, 0 on and below it (a causal float mask).
  static Tensor generate_square_subsequent_mask(int64_t sz, const TensorOptions& options = {});

  int64_t d_model, nhead;
  bool batch_first;
  std::shared_ptr<Module> encoder, decoder;
};

#pragma GCC diagnostic pop

}  // namespace nabla::nn
