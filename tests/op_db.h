// op_db: every op of ops.def described once, for the table-driven tests (gradcheck,
// float32-vs-float64 and 16-bit consistency, coverage) and, later, CUDA parity and the op
// benchmarks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dispatch/op.h"
#include "nabla/nabla.h"

namespace nabla::testing {

/// One set of inputs for an op. Floating inputs are float64 masters: a test converts them to
/// the dtype it checks. `prep` (optional) turns the inputs into the layout under test
/// (a transpose, a slice, an expand) inside the differentiated function.
struct Sample {
  using Prep = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
  std::string desc;
  std::vector<Tensor> inputs;
  Prep prep;
  bool gradcheck = true;  // false for edge-value samples (kinks, overflow) checked by value only

  Sample(std::string d, std::vector<Tensor> in, Prep p = nullptr, bool check_grad = true)
      : desc(std::move(d)), inputs(std::move(in)), prep(std::move(p)), gradcheck(check_grad) {}
};

struct OpEntry {
  std::string name;
  std::vector<Op> covers;  // the ops.def primitives this entry drives
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  std::function<std::vector<Sample>()> samples;
  bool differentiable = true;
  uint32_t no_grad_inputs = 0;                // bit i: input i is not differentiated (class weights, ...)
  bool half_ok = true;                        // also compare float16 / bfloat16 against float64
  double atol = 1e-5, rtol = 1e-4;            // float32 vs float64
  double half_atol = 2e-2, half_rtol = 2e-2;  // float16 / bfloat16 vs float64
  double grad_atol = 1e-5, grad_rtol = 1e-3;  // gradcheck in float64
  /// gradgradcheck in float64 too (false: a sample sits on a kink of the first derivative)
  bool gradgradcheck = true;
  double flops_per_element = 1.0;  // per output element, for the op benchmarks
  /// Inputs for the op benchmarks (nabla-bench ops) with about n elements in the main input;
  /// unset: the entry is not benchmarked.
  std::function<std::vector<Tensor>(int64_t n)> bench;
  /// FLOPs of one call on bench inputs (unset: flops_per_element x output elements).
  std::function<double(const std::vector<Tensor>& inputs, const Tensor& output)> bench_flops;
};

const std::vector<OpEntry>& op_db();

/// Runs a sample: fn(prep(inputs)).
Tensor run_sample(const OpEntry& e, const std::vector<Tensor>& inputs, const Sample& s);

}  // namespace nabla::testing
