// The kernel table of the binary family (ops.def's binary ops): for each op its dtype class
// (core/math/elementwise_ops.h), its typed parameters (ops/params_binary.h) and the
// core/math/binary.h functor built from them (`p`). Both backends instantiate it with their
// loop, NABLA_BINARY_KERNELS(CpuLoop) in cpu_fallback/binary.cpp and
// NABLA_BINARY_KERNELS(CudaLoop) in cuda/kernels/binary.cu, which defines `<name>_kernel` for
// every row: adding a binary op adds a row here and touches no backend file.
#pragma once

#include "core/math/binary.h"
#include "core/math/elementwise_ops.h"
#include "ops/params_binary.h"

// clang-format off
#define NABLA_BINARY_TABLE(X, L)                                                  \
  X(L, add,     arith,   AlphaParams, math::AddFn{p.alpha.to_double()})           \
  X(L, sub,     arith,   AlphaParams, math::SubFn{p.alpha.to_double()})           \
  X(L, mul,     arith,   NoParams,    math::MulFn{})                              \
  X(L, div,     arith,   NoParams,    math::DivFn{})                              \
  X(L, pow,     arith,   NoParams,    math::PowFn{})                              \
  X(L, maximum, arith,   NoParams,    math::MaximumFn{})                          \
  X(L, minimum, arith,   NoParams,    math::MinimumFn{})                          \
  X(L, eq,      compare, NoParams,    math::EqFn{})                               \
  X(L, ne,      compare, NoParams,    math::NeFn{})                               \
  X(L, lt,      compare, NoParams,    math::LtFn{})                               \
  X(L, le,      compare, NoParams,    math::LeFn{})                               \
  X(L, gt,      compare, NoParams,    math::GtFn{})                               \
  X(L, ge,      compare, NoParams,    math::GeFn{})                               \
  X(L, where,   select,  NoParams,    math::WhereFn{})
// clang-format on

/// Defines `<name>_kernel` for every binary op, running through Loop.
#define NABLA_BINARY_KERNELS(Loop) NABLA_BINARY_TABLE(NABLA_ELEMENTWISE_KERNEL, Loop)
