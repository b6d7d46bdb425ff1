// Helpers shared by the test files.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "nabla/error.h"

namespace nabla::test_util {

/// Passes when fn throws nabla::Error whose message contains every needle.
template <class Fn>
::testing::AssertionResult throws_with(Fn&& fn, std::initializer_list<std::string> needles) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& n : needles) {
      if (msg.find(n) == std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" does not contain \"" << n << "\"";
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-nabla exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "nothing was thrown";
}

}  // namespace nabla::test_util
