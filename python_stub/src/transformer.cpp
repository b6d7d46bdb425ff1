// nabla.nn's attention and Transformer modules (nabla/nn/transformer.h): torch.nn's constructor
// arguments, defaults and keyword names, forward(...) with PyTorch's keyword arguments (masks
// None or tensors), MultiheadAttention returning (output, weights or None).
#include <nanobind/stl/variant.h>

#include <variant>

#include "bind.h"

namespace nabla::python {
namespace {

using nb::arg;
using namespace nb::literals;  // NOLINT: "mask"_a
using nn::Module;
using Activation = std::variant<std::string, std::function<Tensor(const Tensor&)>>;
using OptTensor = std::optional<Tensor>;

Tensor opt(const OptTensor& t) { return t ? *t : Tensor(); }

nn::TransformerLayerOptions layer_options(int64_t ff, double dropout, const Activation& act, double eps,
                                          bool batch_first, bool norm_first) {
  nn::TransformerLayerOptions o;
  o.dim_feedforward = ff;
  o.dropout = dropout;
  if (std::holds_alternative<std::string>(act))
    o.activation = std::get<std::string>(act);
  else
    o.activation_fn = std::get<std::function<Tensor(const Tensor&)>>(act);
  o.layer_norm_eps = eps;
  o.batch_first = batch_first;
  o.norm_first = norm_first;
  return o;
}

// C++ clones the layer a stack is made of (PyTorch deep-copies it): a Python subclass would lose
// its Python methods in the copy, so only nabla's own layer class is taken.
template <class L>
std::shared_ptr<L> exact_layer(nb::handle_t<L> h, const char* who, const char* cls) {
  NABLA_CHECK(h.type().is(nb::type<L>()),
              "{}: the layer must be a nabla.nn.{} (C++ clones it num_layers times), got a {}", who, cls,
              nb::type_name(h.type()).c_str());
  return nb::cast<std::shared_ptr<L>>(h);
}

std::optional<Tensor> maybe(const Tensor& t) { return t.defined() ? std::optional<Tensor>(t) : std::nullopt; }

}  // namespace

void init_transformer(nb::module_& m) {
  nb::module_ nnm = nb::borrow<nb::module_>(m.attr("nn"));

  nb::class_<nn::MultiheadAttention, Module>(nnm, "MultiheadAttention",
                                             "Multi-head attention, as torch.nn.MultiheadAttention")
      .def(
          "__init__",
          [](nn::MultiheadAttention* self, int64_t embed_dim, int64_t num_heads, double dropout, bool bias,
             bool add_bias_kv, bool add_zero_attn, std::optional<int64_t> kdim, std::optional<int64_t> vdim,
             bool batch_first, Where device, std::optional<ScalarType> dtype) {
            nn::MultiheadAttentionOptions o;
            o.dropout = dropout;
            o.bias = bias;
            o.add_bias_kv = add_bias_kv;
            o.add_zero_attn = add_zero_attn;
            o.kdim = kdim;
            o.vdim = vdim;
            o.batch_first = batch_first;
            new (self) nn::MultiheadAttention(embed_dim, num_heads, o);
            try {
              place(*self, "MultiheadAttention", device, dtype);
            } catch (...) {
              self->~MultiheadAttention();  // nanobind does not destroy an instance whose __init__ failed
              throw;
            }
          },
          arg("embed_dim"), arg("num_heads"), arg("dropout") = 0.0, arg("bias") = true,
          arg("add_bias_kv") = false, arg("add_zero_attn") = false, arg("kdim") = nb::none(),
          arg("vdim") = nb::none(), arg("batch_first") = false, NABLA_PY_FACTORY_KWARGS)
      .def(
          "forward",
          [](nn::MultiheadAttention& a, const Tensor& query, const Tensor& key, const Tensor& value,
             const OptTensor& key_padding_mask, bool need_weights, const OptTensor& attn_mask,
             bool average_attn_weights) {
            std::tuple<Tensor, Tensor> r;
            {
              nb::gil_scoped_release release;
              r = a.forward(query, key, value, opt(key_padding_mask), need_weights, opt(attn_mask),
                            average_attn_weights);
            }
            return std::make_pair(std::get<0>(r), maybe(std::get<1>(r)));
          },
          arg("query"), arg("key"), arg("value"), arg("key_padding_mask") = nb::none(),
          arg("need_weights") = true, arg("attn_mask") = nb::none(), arg("average_attn_weights") = true,
          "(attn_output, attn_output_weights or None when need_weights is False)")
      .def_ro("embed_dim", &nn::MultiheadAttention::embed_dim)
      .def_ro("num_heads", &nn::MultiheadAttention::num_heads)
      .def_ro("head_dim", &nn::MultiheadAttention::head_dim)
      .def_ro("kdim", &nn::MultiheadAttention::kdim)
      .def_ro("vdim", &nn::MultiheadAttention::vdim)
      .def_prop_ro("dropout", [](const nn::MultiheadAttention& a) { return a.options.dropout; })
      .def_prop_ro("batch_first", [](const nn::MultiheadAttention& a) { return a.options.batch_first; })
      .def_prop_ro("add_zero_attn", [](const nn::MultiheadAttention& a) { return a.options.add_zero_attn; })
      .def_prop_ro(
          "_qkv_same_embed_dim",
          [](const nn::MultiheadAttention& a) { return a.kdim == a.embed_dim && a.vdim == a.embed_dim; })
      // None where PyTorch registers None (in_proj_weight with kdim/vdim, biases without bias=...)
      .def_prop_ro("in_proj_weight", [](const nn::MultiheadAttention& a) { return maybe(a.in_proj_weight); })
      .def_prop_ro("in_proj_bias", [](const nn::MultiheadAttention& a) { return maybe(a.in_proj_bias); })
      .def_prop_ro("q_proj_weight", [](const nn::MultiheadAttention& a) { return maybe(a.q_proj_weight); })
      .def_prop_ro("k_proj_weight", [](const nn::MultiheadAttention& a) { return maybe(a.k_proj_weight); })
      .def_prop_ro("v_proj_weight", [](const nn::MultiheadAttention& a) { return maybe(a.v_proj_weight); })
      .def_prop_ro("bias_k", [](const nn::MultiheadAttention& a) { return maybe(a.bias_k); })
      .def_prop_ro("bias_v", [](const nn::MultiheadAttention& a) { return maybe(a.bias_v); })
      .def_ro("out_proj", &nn::MultiheadAttention::out_proj);

  nb::class_<nn::TransformerEncoderLayer, Module>(
      nnm, "TransformerEncoderLayer", "Self-attention and feed-forward, as torch.nn.TransformerEncoderLayer")
      .def(
          "__init__",
          [](nn::TransformerEncoderLayer* self, int64_t d_model, int64_t nhead, int64_t ff, double dropout,
             const Activation& act, double eps, bool batch_first, bool norm_first, Where device,
             std::optional<ScalarType> dtype) {
            new (self) nn::TransformerEncoderLayer(
                d_model, nhead, layer_options(ff, dropout, act, eps, batch_first, norm_first));
            try {
              place(*self, "TransformerEncoderLayer", device, dtype);
            } catch (...) {
              self->~TransformerEncoderLayer();
              throw;
            }
          },
          arg("d_model"), arg("nhead"), arg("dim_feedforward") = 2048, arg("dropout") = 0.1,
          arg("activation") = "relu", arg("layer_norm_eps") = 1e-5, arg("batch_first") = false,
          arg("norm_first") = false, NABLA_PY_FACTORY_KWARGS)
      .def(
          "forward",
          [](nn::TransformerEncoderLayer& l, const Tensor& src, const OptTensor& src_mask,
             const OptTensor& src_key_padding_mask) {
            nb::gil_scoped_release release;
            return l.forward(src, opt(src_mask), opt(src_key_padding_mask));
          },
          arg("src"), arg("src_mask") = nb::none(), arg("src_key_padding_mask") = nb::none())
      .def(
          "__deepcopy__",
          [](const nn::TransformerEncoderLayer& l, nb::handle /*memo*/) {
            nb::gil_scoped_release release;
            return l.clone();
          },
          arg("memo"), "An independent copy (what TransformerEncoder makes of its layer)")
      .def_prop_ro("norm_first", [](const nn::TransformerEncoderLayer& l) { return l.options.norm_first; });

  nb::class_<nn::TransformerDecoderLayer, Module>(
      nnm, "TransformerDecoderLayer",
      "Self-attention, memory attention and feed-forward, as torch.nn.TransformerDecoderLayer")
      .def(
          "__init__",
          [](nn::TransformerDecoderLayer* self, int64_t d_model, int64_t nhead, int64_t ff, double dropout,
             const Activation& act, double eps, bool batch_first, bool norm_first, Where device,
             std::optional<ScalarType> dtype) {
            new (self) nn::TransformerDecoderLayer(
                d_model, nhead, layer_options(ff, dropout, act, eps, batch_first, norm_first));
            try {
              place(*self, "TransformerDecoderLayer", device, dtype);
            } catch (...) {
              self->~TransformerDecoderLayer();
              throw;
            }
          },
          arg("d_model"), arg("nhead"), arg("dim_feedforward") = 2048, arg("dropout") = 0.1,
          arg("activation") = "relu", arg("layer_norm_eps") = 1e-5, arg("batch_first") = false,
          arg("norm_first") = false, NABLA_PY_FACTORY_KWARGS)
      .def(
          "forward",
          [](nn::TransformerDecoderLayer& l, const Tensor& tgt, const Tensor& memory,
             const OptTensor& tgt_mask, const OptTensor& memory_mask, const OptTensor& tgt_kpm,
             const OptTensor& memory_kpm) {
            nb::gil_scoped_release release;
            return l.forward(tgt, memory, opt(tgt_mask), opt(memory_mask), opt(tgt_kpm), opt(memory_kpm));
          },
          arg("tgt"), arg("memory"), arg("tgt_mask") = nb::none(), arg("memory_mask") = nb::none(),
          arg("tgt_key_padding_mask") = nb::none(), arg("memory_key_padding_mask") = nb::none())
      .def(
          "__deepcopy__",
          [](const nn::TransformerDecoderLayer& l, nb::handle /*memo*/) {
            nb::gil_scoped_release release;
            return l.clone();
          },
          arg("memo"), "An independent copy (what TransformerDecoder makes of its layer)")
      .def_prop_ro("norm_first", [](const nn::TransformerDecoderLayer& l) { return l.options.norm_first; });

  // enable_nested_tensor and mask_check steer PyTorch's inference fast path (NestedTensor), which
  // nabla does not have: accepted and ignored.
  nb::class_<nn::TransformerEncoder, Module>(
      nnm, "TransformerEncoder", "num_layers copies of an encoder layer, as torch.nn.TransformerEncoder")
      .def(
          "__init__",
          [](nn::TransformerEncoder* self, nb::handle_t<nn::TransformerEncoderLayer> layer,
             int64_t num_layers, std::shared_ptr<Module> norm, bool /*enable_nested_tensor*/,
             bool /*mask_check*/) {
            new (self) nn::TransformerEncoder(exact_layer<nn::TransformerEncoderLayer>(
                                                  layer, "TransformerEncoder", "TransformerEncoderLayer"),
                                              num_layers, std::move(norm));
          },
          arg("encoder_layer"), arg("num_layers"), arg("norm").none() = nb::none(),
          arg("enable_nested_tensor") = true, arg("mask_check") = true)
      .def(
          "forward",
          [](nn::TransformerEncoder& e, const Tensor& src, const OptTensor& mask, const OptTensor& kpm) {
            nb::gil_scoped_release release;
            return e.forward(src, opt(mask), opt(kpm));
          },
          arg("src"), arg("mask") = nb::none(), arg("src_key_padding_mask") = nb::none())
      .def_ro("num_layers", &nn::TransformerEncoder::num_layers);

  nb::class_<nn::TransformerDecoder, Module>(
      nnm, "TransformerDecoder", "num_layers copies of a decoder layer, as torch.nn.TransformerDecoder")
      .def(
          "__init__",
          [](nn::TransformerDecoder* self, nb::handle_t<nn::TransformerDecoderLayer> layer,
             int64_t num_layers, std::shared_ptr<Module> norm) {
            new (self) nn::TransformerDecoder(exact_layer<nn::TransformerDecoderLayer>(
                                                  layer, "TransformerDecoder", "TransformerDecoderLayer"),
                                              num_layers, std::move(norm));
          },
          arg("decoder_layer"), arg("num_layers"), arg("norm").none() = nb::none())
      .def(
          "forward",
          [](nn::TransformerDecoder& d, const Tensor& tgt, const Tensor& memory, const OptTensor& tgt_mask,
             const OptTensor& memory_mask, const OptTensor& tgt_kpm, const OptTensor& memory_kpm) {
            nb::gil_scoped_release release;
            return d.forward(tgt, memory, opt(tgt_mask), opt(memory_mask), opt(tgt_kpm), opt(memory_kpm));
          },
          arg("tgt"), arg("memory"), arg("tgt_mask") = nb::none(), arg("memory_mask") = nb::none(),
          arg("tgt_key_padding_mask") = nb::none(), arg("memory_key_padding_mask") = nb::none())
      .def_ro("num_layers", &nn::TransformerDecoder::num_layers);

  nb::class_<nn::Transformer, Module>(nnm, "Transformer", "Encoder and decoder, as torch.nn.Transformer")
      .def(
          "__init__",
          [](nn::Transformer* self, int64_t d_model, int64_t nhead, int64_t n_enc, int64_t n_dec, int64_t ff,
             double dropout, const Activation& act, std::shared_ptr<Module> custom_encoder,
             std::shared_ptr<Module> custom_decoder, double eps, bool batch_first, bool norm_first,
             Where device, std::optional<ScalarType> dtype) {
            nn::TransformerOptions o;
            o.d_model = d_model;
            o.nhead = nhead;
            o.num_encoder_layers = n_enc;
            o.num_decoder_layers = n_dec;
            o.dim_feedforward = ff;
            o.dropout = dropout;
            const nn::TransformerLayerOptions lo =
                layer_options(ff, dropout, act, eps, batch_first, norm_first);
            o.activation = lo.activation;
            o.activation_fn = lo.activation_fn;
            o.custom_encoder = std::move(custom_encoder);
            o.custom_decoder = std::move(custom_decoder);
            o.layer_norm_eps = eps;
            o.batch_first = batch_first;
            o.norm_first = norm_first;
            new (self) nn::Transformer(o);
            try {
              place(*self, "Transformer", device, dtype);
            } catch (...) {
              self->~Transformer();
              throw;
            }
          },
          arg("d_model") = 512, arg("nhead") = 8, arg("num_encoder_layers") = 6,
          arg("num_decoder_layers") = 6, arg("dim_feedforward") = 2048, arg("dropout") = 0.1,
          arg("activation") = "relu", arg("custom_encoder").none() = nb::none(),
          arg("custom_decoder").none() = nb::none(), arg("layer_norm_eps") = 1e-5, arg("batch_first") = false,
          arg("norm_first") = false, NABLA_PY_FACTORY_KWARGS)
      .def(
          "forward",
          [](nb::handle self, const Tensor& src, const Tensor& tgt, const OptTensor& src_mask,
             const OptTensor& tgt_mask, const OptTensor& memory_mask, const OptTensor& src_kpm,
             const OptTensor& tgt_kpm, const OptTensor& memory_kpm) -> nb::object {
            auto& t = nb::cast<nn::Transformer&>(self);
            // nabla's own stacks (not Python subclasses of them) run in C++ without the GIL
            const bool native = nb::cast(t.encoder).type().is(nb::type<nn::TransformerEncoder>()) &&
                                nb::cast(t.decoder).type().is(nb::type<nn::TransformerDecoder>());
            if (native) {
              Tensor out;
              {
                nb::gil_scoped_release release;
                out = t.forward(src, tgt, opt(src_mask), opt(tgt_mask), opt(memory_mask), opt(src_kpm),
                                opt(tgt_kpm), opt(memory_kpm));
              }
              return nb::cast(out);
            }
            // a custom encoder or decoder (a Python module, say): called through Python, with
            // PyTorch's keyword arguments, as torch.nn.Transformer.forward does
            nb::object memory =
                nb::cast(t.encoder)(src, "mask"_a = src_mask, "src_key_padding_mask"_a = src_kpm);
            return nb::cast(t.decoder)(tgt, memory, "tgt_mask"_a = tgt_mask, "memory_mask"_a = memory_mask,
                                       "tgt_key_padding_mask"_a = tgt_kpm,
                                       "memory_key_padding_mask"_a = memory_kpm);
          },
          arg("src"), arg("tgt"), arg("src_mask") = nb::none(), arg("tgt_mask") = nb::none(),
          arg("memory_mask") = nb::none(), arg("src_key_padding_mask") = nb::none(),
          arg("tgt_key_padding_mask") = nb::none(), arg("memory_key_padding_mask") = nb::none(),
          nb::sig(
              "def forward(self, src: nabla._C.Tensor, tgt: nabla._C.Tensor, src_mask: nabla._C.Tensor | "
              "None = "
              "None, tgt_mask: nabla._C.Tensor | None = None, memory_mask: nabla._C.Tensor | None = None, "
              "src_key_padding_mask: nabla._C.Tensor | None = None, tgt_key_padding_mask: nabla._C.Tensor | "
              "None = None, memory_key_padding_mask: nabla._C.Tensor | None = None) -> nabla._C.Tensor"))
      .def_static(
          "generate_square_subsequent_mask",
          [](int64_t sz, const std::variant<Device, std::string>& device) {
            const Device d = std::holds_alternative<Device>(device)
                                 ? std::get<Device>(device)
                                 : Device(std::string_view(std::get<std::string>(device)));
            return nn::Transformer::generate_square_subsequent_mask(sz, TensorOptions().device(d));
          },
          arg("sz"), arg("device") = "cpu", "[sz, sz] float: -inf above the diagonal, 0.0 on and below it")
      .def_ro("d_model", &nn::Transformer::d_model)
      .def_ro("nhead", &nn::Transformer::nhead)
      .def_ro("batch_first", &nn::Transformer::batch_first);
}

}  // namespace nabla::python
