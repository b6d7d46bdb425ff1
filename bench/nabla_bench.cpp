// nabla-bench: nabla's benchmark suite.
//
//   nabla-bench ops    [--device cpu|cuda] [--dtype float32] [--sizes small,medium,large] [--grad]
//                      [Google Benchmark flags: --benchmark_filter, --benchmark_format=json,
//                       --benchmark_min_time, --benchmark_out, ...]
//   nabla-bench models [--model mlp|cnn|lstm|dcgan32|lstm512|lstm512_cells|all] [--device cpu|cuda] [--steps
//   N]
//                      [--batch N] [--warmup N] [--threads N] [--json]
//   nabla-bench attention [--device cpu|cuda] [--dtype float32] [--seq 128,512,2048] [--head-dim 64,128]
//                      [--batch N] [--heads N] [--reps N] [--threads N] [--grad] [--json]
//
// ops: every op_db entry with benchmark inputs (tests/op_db.cpp) at small (4K elements),
// medium (1M) and large (16M) sizes, reporting time, bytes/s, FLOP/s and the fractions of
// the peaks measured at start in the same run (memcpy or device-to-device copy bandwidth;
// GEMM FLOP/s from OpenBLAS or cuBLAS). On a GPU each iteration is timed with CUDA events
// (manual time), and L2 is flushed before each one at medium and large sizes. --grad also times
// every differentiable entry's forward plus backward, as "<entry>/<size>/grad".
// models: training-step time (forward, backward, optimizer step) of the classic models of
// bench/models.h on random inputs, one line (or one JSON line) per model.
// attention: the fused scaled_dot_product_attention at sequence lengths 128/512/2048, head dims
// 64/128, causal and not: time, FLOP/s and the fraction of the GEMM peak measured in the run
// (bench/compare/attention.py runs the same shapes in PyTorch).
#include <benchmark/benchmark.h>
#include <fmt/ranges.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models.h"
#include "nabla/json.h"
#include "op_db.h"

namespace {

using nabla::Device;
using nabla::Tensor;

struct SizeClass {
  const char* name;
  int64_t elements;
};
constexpr SizeClass kSizes[] = {{"small", 4096}, {"medium", 1 << 20}, {"large", 1 << 24}};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Peak bandwidth (bytes/s) and GEMM FLOP/s measured on this device now, best of a few runs.
struct Peaks {
  double bytes_per_s = 0, flops = 0;
};

Peaks measure_peaks(Device dev) {
  Peaks p;
  const nabla::TensorOptions o = nabla::TensorOptions().device(dev);
  {  // copy bandwidth: read + write of 256 MiB (memcpy on the CPU, a device-to-device copy on a GPU)
    const int64_t n = int64_t{64} << 20;
    Tensor src = nabla::ones({n}, o), dst = nabla::empty({n}, o);
    for (int r = 0; r < 5; ++r) {
      double s = 0;
      if (dev.is_cuda()) {
        nabla::cuda::EventTimer t(dev.index);
        t.start();
        dst.copy_(src);
        s = t.stop() / 1000.0;
      } else {
        const auto t0 = std::chrono::steady_clock::now();
        std::memcpy(dst.data_ptr<float>(), src.data_ptr<float>(),
                    static_cast<std::size_t>(n) * sizeof(float));
        s = seconds_since(t0);
      }
      p.bytes_per_s = std::max(p.bytes_per_s, 2.0 * static_cast<double>(n) * sizeof(float) / s);
    }
  }
  {  // GEMM: float32 square products
    const int64_t m = dev.is_cuda() ? 8192 : 1024;
    const Tensor a = nabla::rand({m, m}, o), b = nabla::rand({m, m}, o);
    Tensor c = nabla::matmul(a, b);
    nabla::cuda::synchronize();
    for (int r = 0; r < 3; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      c = nabla::matmul(a, b);
      nabla::cuda::synchronize();
      p.flops = std::max(p.flops, 2.0 * static_cast<double>(m) * m * m / seconds_since(t0));
    }
  }
  return p;
}

// The benchmarks that failed in this run, with their reasons (filled by the benchmark bodies).
std::vector<std::string>& failures() {
  static std::vector<std::string> f;
  return f;
}

int64_t bytes_of(const std::vector<Tensor>& in, const Tensor& out) {
  int64_t b = out.numel() * static_cast<int64_t>(out.element_size());
  for (const Tensor& t : in) b += t.numel() * static_cast<int64_t>(t.element_size());
  return b;
}

int run_ops(int argc, char** argv) {
  std::string device = "cpu", dtype = "float32", sizes = "small,medium,large";
  bool grad = false;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--grad") {
      grad = true;
      continue;
    }
    auto value = [&](const char* flag) -> const char* {
      const std::string f = std::string(flag) + "=";
      if (a.rfind(f, 0) == 0) return argv[i] + f.size();
      if (a == flag && i + 1 < argc) return argv[++i];
      return nullptr;
    };
    if (const char* v = value("--device"))
      device = v;
    else if (const char* v2 = value("--dtype"))
      dtype = v2;
    else if (const char* v3 = value("--sizes"))
      sizes = v3;
    else
      rest.push_back(argv[i]);
  }
  const Device dev(device);
  if (dev.is_cuda() && !nabla::cuda::is_available()) {
    std::fprintf(stderr, "nabla-bench: --device %s: no CUDA device is available here\n", device.c_str());
    return 2;
  }
  const nabla::ScalarType dt = nabla::dtype_from_name(dtype);
  NABLA_CHECK(nabla::is_floating_point(dt), "nabla-bench: --dtype must be floating-point, got {}", dtype);
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;

  const Peaks peaks = measure_peaks(dev);
  benchmark::AddCustomContext("nabla_device", dev.str());
  benchmark::AddCustomContext("nabla_dtype", dtype);
  benchmark::AddCustomContext("peak_copy_GBps", fmt::format("{:.1f}", peaks.bytes_per_s / 1e9));
  benchmark::AddCustomContext("peak_gemm_GFLOPps", fmt::format("{:.1f}", peaks.flops / 1e9));
  benchmark::AddCustomContext("threads", std::to_string(nabla::get_num_threads()));

  // One benchmark body for every entry and size: inputs made once, then the entry's function
  // timed (CUDA events on a GPU, after an L2 flush at medium and large sizes). With grad, each
  // iteration is the forward plus out.backward(ones) into fresh gradients of the inputs that
  // require grad (differentiable floating inputs not in no_grad_inputs), as a training step
  // after zero_grad(set_to_none) would run it.
  auto body = [dev, dt, peaks](const nabla::testing::OpEntry* entry,
                               std::function<std::vector<Tensor>()> make,
                               const nabla::testing::Sample* sample, bool flush, bool grad) {
    auto run_entry = [=](benchmark::State& state) {
      nabla::manual_seed(0);
      std::vector<Tensor> in;
      for (const Tensor& t : make()) in.push_back((t.is_floating_point() ? t.to(dt) : t).to(dev));
      std::vector<Tensor> leaves;  // the inputs whose gradients backward computes
      if (grad) {
        for (std::size_t i = 0; i < in.size(); ++i) {
          if (in[i].is_floating_point() && !(entry->no_grad_inputs & (1u << i))) {
            in[i].requires_grad_(true);
            leaves.push_back(in[i]);
          }
        }
      }
      std::unique_ptr<nabla::NoGradGuard> no_grad;
      if (!grad) no_grad = std::make_unique<nabla::NoGradGuard>();
      auto forward = [&] {
        return sample != nullptr ? nabla::testing::run_sample(*entry, in, *sample) : entry->fn(in);
      };
      Tensor out = forward();  // warm-up (and the output's size for the counters)
      Tensor grad_out;         // made once, as the caller of backward would hold it
      if (grad) {
        NABLA_CHECK(out.requires_grad(), "nabla-bench ops --grad: {}'s output does not require grad",
                    entry->name);
        grad_out = nabla::ones_like(out);
      }
      auto call = [&] {
        // the previous output goes first, as in PyTorch's timing loop (compare.py), so both
        // hold the same buffers: one more live 4 MiB output cost a 1M relu 30% on this VM
        out = Tensor();
        out = forward();
        if (grad) {
          for (const Tensor& l : leaves) l.set_grad(Tensor());
          out.backward(grad_out);
        }
      };
      call();
      nabla::cuda::synchronize();
      Tensor scrub = flush ? nabla::empty({int64_t{64} << 20}, nabla::TensorOptions().device(dev)) : Tensor();
      std::unique_ptr<nabla::cuda::EventTimer> timer;
      if (dev.is_cuda()) timer = std::make_unique<nabla::cuda::EventTimer>(dev.index);
      for (auto _ : state) {
        if (flush) scrub.fill_(0.0);  // evict the inputs from L2 (256 MiB of writes)
        if (timer) {
          timer->start();
          call();
          state.SetIterationTime(timer->stop() / 1000.0);
        } else {
          call();
        }
      }
      double flops = entry->bench_flops ? entry->bench_flops(in, out)
                                        : entry->flops_per_element * static_cast<double>(out.numel());
      double bytes = static_cast<double>(bytes_of(in, out));
      if (grad) {
        // backward: the usual estimate of twice the forward's FLOPs (exact for matmul and
        // convolution); bytes add the output's gradient and the inputs' gradients written
        flops *= 3.0;
        bytes += static_cast<double>(bytes_of(leaves, grad_out));
      }
      state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
      state.counters["FLOPps"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
      state.counters["bw_frac"] =
          benchmark::Counter(bytes / peaks.bytes_per_s, benchmark::Counter::kIsIterationInvariantRate);
      state.counters["flop_frac"] =
          benchmark::Counter(flops / peaks.flops, benchmark::Counter::kIsIterationInvariantRate);
    };
    return run_entry;
  };
  auto add = [dev](const std::string& name, std::function<void(benchmark::State&)> fn) {
    // A failing entry is reported as failed (with its reason) and the suite goes on, so the
    // JSON is always complete; run_ops exits 1 at the end if any entry failed.
    auto guarded = [name, fn](benchmark::State& state) {
      try {
        fn(state);
      } catch (const std::exception& e) {
        const std::string why = fmt::format("{}: {}", name, e.what());
        failures().push_back(why);
        state.SkipWithError(why.c_str());
      }
    };
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), guarded);
    b->Unit(benchmark::kMicrosecond);
    // GPU: CUDA-event time; CPU: wall time (ops run on several threads, so the calling
    // thread's CPU time would overstate every rate)
    if (dev.is_cuda())
      b->UseManualTime();
    else
      b->UseRealTime();
  };
  std::vector<std::string> sample_only;
  // keeps each entry's samples alive for the benchmarks that point at them
  static std::vector<std::vector<nabla::testing::Sample>> samples;
  samples.reserve(nabla::testing::op_db().size());
  // forward only, then (with --grad, for differentiable entries) forward + backward as "/grad"
  std::vector<bool> modes{false};
  if (grad) modes.push_back(true);
  for (const nabla::testing::OpEntry& e : nabla::testing::op_db()) {
    if (e.bench) {
      for (const SizeClass& sc : kSizes) {
        if (sizes.find(sc.name) == std::string::npos) continue;
        const int64_t n = sc.elements;
        for (const bool g : modes) {
          if (g && !e.differentiable) continue;
          add(fmt::format("{}/{}{}", e.name, sc.name, g ? "/grad" : ""),
              body(
                  &e, [&e, n] { return e.bench(n); }, nullptr, dev.is_cuda() && n >= (1 << 20), g));
        }
      }
      continue;
    }
    // no size-scalable inputs: timed on its first op_db sample, as size "sample"
    samples.push_back(e.samples());
    const std::vector<nabla::testing::Sample>& ss = samples.back();
    if (ss.empty() || sizes.find("small") == std::string::npos) continue;
    sample_only.push_back(e.name);
    const nabla::testing::Sample* s = &ss.front();
    for (const bool g : modes) {
      if (g && !e.differentiable) continue;
      add(fmt::format("{}/sample{}", e.name, g ? "/grad" : ""),
          body(
              &e,
              [s] {
                std::vector<Tensor> in;
                for (const Tensor& t : s->inputs)
                  in.push_back(t.is_floating_point() ? t.to(nabla::kFloat32) : t);
                return in;
              },
              s, /*flush=*/false, g));
    }
  }
  if (!sample_only.empty()) {
    std::fprintf(stderr, "nabla-bench: timed at their op_db sample size only (no size-scalable inputs): %s\n",
                 fmt::format("{}", fmt::join(sample_only, ", ")).c_str());
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!failures().empty()) {
    std::fprintf(stderr, "nabla-bench: %zu benchmark(s) failed:\n", failures().size());
    for (const std::string& f : failures()) std::fprintf(stderr, "  %s\n", f.c_str());
    return 1;
  }
  return 0;
}

int run_models(int argc, char** argv) {
  std::string model = "all", device = "cpu";
  int64_t batch = 0, steps = 0, warmup = 5;
  int threads = 0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--json") {
      json = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "nabla-bench models: %s needs a value\n", f.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    if (f == "--model")
      model = v;
    else if (f == "--device")
      device = v;
    else if (f == "--batch")
      batch = std::atoll(v.c_str());
    else if (f == "--steps")
      steps = std::atoll(v.c_str());
    else if (f == "--warmup")
      warmup = std::atoll(v.c_str());
    else if (f == "--threads")
      threads = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "nabla-bench models: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  const Device dev(device);
  if (dev.is_cuda() && !nabla::cuda::is_available()) {
    std::fprintf(stderr, "nabla-bench: --device %s: no CUDA device is available here\n", device.c_str());
    return 2;
  }
  if (threads > 0) nabla::set_num_threads(threads);
  std::vector<std::string> models;
  if (model == "all")
    models = nabla::bench::model_names();
  else if (nabla::bench::is_model(model))
    models = {model};
  else {
    std::fprintf(
        stderr,
        "nabla-bench models: unknown --model %s (mlp, cnn, lstm, dcgan32, lstm512, lstm512_cells, all)\n",
        model.c_str());
    return 2;
  }
  if (batch < 0 || steps < 0 || warmup < 0) {
    std::fprintf(stderr, "nabla-bench models: --batch, --steps and --warmup must not be negative\n");
    return 2;
  }
  for (const std::string& name : models) {
    nabla::manual_seed(0);
    const int64_t b = batch > 0 ? batch : nabla::bench::default_batch(name, dev);
    const int64_t n = steps > 0 ? steps
                                : (dev.is_cuda() ? (name.rfind("lstm512", 0) == 0 ? 20 : 50)
                                                 : (name == "mlp" || name == "lstm" ? 200
                                                    : name == "cnn"                 ? 20
                                                    : name == "dcgan32"             ? 5
                                                                                    : 1));
    const nabla::testing::Target target{dev, nabla::kFloat32};
    nabla::testing::ParityModel m = nabla::bench::make_model(name, target);
    std::vector<Tensor> data;
    for (const Tensor& t : nabla::bench::make_batch(name, b, 0)) data.push_back(t.to(dev));
    for (int64_t i = 0; i < warmup; ++i) m.step(data);
    nabla::cuda::synchronize();
    std::vector<double> rounds;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < n; ++i) m.step(data);
      nabla::cuda::synchronize();
      rounds.push_back(seconds_since(t0) * 1000.0 / static_cast<double>(n));
    }
    std::sort(rounds.begin(), rounds.end());
    const double ms = rounds[rounds.size() / 2];
    double peak_mb = 0;
    if (dev.is_cuda()) {
      peak_mb = static_cast<double>(nabla::cuda::memory_stats(dev.index).peak) / (1 << 20);
    } else {
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      peak_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB on Linux; the process's peak so far
    }
    if (json) {
      nabla::io::json::Object line;
      line.add("model", name)
          .add("framework", "nabla")
          .add("device", dev.str())
          .add("threads", nabla::get_num_threads())
          .add("batch", b)
          .add_fixed("ms_per_step", ms, 4)
          .add_fixed("samples_per_s", 1000.0 * static_cast<double>(b) / ms, 1)
          .add_fixed("peak_memory_mb", peak_mb, 1);
      std::printf("%s\n", line.str().c_str());
    } else {
      std::printf("%-8s %-6s batch %-4lld %9.3f ms/step %10.1f samples/s  peak %s memory %.1f MiB\n",
                  name.c_str(), dev.str().c_str(), static_cast<long long>(b), ms,
                  1000.0 * static_cast<double>(b) / ms, dev.is_cuda() ? "device" : "process", peak_mb);
    }
    std::fflush(stdout);
  }
  return 0;
}

// The attention benchmark (issue 16): the fused scaled_dot_product_attention at sequence lengths
// 128/512/2048, head dims 64/128, causal and not, forward or (--grad) forward + backward, on
// q, k, v [batch, heads, seq, head_dim]. FLOPs as FlashAttention-2 counts them: the forward's
// two products (Q K^T, P V) of 2 L S E each; forward + backward seven (the backward recomputes
// Q K^T and forms dV, dP, dQ, dK); causal halves both (only the lower triangle is work). The
// fraction is of the float32 GEMM peak measured at start in the same run.
int run_attention(int argc, char** argv) {
  std::string device = "cpu", dtype = "float32", seqs = "128,512,2048", dims = "64,128";
  int64_t batch = 2, heads = 8, reps = 0;
  int threads = 0;
  bool json = false, grad = false;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--json" || f == "--grad") {
      (f == "--json" ? json : grad) = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "nabla-bench attention: %s needs a value\n", f.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    if (f == "--device")
      device = v;
    else if (f == "--dtype")
      dtype = v;
    else if (f == "--seq")
      seqs = v;
    else if (f == "--head-dim")
      dims = v;
    else if (f == "--batch")
      batch = std::atoll(v.c_str());
    else if (f == "--heads")
      heads = std::atoll(v.c_str());
    else if (f == "--reps")
      reps = std::atoll(v.c_str());
    else if (f == "--threads")
      threads = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "nabla-bench attention: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  const auto list = [](const std::string& csv, const char* flag) {
    std::vector<int64_t> out;
    std::size_t at = 0;
    while (at <= csv.size()) {
      const std::size_t comma = std::min(csv.find(',', at), csv.size());
      const int64_t v = std::atoll(csv.substr(at, comma - at).c_str());
      NABLA_CHECK(v > 0, "nabla-bench attention: {} takes positive integers separated by commas, got '{}'",
                  flag, csv);
      out.push_back(v);
      at = comma + 1;
    }
    return out;
  };
  const std::vector<int64_t> seq_list = list(seqs, "--seq"), dim_list = list(dims, "--head-dim");
  NABLA_CHECK(batch > 0 && heads > 0 && reps >= 0,
              "nabla-bench attention: --batch and --heads must be positive and --reps not negative");
  const Device dev(device);
  if (dev.is_cuda() && !nabla::cuda::is_available()) {
    std::fprintf(stderr, "nabla-bench: --device %s: no CUDA device is available here\n", device.c_str());
    return 2;
  }
  if (threads > 0) nabla::set_num_threads(threads);
  const nabla::ScalarType dt = nabla::dtype_from_name(dtype);
  NABLA_CHECK(nabla::is_floating_point(dt), "nabla-bench attention: --dtype must be floating-point, got {}",
              dtype);
  const Peaks peaks = measure_peaks(dev);
  if (!json)
    std::printf("attention on %s, %s, batch %lld x %lld heads, %s; float32 GEMM peak %.1f GFLOP/s\n",
                dev.str().c_str(), dtype.c_str(), static_cast<long long>(batch),
                static_cast<long long>(heads), grad ? "forward + backward" : "forward", peaks.flops / 1e9);
  const nabla::TensorOptions o = nabla::TensorOptions(dt).device(dev);
  for (const int64_t seq : seq_list) {
    for (const int64_t e : dim_list) {
      for (const bool causal : {false, true}) {
        nabla::manual_seed(0);
        Tensor q = nabla::randn({batch, heads, seq, e}, o), k = nabla::randn({batch, heads, seq, e}, o),
               v = nabla::randn({batch, heads, seq, e}, o);
        if (grad) {
          for (Tensor* t : {&q, &k, &v}) t->requires_grad_(true);
        }
        std::unique_ptr<nabla::NoGradGuard> no_grad;
        if (!grad) no_grad = std::make_unique<nabla::NoGradGuard>();
        const Tensor grad_out = grad ? nabla::ones({batch, heads, seq, e}, o) : Tensor();
        auto call = [&] {
          Tensor out = nabla::nn::functional::scaled_dot_product_attention(q, k, v, Tensor(), 0.0, causal);
          if (grad) {
            for (Tensor* t : {&q, &k, &v}) t->set_grad(Tensor());
            out.backward(grad_out);
          }
        };
        const double products = grad ? 2.0 + 5.0 : 2.0;
        const double flops = products * 2.0 * static_cast<double>(batch * heads) * static_cast<double>(seq) *
                             static_cast<double>(seq) * static_cast<double>(e) * (causal ? 0.5 : 1.0);
        call();  // warm-up
        nabla::cuda::synchronize();
        // repetitions: about a second of work on the CPU (at least 3), fixed on a GPU
        const int64_t n = reps > 0        ? reps
                          : dev.is_cuda() ? 20
                                          : std::max<int64_t>(3, static_cast<int64_t>(5e10 / flops));
        std::vector<double> rounds;
        for (int64_t r = 0; r < n; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          call();
          nabla::cuda::synchronize();
          rounds.push_back(seconds_since(t0));
        }
        std::sort(rounds.begin(), rounds.end());
        const double sec = rounds[rounds.size() / 2];
        const double rate = flops / sec;
        if (json) {
          nabla::io::json::Object line;
          line.add("bench", "attention")
              .add("framework", "nabla")
              .add("impl", "fused")
              .add("device", dev.str())
              .add("dtype", dtype)
              .add("pass", grad ? "forward+backward" : "forward")
              .add("threads", nabla::get_num_threads())
              .add("batch", batch)
              .add("heads", heads)
              .add("seq", seq)
              .add("head_dim", e)
              .add("causal", causal ? 1 : 0)
              .add_fixed("ms", sec * 1e3, 4)
              .add_fixed("gflops", rate / 1e9, 2)
              .add_fixed("gemm_peak_fraction", rate / peaks.flops, 4);
          std::printf("%s\n", line.str().c_str());
        } else {
          std::printf("seq %5lld head_dim %4lld %-7s %10.3f ms %9.2f GFLOP/s  %5.1f%% of GEMM peak\n",
                      static_cast<long long>(seq), static_cast<long long>(e), causal ? "causal" : "full",
                      sec * 1e3, rate / 1e9, 100.0 * rate / peaks.flops);
        }
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

void usage(const char* argv0) {
  std::fprintf(
      stderr,
      "usage: %s ops    [--device cpu|cuda] [--dtype float32] [--sizes small,medium,large] "
      "[--grad] [benchmark flags]\n"
      "       %s models [--model mlp|cnn|lstm|dcgan32|lstm512|lstm512_cells|all] [--device "
      "cpu|cuda] [--steps N] [--batch N] "
      "[--warmup N] [--threads N] [--json]\n"
      "       %s attention [--device cpu|cuda] [--dtype float32] [--seq 128,512,2048] [--head-dim 64,128] "
      "[--batch N] [--heads N] [--reps N] [--threads N] [--grad] [--json]\n",
      argv0, argv0, argv0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(argv[0]);
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    // the subcommand's own argv: the program name, then its flags
    std::vector<char*> sub{argv[0]};
    for (int i = 2; i < argc; ++i) sub.push_back(argv[i]);
    if (cmd == "ops") return run_ops(static_cast<int>(sub.size()), sub.data());
    if (cmd == "models") return run_models(static_cast<int>(sub.size()), sub.data());
    if (cmd == "attention") return run_attention(static_cast<int>(sub.size()), sub.data());
    usage(argv[0]);
    return 2;
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "nabla-bench: %s\n", e.what());
    return 1;
  }
}
