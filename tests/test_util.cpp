// all_close of test_util.h: nabla::testing::compare with a GoogleTest result. Here rather than
// in the header so that the test files, written inside namespace nabla, do not see
// nabla::testing (it would shadow GoogleTest's ::testing there).
#include "test_util.h"

#include "nabla/factories.h"
#include "nabla/testing.h"

namespace nabla::test_util {

::testing::AssertionResult all_close(const Tensor& got, const Tensor& want, double atol, double rtol) {
  if (!got.defined() || !want.defined()) {
    return ::testing::AssertionFailure() << (got.defined() ? "want" : "got") << " is an undefined tensor";
  }
  const nabla::testing::CompareStats s = nabla::testing::compare(got, want, {.atol = atol, .rtol = rtol});
  if (s.shape_mismatch) {
    return ::testing::AssertionFailure() << "shape " << got.shape_str() << ", want " << want.shape_str();
  }
  if (s.ok) return ::testing::AssertionSuccess();
  const auto i = static_cast<std::size_t>(s.worst);
  return ::testing::AssertionFailure() << fmt::format(
             "element {} is {}, want {} (atol {}, rtol {}; {} of {} elements beyond, max |diff| {})", s.worst,
             got.to_vector<double>()[i], want.to_vector<double>()[i], atol, rtol, s.beyond, s.numel,
             s.max_abs);
}

::testing::AssertionResult all_close(const Tensor& got, const std::vector<double>& want, double atol,
                                     double rtol) {
  if (!got.defined()) return ::testing::AssertionFailure() << "got is an undefined tensor";
  if (got.numel() != static_cast<int64_t>(want.size())) {
    return ::testing::AssertionFailure() << "shape " << got.shape_str() << " (" << got.numel()
                                         << " elements), want " << want.size() << " values";
  }
  return all_close(got, from_vector<double>(want, got.sizes()), atol, rtol);
}

::testing::AssertionResult all_close(const std::vector<double>& got, const std::vector<double>& want,
                                     double atol, double rtol) {
  return all_close(from_vector<double>(got), want, atol, rtol);
}

}  // namespace nabla::test_util
