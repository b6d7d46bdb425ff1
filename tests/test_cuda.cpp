// CUDA backend tests (label cuda): CPU-vs-GPU parity of every op_db entry whose ops have
// CUDA kernels, forward and backward; determinism; Philox draws equal on both devices;
// allocator reuse; then targeted tests of what the table cannot reach (cuDNN benchmark and
// deterministic modes, the descriptor cache, batch norm's cuDNN and own-kernel paths, long
// layer-norm rows, NaN in max pooling, bad-index errors, kernel-level edge cases). Every test
// skips with a printed reason where no GPU is available.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "dispatch/dispatch.h"
#include "nabla/cuda.h"
#include "op_db.h"
#include "ops/params_optim.h"
#include "test_util.h"

namespace nabla::testing {
namespace {

using test_util::all_close;

#define NABLA_REQUIRE_GPU()                                                                           \
  do {                                                                                                \
    if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device here (cuda::is_available() is false)"; \
  } while (0)

// The ops of an entry that have no CUDA kernel (views need none). Every op has one, so a
// non-empty answer is a failure of the parity test, not a reason to leave the entry out.
std::string ops_missing_on_cuda(const OpEntry& e) {
  std::string missing;
  for (Op op : e.covers) {
    if (op_info(op).family != OpFamily::view && find_kernel(op, DeviceType::CUDA) == nullptr) {
      missing += (missing.empty() ? "" : ", ") + std::string(op_info(op).name);
    }
  }
  return missing;
}

std::vector<Tensor> on(const std::vector<Tensor>& in, Device d, ScalarType t) {
  std::vector<Tensor> r;
  for (const Tensor& x : in) r.push_back((x.is_floating_point() ? x.to(t) : x).to(d));
  return r;
}

// Every op has a CUDA kernel, so an error on either device, or a missing kernel, is a
// failure naming the entry and the sample; nothing is counted as "pending".
TEST(CudaParity, ForwardAndBackwardMatchCpu) {
  NABLA_REQUIRE_GPU();
  int compared = 0;
  for (const OpEntry& e : op_db()) {
    if (const std::string missing = ops_missing_on_cuda(e); !missing.empty()) {
      ADD_FAILURE() << e.name << ": no CUDA kernel for " << missing;
      continue;
    }
    for (const Sample& s : e.samples()) {
      SCOPED_TRACE(e.name + " [" + s.desc + "]");
      std::vector<Tensor> cpu_in = on(s.inputs, Device::cpu(), kFloat32);
      std::vector<Tensor> gpu_in = on(s.inputs, Device::cuda(), kFloat32);
      for (std::size_t i = 0; i < cpu_in.size(); ++i) {
        if (e.differentiable && cpu_in[i].is_floating_point() && !(e.no_grad_inputs & (1u << i))) {
          cpu_in[i] = cpu_in[i].detach().requires_grad_(true);
          gpu_in[i] = gpu_in[i].detach().requires_grad_(true);
        }
      }
      const char* stage = "cpu forward";
      try {
        Tensor ref = run_sample(e, cpu_in, s);
        stage = "cuda forward";
        Tensor got = run_sample(e, gpu_in, s);
        ASSERT_TRUE(got.device().is_cuda()) << e.name << " [" << s.desc << "]";
        EXPECT_TRUE(all_close(got, ref, e.atol, e.rtol)) << e.name << " [" << s.desc << "] forward";
        if (ref.requires_grad()) {
          stage = "cpu backward";
          ref.backward(ones_like(ref));
          stage = "cuda backward";
          got.backward(ones_like(got));
          for (std::size_t i = 0; i < cpu_in.size(); ++i) {
            if (!cpu_in[i].requires_grad()) continue;
            EXPECT_TRUE(all_close(gpu_in[i].grad(), cpu_in[i].grad(), e.atol * 10, e.rtol * 10))
                << e.name << " [" << s.desc << "] gradient of input " << i;
          }
        }
      } catch (const Error& err) {
        ADD_FAILURE() << e.name << " [" << s.desc << "] " << stage << " threw: " << err.what();
        continue;
      }
      ++compared;
    }
  }
  std::printf("cuda parity: %d samples compared\n", compared);
}

TEST(CudaParity, PhiloxDrawsEqualOnBothDevices) {
  NABLA_REQUIRE_GPU();
  for (ScalarType t : {kFloat32, kFloat64, kFloat16}) {
    manual_seed(42);
    const auto cpu = rand({1023}, t).to_vector<double>();
    manual_seed(42);
    const auto gpu = rand({1023}, TensorOptions(t).device(Device::cuda())).to_vector<double>();
    EXPECT_EQ(cpu, gpu) << dtype_name(t);
  }
  manual_seed(7);
  const auto cpu = randint(-5, 5, {4097}).to_vector<int64_t>();
  manual_seed(7);
  const auto gpu = randint(-5, 5, {4097}, Device::cuda()).to_vector<int64_t>();
  EXPECT_EQ(cpu, gpu);
}

TEST(CudaRuntime, DeterministicAndAllocatorReuses) {
  NABLA_REQUIRE_GPU();
  manual_seed(0);
  const Tensor x = randn({1 << 20}, Device::cuda());
  const auto a = (exp(x) * 3.0 + 1.0).to_vector<float>();
  const auto b = (exp(x) * 3.0 + 1.0).to_vector<float>();
  EXPECT_EQ(a, b);
  for (int i = 0; i < 10; ++i) (void)(sigmoid(x) + x).to_vector<float>();
  const std::size_t reserved = cuda::memory_stats().reserved;
  for (int i = 0; i < 1000; ++i) {
    const Tensor y = sigmoid(x) + x * 2.0;
    (void)y;
  }
  cuda::synchronize();
  EXPECT_EQ(cuda::memory_stats().reserved, reserved);
}

// The recurrent op keeps cuDNN's packed copy of the weights between calls: an in-place update
// (what an optimizer step does) must reach it, in forward and in backward.
TEST(CudaRnn, PackedWeightsFollowInPlaceUpdates) {
  NABLA_REQUIRE_GPU();
  manual_seed(0);
  nn::RNNOptions o;
  o.num_layers = 2;
  o.bidirectional = true;
  nn::LSTM cpu(3, 5, o), gpu(3, 5, o);
  gpu.load_state_dict(cpu.state_dict());
  gpu.to(Device::cuda());
  const Tensor x = randn({4, 2, 3});
  for (int round = 0; round < 2; ++round) {
    cpu.zero_grad();
    gpu.zero_grad();
    const Tensor ref = cpu(x), got = gpu(x.to(Device::cuda()));
    EXPECT_TRUE(all_close(got, ref, 1e-5, 1e-4)) << "round " << round;
    ref.sum().backward();
    got.sum().backward();
    auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
    for (std::size_t i = 0; i < pc.size(); ++i) {
      EXPECT_TRUE(all_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4, 1e-3))
          << pc[i].first << " round " << round;
    }
    NoGradGuard g;
    for (std::size_t i = 0; i < pc.size(); ++i) {
      pc[i].second.add_(0.05 * static_cast<double>(i + 1));
      pg[i].second.add_(0.05 * static_cast<double>(i + 1));
    }
  }
  NoGradGuard g;  // inference mode (no reserve) computes the same
  EXPECT_TRUE(all_close(gpu(x.to(Device::cuda())), cpu(x), 1e-5, 1e-4));
}

// Dropout between layers runs cuDNN's own generator: masks differ from the CPU's, so only
// training through it and eval-mode determinism are checked.
TEST(CudaRnn, DropoutTrainsAndEvalIsDeterministic) {
  NABLA_REQUIRE_GPU();
  nn::RNNOptions o;
  o.num_layers = 3;
  o.dropout = 0.5;
  nn::GRU m(3, 6, o);
  m.to(Device::cuda());
  const Tensor x = randn({5, 4, 3}, Device::cuda());
  m(x).sum().backward();
  for (const auto& [name, p] : m.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_TRUE(std::isfinite(p.grad().abs().sum().item<double>())) << name;
  }
  m.eval();
  EXPECT_EQ(m(x).to_vector<float>(), m(x).to_vector<float>());
}

// MultiheadAttention and a small Transformer (bool padding and float causal masks, batch_first)
// on the GPU against the CPU, forward and every parameter's gradient, in float32.
TEST(CudaTransformer, ModulesAgreeWithCpu) {
  NABLA_REQUIRE_GPU();
  manual_seed(3);
  nn::TransformerOptions o;
  o.d_model = 16;
  o.nhead = 4;
  o.num_encoder_layers = 2;
  o.num_decoder_layers = 1;
  o.dim_feedforward = 32;
  o.dropout = 0.0;
  o.batch_first = true;
  nn::Transformer cpu(o), gpu(o);
  gpu.load_state_dict(cpu.state_dict());
  gpu.to(Device::cuda());
  const Tensor src = randn({2, 7, 16}), tgt = randn({2, 5, 16});
  const Tensor kpm = from_vector<bool>({false, false, false, false, false, true, true,  // batch 0: 2 pads
                                        false, false, false, false, false, false, false},
                                       {2, 7});
  const Tensor causal = nn::Transformer::generate_square_subsequent_mask(5);
  const auto cuda = [](const Tensor& t) { return t.to(Device::cuda()); };
  const Tensor ref = cpu.forward(src, tgt, Tensor(), causal, Tensor(), kpm, Tensor(), kpm);
  const Tensor got =
      gpu.forward(cuda(src), cuda(tgt), Tensor(), cuda(causal), Tensor(), cuda(kpm), Tensor(), cuda(kpm));
  EXPECT_TRUE(all_close(got, ref, 1e-5, 1e-4));
  ref.sum().backward();
  got.sum().backward();
  auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  ASSERT_EQ(pc.size(), pg.size());
  for (std::size_t i = 0; i < pc.size(); ++i)
    EXPECT_TRUE(all_close(pg[i].second.grad(), pc[i].second.grad(), 1e-4, 1e-3)) << pc[i].first;

  nn::MultiheadAttentionOptions mo;
  mo.kdim = 6;
  mo.vdim = 10;
  nn::MultiheadAttention mc(8, 2, mo), mg(8, 2, mo);
  mg.load_state_dict(mc.state_dict());
  mg.to(Device::cuda());
  const Tensor q = randn({4, 3, 8}), k = randn({6, 3, 6}), v = randn({6, 3, 10});
  const auto [yc, wc] = mc.forward(q, k, v, kpm.slice(1, 0, 6).slice(0, 0, 1).expand({3, 6}));
  const auto [yg, wg] =
      mg.forward(cuda(q), cuda(k), cuda(v), cuda(kpm.slice(1, 0, 6).slice(0, 0, 1).expand({3, 6})));
  EXPECT_TRUE(all_close(yg, yc, 1e-5, 1e-4));
  EXPECT_TRUE(all_close(wg, wc, 1e-5, 1e-4));
}

TEST(CudaRuntime, ClearErrors) {
  if (cuda::is_available()) {
    EXPECT_THROW(zeros({2}, Device::cuda(cuda::device_count())), Error);  // no such device
    const Tensor a = ones({2}, Device::cuda());
    EXPECT_THROW(add(a, ones({2})), Error);  // mixed devices
  } else {
    EXPECT_EQ(cuda::device_count(), 0);
    EXPECT_THROW(zeros({2}, Device::cuda()), Error);
  }
}

// ---- targeted tests of what the op_db table cannot reach: cuDNN modes, paths chosen by dtype,
// shapes past the kernels' thresholds, error reporting, kernel-level edge cases ----

namespace F = nn::functional;

// Restores a global switch when a test ends, failed or not.
class SwitchGuard {
 public:
  SwitchGuard() : benchmark_(cuda::cudnn_benchmark()), deterministic_(cuda::deterministic()) {}
  ~SwitchGuard() {
    cuda::set_cudnn_benchmark(benchmark_);
    cuda::set_deterministic(deterministic_);
  }

 private:
  bool benchmark_, deterministic_;
};

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i])))) return false;
  }
  return true;
}

// conv2d forward and the gradients of x and w (through conv2d_backward_input/_weight).
struct ConvRun {
  Tensor y, gx, gw;
};
ConvRun conv_run(const Tensor& x0, const Tensor& w0, Device d, ScalarType t) {
  const Tensor x = x0.to(t).to(d).detach().requires_grad_(true);
  const Tensor w = w0.to(t).to(d).detach().requires_grad_(true);
  Tensor y = F::conv2d(x, w, Tensor(), {2, 1}, {1, 2}, {1, 2}, 2);
  y.backward(ones_like(y));
  return {y.detach(), x.grad(), w.grad()};
}

TEST(CudnnConv, BenchmarkModeAgreesWithHeuristics) {
  NABLA_REQUIRE_GPU();
  SwitchGuard restore;
  manual_seed(1);
  const Tensor x = randn({3, 4, 11, 9}, kFloat64), w = randn({6, 2, 3, 3}, kFloat64);
  const ConvRun ref = conv_run(x, w, Device::cpu(), kFloat32);
  for (bool bench : {false, true, true}) {  // the second benchmark run reads the cached choice
    cuda::set_cudnn_benchmark(bench);
    const ConvRun got = conv_run(x, w, Device::cuda(), kFloat32);
    EXPECT_TRUE(all_close(got.y, ref.y, 1e-4, 1e-4)) << "benchmark " << bench;
    EXPECT_TRUE(all_close(got.gx, ref.gx, 1e-4, 1e-4)) << "benchmark " << bench;
    EXPECT_TRUE(all_close(got.gw, ref.gw, 1e-4, 1e-4)) << "benchmark " << bench;
  }
}

TEST(CudnnConv, DeterministicModeIsBitwiseRepeatable) {
  NABLA_REQUIRE_GPU();
  SwitchGuard restore;
  cuda::set_deterministic(true);
  manual_seed(2);
  const Tensor x = randn({8, 4, 32, 32}, kFloat64), w = randn({8, 2, 3, 3}, kFloat64);
  for (bool bench : {false, true}) {
    cuda::set_cudnn_benchmark(bench);
    for (ScalarType t : {kFloat32, kFloat16, kFloat64}) {
      const ConvRun a = conv_run(x, w, Device::cuda(), t), b = conv_run(x, w, Device::cuda(), t);
      EXPECT_TRUE(bitwise_equal(a.y, b.y)) << dtype_name(t) << " benchmark " << bench;
      EXPECT_TRUE(bitwise_equal(a.gx, b.gx)) << dtype_name(t) << " benchmark " << bench;
      EXPECT_TRUE(bitwise_equal(a.gw, b.gw)) << dtype_name(t) << " benchmark " << bench;
    }
  }
  // batch norm runs nabla's own kernels in this mode
  const Tensor bx = randn({16, 3, 7, 5}, Device::cuda());
  auto bn = [&] {
    const Tensor xi = bx.detach().requires_grad_(true);
    Tensor y = F::batch_norm(xi, Tensor(), Tensor(), Tensor(), Tensor(), /*training=*/true);
    (y * y).sum().backward();
    return std::pair<Tensor, Tensor>{y.detach(), xi.grad()};
  };
  const auto [y1, g1] = bn();
  const auto [y2, g2] = bn();
  EXPECT_TRUE(bitwise_equal(y1, y2));
  EXPECT_TRUE(bitwise_equal(g1, g2));
}

TEST(CudnnConv, DescriptorCacheHitGivesSameResult) {
  NABLA_REQUIRE_GPU();
  SwitchGuard restore;
  cuda::set_deterministic(true);
  manual_seed(3);
  const Tensor x = randn({2, 4, 10, 10}, Device::cuda()), w = randn({6, 4, 3, 3}, Device::cuda());
  const Tensor other_x = randn({1, 4, 7, 5}, Device::cuda()), other_w = randn({2, 4, 1, 1}, Device::cuda());
  const Tensor first = F::conv2d(x, w, Tensor(), 1, 1);
  (void)F::conv2d(other_x, other_w).to_vector<float>();  // other descriptors in between
  const Tensor again = F::conv2d(x, w, Tensor(), 1, 1);  // every descriptor from the cache
  EXPECT_TRUE(bitwise_equal(first, again));
  EXPECT_TRUE(all_close(again, F::conv2d(x.cpu(), w.cpu(), Tensor(), 1, 1), 1e-4, 1e-4));
}

TEST(CudaNorm, BatchNormPathsAgreeWithCpu) {
  NABLA_REQUIRE_GPU();
  SwitchGuard restore;
  manual_seed(4);
  const Tensor x = randn({6, 5, 4, 3}, kFloat64), wt = rand({5}, kFloat64), bs = randn({5}, kFloat64);
  // float32 and float16 run cuDNN, or nabla's kernels in deterministic mode; bfloat16 always
  // nabla's kernels
  for (bool det : {false, true}) {
    cuda::set_deterministic(det);
    for (ScalarType t : {kFloat32, kFloat16, kBFloat16}) {
      const double tol = t == kFloat32 ? 1e-4 : 3e-2;
      auto run = [&](Device d) {
        const Tensor xi = x.to(t).to(d).detach().requires_grad_(true);
        const Tensor wi = wt.to(kFloat32).to(d).detach().requires_grad_(true);
        const Tensor bi = bs.to(kFloat32).to(d).detach().requires_grad_(true);
        Tensor y = F::batch_norm(xi, Tensor(), Tensor(), wi, bi, /*training=*/true);
        (y.to(kFloat32) * y.to(kFloat32)).sum().backward();
        return std::array<Tensor, 4>{y.detach(), xi.grad(), wi.grad(), bi.grad()};
      };
      const auto ref = run(Device::cpu()), got = run(Device::cuda());
      for (int i = 0; i < 4; ++i) {
        EXPECT_TRUE(all_close(got[i], ref[i], tol, tol))
            << dtype_name(t) << " deterministic " << det << " #" << i;
      }
    }
  }
}

TEST(CudaNorm, LayerNormLongRowsAndManyChunks) {
  NABLA_REQUIRE_GPU();
  manual_seed(5);
  // 1500 columns take the block-per-row kernel; 300 rows make several row chunks for the
  // weight and bias gradients
  for (const Shape& shape : {Shape{300, 1500}, Shape{700, 20}}) {
    const Tensor x = randn(shape, kFloat64), w = randn({shape[1]}, kFloat64), b = randn({shape[1]}, kFloat64);
    for (ScalarType t : {kFloat32, kFloat16}) {
      const double tol = t == kFloat32 ? 1e-3 : 5e-2;
      auto run = [&](Device d) {
        const Tensor xi = x.to(t).to(d).detach().requires_grad_(true);
        const Tensor wi = w.to(t).to(d).detach().requires_grad_(true);
        const Tensor bi = b.to(t).to(d).detach().requires_grad_(true);
        Tensor y = F::layer_norm(xi, {shape[1]}, wi, bi);
        y.backward(ones_like(y) * 0.5);
        return std::array<Tensor, 4>{y.detach(), xi.grad(), wi.grad(), bi.grad()};
      };
      const auto ref = run(Device::cpu()), got = run(Device::cuda());
      for (int i = 0; i < 4; ++i) {
        EXPECT_TRUE(all_close(got[i], ref[i], tol, tol))
            << shape[0] << "x" << shape[1] << " " << dtype_name(t) << " #" << i;
      }
    }
  }
}

TEST(CudaPool, MaxPoolNanIsTheMaximumAndIndicesMatchCpu) {
  NABLA_REQUIRE_GPU();
  std::vector<float> v(2 * 6 * 5);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7) % 11);
  v[8] = NAN;
  v[41] = NAN;
  const Tensor x = from_vector(v, {1, 2, 6, 5});
  const auto [ry, ri] = F::max_pool2d_with_indices(x, 3, {2, 1}, 1, {1, 2}, /*ceil_mode=*/true);
  const auto [gy, gi] =
      F::max_pool2d_with_indices(x.to(Device::cuda()), 3, {2, 1}, 1, {1, 2}, /*ceil_mode=*/true);
  EXPECT_TRUE(bitwise_equal(gy, ry));
  EXPECT_EQ(gi.to_vector<int64_t>(), ri.to_vector<int64_t>());
}

TEST(CudaRuntime, BadIndicesAreErrorsAndTheNextCallIsClean) {
  NABLA_REQUIRE_GPU();
  // Bad indices are reported asynchronously: the kernel records the first one, and the next
  // synchronisation point (here cuda::synchronize(); item() and to_vector alike) throws,
  // naming the op; the report is then cleared.
  auto throws_naming = [](const std::function<void()>& f, std::string_view op) {
    return test_util::throws_with(
        [&] {
          f();
          cuda::synchronize();
        },
        {op});
  };
  const Tensor x = arange(0, 10, 1, TensorOptions(kFloat32).device(Device::cuda())).view({2, 5});
  for (int64_t bad : {-1, 5, 1000}) {
    const Tensor idx = full({2, 2}, bad, TensorOptions(kInt64).device(Device::cuda()));
    EXPECT_TRUE(throws_naming([&] { gather(x, 1, idx); }, "gather")) << bad;
    EXPECT_TRUE(throws_naming([&] { index_select(x, 1, idx.view({4})); }, "index_select")) << bad;
  }
  const Tensor ok = from_vector<int64_t>({4, 0, 1, 3}, {2, 2}).to(Device::cuda());
  EXPECT_EQ(gather(x, 1, ok).to_vector<float>(), (std::vector<float>{4, 0, 6, 8}));
  const Tensor target = from_vector<int64_t>({1, 7}).to(Device::cuda());
  EXPECT_TRUE(throws_naming(
      [&] {
        F::cross_entropy(randn({2, 3}, Device::cuda()), target);
      },
      "cross_entropy"));
  // the report was cleared: a clean call after it synchronises without an error
  EXPECT_NO_THROW({
    gather(x, 1, ok);
    cuda::synchronize();
  });
}

TEST(CudaRuntime, FusedStepWithMixedDtypesInOneCall) {
  NABLA_REQUIRE_GPU();
  // The front end makes one call per dtype; the kernel must still honour each tensor's own.
  const TensorOptions f32 = TensorOptions(kFloat32).device(Device::cuda());
  const TensorOptions f64 = TensorOptions(kFloat64).device(Device::cuda());
  std::array<Tensor, 3> params{full({5}, 1.0, f32), full({3}, 1.0, f64), full({4}, 1.0, f32)};
  const std::array<Tensor, 3> grads{full({5}, 2.0, f32), full({3}, 4.0, f64), full({4}, 8.0, f32)};
  const math::SgdUpdate rule{.lr = 0.5,
                             .momentum = 0,
                             .dampening = 0,
                             .weight_decay = 0,
                             .nesterov = false,
                             .maximize = false,
                             .first_step = true};
  run_op(Op::sgd_step, std::span<const Tensor>(grads.data(), grads.size()),
         std::span<Tensor>(params.data(), params.size()), SgdStepParams{rule}.params());
  EXPECT_EQ(params[0].to_vector<double>(), std::vector<double>(5, 0.0));
  EXPECT_EQ(params[1].to_vector<double>(), std::vector<double>(3, -1.0));
  EXPECT_EQ(params[2].to_vector<double>(), std::vector<double>(4, -3.0));
}

TEST(CudaRuntime, CopyBetweenOverlappingViewsOfOneStorage) {
  NABLA_REQUIRE_GPU();
  // the copy kernel itself, below the front end's clone of an aliasing source
  const int64_t n = 1 << 16;
  Tensor buf = arange(0, n, 1, TensorOptions(kFloat32).device(Device::cuda()));
  const Tensor src = buf.slice(0, 0, n - 3), dst = buf.slice(0, 3, n);
  run_op(Op::copy, {src}, dst);
  const auto got = buf.to_vector<float>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], static_cast<float>(i < 3 ? i : i - 3)) << i;
}

TEST(CudaRuntime, RandpermEqualOnBothDevices) {
  NABLA_REQUIRE_GPU();
  for (int64_t n : {1, 5, 1000, 100003}) {
    manual_seed(11);
    const auto cpu = randperm(n).to_vector<int64_t>();
    manual_seed(11);
    const auto gpu = randperm(n, Device::cuda()).to_vector<int64_t>();
    EXPECT_EQ(cpu, gpu) << n;
  }
}

TEST(CudaRuntime, CublasWorkspaceIsNotCountedAsAllocated) {
  NABLA_REQUIRE_GPU();
  {
    const Tensor a = randn({64, 64}, Device::cuda());
    (void)matmul(a, a).to_vector<float>();  // the cuBLAS handle and its 32 MiB workspace exist now
  }
  // no tensor of this test binary is alive here, so far less than the workspace is allocated
  EXPECT_LT(cuda::memory_stats().allocated, std::size_t{32} << 20);
}

}  // namespace
}  // namespace nabla::testing
