// nabla-parity: runs a classic model on two targets in lockstep and compares them tensor by
// tensor after every training step (nabla::testing::run_parity does the work; a user's own
// model goes through that API).
//
//   nabla-parity [--model mlp|cnn|lstm|dcgan32] [--a cuda:float32] [--b cpu:float32] [--steps N]
//                [--batch N] [--atol F] [--rtol F] [--seed S] [--dump FILE] [--verbose]
//
// Exit status: 0 when every tensor of every step is within tolerance, 1 on a divergence
// (its two tensors are written to --dump), 2 when a target cannot run here or the command
// line is wrong.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "models.h"

namespace {

void usage(const char* argv0) {
  std::fprintf(
      stderr,
      "usage: %s [--model mlp|cnn|lstm|dcgan32] [--a DEVICE:DTYPE] [--b DEVICE:DTYPE] [--steps N] [--batch "
      "N]\n"
      "          [--atol F] [--rtol F] [--seed S] [--dump FILE] [--verbose]\n"
      "  defaults: --model mlp --a cuda:float32 --b cpu:float32 --steps 3, batch the model's default,\n"
      "  tolerances by the coarser dtype (float64 1e-10/1e-7, float32 1e-4/1e-3, 16-bit 5e-2/5e-2)\n",
      argv0);
}

double coarse_tol(nabla::ScalarType t, bool atol) {
  if (t == nabla::kFloat64) return atol ? 1e-10 : 1e-7;
  if (t == nabla::kFloat32) return atol ? 1e-4 : 1e-3;
  return 5e-2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "mlp", a_spec = "cuda:float32", b_spec = "cpu:float32",
              dump = "nabla_parity_divergence.safetensors";
  int64_t steps = 3, batch = 0;
  double atol = -1, rtol = -1;
  uint64_t seed = 0;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--verbose") {
      verbose = true;
      continue;
    }
    if (f == "--help" || f == "-h" || i + 1 >= argc) {
      usage(argv[0]);
      return 2;
    }
    const std::string v = argv[++i];
    char* end = nullptr;
    if (f == "--model")
      model = v;
    else if (f == "--a")
      a_spec = v;
    else if (f == "--b")
      b_spec = v;
    else if (f == "--dump")
      dump = v;
    else if (f == "--steps")
      steps = std::strtoll(v.c_str(), &end, 10);
    else if (f == "--batch")
      batch = std::strtoll(v.c_str(), &end, 10);
    else if (f == "--seed")
      seed = std::strtoull(v.c_str(), &end, 10);
    else if (f == "--atol")
      atol = std::strtod(v.c_str(), &end);
    else if (f == "--rtol")
      rtol = std::strtod(v.c_str(), &end);
    else {
      std::fprintf(stderr, "nabla-parity: unknown flag %s\n", f.c_str());
      usage(argv[0]);
      return 2;
    }
    if (end != nullptr && (*end != '\0' || v.empty())) {
      std::fprintf(stderr, "nabla-parity: bad value '%s' for %s\n", v.c_str(), f.c_str());
      return 2;
    }
  }
  if (!nabla::bench::is_model(model) || steps < 1 || batch < 0) {
    std::fprintf(
        stderr,
        "nabla-parity: need a known --model (mlp, cnn, lstm, dcgan32), --steps >= 1 and --batch >= 0\n");
    return 2;
  }
  nabla::testing::Target a, b;
  try {
    a = nabla::testing::Target::parse(a_spec);
    b = nabla::testing::Target::parse(b_spec);
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "nabla-parity: %s\n", e.what());
    return 2;
  }
  for (const nabla::testing::Target* t : {&a, &b}) {
    if (t->device.is_cuda() &&
        (!nabla::cuda::is_available() || t->device.index >= nabla::cuda::device_count())) {
      std::fprintf(stderr, "nabla-parity: target %s cannot run here: %s\n", t->str().c_str(),
                   nabla::cuda::is_available()
                       ? "no such GPU"
                       : "no CUDA device is available (nabla::cuda::is_available() is false)");
      return 2;
    }
  }
  // tolerances follow the coarser of the two dtypes (its precision bounds the agreement)
  const nabla::ScalarType coarser =
      nabla::is_floating_point(a.dtype) && a.dtype == nabla::kFloat64 ? b.dtype : a.dtype;
  nabla::testing::ParityOptions o;
  o.steps = steps;
  o.seed = seed;
  o.verbose = verbose;
  o.dump_path = dump;
  o.tolerance.atol = atol >= 0 ? atol : coarse_tol(coarser, /*atol=*/true);
  o.tolerance.rtol = rtol >= 0 ? rtol : coarse_tol(coarser, /*atol=*/false);
  const int64_t n = batch > 0 ? batch
                              : std::min(nabla::bench::default_batch(model, a.device),
                                         nabla::bench::default_batch(model, b.device));
  try {
    const auto report = nabla::testing::run_parity(
        [&](const nabla::testing::Target& t) { return nabla::bench::make_model(model, t); },
        [&](int64_t step) {
          return nabla::bench::make_batch(model, n, seed * 1000003 + static_cast<uint64_t>(step));
        },
        a, b, o);
    return report.ok ? 0 : 1;
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "nabla-parity: %s\n", e.what());
    return 2;
  }
}
