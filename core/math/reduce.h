// Reduction functors shared by the CPU reduction loop (cpu_fallback/reduce.cpp) and the CUDA
// reduction kernels. Each names its accumulator (acc) and input value type (value) and has
// four steps:
//   init() -> acc;  step(acc, value x, index) -> acc;  combine(acc, acc) -> acc;
//   finish(acc, count) -> result.
// combine lets both backends split a reduction into partial results merged in a fixed
// order, which keeps results bitwise repeatable.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/math/scalar_math.h"
#include "core/math/softmax.h"

namespace nabla::math {

/// The identities of max and min: -inf and +inf for floats, the type's minimum and maximum
/// for integers. Written out rather than taken from std::numeric_limits, whose members are
/// host-only functions under nvcc.
template <class V>
NABLA_HOST_DEVICE constexpr V highest() {
  if constexpr (std::is_floating_point_v<V>) {
    return static_cast<V>(INFINITY);
  } else if constexpr (std::is_signed_v<V>) {
    using U = std::make_unsigned_t<V>;
    return static_cast<V>(static_cast<U>(~U(0)) >> 1);
  } else {
    return static_cast<V>(~V(0));
  }
}
template <class V>
NABLA_HOST_DEVICE constexpr V lowest() {
  if constexpr (std::is_floating_point_v<V>) {
    return -static_cast<V>(INFINITY);
  } else if constexpr (std::is_signed_v<V>) {
    return static_cast<V>(-highest<V>() - 1);
  } else {
    return V(0);
  }
}

template <class A>
struct SumReducer {
  using acc = A;
  using value = A;
  NABLA_HOST_DEVICE A init() const { return A(0); }
  NABLA_HOST_DEVICE A step(A a, A x, int64_t) const { return static_cast<A>(a + x); }
  NABLA_HOST_DEVICE A combine(A a, A b) const { return static_cast<A>(a + b); }
  NABLA_HOST_DEVICE A finish(A a, int64_t) const { return a; }
};

template <class A>
struct MeanReducer : SumReducer<A> {
  NABLA_HOST_DEVICE A finish(A a, int64_t n) const { return a / static_cast<A>(n); }
};

template <class A>
struct ProdReducer {
  using acc = A;
  using value = A;
  NABLA_HOST_DEVICE A init() const { return A(1); }
  NABLA_HOST_DEVICE A step(A a, A x, int64_t) const { return static_cast<A>(a * x); }
  NABLA_HOST_DEVICE A combine(A a, A b) const { return static_cast<A>(a * b); }
  NABLA_HOST_DEVICE A finish(A a, int64_t) const { return a; }
};

// NaN wins, as torch.amax. `lowest` is -inf for floats, the type's minimum for integers.
template <class A>
struct MaxReducer {
  using acc = A;
  using value = A;
  A lowest;
  NABLA_HOST_DEVICE A init() const { return lowest; }
  NABLA_HOST_DEVICE A step(A a, A x, int64_t) const { return (m::isnan(x) || x > a) ? x : a; }
  NABLA_HOST_DEVICE A combine(A a, A b) const { return (m::isnan(a) || a >= b) ? a : b; }
  NABLA_HOST_DEVICE A finish(A a, int64_t) const { return a; }
};

template <class A>
struct MinReducer {
  using acc = A;
  using value = A;
  A highest;
  NABLA_HOST_DEVICE A init() const { return highest; }
  NABLA_HOST_DEVICE A step(A a, A x, int64_t) const { return (m::isnan(x) || x < a) ? x : a; }
  NABLA_HOST_DEVICE A combine(A a, A b) const { return (m::isnan(a) || a <= b) ? a : b; }
  NABLA_HOST_DEVICE A finish(A a, int64_t) const { return a; }
};

template <class A>
struct ValueIndex {
  A value;
  int64_t index;
};

// First index of the maximum; NaN counts as the maximum (as torch.argmax).
template <class A, bool kMax>
struct ArgReducer {
  using acc = ValueIndex<A>;
  using value = A;
  A sentinel;  // lowest for argmax, highest for argmin
  NABLA_HOST_DEVICE acc init() const { return {sentinel, -1}; }
  NABLA_HOST_DEVICE static bool better(A x, int64_t ix, const acc& a) {
    if (a.index < 0) return true;
    if (m::isnan(a.value)) return m::isnan(x) && ix < a.index;
    if (m::isnan(x)) return true;
    if (kMax ? x > a.value : x < a.value) return true;
    return x == a.value && ix < a.index;
  }
  NABLA_HOST_DEVICE acc step(acc a, A x, int64_t i) const { return better(x, i, a) ? acc{x, i} : a; }
  NABLA_HOST_DEVICE acc combine(acc a, acc b) const {
    return (b.index >= 0 && better(b.value, b.index, a)) ? b : a;
  }
  NABLA_HOST_DEVICE int64_t finish(acc a, int64_t) const { return a.index < 0 ? 0 : a.index; }
};

// Welford's running mean and sum of squared deviations; combine is Chan et al.'s update.
template <class A>
struct WelfordAcc {
  A mean;
  A m2;
  int64_t n;
};

template <class A, bool kStd>
struct VarReducer {
  using acc = WelfordAcc<A>;
  using value = A;
  int64_t correction;
  NABLA_HOST_DEVICE acc init() const { return {A(0), A(0), 0}; }
  NABLA_HOST_DEVICE acc step(acc a, A x, int64_t) const {
    a.n += 1;
    const A d = x - a.mean;
    a.mean += d / static_cast<A>(a.n);
    a.m2 += d * (x - a.mean);
    return a;
  }
  NABLA_HOST_DEVICE acc combine(acc a, acc b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const int64_t n = a.n + b.n;
    const A d = b.mean - a.mean;
    const A nb_over_n = static_cast<A>(b.n) / static_cast<A>(n);
    return {a.mean + d * nb_over_n, a.m2 + b.m2 + d * d * static_cast<A>(a.n) * nb_over_n, n};
  }
  NABLA_HOST_DEVICE A finish(acc a, int64_t) const {
    const A denom = static_cast<A>(a.n - correction);
    const A v = denom > A(0) ? a.m2 / denom : static_cast<A>(NAN);  // as torch.var
    return kStd ? m::sqrt(v) : v;
  }
};

// Online log-sum-exp: core/math/softmax.h's running (max, sum of exp(x - max)).
template <class A>
struct LogSumExpReducer {
  using acc = MaxSumExp<A>;
  using value = A;
  NABLA_HOST_DEVICE acc init() const { return OnlineSoftmax<A>::init(); }
  NABLA_HOST_DEVICE acc step(acc a, A x, int64_t) const { return OnlineSoftmax<A>::step(a, x); }
  NABLA_HOST_DEVICE acc combine(acc a, acc b) const { return OnlineSoftmax<A>::combine(a, b); }
  NABLA_HOST_DEVICE A finish(acc a, int64_t) const { return OnlineSoftmax<A>::lse(a); }
};

// p-norm: p = inf gives max |x|, p = 0 counts non-zeros, otherwise (sum |x|^p)^(1/p).
template <class A>
struct NormReducer {
  using acc = A;
  using value = A;
  double p;
  NABLA_HOST_DEVICE A init() const { return A(0); }
  NABLA_HOST_DEVICE A step(A a, A x, int64_t) const {
    const A ax = m::fabs(x);
    if (p == 2.0) return a + ax * ax;
    if (p == 1.0) return a + ax;
    if (p == 0.0) return a + (ax != A(0) ? A(1) : A(0));
    if (p > 1e300) return (m::isnan(ax) || ax > a) ? ax : a;
    return a + m::pow(ax, static_cast<A>(p));
  }
  NABLA_HOST_DEVICE A combine(A a, A b) const {
    if (p > 1e300) return (m::isnan(a) || a >= b) ? a : b;
    return a + b;
  }
  NABLA_HOST_DEVICE A finish(A a, int64_t) const {
    if (p == 2.0) return m::sqrt(a);
    if (p == 1.0 || p == 0.0 || p > 1e300) return a;
    return m::pow(a, static_cast<A>(1.0 / p));
  }
};

}  // namespace nabla::math
