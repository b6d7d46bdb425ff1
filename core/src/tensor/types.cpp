// ScalarType, Device and Scalar: names, parsing, promotion.
#include <ostream>

#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/scalar.h"

namespace nabla {

std::size_t element_size(ScalarType t) {
  switch (t) {
    case kFloat64:
    case kInt64:
      return 8;
    case kFloat32:
    case kInt32:
      return 4;
    case kFloat16:
    case kBFloat16:
      return 2;
    case kUInt8:
    case kBool:
      return 1;
  }
  NABLA_FAIL("element_size: unknown dtype {}", static_cast<int>(t));
}

std::string_view dtype_name(ScalarType t) {
  switch (t) {
    case kFloat32:
      return "float32";
    case kFloat64:
      return "float64";
    case kFloat16:
      return "float16";
    case kBFloat16:
      return "bfloat16";
    case kInt64:
      return "int64";
    case kInt32:
      return "int32";
    case kUInt8:
      return "uint8";
    case kBool:
      return "bool";
  }
  return "unknown";
}

ScalarType dtype_from_name(std::string_view n) {
  if (n == "float32" || n == "float" || n == "f32") return kFloat32;
  if (n == "float64" || n == "double" || n == "f64") return kFloat64;
  if (n == "float16" || n == "half" || n == "f16") return kFloat16;
  if (n == "bfloat16" || n == "bf16") return kBFloat16;
  if (n == "int64" || n == "long" || n == "i64") return kInt64;
  if (n == "int32" || n == "int" || n == "i32") return kInt32;
  if (n == "uint8" || n == "u8") return kUInt8;
  if (n == "bool") return kBool;
  NABLA_FAIL("unknown dtype '{}' (expected float32, float64, float16, bfloat16, int64, int32, uint8 or bool)",
             n);
}

bool is_floating_point(ScalarType t) {
  return t == kFloat32 || t == kFloat64 || t == kFloat16 || t == kBFloat16;
}

bool is_integral(ScalarType t, bool include_bool) {
  return t == kInt64 || t == kInt32 || t == kUInt8 || (include_bool && t == kBool);
}

ScalarType default_dtype() { return kFloat32; }

ScalarType promote_types(ScalarType a, ScalarType b) {
  if (a == b) return a;
  if (a == kBool) return b;
  if (b == kBool) return a;
  const bool fa = is_floating_point(a), fb = is_floating_point(b);
  if (fa && !fb) return a;
  if (fb && !fa) return b;
  if (fa && fb) {
    if (a == kFloat64 || b == kFloat64) return kFloat64;
    return kFloat32;  // float32 with a 16-bit type, or float16 with bfloat16
  }
  // both integral: uint8 < int32 < int64 (uint8 with a signed type becomes the signed type)
  auto rank = [](ScalarType t) { return t == kUInt8 ? 0 : t == kInt32 ? 1 : 2; };
  return rank(a) > rank(b) ? a : b;
}

std::ostream& operator<<(std::ostream& os, ScalarType t) { return os << dtype_name(t); }

std::string_view device_type_name(DeviceType t) { return t == DeviceType::CPU ? "cpu" : "cuda"; }

Device::Device(std::string_view spec) {
  if (spec == "cpu") {
    *this = Device::cpu();
    return;
  }
  if (spec.substr(0, 4) == "cuda") {
    if (spec.size() == 4) {
      *this = Device::cuda(0);
      return;
    }
    if (spec[4] == ':' && spec.size() > 5 && spec.size() < 9) {
      int idx = 0;
      bool ok = true;
      for (char c : spec.substr(5)) {
        if (c < '0' || c > '9') ok = false;
        idx = idx * 10 + (c - '0');
      }
      if (ok) {
        *this = Device::cuda(idx);
        return;
      }
    }
  }
  NABLA_FAIL("invalid device '{}' (expected 'cpu', 'cuda' or 'cuda:N')", spec);
}

std::string Device::str() const { return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index); }

std::ostream& operator<<(std::ostream& os, Device d) { return os << d.str(); }

ScalarType Scalar::natural_dtype() const {
  switch (kind_) {
    case Kind::Bool:
      return kBool;
    case Kind::Int:
      return kInt64;
    case Kind::Float:
      return kFloat32;
  }
  return kFloat32;
}

std::string Scalar::str() const {
  switch (kind_) {
    case Kind::Bool:
      return i_ ? "True" : "False";
    case Kind::Int:
      return std::to_string(i_);
    case Kind::Float:
      return fmt::format("{}", d_);
  }
  return "?";
}

}  // namespace nabla
