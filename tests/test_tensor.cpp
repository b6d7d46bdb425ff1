// Tensor semantics on the CPU: factories, dtype conversion (16-bit rounding included), type
// promotion, views and their geometry, broadcasting, in-place ops, reductions, matmul,
// softmax, indexing, empty tensors and thread-count independence. Expected values are
// PyTorch's for the same calls.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "core/math/softmax.h"
#include "cpu_fallback/blas.h"
#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

using test_util::all_close;

using F = std::vector<float>;
using D = std::vector<double>;
using L = std::vector<int64_t>;

constexpr double kInf = std::numeric_limits<double>::infinity();

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// 0, 1, ..., n-1 as float32 in `shape`.
Tensor iota(const Shape& shape, ScalarType t = kFloat32) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return arange(n, t).view(shape);
}

// ---- factories ---------------------------------------------------------------------------

TEST(Factories, ZerosOnesFull) {
  const Tensor z = zeros({2, 3});
  EXPECT_EQ(z.dtype(), kFloat32);
  EXPECT_EQ(z.sizes(), (Shape{2, 3}));
  EXPECT_EQ(z.strides(), (Shape{3, 1}));
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.to_vector<float>(), F(6, 0.f));
  EXPECT_FALSE(z.requires_grad());
  EXPECT_TRUE(z.device().is_cpu());

  const Tensor o = ones({4}, kInt32);
  EXPECT_EQ(o.dtype(), kInt32);
  EXPECT_EQ(o.to_vector<int32_t>(), (std::vector<int32_t>{1, 1, 1, 1}));
  EXPECT_EQ(o.element_size(), 4u);
  EXPECT_EQ(o.nbytes(), 16u);

  const Tensor f = full({2, 2}, 3.5, kFloat64);
  EXPECT_EQ(f.dtype(), kFloat64);
  EXPECT_EQ(f.to_vector<double>(), D(4, 3.5));

  // 0-dim
  const Tensor s = zeros({});
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item<float>(), 0.f);
  EXPECT_EQ(scalar_tensor(2).dtype(), kFloat32);
  EXPECT_EQ(scalar_tensor(true).dtype(), kBool);
  EXPECT_EQ(scalar_tensor(2.5, kFloat64).item<double>(), 2.5);
}

TEST(Factories, FullInfersItsDtypeFromTheValue) {
  EXPECT_EQ(full({2}, 7).dtype(), kInt64);
  EXPECT_EQ(full({2}, 7).to_vector<int64_t>(), (L{7, 7}));
  EXPECT_EQ(full({2}, 2.5).dtype(), kFloat32);
  EXPECT_EQ(full({2}, 2.5f).dtype(), kFloat32);
  EXPECT_EQ(full({2}, true).dtype(), kBool);
  EXPECT_EQ(full({2}, true).to_vector<bool>(), (std::vector<bool>{true, true}));
  // an explicit dtype wins; an integer value fills a float tensor
  EXPECT_EQ(full({2}, 7, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(full({2}, 7, kFloat64).to_vector<double>(), (D{7, 7}));
  EXPECT_EQ(full({1}, int64_t{-5}, kUInt8).to_vector<uint8_t>()[0], 251);  // wraps as a cast would
}

TEST(Factories, Arange) {
  Tensor a = arange(5);
  EXPECT_EQ(a.dtype(), kInt64);
  EXPECT_EQ(a.to_vector<int64_t>(), (L{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(2, 11, 3).to_vector<int64_t>(), (L{2, 5, 8}));
  EXPECT_EQ(arange(5, 0, -2).to_vector<int64_t>(), (L{5, 3, 1}));
  EXPECT_EQ(arange(-3, 0).to_vector<int64_t>(), (L{-3, -2, -1}));
  EXPECT_EQ(arange(0).numel(), 0);
  EXPECT_EQ(arange(3, 3).numel(), 0);

  // any floating-point argument gives the default float dtype
  a = arange(1, 2, 0.25);
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(a.to_vector<float>(), (F{1, 1.25f, 1.5f, 1.75f}));
  a = arange(0.0, -1.0, -0.25);
  EXPECT_EQ(a.to_vector<float>(), (F{0, -0.25f, -0.5f, -0.75f}));
  EXPECT_EQ(arange(0.0, 1.0, 0.1).numel(), 10);  // as torch.arange(0, 1, 0.1)
  EXPECT_EQ(arange(0.5, 3.0).to_vector<float>(), (F{0.5f, 1.5f, 2.5f}));
  // element i is start + i * step (no accumulated error)
  const D v = arange(0.0, 10.0, 0.1, kFloat64).to_vector<double>();
  ASSERT_EQ(v.size(), 100u);
  EXPECT_EQ(v[99], 99 * 0.1);

  // explicit dtypes
  EXPECT_EQ(arange(4, kFloat64).to_vector<double>(), (D{0, 1, 2, 3}));
  EXPECT_EQ(arange(0, 6, 2, kInt32).to_vector<int32_t>(), (std::vector<int32_t>{0, 2, 4}));
}

TEST(Factories, Linspace) {
  EXPECT_TRUE(all_close(linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1}, 0, 0));
  EXPECT_EQ(linspace(0, 1, 5).dtype(), kFloat32);
  EXPECT_TRUE(all_close(linspace(-1, 1, 3, kFloat64), {-1, 0, 1}, 0, 0));
  EXPECT_TRUE(all_close(linspace(2, 2, 1), {2}, 0, 0));
  EXPECT_TRUE(all_close(linspace(3, -3, 4), {3, 1, -1, -3}, 1e-6, 0));
  EXPECT_EQ(linspace(0, 1, 0).numel(), 0);
  EXPECT_EQ(linspace(0, 1, 0).sizes(), (Shape{0}));
  const F v = linspace(0, 1, 7).to_vector<float>();
  EXPECT_EQ(v.front(), 0.f);
  EXPECT_EQ(v.back(), 1.f);
}

TEST(Factories, EyeIncludingNonSquare) {
  EXPECT_EQ(eye(3).to_vector<float>(), (F{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  const Tensor w = eye(2, 3);
  EXPECT_EQ(w.sizes(), (Shape{2, 3}));
  EXPECT_EQ(w.to_vector<float>(), (F{1, 0, 0, 0, 1, 0}));
  const Tensor t = eye(3, 2, kInt64);
  EXPECT_EQ(t.dtype(), kInt64);
  EXPECT_EQ(t.to_vector<int64_t>(), (L{1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(eye(0).sizes(), (Shape{0, 0}));
  EXPECT_EQ(eye(2, 0).sizes(), (Shape{2, 0}));
  EXPECT_TRUE(eye(2).is_contiguous());
}

TEST(Factories, EmptyAndLike) {
  const Tensor e = empty({2, 0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_EQ(e.sizes(), (Shape{2, 0, 3}));
  EXPECT_EQ(e.dtype(), kFloat32);
  EXPECT_EQ(empty({3}, kUInt8).dtype(), kUInt8);

  const Tensor x = ones({2, 3}, kInt32);
  EXPECT_EQ(zeros_like(x).dtype(), kInt32);
  EXPECT_EQ(zeros_like(x).sizes(), (Shape{2, 3}));
  EXPECT_EQ(zeros_like(x).to_vector<int32_t>(), std::vector<int32_t>(6, 0));
  EXPECT_EQ(ones_like(x, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(ones_like(x, kFloat64).to_vector<double>(), D(6, 1.0));
  EXPECT_EQ(full_like(x, 4).to_vector<int32_t>(), std::vector<int32_t>(6, 4));
  EXPECT_EQ(full_like(x, 4).dtype(), kInt32);
  EXPECT_EQ(empty_like(x).sizes(), (Shape{2, 3}));
  EXPECT_EQ(empty_like(x).dtype(), kInt32);
  EXPECT_FALSE(empty_like(x).is_alias_of(x));
  // *_like of a non-contiguous tensor is a fresh contiguous tensor of the same sizes
  const Tensor t = ones({2, 3}).t();
  EXPECT_EQ(zeros_like(t).sizes(), (Shape{3, 2}));
  EXPECT_TRUE(zeros_like(t).is_contiguous());
  // requires_grad in options
  EXPECT_TRUE(zeros({2}, TensorOptions().requires_grad(true)).requires_grad());
  EXPECT_TRUE(zeros({2}, TensorOptions().requires_grad(true)).is_leaf());
}

template <class T>
void round_trip(const std::vector<T>& values) {
  const Tensor t = from_vector<T>(values, {static_cast<int64_t>(values.size())});
  EXPECT_EQ(t.dtype(), dtype_of<T>());
  const std::vector<T> back = t.to_vector<T>();
  ASSERT_EQ(back.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      EXPECT_EQ(back[i].bits, values[i].bits);
    } else {
      EXPECT_EQ(back[i], values[i]);
    }
  }
  const Tensor one = from_vector<T>({values[0]}, Shape{});
  EXPECT_EQ(one.dim(), 0);
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    EXPECT_EQ(one.item<T>().bits, values[0].bits);
  } else {
    EXPECT_EQ(one.item<T>(), values[0]);
  }
}

TEST(Factories, FromVectorToVectorItemForEveryDtype) {
  round_trip<float>({1.5f, -2.f, 1e-30f});
  round_trip<double>({1.0 / 3.0, -1e300, 0.0});
  round_trip<Half>({Half(1.5f), Half(-2.f), Half::from_bits(0x0001)});
  round_trip<BFloat16>({BFloat16(1.5f), BFloat16(-3.f), BFloat16(1e30f)});
  round_trip<int64_t>({std::numeric_limits<int64_t>::max(), -1, 0});
  round_trip<int32_t>({std::numeric_limits<int32_t>::min(), 7, 0});
  round_trip<uint8_t>({255, 0, 17});
  round_trip<bool>({true, false, true});

  // shaped, and converted by options
  const Tensor t = from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  EXPECT_EQ(t.dtype(), kFloat64);
  EXPECT_EQ(t.sizes(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector<double>(), (D{1, 2, 3, 4, 5, 6}));
  // to_vector converts; item converts
  EXPECT_EQ(from_vector<float>({2.75f}).item<int64_t>(), 2);
  EXPECT_EQ(from_vector<int64_t>({3}).item<double>(), 3.0);
  EXPECT_TRUE(from_vector<int64_t>({3}).item().is_integral());
  EXPECT_EQ(from_vector<int64_t>({3}).item().to_int(), 3);
  EXPECT_TRUE(from_vector<double>({0.5}).item().is_floating_point());
  EXPECT_TRUE(from_vector<bool>({true}).item().is_bool());
  EXPECT_EQ(from_vector<float>({0.f, 2.f}).to_vector<bool>(), (std::vector<bool>{false, true}));
  // the tensor owns a copy of the data
  std::vector<float> src{1, 2};
  const Tensor c = from_vector(src);
  src[0] = 9;
  EXPECT_EQ(c.to_vector<float>(), (F{1, 2}));
  // from_vector with requires_grad
  EXPECT_TRUE(from_vector<double>({1.0}, TensorOptions(kFloat64).requires_grad(true)).requires_grad());
  // to_vector of a non-contiguous tensor walks it in logical order
  EXPECT_EQ(iota({2, 3}).t().to_vector<float>(), (F{0, 3, 1, 4, 2, 5}));
}

// ---- dtype conversion --------------------------------------------------------------------

TEST(Casts, BetweenIntegerFloatAndBool) {
  const Tensor f = from_vector<float>({-1.7f, 2.9f, 0.f, 0.25f});
  EXPECT_EQ(f.to(kInt32).to_vector<int32_t>(), (std::vector<int32_t>{-1, 2, 0, 0}));  // toward zero
  EXPECT_EQ(f.to(kBool).to_vector<bool>(), (std::vector<bool>{true, true, false, true}));
  EXPECT_EQ(from_vector<bool>({true, false}).to(kFloat32).to_vector<float>(), (F{1, 0}));
  EXPECT_EQ(from_vector<int64_t>({259, -1}).to(kUInt8).to_vector<uint8_t>(), (std::vector<uint8_t>{3, 255}));
  EXPECT_EQ(from_vector<uint8_t>({200}).to(kInt64).item<int64_t>(), 200);
  EXPECT_EQ(from_vector<int64_t>({1LL << 40}).to(kFloat64).item<double>(), std::ldexp(1.0, 40));
  EXPECT_EQ(from_vector<double>({0.1}).to(kFloat32).item<float>(), 0.1f);  // round to nearest
  // to() with the same dtype returns the same tensor unless a copy is asked for
  EXPECT_TRUE(f.to(kFloat32).is_alias_of(f));
  EXPECT_FALSE(f.to(kFloat32, /*copy=*/true).is_alias_of(f));
  EXPECT_EQ(f.to(TensorOptions(kFloat64)).dtype(), kFloat64);
}

TEST(Casts, Float16RoundsToNearestEven) {
  EXPECT_EQ(static_cast<float>(Half(1.0009765625f)), 1.0009765625f);  // 1 + 2^-10: exact
  EXPECT_EQ(Half(1.0009765625f).bits, 0x3c01);
  EXPECT_EQ(static_cast<float>(Half(1.00048828125f)), 1.0f);          // 1 + 2^-11: tie, to even (down)
  EXPECT_EQ(static_cast<float>(Half(1.00146484375f)), 1.001953125f);  // 1 + 3*2^-11: tie, to even (up)
  EXPECT_EQ(static_cast<float>(Half(1.0005f)), 1.0009765625f);        // above the tie: up
  EXPECT_EQ(static_cast<float>(Half(65504.f)), 65504.f);              // largest finite half
  EXPECT_EQ(static_cast<float>(Half(65519.f)), 65504.f);              // below the midpoint
  EXPECT_TRUE(std::isinf(static_cast<float>(Half(65520.f))));         // midpoint: rounds to even = inf
  EXPECT_EQ(Half(65520.f).bits, 0x7c00);
  EXPECT_EQ(Half(-65520.f).bits, 0xfc00);
  EXPECT_EQ(Half(1e10f).bits, 0x7c00);
  EXPECT_TRUE(std::isnan(static_cast<float>(Half(NAN))));
  // subnormals: 2^-24 is the smallest; 2^-25 ties to 0 (even); 3*2^-25 ties up to 2*2^-24
  EXPECT_EQ(Half(std::ldexp(1.f, -24)).bits, 0x0001);
  EXPECT_EQ(Half(std::ldexp(1.f, -25)).bits, 0x0000);
  EXPECT_EQ(Half(std::ldexp(3.f, -25)).bits, 0x0002);
  EXPECT_EQ(Half(std::ldexp(1.f, -14)).bits, 0x0400);  // smallest normal
  EXPECT_EQ(Half(-0.f).bits, 0x8000);
  EXPECT_EQ(static_cast<float>(Half::from_bits(0x3555)), 0.333251953125f);

  // the same rounding through a tensor cast, and arithmetic in float16 rounds each result
  const Tensor h = from_vector<float>({1.0009765625f, 65520.f, 65519.f, 1.00048828125f}).to(kFloat16);
  EXPECT_EQ(h.dtype(), kFloat16);
  const F back = h.to_vector<float>();
  EXPECT_EQ(back[0], 1.0009765625f);
  EXPECT_TRUE(std::isinf(back[1]));
  EXPECT_EQ(back[2], 65504.f);
  EXPECT_EQ(back[3], 1.f);
  // each float16 result is rounded: 65504 + 8 = 65512 rounds down, 65504 + 16 = 65520 ties to inf
  EXPECT_EQ((full({1}, 65504.0, kFloat16) + 8).to_vector<float>()[0], 65504.f);
  EXPECT_TRUE(std::isinf((full({1}, 65504.0, kFloat16) + 16).to_vector<float>()[0]));
  EXPECT_EQ((full({1}, 1.0, kFloat16) + 0.00048828125).to_vector<float>()[0], 1.f);
}

TEST(Casts, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(static_cast<float>(BFloat16(1.0078125f)), 1.0078125f);           // 1 + 2^-7: exact
  EXPECT_EQ(static_cast<float>(BFloat16(1.00390625f)), 1.0f);                // 1 + 2^-8: tie, to even (down)
  EXPECT_EQ(static_cast<float>(BFloat16(1.01171875f)), 1.015625f);           // 1 + 3*2^-8: tie, to even (up)
  EXPECT_EQ(static_cast<float>(BFloat16(1.00390625f + 1e-6f)), 1.0078125f);  // above the tie: up
  EXPECT_EQ(BFloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(BFloat16(-2.0f).bits, 0xc000);
  EXPECT_EQ(static_cast<float>(BFloat16(3.0e38f)), std::ldexp(226.f, 120));  // 1.7632 * 2^127 -> 226/128
  EXPECT_TRUE(std::isinf(static_cast<float>(BFloat16(3.4e38f))));            // rounds past the largest finite
  EXPECT_TRUE(std::isnan(static_cast<float>(BFloat16(NAN))));
  EXPECT_EQ(BFloat16(1e-40f).bits, 0x0001);  // float subnormals round like any other value

  const Tensor b = from_vector<float>({1.00390625f, 1.01171875f, 256.5f}).to(kBFloat16);
  EXPECT_EQ(b.dtype(), kBFloat16);
  EXPECT_EQ(b.to_vector<float>(), (F{1.0f, 1.015625f, 256.f}));
}

// ---- type promotion ------------------------------------------------------------------------

TEST(Promotion, PyTorchResultTypes) {
  const Tensor i32 = ones({2}, kInt32), i64 = ones({2}, kInt64), u8 = ones({2}, kUInt8);
  const Tensor f16 = ones({2}, kFloat16), bf16 = ones({2}, kBFloat16), f32 = ones({2}), b = ones({2}, kBool);

  Tensor r = i32 + 2.5;
  EXPECT_EQ(r.dtype(), kFloat32);
  EXPECT_EQ(r.to_vector<float>(), (F{3.5f, 3.5f}));
  EXPECT_EQ((i32 + i64).dtype(), kInt64);
  EXPECT_EQ((i32 + 5).dtype(), kInt32);  // an integer number does not widen an int tensor
  EXPECT_EQ((f16 * 2.0).dtype(), kFloat16);
  EXPECT_EQ((f16 * 2.0).to_vector<float>(), (F{2, 2}));
  EXPECT_EQ((f16 + bf16).dtype(), kFloat32);
  EXPECT_EQ((f16 + f32).dtype(), kFloat32);
  EXPECT_EQ((u8 + i32).dtype(), kInt32);
  EXPECT_EQ((u8 + 1000).dtype(), kUInt8);
  EXPECT_EQ((u8 + 1000).to_vector<uint8_t>()[0], 233);  // 1 + (uint8)1000, wrapping, as PyTorch
  EXPECT_EQ((b + 1).dtype(), kInt64);
  EXPECT_EQ((b + 1).to_vector<int64_t>(), (L{2, 2}));
  EXPECT_EQ((b + 1.5).dtype(), kFloat32);
  EXPECT_EQ((i32 + true).dtype(), kInt32);

  r = b + b;
  EXPECT_EQ(r.dtype(), kBool);
  EXPECT_EQ(r.to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_EQ((zeros({2}, kBool) + zeros({2}, kBool)).to_vector<bool>(), (std::vector<bool>{false, false}));
  EXPECT_EQ((b * b).dtype(), kBool);

  // 0-dim tensors rank below dimensioned ones within a category
  const Tensor d0 = scalar_tensor(2.0, kFloat64);
  EXPECT_EQ((d0 + f32).dtype(), kFloat32);
  EXPECT_EQ((f32 + d0).dtype(), kFloat32);
  EXPECT_EQ((d0 + i32).dtype(), kFloat64);  // a higher category still counts
  EXPECT_EQ((full({}, 3) + i32).dtype(), kInt32);
  EXPECT_EQ((d0 + scalar_tensor(1.0)).dtype(), kFloat64);  // both 0-dim: ordinary promotion
  EXPECT_EQ(result_type(d0, f16), kFloat16);
  EXPECT_EQ(result_type(i64, u8), kInt64);

  // true division
  r = from_vector<int64_t>({7, -7}) / from_vector<int64_t>({2, 2});
  EXPECT_EQ(r.dtype(), kFloat32);
  EXPECT_EQ(r.to_vector<float>(), (F{3.5f, -3.5f}));
  EXPECT_EQ((from_vector<int32_t>({1}) / 4).to_vector<float>(), (F{0.25f}));
  EXPECT_EQ((ones({1}, kFloat64) / from_vector<int64_t>({4})).dtype(), kFloat64);

  // comparisons give bool whatever the inputs
  EXPECT_EQ((i32 < 2.5).dtype(), kBool);
  EXPECT_EQ(eq(f16, i64).dtype(), kBool);
  EXPECT_EQ((from_vector<int32_t>({1, 3}) < 2.5).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(ge(from_vector<float>({1, 2}), from_vector<int64_t>({2, 2})).to_vector<bool>(),
            (std::vector<bool>{false, true}));

  // promote_types itself
  EXPECT_EQ(promote_types(kUInt8, kBool), kUInt8);
  EXPECT_EQ(promote_types(kInt64, kFloat16), kFloat16);
  EXPECT_EQ(promote_types(kBFloat16, kFloat64), kFloat64);
  EXPECT_EQ(promote_types(kUInt8, kInt32), kInt32);
}

TEST(Promotion, DtypeNames) {
  for (ScalarType t : {kFloat32, kFloat64, kFloat16, kBFloat16, kInt64, kInt32, kUInt8, kBool}) {
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  }
  EXPECT_EQ(dtype_from_name("double"), kFloat64);
  EXPECT_EQ(dtype_from_name("half"), kFloat16);
  EXPECT_EQ(dtype_from_name("long"), kInt64);
  EXPECT_EQ(element_size(kBFloat16), 2u);
  EXPECT_EQ(element_size(kBool), 1u);
  EXPECT_TRUE(is_floating_point(kBFloat16));
  EXPECT_FALSE(is_integral(kBool));
  EXPECT_TRUE(is_integral(kBool, /*include_bool=*/true));
  EXPECT_EQ(Device("cuda:3"), Device::cuda(3));
  EXPECT_EQ(Device("cpu").str(), "cpu");
  EXPECT_EQ(Device::cuda(1).str(), "cuda:1");
}

// ---- views ----------------------------------------------------------------------------------

TEST(Views, ShareStorageAndVersionCounter) {
  Tensor x = zeros({2, 3});
  Tensor row = x.select(0, 1);
  EXPECT_TRUE(row.is_alias_of(x));
  const uint32_t v0 = x.version();
  row.fill_(5);
  EXPECT_EQ(x.to_vector<float>(), (F{0, 0, 0, 5, 5, 5}));
  EXPECT_GT(x.version(), v0);
  EXPECT_EQ(x.version(), row.version());

  Tensor col = x.t().select(0, 2);  // column 2
  col.add_(1);
  EXPECT_EQ(x.to_vector<float>(), (F{0, 0, 1, 5, 5, 6}));
  EXPECT_EQ(x.version(), col.version());

  // a base write is visible through views
  x.zero_();
  EXPECT_EQ(row.to_vector<float>(), (F{0, 0, 0}));
  EXPECT_EQ(x.view({6}).version(), x.version());
  // detach shares storage too
  Tensor d = x.detach();
  d.fill_(2);
  EXPECT_EQ(x.to_vector<float>(), F(6, 2.f));
  // a clone does not
  Tensor c = x.clone();
  EXPECT_FALSE(c.is_alias_of(x));
  c.fill_(0);
  EXPECT_EQ(x.to_vector<float>(), F(6, 2.f));
}

TEST(Views, ViewReshapeFlatten) {
  const Tensor x = iota({2, 3, 4});
  Tensor v = x.view({6, 4});
  EXPECT_EQ(v.sizes(), (Shape{6, 4}));
  EXPECT_EQ(v.strides(), (Shape{4, 1}));
  EXPECT_TRUE(v.is_alias_of(x));
  EXPECT_EQ(x.view({-1}).sizes(), (Shape{24}));
  EXPECT_EQ(x.view({2, -1, 3}).sizes(), (Shape{2, 4, 3}));
  EXPECT_EQ(ones({1}).view({}).dim(), 0);
  EXPECT_EQ(ones({}).view({1, 1}).sizes(), (Shape{1, 1}));

  // a transposed tensor can still be viewed along chunks that stay contiguous
  const Tensor t = iota({4, 6}).view({4, 2, 3}).transpose(0, 1);  // [2, 4, 3], strides [3, 6, 1]
  EXPECT_EQ(t.strides(), (Shape{3, 6, 1}));
  EXPECT_FALSE(t.is_contiguous());
  const Tensor tv = t.view({2, 2, 2, 3});  // splits the strided dim: allowed
  EXPECT_EQ(tv.strides(), (Shape{3, 12, 6, 1}));
  EXPECT_EQ(tv.to_vector<float>(), t.contiguous().to_vector<float>());

  // reshape: a view when possible, a copy when not
  const Tensor r1 = x.reshape({4, 6});
  EXPECT_TRUE(r1.is_alias_of(x));
  const Tensor xt = iota({2, 3}).t();
  const Tensor r2 = xt.reshape({6});
  EXPECT_FALSE(r2.is_alias_of(xt));
  EXPECT_TRUE(r2.is_contiguous());
  EXPECT_EQ(r2.to_vector<float>(), (F{0, 3, 1, 4, 2, 5}));

  // flatten
  EXPECT_EQ(x.flatten().sizes(), (Shape{24}));
  EXPECT_EQ(x.flatten(1).sizes(), (Shape{2, 12}));
  EXPECT_EQ(x.flatten(0, 1).sizes(), (Shape{6, 4}));
  EXPECT_EQ(x.flatten(-2, -1).sizes(), (Shape{2, 12}));
  EXPECT_EQ(ones({}).flatten().sizes(), (Shape{1}));
  EXPECT_TRUE(x.flatten().is_alias_of(x));
}

TEST(Views, TransposePermute) {
  const Tensor x = iota({2, 3});
  const Tensor t = x.t();
  EXPECT_EQ(t.sizes(), (Shape{3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 3}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<float>(), (F{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(t.t().strides(), (Shape{3, 1}));
  EXPECT_TRUE(t.t().is_contiguous());
  EXPECT_EQ(ones({3}).t().sizes(), (Shape{3}));

  const Tensor y = iota({2, 3, 4});
  const Tensor p = y.permute({2, 0, 1});
  EXPECT_EQ(p.sizes(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_EQ(p.select(0, 1).to_vector<float>(), (F{1, 5, 9, 13, 17, 21}));
  EXPECT_EQ(y.permute({-1, 0, 1}).strides(), (Shape{1, 12, 4}));
  EXPECT_EQ(y.transpose(0, 2).sizes(), (Shape{4, 3, 2}));
  EXPECT_EQ(y.transpose(-1, -3).strides(), (Shape{1, 4, 12}));
  EXPECT_EQ(transpose(y, 1, 1).strides(), y.strides());
}

TEST(Views, SliceNarrowSelect) {
  const Tensor x = arange(10, kFloat32);
  Tensor s = x.slice(0, 1, 8, 3);
  EXPECT_EQ(s.sizes(), (Shape{3}));
  EXPECT_EQ(s.strides(), (Shape{3}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_EQ(s.to_vector<float>(), (F{1, 4, 7}));
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_EQ(x.slice(0, -3).to_vector<float>(), (F{7, 8, 9}));
  EXPECT_EQ(x.slice(0, std::nullopt, -7).to_vector<float>(), (F{0, 1, 2}));
  EXPECT_EQ(x.slice(0, 8, 100).to_vector<float>(), (F{8, 9}));  // end clamped
  EXPECT_EQ(x.slice(0, 7, 3).numel(), 0);                       // empty, not an error
  EXPECT_EQ(x.slice(0, 0, 10, 4).to_vector<float>(), (F{0, 4, 8}));
  EXPECT_EQ(x.slice(0, -100, 2).to_vector<float>(), (F{0, 1}));  // start clamped

  const Tensor m = iota({3, 4});
  const Tensor n = m.narrow(1, 1, 2);
  EXPECT_EQ(n.sizes(), (Shape{3, 2}));
  EXPECT_EQ(n.strides(), (Shape{4, 1}));
  EXPECT_EQ(n.storage_offset(), 1);
  EXPECT_EQ(n.to_vector<float>(), (F{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(m.narrow(0, -1, 1).to_vector<float>(), (F{8, 9, 10, 11}));
  EXPECT_EQ(m.narrow(0, 3, 0).sizes(), (Shape{0, 4}));
  EXPECT_TRUE(m.narrow(0, 1, 2).is_contiguous());

  const Tensor c = m.select(1, -1);
  EXPECT_EQ(c.sizes(), (Shape{3}));
  EXPECT_EQ(c.strides(), (Shape{4}));
  EXPECT_EQ(c.storage_offset(), 3);
  EXPECT_EQ(c.to_vector<float>(), (F{3, 7, 11}));
  EXPECT_EQ(m[2].to_vector<float>(), (F{8, 9, 10, 11}));
  EXPECT_EQ(m[1][2].dim(), 0);
  EXPECT_EQ(m[1][2].item<float>(), 6.f);
  // a slice of a slice composes offsets and strides
  const Tensor ss = m.slice(1, 1, 4, 2).slice(0, 1, 3, 1);
  EXPECT_EQ(ss.storage_offset(), 5);
  EXPECT_EQ(ss.strides(), (Shape{4, 2}));
  EXPECT_EQ(ss.to_vector<float>(), (F{5, 7, 9, 11}));
}

TEST(Views, ExpandSqueezeUnsqueeze) {
  const Tensor x = from_vector<float>({1, 2, 3}, {3, 1});
  const Tensor e = x.expand({2, 3, 4});
  EXPECT_EQ(e.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(e.strides(), (Shape{0, 1, 0}));
  EXPECT_FALSE(e.is_contiguous());
  EXPECT_TRUE(e.is_alias_of(x));
  const F ev = e.to_vector<float>();
  EXPECT_EQ(ev.size(), 24u);
  EXPECT_EQ(ev[4], 2.f);
  EXPECT_EQ(ev[23], 3.f);
  EXPECT_EQ(x.expand({-1, 2}).sizes(), (Shape{3, 2}));
  EXPECT_EQ(x.expand({3, 1}).strides(), x.strides());
  EXPECT_EQ(ones({1}).expand({0}).numel(), 0);
  EXPECT_EQ(ones({}).expand({2, 2}).strides(), (Shape{0, 0}));
  EXPECT_EQ(ones({2}).expand_as(ones({3, 2})).sizes(), (Shape{3, 2}));

  const Tensor y = zeros({1, 3, 1});
  EXPECT_EQ(y.squeeze().sizes(), (Shape{3}));
  EXPECT_EQ(y.squeeze(0).sizes(), (Shape{3, 1}));
  EXPECT_EQ(y.squeeze(-1).sizes(), (Shape{1, 3}));
  EXPECT_EQ(y.squeeze(1).sizes(), (Shape{1, 3, 1}));  // not size 1: unchanged
  EXPECT_EQ(ones({1, 1}).squeeze().dim(), 0);
  EXPECT_EQ(y.unsqueeze(0).sizes(), (Shape{1, 1, 3, 1}));
  EXPECT_EQ(y.unsqueeze(-1).sizes(), (Shape{1, 3, 1, 1}));
  EXPECT_EQ(iota({2, 3}).unsqueeze(1).sizes(), (Shape{2, 1, 3}));
  EXPECT_EQ(iota({2, 3}).unsqueeze(1).strides(), (Shape{3, 3, 1}));
  EXPECT_EQ(iota({2, 3}).unsqueeze(2).strides(), (Shape{3, 1, 1}));
  EXPECT_TRUE(iota({2, 3}).unsqueeze(1).is_contiguous());
  EXPECT_EQ(ones({}).unsqueeze(0).sizes(), (Shape{1}));
  EXPECT_TRUE(y.squeeze().is_alias_of(y));
}

TEST(Views, ContiguousAndAsStrided) {
  const Tensor x = iota({2, 3});
  EXPECT_TRUE(x.contiguous().is_alias_of(x));
  EXPECT_EQ(x.contiguous().impl(), x.impl());
  const Tensor c = x.t().contiguous();
  EXPECT_FALSE(c.is_alias_of(x));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), (Shape{2, 1}));
  EXPECT_EQ(c.to_vector<float>(), (F{0, 3, 1, 4, 2, 5}));

  const Tensor a = arange(9, kFloat32);
  const Tensor s = a.as_strided({2, 2}, {3, 1}, 1);
  EXPECT_EQ(s.sizes(), (Shape{2, 2}));
  EXPECT_EQ(s.strides(), (Shape{3, 1}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_EQ(s.to_vector<float>(), (F{1, 2, 4, 5}));
  EXPECT_TRUE(s.is_alias_of(a));
  // overlapping windows (stride smaller than the window)
  EXPECT_EQ(a.as_strided({3, 3}, {2, 1}).to_vector<float>(), (F{0, 1, 2, 2, 3, 4, 4, 5, 6}));
  // the default offset is the tensor's own
  EXPECT_EQ(a.narrow(0, 4, 2).as_strided({2}, {1}).to_vector<float>(), (F{4, 5}));
}

TEST(Views, SplitAndChunk) {
  const Tensor x = arange(5, kFloat32);
  std::vector<Tensor> parts = x.split(2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].to_vector<float>(), (F{0, 1}));
  EXPECT_EQ(parts[1].to_vector<float>(), (F{2, 3}));
  EXPECT_EQ(parts[2].to_vector<float>(), (F{4}));
  EXPECT_TRUE(parts[2].is_alias_of(x));
  parts = x.split(Shape{1, 4});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].to_vector<float>(), (F{1, 2, 3, 4}));
  parts = x.split(Shape{0, 5});
  EXPECT_EQ(parts[0].numel(), 0);
  parts = x.chunk(3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].numel(), 2);
  EXPECT_EQ(parts[2].numel(), 1);
  parts = arange(6).chunk(4);  // as PyTorch: chunks of ceil(6/4) = 2, so only 3 chunks
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].to_vector<int64_t>(), (L{4, 5}));
  parts = iota({2, 6}).chunk(2, 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].sizes(), (Shape{2, 3}));
  EXPECT_EQ(parts[1].to_vector<float>(), (F{3, 4, 5, 9, 10, 11}));
  parts = x.split(10);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].numel(), 5);
}

// ---- broadcasting -----------------------------------------------------------------------------

TEST(Broadcasting, Values) {
  const Tensor col = from_vector<float>({1, 2, 3}, {3, 1});
  const Tensor row = from_vector<float>({10, 20, 30, 40}, {1, 4});
  Tensor r = col + row;
  EXPECT_EQ(r.sizes(), (Shape{3, 4}));
  EXPECT_EQ(r.to_vector<float>(), (F{11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}));

  r = iota({2, 3}) * from_vector<float>({1, 10, 100});
  EXPECT_EQ(r.to_vector<float>(), (F{0, 10, 200, 3, 40, 500}));

  r = scalar_tensor(5.0) - iota({2, 2});
  EXPECT_EQ(r.sizes(), (Shape{2, 2}));
  EXPECT_EQ(r.to_vector<float>(), (F{5, 4, 3, 2}));

  r = iota({2, 1, 3}) + from_vector<float>({0, 100, 200, 300}, {4, 1});
  EXPECT_EQ(r.sizes(), (Shape{2, 4, 3}));
  EXPECT_EQ(r.select(0, 1).select(0, 2).to_vector<float>(), (F{203, 204, 205}));

  // size-0 dims broadcast against size 1 and give empty results
  r = zeros({0, 3}) + ones({1, 3});
  EXPECT_EQ(r.sizes(), (Shape{0, 3}));
  r = zeros({2, 0}) * ones({2, 1});
  EXPECT_EQ(r.sizes(), (Shape{2, 0}));
  r = zeros({0}) + scalar_tensor(1.0);
  EXPECT_EQ(r.sizes(), (Shape{0}));

  // 0-dim with 0-dim
  r = scalar_tensor(2.0) * scalar_tensor(3.0);
  EXPECT_EQ(r.dim(), 0);
  EXPECT_EQ(r.item<float>(), 6.f);

  EXPECT_EQ(broadcast_shapes({5, 1, 4}, {3, 1}), (Shape{5, 3, 4}));
  EXPECT_EQ(broadcast_shapes({}, {2}), (Shape{2}));
  EXPECT_EQ(broadcast_shapes({0}, {1}), (Shape{0}));
  const std::vector<Tensor> bt = broadcast_tensors({ones({3, 1}), ones({4})});
  EXPECT_EQ(bt[0].sizes(), (Shape{3, 4}));
  EXPECT_EQ(bt[1].sizes(), (Shape{3, 4}));
  EXPECT_EQ(bt[1].strides(), (Shape{0, 1}));

  // where / maximum broadcast their inputs too
  r = where(from_vector<bool>({true, false}, {2, 1}), iota({2, 3}), scalar_tensor(-1.0));
  EXPECT_EQ(r.to_vector<float>(), (F{0, 1, 2, -1, -1, -1}));
  r = maximum(from_vector<float>({1, 5}, {2, 1}), from_vector<float>({2, 3, 4}));
  EXPECT_EQ(r.to_vector<float>(), (F{2, 3, 4, 5, 5, 5}));
  // a non-contiguous operand
  r = iota({3, 2}).t() + from_vector<float>({100, 200, 300});
  EXPECT_EQ(r.to_vector<float>(), (F{100, 202, 304, 101, 203, 305}));
  EXPECT_EQ(sum_to_size(ones({2, 3, 4}), {3, 1}).to_vector<float>(), (F{8, 8, 8}));
}

// ---- in-place ops ------------------------------------------------------------------------------

TEST(InPlace, ArithmeticWithBroadcastingAndScalars) {
  Tensor x = iota({2, 3});
  const Tensor* addr = &x.add_(from_vector<float>({10, 20, 30}));
  EXPECT_EQ(addr, &x);
  EXPECT_EQ(x.to_vector<float>(), (F{10, 21, 32, 13, 24, 35}));
  x.add_(from_vector<float>({1, 2}, {2, 1}), 2);  // alpha
  EXPECT_EQ(x.to_vector<float>(), (F{12, 23, 34, 17, 28, 39}));
  x.mul_(0.5);
  EXPECT_EQ(x.to_vector<float>(), (F{6, 11.5f, 17, 8.5f, 14, 19.5f}));
  x.sub_(1).div_(2);
  EXPECT_EQ(x.to_vector<float>(), (F{2.5f, 5.25f, 8, 3.75f, 6.5f, 9.25f}));
  x.clamp_(3, 8);
  EXPECT_EQ(x.to_vector<float>(), (F{3, 5.25f, 8, 3.75f, 6.5f, 8}));
  x.clamp_(std::nullopt, 4);
  EXPECT_EQ(x.to_vector<float>(), (F{3, 4, 4, 3.75f, 4, 4}));
  x.masked_fill_(from_vector<bool>({true, false, true}), -1);
  EXPECT_EQ(x.to_vector<float>(), (F{-1, 4, -1, -1, 4, -1}));
  x.neg_().abs_();
  EXPECT_EQ(x.to_vector<float>(), (F{1, 4, 1, 1, 4, 1}));
  x.pow_(2).sqrt_();
  EXPECT_EQ(x.to_vector<float>(), (F{1, 4, 1, 1, 4, 1}));
  x.zero_();
  EXPECT_EQ(x.to_vector<float>(), F(6, 0.f));
  x.fill_(2.5);
  EXPECT_EQ(x.to_vector<float>(), F(6, 2.5f));
  x.exp_().log_();
  EXPECT_TRUE(all_close(x, D(6, 2.5), 1e-5, 0));
  x.fill_(-1).relu_();
  EXPECT_EQ(x.to_vector<float>(), F(6, 0.f));
  x.fill_(0).sigmoid_();
  EXPECT_EQ(x.to_vector<float>(), F(6, 0.5f));
  x.fill_(0).tanh_();
  EXPECT_EQ(x.to_vector<float>(), F(6, 0.f));

  // operators
  Tensor y = ones({2});
  y += 2;
  y *= from_vector<float>({2, 3});
  y -= ones({2});
  y /= 5;
  EXPECT_EQ(y.to_vector<float>(), (F{1, 1.6f}));
  // in place on integer tensors keeps the dtype
  Tensor i = arange(4);
  i *= 3;
  i += from_vector<int64_t>({1, 1, 1, 1});
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_EQ(i.to_vector<int64_t>(), (L{1, 4, 7, 10}));
  i.clamp_(2, 8);
  EXPECT_EQ(i.to_vector<int64_t>(), (L{2, 4, 7, 8}));
  // an int tensor added into a float tensor in place
  Tensor f = zeros({2});
  f.add_(from_vector<int64_t>({3, 4}));
  EXPECT_EQ(f.to_vector<float>(), (F{3, 4}));
}

TEST(InPlace, ThroughViewsAndOverlaps) {
  Tensor x = iota({3, 3});
  x.select(1, 0).mul_(10);  // first column
  EXPECT_EQ(x.to_vector<float>(), (F{0, 1, 2, 30, 4, 5, 60, 7, 8}));
  x.narrow(0, 1, 1).fill_(-1);
  EXPECT_EQ(x.to_vector<float>(), (F{0, 1, 2, -1, -1, -1, 60, 7, 8}));
  // x += x.t(): the other operand overlaps self, so it must be read before being overwritten
  Tensor y = iota({2, 2});
  y += y.t();
  EXPECT_EQ(y.to_vector<float>(), (F{0, 3, 3, 6}));
  // adding a tensor to itself
  Tensor z = arange(3, kFloat32);
  z.add_(z);
  EXPECT_EQ(z.to_vector<float>(), (F{0, 2, 4}));
}

TEST(InPlace, CopyAcrossDtypesAndLayouts) {
  Tensor i = zeros({3}, kInt32);
  i.copy_(from_vector<float>({1.9f, -2.5f, 3.f}));
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 3}));
  Tensor f = zeros({3}, kFloat64);
  f.copy_(from_vector<int64_t>({5, 6, 7}));
  EXPECT_EQ(f.to_vector<double>(), (D{5, 6, 7}));
  Tensor h = zeros({2}, kFloat16);
  h.copy_(from_vector<double>({0.1, 65520.0}));
  EXPECT_EQ(h.to_vector<Half>()[0].bits, Half(0.1f).bits);
  EXPECT_TRUE(std::isinf(h.to_vector<float>()[1]));
  Tensor b = zeros({2}, kBool);
  b.copy_(from_vector<float>({0.f, 0.5f}));
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{false, true}));
  // broadcast source, transposed destination
  Tensor m = zeros({2, 3});
  m.t().copy_(from_vector<float>({1, 2}));
  EXPECT_EQ(m.to_vector<float>(), (F{1, 1, 1, 2, 2, 2}));
  // a copy from an overlapping view of itself
  Tensor s = arange(4, kFloat32);
  s.slice(0, 1).copy_(s.slice(0, 0, 3));
  EXPECT_EQ(s.to_vector<float>(), (F{0, 0, 1, 2}));
  const uint32_t v = s.version();
  s.copy_(ones({4}));
  EXPECT_GT(s.version(), v);
}

// ---- reductions -------------------------------------------------------------------------------

TEST(Reductions, SumMeanProdOverDims) {
  const Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.sum().item<float>(), 276.f);
  EXPECT_EQ(x.sum().dim(), 0);
  Tensor s = x.sum({0, 2});
  EXPECT_EQ(s.sizes(), (Shape{3}));
  EXPECT_EQ(s.to_vector<float>(), (F{60, 92, 124}));
  s = x.sum({0, 2}, /*keepdim=*/true);
  EXPECT_EQ(s.sizes(), (Shape{1, 3, 1}));
  EXPECT_EQ(s.to_vector<float>(), (F{60, 92, 124}));
  EXPECT_EQ(x.sum(-1).sizes(), (Shape{2, 3}));
  EXPECT_EQ(x.sum(-1).to_vector<float>(), (F{6, 22, 38, 54, 70, 86}));
  EXPECT_EQ(x.sum(1, /*keepdim=*/true).sizes(), (Shape{2, 1, 4}));
  // a reduction over every dim listed explicitly equals the full one
  EXPECT_EQ(x.sum({0, 1, 2}).item<float>(), 276.f);
  // non-contiguous input
  EXPECT_EQ(x.transpose(0, 2).sum(0).to_vector<float>(), x.sum(2).t().to_vector<float>());

  EXPECT_EQ(x.mean().item<float>(), 11.5f);
  EXPECT_EQ(x.mean({1}).to_vector<float>(), (F{4, 5, 6, 7, 16, 17, 18, 19}));
  EXPECT_EQ(x.mean({0, 1}, /*keepdim=*/true).sizes(), (Shape{1, 1, 4}));

  const Tensor p = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(p.prod().item<float>(), 720.f);
  EXPECT_EQ(p.prod(1).to_vector<float>(), (F{6, 120}));
  EXPECT_EQ(p.prod(0, /*keepdim=*/true).to_vector<float>(), (F{4, 10, 18}));
  EXPECT_EQ(p.prod(0, /*keepdim=*/true).sizes(), (Shape{1, 3}));
  // 0-dim reductions are identities
  EXPECT_EQ(scalar_tensor(4.0).sum(0).item<float>(), 4.f);
}

TEST(Reductions, IntegerSumsAndProductsAreInt64) {
  const Tensor i = from_vector<int32_t>({1, 2, 3, 2000000000}, {2, 2});
  EXPECT_EQ(i.sum().dtype(), kInt64);
  EXPECT_EQ(i.sum().item<int64_t>(), 2000000006);  // no int32 overflow
  EXPECT_EQ(i.sum(0).to_vector<int64_t>(), (L{4, 2000000002}));
  EXPECT_EQ(i.prod().dtype(), kInt64);
  EXPECT_EQ(i.prod().item<int64_t>(), 12000000000LL);
  EXPECT_EQ(from_vector<uint8_t>({200, 200}).sum().item<int64_t>(), 400);
  const Tensor b = from_vector<bool>({true, false, true, true});
  EXPECT_EQ(b.sum().dtype(), kInt64);
  EXPECT_EQ(b.sum().item<int64_t>(), 3);
  EXPECT_EQ(ones({3}, kFloat64).sum().dtype(), kFloat64);
  EXPECT_EQ(ones({3}, kFloat16).sum().dtype(), kFloat16);
  // integer max keeps the dtype
  EXPECT_EQ(from_vector<int32_t>({3, -7, 5}).max().dtype(), kInt32);
  EXPECT_EQ(from_vector<int32_t>({3, -7, 5}).min().item<int32_t>(), -7);
}

TEST(Reductions, VarianceAndStandardDeviation) {
  const Tensor x = from_vector<float>({1, 2, 3, 4});
  EXPECT_NEAR(x.var().item<double>(), 5.0 / 3.0, 1e-6);
  EXPECT_NEAR(x.var(/*unbiased=*/false).item<double>(), 1.25, 1e-6);
  EXPECT_NEAR(x.std().item<double>(), std::sqrt(5.0 / 3.0), 1e-6);
  EXPECT_NEAR(x.std(/*unbiased=*/false).item<double>(), std::sqrt(1.25), 1e-6);
  const Tensor m = from_vector<double>({1, 2, 3, 10, 20, 30}, {2, 3});
  EXPECT_TRUE(all_close(m.var(IntList{1}), {1.0, 100.0}, 1e-12, 0));
  EXPECT_TRUE(all_close(m.var({1}, /*unbiased=*/false), {2.0 / 3.0, 200.0 / 3.0}, 1e-12, 0));
  EXPECT_TRUE(all_close(m.var(Shape{0}), {40.5, 162, 364.5}, 1e-12, 0));
  EXPECT_TRUE(all_close(m.std({0}, /*unbiased=*/true, /*keepdim=*/true),
                        {std::sqrt(40.5), std::sqrt(162.0), std::sqrt(364.5)}, 1e-12, 0));
  EXPECT_EQ(m.std({0}, /*unbiased=*/true, /*keepdim=*/true).sizes(), (Shape{1, 3}));
  // one element: the unbiased estimate is undefined (nan), the biased one 0
  EXPECT_TRUE(std::isnan(from_vector<float>({3}).var().item<float>()));
  EXPECT_EQ(from_vector<float>({3}).var(/*unbiased=*/false).item<float>(), 0.f);
  // large offsets do not destroy the variance (Welford, double accumulation)
  const Tensor big = from_vector<double>({1e9 + 1, 1e9 + 2, 1e9 + 3});
  EXPECT_NEAR(big.var().item<double>(), 1.0, 1e-6);
}

// x.var(1) / x.std(1) / x.var({1}) mean "along dim 1" in PyTorch: the all-elements overloads
// accept only a real bool, so an int cannot silently become `unbiased`.
TEST(Reductions, VarStdWithASingleIntegerDimReduceAlongThatDim) {
  const Tensor m = from_vector<double>({1, 2, 3, 10, 20, 30}, {2, 3});
  EXPECT_TRUE(all_close(m.var(1), {1.0, 100.0}, 1e-12, 0));
  EXPECT_TRUE(all_close(m.var({1}), {1.0, 100.0}, 1e-12, 0));
  EXPECT_TRUE(all_close(m.std(0), {std::sqrt(40.5), std::sqrt(162.0), std::sqrt(364.5)}, 1e-12, 0));
  EXPECT_TRUE(all_close(var(m, 1), {1.0, 100.0}, 1e-12, 0));
}

TEST(Reductions, MaxMinWithIndicesAndArgmax) {
  const Tensor x = from_vector<float>({1, 3, 3, 2, 7, 7, 0, 7, -1}, {3, 3});
  auto [v, i] = x.max(1);
  EXPECT_EQ(v.to_vector<float>(), (F{3, 7, 7}));
  EXPECT_EQ(i.to_vector<int64_t>(), (L{1, 1, 1}));  // first index of ties
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_EQ(v.sizes(), (Shape{3}));
  auto [v0, i0] = x.max(0, /*keepdim=*/true);
  EXPECT_EQ(v0.sizes(), (Shape{1, 3}));
  EXPECT_EQ(v0.to_vector<float>(), (F{2, 7, 7}));
  EXPECT_EQ(i0.to_vector<int64_t>(), (L{1, 1, 1}));
  auto [mv, mi] = x.min(1);
  EXPECT_EQ(mv.to_vector<float>(), (F{1, 2, -1}));
  EXPECT_EQ(mi.to_vector<int64_t>(), (L{0, 0, 2}));
  auto [nv, ni] = min(x, -2);
  EXPECT_EQ(nv.to_vector<float>(), (F{0, 3, -1}));
  EXPECT_EQ(ni.to_vector<int64_t>(), (L{2, 0, 2}));

  EXPECT_EQ(x.max().item<float>(), 7.f);
  EXPECT_EQ(x.min().item<float>(), -1.f);
  EXPECT_EQ(x.argmax().item<int64_t>(), 4);  // first maximum of the flattened tensor
  EXPECT_EQ(x.argmin().item<int64_t>(), 8);
  EXPECT_EQ(x.argmax().dim(), 0);
  EXPECT_EQ(from_vector<float>({1, 5, 5, 2}, {2, 2}).argmax().item<int64_t>(), 1);
  EXPECT_EQ(x.argmax(0).to_vector<int64_t>(), (L{1, 1, 1}));
  EXPECT_EQ(x.argmax(1, /*keepdim=*/true).sizes(), (Shape{3, 1}));
  EXPECT_EQ(x.t().argmax(1).to_vector<int64_t>(), (L{1, 1, 1}));
  EXPECT_EQ(x.amax({0, 1}).item<float>(), 7.f);
  EXPECT_EQ(x.amin(1).to_vector<float>(), (F{1, 2, -1}));
  EXPECT_EQ(x.amax(1, /*keepdim=*/true).sizes(), (Shape{3, 1}));
  // NaN wins, as in PyTorch
  const Tensor n = from_vector<float>({1, NAN, 3});
  EXPECT_TRUE(std::isnan(n.max().item<float>()));
  EXPECT_EQ(n.argmax().item<int64_t>(), 1);
  // 0-dim
  auto [sv, si] = scalar_tensor(2.0).max(0);
  EXPECT_EQ(sv.item<float>(), 2.f);
  EXPECT_EQ(si.item<int64_t>(), 0);
}

TEST(Reductions, LogsumexpAndNorms) {
  const Tensor big = from_vector<float>({1000, 1000});
  const float l = big.logsumexp(0).item<float>();
  EXPECT_TRUE(std::isfinite(l));
  EXPECT_NEAR(l, 1000 + std::log(2.0), 1e-3);
  const Tensor x = from_vector<double>({-1000, 0, 1, 2}, {2, 2});
  EXPECT_TRUE(all_close(x.logsumexp(1), {0.0, 2 + std::log1p(std::exp(-1.0))}, 1e-12, 0));
  EXPECT_EQ(x.logsumexp(1, /*keepdim=*/true).sizes(), (Shape{2, 1}));
  EXPECT_EQ(from_vector<float>({-INFINITY, -INFINITY}).logsumexp(0).item<float>(), -INFINITY);
  EXPECT_EQ(from_vector<int64_t>({0, 0}).logsumexp(0).dtype(), kFloat32);

  const Tensor v = from_vector<float>({3, -4});
  EXPECT_EQ(v.norm(1).item<float>(), 7.f);
  EXPECT_EQ(v.norm().item<float>(), 5.f);
  EXPECT_EQ(v.norm(INFINITY).item<float>(), 4.f);
  EXPECT_EQ(v.norm(0).item<float>(), 2.f);
  EXPECT_NEAR(v.norm(3).item<double>(), std::cbrt(91.0), 1e-5);
  const Tensor m = from_vector<double>({3, 4, 6, 8}, {2, 2});
  EXPECT_TRUE(all_close(m.norm(2, {1}), {5, 10}, 1e-12, 0));
  EXPECT_TRUE(all_close(m.norm(1, {0}, /*keepdim=*/true), {9, 12}, 1e-12, 0));
  EXPECT_EQ(m.norm(1, {0}, /*keepdim=*/true).sizes(), (Shape{1, 2}));
  // no overflow of the squares in float32 thanks to double accumulation
  EXPECT_NEAR(from_vector<float>({3e20f, 4e20f}).norm().item<double>(), 5e20, 1e15);
}

TEST(Reductions, EmptyTensors) {
  const Tensor e = zeros({0});
  EXPECT_EQ(e.sum().item<float>(), 0.f);
  EXPECT_EQ(e.prod().item<float>(), 1.f);
  EXPECT_TRUE(std::isnan(e.mean().item<float>()));
  EXPECT_EQ(zeros({0}, kInt64).sum().item<int64_t>(), 0);
  const Tensor m = zeros({2, 0});
  EXPECT_EQ(m.sum(1).sizes(), (Shape{2}));
  EXPECT_EQ(m.sum(1).to_vector<float>(), (F{0, 0}));
  EXPECT_EQ(m.prod(1).to_vector<float>(), (F{1, 1}));
  EXPECT_EQ(m.sum(0).sizes(), (Shape{0}));
  EXPECT_EQ(m.amax(0).sizes(), (Shape{0}));  // reduces a non-empty dim: fine
  EXPECT_EQ(m.norm().item<float>(), 0.f);
  EXPECT_EQ(zeros({0}).logsumexp(0).item<float>(), -INFINITY);
}

TEST(Reductions, ThreadCountDoesNotChangeResults) {
  manual_seed(7);
  const Tensor big = randn({1000000});
  const Tensor a = randn({300, 200}), b = randn({200, 100});
  const int saved = get_num_threads();
  set_num_threads(1);
  const float s1 = big.sum().item<float>();
  const float m1 = big.mean().item<float>();
  const float v1 = big.var().item<float>();
  const F r1 = big.view({1000, 1000}).sum(0).to_vector<float>();
  const Tensor mm1 = matmul(a, b);
  for (int n : {2, 3, 4}) {
    set_num_threads(n);
    EXPECT_EQ(float_bits(big.sum().item<float>()), float_bits(s1)) << n << " threads";
    EXPECT_EQ(float_bits(big.mean().item<float>()), float_bits(m1)) << n << " threads";
    EXPECT_EQ(float_bits(big.var().item<float>()), float_bits(v1)) << n << " threads";
    EXPECT_EQ(big.view({1000, 1000}).sum(0).to_vector<float>(), r1) << n << " threads";
    // matrix products are split over the threads and OpenBLAS's bits follow the split
    // (cpu_fallback/blas.h): deterministic for one thread count, close across counts
    const Tensor mm = matmul(a, b);
    EXPECT_EQ(mm.to_vector<float>(), matmul(a, b).to_vector<float>()) << n << " threads";
    EXPECT_TRUE(all_close(mm, mm1, 1e-5, 1e-5)) << n << " threads";
  }
  set_num_threads(saved);
  // and the float32 sum of a million values is close to the double reference
  const D dv = big.to_vector<double>();
  EXPECT_NEAR(s1, std::accumulate(dv.begin(), dv.end(), 0.0), 1e-2);
}

TEST(Threads, SetNumThreadsReachesTheMatrixProducts) {
  const int saved = get_num_threads();
  manual_seed(3);
  const Tensor a = randn({512, 256}), b = randn({256, 128});
  for (int n : {1, 2, 3, 4}) {
    set_num_threads(n);
    openblas_set_num_threads(4);  // as a user's code might: nabla takes OpenBLAS back to one thread
    const int omp_before = omp_get_max_threads();
    (void)matmul(a, b);
    EXPECT_EQ(openblas_get_num_threads(), 1) << n << " threads";
    EXPECT_EQ(omp_get_max_threads(), omp_before) << "holding OpenBLAS at one thread changed OpenMP's setting";
    // 512 x 128 x 256 is split into n blocks of rows, run on n threads
    EXPECT_EQ(cpu::gemm_split(512, 128, 256, n).pieces, n);
    EXPECT_EQ(cpu::last_gemm_threads(), n) << n << " threads";
  }
  set_num_threads(saved);
  EXPECT_NE(parallel_info().find("held at 1 thread"), std::string::npos) << parallel_info();
  if (const char* build = std::getenv("NABLA_EXPECT_BLAS_BUILD")) {  // set by ctest threads_openblas_pthread
    EXPECT_NE(parallel_info().find("(" + std::string(build) + " build)"), std::string::npos)
        << parallel_info();
  }
}

TEST(Threads, GemmSplitKeepsSmallProductsWhole) {
  EXPECT_EQ(cpu::gemm_split(8, 8, 8, 4).pieces, 1);                // too little work to share
  EXPECT_EQ(cpu::gemm_split(16, 16, 4096, 4).pieces, 1);           // one register tile wide
  const cpu::GemmSplit wide = cpu::gemm_split(16, 4096, 1024, 2);  // split the larger side: columns
  EXPECT_FALSE(wide.over_rows);
  EXPECT_EQ(wide.pieces, 2);
  EXPECT_EQ(wide.block % 16, 0);
  const cpu::GemmSplit odd = cpu::gemm_split(1000, 64, 784, 3);
  EXPECT_TRUE(odd.over_rows);
  EXPECT_EQ(odd.pieces, 3);
  EXPECT_GE(odd.pieces * odd.block, 1000);
}

// ---- linear algebra ----------------------------------------------------------------------------

// Row-major reference product of [n, k] and [k, m].
D ref_mm(const D& a, const D& b, int64_t n, int64_t k, int64_t m) {
  D c(static_cast<std::size_t>(n * m), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t p = 0; p < k; ++p) c[i * m + j] += a[i * k + p] * b[p * m + j];
  return c;
}

TEST(Matmul, OneAndTwoDimensional) {
  const Tensor v = from_vector<float>({1, 2, 3}), w = from_vector<float>({4, 5, 6});
  Tensor r = matmul(v, w);
  EXPECT_EQ(r.dim(), 0);
  EXPECT_EQ(r.item<float>(), 32.f);

  const Tensor a = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  r = matmul(a, v);
  EXPECT_EQ(r.sizes(), (Shape{2}));
  EXPECT_EQ(r.to_vector<float>(), (F{14, 32}));
  r = matmul(from_vector<float>({1, -1}), a);
  EXPECT_EQ(r.sizes(), (Shape{3}));
  EXPECT_EQ(r.to_vector<float>(), (F{-3, -3, -3}));
  const Tensor b = from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  r = matmul(a, b);
  EXPECT_EQ(r.sizes(), (Shape{2, 2}));
  EXPECT_EQ(r.to_vector<float>(), (F{4, 5, 10, 11}));
  EXPECT_EQ(a.mm(b).to_vector<float>(), (F{4, 5, 10, 11}));
  // transposed operands
  EXPECT_EQ(matmul(b.t(), a.t()).to_vector<float>(), (F{4, 10, 5, 11}));
  // float64 and integer dtypes
  EXPECT_EQ(matmul(a.to(kFloat64), b.to(kFloat64)).to_vector<double>(), (D{4, 5, 10, 11}));
  EXPECT_EQ(matmul(a.to(kInt64), b.to(kInt64)).to_vector<int64_t>(), (L{4, 5, 10, 11}));
  EXPECT_EQ(matmul(a.to(kInt64), b.to(kInt64)).dtype(), kInt64);
  // k = 0 gives zeros
  EXPECT_EQ(matmul(zeros({2, 0}), zeros({0, 3})).to_vector<float>(), F(6, 0.f));
  // addmm and linear
  const Tensor bias = from_vector<float>({100, 200});
  EXPECT_EQ(addmm(bias, a, b).to_vector<float>(), (F{104, 205, 110, 211}));
  EXPECT_EQ(addmm(bias, a, b, 0.5, 2).to_vector<float>(), (F{58, 110, 70, 122}));
  EXPECT_EQ(linear(a, b.t(), bias).to_vector<float>(), (F{104, 205, 110, 211}));
  EXPECT_EQ(linear(v, b.t()).to_vector<float>(), (F{4, 5}));
}

TEST(Matmul, BatchedWithBroadcasting) {
  manual_seed(3);
  // [2, 1, 2, 3] @ [3, 3, 2] -> [2, 3, 2, 2]
  const Tensor a = randint(-5, 5, {2, 1, 2, 3}).to(kFloat32);
  const Tensor b = randint(-5, 5, {3, 3, 2}).to(kFloat32);
  const Tensor r = matmul(a, b);
  ASSERT_EQ(r.sizes(), (Shape{2, 3, 2, 2}));
  const D av = a.to_vector<double>(), bv = b.to_vector<double>(), rv = r.to_vector<double>();
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      const D ai(av.begin() + i * 6, av.begin() + i * 6 + 6), bj(bv.begin() + j * 6, bv.begin() + j * 6 + 6);
      const D want = ref_mm(ai, bj, 2, 3, 2);
      for (int64_t e = 0; e < 4; ++e)
        EXPECT_EQ(rv[(i * 3 + j) * 4 + e], want[e]) << i << "," << j << "," << e;
    }
  }
  // [2, 2, 3] @ [3, 2] (batch folded into rows) and bmm
  const Tensor x = iota({2, 2, 3});
  const Tensor w = from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor y = matmul(x, w);
  EXPECT_EQ(y.sizes(), (Shape{2, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), (F{2, 3, 8, 9, 14, 15, 20, 21}));
  EXPECT_EQ(bmm(x, w.unsqueeze(0).expand({2, 3, 2})).to_vector<float>(), y.to_vector<float>());
  // [2, 2, 3] @ [3] -> [2, 2]; [3] @ [2, 3, 2] -> [2, 2]
  y = matmul(x, from_vector<float>({1, 1, 1}));
  EXPECT_EQ(y.sizes(), (Shape{2, 2}));
  EXPECT_EQ(y.to_vector<float>(), (F{3, 12, 21, 30}));
  y = matmul(from_vector<float>({1, 2, 3}), x.transpose(1, 2));
  EXPECT_EQ(y.sizes(), (Shape{2, 2}));
  EXPECT_EQ(y.to_vector<float>(), (F{8, 26, 44, 62}));
  // [2, 3] @ [4, 3, 1] -> [4, 2, 1]
  y = matmul(iota({2, 3}), ones({4, 3, 1}));
  EXPECT_EQ(y.sizes(), (Shape{4, 2, 1}));
  EXPECT_EQ(y.to_vector<float>(), (F{3, 12, 3, 12, 3, 12, 3, 12}));
}

// ---- softmax ----------------------------------------------------------------------------------

TEST(Softmax, RowsSumToOneEvenWithHugeLogits) {
  const Tensor x = from_vector<float>({1000, 1000, 0, -1000, 1, 2}, {2, 3});
  const Tensor s = x.softmax(1);
  const F v = s.to_vector<float>();
  for (float f : v) EXPECT_TRUE(std::isfinite(f));
  EXPECT_NEAR(v[0], 0.5, 1e-6);
  EXPECT_NEAR(v[1], 0.5, 1e-6);
  EXPECT_EQ(v[2], 0.f);
  EXPECT_TRUE(all_close(s.sum(1), {1, 1}, 1e-6, 0));
  const double z = std::exp(-1002.0) + std::exp(1.0 - 2) + 1;
  EXPECT_NEAR(v[4], std::exp(-1.0) / z, 1e-6);
  // along dim 0, and log_softmax finite at the extremes
  EXPECT_TRUE(all_close(x.softmax(0).sum(0), {1, 1, 1}, 1e-6, 0));
  const F ls = x.log_softmax(1).to_vector<float>();
  EXPECT_NEAR(ls[0], -std::log(2.0), 1e-5);
  EXPECT_NEAR(ls[2], -1000 - std::log(2.0), 1e-2);
  for (float f : ls) EXPECT_TRUE(std::isfinite(f));
  // a non-contiguous input and a 3-D middle dim
  const Tensor y = iota({2, 3, 4}).transpose(0, 2);
  EXPECT_TRUE(all_close(y.softmax(1).sum(1), D(8, 1.0), 1e-6, 0));
  EXPECT_TRUE(all_close(softmax(iota({2, 3, 4}), 1).sum(1), D(8, 1.0), 1e-6, 0));
  EXPECT_EQ(scalar_tensor(5.0).softmax(0).item<float>(), 1.f);
  // float64
  EXPECT_TRUE(all_close(from_vector<double>({0, std::log(3.0)}).softmax(0), {0.25, 0.75}, 1e-15, 0));
}

TEST(Softmax, NanAndInfRowsAsPyTorch) {
  // rows: NaN; +inf; all -inf; -inf next to a finite value
  const double nan = std::nan("");
  const D x{1, nan, 2, kInf, 1, 2, -kInf, -kInf, -kInf, -kInf, 0, -kInf};
  const D all_nan(6, nan);
  for (ScalarType dt : {kFloat32, kFloat64, kFloat16}) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor t = from_vector<double>(x, {4, 3}).to(dt);
    D want{nan, nan, nan, nan, nan, nan, nan, nan, nan, 0, 1, 0};
    EXPECT_TRUE(all_close(t.softmax(1), want, 1e-5, 0));
    want = {nan, nan, nan, nan, nan, nan, nan, nan, nan, -kInf, 0, -kInf};
    EXPECT_TRUE(all_close(t.log_softmax(1), want, 1e-5, 0));
    // the same rows as columns (strided rows)
    EXPECT_TRUE(all_close(t.t().log_softmax(0).t(), want, 1e-5, 0));
    // logsumexp is +inf where a row holds +inf (softmax has no value there), as torch.logsumexp
    EXPECT_TRUE(all_close(t.logsumexp(1), {nan, kInf, -kInf, 0}, 1e-5, 0));
  }
  // cross-entropy: the rows' log-sum-exp goes into the loss; an ignored target gives 0
  nn::functional::CrossEntropyOptions o;
  o.reduction = nn::functional::Reduction::None;
  o.ignore_index = 0;
  const Tensor logits = from_vector<double>(x, {4, 3});
  EXPECT_TRUE(all_close(nn::functional::cross_entropy(logits, from_vector<int64_t>({2, 1, 0, 1}), o),
                        {nan, nan, 0, 0}, 1e-5, 0));
}

// The one-pass statistics (the CUDA softmax's and logsumexp's, core/math/softmax.h), checked
// on the CPU against the two-pass ones the CPU kernels use: the same outputs, NaN where they
// have NaN, for every split of a row into two partial states (as GPU threads split it).
TEST(Softmax, OnePassStatisticsAgreeWithTwoPass) {
  using Online = math::OnlineSoftmax<double>;
  const double nan = std::nan("");
  const std::vector<D> rows{{0.5, -3, 2, 700, 699}, {1, nan, 2},       {kInf, 1, 2}, {1, kInf, kInf},
                            {-kInf, -kInf},         {-kInf, 3, -kInf}, {},           {-2.5}};
  for (const D& row : rows) {
    const int64_t n = static_cast<int64_t>(row.size());
    const auto at = [&](int64_t i) { return row[i]; };
    const math::SoftmaxRow<double> two = math::row_stats<double, double>(n, at);
    for (int64_t split = 0; split <= n; ++split) {
      Online::acc a = Online::init(), b = Online::init();
      for (int64_t i = 0; i < split; ++i) a = Online::step(a, row[i]);
      for (int64_t i = split; i < n; ++i) b = Online::step(b, row[i]);
      const math::SoftmaxRow<double> one = Online::finish(Online::combine(a, b));
      const double lse1 = one.lse(), lse2 = two.lse();
      for (int64_t i = 0; i < n; ++i) {
        SCOPED_TRACE(testing::Message() << "row of " << n << ", split " << split << ", element " << i);
        const double p1 = one.prob(row[i]), p2 = two.prob(row[i]);
        const double l1 = one.log_prob(row[i], lse1), l2 = two.log_prob(row[i], lse2);
        EXPECT_EQ(std::isnan(p1), std::isnan(p2));
        EXPECT_EQ(std::isnan(l1), std::isnan(l2));
        if (!std::isnan(p2)) {
          EXPECT_NEAR(p1, p2, 1e-14);
        }
        if (std::isfinite(l2)) {
          EXPECT_NEAR(l1, l2, 1e-12);
        } else if (std::isinf(l2)) {
          EXPECT_EQ(l1, l2);
        }
      }
    }
  }
  // logsumexp's finish: +inf for one +inf (where softmax's is NaN), -inf for no elements
  EXPECT_EQ(Online::lse(Online::step(Online::step(Online::init(), 1.0), kInf)), kInf);
  EXPECT_TRUE(std::isnan(Online::finish(Online::step(Online::init(), kInf)).sum));
  EXPECT_EQ(Online::lse(Online::init()), -kInf);
}

// ---- indexing, joining ------------------------------------------------------------------------

TEST(Indexing, GatherScatterAddIndexSelectIndexAdd) {
  const Tensor x = iota({3, 4});
  Tensor r = x.gather(1, from_vector<int64_t>({3, 0, 1, 1, 2, 2}, {3, 2}));
  EXPECT_EQ(r.sizes(), (Shape{3, 2}));
  EXPECT_EQ(r.to_vector<float>(), (F{3, 0, 5, 5, 10, 10}));
  r = x.gather(0, from_vector<int64_t>({2, 0, 1, 2}, {1, 4}));
  EXPECT_EQ(r.to_vector<float>(), (F{8, 1, 6, 11}));

  r = zeros({2, 3}).scatter_add(1, from_vector<int64_t>({0, 0, 2, 1, 1, 1}, {2, 3}),
                                from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(r.to_vector<float>(), (F{3, 0, 3, 0, 15, 0}));
  r = ones({4}).scatter_add(0, from_vector<int64_t>({3, 3}), from_vector<float>({10, 20, 30}));
  EXPECT_EQ(r.to_vector<float>(), (F{1, 1, 1, 31}));  // src larger than index: only its prefix is used

  r = x.index_select(0, from_vector<int64_t>({2, 0, 2}));
  EXPECT_EQ(r.sizes(), (Shape{3, 4}));
  EXPECT_EQ(r.to_vector<float>(), (F{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  r = x.index_select(1, from_vector<int32_t>({3, 1}));
  EXPECT_EQ(r.to_vector<float>(), (F{3, 1, 7, 5, 11, 9}));
  r = x.index_select(1, zeros({0}, kInt64));
  EXPECT_EQ(r.sizes(), (Shape{3, 0}));

  r = zeros({3, 2}).index_add(0, from_vector<int64_t>({0, 2, 0}),
                              from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(r.to_vector<float>(), (F{6, 8, 0, 0, 3, 4}));
  r = ones({2, 3}).index_add(1, from_vector<int64_t>({2}), from_vector<float>({5, 7}, {2, 1}));
  EXPECT_EQ(r.to_vector<float>(), (F{1, 1, 6, 1, 1, 8}));
  // the inputs of the out-of-place forms are untouched
  EXPECT_EQ(x.sum().item<float>(), 66.f);
}

TEST(Indexing, CatStackOneHot) {
  const Tensor a = iota({2, 2}), b = full({1, 2}, 9.0);
  Tensor r = cat({a, b});
  EXPECT_EQ(r.sizes(), (Shape{3, 2}));
  EXPECT_EQ(r.to_vector<float>(), (F{0, 1, 2, 3, 9, 9}));
  r = cat({a, b.t()}, 1);
  EXPECT_EQ(r.sizes(), (Shape{2, 3}));
  EXPECT_EQ(r.to_vector<float>(), (F{0, 1, 9, 2, 3, 9}));
  r = cat({a, zeros({0, 2}), a}, -2);
  EXPECT_EQ(r.sizes(), (Shape{4, 2}));
  r = cat({a, zeros({0})});  // legacy: 1-D empty tensors are skipped
  EXPECT_EQ(r.sizes(), (Shape{2, 2}));
  r = cat({from_vector<int64_t>({1}), from_vector<float>({2.5f})});  // dtypes promote
  EXPECT_EQ(r.dtype(), kFloat32);
  EXPECT_EQ(r.to_vector<float>(), (F{1, 2.5f}));

  r = stack({from_vector<float>({1, 2}), from_vector<float>({3, 4}), from_vector<float>({5, 6})});
  EXPECT_EQ(r.sizes(), (Shape{3, 2}));
  EXPECT_EQ(r.to_vector<float>(), (F{1, 2, 3, 4, 5, 6}));
  r = stack({from_vector<float>({1, 2}), from_vector<float>({3, 4})}, 1);
  EXPECT_EQ(r.sizes(), (Shape{2, 2}));
  EXPECT_EQ(r.to_vector<float>(), (F{1, 3, 2, 4}));
  r = stack({scalar_tensor(1.0), scalar_tensor(2.0)});
  EXPECT_EQ(r.sizes(), (Shape{2}));
  r = stack({a, a}, -1);
  EXPECT_EQ(r.sizes(), (Shape{2, 2, 2}));

  r = one_hot(from_vector<int64_t>({0, 2, 1}));
  EXPECT_EQ(r.dtype(), kInt64);
  EXPECT_EQ(r.sizes(), (Shape{3, 3}));
  EXPECT_EQ(r.to_vector<int64_t>(), (L{1, 0, 0, 0, 0, 1, 0, 1, 0}));
  r = one_hot(from_vector<int64_t>({1, 0}, {2, 1}), 4);
  EXPECT_EQ(r.sizes(), (Shape{2, 1, 4}));
  EXPECT_EQ(r.to_vector<int64_t>(), (L{0, 1, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(one_hot(zeros({0}, kInt64), 3).sizes(), (Shape{0, 3}));
}

TEST(Misc, ElementwiseValuesAndWhere) {
  const Tensor x = from_vector<float>({-2, -0.5f, 0, 1.5f});
  EXPECT_EQ(x.abs().to_vector<float>(), (F{2, 0.5f, 0, 1.5f}));
  EXPECT_EQ(x.sign().to_vector<float>(), (F{-1, -1, 0, 1}));
  EXPECT_EQ(x.relu().to_vector<float>(), (F{0, 0, 0, 1.5f}));
  EXPECT_EQ(x.clamp(-1, 1).to_vector<float>(), (F{-1, -0.5f, 0, 1}));
  EXPECT_EQ(x.pow(2).to_vector<float>(), (F{4, 0.25f, 0, 2.25f}));
  EXPECT_EQ((-x).to_vector<float>(), (F{2, 0.5f, 0, -1.5f}));
  EXPECT_EQ((1 - x).to_vector<float>(), (F{3, 1.5f, 1, -0.5f}));
  EXPECT_EQ((3 / from_vector<float>({2, 4})).to_vector<float>(), (F{1.5f, 0.75f}));
  EXPECT_EQ(from_vector<int64_t>({2, 3}).pow(3).to_vector<int64_t>(), (L{8, 27}));
  EXPECT_EQ(from_vector<int64_t>({4}).sqrt().dtype(), kFloat32);  // float ops promote ints
  EXPECT_EQ(from_vector<int64_t>({4}).sqrt().item<float>(), 2.f);
  EXPECT_EQ(from_vector<int64_t>({-4}).abs().dtype(), kInt64);
  EXPECT_TRUE(all_close(from_vector<double>({0, 1}).exp(), {1, std::exp(1.0)}, 1e-15, 0));
  EXPECT_TRUE(all_close(from_vector<double>({0}).sigmoid(), {0.5}, 0, 0));
  EXPECT_EQ(where(x > 0, x, scalar_tensor(0.0)).to_vector<float>(), (F{0, 0, 0, 1.5f}));
  EXPECT_EQ(where(x > 0, 1.0, x).to_vector<float>(), (F{-2, -0.5f, 0, 1}));
  EXPECT_EQ(x.masked_fill(x < 0, 7).to_vector<float>(), (F{7, 7, 0, 1.5f}));
  EXPECT_EQ(pow(2.0, from_vector<float>({1, 3})).to_vector<float>(), (F{2, 8}));
  EXPECT_EQ(from_vector<float>({1, 2}).pow(from_vector<float>({3, 2})).to_vector<float>(), (F{1, 4}));
}

}  // namespace
}  // namespace nabla
