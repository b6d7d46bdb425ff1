// CUDA kernels of the unary family and the activation derivatives: the core/math/unary.h
// functors through cuda_map, exactly as cpu_fallback/unary.cpp runs them through cpu_map.
#include "core/math/unary.h"
#include "cuda/kernels/elementwise.cuh"
#include "dispatch/dispatch.h"

namespace nabla::cuda {
namespace {

template <class Fn>
void float_unary(const KernelCall& c, const Fn& fn) {
  visit_float(c.out[0].dtype(), op_name(c.op).data(), [&]<class T>() { cuda_map<T, T>(c.out[0], {c.in[0]}, fn); });
}

template <class Fn>
void numeric_unary(const KernelCall& c, const Fn& fn) {
  visit_numeric(c.out[0].dtype(), op_name(c.op).data(), [&]<class T>() { cuda_map<T, T>(c.out[0], {c.in[0]}, fn); });
}

template <class Fn>
void float_backward(const KernelCall& c, const Fn& fn) {
  visit_float(c.out[0].dtype(), op_name(c.op).data(),
              [&]<class T>() { cuda_map<T, T, T>(c.out[0], {c.in[0], c.in[1]}, fn); });
}

}  // namespace

void neg_kernel(const KernelCall& c) { numeric_unary(c, math::NegFn{}); }
void abs_kernel(const KernelCall& c) { numeric_unary(c, math::AbsFn{}); }
void sign_kernel(const KernelCall& c) { numeric_unary(c, math::SignFn{}); }
void relu_kernel(const KernelCall& c) { numeric_unary(c, math::ReluFn{}); }
void clamp_kernel(const KernelCall& c) {
  numeric_unary(c, math::ClampFn{c.p.s0.to_double(), c.p.s1.to_double(), c.p.has_s0, c.p.has_s1});
}
void exp_kernel(const KernelCall& c) { float_unary(c, math::ExpFn{}); }
void log_kernel(const KernelCall& c) { float_unary(c, math::LogFn{}); }
void log1p_kernel(const KernelCall& c) { float_unary(c, math::Log1pFn{}); }
void expm1_kernel(const KernelCall& c) { float_unary(c, math::Expm1Fn{}); }
void sqrt_kernel(const KernelCall& c) { float_unary(c, math::SqrtFn{}); }
void rsqrt_kernel(const KernelCall& c) { float_unary(c, math::RsqrtFn{}); }
void sin_kernel(const KernelCall& c) { float_unary(c, math::SinFn{}); }
void cos_kernel(const KernelCall& c) { float_unary(c, math::CosFn{}); }
void tanh_kernel(const KernelCall& c) { float_unary(c, math::TanhFn{}); }
void sigmoid_kernel(const KernelCall& c) { float_unary(c, math::SigmoidFn{}); }
void leaky_relu_kernel(const KernelCall& c) { float_unary(c, math::LeakyReluFn{c.p.s0.to_double()}); }
void elu_kernel(const KernelCall& c) { float_unary(c, math::EluFn{c.p.s0.to_double()}); }
void gelu_kernel(const KernelCall& c) { float_unary(c, math::GeluFn{}); }
void softplus_kernel(const KernelCall& c) { float_unary(c, math::SoftplusFn{c.p.s0.to_double(), c.p.s1.to_double()}); }
void reciprocal_kernel(const KernelCall& c) { float_unary(c, math::ReciprocalFn{}); }
void pow_scalar_kernel(const KernelCall& c) {
  const ScalarType t = c.out[0].dtype();
  if (is_floating_point(t)) {
    float_unary(c, math::PowScalarFn{c.p.s0.to_double()});
    return;
  }
  const math::IntPowScalarFn fn{c.p.s0.to_int()};
  visit_numeric(t, "pow", [&]<class T>() {
    if constexpr (std::is_integral_v<T>) cuda_map<T, T>(c.out[0], {c.in[0]}, fn);
  });
}

void relu_backward_kernel(const KernelCall& c) { float_backward(c, math::ReluBackwardFn{}); }
void leaky_relu_backward_kernel(const KernelCall& c) { float_backward(c, math::LeakyReluBackwardFn{c.p.s0.to_double()}); }
void elu_backward_kernel(const KernelCall& c) { float_backward(c, math::EluBackwardFn{c.p.s0.to_double()}); }
void gelu_backward_kernel(const KernelCall& c) { float_backward(c, math::GeluBackwardFn{}); }
void softplus_backward_kernel(const KernelCall& c) {
  float_backward(c, math::SoftplusBackwardFn{c.p.s0.to_double(), c.p.s1.to_double()});
}
void sigmoid_backward_kernel(const KernelCall& c) { float_backward(c, math::SigmoidBackwardFn{}); }
void tanh_backward_kernel(const KernelCall& c) { float_backward(c, math::TanhBackwardFn{}); }

}  // namespace nabla::cuda
