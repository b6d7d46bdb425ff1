// The kernel glue of the elementwise families, written once for both backends: how an op's
// dtype class picks the element types and operands it runs a functor over, and the macro that
// turns a row of a family's table (core/math/unary_ops.h, binary_ops.h) into the op's
// `<name>_kernel`. A backend instantiates a table with its own loop, a type with
//   template <class Out, class... In, class F>
//   static void map(const Tensor& out, std::array<Tensor, sizeof...(In)> inputs, const F& f);
// (cpu::CpuLoop over cpu_map, cuda::CudaLoop over cuda_map), inside its own namespace, where
// register_cpu.cpp / cuda/register_cuda.cpp expect the kernels.
#pragma once

#include <array>

#include "dispatch/dispatch.h"
#include "dispatch/visit.h"

namespace nabla {

/// The typed parameters of an op that takes none.
struct NoParams {
  static NoParams from(const OpParams&) { return {}; }
};

namespace elementwise {

// The dtype classes a table row names. T is the element type of the output (and of the inputs
// unless said otherwise); the front end has already converted the inputs to it.

/// Float-only ops of one input: the front end has already promoted integer inputs.
template <class Loop, class Fn>
void float_unary(const KernelCall& c, const Fn& fn) {
  visit_float(c.out[0].dtype(), op_name(c.op).data(),
              [&]<class T>() { Loop::template map<T, T>(c.out[0], {c.in[0]}, fn); });
}

/// Ops of one input that also keep integer dtypes (neg, abs, sign, relu, clamp, pow_scalar).
template <class Loop, class Fn>
void numeric_unary(const KernelCall& c, const Fn& fn) {
  visit_numeric(c.out[0].dtype(), op_name(c.op).data(),
                [&]<class T>() { Loop::template map<T, T>(c.out[0], {c.in[0]}, fn); });
}

/// Activation derivatives: (grad, saved) -> grad_input, floats only.
template <class Loop, class Fn>
void float_backward(const KernelCall& c, const Fn& fn) {
  visit_float(c.out[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    Loop::template map<T, T, T>(c.out[0], {c.in[0], c.in[1]}, fn);
  });
}

/// Arithmetic on two inputs of the output's dtype (every dtype but bool).
template <class Loop, class Fn>
void arith(const KernelCall& c, const Fn& fn) {
  visit_numeric(c.out[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    Loop::template map<T, T, T>(c.out[0], {c.in[0], c.in[1]}, fn);
  });
}

/// Comparisons: two inputs of one dtype, a bool output.
template <class Loop, class Fn>
void compare(const KernelCall& c, const Fn& fn) {
  visit_dtype(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    Loop::template map<bool, T, T>(c.out[0], {c.in[0], c.in[1]}, fn);
  });
}

/// (bool cond, a, b) with a and b of the output's dtype.
template <class Loop, class Fn>
void select(const KernelCall& c, const Fn& fn) {
  visit_dtype(c.out[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    Loop::template map<T, bool, T, T>(c.out[0], {c.in[0], c.in[1], c.in[2]}, fn);
  });
}

}  // namespace elementwise
}  // namespace nabla

/// One table row as a kernel: `p` is the op's typed parameters, read back from the call, and
/// the functor (the trailing argument, an expression of p) runs over the dtype class's
/// operands through Loop.
#define NABLA_ELEMENTWISE_KERNEL(Loop, name, dtypes, Params, ...) \
  void name##_kernel(const KernelCall& c) {                       \
    [[maybe_unused]] const Params p = Params::from(c.p);          \
    ::nabla::elementwise::dtypes<Loop>(c, __VA_ARGS__);           \
  }
