// The op table: sample inputs (broadcasting, non-contiguous views, empty and edge values),
// tolerances and differentiability for every op of ops.def.
#include "op_db.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace nabla::testing {
namespace {

using V = std::vector<Tensor>;
using Fn = std::function<Tensor(const V&)>;

// float64 values uniform in [lo, hi], |x| >= gap (to keep away from kinks at 0).
Tensor make(const Shape& shape, double lo, double hi, unsigned seed, double gap = 0.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) {
    do x = u(rng);
    while (std::fabs(x) < gap);
  }
  return from_vector(v, shape);
}

Tensor values(const std::vector<double>& v, const Shape& shape) { return from_vector(v, shape); }
Tensor idx(const std::vector<int64_t>& v, const Shape& shape) { return from_vector(v, shape); }
Tensor idx(const std::vector<int64_t>& v) { return from_vector(v); }

// Multiples of 1/4: exactly representable in every float dtype, so comparisons tie exactly.
Tensor round_half(const Tensor& t) { return (t * 4.0).to(kInt64).to(t.dtype()) / 4.0; }

V transpose_first(const V& in) {
  V r = in;
  r[0] = r[0].t();
  return r;
}

// Standard unary samples over the domain [lo, hi].
std::function<std::vector<Sample>()> unary_samples(double lo, double hi, double gap = 0.0,
                                                   std::vector<double> edge = {}) {
  return [=] {
    std::vector<Sample> s{
        {"scalar", {make({}, lo, hi, 1, gap)}},
        {"vector", {make({7}, lo, hi, 2, gap)}},
        {"matrix", {make({3, 4}, lo, hi, 3, gap)}},
        {"transposed", {make({4, 3}, lo, hi, 4, gap)}, transpose_first},
        {"sliced",
         {make({6, 5}, lo, hi, 5, gap)},
         [](const V& in) { return V{in[0].slice(0, 1, 6, 2).narrow(1, 1, 3)}; }},
        {"empty", {make({0, 3}, lo, hi, 6)}},
    };
    if (!edge.empty())
      s.push_back({"edge values", {values(edge, {static_cast<int64_t>(edge.size())})}, nullptr, false});
    return s;
  };
}

std::function<std::vector<Sample>()> binary_samples(double lo0, double hi0, double lo1, double hi1,
                                                    double gap1 = 0.0) {
  return [=] {
    return std::vector<Sample>{
        {"same shape", {make({3, 4}, lo0, hi0, 11), make({3, 4}, lo1, hi1, 12, gap1)}},
        {"broadcast row", {make({3, 4}, lo0, hi0, 13), make({4}, lo1, hi1, 14, gap1)}},
        {"broadcast both", {make({2, 1, 4}, lo0, hi0, 15), make({3, 1}, lo1, hi1, 16, gap1)}},
        {"0-dim other", {make({2, 3}, lo0, hi0, 17), make({}, lo1, hi1, 18, gap1)}},
        {"transposed", {make({4, 3}, lo0, hi0, 19), make({3, 4}, lo1, hi1, 20, gap1)}, transpose_first},
        {"expanded",
         {make({3, 1}, lo0, hi0, 21), make({3, 5}, lo1, hi1, 22, gap1)},
         [](const V& in) {
           return V{in[0].expand({3, 5}), in[1]};
         }},
        {"empty", {make({0, 4}, lo0, hi0, 23), make({4}, lo1, hi1, 24, gap1)}},
    };
  };
}

std::function<std::vector<Sample>()> reduce_samples(bool distinct = false) {
  return [=] {
    // distinct: values far apart so max/min have no ties and finite differences stay on one side
    auto m = [&](const Shape& sh, unsigned seed) {
      if (!distinct) return make(sh, -2, 2, seed);
      int64_t n = 1;
      for (int64_t s : sh) n *= s;
      std::vector<double> v(static_cast<std::size_t>(n));
      std::mt19937 rng(seed);
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * static_cast<double>(i) - 1.0;
      std::shuffle(v.begin(), v.end(), rng);
      return from_vector(v, sh);
    };
    return std::vector<Sample>{
        {"all", {m({3, 4}, 31)}},
        {"dim 1", {m({3, 4, 5}, 32)}},
        {"dims 0,2 keepdim", {m({2, 3, 4}, 33)}},
        {"transposed", {m({5, 4}, 34)}, transpose_first},
        {"scalar", {m({}, 35)}},
        {"long row", {m({2, 300}, 36)}},
    };
  };
}

// Reductions choose their dims by the sample's shape (each sample has its own shape):
// [3, 4, 5] reduces dim 1, [2, 3, 4] dims {0, 2} with keepdim, [2, 300] dim 1 (long
// rows), anything else every dim.
Fn reduce_fn(std::function<Tensor(const Tensor&, IntList, bool)> f) {
  return [f](const V& in) {
    const Tensor& x = in[0];
    if (x.sizes() == Shape{3, 4, 5}) return f(x, {1}, /*keepdim=*/false);
    if (x.sizes() == Shape{2, 3, 4}) return f(x, {0, 2}, /*keepdim=*/true);
    if (x.sizes() == Shape{2, 300}) return f(x, {1}, /*keepdim=*/false);
    return f(x, {}, /*keepdim=*/false);
  };
}

// ---- inputs for the op benchmarks: about n elements in the main input, by family ----------
Tensor bench_uniform(const Shape& shape, double lo = 0.1, double hi = 2.0) {
  return rand(shape) * (hi - lo) + lo;
}
Tensor bench_index(int64_t n, int64_t high) { return randint(0, high, {n}); }

int64_t side(int64_t n) {
  return std::max<int64_t>(8, static_cast<int64_t>(std::sqrt(static_cast<double>(n))));
}

void add_bench_inputs(std::vector<OpEntry>& db) {
  for (OpEntry& e : db) {
    if (e.covers.empty()) continue;
    const OpFamily fam = op_info(e.covers[0]).family;
    const std::vector<Sample> first = e.samples();
    const std::size_t arity = first.empty() ? 0 : first[0].inputs.size();
    const std::string& n = e.name;
    if (fam == OpFamily::unary || fam == OpFamily::binary) {
      // elementwise: every input a dense vector of n (positive: in every op's domain)
      e.bench = [arity](int64_t count) {
        std::vector<Tensor> in;
        for (std::size_t i = 0; i < arity; ++i) in.push_back(bench_uniform({count}));
        return in;
      };
    } else if (fam == OpFamily::reduce) {
      e.bench = [](int64_t count) {
        return std::vector<Tensor>{bench_uniform({std::max<int64_t>(count / 1024, 1), 1024})};
      };
    } else if (n == "matmul" || n == "bmm" || n == "addmm" || n == "linear") {
      // square products of side sqrt(n): 2 m^3 FLOPs
      e.bench = [n](int64_t count) {
        const int64_t m = side(count);
        if (n == "bmm")
          return std::vector<Tensor>{bench_uniform({4, m / 2, m / 2}), bench_uniform({4, m / 2, m / 2})};
        if (n == "addmm")
          return std::vector<Tensor>{bench_uniform({m}), bench_uniform({m, m}), bench_uniform({m, m})};
        if (n == "linear")
          return std::vector<Tensor>{bench_uniform({m, m}), bench_uniform({m, m}), bench_uniform({m})};
        return std::vector<Tensor>{bench_uniform({m, m}), bench_uniform({m, m})};
      };
      e.bench_flops = [n](const std::vector<Tensor>& in, const Tensor& out) {
        const Tensor& a = n == "addmm" ? in[1] : in[0];
        return 2.0 * static_cast<double>(out.numel()) * static_cast<double>(a.size(-1));
      };
    } else if (fam == OpFamily::softmax) {
      e.bench = [](int64_t count) {
        return std::vector<Tensor>{bench_uniform({std::max<int64_t>(count / 1000, 1), 1000}, -3, 3)};
      };
      e.flops_per_element = 5.0;
    } else if (n == "gather") {
      e.bench = [](int64_t count) {
        const int64_t rows = std::max<int64_t>(count / 1024, 1);
        return std::vector<Tensor>{bench_uniform({rows, 1024}), randint(0, 1024, {rows, 512})};
      };
    } else if (n == "index_select") {
      e.bench = [](int64_t count) {
        const int64_t rows = std::max<int64_t>(count / 256, 1);
        return std::vector<Tensor>{bench_uniform({rows, 256}), bench_index(rows, rows), bench_index(16, 256)};
      };
    } else if (n == "cat") {
      e.bench = [arity](int64_t count) {
        std::vector<Tensor> in;
        for (std::size_t i = 0; i < arity; ++i)
          in.push_back(bench_uniform({std::max<int64_t>(count / 1024, 1), 1024}));
        return in;
      };
    } else if (n == "copy") {
      e.bench = [](int64_t count) { return std::vector<Tensor>{bench_uniform({side(count), side(count)})}; };
    } else if (n == "cross_entropy") {
      e.bench = [](int64_t count) {
        const int64_t rows = std::max<int64_t>(count / 1000, 1);
        return std::vector<Tensor>{bench_uniform({rows, 1000}, -3, 3), bench_index(rows, 1000),
                                   bench_uniform({1000})};
      };
      e.flops_per_element = 5.0;
    } else if (fam == OpFamily::conv) {
      // a ResNet-like 3x3 layer: 64 -> 64 channels on 56x56 at medium size, scaled by batch
      e.bench = [n](int64_t count) {
        const int64_t batch = std::max<int64_t>(count / (64 * 56 * 56), 1);
        if (n.rfind("conv_transpose2d", 0) == 0) {
          return std::vector<Tensor>{bench_uniform({batch, 64, 28, 28}, -1, 1),
                                     bench_uniform({64, 32, 3, 3}, -0.1, 0.1),
                                     bench_uniform({32}, -0.1, 0.1)};  // one bias per output channel
        }
        const int64_t groups = n == "conv2d_dilation_groups" ? 2 : 1;
        std::vector<Tensor> in{bench_uniform({batch, 64, 56, 56}, -1, 1),
                               bench_uniform({64, 64 / groups, 3, 3}, -0.1, 0.1)};
        if (n != "conv2d_dilation_groups") in.push_back(bench_uniform({64}, -0.1, 0.1));
        return in;
      };
      e.bench_flops = [n](const std::vector<Tensor>& in, const Tensor& out) {
        // 2 x (output elements) x (multiply-adds per output element)
        const Tensor& w = in[1];
        const bool transposed = n.rfind("conv_transpose2d", 0) == 0;
        const double macs =
            transposed ? static_cast<double>(in[0].numel()) * static_cast<double>(w.numel() / w.size(0))
                       : static_cast<double>(out.numel()) * static_cast<double>(w.numel() / w.size(0));
        return 2.0 * macs;
      };
    } else if (fam == OpFamily::pool) {
      e.bench = [](int64_t count) {
        return std::vector<Tensor>{
            bench_uniform({std::max<int64_t>(count / (64 * 56 * 56), 1), 64, 56, 56}, -1, 1)};
      };
    } else if (n == "batch_norm") {
      e.bench = [](int64_t count) {
        const int64_t batch = std::max<int64_t>(count / (64 * 56 * 56), 2);
        return std::vector<Tensor>{bench_uniform({batch, 64, 56, 56}, -1, 1), bench_uniform({64}),
                                   bench_uniform({64}), bench_uniform({batch, 64, 56, 56}, -1, 1)};
      };
      e.flops_per_element = 8.0;
    } else if (n == "layer_norm") {
      e.bench = [](int64_t count) {
        const int64_t rows = std::max<int64_t>(count / 768, 1);
        // the entry normalises the last [3, 4]: rows of 12; scale by rows
        return std::vector<Tensor>{bench_uniform({rows, 64, 3, 4}), bench_uniform({3, 4}),
                                   bench_uniform({3, 4}), bench_uniform({rows, 64, 3, 4})};
      };
      e.flops_per_element = 8.0;
    } else if (fam == OpFamily::optim) {
      e.bench = [](int64_t count) {
        return std::vector<Tensor>{bench_uniform({count}), bench_uniform({count})};
      };
    }
  }
}

std::vector<OpEntry> build() {
  std::vector<OpEntry> db;
  auto unary = [&](const std::string& name, Op op, Fn fn, double lo, double hi, double gap = 0.0,
                   std::vector<double> edge = {}) {
    OpEntry e;
    e.name = name;
    e.covers = {op};
    e.fn = std::move(fn);
    e.samples = unary_samples(lo, hi, gap, std::move(edge));
    db.push_back(e);
    return &db.back();
  };
  const double big = 80.0;
  unary(
      "neg", Op::neg, [](const V& in) { return neg(in[0]); }, -2, 2);
  unary(
      "abs", Op::abs, [](const V& in) { return abs(in[0]); }, -2, 2, 0.1);
  unary("sign", Op::sign, [](const V& in) { return sign(in[0]); }, -2, 2, 0.1, {-1.0, 0.0, 2.0});
  unary("exp", Op::exp, [](const V& in) { return exp(in[0]); }, -2, 2, 0, {-100, -1e-3, 0, 10, 80});
  unary("log", Op::log, [](const V& in) { return log(in[0]); }, 0.1, 3, 0, {1e-30, 1e-3, 1.0, 1e30});
  unary("log1p", Op::log1p, [](const V& in) { return log1p(in[0]); }, -0.5, 2, 0, {-0.9, -1e-8, 1e-8, 1e5});
  unary("expm1", Op::expm1, [](const V& in) { return expm1(in[0]); }, -2, 2, 0, {-50, -1e-8, 1e-8, 20});
  unary("sqrt", Op::sqrt, [](const V& in) { return sqrt(in[0]); }, 0.1, 4, 0, {0.0, 1e-20, 1e20});
  unary("rsqrt", Op::rsqrt, [](const V& in) { return rsqrt(in[0]); }, 0.2, 4, 0, {1e-10, 1.0, 1e10});
  unary(
      "sin", Op::sin, [](const V& in) { return sin(in[0]); }, -3, 3);
  unary(
      "cos", Op::cos, [](const V& in) { return cos(in[0]); }, -3, 3);
  unary("tanh", Op::tanh, [](const V& in) { return tanh(in[0]); }, -2, 2, 0, {-big, -20, 20, big});
  unary("sigmoid", Op::sigmoid, [](const V& in) { return sigmoid(in[0]); }, -3, 3, 0,
        {-big, -20, 0, 20, big});
  unary(
      "relu", Op::relu, [](const V& in) { return relu(in[0]); }, -2, 2, 0.1);
  unary(
      "leaky_relu", Op::leaky_relu, [](const V& in) { return leaky_relu(in[0], 0.2); }, -2, 2, 0.1);
  unary("elu", Op::elu, [](const V& in) { return elu(in[0], 1.5); }, -2, 2, 0.1, {-big, -1e-4, 1e-4, big});
  unary("gelu", Op::gelu, [](const V& in) { return gelu(in[0]); }, -3, 3, 0, {-big, -5, 0, 5, big});
  unary("silu", Op::silu, [](const V& in) { return silu(in[0]); }, -3, 3, 0, {-big, -20, 0, 20, big});
  unary("softplus", Op::softplus, [](const V& in) { return softplus(in[0], 2.0, 10.0); }, -3, 3, 0.05,
        {-big, -10, 4.9, 5.1, big});
  unary("clamp", Op::clamp, [](const V& in) { return clamp(in[0], -0.5, 0.7); }, -2, 2, 0.0,
        {-1, -0.5, 0.0, 0.7, 1});
  unary(
      "clamp_min", Op::clamp, [](const V& in) { return clamp(in[0], -0.5); }, -2, 2);
  unary(
      "pow_scalar", Op::pow_scalar, [](const V& in) { return pow(in[0], 2.5); }, 0.1, 2);
  unary(
      "pow_scalar_int", Op::pow_scalar, [](const V& in) { return pow(in[0], 3); }, -2, 2);
  unary(
      "reciprocal", Op::reciprocal, [](const V& in) { return reciprocal(in[0]); }, 0.2, 2);
  // clamp's kinks: keep gradcheck samples off the bounds
  for (OpEntry& e : db) {
    if (e.name == "clamp" || e.name == "clamp_min") {
      e.samples = [] {
        std::vector<Sample> s = unary_samples(-2, 2)();
        for (Sample& x : s) {
          x.inputs[0] = where(gt(abs(x.inputs[0] + 0.5), 0.05) * gt(abs(x.inputs[0] - 0.7), 0.05),
                              x.inputs[0], Scalar(0.0));
        }
        return s;
      };
    }
  }

  // activation backward primitives, driven through backward with an explicit gradient
  auto act_backward = [&](const std::string& name, Op op, std::function<Tensor(const Tensor&)> f, double lo,
                          double hi) {
    OpEntry e;
    e.name = name;
    e.covers = {op};
    e.differentiable = false;
    e.fn = [f](const V& in) {
      // These entries run autograd themselves, so they record even under a caller's NoGradGuard
      // (nabla-bench times every entry under one).
      const bool was_enabled = GradMode::is_enabled();
      GradMode::set_enabled(true);
      struct Restore {
        bool to;
        ~Restore() { GradMode::set_enabled(to); }
      } restore{was_enabled};
      Tensor x = in[0].detach().requires_grad_(true);
      f(x).backward(in[1]);
      return x.grad();
    };
    e.samples = [lo, hi] {
      return std::vector<Sample>{{"matrix", {make({3, 4}, lo, hi, 41, 0.1), make({3, 4}, -1, 1, 42)}},
                                 {"vector", {make({9}, lo, hi, 43, 0.1), make({9}, -1, 1, 44)}}};
    };
    db.push_back(e);
  };
  act_backward(
      "relu_backward", Op::relu_backward, [](const Tensor& x) { return relu(x); }, -2, 2);
  act_backward(
      "leaky_relu_backward", Op::leaky_relu_backward, [](const Tensor& x) { return leaky_relu(x, 0.1); }, -2,
      2);
  act_backward(
      "elu_backward", Op::elu_backward, [](const Tensor& x) { return elu(x); }, -2, 2);
  act_backward(
      "gelu_backward", Op::gelu_backward, [](const Tensor& x) { return gelu(x); }, -3, 3);
  act_backward(
      "silu_backward", Op::silu_backward, [](const Tensor& x) { return silu(x); }, -3, 3);
  act_backward(
      "softplus_backward", Op::softplus_backward, [](const Tensor& x) { return softplus(x); }, -3, 3);
  act_backward(
      "sigmoid_backward", Op::sigmoid_backward, [](const Tensor& x) { return sigmoid(x); }, -3, 3);
  act_backward(
      "tanh_backward", Op::tanh_backward, [](const Tensor& x) { return tanh(x); }, -2, 2);

  // ---- binary ----
  auto binary = [&](const std::string& name, Op op, Fn fn, double lo0, double hi0, double lo1, double hi1,
                    double gap1 = 0.0) {
    OpEntry e;
    e.name = name;
    e.covers = {op};
    e.fn = std::move(fn);
    e.samples = binary_samples(lo0, hi0, lo1, hi1, gap1);
    db.push_back(e);
    return &db.back();
  };
  binary(
      "add", Op::add, [](const V& in) { return add(in[0], in[1]); }, -2, 2, -2, 2);
  binary(
      "add_alpha", Op::add, [](const V& in) { return add(in[0], in[1], 0.5); }, -2, 2, -2, 2);
  binary(
      "add_scalar", Op::add, [](const V& in) { return in[0] + 1.25; }, -2, 2, -2, 2);
  binary(
      "sub", Op::sub, [](const V& in) { return sub(in[0], in[1], 2); }, -2, 2, -2, 2);
  binary(
      "mul", Op::mul, [](const V& in) { return mul(in[0], in[1]); }, -2, 2, -2, 2);
  binary(
      "div", Op::div, [](const V& in) { return div(in[0], in[1]); }, -2, 2, 0.5, 2);
  binary(
      "rdiv_scalar", Op::div, [](const V& in) { return 2.0 / in[1]; }, -2, 2, 0.5, 2);
  binary(
      "pow", Op::pow, [](const V& in) { return pow(in[0], in[1]); }, 0.5, 2, -1.5, 1.5);
  binary(
      "maximum", Op::maximum, [](const V& in) { return maximum(in[0], in[1]); }, -2, 2, -2, 2);
  binary(
      "minimum", Op::minimum, [](const V& in) { return minimum(in[0], in[1]); }, -2, 2, -2, 2);
  auto compare = [&](const std::string& name, Op op, Fn fn) {
    OpEntry* e = binary(name, op, std::move(fn), -2, 2, -2, 2);
    e->differentiable = false;
    // quantised values so that ties (and eq) actually occur, exactly representable in 16 bits
    e->samples = [] {
      std::vector<Sample> s = binary_samples(-2, 2, -2, 2)();
      for (Sample& x : s) {
        for (Tensor& t : x.inputs) t = round_half(t);
      }
      return s;
    };
  };
  compare("eq", Op::eq, [](const V& in) { return eq(in[0], in[1]); });
  compare("ne", Op::ne, [](const V& in) { return ne(in[0], in[1]); });
  compare("lt", Op::lt, [](const V& in) { return lt(in[0], in[1]); });
  compare("le", Op::le, [](const V& in) { return le(in[0], in[1]); });
  compare("gt", Op::gt, [](const V& in) { return gt(in[0], in[1]); });
  compare("ge", Op::ge, [](const V& in) { return ge(in[0], in[1]); });
  {
    OpEntry e;
    e.name = "where";
    e.covers = {Op::where};
    e.fn = [](const V& in) { return where(gt(in[2], 0.0), in[0], in[1]); };
    e.samples = [] {
      return std::vector<Sample>{
          {"same shape", {make({3, 4}, -2, 2, 51), make({3, 4}, -2, 2, 52), make({3, 4}, -1, 1, 53, 0.1)}},
          {"broadcast", {make({4}, -2, 2, 54), make({3, 1}, -2, 2, 55), make({3, 4}, -1, 1, 56, 0.1)}},
          {"transposed",
           {make({4, 3}, -2, 2, 57), make({3, 4}, -2, 2, 58), make({3, 4}, -1, 1, 59, 0.1)},
           transpose_first},
      };
    };
    db.push_back(e);
    OpEntry m = e;
    m.name = "masked_fill";
    m.fn = [](const V& in) { return masked_fill(in[0], gt(in[2], 0.0), -3.5); };
    m.samples = [] {
      return std::vector<Sample>{
          {"same shape", {make({3, 4}, -2, 2, 61), make({1}, 0, 1, 62), make({3, 4}, -1, 1, 63, 0.1)}},
          {"broadcast mask", {make({3, 4}, -2, 2, 64), make({1}, 0, 1, 65), make({4}, -1, 1, 66, 0.1)}}};
    };
    db.push_back(m);
  }

  // ---- reductions ----
  auto reduction = [&](const std::string& name, Op op, std::function<Tensor(const Tensor&, IntList, bool)> f,
                       bool distinct = false) {
    OpEntry e;
    e.name = name;
    e.covers = {op};
    e.fn = reduce_fn(std::move(f));
    e.samples = reduce_samples(distinct);
    e.atol = 1e-4;
    e.half_atol = 0.1;
    e.half_rtol = 2e-2;
    db.push_back(e);
    return &db.back();
  };
  reduction("sum", Op::sum, [](const Tensor& x, IntList d, bool k) { return sum(x, d, k); });
  reduction("mean", Op::mean, [](const Tensor& x, IntList d, bool k) { return mean(x, d, k); });
  reduction("prod", Op::prod, [](const Tensor& x, IntList d, bool k) {
    return prod(x * 0.25 + 1.0, d, k);
  })->half_ok = false;
  reduction(
      "amax", Op::amax, [](const Tensor& x, IntList d, bool k) { return amax(x, d, k); }, /*distinct=*/true);
  reduction(
      "amin", Op::amin, [](const Tensor& x, IntList d, bool k) { return amin(x, d, k); }, /*distinct=*/true);
  reduction(
      "max_dim", Op::argmax,
      [](const Tensor& x, IntList d, bool k) {
        return d.size() == 1 ? std::get<0>(max(x, d.vec()[0], k)) : max(x);
      },
      /*distinct=*/true);
  reduction("var", Op::var,
            [](const Tensor& x, IntList d, bool k) { return var(x, d, /*unbiased=*/true, k); });
  reduction("var_biased", Op::var,
            [](const Tensor& x, IntList d, bool k) { return var(x, d, /*unbiased=*/false, k); });
  reduction("std", Op::std, [](const Tensor& x, IntList d, bool k) {
    return std(x, d, /*unbiased=*/true, k) + std(x, d, /*unbiased=*/false, k);
  });
  reduction("logsumexp", Op::logsumexp,
            [](const Tensor& x, IntList d, bool k) { return logsumexp(x * 3.0, d, k); });
  reduction("norm2", Op::norm, [](const Tensor& x, IntList d, bool k) { return norm(x, 2.0, d, k); });
  // its samples hold exact zeros, where sign(x), the gradient, jumps
  reduction(
      "norm1", Op::norm, [](const Tensor& x, IntList d, bool k) { return norm(x, 1.0, d, k); },
      /*distinct=*/true)
      ->gradgradcheck = false;
  reduction("norm3", Op::norm, [](const Tensor& x, IntList d, bool k) { return norm(x, 3.0, d, k); });
  reduction(
      "norm_inf", Op::norm, [](const Tensor& x, IntList d, bool k) { return norm(x, INFINITY, d, k); },
      /*distinct=*/true);
  for (auto [name, op, is_max] :
       {std::tuple{"argmax", Op::argmax, true}, std::tuple{"argmin", Op::argmin, false}}) {
    OpEntry e;
    e.name = name;
    e.covers = {op};
    e.differentiable = false;
    e.fn = [is_max = is_max](const V& in) {
      const Tensor& x = in[0];
      return (is_max ? argmax(x, -1, /*keepdim=*/false) : argmin(x, -1, /*keepdim=*/false)).to(x.dtype()) +
             (is_max ? argmax(x) : argmin(x)).to(x.dtype());
    };
    e.samples = reduce_samples(/*distinct=*/true);
    db.push_back(e);
  }

  // ---- linear algebra ----
  {
    OpEntry e;
    e.name = "matmul";
    e.covers = {Op::bmm};
    e.fn = [](const V& in) { return matmul(in[0], in[1]); };
    e.atol = 1e-4;
    e.half_atol = 6e-2;
    e.flops_per_element = 2.0;
    e.samples = [] {
      return std::vector<Sample>{
          {"dot", {make({5}, -1, 1, 71), make({5}, -1, 1, 72)}},
          {"matrix-vector", {make({3, 5}, -1, 1, 73), make({5}, -1, 1, 74)}},
          {"vector-matrix", {make({5}, -1, 1, 75), make({5, 4}, -1, 1, 76)}},
          {"matrix", {make({3, 5}, -1, 1, 77), make({5, 4}, -1, 1, 78)}},
          {"transposed",
           {make({5, 3}, -1, 1, 79), make({4, 5}, -1, 1, 80)},
           [](const V& in) {
             return V{in[0].t(), in[1].t()};
           }},
          {"batched x matrix", {make({2, 3, 5}, -1, 1, 81), make({5, 4}, -1, 1, 82)}},
          {"matrix x batched", {make({3, 5}, -1, 1, 83), make({2, 5, 4}, -1, 1, 84)}},
          {"broadcast batch", {make({2, 1, 3, 5}, -1, 1, 85), make({3, 5, 2}, -1, 1, 86)}},
          {"empty k", {make({3, 0}, -1, 1, 87), make({0, 4}, -1, 1, 88)}},
      };
    };
    db.push_back(e);
    OpEntry b = e;
    b.name = "bmm";
    b.fn = [](const V& in) { return bmm(in[0], in[1]); };
    b.samples = [] {
      return std::vector<Sample>{
          {"batched", {make({3, 2, 4}, -1, 1, 91), make({3, 4, 5}, -1, 1, 92)}},
          {"transposed b",
           {make({3, 2, 4}, -1, 1, 93), make({3, 5, 4}, -1, 1, 94)},
           [](const V& in) {
             return V{in[0], in[1].transpose(1, 2)};
           }},
          {"expanded a",
           {make({1, 2, 4}, -1, 1, 95), make({3, 4, 5}, -1, 1, 96)},
           [](const V& in) {
             return V{in[0].expand({3, 2, 4}), in[1]};
           }},
      };
    };
    db.push_back(b);
    OpEntry a = e;
    a.name = "addmm";
    a.covers = {Op::addmm};
    a.fn = [](const V& in) { return addmm(in[0], in[1], in[2], 0.5, 2.0); };
    a.samples = [] {
      return std::vector<Sample>{
          {"row bias", {make({4}, -1, 1, 101), make({3, 5}, -1, 1, 102), make({5, 4}, -1, 1, 103)}},
          {"full bias", {make({3, 4}, -1, 1, 104), make({3, 5}, -1, 1, 105), make({5, 4}, -1, 1, 106)}},
          {"transposed",
           {make({4}, -1, 1, 107), make({5, 3}, -1, 1, 108), make({5, 4}, -1, 1, 109)},
           [](const V& in) {
             return V{in[0], in[1].t(), in[2]};
           }},
      };
    };
    db.push_back(a);
    OpEntry l = e;
    l.name = "linear";
    l.covers = {Op::addmm, Op::bmm};
    l.fn = [](const V& in) { return linear(in[0], in[1], in[2]); };
    l.samples = [] {
      return std::vector<Sample>{
          {"2-D input", {make({3, 5}, -1, 1, 111), make({4, 5}, -1, 1, 112), make({4}, -1, 1, 113)}},
          {"3-D input", {make({2, 3, 5}, -1, 1, 114), make({4, 5}, -1, 1, 115), make({4}, -1, 1, 116)}},
      };
    };
    db.push_back(l);
  }

  // ---- softmax ----
  for (auto [name, op, log_form] :
       {std::tuple{"softmax", Op::softmax, false}, std::tuple{"log_softmax", Op::log_softmax, true}}) {
    OpEntry e;
    e.name = name;
    e.covers = {op, log_form ? Op::log_softmax_backward : Op::softmax_backward};
    e.fn = [log_form = log_form](const V& in) {
      const Tensor& x = in[0];
      const int64_t dim = x.dim() == 3 ? 1 : -1;
      return log_form ? log_softmax(x, dim) : softmax(x, dim);
    };
    e.samples = [] {
      return std::vector<Sample>{
          {"rows", {make({3, 5}, -3, 3, 121)}},
          {"middle dim", {make({2, 4, 3}, -3, 3, 122)}},
          {"transposed", {make({5, 3}, -3, 3, 123)}, transpose_first},
          {"scalar", {make({}, -3, 3, 124)}},
          {"large logits", {values({1000, 999, -1000, 0, 1000.5}, {1, 5})}, nullptr, false},
      };
    };
    e.half_ok = false;  // 16-bit inputs cannot hold the large-logit sample's spread
    db.push_back(e);
  }

  // ---- indexing ----
  {
    OpEntry g;
    g.name = "gather";
    g.covers = {Op::gather};
    g.fn = [](const V& in) { return gather(in[0], 1, in[1]); };
    g.samples = [] {
      return std::vector<Sample>{
          {"dim 1", {make({3, 4}, -2, 2, 131), idx({0, 3, 3, 1, 2, 0}, {3, 2})}},
          {"transposed", {make({4, 3}, -2, 2, 132), idx({2, 2, 0, 1, 1, 0}, {3, 2})}, transpose_first}};
    };
    db.push_back(g);
    OpEntry s;
    s.name = "scatter_add";
    s.covers = {Op::scatter_add};
    s.fn = [](const V& in) { return scatter_add(in[0], 1, in[1], in[2]); };
    s.samples = [] {
      return std::vector<Sample>{
          {"collisions",
           {make({3, 4}, -2, 2, 141), idx({0, 0, 3, 1, 1, 1}, {3, 2}), make({3, 2}, -2, 2, 142)}},
          {"larger src", {make({2, 5}, -2, 2, 143), idx({4, 0, 4, 2}, {2, 2}), make({3, 3}, -2, 2, 144)}},
      };
    };
    db.push_back(s);
    OpEntry is;
    is.name = "index_select";
    is.covers = {Op::index_select};
    is.fn = [](const V& in) { return index_select(in[0], 0, in[1]) + index_select(in[0], 1, in[2]).sum(); };
    is.samples = [] {
      return std::vector<Sample>{
          {"repeats", {make({4, 3}, -2, 2, 151), idx({3, 0, 3, 1, 2}), idx({2, 2, 0})}},
          {"transposed", {make({3, 4}, -2, 2, 152), idx({1, 1}), idx({0})}, transpose_first}};
    };
    db.push_back(is);
    OpEntry ia;
    ia.name = "index_add";
    ia.covers = {Op::index_add};
    ia.fn = [](const V& in) { return index_add(in[0], 0, in[1], in[2]); };
    ia.samples = [] {
      return std::vector<Sample>{
          {"repeats", {make({4, 3}, -2, 2, 161), idx({3, 0, 3}), make({3, 3}, -2, 2, 162)}}};
    };
    db.push_back(ia);
    // index and index_put: composites of index_select, index_add and where (ops/index_put.cpp).
    // Two index tensors broadcast against each other over separated dims (their result dims go
    // first), or one bool mask over two dims.
    const auto mask = [](std::vector<bool> v, const Shape& shape) { return from_vector(v, shape); };
    // the index list from in[first...]: a mask, {i0, whole dim, i1} for 3-D x, or {i0, i1}
    static const auto index_list = [](const V& in, std::size_t first) {
      if (in.size() == first + 1) return V{in[first]};
      return in[0].dim() == 3 ? V{in[first], Tensor(), in[first + 1]} : V{in[first], in[first + 1]};
    };
    OpEntry ix;
    ix.name = "index";
    ix.covers = {Op::index_select};
    ix.fn = [](const V& in) { return index(in[0], index_list(in, 1)); };
    ix.samples = [mask] {
      return std::vector<Sample>{
          {"separated dims, repeats",
           {make({4, 3, 5}, -2, 2, 163), idx({3, 0, 3, -1}, {2, 2}), idx({4, -5}, {2})}},
          {"mask", {make({3, 4}, -2, 2, 164), mask({1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1}, {3, 4})}},
          {"transposed", {make({3, 4}, -2, 2, 165), idx({2, 0, 2}), idx({1})}, transpose_first}};
    };
    db.push_back(ix);
    OpEntry ip;
    ip.name = "index_put";
    ip.covers = {Op::index_select, Op::index_add, Op::where};
    // x[i] = v, with duplicate indices (the last write wins), plus x[i] += v
    ip.fn = [](const V& in) {
      const V i = index_list(in, 2);
      return index_put(in[0], i, in[1]) * 2.0 + index_put(in[0], i, in[1], /*accumulate=*/true);
    };
    ip.samples = [mask] {
      return std::vector<Sample>{{"separated dims, duplicates",
                                  {make({4, 3, 5}, -2, 2, 166), make({2, 2, 3}, -2, 2, 167),
                                   idx({3, 0, 3, 1}, {2, 2}), idx({4, 1, -1, 2}, {2, 2})}},
                                 {"mask, broadcast values",
                                  {make({3, 4}, -2, 2, 168), make({1}, -2, 2, 169),
                                   mask({1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1}, {3, 4})}},
                                 {"transposed",
                                  {make({3, 4}, -2, 2, 170), make({3}, -2, 2, 171), idx({2, 0, 2}), idx({1})},
                                  transpose_first}};
    };
    db.push_back(ip);
    OpEntry c;
    c.name = "cat";
    c.covers = {Op::cat};
    c.fn = [](const V& in) { return cat({in[0], in[1], in[2]}, in[0].dim() == 2 ? 1 : 0); };
    c.samples = [] {
      return std::vector<Sample>{
          {"dim 1", {make({2, 3}, -2, 2, 171), make({2, 1}, -2, 2, 172), make({2, 4}, -2, 2, 173)}},
          {"dim 0 with empty", {make({3}, -2, 2, 174), make({0}, -2, 2, 175), make({2}, -2, 2, 176)}},
          {"transposed",
           {make({3, 2}, -2, 2, 177), make({2, 2}, -2, 2, 178), make({2, 1}, -2, 2, 179)},
           transpose_first},
      };
    };
    db.push_back(c);
    OpEntry st;
    st.name = "stack";
    st.covers = {Op::cat};
    st.fn = [](const V& in) { return stack({in[0], in[1]}, 1); };
    st.samples = [] {
      return std::vector<Sample>{{"pair", {make({2, 3}, -2, 2, 181), make({2, 3}, -2, 2, 182)}}};
    };
    db.push_back(st);
    OpEntry sp;
    sp.name = "split";
    sp.covers = {Op::slice};
    sp.fn = [](const V& in) {
      auto parts = split(in[0], 2, 1);
      return parts[0] * 2.0 + parts[1] - parts[2].sum();
    };
    sp.samples = [] { return std::vector<Sample>{{"uneven", {make({3, 5}, -2, 2, 191)}}}; };
    db.push_back(sp);
    OpEntry oh;
    oh.name = "one_hot";
    oh.covers = {Op::one_hot};
    oh.differentiable = false;
    oh.fn = [](const V& in) { return one_hot(in[1], 5).to(in[0].dtype()) * in[0]; };
    oh.samples = [] {
      return std::vector<Sample>{{"classes", {make({1}, 1, 2, 192), idx({4, 0, 2, 2}, {2, 2})}}};
    };
    db.push_back(oh);
  }

  // ---- copies, fills, random ----
  {
    OpEntry c;
    c.name = "copy";
    c.covers = {Op::copy};
    c.fn = [](const V& in) {
      return in[0].t().contiguous() * 1.0 + in[0].to(kFloat64).to(in[0].dtype()).t();
    };
    c.samples = [] { return std::vector<Sample>{{"matrix", {make({3, 4}, -2, 2, 201)}}}; };
    db.push_back(c);
    OpEntry f;
    f.name = "fill";
    f.covers = {Op::fill, Op::arange};
    f.differentiable = false;
    f.fn = [](const V& in) {
      const TensorOptions o(in[0].dtype());
      return full({2, 3}, 1.5, o).sum() + arange(0.0, 2.0, 0.25, o).sum() + linspace(-1, 1, 9, o).sum() +
             eye(3, o).sum() * in[0];
    };
    f.samples = [] { return std::vector<Sample>{{"scalar", {make({}, 1, 2, 202)}}}; };
    db.push_back(f);
    OpEntry r;
    r.name = "random";
    r.covers = {Op::uniform, Op::normal, Op::randint, Op::randperm};
    r.differentiable = false;
    r.half_ok = false;  // uniform draws in 16 bits are rounded differently: compared in test_rng
    r.fn = [](const V& in) {
      const TensorOptions o(in[0].dtype());
      manual_seed(7);
      Tensor u = rand({4, 5}, o), n = randn({4, 5}, o);
      Tensor i = randint(-3, 9, {4, 5}).to(in[0].dtype()), p = randperm(20).view({4, 5}).to(in[0].dtype());
      return u + n * 10.0 + i * 100.0 + p * 1000.0;
    };
    r.atol = 1e-4;
    r.samples = [] { return std::vector<Sample>{{"draws", {make({}, 1, 2, 203)}}}; };
    db.push_back(r);
  }

  // ---- losses ----
  {
    OpEntry e;
    e.name = "cross_entropy";
    e.covers = {Op::cross_entropy, Op::cross_entropy_backward};
    e.fn = [](const V& in) {
      nn::functional::CrossEntropyOptions o;
      o.weight = in[2].detach();  // no derivative for class weights, as PyTorch
      o.label_smoothing = 0.1;
      o.ignore_index = 2;
      o.reduction = nn::functional::Reduction::None;
      return nn::functional::cross_entropy(in[0], in[1], o) * 2.0 +
             nn::functional::cross_entropy(in[0], in[1]);  // plain mean form
    };
    e.samples = [] {
      return std::vector<Sample>{
          {"rows", {make({4, 5}, -3, 3, 231), idx({1, 4, 2, 0}), make({5}, 0.5, 2, 232)}},
          {"transposed",
           {make({5, 4}, -3, 3, 233), idx({3, 0, 0, 2}), make({5}, 0.5, 2, 234)},
           transpose_first},
      };
    };
    e.half_atol = 5e-2;
    e.no_grad_inputs = 1u << 2;
    db.push_back(e);
  }

  // ---- fused optimizer steps: two steps from a fixed gradient ----
  auto optim_entry = [&](const std::string& name, Op op,
                         std::function<std::unique_ptr<optim::Optimizer>(Tensor)> make_opt) {
    OpEntry e;
    e.name = name;
    e.covers = {op};
    e.differentiable = false;
    e.half_ok = false;
    e.fn = [make_opt](const V& in) {
      Tensor p = in[0].detach().clone().requires_grad_(true);
      auto opt = make_opt(p);
      for (int i = 0; i < 3; ++i) {
        p.set_grad(in[1].detach().clone() * (1.0 + i));
        opt->step();
      }
      return p.detach();
    };
    e.samples = [] {
      return std::vector<Sample>{{"matrix", {make({3, 4}, -1, 1, 241), make({3, 4}, -1, 1, 242)}}};
    };
    db.push_back(e);
  };
  optim_entry("sgd_step", Op::sgd_step, [](Tensor p) {
    return std::make_unique<optim::SGD>(
        std::vector<Tensor>{p},
        optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
  });
  optim_entry("adam_step", Op::adam_step, [](Tensor p) {
    optim::AdamOptions o;
    o.lr = 0.01;
    o.weight_decay = 0.1;
    o.amsgrad = true;
    return std::make_unique<optim::Adam>(std::vector<Tensor>{p}, o);
  });
  optim_entry("rmsprop_step", Op::rmsprop_step, [](Tensor p) {
    optim::RMSpropOptions o;
    o.momentum = 0.5;
    o.centered = true;
    return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, o);
  });
  optim_entry("adagrad_step", Op::adagrad_step, [](Tensor p) {
    optim::AdagradOptions o;
    o.lr_decay = 0.01;
    return std::make_unique<optim::Adagrad>(std::vector<Tensor>{p}, o);
  });
  optim_entry("adadelta_step", Op::adadelta_step, [](Tensor p) {
    optim::AdadeltaOptions o;
    o.weight_decay = 0.1;
    return std::make_unique<optim::Adadelta>(std::vector<Tensor>{p}, o);
  });

  // ---- convolution: every sample through gradcheck (x and w), strides, paddings, dilations,
  // groups and odd sizes; conv_transpose2d drives conv2d_backward_input as a forward ----
  namespace F = nn::functional;
  auto conv_entry = [&](const std::string& name, Fn fn, std::vector<Sample> (*samples)()) {
    OpEntry e;
    e.name = name;
    e.covers = {Op::conv2d, Op::conv2d_backward_input, Op::conv2d_backward_weight};
    e.fn = std::move(fn);
    e.samples = samples;
    e.atol = 1e-4;
    e.half_atol = 6e-2;
    e.flops_per_element = 2.0 * 18;
    db.push_back(e);
  };
  conv_entry(
      "conv2d", [](const V& in) { return F::conv2d(in[0], in[1], in[2]); },
      [] {
        return std::vector<Sample>{
            {"3x3", {make({2, 3, 5, 6}, -1, 1, 301), make({4, 3, 3, 3}, -1, 1, 302), make({4}, -1, 1, 303)}},
            {"1x1 unbatched",
             {make({3, 4, 4}, -1, 1, 304), make({2, 3, 1, 1}, -1, 1, 305), make({2}, -1, 1, 306)}},
            {"channels-last view",
             {make({2, 5, 6, 3}, -1, 1, 307), make({4, 3, 3, 2}, -1, 1, 308), make({4}, -1, 1, 309)},
             [](const V& in) {
               return V{in[0].permute({0, 3, 1, 2}), in[1], in[2]};
             }},
        };
      });
  conv_entry(
      "conv2d_stride_pad",
      [](const V& in) {
        return F::conv2d(in[0], in[1], in[2], {2, 1}, {1, 2});
      },
      [] {
        return std::vector<Sample>{
            {"odd sizes",
             {make({2, 2, 7, 5}, -1, 1, 311), make({3, 2, 3, 2}, -1, 1, 312), make({3}, -1, 1, 313)}},
        };
      });
  conv_entry(
      "conv2d_dilation_groups",
      [](const V& in) {
        return F::conv2d(in[0], in[1], Tensor(), 1, 1, {2, 1}, 2);
      },
      [] {
        return std::vector<Sample>{
            {"groups 2", {make({2, 4, 6, 5}, -1, 1, 321), make({6, 2, 2, 3}, -1, 1, 322)}},
        };
      });
  conv_entry(
      "conv_transpose2d", [](const V& in) { return F::conv_transpose2d(in[0], in[1], in[2], 2, 1, 1); },
      [] {
        return std::vector<Sample>{
            {"stride 2",
             {make({2, 3, 3, 4}, -1, 1, 331), make({3, 2, 3, 3}, -1, 1, 332), make({2}, -1, 1, 333)}},
        };
      });
  conv_entry(
      "conv_transpose2d_groups_dilation",
      [](const V& in) {
        return F::conv_transpose2d(in[0], in[1], Tensor(), {1, 2}, 0, {0, 1}, 2, {2, 1});
      },
      [] {
        return std::vector<Sample>{
            {"groups 2", {make({2, 4, 3, 3}, -1, 1, 341), make({4, 1, 2, 4}, -1, 1, 342)}},
        };
      });

  // ---- pooling; max pooling on distinct values (no ties, finite differences on one side) ----
  auto distinct = [](const Shape& sh, unsigned seed) {
    int64_t n = 1;
    for (int64_t v : sh) n *= v;
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.05 * static_cast<double>(i) - 1.0;
    std::shuffle(v.begin(), v.end(), std::mt19937(seed));
    return from_vector(v, sh);
  };
  auto pool_entry = [&](const std::string& name, std::vector<Op> covers, Fn fn, std::vector<Sample> samples) {
    OpEntry e;
    e.name = name;
    e.covers = std::move(covers);
    e.fn = std::move(fn);
    e.samples = [samples] { return samples; };
    db.push_back(e);
  };
  pool_entry("max_pool2d", {Op::max_pool2d, Op::max_pool2d_backward},
             [](const V& in) { return F::max_pool2d(in[0], 2); },
             {{"2x2", {distinct({2, 3, 6, 5}, 351)}}, {"unbatched", {distinct({2, 4, 4}, 352)}}});
  pool_entry("max_pool2d_overlap", {Op::max_pool2d, Op::max_pool2d_backward},
             [](const V& in) {
               return F::max_pool2d(in[0], {3, 2}, {2, 1}, {1, 1}, {1, 2}, /*ceil_mode=*/true);
             },
             {{"ceil, dilated, padded", {distinct({2, 2, 7, 6}, 353)}}});
  pool_entry("avg_pool2d", {Op::avg_pool2d, Op::avg_pool2d_backward},
             [](const V& in) {
               return F::avg_pool2d(in[0], 3, 2, 1, /*ceil_mode=*/true, /*count_include_pad=*/false);
             },
             {{"ceil, padding excluded", {make({2, 3, 6, 7}, -1, 1, 361)}}});
  pool_entry("avg_pool2d_include_pad", {Op::avg_pool2d, Op::avg_pool2d_backward},
             [](const V& in) {
               return F::avg_pool2d(in[0], {2, 3}, {}, {1, 1});
             },
             {{"padding counted", {make({1, 2, 5, 7}, -1, 1, 362)}}});
  pool_entry(
      "adaptive_avg_pool2d", {Op::adaptive_avg_pool2d, Op::adaptive_avg_pool2d_backward},
      [](const V& in) {
        return F::adaptive_avg_pool2d(in[0], {3, 2});
      },
      {{"uneven windows", {make({2, 3, 7, 5}, -1, 1, 371)}}, {"to 1x1", {make({2, 2, 4, 4}, -1, 1, 372)}}});

  // ---- normalization ----
  {
    OpEntry e;
    e.name = "batch_norm";
    e.covers = {Op::batch_norm, Op::batch_norm_backward};
    e.fn = [](const V& in) {
      Tensor rm = zeros({in[0].size(1)}, in[0].dtype()), rv = ones({in[0].size(1)}, in[0].dtype());
      return F::batch_norm(in[0], rm, rv, in[1], in[2], /*training=*/true, 0.1, 1e-5) * in[3];
    };
    e.samples = [] {
      return std::vector<Sample>{
          {"NCHW",
           {make({3, 2, 3, 2}, -2, 2, 381), make({2}, 0.5, 1.5, 382), make({2}, -1, 1, 383),
            make({3, 2, 3, 2}, -1, 1, 384)}},
          {"NC",
           {make({5, 3}, -2, 2, 385), make({3}, 0.5, 1.5, 386), make({3}, -1, 1, 387),
            make({5, 3}, -1, 1, 388)}},
      };
    };
    e.no_grad_inputs = 1u << 3;
    e.atol = 1e-4;
    e.half_atol = 8e-2;
    db.push_back(e);
  }
  {
    OpEntry e;
    e.name = "batch_norm_eval";
    e.covers = {};
    e.fn = [](const V& in) {
      return F::batch_norm(in[0], in[3].detach(), in[4].detach(), in[1], in[2], /*training=*/false, 0.1,
                           1e-5);
    };
    e.samples = [] {
      return std::vector<Sample>{{"NCL",
                                  {make({3, 2, 4}, -2, 2, 391), make({2}, 0.5, 1.5, 392),
                                   make({2}, -1, 1, 393), make({2}, -1, 1, 394), make({2}, 0.5, 2, 395)}}};
    };
    e.no_grad_inputs = (1u << 3) | (1u << 4);
    db.push_back(e);
  }
  {
    OpEntry e;
    e.name = "layer_norm";
    e.covers = {Op::layer_norm, Op::layer_norm_backward};
    e.fn = [](const V& in) { return F::layer_norm(in[0], {3, 4}, in[1], in[2]) * in[3]; };
    e.samples = [] {
      return std::vector<Sample>{{"last two dims",
                                  {make({2, 3, 3, 4}, -2, 2, 401), make({3, 4}, 0.5, 1.5, 402),
                                   make({3, 4}, -1, 1, 403), make({2, 3, 3, 4}, -1, 1, 404)}}};
    };
    e.no_grad_inputs = 1u << 3;
    e.atol = 1e-4;
    e.half_atol = 8e-2;
    db.push_back(e);
  }

  // ---- attention: the fused op through its front end. Samples take L != S and E != Ev,
  // broadcast batch and head dims (a shared key, a value for every batch), a permuted
  // (multi-head [L, N, H, E]) layout, three batch dims that cannot be folded without a copy,
  // bool masks (one with a row that sees no key: output 0, gradient 0) and an additive mask
  // broadcast over heads (differentiated too); then causal masking with a scale, and dropout
  // from a fixed generator (so every evaluation of gradcheck draws the same mask). ----
  {
    auto sdpa_entry = [&](const std::string& name, std::vector<Op> covers, Fn fn,
                          std::function<std::vector<Sample>()> samples) {
      OpEntry e;
      e.name = name;
      e.covers = std::move(covers);
      e.fn = std::move(fn);
      e.samples = std::move(samples);
      e.atol = 2e-5;
      e.half_atol = 3e-2;
      db.push_back(e);
    };
    // a mask (bool or additive) is the fourth input when a sample has one
    auto mask_of = [](const V& in) { return in.size() > 3 ? in[3] : Tensor(); };
    auto bool_mask = [](const std::vector<double>& take, const Shape& shape) {
      return ne(values(take, shape), 0.0);
    };
    sdpa_entry(
        "scaled_dot_product_attention",
        {Op::scaled_dot_product_attention, Op::scaled_dot_product_attention_backward},
        [mask_of](const V& in) { return F::scaled_dot_product_attention(in[0], in[1], in[2], mask_of(in)); },
        [bool_mask] {
          return std::vector<Sample>{
              {"L != S, E != Ev",
               {make({2, 3, 4}, -1, 1, 411), make({2, 5, 4}, -1, 1, 412), make({2, 5, 3}, -1, 1, 413)}},
              {"unbatched", {make({3, 4}, -1, 1, 414), make({6, 4}, -1, 1, 415), make({6, 2}, -1, 1, 416)}},
              {"broadcast heads and batch",
               {make({2, 2, 3, 4}, -1, 1, 417), make({2, 1, 5, 4}, -1, 1, 418), make({5, 3}, -1, 1, 419)}},
              {"permuted [L, N, H, E]",
               {make({3, 2, 2, 4}, -1, 1, 420), make({5, 2, 2, 4}, -1, 1, 421),
                make({5, 2, 2, 3}, -1, 1, 422)},
               [](const V& in) {
                 return V{in[0].permute({1, 2, 0, 3}), in[1].permute({1, 2, 0, 3}),
                          in[2].permute({1, 2, 0, 3})};
               }},
              {"three batch dims",
               {make({2, 2, 2, 3, 4}, -1, 1, 423), make({2, 1, 2, 5, 4}, -1, 1, 424),
                make({1, 2, 1, 5, 3}, -1, 1, 425)}},
              {"bool mask",
               {make({2, 2, 3, 4}, -1, 1, 426), make({2, 2, 5, 4}, -1, 1, 427),
                make({2, 2, 5, 3}, -1, 1, 428),
                bool_mask({1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0}, {3, 5})}},
              {"bool mask, a row without keys",
               {make({2, 3, 4}, -1, 1, 429), make({2, 4, 4}, -1, 1, 430), make({2, 4, 3}, -1, 1, 431),
                bool_mask({1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1},
                          {2, 3, 4})}},
              {"additive mask over heads",
               {make({2, 2, 3, 4}, -1, 1, 432), make({2, 2, 5, 4}, -1, 1, 433),
                make({2, 2, 5, 3}, -1, 1, 434), make({2, 1, 3, 5}, -2, 1, 435)}},
          };
        });
    sdpa_entry(
        "scaled_dot_product_attention_causal", {Op::scaled_dot_product_attention},
        [](const V& in) {
          return F::scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.0, /*is_causal=*/true, 0.7);
        },
        [] {
          return std::vector<Sample>{
              {"L < S",
               {make({2, 4, 3}, -1, 1, 441), make({2, 6, 3}, -1, 1, 442), make({2, 6, 2}, -1, 1, 443)}},
              {"L > S",
               {make({2, 5, 3}, -1, 1, 444), make({2, 3, 3}, -1, 1, 445), make({2, 3, 4}, -1, 1, 446)}},
          };
        });
    sdpa_entry(
        "scaled_dot_product_attention_dropout", {Op::scaled_dot_product_attention},
        [mask_of](const V& in) {
          Generator gen(11);  // the same draw at every call
          return F::scaled_dot_product_attention(in[0], in[1], in[2], mask_of(in), /*dropout_p=*/0.3, false,
                                                 std::nullopt, &gen);
        },
        [] {
          return std::vector<Sample>{
              {"heads",
               {make({2, 2, 3, 4}, -1, 1, 451), make({2, 2, 5, 4}, -1, 1, 452),
                make({2, 2, 5, 3}, -1, 1, 453)}},
              {"additive mask",
               {make({2, 3, 4}, -1, 1, 454), make({2, 5, 4}, -1, 1, 455), make({2, 5, 3}, -1, 1, 456),
                make({3, 5}, -1, 1, 457)}},
          };
        });
  }

  // ---- recurrent networks: the whole-sequence op through its front ends. The samples use
  // 2 layers and both directions (every weight, the reverse time loop and the gradient
  // between layers), batch_first and unbatched layouts, and no biases. Dropout is 0: the
  // GPU's masks are cuDNN's own (test_rnn.cpp checks dropout on the CPU). ----
  {
    struct RnnKind {
      const char* name;
      int64_t gates;
      bool lstm;
      std::function<nn::functional::RNNOutput(const V&, const nn::functional::RNNOptions&)> run;
    };
    using nn::functional::RNNOptions;
    const std::vector<RnnKind> kinds{
        {"rnn_tanh", 1, /*lstm=*/false,
         [](const V& in, const RNNOptions& o) {
           return nn::functional::rnn(in[0], in[1], V(in.begin() + 2, in.end()), o);
         }},
        {"rnn_relu", 1, /*lstm=*/false,
         [](const V& in, const RNNOptions& o) {
           RNNOptions r = o;
           r.nonlinearity = "relu";
           return nn::functional::rnn(in[0], in[1], V(in.begin() + 2, in.end()), r);
         }},
        {"lstm", 4, /*lstm=*/true,
         [](const V& in, const RNNOptions& o) {
           return nn::functional::lstm(in[0], in[1], in[2], V(in.begin() + 3, in.end()), o);
         }},
        {"gru", 3, /*lstm=*/false,
         [](const V& in, const RNNOptions& o) {
           return nn::functional::gru(in[0], in[1], V(in.begin() + 2, in.end()), o);
         }},
    };
    for (const RnnKind& k : kinds) {
      // inputs: x, h0, (c0), weights of `layers` x `dirs`
      auto inputs = [k](const Shape& x_shape, const Shape& state, int64_t in_features, int64_t hidden,
                        int64_t layers, int64_t dirs, bool bias, unsigned seed) {
        V in{make(x_shape, -1, 1, seed), make(state, -0.5, 0.5, seed + 1)};
        if (k.lstm) in.push_back(make(state, -0.5, 0.5, seed + 2));
        unsigned sd = seed + 3;
        for (int64_t l = 0; l < layers; ++l) {
          for (int64_t d = 0; d < dirs; ++d) {
            const int64_t gh = k.gates * hidden, lin = l == 0 ? in_features : dirs * hidden;
            in.push_back(make({gh, lin}, -0.6, 0.6, sd++));
            in.push_back(make({gh, hidden}, -0.6, 0.6, sd++));
            if (bias) {
              in.push_back(make({gh}, -0.3, 0.3, sd++));
              in.push_back(make({gh}, -0.3, 0.3, sd++));
            }
          }
        }
        return in;
      };
      struct Case {
        const char* desc;
        RNNOptions o;
        Shape x, state;
        int64_t layers, dirs;
      };
      const std::vector<Case> cases{
          {"2 layers bidirectional",
           RNNOptions{.num_layers = 2, .bidirectional = true},
           {3, 2, 3},
           {4, 2, 2},
           2,
           2},
          {"batch_first", RNNOptions{.batch_first = true}, {2, 4, 3}, {1, 2, 2}, 1, 1},
          {"unbatched", RNNOptions{.bidirectional = true}, {3, 3}, {2, 2}, 1, 2},
          {"2 layers no bias", RNNOptions{.num_layers = 2, .bias = false}, {3, 2, 3}, {2, 2, 2}, 2, 1},
      };
      for (const Case& c : cases) {
        OpEntry e;
        e.name = std::string(k.name) + " [" + c.desc + "]";
        e.covers = {Op::rnn, Op::rnn_backward};
        const RNNOptions o = c.o;
        const auto run = k.run;
        e.fn = [run, o](const V& in) {
          const nn::functional::RNNOutput r = run(in, o);
          V parts{r.output.reshape({-1}), r.h_n.reshape({-1})};
          if (r.c_n.defined()) parts.push_back(r.c_n.reshape({-1}));
          return cat(parts);
        };
        const V in = inputs(c.x, c.state, 3, 2, c.layers, c.dirs, c.o.bias, 251);
        e.samples = [in] { return std::vector<Sample>{{"sequence", in}}; };
        e.half_atol = 3e-2;
        db.push_back(e);
      }
    }
    // the cells: one step of the same op, batched and unbatched, with and without biases
    auto cell_entry = [&](const std::string& name, int64_t gates, bool lstm, Fn fn) {
      OpEntry e;
      e.name = name;
      e.covers = {Op::rnn, Op::rnn_backward};
      e.fn = std::move(fn);
      e.samples = [gates, lstm] {
        auto in = [&](const Shape& x, const Shape& h, unsigned seed) {
          V v{make(x, -1, 1, seed), make(h, -0.5, 0.5, seed + 1)};
          if (lstm) v.push_back(make(h, -0.5, 0.5, seed + 2));
          const int64_t H = h.back();
          v.push_back(make({gates * H, x.back()}, -0.6, 0.6, seed + 3));
          v.push_back(make({gates * H, H}, -0.6, 0.6, seed + 4));
          v.push_back(make({gates * H}, -0.3, 0.3, seed + 5));
          v.push_back(make({gates * H}, -0.3, 0.3, seed + 6));
          return v;
        };
        return std::vector<Sample>{{"batch", in({3, 4}, {3, 2}, 261)}, {"unbatched", in({4}, {2}, 271)}};
      };
      e.half_atol = 3e-2;
      db.push_back(e);
    };
    cell_entry("rnn_cell", 1, /*lstm=*/false, [](const V& in) {
      return nn::functional::rnn_cell(in[0], in[1], in[2], in[3], in[4], in[5]) +
             nn::functional::rnn_cell(in[0], in[1], in[2], in[3], Tensor(), Tensor(), "relu");
    });
    cell_entry("lstm_cell", 4, /*lstm=*/true, [](const V& in) {
      const auto [h, c] = nn::functional::lstm_cell(in[0], in[1], in[2], in[3], in[4], in[5], in[6]);
      return cat({h.reshape({-1}), c.reshape({-1})});
    });
    cell_entry("gru_cell", 3, /*lstm=*/false, [](const V& in) {
      return nn::functional::gru_cell(in[0], in[1], in[2], in[3], in[4], in[5]);
    });
  }

  // ---- views ----
  auto view_entry = [&](const std::string& name, Op op, Fn fn, Shape shape) {
    OpEntry e;
    e.name = name;
    e.covers = {op};
    e.fn = std::move(fn);
    e.samples = [shape] { return std::vector<Sample>{{"tensor", {make(shape, -2, 2, 211)}}}; };
    db.push_back(e);
  };
  // multiplying by a ramp keeps gradients element-specific through the view
  auto ramp = [](const Tensor& t) { return t * (arange(t.numel(), t.dtype()).view(t.sizes()) + 1.0); };
  view_entry("view", Op::view, [ramp](const V& in) { return ramp(in[0].view({4, 3})); }, {2, 6});
  view_entry("reshape_copy", Op::view, [ramp](const V& in) { return ramp(in[0].t().reshape({-1})); }, {3, 4});
  view_entry("squeeze_unsqueeze", Op::view,
             [ramp](const V& in) { return ramp(in[0].squeeze(1).unsqueeze(0).flatten()); }, {3, 1, 4});
  view_entry("permute", Op::permute,
             [ramp](const V& in) {
               return ramp(in[0].permute({2, 0, 1}));
             },
             {2, 3, 4});
  view_entry("slice", Op::slice,
             [ramp](const V& in) { return ramp(in[0].slice(1, 1, 6, 2).narrow(0, 1, 2)); }, {3, 6});
  view_entry("select", Op::select, [ramp](const V& in) { return ramp(in[0].select(1, -1)); }, {3, 4});
  view_entry("expand", Op::expand, [ramp](const V& in) { return ramp(in[0].expand({2, 3, 4})); }, {3, 1});
  {
    OpEntry e;
    e.name = "as_strided";
    e.covers = {Op::as_strided};
    e.differentiable = false;
    e.fn = [](const V& in) { return in[0].detach().as_strided({2, 2}, {1, 2}, 1).contiguous(); };
    e.samples = [] { return std::vector<Sample>{{"overlapping", {make({6}, -2, 2, 221)}}}; };
    db.push_back(e);
  }

  add_bench_inputs(db);
  return db;
}

}  // namespace

const std::vector<OpEntry>& op_db() {
  static const std::vector<OpEntry> db = build();
  return db;
}

Tensor run_sample(const OpEntry& e, const std::vector<Tensor>& inputs, const Sample& s) {
  return e.fn(s.prep ? s.prep(inputs) : inputs);
}

}  // namespace nabla::testing
