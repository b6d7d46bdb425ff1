// nabla::from_blob: tensors over memory nabla does not own (what the Python binding's
// from_numpy / from_dlpack use). Sharing both ways, strides, the deleter running exactly once
// when the last view goes, and every rejected input.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "nabla/nabla.h"

namespace nabla {
namespace {

TEST(FromBlob, SharesMemoryBothWays) {
  std::vector<float> buf = {1, 2, 3, 4, 5, 6};
  Tensor t = from_blob(buf.data(), {2, 3}, {}, kFloat32);
  EXPECT_EQ(t.sizes(), (Shape{2, 3}));
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  EXPECT_EQ(t.data_ptr(), buf.data());
  buf[4] = 50;
  EXPECT_EQ(t.to_vector<float>()[4], 50.0f);
  t.select(0, 0).fill_(7);
  EXPECT_EQ(buf[0], 7.0f);
  EXPECT_EQ(buf[2], 7.0f);
  EXPECT_EQ(buf[3], 4.0f);
  EXPECT_EQ((t * 2).sum().item<float>(), 2 * (7 + 7 + 7 + 4 + 50 + 6));
}

TEST(FromBlob, Strides) {
  std::vector<double> buf = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  // Every other column of a 3x4 matrix, as NumPy's a[:, ::2].
  Tensor t = from_blob(buf.data(), {3, 2}, {4, 2}, kFloat64);
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_FALSE(t.is_contiguous());
  // Zero strides (a broadcast row).
  Tensor b = from_blob(buf.data(), {3, 2}, {0, 1}, kFloat64);
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{0, 1, 0, 1, 0, 1}));
}

TEST(FromBlob, DeleterRunsOnceWhenTheLastViewGoes) {
  std::vector<int64_t> buf = {1, 2, 3, 4};
  int calls = 0;
  {
    Tensor view;
    {
      Tensor t = from_blob(buf.data(), {4}, {}, kInt64, Device::cpu(), [&calls] { ++calls; });
      view = t.slice(0, 1, 3);
      Tensor copy = t.clone();  // a copy owns its own memory
      EXPECT_NE(copy.data_ptr(), t.data_ptr());
    }
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(view.to_vector<int64_t>(), (std::vector<int64_t>{2, 3}));
  }
  EXPECT_EQ(calls, 1);
}

TEST(FromBlob, AutogradOnForeignMemory) {
  std::vector<double> buf = {1, 2, 3};
  Tensor x = from_blob(buf.data(), {3}, {}, kFloat64).requires_grad_();
  (x * x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 4, 6}));
}

TEST(FromBlob, RejectsBadInput) {
  alignas(8) unsigned char raw[64] = {};
  int calls = 0;
  auto count = [&calls] { ++calls; };
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_THROW(from_blob(raw, {-1}, {}, kFloat32, Device::cpu(), count), Error);
  EXPECT_THROW(from_blob(raw, {2, 2}, {2, -1}, kFloat32, Device::cpu(), count), Error);
  EXPECT_THROW(from_blob(raw, {2, 2}, {1}, kFloat32, Device::cpu(), count), Error);
  EXPECT_THROW(from_blob(raw, {big, 2}, {}, kFloat32, Device::cpu(), count), Error);
  EXPECT_THROW(from_blob(raw, {3, 3}, {big / 2, 1}, kFloat32, Device::cpu(), count), Error);
  EXPECT_THROW(from_blob(raw, {2}, {big}, kFloat64, Device::cpu(), count), Error);
  EXPECT_THROW(from_blob(raw + 1, {2}, {}, kFloat32, Device::cpu(), count), Error);
  EXPECT_THROW(from_blob(nullptr, {2}, {}, kFloat32, Device::cpu(), count), Error);
  if (!cuda::is_available()) {
    EXPECT_THROW(from_blob(raw, {2}, {}, kFloat32, Device::cuda(0), count), Error);
  }
  EXPECT_THROW(from_blob(raw, {2}, {}, kFloat32, Device::cuda(1000), count), Error);
  EXPECT_EQ(calls, 0);  // the deleter never runs for a rejected call
  // An empty tensor may have a null pointer.
  EXPECT_EQ(from_blob(nullptr, {0, 3}, {}, kFloat32).numel(), 0);
}

}  // namespace
}  // namespace nabla
