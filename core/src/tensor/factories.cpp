// Tensor factories: constant fills, ranges, eye, Philox random tensors, from_vector.
#include "nabla/factories.h"

#include <cmath>
#include <cstring>

#include "nabla/autograd.h"
#include "nabla/cuda.h"
#include "nabla/ops.h"
#include "ops/op_helpers.h"
#include "ops/params_copy.h"
#include "ops/params_random.h"
#include "tensor/random_state.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

Tensor finish(Tensor t, const TensorOptions& o) {
  if (o.requires_grad()) t.requires_grad_(true);
  return t;
}

Tensor filled(const Shape& sizes, const Scalar& v, ScalarType dtype, const TensorOptions& o,
              std::string_view op) {
  Tensor t = make_tensor(sizes, dtype, o.device(), op);
  run_op(Op::fill, {}, t, FillParams{v}.params());
  return finish(t, o);
}

TensorOptions like(const Tensor& t, const std::optional<TensorOptions>& o) {
  check_defined(t, "*_like");
  if (!o) return t.options();
  TensorOptions r = *o;
  if (!r.has_dtype()) r = r.dtype(t.dtype());
  return r;
}

// P: the op's parameter struct (params_random.h); its slot is gen's next, or the global
// generator's.
template <class P>
Tensor random_tensor(Op op, P params, const Shape& sizes, ScalarType dtype, const TensorOptions& o,
                     std::string_view name, Generator* gen = nullptr) {
  Tensor t = make_tensor(sizes, dtype, o.device(), name);
  if (gen != nullptr) {
    const GeneratorState s = gen->next();
    params.slot = {s.seed, s.offset};
  } else {
    params.slot = next_philox_slot();
  }
  run_op(op, {}, t, params.params());
  return finish(t, o);
}

ScalarType float_dtype(const TensorOptions& o, std::string_view op) {
  const ScalarType t = o.has_dtype() ? o.dtype() : default_dtype();
  NABLA_CHECK(is_floating_point(t), "{}: expected a floating-point dtype, got {}", op, dtype_name(t));
  return t;
}

}  // namespace

Tensor empty(const Shape& sizes, const TensorOptions& o) {
  return finish(make_tensor(sizes, o.has_dtype() ? o.dtype() : default_dtype(), o.device(), "empty"), o);
}
Tensor zeros(const Shape& sizes, const TensorOptions& o) {
  return filled(sizes, 0, o.has_dtype() ? o.dtype() : default_dtype(), o, "zeros");
}
Tensor ones(const Shape& sizes, const TensorOptions& o) {
  return filled(sizes, 1, o.has_dtype() ? o.dtype() : default_dtype(), o, "ones");
}
Tensor full(const Shape& sizes, const Scalar& value, const TensorOptions& o) {
  const ScalarType t = o.has_dtype() ? o.dtype() : value.natural_dtype();
  NABLA_CHECK(!(is_integral(t, true) && value.is_floating_point()),
              "full: cannot fill a {} tensor with the floating-point value {}", dtype_name(t), value.str());
  return filled(sizes, value, t, o, "full");
}
Tensor scalar_tensor(const Scalar& value, const TensorOptions& o) {
  return full({}, value, o.has_dtype() ? o : o.dtype(value.is_bool() ? kBool : default_dtype()));
}
Tensor empty_like(const Tensor& t, std::optional<TensorOptions> o) { return empty(t.sizes(), like(t, o)); }
Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> o) { return zeros(t.sizes(), like(t, o)); }
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> o) { return ones(t.sizes(), like(t, o)); }
Tensor full_like(const Tensor& t, const Scalar& v, std::optional<TensorOptions> o) {
  return full(t.sizes(), v, like(t, o));
}

Tensor arange(const Scalar& end, const TensorOptions& o) { return arange(0, end, 1, o); }

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& o) {
  const bool any_float = start.is_floating_point() || end.is_floating_point() || step.is_floating_point();
  const ScalarType t = o.has_dtype() ? o.dtype() : (any_float ? default_dtype() : kInt64);
  NABLA_CHECK(t != kBool, "arange: not supported for bool");
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  NABLA_CHECK(st != 0.0, "arange: step must be non-zero");
  NABLA_CHECK(std::isfinite(s) && std::isfinite(e), "arange: start {} and end {} must be finite", s, e);
  NABLA_CHECK(
      (st > 0 && e >= s) || (st < 0 && e <= s),
      "arange: upper bound and lower bound are inconsistent with the step sign (start {}, end {}, step {})",
      s, e, st);
  int64_t n;
  if (!any_float) {
    const int64_t si = start.to_int(), ei = end.to_int(), sti = step.to_int();
    n = (ei - si + sti + (sti > 0 ? -1 : 1)) / sti;
  } else {
    const double nd = std::ceil((e - s) / st);
    NABLA_CHECK(nd < 9.2e18, "arange: {} elements overflow int64", nd);
    n = static_cast<int64_t>(nd);
  }
  Tensor out = make_tensor({n}, t, o.device(), "arange");
  ArangeParams p{start, step};
  if (!is_floating_point(t) && any_float) {  // float arguments, integer dtype: compute in double
    p = {start.to_double(), step.to_double()};
  }
  run_op(Op::arange, {}, out, p.params());
  return finish(out, o);
}

Tensor linspace(double start, double end, int64_t steps, const TensorOptions& o) {
  NABLA_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got {}", steps);
  const ScalarType t = o.has_dtype() ? o.dtype() : default_dtype();
  Tensor out = make_tensor({steps}, t, o.device(), "linspace");
  const ArangeParams p{start, steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0};
  run_op(Op::arange, {}, out, p.params());
  return finish(out, o);
}

Tensor eye(int64_t n, const TensorOptions& o) { return eye(n, n, o); }

Tensor eye(int64_t n, int64_t m, const TensorOptions& o) {
  NABLA_CHECK(n >= 0 && m >= 0, "eye: sizes must be non-negative, got {} x {}", n, m);
  Tensor t = zeros({n, m}, o.requires_grad(false));
  if (n > 0 && m > 0) {
    NoGradGuard g;
    as_strided(t, {std::min(n, m)}, {m + 1}, 0).fill_(1);
  }
  return finish(t, o);
}

Tensor rand(const Shape& sizes, const TensorOptions& o) {
  return random_tensor(Op::uniform, UniformParams{.low = 0.0, .high = 1.0}, sizes, float_dtype(o, "rand"), o,
                       "rand");
}
Tensor rand(const Shape& sizes, Generator& gen, const TensorOptions& o) {
  return random_tensor(Op::uniform, UniformParams{.low = 0.0, .high = 1.0}, sizes, float_dtype(o, "rand"), o,
                       "rand", &gen);
}
Tensor randn(const Shape& sizes, const TensorOptions& o) {
  return random_tensor(Op::normal, NormalParams{.mean = 0.0, .stddev = 1.0}, sizes, float_dtype(o, "randn"),
                       o, "randn");
}
Tensor randint(int64_t low, int64_t high, const Shape& sizes, const TensorOptions& o) {
  NABLA_CHECK(low < high, "randint: expected low < high, got low={} high={}", low, high);
  const ScalarType t = o.has_dtype() ? o.dtype() : kInt64;
  NABLA_CHECK(t != kBool, "randint: not supported for bool");
  return random_tensor(Op::randint, RandintParams{.low = low, .high = high}, sizes, t, o, "randint");
}
Tensor randint(int64_t high, const Shape& sizes, const TensorOptions& o) {
  return randint(0, high, sizes, o);
}
Tensor rand_like(const Tensor& t) { return rand(t.sizes(), t.options()); }
Tensor randn_like(const Tensor& t) { return randn(t.sizes(), t.options()); }

Tensor randperm(int64_t n, const TensorOptions& o) {
  NABLA_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
  NABLA_CHECK(!o.has_dtype() || o.dtype() == kInt64, "randperm: only int64 is supported, got {}",
              dtype_name(o.dtype()));
  return random_tensor(Op::randperm, RandpermParams{}, {n}, kInt64, o.dtype(kInt64), "randperm");
}

Tensor randperm(int64_t n, Generator& gen, const TensorOptions& o) {
  NABLA_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
  NABLA_CHECK(!o.has_dtype() || o.dtype() == kInt64, "randperm: only int64 is supported, got {}",
              dtype_name(o.dtype()));
  return random_tensor(Op::randperm, RandpermParams{}, {n}, kInt64, o.dtype(kInt64), "randperm", &gen);
}

namespace {
// Storage over foreign memory: the base's deleter stays null (nabla frees nothing); the
// owner's release runs when the last view goes. shared_ptr destroys this derived type.
struct ExternalStorage : Storage {
  std::function<void()> release;
  ~ExternalStorage() {
    if (release) release();
  }
};
}  // namespace

Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, ScalarType dtype, Device device,
                 std::function<void()> deleter) {
  const int64_t n = checked_numel(sizes, "from_blob");
  const Shape st = strides.empty() ? contiguous_strides(sizes) : strides;
  NABLA_CHECK(st.size() == sizes.size(), "from_blob: {} strides for {} dims", st.size(), sizes.size());
  NABLA_CHECK(
      device.is_cpu() || (cuda::is_available() && device.index >= 0 && device.index < cuda::device_count()),
      "from_blob: device {} is not available (CUDA available: {})", device.str(), cuda::is_available());
  const auto esize = static_cast<int64_t>(element_size(dtype));
  // The extent: one past the furthest element, in elements, overflow-checked.
  int64_t extent = n > 0 ? 1 : 0;
  for (std::size_t d = 0; d < sizes.size() && n > 0; ++d) {
    NABLA_CHECK(st[d] >= 0, "from_blob: negative stride {} in dim {} (strides {})", st[d], d,
                shape_to_string(st));
    int64_t span = 0;
    NABLA_CHECK(
        !__builtin_mul_overflow(sizes[d] - 1, st[d], &span) && !__builtin_add_overflow(extent, span, &extent),
        "from_blob: sizes {} with strides {} overflow int64", shape_to_string(sizes), shape_to_string(st));
  }
  int64_t nbytes = 0;
  NABLA_CHECK(!__builtin_mul_overflow(extent, esize, &nbytes),
              "from_blob: sizes {} with strides {} overflow int64", shape_to_string(sizes),
              shape_to_string(st));
  NABLA_CHECK(data != nullptr || n == 0, "from_blob: null data pointer for {} elements", n);
  NABLA_CHECK(reinterpret_cast<std::uintptr_t>(data) % static_cast<std::uintptr_t>(esize) == 0,
              "from_blob: data pointer {} is not aligned to the {}-byte elements of {}", data, esize,
              dtype_name(dtype));
  auto storage = std::make_shared<ExternalStorage>();
  storage->data = data;
  storage->nbytes = static_cast<std::size_t>(nbytes);
  storage->device = device;
  if (device.is_cuda() && deleter) {
    // nabla's kernels on this memory run on its stream, asynchronously: the owner gets the
    // memory back only once they are done
    storage->release = [index = device.index, owner = std::move(deleter)] {
      cuda::wait_stream_quietly(index);
      owner();
    };
  } else {
    storage->release = std::move(deleter);
  }
  return make_view_tensor(storage, sizes, st, 0, dtype);
}

template <class T>
Tensor from_vector(const std::vector<T>& data, const Shape& sizes, const TensorOptions& o) {
  const int64_t n = checked_numel(sizes, "from_vector");
  NABLA_CHECK(static_cast<int64_t>(data.size()) == n,
              "from_vector: {} values cannot fill shape {} ({} elements)", data.size(),
              shape_to_string(sizes), n);
  Tensor t = make_tensor(sizes, dtype_of<T>(), Device::cpu(), "from_vector");
  if constexpr (std::is_same_v<T, bool>) {
    bool* p = static_cast<bool*>(t.data_ptr());
    for (std::size_t i = 0; i < data.size(); ++i) p[i] = data[i];
  } else if (n > 0) {
    std::memcpy(t.data_ptr(), data.data(), data.size() * sizeof(T));
  }
  if (o.has_dtype() && o.dtype() != t.dtype()) t = t.to(o.dtype());
  if (o.device() != t.device()) t = t.to(o.device());
  return finish(t, o);
}

template Tensor from_vector<float>(const std::vector<float>&, const Shape&, const TensorOptions&);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, const TensorOptions&);
template Tensor from_vector<Half>(const std::vector<Half>&, const Shape&, const TensorOptions&);
template Tensor from_vector<BFloat16>(const std::vector<BFloat16>&, const Shape&, const TensorOptions&);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, const TensorOptions&);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&, const TensorOptions&);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&, const TensorOptions&);
template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&, const TensorOptions&);

}  // namespace nabla
