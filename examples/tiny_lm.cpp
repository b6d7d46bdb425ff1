// A character-level language model on a small text shipped in the repo
// (examples/data/tiny_corpus.txt), in two variants that see the same batches:
//
//   transformer: token + learned position embeddings, a causal TransformerEncoder (pre-norm,
//                GELU, batch_first), a final LayerNorm and a linear head;
//   lstm:        an embedding, an LSTM and a linear head.
//
// The text's last 10% is held out; training draws random windows of --context characters from
// the rest. Every --eval-every steps, and at the end, the validation perplexity: exp of the mean
// cross-entropy of predicting each next character of the held-out windows (a model that knew
// nothing would score about the vocabulary size). Then a short greedy continuation of a prompt.
//
//   tiny_lm [--model transformer|lstm] [--steps N] [--context T] [--batch-size B] [--lr F]
//           [--seed S] [--device cpu|cuda|auto] [--data FILE] [--eval-every N] [--quiet]
//
// Ends with {"model": 0 (transformer) | 1 (lstm), "steps": ..., "train_loss": ...,
//            "val_loss": ..., "val_perplexity": ..., "vocab": ...}.
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "common.h"

#ifndef TINY_LM_CORPUS
#define TINY_LM_CORPUS "examples/data/tiny_corpus.txt"
#endif

using nabla::Tensor;
namespace nn = nabla::nn;
namespace F = nabla::nn::functional;

namespace {

/// The corpus as indices into its sorted set of distinct bytes.
struct Corpus {
  std::string chars;                 // index -> byte
  std::array<int64_t, 256> index{};  // byte -> index
  std::vector<int64_t> ids;          // the text, encoded

  explicit Corpus(const std::string& text) {
    std::array<bool, 256> seen{};
    for (unsigned char c : text) seen[c] = true;
    for (int c = 0; c < 256; ++c) {
      if (!seen[static_cast<std::size_t>(c)]) continue;
      index[static_cast<std::size_t>(c)] = static_cast<int64_t>(chars.size());
      chars.push_back(static_cast<char>(c));
    }
    ids.reserve(text.size());
    for (unsigned char c : text) ids.push_back(index[c]);
  }
  int64_t vocab() const { return static_cast<int64_t>(chars.size()); }
};

/// The model of either variant: logits [B, T, V] of the next character at every position.
class TinyLM : public nn::Module {
 public:
  TinyLM(bool transformer, int64_t vocab, int64_t context) : nn::Module("TinyLM"), transformer_(transformer) {
    constexpr int64_t d = 64;
    embed_ = register_module("embed", std::make_shared<nn::Embedding>(vocab, d));
    if (transformer_) {
      pos_ = register_module("pos", std::make_shared<nn::Embedding>(context, d));
      nn::TransformerLayerOptions o;
      o.dim_feedforward = 4 * d;
      o.dropout = 0.1;
      o.activation = "gelu";
      o.batch_first = true;
      o.norm_first = true;
      encoder_ = register_module("encoder", std::make_shared<nn::TransformerEncoder>(
                                                std::make_shared<nn::TransformerEncoderLayer>(d, 4, o),
                                                /*num_layers=*/2));
      norm_ = register_module("norm", std::make_shared<nn::LayerNorm>(std::vector<int64_t>{d}));
      head_ = register_module("head", std::make_shared<nn::Linear>(d, vocab));
    } else {
      nn::RNNOptions o;
      o.batch_first = true;
      lstm_ = register_module("lstm", std::make_shared<nn::LSTM>(d, 128, o));
      head_ = register_module("head", std::make_shared<nn::Linear>(128, vocab));
    }
  }

  Tensor forward(const Tensor& tokens) override {  // int64 [B, T]
    const int64_t t = tokens.size(1);
    Tensor h = (*embed_)(tokens);
    if (transformer_) {
      const Tensor positions = nabla::arange(t, nabla::TensorOptions(nabla::kInt64).device(tokens.device()));
      h = h + (*pos_)(positions);
      const Tensor causal = nn::Transformer::generate_square_subsequent_mask(
          t, nabla::TensorOptions(h.dtype()).device(h.device()));
      h = (*norm_)(encoder_->forward(h, causal));
    } else {
      h = (*lstm_)(h);
    }
    return (*head_)(h);
  }

 private:
  bool transformer_;
  std::shared_ptr<nn::Embedding> embed_, pos_;
  std::shared_ptr<nn::TransformerEncoder> encoder_;
  std::shared_ptr<nn::LayerNorm> norm_;
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> head_;
};

/// Inputs [B, T] and next-character targets [B, T] of windows starting at `starts`.
std::pair<Tensor, Tensor> windows(const std::vector<int64_t>& ids, const std::vector<int64_t>& starts,
                                  int64_t context, nabla::Device dev) {
  std::vector<int64_t> x, y;
  x.reserve(starts.size() * static_cast<std::size_t>(context));
  y.reserve(x.capacity());
  for (int64_t s : starts) {
    for (int64_t i = 0; i < context; ++i) {
      x.push_back(ids[static_cast<std::size_t>(s + i)]);
      y.push_back(ids[static_cast<std::size_t>(s + i + 1)]);
    }
  }
  const nabla::Shape shape{static_cast<int64_t>(starts.size()), context};
  return {nabla::from_vector(x, shape).to(dev), nabla::from_vector(y, shape).to(dev)};
}

double mean_loss(TinyLM& model, const Tensor& x, const Tensor& y) {
  const Tensor logits = model(x);
  const int64_t v = logits.size(2);
  return F::cross_entropy(logits.reshape({-1, v}), y.reshape({-1})).item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  example::Args d;
  d.batch_size = 32;
  d.lr = 3e-3;
  const example::Args a =
      example::parse(argc, argv, d, {"model", "steps", "context", "data", "eval-every"},
                     " [--model transformer|lstm] [--steps N] [--context T] [--data FILE] "
                     "[--eval-every N]");
  const auto extra = [&](const char* key, const std::string& def) {
    return a.extra.count(key) ? a.extra.at(key) : def;
  };
  const std::string kind = extra("model", "transformer");
  if (kind != "transformer" && kind != "lstm") {
    std::fprintf(stderr, "tiny_lm: --model must be transformer or lstm, not '%s'\n", kind.c_str());
    return 2;
  }
  const int64_t steps = std::stoll(extra("steps", "600"));
  const int64_t context = std::stoll(extra("context", "64"));
  const int64_t eval_every = std::max<int64_t>(1, std::stoll(extra("eval-every", "100")));
  const std::string path = extra("data", TINY_LM_CORPUS);
  const nabla::Device dev = example::device_of(a);
  try {
    std::ifstream in(path, std::ios::binary);
    NABLA_CHECK(in.good(), "tiny_lm: cannot open the corpus '{}'", path);
    std::stringstream text;
    text << in.rdbuf();
    const Corpus corpus(text.str());
    const auto n = static_cast<int64_t>(corpus.ids.size());
    const int64_t n_train = n * 9 / 10;
    NABLA_CHECK(n - n_train > context + 1 && n_train > context + 1,
                "tiny_lm: the corpus '{}' ({} bytes) is too short for windows of {} characters", path, n,
                context);
    const std::vector<int64_t> train_ids(corpus.ids.begin(), corpus.ids.begin() + n_train);
    const std::vector<int64_t> val_ids(corpus.ids.begin() + n_train, corpus.ids.end());

    // the held-out windows: consecutive, not overlapping, every character predicted once
    std::vector<int64_t> val_starts;
    for (int64_t s = 0; s + context + 1 <= static_cast<int64_t>(val_ids.size()); s += context)
      val_starts.push_back(s);
    const auto [val_x, val_y] = windows(val_ids, val_starts, context, dev);

    nabla::manual_seed(a.seed);
    TinyLM model(kind == "transformer", corpus.vocab(), context);
    model.to(dev);
    nabla::optim::AdamWOptions opt_options;
    opt_options.lr = a.lr;
    nabla::optim::AdamW opt(model.parameters(), opt_options);
    std::mt19937_64 batches(a.seed + 1);  // the windows' draws: the same for both variants
    std::uniform_int_distribution<int64_t> start_of(0, n_train - context - 2);

    double train_loss = 0;
    double val_loss = 0;
    for (int64_t step = 1; step <= steps; ++step) {
      model.train();
      std::vector<int64_t> starts(static_cast<std::size_t>(a.batch_size));
      for (auto& s : starts) s = start_of(batches);
      const auto [x, y] = windows(train_ids, starts, context, dev);
      opt.zero_grad();
      const Tensor logits = model(x);
      const Tensor loss = F::cross_entropy(logits.reshape({-1, corpus.vocab()}), y.reshape({-1}));
      loss.backward();
      nabla::optim::clip_grad_norm_(model.parameters(), 1.0);
      opt.step();
      train_loss = loss.item<double>();
      if (step % eval_every == 0 || step == steps) {
        nabla::NoGradGuard no_grad;
        model.eval();
        val_loss = mean_loss(model, val_x, val_y);
        if (!a.quiet)
          std::printf("step %5lld  train loss %.4f  val loss %.4f  val perplexity %.3f\n",
                      static_cast<long long>(step), train_loss, val_loss, std::exp(val_loss));
      }
    }

    if (!a.quiet) {  // a greedy continuation of the text's first line
      nabla::NoGradGuard no_grad;
      model.eval();
      std::vector<int64_t> ctx(corpus.ids.begin(), corpus.ids.begin() + std::min<int64_t>(context, 24));
      std::string out;
      for (int i = 0; i < 160; ++i) {
        const auto len =
            static_cast<int64_t>(std::min<std::size_t>(ctx.size(), static_cast<std::size_t>(context)));
        const std::vector<int64_t> window(ctx.end() - len, ctx.end());
        const Tensor logits = model(nabla::from_vector(window, nabla::Shape{1, len}).to(dev));
        const int64_t next = logits.select(1, len - 1).argmax(1).item<int64_t>();
        ctx.push_back(next);
        out.push_back(corpus.chars[static_cast<std::size_t>(next)]);
      }
      std::printf("sample (greedy, after \"%s\"): %s\n",
                  text.str().substr(0, ctx.size() - out.size()).c_str(), out.c_str());
    }
    example::print_json({{"model", kind == "transformer" ? 0.0 : 1.0},
                         {"steps", static_cast<double>(steps)},
                         {"train_loss", train_loss},
                         {"val_loss", val_loss},
                         {"val_perplexity", std::exp(val_loss)},
                         {"vocab", static_cast<double>(corpus.vocab())}});
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "tiny_lm: %s\n", e.what());
    return 1;
  }
  return 0;
}
