// The reduce family's op -> reducer table, written once for both backends' reduction loops
// (cpu_fallback/reduce.cpp, cuda/kernels/reduce.cu): a backend names its accumulator type and
// its loop, and visit_reducer supplies the input type, the output type and the reducer of the
// call's op. Each row of NABLA_REDUCE_OPS is one reduce op of ops.def:
//   X(name, inputs, out, reducer)
//   inputs   the input dtypes it takes: dtype (all), numeric (all but bool), float
//   out      its output element type for input type T (what the front end allocated)
//   reducer  its core/math/reduce.h reducer, built from the call's ReduceParams p, with A the
//            backend's accumulator for T and V = compute_t<T>: max, min and their indices
//            compare values exactly in V, the others accumulate in A
// Each backend defines `<name>_kernel` for every row with NABLA_DEFINE_REDUCE_KERNELS; the
// linker checks the rows against the kernels register_cpu/register_cuda declare for ops.def.
#pragma once

#include <type_traits>

#include "core/math/reduce.h"
#include "dispatch/dispatch.h"
#include "dispatch/visit.h"
#include "ops/params_reduce.h"

#define NABLA_REDUCE_OPS(X)                                         \
  X(sum, dtype, sum_out_t<T>, SumReducer<A>{})                      \
  X(prod, dtype, sum_out_t<T>, ProdReducer<A>{})                    \
  X(mean, float, T, MeanReducer<A>{})                               \
  X(amax, numeric, T, MaxReducer<V>{lowest<V>()})                   \
  X(amin, numeric, T, MinReducer<V>{highest<V>()})                  \
  X(argmax, numeric, int64_t, (ArgReducer<V, true>{lowest<V>()}))   \
  X(argmin, numeric, int64_t, (ArgReducer<V, false>{highest<V>()})) \
  X(var, float, T, (VarReducer<A, false>{p.correction}))            \
  X(std, float, T, (VarReducer<A, true>{p.correction}))             \
  X(logsumexp, float, T, LogSumExpReducer<A>{})                     \
  X(norm, float, T, NormReducer<A>{p.p})

/// Defines, in the enclosing (backend) namespace, `<name>_kernel(c)` of every reduce op as a
/// call of that backend's one reduction kernel, `reduce_kernel(c)`.
#define NABLA_DEFINE_REDUCE_KERNELS() NABLA_REDUCE_OPS(NABLA_REDUCE_KERNEL_DEFINITION)
#define NABLA_REDUCE_KERNEL_DEFINITION(name, ...) \
  void name##_kernel(const KernelCall& c) { reduce_kernel(c); }

namespace nabla::math {

/// Output element type of sum and prod: int64 for integer and bool inputs (ops/reduce.cpp).
template <class T>
using sum_out_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, T, int64_t>;

/// The row of one op: Out<T> and make<A, V>(p).
template <Op>
struct ReduceOp;

#define NABLA_REDUCE_ROW(name, inputs, out, reducer)           \
  template <>                                                  \
  struct ReduceOp<Op::name> {                                  \
    template <class T>                                         \
    using Out = out;                                           \
    template <class A, class V>                                \
    static auto make([[maybe_unused]] const ReduceParams& p) { \
      return reducer;                                          \
    }                                                          \
  };
NABLA_REDUCE_OPS(NABLA_REDUCE_ROW)
#undef NABLA_REDUCE_ROW

/// Calls body.template operator()<T, O>(reducer) for the call's reduce op (p: its parameters,
/// ReduceParams::from(c.p)): T the input's element type, O the output's, the reducer
/// accumulating in Acc<T>.
template <template <class> class Acc, class Body>
void visit_reducer(const KernelCall& c, const ReduceParams& p, const Body& body) {
  const ScalarType in = c.in[0].dtype(), out = c.out[0].dtype();
  switch (c.op) {
#define NABLA_REDUCE_CASE(name, inputs, out_type, reducer)                                   \
  case Op::name:                                                                             \
    return visit_##inputs(in, #name, [&]<class T>() {                                        \
      using R = ReduceOp<Op::name>;                                                          \
      using O = R::Out<T>;                                                                   \
      NABLA_INTERNAL_ASSERT(out == dtype_of<O>(), "{}: output dtype {} for input {}", #name, \
                            dtype_name(out), dtype_name(in));                                \
      body.template operator()<T, O>(R::make<Acc<T>, compute_t<T>>(p));                      \
    });
    NABLA_REDUCE_OPS(NABLA_REDUCE_CASE)
#undef NABLA_REDUCE_CASE
    default:
      break;
  }
  NABLA_FAIL("{}: not a reduce op", op_name(c.op));
}

}  // namespace nabla::math
