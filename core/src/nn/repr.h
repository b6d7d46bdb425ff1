// Python-style formatting for module reprs, so printed models read as PyTorch prints them.
#pragma once

#include <fmt/format.h>

#include <string>

namespace nabla::nn::detail {

inline std::string py_bool(bool b) { return b ? "True" : "False"; }
/// A double as Python's repr of a float prints it: "1.0", not "1" (so ELU(alpha=1.0)).
inline std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // not 1e+16, inf or nan
  return s;
}

}  // namespace nabla::nn::detail
