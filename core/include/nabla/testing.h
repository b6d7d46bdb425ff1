// nabla::testing: comparing tensors across devices and dtypes, and running a model on two
// targets in lockstep (the library behind the nabla-parity tool). Include it explicitly:
// nabla.h does not, so that nabla::testing never shadows GoogleTest's ::testing in code
// written inside namespace nabla.
//
//   auto s = nabla::testing::compare(gpu_out, cpu_out);   // max abs/rel error, ULPs, ...
//
//   nabla::testing::ParityOptions o;  o.steps = 5;
//   auto report = nabla::testing::run_parity(make_model, make_batch,
//                                            nabla::testing::Target::parse("cuda:float32"),
//                                            nabla::testing::Target::parse("cpu:float64"), o);
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/tensor.h"

namespace nabla::testing {

/// An element is within tolerance when |a - b| <= atol + rtol * |b| (b is the reference);
/// NaN matches NaN and an infinity matches the same infinity.
struct CompareOptions {
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct CompareStats {
  int64_t numel = 0;
  double max_abs = 0;  ///< largest |a - b|
  double max_rel = 0;  ///< largest |a - b| / |b| (over elements with b != 0)
  double mean_abs = 0;
  int64_t max_ulp = 0;  ///< largest distance in float32 units in the last place (both rounded to float32)
  int64_t worst = -1;   ///< flat index of the element furthest beyond tolerance (or of max_abs)
  int64_t beyond = 0;   ///< elements beyond tolerance
  bool shape_mismatch = false;
  bool ok = true;  ///< same shape and every element within tolerance
};

/// Compares a with the reference b, on any devices and floating dtypes (both are read as
/// float64 on the CPU). Shapes must be equal (a mismatch is reported, not thrown).
CompareStats compare(const Tensor& a, const Tensor& b, const CompareOptions& options = {});

/// Where a model runs: a device and a floating-point dtype, written "cuda:float32",
/// "cpu:float64", "cuda:1:bfloat16".
struct Target {
  Device device;
  ScalarType dtype = kFloat32;
  /// Throws nabla::Error on a malformed spec or a non-floating dtype.
  static Target parse(const std::string& spec);
  std::string str() const;
};

/// One instance of a model for a parity run: its root modules by name (hooks are put on
/// every submodule) and one training step (forward, backward, optimizer step) on a batch.
struct ParityModel {
  std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> modules;
  std::function<void(const std::vector<Tensor>& batch)> step;
};
/// Builds the model on a target (modules already moved to its device and dtype).
using ParityFactory = std::function<ParityModel(const Target&)>;
/// The batch of step i as CPU tensors; floating ones are converted to each target's dtype.
using BatchFn = std::function<std::vector<Tensor>(int64_t step)>;

struct ParityOptions {
  int64_t steps = 3;
  CompareOptions tolerance;
  uint64_t seed = 0;         ///< manual_seed before each model is built
  std::string dump_path;     ///< where the first diverging pair goes (safetensors); empty: nowhere
  std::FILE* out = nullptr;  ///< the table (stdout when null)
  bool verbose = false;      ///< every step's full table, not only the first and the diverging one
};

/// One compared tensor of one step.
struct ParityRow {
  int64_t step = 0;
  std::string
      name;  ///< the module path for outputs ("path#k" for its k-th call after the first), else the parameter
  std::string kind;  ///< "output", "d_out" (gradient of a module's output), "grad" or "param"
  Shape shape;
  CompareStats stats;
};

struct ParityReport {
  bool ok = true;
  int64_t first_bad_step = -1;  ///< 1-based
  std::string first_bad;        ///< "kind name" of the first tensor beyond tolerance
  std::vector<ParityRow> rows;
};

/// Builds the model on `a` and on `b` (b starts from a copy of a's weights), then runs
/// `steps` training steps on both with the same batches, comparing after every step every
/// module's output (forward hooks) and its gradient (backward hooks), every parameter's
/// gradient and every parameter after the optimizer step (b is the reference). Prints the table; dumps both
/// tensors of the first divergence. Errors running either target propagate as nabla::Error.
ParityReport run_parity(const ParityFactory& make, const BatchFn& batch, const Target& a, const Target& b,
                        const ParityOptions& options = {});

}  // namespace nabla::testing
