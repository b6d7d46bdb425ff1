// Shared command line of the examples: --device cpu|cuda|auto, --epochs, --batch-size, --lr,
// --seed, --limit N (use the first N training samples), --quiet; and the final JSON line.
#pragma once

#include <nabla/nabla.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

namespace example {

struct Args {
  std::string device = "auto";
  int64_t epochs = 1;
  int64_t batch_size = 64;
  double lr = 1e-3;
  uint64_t seed = 0;
  int64_t limit = -1;  // -1: all samples
  bool quiet = false;
  std::map<std::string, std::string> extra;  // example-specific --key value pairs
};

inline void usage(const char* argv0, const Args& d, const char* extra_help) {
  std::fprintf(
      stderr,
      "usage: %s [--device cpu|cuda|auto] [--epochs N] [--batch-size N] [--lr F] [--seed S] [--limit N] "
      "[--quiet]%s\n  defaults: device %s, epochs %lld, batch size %lld, lr %g, seed %llu\n",
      argv0, extra_help, d.device.c_str(), static_cast<long long>(d.epochs),
      static_cast<long long>(d.batch_size), d.lr, static_cast<unsigned long long>(d.seed));
}

/// Parses argv over the given defaults; exits 2 with usage on a bad command line, 0 on --help.
/// `extra_keys` lists the example's own flags (without "--").
inline Args parse(int argc, char** argv, Args d, std::initializer_list<const char*> extra_keys = {},
                  const char* extra_help = "") {
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "%s: %s\n", argv[0], why.c_str());
    usage(argv[0], d, extra_help);
    std::exit(2);
  };
  auto num = [&](const std::string& flag, const char* v, double lo) {
    char* end = nullptr;
    const double x = std::strtod(v, &end);
    if (*v == '\0' || *end != '\0' || !(x >= lo)) fail("bad value '" + std::string(v) + "' for " + flag);
    return x;
  };
  Args a = d;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "-h" || f == "--help") {
      usage(argv[0], d, extra_help);
      std::exit(0);
    }
    if (f == "--quiet") {
      a.quiet = true;
      continue;
    }
    if (i + 1 >= argc) fail("missing value after " + f);
    const char* v = argv[++i];
    if (f == "--device")
      a.device = v;
    else if (f == "--epochs")
      a.epochs = static_cast<int64_t>(num(f, v, 0));
    else if (f == "--batch-size")
      a.batch_size = static_cast<int64_t>(num(f, v, 1));
    else if (f == "--lr")
      a.lr = num(f, v, 0);
    else if (f == "--seed")
      a.seed = static_cast<uint64_t>(num(f, v, 0));
    else if (f == "--limit")
      a.limit = static_cast<int64_t>(num(f, v, 1));
    else {
      bool known = false;
      for (const char* k : extra_keys) known = known || f == std::string("--") + k;
      if (!known) fail("unknown option " + f);
      a.extra[f.substr(2)] = v;
    }
  }
  return a;
}

/// The device to run on: "auto" picks CUDA when available. Exits 2 with a clear message when
/// CUDA is asked for and not available.
inline nabla::Device device_of(const Args& a) {
  if (a.device == "auto") return nabla::cuda::is_available() ? nabla::Device::cuda() : nabla::Device::cpu();
  try {
    const nabla::Device d(a.device);
    if (d.is_cuda() && !nabla::cuda::is_available()) {
      std::fprintf(
          stderr,
          "error: --device %s: no CUDA device is available here (nabla::cuda::is_available() is false: no "
          "GPU or driver, or nabla was built without CUDA)\n",
          a.device.c_str());
      std::exit(2);
    }
    return d;
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::exit(2);
  }
}

/// Prints the final one-line JSON record of metrics (keys sorted, 6 significant digits).
inline void print_json(const std::map<std::string, double>& m) {
  nabla::io::json::Object line;
  for (const auto& [k, v] : m) line.add_significant(k, v, 6);
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
}

}  // namespace example
