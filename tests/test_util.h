// Helpers shared by the test files: the one check of an error's message (throws_with and
// its EXPECT_ macros), the one comparison of values with a tolerance (all_close), and the
// one guard against a hang (finishes_within).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include "nabla/error.h"
#include "nabla/tensor.h"

namespace nabla::test_util {

// Runs f on a thread; fails (leaving the thread behind) unless it finishes within `limit`.
inline void finishes_within(std::chrono::seconds limit, std::function<void()> f) {
  std::promise<void> done;
  std::future<void> fut = done.get_future();
  std::thread t([&done, f = std::move(f)]() mutable {
    try {
      f();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  if (fut.wait_for(limit) != std::future_status::ready) {
    t.detach();  // a hung loader must not hang the test binary too
    FAIL() << "did not finish within " << limit.count() << " s (hang?)";
  }
  t.join();
  fut.get();
}

/// Passes when fn throws E (a nabla::Error unless told otherwise; a subclass counts) whose
/// message contains every needle and is not an internal assertion (a user error must never
/// surface as a broken invariant); otherwise the failure says what happened instead.
template <class E = Error, class Fn>
::testing::AssertionResult throws_with(Fn&& fn, std::initializer_list<std::string_view> needles) {
  try {
    fn();
  } catch (const E& e) {
    const std::string msg = e.what();
    if (msg.rfind("internal error in nabla", 0) == 0) {
      return ::testing::AssertionFailure() << "a user error surfaced as an internal assertion: " << msg;
    }
    for (const std::string_view n : needles) {
      if (msg.find(n) == std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" does not contain \"" << n << "\"";
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw " << typeid(e).name() << " instead of " << typeid(E).name() << ": " << e.what();
  } catch (...) {
    return ::testing::AssertionFailure() << "threw something that is not a std::exception";
  }
  return ::testing::AssertionFailure() << "no exception was thrown";
}

/// Passes when `got` has the shape of `want` and every element is within
/// |got - want| <= atol + rtol * |want|, NaN matching NaN and an infinity the same infinity
/// (nabla::testing::compare, the check of nabla-parity, on any dtypes and devices); the
/// failure names the element furthest beyond.
::testing::AssertionResult all_close(const Tensor& got, const Tensor& want, double atol, double rtol);
/// The same against values in row-major order (`got` must have as many elements).
::testing::AssertionResult all_close(const Tensor& got, const std::vector<double>& want, double atol,
                                     double rtol);
::testing::AssertionResult all_close(const std::vector<double>& got, const std::vector<double>& want,
                                     double atol, double rtol);

}  // namespace nabla::test_util

/// EXPECT_NABLA_ERROR(expr, "needle", ...): evaluating expr throws nabla::Error whose message
/// contains every needle (throws_with). A comma outside parentheses in expr needs parentheses.
#define EXPECT_NABLA_ERROR(expr, ...) \
  EXPECT_TRUE(::nabla::test_util::throws_with([&] { (void)(expr); }, {__VA_ARGS__}))
/// The same for nabla::OutOfMemoryError.
#define EXPECT_OOM_ERROR(expr, ...) \
  EXPECT_TRUE(                      \
      ::nabla::test_util::throws_with<::nabla::OutOfMemoryError>([&] { (void)(expr); }, {__VA_ARGS__}))
