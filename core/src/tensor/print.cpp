// operator<< for tensors, in PyTorch's repr style: one number format for the whole tensor
// (integer-valued floats as "1.", fixed with 4 decimals, or scientific when magnitudes span
// more than 1000x), right-aligned columns, "..." summaries past 1000 elements, and the
// non-default dtype, device and autograd state as suffixes.
#include <cmath>
#include <ostream>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/tensor.h"

namespace nabla {
namespace {

constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdge = 3;

struct Formatter {
  ScalarType dtype;
  bool int_mode = true;
  bool sci = false;
  std::size_t width = 1;

  std::string format(double v, int64_t iv) const {
    if (dtype == kBool) return iv ? "True" : "False";
    if (is_integral(dtype)) return std::to_string(iv);
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (sci) return fmt::format("{:.4e}", v);
    if (int_mode) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
  }
};

struct Printer {
  const Formatter& f;
  const std::vector<double>& dv;
  const std::vector<int64_t>& iv;
  const Shape& sizes;
  bool summarize;

  // Index into the flat row-major data for element `idx` of dim d... built recursively.
  void print(std::ostream& os, std::size_t dim, int64_t base, int64_t stride_prod, int indent) const {
    const int64_t n = sizes[dim];
    int64_t inner = 1;
    for (std::size_t k = dim + 1; k < sizes.size(); ++k) inner *= sizes[k];
    os << '[';
    auto item = [&](int64_t i) {
      const int64_t at = base + i * inner;
      if (dim + 1 == sizes.size()) {
        std::string s = f.format(dv.empty() ? 0.0 : dv[at], iv.empty() ? 0 : iv[at]);
        if (s.size() < f.width) s.insert(0, f.width - s.size(), ' ');
        os << s;
      } else {
        print(os, dim + 1, at, stride_prod, indent + 1);
      }
    };
    const std::string sep = dim + 1 == sizes.size() ? ", " : "," + std::string(sizes.size() - dim - 1, '\n') +
                                                               std::string(static_cast<std::size_t>(indent + 1), ' ');
    for (int64_t i = 0; i < n; ++i) {
      if (summarize && n > 2 * kEdge && i == kEdge) {
        os << "..." << sep;
        i = n - kEdge;
      }
      item(i);
      if (i + 1 < n) os << sep;
    }
    os << ']';
  }
};

}  // namespace

std::string Tensor::str() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const ScalarType dt = t.dtype();
  std::string body;
  {
    NoGradGuard g;
    Formatter f{dt};
    std::vector<double> dv;
    std::vector<int64_t> iv;
    if (is_floating_point(dt)) dv = t.to_vector<double>();
    else iv = t.to_vector<int64_t>();
    const bool summarize = t.numel() > kThreshold;
    if (is_floating_point(dt)) {
      double mx = 0, mn = INFINITY;
      for (double v : dv) {
        if (!std::isfinite(v)) continue;
        if (v != std::floor(v)) f.int_mode = false;
        const double a = std::fabs(v);
        if (a != 0) {
          mx = std::max(mx, a);
          mn = std::min(mn, a);
        }
      }
      if (mx > 0) {
        if (f.int_mode) f.sci = mx > 1e8;
        else f.sci = mx / mn > 1000.0 || mx > 1e8 || mn < 1e-4;
      }
    }
    for (std::size_t i = 0; i < std::max(dv.size(), iv.size()); ++i) {
      f.width = std::max(f.width, f.format(dv.empty() ? 0 : dv[i], iv.empty() ? 0 : iv[i]).size());
    }
    std::ostringstream b;
    if (t.dim() == 0) {
      b << f.format(dv.empty() ? 0 : dv[0], iv.empty() ? 0 : iv[0]);
    } else if (t.numel() == 0) {
      b << "[]";
    } else {
      Printer{f, dv, iv, t.sizes(), summarize}.print(b, 0, 0, 1, 7);
    }
    body = b.str();
  }
  os << "tensor(" << body;
  if (t.numel() == 0 && t.dim() != 1) {
    os << ", size=(";
    for (int64_t d = 0; d < t.dim(); ++d) os << (d ? ", " : "") << t.size(d);
    os << (t.dim() == 1 ? ",)" : ")");
  }
  if (!t.device().is_cpu()) os << ", device='" << t.device().str() << "'";
  if (dt != kFloat32 && dt != kInt64 && dt != kBool) os << ", dtype=" << dtype_name(dt);
  if (!t.grad_fn_name().empty()) os << ", grad_fn=<" << t.grad_fn_name() << ">";
  else if (t.requires_grad()) os << ", requires_grad=True";
  return os << ')';
}

}  // namespace nabla
