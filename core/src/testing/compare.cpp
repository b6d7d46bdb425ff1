// nabla::testing::compare and Target: element statistics of a against a reference b.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "nabla/testing.h"
#include "tensor/tensor_impl.h"

namespace nabla::testing {
namespace {

// float32 bits mapped to a monotone integer line, so ULP distance is a difference.
int64_t ordered(float f) {
  const int32_t i = std::bit_cast<int32_t>(f);
  return i < 0 ? static_cast<int64_t>(std::numeric_limits<int32_t>::min()) - i : i;
}

}  // namespace

CompareStats compare(const Tensor& a, const Tensor& b, const CompareOptions& o) {
  NABLA_CHECK(a.defined() && b.defined(), "testing::compare: both tensors must be defined");
  CompareStats s;
  if (a.sizes() != b.sizes()) {
    s.shape_mismatch = true;
    s.ok = false;
    return s;
  }
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  s.numel = static_cast<int64_t>(va.size());
  double sum_abs = 0, worst_excess = -1;
  for (std::size_t i = 0; i < va.size(); ++i) {
    const double x = va[i], y = vb[i];
    if ((std::isnan(x) && std::isnan(y)) || (std::isinf(y) && x == y)) continue;
    const double d = std::fabs(x - y);
    const double excess = std::isnan(d) ? INFINITY : d - (o.atol + o.rtol * std::fabs(y));
    if (excess > 0) ++s.beyond;
    if (!std::isnan(d)) {
      sum_abs += d;
      s.max_abs = std::max(s.max_abs, d);
      if (y != 0) s.max_rel = std::max(s.max_rel, d / std::fabs(y));
    } else {
      s.max_abs = INFINITY;
    }
    const float fx = static_cast<float>(x), fy = static_cast<float>(y);
    if (!std::isnan(fx) && !std::isnan(fy))
      s.max_ulp = std::max(s.max_ulp, std::abs(ordered(fx) - ordered(fy)));
    if (excess > worst_excess) {
      worst_excess = excess;
      s.worst = static_cast<int64_t>(i);
    }
  }
  s.mean_abs = s.numel > 0 ? sum_abs / static_cast<double>(s.numel) : 0.0;
  s.ok = s.beyond == 0;
  return s;
}

Target Target::parse(const std::string& spec) {
  const std::size_t colon = spec.rfind(':');
  NABLA_CHECK(colon != std::string::npos && colon > 0 && colon + 1 < spec.size(),
              "target '{}': expected DEVICE:DTYPE, for example cuda:float32 or cpu:float64", spec);
  Target t;
  t.device = Device(spec.substr(0, colon));
  t.dtype = dtype_from_name(spec.substr(colon + 1));
  NABLA_CHECK(is_floating_point(t.dtype), "target '{}': the dtype must be floating-point, got {}", spec,
              dtype_name(t.dtype));
  return t;
}

std::string Target::str() const { return fmt::format("{}:{}", device.str(), dtype_name(dtype)); }

}  // namespace nabla::testing
