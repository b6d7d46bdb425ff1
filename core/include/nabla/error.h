// Error types and the checking macros every front end uses.
//
// NABLA_CHECK(cond, "fmt {}", args...) throws nabla::Error with an fmt-formatted message for
// user errors; NABLA_INTERNAL_ASSERT marks broken invariants (a bug in nabla, not in the
// caller). Library code never exits or aborts: every failure is an exception.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

// fmt/format.h only: fmt/ranges.h is heavy, and this header reaches every user's build; the
// files that format a vector or a span include fmt/ranges.h themselves.
#include <fmt/format.h>

namespace nabla {

/// Every error nabla raises is a nabla::Error (a std::runtime_error).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

/// Raised when memory for a tensor cannot be allocated.
class OutOfMemoryError : public Error {
 public:
  OutOfMemoryError(const std::string& msg, std::size_t requested_bytes)
      : Error(msg), requested_bytes_(requested_bytes) {}
  std::size_t requested_bytes() const { return requested_bytes_; }

 private:
  std::size_t requested_bytes_;
};

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const std::string& msg);
[[noreturn]] void throw_internal(const char* file, int line, const char* cond, const std::string& msg);
}  // namespace detail

}  // namespace nabla

/// User-facing check: the message should name the op and the offending shapes/dtypes/dims.
#define NABLA_CHECK(cond, ...)                                                      \
  do {                                                                              \
    if (!(cond)) [[unlikely]] {                                                     \
      ::nabla::detail::throw_error(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__)); \
    }                                                                               \
  } while (0)

/// Unconditional user error.
#define NABLA_FAIL(...) ::nabla::detail::throw_error(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__))

/// Invariant check: failure is a bug in nabla.
#define NABLA_INTERNAL_ASSERT(cond, ...)                                                         \
  do {                                                                                           \
    if (!(cond)) [[unlikely]] {                                                                  \
      ::nabla::detail::throw_internal(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
    }                                                                                            \
  } while (0)
