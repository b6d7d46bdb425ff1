// nabla-inspect FILE: prints what a safetensors file (or a nabla checkpoint) holds: its
// metadata, then one line per tensor with its dtype, shape and summary statistics, then
// totals. The file is fully validated first (as load_safetensors does; a checkpoint's checksum
// too), so the tool doubles as a checker: exit 0 for a valid file, 1 for an invalid one, 2
// for bad arguments.
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "nabla/nabla.h"

namespace {

constexpr std::string_view kUsage =
    "usage: nabla-inspect [--help] FILE\n"
    "\n"
    "Validates a safetensors file (or a nabla checkpoint, including its checksum) and prints\n"
    "its metadata, one line per tensor (name, dtype, shape; for floating tensors min, max, mean\n"
    "and std of the finite values and the NaN and inf counts; for integer and bool tensors min,\n"
    "max and sum), and totals.\n"
    "Exit status: 0 valid file, 1 invalid or unreadable file, 2 bad arguments.\n";

// Metadata may hold long or multi-line values (serialized RNG or loader state): escape
// control characters and cut long values so that each entry stays on one line.
std::string one_line(std::string_view s, std::size_t max_chars = 120) {
  std::string out;
  std::size_t i = 0;
  for (; i < s.size() && out.size() < max_chars; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7F)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (i < s.size()) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

std::string num(double v) { return fmt::format("{:.6g}", v); }

// The statistics columns of one tensor; "-" where a statistic does not apply.
struct Stats {
  std::string min = "-", max = "-", mean = "-", std = "-", sum = "-", nan = "-", inf = "-";
};

// Visits the elements in chunks so that a large tensor is never converted whole (to_vector
// of a 1 GB float16 tensor as doubles would take 4 GB).
template <class T, class F>
void for_each_chunk(const nabla::Tensor& t, F&& f) {
  const nabla::Tensor flat = t.reshape({t.numel()});
  constexpr int64_t kChunk = 1 << 20;
  for (int64_t i = 0; i < t.numel(); i += kChunk) {
    f(flat.slice(0, i, std::min(i + kChunk, t.numel())).to_vector<T>());
  }
}

Stats floating_stats(const nabla::Tensor& t) {
  Stats s;
  int64_t n = 0, nans = 0, infs = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  double mean = 0, m2 = 0;  // Welford's running mean and sum of squared deviations: stable in one pass
  for_each_chunk<double>(t, [&](const std::vector<double>& v) {
    for (const double x : v) {
      if (std::isnan(x)) {
        ++nans;
        continue;
      }
      if (std::isinf(x)) {
        ++infs;
        continue;
      }
      ++n;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      const double d = x - mean;
      mean += d / static_cast<double>(n);
      m2 += d * (x - mean);
    }
  });
  s.nan = std::to_string(nans);
  s.inf = std::to_string(infs);
  if (n > 0) {
    s.min = num(lo);
    s.max = num(hi);
    s.mean = num(mean);
  }
  // The unbiased estimate, as torch.std.
  if (n > 1) s.std = num(std::sqrt(m2 / static_cast<double>(n - 1)));
  return s;
}

Stats integral_stats(const nabla::Tensor& t) {
  Stats s;
  if (t.numel() == 0) return s;
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  __int128 sum = 0;  // cannot overflow: at most 2^63 elements of at most 2^63
  for_each_chunk<int64_t>(t, [&](const std::vector<int64_t>& v) {
    for (const int64_t x : v) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
    }
  });
  s.min = std::to_string(lo);
  s.max = std::to_string(hi);
  const bool fits = sum >= std::numeric_limits<int64_t>::min() && sum <= std::numeric_limits<int64_t>::max();
  s.sum = fits ? std::to_string(static_cast<int64_t>(sum)) : num(static_cast<double>(sum));
  return s;
}

// Prints rows in columns: the first `n_left` columns left-aligned (text), the rest
// right-aligned (numbers).
void print_table(const std::vector<std::vector<std::string>>& rows, std::size_t n_left) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line += "  ";
      line += c < n_left ? fmt::format("{:<{}}", row[c], width[c]) : fmt::format("{:>{}}", row[c], width[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
}

int inspect(const std::string& path) {
  // Everything is validated before anything is printed: an invalid file prints only the error.
  const nabla::io::SafetensorsFile file = nabla::io::load_safetensors(path);
  const auto format = file.metadata.find("nabla.format");
  const bool checkpoint = format != file.metadata.end();
  if (checkpoint)
    nabla::io::load_checkpoint(path);  // throws unless the format is known and the checksum matches
  const auto file_size = std::filesystem::file_size(path);

  fmt::print("file: {} ({} bytes)\n", path, file_size);
  if (checkpoint) fmt::print("nabla checkpoint: {}, checksum ok\n", format->second);

  fmt::print("metadata: {} {}\n", file.metadata.size(), file.metadata.size() == 1 ? "entry" : "entries");
  std::vector<std::vector<std::string>> meta_rows;
  for (const auto& [key, value] : file.metadata)
    meta_rows.push_back({"  " + one_line(key, 60), one_line(value)});
  print_table(meta_rows, 2);

  std::vector<std::vector<std::string>> rows = {
      {"name", "dtype", "shape", "min", "max", "mean", "std", "sum", "nan", "inf"}};
  int64_t params = 0;
  uint64_t bytes = 0;
  for (const auto& [name, t] : file.tensors) {
    const Stats s = t.is_floating_point() ? floating_stats(t) : integral_stats(t);
    rows.push_back({one_line(name, 80), std::string(nabla::dtype_name(t.dtype())),
                    fmt::format("[{}]", fmt::join(t.sizes(), ", ")), s.min, s.max, s.mean, s.std, s.sum,
                    s.nan, s.inf});
    params += t.numel();
    bytes += t.nbytes();
  }
  fmt::print("tensors: {}\n", file.tensors.size());
  if (!file.tensors.empty()) print_table(rows, 3);
  fmt::print("total: {} {}, {} parameters, {} bytes\n", file.tensors.size(),
             file.tensors.size() == 1 ? "tensor" : "tensors", params, bytes);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!options_done && (arg == "--help" || arg == "-h")) {
      fmt::print("{}", kUsage);
      return 0;
    }
    if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
      fmt::print(stderr, "nabla-inspect: unknown option '{}'\n{}", arg, kUsage);
      return 2;
    } else {
      files.emplace_back(arg);
    }
  }
  if (files.size() != 1) {
    fmt::print(stderr, "nabla-inspect: expected one FILE, got {}\n{}", files.size(), kUsage);
    return 2;
  }
  try {
    return inspect(files[0]);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "nabla-inspect: {}\n", e.what());
    return 1;
  }
}
