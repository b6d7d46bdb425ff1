// operator<< matches PyTorch's repr for the same tensors (default print options): every
// expected string below is what PyTorch 1.13 prints for the equivalent torch call, with two
// deliberate differences of naming: dtypes print without the "torch." prefix
// ("dtype=float64") and autograd node names without PyTorch's trailing version digit
// ("MulBackward", not "MulBackward0").
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "nabla/nabla.h"

namespace nabla {
namespace {

void expect_repr(const Tensor& t, const std::string& want) {
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), want) << "printed:\n" << os.str() << "\nexpected:\n" << want;
  EXPECT_EQ(t.str(), os.str());
}

// Vectors, matrices and scalars of each kind of dtype.
TEST(Print, Basics) {
  expect_repr(from_vector<float>({1, 2, 3}), "tensor([1., 2., 3.])");
  expect_repr(from_vector<float>({1.5f, 2, 3, 4}, {2, 2}),
              "tensor([[1.5000, 2.0000],\n"
              "        [3.0000, 4.0000]])");
  expect_repr(from_vector<int64_t>({1, -20, 300}), "tensor([  1, -20, 300])");
  expect_repr(from_vector<int32_t>({1, 2}), "tensor([1, 2], dtype=int32)");
  expect_repr(from_vector<uint8_t>({0, 255}), "tensor([  0, 255], dtype=uint8)");
  expect_repr(from_vector<bool>({true, false, true}), "tensor([ True, False,  True])");
  expect_repr(from_vector<float>({-1, 2}), "tensor([-1.,  2.])");
  expect_repr(arange(6, kFloat32).view({2, 3}).t(),
              "tensor([[0., 3.],\n"
              "        [1., 4.],\n"
              "        [2., 5.]])");
  expect_repr(full({1, 1}, 5.0), "tensor([[5.]])");
  expect_repr(arange(8, kFloat32).view({2, 2, 2}),
              "tensor([[[0., 1.],\n"
              "         [2., 3.]],\n"
              "\n"
              "        [[4., 5.],\n"
              "         [6., 7.]]])");
}

// Scalars print without brackets, in the same formats.
TEST(Print, ZeroDim) {
  expect_repr(scalar_tensor(3.5), "tensor(3.5000)");
  expect_repr(full({}, 7), "tensor(7)");
  expect_repr(full({}, true), "tensor(True)");
  expect_repr(scalar_tensor(2.0, kFloat64), "tensor(2., dtype=float64)");
  expect_repr(scalar_tensor(NAN), "tensor(nan)");
  expect_repr(scalar_tensor(1.5e-7), "tensor(1.5000e-07)");
}

// float32, int64 and bool are the defaults; others are named (without "torch.").
TEST(Print, DtypeSuffix) {
  expect_repr(from_vector<double>({1, 2.5}), "tensor([1.0000, 2.5000], dtype=float64)");
  expect_repr(from_vector<float>({1.5f, 2}).to(kFloat16), "tensor([1.5000, 2.0000], dtype=float16)");
  expect_repr(from_vector<float>({1.5f, 3}).to(kBFloat16), "tensor([1.5000, 3.0000], dtype=bfloat16)");
}

// requires_grad=True on leaves, grad_fn=<...> on results (no version digit).
TEST(Print, Autograd) {
  expect_repr(from_vector<float>({1, 2}, TensorOptions().requires_grad(true)),
              "tensor([1., 2.], requires_grad=True)");
  expect_repr(from_vector<double>({1, 2}, TensorOptions(kFloat64).requires_grad(true)),
              "tensor([1., 2.], dtype=float64, requires_grad=True)");
  expect_repr(from_vector<float>({1, 2}, TensorOptions().requires_grad(true)) * 2,
              "tensor([2., 4.], grad_fn=<MulBackward>)");
  expect_repr(from_vector<double>({1, 2}, TensorOptions(kFloat64).requires_grad(true)).sum(),
              "tensor(3., dtype=float64, grad_fn=<SumBackward>)");
}

// Fixed, integer-valued and scientific formats, chosen from the non-zero finite values.
TEST(Print, NumberFormat) {
  expect_repr(from_vector<float>({1e-5f, 1}), "tensor([1.0000e-05, 1.0000e+00])");
  expect_repr(from_vector<float>({1, 1001}), "tensor([1.0000e+00, 1.0010e+03])");
  expect_repr(from_vector<float>({1, 1000}), "tensor([   1., 1000.])");
  expect_repr(from_vector<float>({1e9f, 1}), "tensor([1.0000e+09, 1.0000e+00])");
  expect_repr(from_vector<float>({0.001f, 0.5f}), "tensor([0.0010, 0.5000])");
  expect_repr(from_vector<float>({5e-5f, 2e-5f}), "tensor([5.0000e-05, 2.0000e-05])");
  expect_repr(from_vector<float>({-1e-5f, 123}), "tensor([-1.0000e-05,  1.2300e+02])");
  expect_repr(from_vector<float>({NAN, INFINITY, 1.5f}), "tensor([   nan,    inf, 1.5000])");
  expect_repr(from_vector<float>({NAN, 1}), "tensor([nan, 1.])");
  expect_repr(from_vector<float>({INFINITY, -INFINITY}), "tensor([inf, -inf])");
  expect_repr(zeros({2}), "tensor([0., 0.])");
  expect_repr(from_vector<float>({-0.f, 1.5f}), "tensor([-0.0000, 1.5000])");
}

// Empty tensors show their size (unless 1-D) and any dtype but float32.
TEST(Print, Empty) {
  expect_repr(zeros({0, 3}), "tensor([], size=(0, 3))");
  expect_repr(zeros({0}), "tensor([])");
  expect_repr(zeros({0}, kInt64), "tensor([], dtype=int64)");
  expect_repr(zeros({2, 0}, kBool), "tensor([], size=(2, 0), dtype=bool)");
  expect_repr(zeros({1, 0, 2}, kFloat64), "tensor([], size=(1, 0, 2), dtype=float64)");
}

// Rows wrap at 80 columns; suffixes that do not fit start a new line.
TEST(Print, LineWrapping) {
  expect_repr(arange(20, kFloat32),
              "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
              "        14., 15., 16., 17., 18., 19.])");
  expect_repr(linspace(-1, 1, 12),
              "tensor([-1.0000, -0.8182, -0.6364, -0.4545, -0.2727, -0.0909,  0.0909,  0.2727,\n"
              "         0.4545,  0.6364,  0.8182,  1.0000])");
  expect_repr(ones({2, 30}),
              "tensor([[1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.,\n"
              "         1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.],\n"
              "        [1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.,\n"
              "         1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.]])");
  expect_repr(arange(20, TensorOptions(kFloat32).requires_grad(true)),
              "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
              "        14., 15., 16., 17., 18., 19.], requires_grad=True)");
  expect_repr(arange(9, kFloat64) + 0.5,
              "tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000, 7.5000, 8.5000],\n"
              "       dtype=float64)");
}

// Past 1000 elements, 3 items at each edge of every dim, with "..." between.
TEST(Print, Summarization) {
  expect_repr(arange(2000, kFloat32),
              "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
              "        1.9990e+03])");
  expect_repr(arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  expect_repr(arange(2000).view({40, 50}),
              "tensor([[   0,    1,    2,  ...,   47,   48,   49],\n"
              "        [  50,   51,   52,  ...,   97,   98,   99],\n"
              "        [ 100,  101,  102,  ...,  147,  148,  149],\n"
              "        ...,\n"
              "        [1850, 1851, 1852,  ..., 1897, 1898, 1899],\n"
              "        [1900, 1901, 1902,  ..., 1947, 1948, 1949],\n"
              "        [1950, 1951, 1952,  ..., 1997, 1998, 1999]])");
  expect_repr(arange(2000, kFloat32).view({40, 50}) / 7,
              "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 6.7143e+00, 6.8571e+00,\n"
              "         7.0000e+00],\n"
              "        [7.1429e+00, 7.2857e+00, 7.4286e+00,  ..., 1.3857e+01, 1.4000e+01,\n"
              "         1.4143e+01],\n"
              "        [1.4286e+01, 1.4429e+01, 1.4571e+01,  ..., 2.1000e+01, 2.1143e+01,\n"
              "         2.1286e+01],\n"
              "        ...,\n"
              "        [2.6429e+02, 2.6443e+02, 2.6457e+02,  ..., 2.7100e+02, 2.7114e+02,\n"
              "         2.7129e+02],\n"
              "        [2.7143e+02, 2.7157e+02, 2.7171e+02,  ..., 2.7814e+02, 2.7829e+02,\n"
              "         2.7843e+02],\n"
              "        [2.7857e+02, 2.7871e+02, 2.7886e+02,  ..., 2.8529e+02, 2.8543e+02,\n"
              "         2.8557e+02]])");
  expect_repr(arange(1200, kFloat32).view({10, 12, 10}),
              "tensor([[[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 7.0000e+00,\n"
              "          8.0000e+00, 9.0000e+00],\n"
              "         [1.0000e+01, 1.1000e+01, 1.2000e+01,  ..., 1.7000e+01,\n"
              "          1.8000e+01, 1.9000e+01],\n"
              "         [2.0000e+01, 2.1000e+01, 2.2000e+01,  ..., 2.7000e+01,\n"
              "          2.8000e+01, 2.9000e+01],\n"
              "         ...,\n"
              "         [9.0000e+01, 9.1000e+01, 9.2000e+01,  ..., 9.7000e+01,\n"
              "          9.8000e+01, 9.9000e+01],\n"
              "         [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.0700e+02,\n"
              "          1.0800e+02, 1.0900e+02],\n"
              "         [1.1000e+02, 1.1100e+02, 1.1200e+02,  ..., 1.1700e+02,\n"
              "          1.1800e+02, 1.1900e+02]],\n"
              "\n"
              "        [[1.2000e+02, 1.2100e+02, 1.2200e+02,  ..., 1.2700e+02,\n"
              "          1.2800e+02, 1.2900e+02],\n"
              "         [1.3000e+02, 1.3100e+02, 1.3200e+02,  ..., 1.3700e+02,\n"
              "          1.3800e+02, 1.3900e+02],\n"
              "         [1.4000e+02, 1.4100e+02, 1.4200e+02,  ..., 1.4700e+02,\n"
              "          1.4800e+02, 1.4900e+02],\n"
              "         ...,\n"
              "         [2.1000e+02, 2.1100e+02, 2.1200e+02,  ..., 2.1700e+02,\n"
              "          2.1800e+02, 2.1900e+02],\n"
              "         [2.2000e+02, 2.2100e+02, 2.2200e+02,  ..., 2.2700e+02,\n"
              "          2.2800e+02, 2.2900e+02],\n"
              "         [2.3000e+02, 2.3100e+02, 2.3200e+02,  ..., 2.3700e+02,\n"
              "          2.3800e+02, 2.3900e+02]],\n"
              "\n"
              "        [[2.4000e+02, 2.4100e+02, 2.4200e+02,  ..., 2.4700e+02,\n"
              "          2.4800e+02, 2.4900e+02],\n"
              "         [2.5000e+02, 2.5100e+02, 2.5200e+02,  ..., 2.5700e+02,\n"
              "          2.5800e+02, 2.5900e+02],\n"
              "         [2.6000e+02, 2.6100e+02, 2.6200e+02,  ..., 2.6700e+02,\n"
              "          2.6800e+02, 2.6900e+02],\n"
              "         ...,\n"
              "         [3.3000e+02, 3.3100e+02, 3.3200e+02,  ..., 3.3700e+02,\n"
              "          3.3800e+02, 3.3900e+02],\n"
              "         [3.4000e+02, 3.4100e+02, 3.4200e+02,  ..., 3.4700e+02,\n"
              "          3.4800e+02, 3.4900e+02],\n"
              "         [3.5000e+02, 3.5100e+02, 3.5200e+02,  ..., 3.5700e+02,\n"
              "          3.5800e+02, 3.5900e+02]],\n"
              "\n"
              "        ...,\n"
              "\n"
              "        [[8.4000e+02, 8.4100e+02, 8.4200e+02,  ..., 8.4700e+02,\n"
              "          8.4800e+02, 8.4900e+02],\n"
              "         [8.5000e+02, 8.5100e+02, 8.5200e+02,  ..., 8.5700e+02,\n"
              "          8.5800e+02, 8.5900e+02],\n"
              "         [8.6000e+02, 8.6100e+02, 8.6200e+02,  ..., 8.6700e+02,\n"
              "          8.6800e+02, 8.6900e+02],\n"
              "         ...,\n"
              "         [9.3000e+02, 9.3100e+02, 9.3200e+02,  ..., 9.3700e+02,\n"
              "          9.3800e+02, 9.3900e+02],\n"
              "         [9.4000e+02, 9.4100e+02, 9.4200e+02,  ..., 9.4700e+02,\n"
              "          9.4800e+02, 9.4900e+02],\n"
              "         [9.5000e+02, 9.5100e+02, 9.5200e+02,  ..., 9.5700e+02,\n"
              "          9.5800e+02, 9.5900e+02]],\n"
              "\n"
              "        [[9.6000e+02, 9.6100e+02, 9.6200e+02,  ..., 9.6700e+02,\n"
              "          9.6800e+02, 9.6900e+02],\n"
              "         [9.7000e+02, 9.7100e+02, 9.7200e+02,  ..., 9.7700e+02,\n"
              "          9.7800e+02, 9.7900e+02],\n"
              "         [9.8000e+02, 9.8100e+02, 9.8200e+02,  ..., 9.8700e+02,\n"
              "          9.8800e+02, 9.8900e+02],\n"
              "         ...,\n"
              "         [1.0500e+03, 1.0510e+03, 1.0520e+03,  ..., 1.0570e+03,\n"
              "          1.0580e+03, 1.0590e+03],\n"
              "         [1.0600e+03, 1.0610e+03, 1.0620e+03,  ..., 1.0670e+03,\n"
              "          1.0680e+03, 1.0690e+03],\n"
              "         [1.0700e+03, 1.0710e+03, 1.0720e+03,  ..., 1.0770e+03,\n"
              "          1.0780e+03, 1.0790e+03]],\n"
              "\n"
              "        [[1.0800e+03, 1.0810e+03, 1.0820e+03,  ..., 1.0870e+03,\n"
              "          1.0880e+03, 1.0890e+03],\n"
              "         [1.0900e+03, 1.0910e+03, 1.0920e+03,  ..., 1.0970e+03,\n"
              "          1.0980e+03, 1.0990e+03],\n"
              "         [1.1000e+03, 1.1010e+03, 1.1020e+03,  ..., 1.1070e+03,\n"
              "          1.1080e+03, 1.1090e+03],\n"
              "         ...,\n"
              "         [1.1700e+03, 1.1710e+03, 1.1720e+03,  ..., 1.1770e+03,\n"
              "          1.1780e+03, 1.1790e+03],\n"
              "         [1.1800e+03, 1.1810e+03, 1.1820e+03,  ..., 1.1870e+03,\n"
              "          1.1880e+03, 1.1890e+03],\n"
              "         [1.1900e+03, 1.1910e+03, 1.1920e+03,  ..., 1.1970e+03,\n"
              "          1.1980e+03, 1.1990e+03]]])");
}
TEST(Print, UndefinedTensor) {
  std::ostringstream os;
  os << Tensor();
  EXPECT_EQ(os.str(), "tensor(undefined)");
}

// Printing reads values only: no autograd node, no version bump, no random draw, and grad
// mode is left as it was.
TEST(Print, HasNoSideEffects) {
  manual_seed(1);
  Tensor x = from_vector<float>({1, 2}, TensorOptions().requires_grad(true));
  Tensor y = x * 3;
  const uint32_t v = y.version();
  const GeneratorState s = get_rng_state();
  const std::string once = y.str();
  EXPECT_EQ(y.str(), once);
  EXPECT_EQ(y.version(), v);
  EXPECT_EQ(get_rng_state().offset, s.offset);
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_EQ(y.grad_fn_name(), "MulBackward");
  {
    NoGradGuard g;
    (void)y.str();
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
  // a big summarized tensor is printed without touching the data
  Tensor big = arange(100000, kFloat32);
  (void)big.str();
  EXPECT_EQ(big.version(), 1u);
}

}  // namespace
}  // namespace nabla
