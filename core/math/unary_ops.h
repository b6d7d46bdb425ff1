// The kernel table of the unary family (ops.def's unary ops and activation derivatives): for
// each op its dtype class (core/math/elementwise_ops.h), its typed parameters
// (ops/params_unary.h) and the core/math/unary.h functor built from them (`p`). Both backends
// instantiate it with their loop, NABLA_UNARY_KERNELS(CpuLoop) in cpu_fallback/unary.cpp and
// NABLA_UNARY_KERNELS(CudaLoop) in cuda/kernels/unary.cu, which defines `<name>_kernel` for
// every row: adding a unary op adds a row here and touches no backend file.
#pragma once

#include "core/math/elementwise_ops.h"
#include "core/math/unary.h"
#include "ops/params_unary.h"

namespace nabla::elementwise {

// An absent bound is never read (its has_ flag is false).
inline math::ClampFn clamp_fn(const ClampParams& p) {
  return {p.min ? p.min->to_double() : 0.0, p.max ? p.max->to_double() : 0.0, p.min.has_value(),
          p.max.has_value()};
}

// Integer tensors take only integral exponents (the front end checks); a floating exponent is
// not converted to int64, which is undefined for inf, NaN and large values.
inline math::PowScalarFn pow_scalar_fn(const PowScalarParams& p) {
  return {p.exponent.to_double(), p.exponent.is_floating_point() ? 0 : p.exponent.to_int()};
}

}  // namespace nabla::elementwise

// clang-format off
#define NABLA_UNARY_TABLE(X, L)                                                                        \
  X(L, neg,                 numeric_unary,  NoParams,        math::NegFn{})                            \
  X(L, abs,                 numeric_unary,  NoParams,        math::AbsFn{})                            \
  X(L, sign,                numeric_unary,  NoParams,        math::SignFn{})                           \
  X(L, relu,                numeric_unary,  NoParams,        math::ReluFn{})                           \
  X(L, clamp,               numeric_unary,  ClampParams,     elementwise::clamp_fn(p))                 \
  X(L, pow_scalar,          numeric_unary,  PowScalarParams, elementwise::pow_scalar_fn(p))            \
  X(L, exp,                 float_unary,    NoParams,        math::ExpFn{})                            \
  X(L, log,                 float_unary,    NoParams,        math::LogFn{})                            \
  X(L, log1p,               float_unary,    NoParams,        math::Log1pFn{})                          \
  X(L, expm1,               float_unary,    NoParams,        math::Expm1Fn{})                          \
  X(L, sqrt,                float_unary,    NoParams,        math::SqrtFn{})                           \
  X(L, rsqrt,               float_unary,    NoParams,        math::RsqrtFn{})                          \
  X(L, sin,                 float_unary,    NoParams,        math::SinFn{})                            \
  X(L, cos,                 float_unary,    NoParams,        math::CosFn{})                            \
  X(L, tanh,                float_unary,    NoParams,        math::TanhFn{})                           \
  X(L, sigmoid,             float_unary,    NoParams,        math::SigmoidFn{})                        \
  X(L, leaky_relu,          float_unary,    LeakyReluParams, math::LeakyReluFn{p.negative_slope})      \
  X(L, elu,                 float_unary,    EluParams,       math::EluFn{p.alpha})                     \
  X(L, gelu,                float_unary,    NoParams,        math::GeluFn{})                           \
  X(L, silu,                float_unary,    NoParams,        math::SiluFn{})                           \
  X(L, softplus,            float_unary,    SoftplusParams,  math::SoftplusFn{p.beta, p.threshold})    \
  X(L, reciprocal,          float_unary,    NoParams,        math::ReciprocalFn{})                     \
  X(L, relu_backward,       float_backward, NoParams,        math::ReluBackwardFn{})                   \
  X(L, leaky_relu_backward, float_backward, LeakyReluParams, math::LeakyReluBackwardFn{p.negative_slope}) \
  X(L, elu_backward,        float_backward, EluParams,       math::EluBackwardFn{p.alpha})             \
  X(L, gelu_backward,       float_backward, NoParams,        math::GeluBackwardFn{})                   \
  X(L, silu_backward,       float_backward, NoParams,        math::SiluBackwardFn{})                   \
  X(L, softplus_backward,   float_backward, SoftplusParams,  math::SoftplusBackwardFn{p.beta, p.threshold}) \
  X(L, sigmoid_backward,    float_backward, NoParams,        math::SigmoidBackwardFn{})                \
  X(L, tanh_backward,       float_backward, NoParams,        math::TanhBackwardFn{})
// clang-format on

/// Defines `<name>_kernel` for every unary op, running through Loop.
#define NABLA_UNARY_KERNELS(Loop) NABLA_UNARY_TABLE(NABLA_ELEMENTWISE_KERNEL, Loop)
