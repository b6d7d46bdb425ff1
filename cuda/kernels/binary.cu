// CUDA kernels of the binary family: the core/math/binary.h functors through cuda_map, as
// cpu_fallback/binary.cpp runs them through cpu_map.
#include "core/math/binary.h"
#include "cuda/kernels/elementwise.cuh"
#include "dispatch/dispatch.h"

namespace nabla::cuda {
namespace {

template <class Fn>
void arith(const KernelCall& c, const Fn& fn) {
  visit_numeric(c.out[0].dtype(), op_name(c.op).data(),
                [&]<class T>() { cuda_map<T, T, T>(c.out[0], {c.in[0], c.in[1]}, fn); });
}

template <class Fn>
void compare(const KernelCall& c, const Fn& fn) {
  visit_dtype(c.in[0].dtype(), op_name(c.op).data(),
              [&]<class T>() { cuda_map<bool, T, T>(c.out[0], {c.in[0], c.in[1]}, fn); });
}

}  // namespace

void add_kernel(const KernelCall& c) { arith(c, math::AddFn{c.p.s0.to_double()}); }
void sub_kernel(const KernelCall& c) { arith(c, math::SubFn{c.p.s0.to_double()}); }
void mul_kernel(const KernelCall& c) { arith(c, math::MulFn{}); }
void div_kernel(const KernelCall& c) { arith(c, math::DivFn{}); }
void pow_kernel(const KernelCall& c) { arith(c, math::PowFn{}); }
void maximum_kernel(const KernelCall& c) { arith(c, math::MaximumFn{}); }
void minimum_kernel(const KernelCall& c) { arith(c, math::MinimumFn{}); }
void eq_kernel(const KernelCall& c) { compare(c, math::EqFn{}); }
void ne_kernel(const KernelCall& c) { compare(c, math::NeFn{}); }
void lt_kernel(const KernelCall& c) { compare(c, math::LtFn{}); }
void le_kernel(const KernelCall& c) { compare(c, math::LeFn{}); }
void gt_kernel(const KernelCall& c) { compare(c, math::GtFn{}); }
void ge_kernel(const KernelCall& c) { compare(c, math::GeFn{}); }

void where_kernel(const KernelCall& c) {
  visit_dtype(c.out[0].dtype(), "where", [&]<class T>() {
    cuda_map<T, bool, T, T>(c.out[0], {c.in[0], c.in[1], c.in[2]}, math::WhereFn{});
  });
}

}  // namespace nabla::cuda
