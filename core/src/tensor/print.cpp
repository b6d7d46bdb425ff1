// operator<< for tensors, as PyTorch's repr (torch/_tensor_str.py with default print
// options): one number format for the whole tensor, chosen from its non-zero finite values
// (integer-valued floats as "1.", fixed with 4 decimals, or scientific when magnitudes span
// more than 1000x), right-aligned to a common width, rows wrapped at 80 columns, "..."
// summaries past 1000 elements (3 items at each edge of every dim), and the non-default
// dtype, device and autograd state as suffixes (wrapped too). Deliberate differences: dtypes
// print without the "torch." prefix and node names without PyTorch's version digit.
#include <cmath>
#include <ostream>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "nabla/tensor.h"

namespace nabla {
namespace {

constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdge = 3;
constexpr std::size_t kLineWidth = 80;

struct Formatter {
  ScalarType dtype;
  bool int_mode = true;
  bool sci = false;
  std::size_t width = 1;

  std::string raw(double v, int64_t iv) const {
    if (dtype == kBool) return iv ? "True" : "False";
    if (is_integral(dtype)) return std::to_string(iv);
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (sci) return fmt::format("{:.4e}", v);
    if (int_mode) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
  }
  std::string format(double v, int64_t iv) const {
    std::string s = raw(v, iv);
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
  }
};

// PyTorch's _Formatter over the values shown: for floats only non-zero finite values decide
// the mode and the width.
Formatter make_formatter(ScalarType dt, const std::vector<double>& dv, const std::vector<int64_t>& iv) {
  Formatter f{dt};
  if (!is_floating_point(dt)) {
    for (int64_t v : iv) f.width = std::max(f.width, f.raw(0.0, v).size());
    return f;
  }
  double mx = 0, mn = INFINITY;
  bool any = false;
  for (double v : dv) {
    if (!std::isfinite(v) || v == 0) continue;
    any = true;
    if (v != std::ceil(v)) f.int_mode = false;
    mx = std::max(mx, std::fabs(v));
    mn = std::min(mn, std::fabs(v));
  }
  if (!any) return f;
  f.sci = mx / mn > 1000.0 || mx > 1.0e8 || (!f.int_mode && mn < 1.0e-4);
  for (double v : dv) {
    if (std::isfinite(v) && v != 0) f.width = std::max(f.width, f.raw(v, 0).size());
  }
  return f;
}

struct Printer {
  const Formatter& f;
  const std::vector<double>& dv;
  const std::vector<int64_t>& iv;
  const Shape& sizes;        // of the (summarized) data
  std::vector<bool> elided;  // dims whose middle was cut out: "..." after item kEdge - 1

  std::string item(int64_t at) const { return f.format(dv.empty() ? 0.0 : dv[at], iv.empty() ? 0 : iv[at]); }

  std::string str(std::size_t dim, int64_t base, std::size_t indent) const {
    const int64_t n = sizes[dim];
    int64_t inner = 1;
    for (std::size_t k = dim + 1; k < sizes.size(); ++k) inner *= sizes[k];
    std::vector<std::string> parts;
    const bool last = dim + 1 == sizes.size();
    for (int64_t i = 0; i < n; ++i) {
      if (elided[dim] && i == kEdge) parts.push_back(last ? " ..." : "...");
      parts.push_back(last ? item(base + i * inner) : str(dim + 1, base + i * inner, indent + 1));
    }
    std::string out = "[";
    if (last) {
      const std::size_t per_line =
          std::max<std::size_t>(1, indent >= kLineWidth ? 0 : (kLineWidth - indent) / (f.width + 2));
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += i % per_line == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ";
        out += parts[i];
      }
    } else {
      const std::string sep = "," + std::string(sizes.size() - dim - 1, '\n') + std::string(indent + 1, ' ');
      for (std::size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? sep : "") + parts[i];
    }
    return out + "]";
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
  const std::string prefix = "tensor(";
  std::string body;
  if (t.numel() == 0) {
    body = "[]";
  } else {
    NoGradGuard g;
    // Keep only what is shown (kEdge items at each end of every long dim), as PyTorch's
    // get_summarized_data: the format is chosen from these values alone.
    Tensor shown = t;
    std::vector<bool> elided(static_cast<std::size_t>(t.dim()), false);
    if (t.numel() > kThreshold) {
      for (int64_t d = 0; d < t.dim(); ++d) {
        const int64_t n = t.size(d);
        if (n <= 2 * kEdge) continue;
        shown = cat({shown.narrow(d, 0, kEdge), shown.narrow(d, n - kEdge, kEdge)}, d);
        elided[static_cast<std::size_t>(d)] = true;
      }
    }
    std::vector<double> dv;
    std::vector<int64_t> iv;
    if (is_floating_point(dt))
      dv = shown.to_vector<double>();
    else
      iv = shown.to_vector<int64_t>();
    const Formatter f = make_formatter(dt, dv, iv);
    if (t.dim() == 0)
      body = f.format(dv.empty() ? 0.0 : dv[0], iv.empty() ? 0 : iv[0]);
    else
      body = Printer{f, dv, iv, shown.sizes(), elided}.str(0, 0, prefix.size());
  }

  std::vector<std::string> suffixes;
  if (!t.device().is_cpu()) suffixes.push_back("device='" + t.device().str() + "'");
  if (t.numel() == 0) {
    // nothing shows the dtype of an empty tensor: print it unless it is the default
    if (t.dim() != 1) {
      std::string s = "size=(";
      for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
      suffixes.push_back(s + ")");
    }
    if (dt != default_dtype()) suffixes.push_back(fmt::format("dtype={}", dtype_name(dt)));
  } else if (dt != default_dtype() && dt != kInt64 && dt != kBool) {
    suffixes.push_back(fmt::format("dtype={}", dtype_name(dt)));
  }
  if (!t.grad_fn_name().empty())
    suffixes.push_back("grad_fn=<" + t.grad_fn_name() + ">");
  else if (t.requires_grad())
    suffixes.push_back("requires_grad=True");

  // PyTorch's _add_suffixes: a suffix that would pass the line width starts a new line. The
  // length of the last line is counted as PyTorch counts it (len - rfind('\n') + 1).
  std::string out = prefix + body;
  const std::size_t nl = out.rfind('\n');
  std::size_t last_line = nl == std::string::npos ? out.size() + 2 : out.size() - nl + 1;
  for (const std::string& s : suffixes) {
    if (last_line + s.size() + 2 > kLineWidth) {
      out += ",\n" + std::string(prefix.size(), ' ') + s;
      last_line = prefix.size() + s.size();
    } else {
      out += ", " + s;
      last_line += s.size() + 2;
    }
  }
  return os << out << ')';
}

}  // namespace nabla
