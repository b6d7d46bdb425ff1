// MultiheadAttention and the Transformer modules against PyTorch 1.13: each case of
// reference/transformer_reference.inc (made by tests/reference/make_transformer_reference.py)
// loads PyTorch's float64 parameters by their state-dict names (strictly, so the names match
// both ways) and compares outputs and the gradients of inputs and parameters at 1e-10. Then
// initialisation, clones, the causal mask, dropout, single-input use and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

using test_util::all_close;
using test_util::throws_with;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct RefTensor {
  std::string kind, name;
  Shape shape;
  std::vector<double> values;
};
struct RefCase {
  std::string name;
  std::vector<RefTensor> tensors;
};

#include "reference/transformer_reference.inc"

const RefCase& ref(const std::string& name) {
  for (const RefCase& c : kTransformerReference) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no reference case named " + name);
}

Tensor tensor_of(const RefTensor& t) {
  const Tensor v = from_vector<double>(t.values, t.shape, kFloat64);
  return t.kind == "mask_bool" ? ne(v, 0.0) : v;
}

// make_transformer_reference.py's ramp: element i is 0.3 cos(0.5 i).
Tensor ramp(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.3 * std::cos(0.5 * static_cast<double>(i));
  return from_vector<double>(v, t.sizes(), kFloat64);
}

using Inputs = std::map<std::string, Tensor>;
Tensor in(const Inputs& i, const std::string& name) {
  const auto it = i.find(name);
  return it == i.end() ? Tensor() : it->second;
}

// Builds the case's module in float64 with PyTorch's parameters, runs it, backpropagates the
// script's loss and compares everything the file holds.
template <class M>
void check_case(const std::string& name, std::shared_ptr<M> m,
                const std::function<std::vector<Tensor>(M&, const Inputs&)>& run) {
  SCOPED_TRACE(name);
  const RefCase& c = ref(name);
  m->to(kFloat64);
  StateDict params;
  Inputs inputs;
  std::map<std::string, const RefTensor*> want_out, want_grad_in, want_grad_param;
  for (const RefTensor& t : c.tensors) {
    if (t.kind == "param") {
      params.insert(t.name, tensor_of(t));
    } else if (t.kind == "input") {
      inputs[t.name] = tensor_of(t).requires_grad_(true);
    } else if (t.kind == "mask_bool" || t.kind == "mask_float") {
      inputs[t.name] = tensor_of(t);
    } else if (t.kind == "output") {
      want_out[t.name] = &t;
    } else if (t.kind == "grad_input") {
      want_grad_in[t.name] = &t;
    } else {
      want_grad_param[t.name] = &t;
    }
  }
  m->load_state_dict(params, /*strict=*/true);
  const std::vector<Tensor> outs = run(*m, inputs);
  Tensor loss = zeros({}, kFloat64);
  std::size_t defined = 0;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].defined()) continue;
    ++defined;
    ASSERT_TRUE(want_out.count(std::to_string(i))) << "nabla returned output " << i << ", PyTorch did not";
    const RefTensor& w = *want_out.at(std::to_string(i));
    EXPECT_EQ(outs[i].sizes(), w.shape) << "output " << i;
    EXPECT_TRUE(all_close(outs[i], w.values, 1e-10, 1e-10)) << "output " << i;
    loss = add(loss, sum(mul(outs[i], ramp(outs[i]))));
  }
  EXPECT_EQ(defined, want_out.size());
  loss.backward();
  for (const auto& [n, w] : want_grad_in) {
    ASSERT_TRUE(inputs.at(n).grad().defined()) << "no gradient for input " << n;
    EXPECT_TRUE(all_close(inputs.at(n).grad(), w->values, 1e-10, 1e-10)) << "grad of input " << n;
  }
  const auto named = m->named_parameters();
  EXPECT_EQ(named.size(), want_grad_param.size());
  for (const auto& [n, p] : named) {
    ASSERT_TRUE(want_grad_param.count(n)) << "PyTorch has no parameter " << n;
    ASSERT_TRUE(p.grad().defined()) << "no gradient for " << n;
    EXPECT_TRUE(all_close(p.grad(), want_grad_param.at(n)->values, 1e-10, 1e-10)) << "grad of " << n;
  }
}

std::vector<Tensor> both(const std::tuple<Tensor, Tensor>& r) { return {std::get<0>(r), std::get<1>(r)}; }

nn::TransformerLayerOptions layer_options(int64_t ff, const std::string& act = "relu",
                                          bool batch_first = false, bool norm_first = false,
                                          double eps = 1e-5) {
  nn::TransformerLayerOptions o;
  o.dim_feedforward = ff;
  o.dropout = 0.0;
  o.activation = act;
  o.batch_first = batch_first;
  o.norm_first = norm_first;
  o.layer_norm_eps = eps;
  return o;
}

// ---- against PyTorch ---------------------------------------------------------------------------

using MHA = nn::MultiheadAttention;

TEST(MultiheadAttentionReference, SelfAttentionWithPaddingAndCausalMasks) {
  check_case<MHA>("mha self-attention kpm causal", std::make_shared<MHA>(8, 2), [](MHA& m, const Inputs& i) {
    const Tensor x = in(i, "x");  // one tensor as query, key and value: the packed projection
    return both(m.forward(x, x, x, in(i, "key_padding_mask"), true, in(i, "attn_mask")));
  });
}

TEST(MultiheadAttentionReference, CrossAttentionBatchFirstBoolMaskPerHeadWeights) {
  nn::MultiheadAttentionOptions o;
  o.batch_first = true;
  check_case<MHA>("mha cross batch_first bool mask per head", std::make_shared<MHA>(8, 2, o),
                  [](MHA& m, const Inputs& i) {
                    const Tensor kv = in(i, "kv");
                    return both(m.forward(in(i, "query"), kv, kv, Tensor(), true, in(i, "attn_mask"),
                                          /*average_attn_weights=*/false));
                  });
}

TEST(MultiheadAttentionReference, KdimVdimSeparateProjections3dFloatMask) {
  nn::MultiheadAttentionOptions o;
  o.kdim = 5;
  o.vdim = 3;
  check_case<MHA>("mha kdim vdim 3-D float mask", std::make_shared<MHA>(8, 4, o),
                  [](MHA& m, const Inputs& i) {
                    return both(m.forward(in(i, "query"), in(i, "key"), in(i, "value"),
                                          in(i, "key_padding_mask"), true, in(i, "attn_mask")));
                  });
}

TEST(MultiheadAttentionReference, UnbatchedWithBiasKvAndZeroAttn) {
  nn::MultiheadAttentionOptions o;
  o.add_bias_kv = true;
  o.add_zero_attn = true;
  check_case<MHA>("mha unbatched bias_kv zero_attn", std::make_shared<MHA>(8, 2, o),
                  [](MHA& m, const Inputs& i) {
                    return both(m.forward(in(i, "query"), in(i, "key"), in(i, "value"),
                                          in(i, "key_padding_mask"), true, in(i, "attn_mask")));
                  });
}

TEST(MultiheadAttentionReference, NoBiasNoWeightsFloatPaddingMask) {
  nn::MultiheadAttentionOptions o;
  o.bias = false;
  check_case<MHA>("mha no bias no weights float kpm", std::make_shared<MHA>(6, 3, o),
                  [](MHA& m, const Inputs& i) {
                    const Tensor x = in(i, "x");
                    auto r = both(m.forward(x, x, x, in(i, "key_padding_mask"), /*need_weights=*/false));
                    EXPECT_FALSE(r[1].defined());
                    return r;
                  });
}

TEST(MultiheadAttentionReference, BoolAttnMaskWithFloatPaddingMaskOrsThem) {
  check_case<MHA>("mha bool attn_mask float kpm", std::make_shared<MHA>(4, 2), [](MHA& m, const Inputs& i) {
    return both(m.forward(in(i, "query"), in(i, "key"), in(i, "value"), in(i, "key_padding_mask"), true,
                          in(i, "attn_mask")));
  });
}

using EncL = nn::TransformerEncoderLayer;
using DecL = nn::TransformerDecoderLayer;

TEST(TransformerReference, EncoderLayerReluPostNorm) {
  check_case<EncL>(
      "encoder layer relu post-norm", std::make_shared<EncL>(4, 2, layer_options(8)),
      [](EncL& m, const Inputs& i) {
        return std::vector<Tensor>{m.forward(in(i, "src"), in(i, "src_mask"), in(i, "src_key_padding_mask"))};
      });
}

TEST(TransformerReference, EncoderLayerGeluNormFirstBatchFirst) {
  check_case<EncL>(
      "encoder layer gelu norm_first batch_first",
      std::make_shared<EncL>(4, 2, layer_options(8, "gelu", true, true, 1e-6)), [](EncL& m, const Inputs& i) {
        return std::vector<Tensor>{m.forward(in(i, "src"), Tensor(), in(i, "src_key_padding_mask"))};
      });
}

TEST(TransformerReference, DecoderLayerReluPostNorm) {
  check_case<DecL>("decoder layer relu post-norm", std::make_shared<DecL>(4, 2, layer_options(8)),
                   [](DecL& m, const Inputs& i) {
                     return std::vector<Tensor>{m.forward(in(i, "tgt"), in(i, "memory"), in(i, "tgt_mask"),
                                                          Tensor(), in(i, "tgt_key_padding_mask"),
                                                          in(i, "memory_key_padding_mask"))};
                   });
}

TEST(TransformerReference, DecoderLayerGeluNormFirstBatchFirst) {
  check_case<DecL>("decoder layer gelu norm_first batch_first",
                   std::make_shared<DecL>(4, 2, layer_options(8, "gelu", true, true)),
                   [](DecL& m, const Inputs& i) {
                     return std::vector<Tensor>{
                         m.forward(in(i, "tgt"), in(i, "memory"), in(i, "tgt_mask"), in(i, "memory_mask"))};
                   });
}

TEST(TransformerReference, EncoderOfTwoClonedLayersWithNorm) {
  auto enc =
      std::make_shared<nn::TransformerEncoder>(std::make_shared<EncL>(4, 2, layer_options(6)), 2,
                                               std::make_shared<nn::LayerNorm>(std::vector<int64_t>{4}));
  check_case<nn::TransformerEncoder>(
      "encoder 2 layers with norm", enc, [](nn::TransformerEncoder& m, const Inputs& i) {
        return std::vector<Tensor>{m.forward(in(i, "src"), in(i, "mask"), in(i, "src_key_padding_mask"))};
      });
}

TEST(TransformerReference, DecoderOfTwoClonedLayersBatchFirst) {
  auto dec = std::make_shared<nn::TransformerDecoder>(
      std::make_shared<DecL>(4, 2, layer_options(6, "relu", true)), 2);
  check_case<nn::TransformerDecoder>(
      "decoder 2 layers batch_first no norm", dec, [](nn::TransformerDecoder& m, const Inputs& i) {
        return std::vector<Tensor>{m.forward(in(i, "tgt"), in(i, "memory"), in(i, "tgt_mask"), Tensor(),
                                             Tensor(), in(i, "memory_key_padding_mask"))};
      });
}

nn::TransformerOptions small_transformer(int64_t enc, int64_t dec) {
  nn::TransformerOptions o;
  o.d_model = 4;
  o.nhead = 2;
  o.num_encoder_layers = enc;
  o.num_decoder_layers = dec;
  o.dim_feedforward = 6;
  o.dropout = 0.0;
  return o;
}

TEST(TransformerReference, TransformerWithMasks) {
  check_case<nn::Transformer>(
      "transformer 2+1 layers", std::make_shared<nn::Transformer>(small_transformer(2, 1)),
      [](nn::Transformer& m, const Inputs& i) {
        return std::vector<Tensor>{m.forward(in(i, "src"), in(i, "tgt"), Tensor(), in(i, "tgt_mask"),
                                             Tensor(), in(i, "src_key_padding_mask"), Tensor(),
                                             in(i, "memory_key_padding_mask"))};
      });
}

TEST(TransformerReference, TransformerUnbatchedGeluNormFirst) {
  nn::TransformerOptions o = small_transformer(1, 1);
  o.activation = "gelu";
  o.norm_first = true;
  check_case<nn::Transformer>(
      "transformer unbatched gelu norm_first", std::make_shared<nn::Transformer>(o),
      [](nn::Transformer& m, const Inputs& i) {
        return std::vector<Tensor>{m.forward(in(i, "src"), in(i, "tgt"), in(i, "src_mask"), in(i, "tgt_mask"),
                                             in(i, "memory_mask"))};
      });
}

// ---- construction --------------------------------------------------------------------------------

TEST(MultiheadAttention, ParametersAndInitialisationAsPyTorch) {
  manual_seed(1);
  MHA m(8, 2);
  std::vector<std::string> names;
  for (const auto& [n, p] : m.named_parameters()) names.push_back(n);
  EXPECT_EQ(names,
            (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}));
  EXPECT_EQ(m.in_proj_weight.sizes(), (Shape{24, 8}));
  EXPECT_EQ(m.head_dim, 4);
  // xavier_uniform_ on [24, 8]: bound sqrt(6 / (8 + 24)); biases zero
  const double bound = std::sqrt(6.0 / 32.0);
  EXPECT_LE(m.in_proj_weight.abs().max().item<double>(), bound);
  EXPECT_GT(m.in_proj_weight.abs().max().item<double>(), 0.8 * bound);
  EXPECT_EQ(m.in_proj_bias.abs().max().item<double>(), 0.0);
  EXPECT_EQ(m.out_proj->bias.abs().max().item<double>(), 0.0);

  nn::MultiheadAttentionOptions o;
  o.kdim = 3;
  o.vdim = 5;
  o.add_bias_kv = true;
  MHA s(8, 4, o);
  names.clear();
  for (const auto& [n, p] : s.named_parameters()) names.push_back(n);
  // (a module's own parameters come before its children's, as PyTorch's named_parameters)
  EXPECT_EQ(names,
            (std::vector<std::string>{"q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias",
                                      "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"}));
  EXPECT_FALSE(s.in_proj_weight.defined());
  EXPECT_EQ(s.k_proj_weight.sizes(), (Shape{8, 3}));
  EXPECT_EQ(s.v_proj_weight.sizes(), (Shape{8, 5}));
  EXPECT_EQ(s.bias_k.sizes(), (Shape{1, 1, 8}));

  o = {};
  o.bias = false;
  MHA nb(4, 1, o);
  EXPECT_EQ(nb.named_parameters().size(), 2u);  // in_proj_weight, out_proj.weight
  EXPECT_FALSE(nb.out_proj->bias.defined());
}

TEST(Transformer, StateDictNamesAsPyTorch) {
  nn::Transformer t(small_transformer(2, 1));
  const std::vector<std::string> keys = t.state_dict().keys();
  const std::vector<std::string> some{"encoder.layers.0.self_attn.in_proj_weight",
                                      "encoder.layers.1.linear2.bias",
                                      "encoder.norm.weight",
                                      "decoder.layers.0.multihead_attn.out_proj.weight",
                                      "decoder.layers.0.norm3.bias",
                                      "decoder.norm.bias"};
  for (const std::string& k : some) EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  // 2 encoder layers (12 tensors each), 1 decoder layer (18), two final norms (2 each)
  EXPECT_EQ(keys.size(), 2u * 12 + 18 + 4);
  // _reset_parameters: every matrix xavier_uniform_ (linear1 [6, 4]: bound sqrt(6 / 10))
  const double bound = std::sqrt(6.0 / 10.0);
  EXPECT_LE(t.state_dict().at("encoder.layers.0.linear1.weight").abs().max().item<double>(), bound);
}

TEST(TransformerEncoder, LayersAreIndependentClones) {
  auto layer = std::make_shared<EncL>(4, 2, layer_options(6));
  layer->to(kFloat64);
  layer->eval();
  nn::TransformerEncoder enc(layer, 3);
  ASSERT_EQ(enc.layers->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EncL& l = enc.layer(i);
    EXPECT_NE(&l, layer.get());
    EXPECT_FALSE(l.is_training());  // the mode is copied, as deepcopy does
    EXPECT_EQ(l.self_attn->in_proj_weight.dtype(), kFloat64);
    EXPECT_TRUE(all_close(l.self_attn->in_proj_weight, layer->self_attn->in_proj_weight, 0, 0));
    EXPECT_FALSE(l.self_attn->in_proj_weight.is_alias_of(layer->self_attn->in_proj_weight));
  }
  {
    NoGradGuard g;
    enc.layer(0).linear1->weight.fill_(7.0);
  }
  EXPECT_NE(enc.layer(1).linear1->weight.max().item<double>(), 7.0);
  EXPECT_NE(layer->linear1->weight.max().item<double>(), 7.0);
  EXPECT_EQ(enc.parameters().size(), 3u * 12);
}

TEST(Transformer, SquareSubsequentMask) {
  const Tensor m = nn::Transformer::generate_square_subsequent_mask(3);
  EXPECT_EQ(m.dtype(), kFloat32);
  EXPECT_EQ(m.to_vector<double>(), (std::vector<double>{0, -kInf, -kInf, 0, 0, -kInf, 0, 0, 0}));
  EXPECT_EQ(nn::Transformer::generate_square_subsequent_mask(2, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(nn::Transformer::generate_square_subsequent_mask(0).numel(), 0);
}

// ---- behaviour -------------------------------------------------------------------------------------

TEST(MultiheadAttention, DropoutOnWeightsInTrainingOnly) {
  nn::MultiheadAttentionOptions o;
  o.dropout = 0.5;
  MHA m(8, 2, o);
  MHA plain(8, 2);
  plain.load_state_dict(m.state_dict());
  const Tensor x = randn({5, 2, 8});
  m.eval();
  const auto [y_eval, w_eval] = m.forward(x, x, x);
  EXPECT_TRUE(all_close(y_eval, std::get<0>(plain.forward(x, x, x)), 0, 0));
  // the averaged weights of each query sum to 1 without dropout
  EXPECT_TRUE(all_close(sum(w_eval, {-1}), ones({2, 5}), 1e-6, 1e-6));
  m.train();
  manual_seed(5);
  const auto [y1, w1] = m.forward(x, x, x);
  manual_seed(5);
  const auto [y2, w2] = m.forward(x, x, x);
  EXPECT_TRUE(all_close(y1, y2, 0, 0));
  EXPECT_FALSE(all_close(y1, y_eval, 1e-3, 1e-3));
  // some weights dropped: exact zeros where eval has none
  EXPECT_GT(eq(w1, 0.0).to(kFloat32).sum().item<double>(), 0.0);
}

TEST(TransformerEncoderLayer, RunsAsASingleInputModule) {
  auto layer = std::make_shared<EncL>(4, 2, layer_options(8));
  nn::Sequential seq(layer);
  const Tensor x = randn({3, 2, 4});
  EXPECT_TRUE(all_close(seq.forward(x), layer->forward(x, Tensor()), 0, 0));
  nn::TransformerEncoder enc(layer, 1);
  EXPECT_EQ(enc.forward(x).sizes(), (Shape{3, 2, 4}));
}

TEST(TransformerEncoderLayer, CallableActivation) {
  nn::TransformerLayerOptions o = layer_options(8);
  nn::TransformerLayerOptions t = o;
  t.activation_fn = [](const Tensor& x) { return relu(x); };
  auto a = std::make_shared<EncL>(4, 2, o);
  auto b = std::make_shared<EncL>(4, 2, t);
  b->load_state_dict(a->state_dict());
  const Tensor x = randn({3, 2, 4});
  EXPECT_TRUE(all_close(a->forward(x), b->forward(x), 0, 0));
  t.activation_fn = [](const Tensor& x) { return tanh(x); };
  auto c = std::make_shared<EncL>(4, 2, t);
  c->load_state_dict(a->state_dict());
  EXPECT_FALSE(all_close(a->forward(x), c->forward(x), 1e-4, 1e-4));
}

TEST(MultiheadAttention, ByteAttnMaskIsABoolMask) {
  MHA m(4, 2);
  const Tensor q = randn({3, 1, 4}), k = randn({5, 1, 4});
  const Tensor bmask = from_vector<bool>({false, true, false, false, true}, {1, 5}).expand({3, 5});
  const auto [yb, wb] = m.forward(q, k, k, Tensor(), true, bmask);
  const auto [yu, wu] = m.forward(q, k, k, Tensor(), true, bmask.to(kUInt8));
  EXPECT_TRUE(all_close(yb, yu, 0, 0));
  EXPECT_EQ(wb.select(2, 1).abs().max().item<double>(), 0.0);  // masked keys get no weight
}

// ---- errors ---------------------------------------------------------------------------------------

TEST(TransformerErrors, BadConstructionArguments) {
  EXPECT_TRUE(
      throws_with([] { MHA(10, 3); }, {"MultiheadAttention", "divisible", "embed_dim=10", "num_heads=3"}));
  EXPECT_TRUE(throws_with([] { MHA(0, 1); }, {"MultiheadAttention", "positive"}));
  EXPECT_TRUE(throws_with(
      [] {
        EncL(4, 2, [] {
          nn::TransformerLayerOptions o;
          o.activation = "tanh";
          return o;
        }());
      },
      {"TransformerEncoderLayer", "relu/gelu", "tanh"}));
  EXPECT_TRUE(throws_with([] { DecL(6, 4); }, {"MultiheadAttention", "embed_dim=6", "num_heads=4"}));
}

TEST(TransformerErrors, BadShapesAndMasks) {
  MHA m(8, 2);
  const Tensor x = randn({5, 3, 8});
  EXPECT_TRUE(throws_with([&] { m.forward(randn({5, 3, 6}), x, x); }, {"MultiheadAttention", "8", "6"}));
  EXPECT_TRUE(throws_with([&] { m.forward(randn({5, 3, 2, 8}), x, x); }, {"MultiheadAttention", "4-D"}));
  EXPECT_TRUE(throws_with(
      [&] {
        m.forward(x, randn({5, 8}), randn({5, 8}));
      },
      {"MultiheadAttention", "3-D"}));
  EXPECT_TRUE(throws_with([&] { m.forward(x, x, randn({4, 3, 8})); }, {"MultiheadAttention", "value"}));
  EXPECT_TRUE(throws_with([&] { m.forward(x, randn({5, 2, 8}), randn({5, 2, 8})); }, {"batch size 2", "3"}));
  EXPECT_TRUE(throws_with(
      [&] {
        m.forward(x, x, x, Tensor(), true, zeros({5, 4}));
      },
      {"MultiheadAttention", "2-D attn_mask", "[5, 4]", "[5, 5]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        m.forward(x, x, x, Tensor(), true, zeros({3, 5, 5}));
      },
      {"MultiheadAttention", "3-D attn_mask", "[6, 5, 5]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        m.forward(x, x, x, zeros({3, 4}, kBool));
      },
      {"MultiheadAttention", "key_padding_mask", "[3, 5]", "[3, 4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        m.forward(x, x, x, zeros({3, 5}, kInt64));
      },
      {"MultiheadAttention", "bool and floating", "int64"}));
  EXPECT_TRUE(throws_with(
      [&] {
        m.forward(x, x, x, Tensor(), true, zeros({5, 5}, kInt64));
      },
      {"MultiheadAttention", "attn_mask", "int64"}));
  // unbatched: the 3-D attn_mask has num_heads rows
  const Tensor u = randn({5, 8});
  EXPECT_TRUE(throws_with([&] { m.forward(u, u, u, Tensor(), true, zeros({3, 5, 5})); }, {"[2, 5, 5]"}));
  EXPECT_TRUE(throws_with([&] { m.forward(u, u, u, zeros({1, 5}, kBool)); }, {"key_padding_mask", "1-D"}));
}

TEST(TransformerErrors, TransformerInputs) {
  nn::Transformer t(small_transformer(1, 1));
  EXPECT_TRUE(throws_with(
      [&] {
        t.forward(randn({5, 2, 4}), randn({3, 3, 4}));
      },
      {"Transformer", "batch number", "[5, 2, 4]", "[3, 3, 4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        t.forward(randn({5, 2, 6}), randn({3, 2, 6}));
      },
      {"Transformer", "d_model=4", "[5, 2, 6]"}));
  nn::TransformerOptions o = small_transformer(1, 1);
  o.custom_encoder = std::make_shared<nn::Linear>(4, 4);
  nn::Transformer custom(o);
  EXPECT_TRUE(throws_with(
      [&] {
        custom.forward(randn({5, 2, 4}), randn({3, 2, 4}));
      },
      {"Transformer", "Linear", "TransformerEncoder"}));
}

}  // namespace
}  // namespace nabla
