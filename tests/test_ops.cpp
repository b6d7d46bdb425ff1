// Table-driven op tests over op_db: coverage of ops.def, gradcheck of every differentiable
// op in float64, float32 (and 16-bit) results against float64, and float32 gradients
// against float64 gradients.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "autograd/node.h"
#include "core/math/vec_exp.h"
#include "dispatch/dispatch.h"
#include "op_db.h"
#include "test_util.h"

namespace nabla::testing {
namespace {

using test_util::all_close;

std::vector<Tensor> convert(const std::vector<Tensor>& in, ScalarType t) {
  std::vector<Tensor> r;
  for (const Tensor& x : in) r.push_back(x.is_floating_point() ? x.to(t) : x);
  return r;
}

std::string label(const OpEntry& e, const Sample& s) { return e.name + " [" + s.desc + "]"; }

TEST(OpCoverage, EveryOpHasAnEntryKernelsAndFormula) {
  ensure_initialized();
  std::set<Op> covered;
  for (const OpEntry& e : op_db()) covered.insert(e.covers.begin(), e.covers.end());
  std::set<Op> cpu_only;
  for (const CpuOnlyOp& c : cpu_only_ops()) {
    cpu_only.insert(c.op);
    EXPECT_NE(c.reason, nullptr) << op_name(c.op) << " is listed cpu-only without a reason";
  }
  for (int i = 0; i < kNumOps; ++i) {
    const Op op = static_cast<Op>(i);
    const OpInfo& info = op_info(op);
    EXPECT_TRUE(covered.count(op)) << "ops.def op '" << info.name << "' has no entry in tests/op_db.cpp";
    EXPECT_EQ(derivative(op).fn != nullptr, info.differentiable)
        << "op '" << info.name << "': differentiable flag and backward formula disagree";
    if (info.family == OpFamily::view) continue;
    for (int d = 0; d < kNumDeviceTypes; ++d) {
      const DeviceType dev = static_cast<DeviceType>(d);
      if (!backend_registered(dev)) continue;
      if (dev != DeviceType::CPU && cpu_only.count(op)) continue;
      EXPECT_NE(find_kernel(op, dev), nullptr)
          << "op '" << info.name << "' has no kernel on registered backend " << device_type_name(dev);
    }
  }
}

// Takes (op, device)'s kernel out of the dispatcher's table for one scope and puts it back on
// every exit, so a failing assertion cannot leave the table broken for later tests.
class KernelRemoved {
 public:
  KernelRemoved(Op op, DeviceType device) : op_(op), device_(device), saved_(find_kernel(op, device)) {
    register_kernel(op_, device_, nullptr);
  }
  ~KernelRemoved() { register_kernel(op_, device_, saved_); }
  KernelRemoved(const KernelRemoved&) = delete;
  KernelRemoved& operator=(const KernelRemoved&) = delete;

 private:
  Op op_;
  DeviceType device_;
  Kernel saved_;
};

TEST(OpCoverage, MissingKernelIsAnErrorNamingOpAndDevice) {
  // The real path: the CPU's exp kernel is taken out, so run_op itself must refuse, naming the
  // op and the device (allocation succeeds on the CPU, so no other check answers first).
  Tensor x = ones({2});
  {
    KernelRemoved no_exp(Op::exp, DeviceType::CPU);
    EXPECT_TRUE(
        test_util::throws_with([&] { (void)exp(x); }, {"exp", "no kernel registered for device cpu"}));
  }
  EXPECT_NE(find_kernel(Op::exp, DeviceType::CPU), nullptr);
  EXPECT_NEAR(exp(x).to_vector<double>()[0], std::exp(1.0), 1e-6);  // restored
}

TEST(OpDb, GradcheckFloat64) {
  int checked = 0;
  for (const OpEntry& e : op_db()) {
    if (!e.differentiable) continue;
    for (const Sample& s : e.samples()) {
      if (!s.gradcheck) continue;
      std::vector<Tensor> in = s.inputs;
      for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i].is_floating_point() && !(e.no_grad_inputs & (1u << i)))
          in[i] = in[i].detach().clone().requires_grad_(true);
      }
      autograd::GradcheckOptions opt;
      opt.atol = e.grad_atol;
      opt.rtol = e.grad_rtol;
      const auto r =
          autograd::gradcheck([&](const std::vector<Tensor>& x) { return run_sample(e, x, s); }, in, opt);
      EXPECT_TRUE(r.ok) << label(e, s) << ": " << r.message;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
  std::printf("gradcheck: %d samples passed or reported\n", checked);
}

TEST(OpDb, Float32MatchesFloat64) {
  for (const OpEntry& e : op_db()) {
    for (const Sample& s : e.samples()) {
      const Tensor ref = run_sample(e, s.inputs, s);
      const Tensor got = run_sample(e, convert(s.inputs, kFloat32), s);
      ASSERT_EQ(got.sizes(), ref.sizes()) << label(e, s);
      if (ref.dtype() == kFloat64) {
        EXPECT_EQ(got.dtype(), kFloat32) << label(e, s);
      }
      EXPECT_TRUE(all_close(got, ref, e.atol, e.rtol)) << label(e, s);
    }
  }
}

TEST(OpDb, SixteenBitMatchesFloat64) {
  for (ScalarType t : {kFloat16, kBFloat16}) {
    for (const OpEntry& e : op_db()) {
      if (!e.half_ok) continue;
      for (const Sample& s : e.samples()) {
        if (!s.gradcheck) continue;  // edge values overflow 16-bit ranges
        // Reference on the 16-bit-rounded inputs, so that only the op's own error counts.
        const std::vector<Tensor> low = convert(s.inputs, t);
        const Tensor ref = run_sample(e, convert(low, kFloat64), s);
        const Tensor got = run_sample(e, low, s);
        ASSERT_EQ(got.sizes(), ref.sizes()) << label(e, s);
        if (ref.dtype() == kFloat64) {
          EXPECT_EQ(got.dtype(), t) << label(e, s);
        }
        EXPECT_TRUE(all_close(got, ref, e.half_atol, e.half_rtol)) << label(e, s) << " in " << dtype_name(t);
      }
    }
  }
}

TEST(OpDb, Float32GradientsMatchFloat64) {
  for (const OpEntry& e : op_db()) {
    if (!e.differentiable) continue;
    for (const Sample& s : e.samples()) {
      if (!s.gradcheck) continue;
      std::vector<std::vector<Tensor>> grads;
      for (ScalarType t : {kFloat64, kFloat32}) {
        std::vector<Tensor> in = convert(s.inputs, t);
        for (std::size_t i = 0; i < in.size(); ++i) {
          if (in[i].is_floating_point() && !(e.no_grad_inputs & (1u << i)))
            in[i] = in[i].detach().clone().requires_grad_(true);
        }
        const Tensor out = run_sample(e, in, s);
        if (out.requires_grad()) out.backward(ones_like(out));
        std::vector<Tensor> g;
        for (const Tensor& x : in) g.push_back(x.requires_grad() ? x.grad() : Tensor());
        grads.push_back(g);
      }
      for (std::size_t i = 0; i < grads[0].size(); ++i) {
        ASSERT_EQ(grads[0][i].defined(), grads[1][i].defined()) << label(e, s) << " input " << i;
        if (!grads[0][i].defined()) continue;
        EXPECT_EQ(grads[1][i].dtype(), kFloat32) << label(e, s) << " input " << i;
        EXPECT_TRUE(all_close(grads[1][i], grads[0][i], e.atol * 10, e.rtol * 10))
            << label(e, s) << " gradient of input " << i;
      }
    }
  }
}

// ---- the float fast paths of the row kernels (cpu_fallback/lanes.h, core/math/vec_exp.h) ----

// Distance in units in the last place between two floats of one sign (or zero).
int64_t ulps(float a, float b) {
  const auto key = [](float v) {
    const int32_t i = std::bit_cast<int32_t>(v);
    return i < 0 ? int64_t{std::numeric_limits<int32_t>::min()} - i : int64_t{i};
  };
  return std::abs(key(a) - key(b));
}

TEST(VecExp, WithinTwoUlpOverTheFloatRange) {
  // every 97th float, both signs: normal, denormal, overflowing and underflowing results
  int64_t worst = 0;
  float worst_x = 0;
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 97) {
    const float x = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isnan(x)) continue;
    const float want = static_cast<float>(std::exp(static_cast<double>(x)));
    const int64_t d = ulps(math::vec_exp(x), want);
    if (d > worst) worst = d, worst_x = x;
  }
  EXPECT_LE(worst, 2) << "at x = " << worst_x;
  constexpr float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(math::vec_exp(-inf), 0.f);
  EXPECT_EQ(math::vec_exp(inf), inf);
  EXPECT_EQ(math::vec_exp(89.f), inf);
  EXPECT_EQ(math::vec_exp(-104.f), 0.f);
  EXPECT_EQ(math::vec_exp(0.f), 1.f);
  EXPECT_TRUE(std::isnan(math::vec_exp(std::nanf(""))));
  EXPECT_TRUE(std::isnan(math::vec_exp(-std::nanf(""))));
  // the smallest denormal and the largest finite result
  EXPECT_EQ(math::vec_exp(-103.27893f), std::numeric_limits<float>::denorm_min());
  EXPECT_LE(ulps(math::vec_exp(88.72283f), static_cast<float>(std::exp(static_cast<double>(88.72283f)))), 2);
}

// Softmax rows long enough for the vector loops (and a tail), with NaN, +inf and all -inf rows:
// float32 against float64, forward and backward, and the same bits on 1 to 4 threads.
TEST(RowKernels, Float32FastPathMatchesFloat64AndThreadCount) {
  manual_seed(5);
  const int64_t rows = 64, n = 1003;
  Tensor x64 = randn({rows, n}, kFloat64) * 4.0;
  Tensor g64 = randn({rows, n}, kFloat64);
  x64.select(0, 1).fill_(-INFINITY);
  x64.select(0, 2).select(0, 500).fill_(NAN);
  x64.select(0, 3).select(0, 1001).fill_(INFINITY);
  x64.select(0, 4).select(0, 7).fill_(-INFINITY);
  const Tensor x32 = x64.to(kFloat32), g32 = g64.to(kFloat32);
  const int saved = get_num_threads();
  for (bool log : {false, true}) {
    SCOPED_TRACE(log ? "log_softmax" : "softmax");
    const auto f = [log](const Tensor& t) { return log ? log_softmax(t, 1) : softmax(t, 1); };
    const auto fwd_bwd = [&](const Tensor& x, const Tensor& g) {
      Tensor xi = x.clone();
      xi.requires_grad_(true);
      const Tensor y = f(xi);
      y.backward(g);
      return std::pair{y.detach(), xi.grad()};
    };
    const auto bits = [](const Tensor& t) {  // NaN rows compare equal by their bits
      std::vector<uint32_t> b;
      for (float v : t.to_vector<float>()) b.push_back(std::bit_cast<uint32_t>(v));
      return b;
    };
    set_num_threads(1);
    const auto [y1, gx1] = fwd_bwd(x32, g32);
    const auto [y64, gx64] = fwd_bwd(x64, g64);
    EXPECT_TRUE(all_close(y1, y64, log ? 1e-5 : 1e-6, 1e-5));
    EXPECT_TRUE(all_close(gx1, gx64, 1e-5, 1e-4));
    for (int t : {2, 3, 4}) {
      set_num_threads(t);
      const auto [yt, gxt] = fwd_bwd(x32, g32);
      EXPECT_TRUE(bits(yt) == bits(y1)) << t << " threads";
      EXPECT_TRUE(bits(gxt) == bits(gx1)) << t << " threads";
    }
  }
  // cross-entropy's float rows (log-sum-exp and backward by the same fast path), with smoothing
  set_num_threads(1);
  nn::functional::CrossEntropyOptions o;
  o.label_smoothing = 0.1;
  const Tensor xs64 = x64.narrow(0, 5, rows - 5), target = randint(0, n, {rows - 5});
  const auto ce = [&](const Tensor& x) {
    Tensor xi = x.clone();
    xi.requires_grad_(true);
    const Tensor l = nn::functional::cross_entropy(xi, target, o);
    l.backward();
    return std::pair{l.detach(), xi.grad()};
  };
  const auto [l32, gl32] = ce(xs64.to(kFloat32));
  const auto [l64, gl64] = ce(xs64);
  EXPECT_TRUE(all_close(l32, l64, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(gl32, gl64, 1e-7, 1e-4));
  set_num_threads(saved);
}

// ---- advanced indexing: index, index_put, index_put_ (ops/index_put.cpp) -------------------

Tensor arange_f64(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return arange(0, n, 1, TensorOptions(kFloat64)).view(shape);
}
Tensor i64(const std::vector<int64_t>& v) { return from_vector(v); }

TEST(IndexPut, SelectsElementwiseWithBroadcastIndices) {
  const Tensor x = arange_f64({3, 4});
  // x[[0, 2], [1, -1]] picks (0, 1) and (2, 3), not the 2 x 2 outer product
  EXPECT_TRUE(all_close(index(x, {i64({0, 2}), i64({1, -1})}), {1, 11}, 0, 0));
  // a column index broadcast against a row index: x[[[0], [2]], [1, 3]]
  const Tensor r = index(x, {from_vector<int64_t>({0, 2}, {2, 1}), i64({1, 3})});
  EXPECT_EQ(r.sizes(), (Shape{2, 2}));
  EXPECT_TRUE(all_close(r, {1, 3, 9, 11}, 0, 0));
  // a bool mask over both dims: the true elements in row-major order
  const Tensor m = gt(x, 8.0);
  EXPECT_TRUE(all_close(index(x, {m}), {9, 10, 11}, 0, 0));
  // separated index dims go first: y[idx, :, idx] of [2, 3, 4] is [2, 3]
  const Tensor y = arange_f64({2, 3, 4});
  const Tensor s = index(y, {i64({0, 1}), Tensor(), i64({3, 0})});
  EXPECT_EQ(s.sizes(), (Shape{2, 3}));
  EXPECT_TRUE(all_close(s, {3, 7, 11, 12, 16, 20}, 0, 0));
  // adjacent ones keep their place: y[:, [2, 0], [1, 1]] is [2, 2]
  const Tensor a = index(y, {Tensor(), i64({2, 0}), i64({1, 1})});
  EXPECT_EQ(a.sizes(), (Shape{2, 2}));
  EXPECT_TRUE(all_close(a, {9, 1, 21, 13}, 0, 0));
}

TEST(IndexPut, WritesWithBroadcastValuesAndLastWriteWins) {
  const Tensor x = zeros({3, 4}, kFloat64);
  // x[range(3), [1, 0, 1]] = [10, 20, 30]
  Tensor r = index_put(x, {i64({0, 1, 2}), i64({1, 0, 1})}, from_vector<double>({10, 20, 30}));
  EXPECT_TRUE(all_close(r, {0, 10, 0, 0, 20, 0, 0, 0, 0, 30, 0, 0}, 0, 0));
  EXPECT_TRUE(all_close(x, std::vector<double>(12, 0.0), 0, 0));  // out of place
  // a row index with a row of values broadcast over the two rows picked
  r = index_put(x, {i64({2, 0})}, from_vector<double>({1, 2, 3, 4}));
  EXPECT_TRUE(all_close(r, {1, 2, 3, 4, 0, 0, 0, 0, 1, 2, 3, 4}, 0, 0));
  // duplicates: the last write wins; with accumulate they add up
  r = index_put(zeros({3}, kFloat64), {i64({1, 1, 2, 1})}, from_vector<double>({5, 6, 7, 8}));
  EXPECT_TRUE(all_close(r, {0, 8, 7}, 0, 0));
  r = index_put(ones({3}, kFloat64), {i64({1, 1, 2, 1})}, from_vector<double>({5, 6, 7, 8}),
                /*accumulate=*/true);
  EXPECT_TRUE(all_close(r, {1, 20, 8}, 0, 0));
  // a mask with one scalar value; an integer tensor keeps its dtype
  const Tensor xi = arange(0, 6, 1).view({2, 3});
  r = index_put(xi, {ge(xi, 4)}, scalar_tensor(-1, kInt64));
  EXPECT_EQ(r.dtype(), kInt64);
  EXPECT_EQ(r.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, -1, -1}));
  // an empty index writes nothing
  EXPECT_TRUE(all_close(index_put(ones({2}), {zeros({0}, kInt64)}, zeros({0})), {1, 1}, 0, 0));
  // zero-size dims, indexed or not
  EXPECT_EQ(index(zeros({0, 3}), {zeros({0}, kInt64)}).sizes(), (Shape{0, 3}));
  EXPECT_EQ(index(zeros({0, 3}), {Tensor(), i64({2, 0})}).sizes(), (Shape{0, 2}));
  EXPECT_EQ(index_put(zeros({0, 3}), {zeros({0, 3}, kBool)}, ones({1})).sizes(), (Shape{0, 3}));
  EXPECT_EQ(index_put(zeros({2, 0}), {i64({1, 1})}, ones({1})).sizes(), (Shape{2, 0}));
}

TEST(IndexPut, GradientsGoToTheWinnersAndToUnwrittenElements) {
  Tensor x = arange_f64({4}).requires_grad_(true);
  Tensor v = from_vector<double>({1, 2, 3}).requires_grad_(true);
  const Tensor w = from_vector<double>({1, 10, 100, 1000});
  (index_put(x, {i64({2, 0, 2})}, v) * w).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {0, 10, 0, 1000}, 0, 0));  // written elements get none
  EXPECT_TRUE(all_close(v.grad(), {0, 1, 100}, 0, 0));       // the first write to 2 lost
  // in place on a tensor that does not require grad: the values' gradient flows through
  Tensor buf = zeros({2, 2}, kFloat64);
  Tensor u = from_vector<double>({3, 4}).requires_grad_(true);
  buf.index_put_({i64({1, 0}), i64({0, 1})}, u);
  EXPECT_TRUE(buf.requires_grad());
  EXPECT_TRUE(all_close(buf, {0, 4, 3, 0}, 0, 0));
  (buf * from_vector<double>({1, 2, 3, 4}, {2, 2})).sum().backward();
  EXPECT_TRUE(all_close(u.grad(), {3, 2}, 0, 0));
}

TEST(IndexPut, InPlaceFollowsTheInPlaceRules) {
  Tensor x = zeros({3});
  const uint32_t before = x.version();
  x.index_put_({i64({0, 2})}, ones({2}), /*accumulate=*/true);
  x.index_put_({i64({0})}, full({1}, 5.0), /*accumulate=*/true);
  EXPECT_TRUE(all_close(x, {6, 0, 1}, 0, 0));
  EXPECT_GT(x.version(), before);
  Tensor leaf = zeros({3}).requires_grad_(true);
  EXPECT_NABLA_ERROR(leaf.index_put_({i64({0})}, ones({1})), "index_put_", "leaf tensor that requires grad");
  {
    NoGradGuard g;
    leaf.index_put_({i64({1})}, ones({1}));
  }
  EXPECT_TRUE(all_close(leaf.detach(), {0, 1, 0}, 0, 0));
}

TEST(IndexPut, BadIndicesAndValuesAreErrorsNamingThem) {
  const Tensor x = zeros({3, 4});
  EXPECT_NABLA_ERROR(index_put(x, {i64({0, 3})}, ones({2, 4})),
                     "index_put: index 3 is out of bounds for dim 0 with size 3");
  EXPECT_NABLA_ERROR(index_put(x, {Tensor(), i64({-5})}, zeros({1})),
                     "index_put: index -5 is out of bounds for dim 1 with size 4");
  EXPECT_NABLA_ERROR(index(x, {i64({9})}), "index: index 9 is out of bounds for dim 0 with size 3");
  EXPECT_NABLA_ERROR(index_put(x, {from_vector<float>({0, 1})}, zeros({1})),
                     "index_put: index 0 has dtype float32; indices must be int64, int32 or bool");
  EXPECT_NABLA_ERROR(index_put(x, {i64({0}), i64({0}), i64({0})}, zeros({1})),
                     "index_put: too many indices for a tensor of 2 dims (3 given");
  EXPECT_NABLA_ERROR(index_put(x, {zeros({3, 4, 1}, kBool)}, zeros({1})), "index_put: too many indices");
  EXPECT_NABLA_ERROR(
      index_put(x, {zeros({2, 4}, kBool)}, zeros({1})),
      "index_put: the mask of shape [2, 4] (index 0) does not match the indexed tensor of shape [3, 4]");
  EXPECT_NABLA_ERROR(index_put(x, {i64({0, 1})}, ones({3})),
                     "index_put: values of shape [3] cannot be broadcast to the indexed shape [2, 4]");
  EXPECT_NABLA_ERROR(index_put(x, {i64({0, 1})}, ones({2, 2, 4})),
                     "index_put: values of shape [2, 2, 4] cannot be broadcast to the indexed shape [2, 4]");
  EXPECT_NABLA_ERROR(index_put(x, {i64({0, 1}), i64({0, 1, 2})}, ones({1})),
                     "index_put: shapes [2] and [3] cannot be broadcast together");
  EXPECT_NABLA_ERROR(index_put(x, {i64({0})}, ones({4}, kFloat64)),
                     "index_put: values of dtype float64 differ from the tensor's dtype float32");
  EXPECT_NABLA_ERROR(index_put(x, {i64({0})}, Tensor()), "index_put", "values");
}

TEST(TensorSetData, PointsEveryHandleAtTheNewDataAndKeepsAutogradIdentity) {
  Tensor p = ones({3}).requires_grad_(true);
  Tensor alias = p;  // another handle to the same tensor (a module's parameter list, say)
  p.set_data(zeros({2, 2}, kFloat64));
  EXPECT_EQ(alias.sizes(), (Shape{2, 2}));
  EXPECT_EQ(alias.dtype(), kFloat64);
  EXPECT_TRUE(alias.requires_grad());
  EXPECT_TRUE(alias.is_leaf());
  EXPECT_NABLA_ERROR(p.set_data(zeros({2}, kInt64)), "set_data", "floating-point", "int64");
  EXPECT_NABLA_ERROR(p.set_data(Tensor()), "set_data", "undefined");
}

}  // namespace
}  // namespace nabla::testing
