// Bad input is a catchable nabla::Error (or nabla::OutOfMemoryError) whose message names the
// op and what was wrong: shapes, dims, dtypes, autograd misuse, allocation failures. Each case
// checks both the exception type and a key part of the message. That every case here throws
// rather than aborting is itself the check that library code never calls abort/exit.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "dispatch/dispatch.h"
#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

using test_util::throws_with;

Tensor f32(const Shape& s) { return ones(s); }
Tensor i64(const Shape& s) { return zeros(s, kInt64); }
Tensor boolean(const Shape& s) { return zeros(s, kBool); }

// ---- shapes that do not broadcast or multiply --------------------------------------------

TEST(Errors, BinaryOpsRejectNonBroadcastableShapes) {
  EXPECT_NABLA_ERROR(add(f32({2, 3}), f32({4})), "add: shapes [2, 3] and [4] cannot be broadcast together");
  EXPECT_NABLA_ERROR(mul(f32({2}), f32({3})), "mul: shapes [2] and [3] cannot be broadcast together");
  EXPECT_NABLA_ERROR(f32({5, 2}) - f32({5, 3}), "sub: shapes [5, 2] and [5, 3]");
  EXPECT_NABLA_ERROR(eq(f32({3}), f32({2})), "eq: shapes [3] and [2]");
  EXPECT_NABLA_ERROR(broadcast_shapes({2, 3}, {3, 2}), "broadcast_shapes: shapes [2, 3] and [3, 2]");
}

TEST(Errors, WhereAndMaskedFillRejectBadShapes) {
  EXPECT_NABLA_ERROR(where(boolean({2}), f32({3}), f32({3})),
                     "where: shapes [2] and [3] cannot be broadcast");
  EXPECT_NABLA_ERROR(where(boolean({3}), f32({3}), f32({4})),
                     "where: shapes [3] and [4] cannot be broadcast");
  EXPECT_NABLA_ERROR(masked_fill(f32({2, 3}), boolean({4}), 0.0),
                     "masked_fill: shapes [2, 3] and [4] cannot be broadcast");
  // a mask that broadcasts with the input but would enlarge it
  EXPECT_NABLA_ERROR(masked_fill(f32({2, 3}), boolean({2, 2, 3}), 0.0),
                     "masked_fill: mask of shape [2, 2, 3] does not broadcast to the input shape [2, 3]");
}

TEST(Errors, MatrixProductsRejectBadShapes) {
  EXPECT_NABLA_ERROR(matmul(f32({2, 3}), f32({4, 5})),
                     "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)");
  EXPECT_NABLA_ERROR(matmul(f32({3}), f32({4})), "matmul: shapes [3] and [4] cannot be multiplied");
  EXPECT_NABLA_ERROR(matmul(f32({}), f32({3})), "matmul: both arguments need at least 1 dim");
  EXPECT_NABLA_ERROR(matmul(f32({2, 2}), ones({2, 2}, kFloat64)),
                     "matmul: expected both operands to have the same dtype, got float32 and float64");
  EXPECT_NABLA_ERROR(matmul(f32({2, 4, 5}), f32({3, 5, 6})),
                     "matmul: shapes [2] and [3] cannot be broadcast");
  EXPECT_NABLA_ERROR(mm(f32({2, 3, 4}), f32({4, 5})),
                     "mm: expected 2-D matrices, got shapes [2, 3, 4] and [4, 5]");
  EXPECT_NABLA_ERROR(mm(f32({2, 3}), f32({2, 3})), "mm: shapes [2, 3] and [2, 3] cannot be multiplied");
  EXPECT_NABLA_ERROR(bmm(f32({3, 4}), f32({2, 4, 5})),
                     "bmm: expected 3-D tensors, got shapes [3, 4] and [2, 4, 5]");
  EXPECT_NABLA_ERROR(bmm(f32({2, 3, 4}), f32({3, 4, 5})), "bmm: batch sizes differ: 2 and 3");
  EXPECT_NABLA_ERROR(bmm(f32({2, 3, 4}), f32({2, 5, 6})),
                     "bmm: shapes [2, 3, 4] and [2, 5, 6] cannot be multiplied (4 != 5)");
}

TEST(Errors, AddmmAndLinearRejectBadShapes) {
  EXPECT_NABLA_ERROR(addmm(f32({2, 5}), f32({2, 3}), f32({4, 5})),
                     "addmm: shapes [2, 3] and [4, 5] cannot be multiplied");
  EXPECT_NABLA_ERROR(addmm(f32({3}), f32({2, 3}), f32({3, 4})),
                     "addmm: shapes [3] and [2, 4] cannot be broadcast");
  EXPECT_NABLA_ERROR(addmm(f32({2, 2, 4}), f32({2, 3}), f32({3, 4})),
                     "addmm: input of shape [2, 2, 4] does not broadcast to the product's shape [2, 4]");
  EXPECT_NABLA_ERROR(linear(f32({2, 3}), f32({4, 5})),
                     "linear: input of shape [2, 3] does not match weight of shape [4, 5]");
  EXPECT_NABLA_ERROR(linear(f32({2, 3}), f32({3})), "linear: expected a 2-D weight");
  EXPECT_NABLA_ERROR(linear(f32({2, 3}), f32({4, 3}), f32({5})),
                     "linear: expected a bias of shape [4], got [5]");
}

// ---- sizes: negative, overflowing, unsatisfiable -----------------------------------------

TEST(Errors, NegativeSizes) {
  EXPECT_NABLA_ERROR(zeros({-1}), "zeros: negative size -1 at dim 0 of shape [-1]");
  EXPECT_NABLA_ERROR(empty({2, -3}), "empty: negative size -3 at dim 1 of shape [2, -3]");
  EXPECT_NABLA_ERROR(full({-2}, 1.0), "full: negative size -2");
  EXPECT_NABLA_ERROR(eye(-1, 2), "eye: sizes must be non-negative, got -1 x 2");
  EXPECT_NABLA_ERROR(randperm(-4), "randperm: n must be non-negative, got -4");
}

TEST(Errors, SizeProductsOverflowingInt64) {
  EXPECT_NABLA_ERROR(zeros({1LL << 40, 1LL << 40}),
                     "zeros: the number of elements of shape [1099511627776, 1099511627776] overflows int64");
  EXPECT_NABLA_ERROR(empty({1LL << 31, 1LL << 31, 1LL << 31}), "overflows int64");
  // the element count fits in int64 but the byte count does not
  EXPECT_NABLA_ERROR(empty({1LL << 62}, kFloat64),
                     "the byte size of shape [4611686018427387904] (float64) overflows");
  EXPECT_NABLA_ERROR(from_vector<float>({1.f}, {1LL << 40, 1LL << 40}),
                     "from_vector: the number of elements");
}

TEST(Errors, UnsatisfiableAllocationIsOutOfMemoryError) {
  // 2^46 float64 elements = 512 TiB: more than any address space, so the allocation fails.
  const std::size_t bytes = std::size_t{1} << 49;
  try {
    Tensor t = empty({1LL << 46}, kFloat64);
    FAIL() << "allocating 512 TiB succeeded";
  } catch (const OutOfMemoryError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.requested_bytes(), bytes);
    EXPECT_NE(msg.find(std::to_string(bytes) + " bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("out of memory"), std::string::npos) << msg;
  }
  // an OutOfMemoryError is a nabla::Error (and a std::runtime_error)
  EXPECT_OOM_ERROR(empty({1LL << 46}, kFloat64), "bytes");
  EXPECT_NABLA_ERROR(zeros({1LL << 47}, kInt64), "bytes");
  EXPECT_TRUE(throws_with<std::runtime_error>([] { (void)empty({1LL << 46}, kFloat64); }, {"out of memory"}));
}

// ---- dims -------------------------------------------------------------------------------

TEST(Errors, DimsOutOfRange) {
  const Tensor x = f32({2, 3});
  EXPECT_NABLA_ERROR(sum(x, 2), "sum: dim 2 is out of range for a tensor of 2 dims (expected -2 to 1)");
  EXPECT_NABLA_ERROR(sum(x, {0, -3}), "sum: dim -3 is out of range");
  EXPECT_NABLA_ERROR(x.mean(5), "mean: dim 5 is out of range");
  EXPECT_NABLA_ERROR(softmax(x, 2), "softmax: dim 2 is out of range for a tensor of 2 dims");
  EXPECT_NABLA_ERROR(log_softmax(x, -3), "log_softmax: dim -3 is out of range");
  EXPECT_NABLA_ERROR(x.transpose(0, 3), "transpose: dim 3 is out of range for a tensor of 2 dims");
  EXPECT_NABLA_ERROR(x.select(2, 0), "select: dim 2 is out of range");
  EXPECT_NABLA_ERROR(x.narrow(-3, 0, 1), "narrow: dim -3 is out of range");
  EXPECT_NABLA_ERROR(x.unsqueeze(4),
                     "unsqueeze: dim 4 is out of range for a tensor of 3 dims (expected -3 to 2)");
  EXPECT_NABLA_ERROR(x.squeeze(2), "squeeze: dim 2 is out of range");
  EXPECT_NABLA_ERROR(cat({x, x}, 2), "cat: dim 2 is out of range for a tensor of 2 dims");
  EXPECT_NABLA_ERROR(stack({x, x}, 3), "stack: dim 3 is out of range");
  EXPECT_NABLA_ERROR(gather(x, 2, i64({2, 3})), "gather: dim 2 is out of range");
  EXPECT_NABLA_ERROR(index_select(x, -4, i64({1})), "index_select: dim -4 is out of range");
  EXPECT_NABLA_ERROR(x.argmax(2), "argmax: dim 2 is out of range");
  EXPECT_NABLA_ERROR(x.size(2), "size: dim 2 is out of range");
  EXPECT_NABLA_ERROR(x.flatten(0, 3), "flatten: dim 3 is out of range");
  EXPECT_NABLA_ERROR(x.permute({0, 1, 2}), "permute: got 3 dims [0, 1, 2] for a tensor of 2 dims");
}

TEST(Errors, DuplicateDimsInAReduction) {
  const Tensor x = f32({2, 3, 4});
  EXPECT_NABLA_ERROR(sum(x, {0, 0}), "sum: dim 0 appears more than once in the dim list [0, 0]");
  EXPECT_NABLA_ERROR(mean(x, {2, -1}), "mean: dim 2 appears more than once in the dim list [2, -1]");
  EXPECT_NABLA_ERROR(amax(x, {1, 0, 1}), "amax: dim 1 appears more than once");
}

TEST(Errors, IndicesOutOfRangeInViews) {
  const Tensor x = f32({2, 3});
  EXPECT_NABLA_ERROR(x.select(1, 3), "select: index 3 is out of range for dim 1 of size 3");
  EXPECT_NABLA_ERROR(x.select(0, -3), "select: index -3 is out of range for dim 0 of size 2");
  EXPECT_NABLA_ERROR(x.narrow(1, 2, 2), "narrow: start 2 + length 2 exceeds dim 1 of size 3");
  EXPECT_NABLA_ERROR(x.narrow(1, 5, 0), "narrow: start 5 is out of range for dim 1 of size 3");
  EXPECT_NABLA_ERROR(f32({}).select(0, 0), "select: cannot select from a 0-dim tensor");
  EXPECT_NABLA_ERROR(f32({2, 3, 4}).t(), "t: expected a tensor of at most 2 dims, got shape [2, 3, 4]");
}

// ---- empty inputs where an op needs elements ---------------------------------------------

TEST(Errors, ReductionsWithoutIdentityOnEmptyTensors) {
  EXPECT_NABLA_ERROR(max(f32({0})), "amax: cannot reduce over a zero-size dim (input shape [0], dims [0])");
  EXPECT_NABLA_ERROR(min(f32({0, 2})),
                     "amin: cannot reduce over a zero-size dim (input shape [0, 2], dims [0, 1])");
  EXPECT_NABLA_ERROR(amax(f32({2, 0}), 1),
                     "amax: cannot reduce over a zero-size dim (input shape [2, 0], dims [1])");
  EXPECT_NABLA_ERROR(argmax(f32({0})),
                     "argmax: cannot reduce over a zero-size dim (input shape [0], dims [0])");
  EXPECT_NABLA_ERROR(argmin(f32({3, 0}), 1), "argmin: cannot reduce over a zero-size dim");
  EXPECT_NABLA_ERROR(max(f32({0, 3}), 0), "argmax: cannot reduce over a zero-size dim");
  EXPECT_NABLA_ERROR(one_hot(i64({0}), -1), "one_hot: cannot infer num_classes from an empty tensor");
}

// ---- dtypes -----------------------------------------------------------------------------

TEST(Errors, IndexTensorsMustBeIntegers) {
  const Tensor x = f32({3, 4});
  EXPECT_NABLA_ERROR(gather(x, 0, f32({1, 4})), "gather: expected an int64 index tensor, got float32");
  EXPECT_NABLA_ERROR(index_select(x, 0, f32({2})),
                     "index_select: expected an int64 or int32 index tensor, got float32");
  EXPECT_NABLA_ERROR(one_hot(f32({3}), 4), "one_hot: expected an int64 index tensor, got float32");
  EXPECT_NABLA_ERROR(scatter_add(x, 0, ones({1, 4}, kFloat64), f32({1, 4})),
                     "scatter_add: expected an int64 index tensor, got float64");
  EXPECT_NABLA_ERROR(index_add(x, 0, boolean({1}), f32({1, 4})),
                     "index_add: expected an int64 or int32 index tensor, got bool");
}

TEST(Errors, FloatOnlyOpsRejectIntegerTensors) {
  EXPECT_NABLA_ERROR(mean(i64({3})), "mean: expected a floating-point input, got int64");
  EXPECT_NABLA_ERROR(var(zeros({3}, kInt32)), "var: expected a floating-point input, got int32");
  EXPECT_NABLA_ERROR(softmax(i64({3}), 0), "softmax: expected a floating-point input, got int64");
  EXPECT_NABLA_ERROR(log_softmax(zeros({3}, kUInt8), 0),
                     "log_softmax: expected a floating-point input, got uint8");
  EXPECT_NABLA_ERROR(rand({2}, kInt64), "rand: expected a floating-point dtype, got int64");
  EXPECT_NABLA_ERROR(i64({2}).uniform_(), "uniform_: expected a floating-point tensor, got int64");
}

TEST(Errors, RequiresGradNeedsAFloatingPointTensor) {
  EXPECT_NABLA_ERROR(i64({2}).requires_grad_(),
                     "requires_grad_: only floating-point tensors can require gradients (got int64)");
  EXPECT_NABLA_ERROR(zeros({2}, TensorOptions(kBool).requires_grad(true)),
                     "only floating-point tensors can require gradients (got bool)");
}

TEST(Errors, ConditionsAndMasksMustBeBool) {
  EXPECT_NABLA_ERROR(where(f32({3}), f32({3}), f32({3})), "where: expected a bool condition, got float32");
  EXPECT_NABLA_ERROR(where(i64({3}), f32({3}), 0.0), "where: expected a bool condition, got int64");
  EXPECT_NABLA_ERROR(masked_fill(f32({3}), zeros({3}, kUInt8), 1.0),
                     "masked_fill: expected a bool mask, got uint8");
  EXPECT_NABLA_ERROR(
      [] {
        Tensor x = f32({3});
        x.masked_fill_(f32({3}), 1.0);
      }(),
      "masked_fill: expected a bool mask, got float32");
}

TEST(Errors, IntegerTensorsCannotHoldFloatingPointValues) {
  EXPECT_NABLA_ERROR(full({2}, 1.5, kInt64),
                     "full: cannot fill a int64 tensor with the floating-point value 1.5");
  EXPECT_NABLA_ERROR(
      [] {
        Tensor t = zeros({2}, kInt32);
        t.fill_(2.5);
      }(),
      "fill_: cannot fill a int32 tensor with the floating-point value 2.5");
  EXPECT_NABLA_ERROR(masked_fill(i64({2}), boolean({2}), 0.5),
                     "masked_fill: cannot fill an int64 tensor with the floating-point value 0.5");
  EXPECT_NABLA_ERROR(clamp(i64({2}), 0.5), "clamp: floating-point bounds for an integer tensor of int64");
  // an in-place op whose result would be float cannot write into an integer tensor
  EXPECT_NABLA_ERROR(
      [] {
        Tensor t = zeros({2}, kInt64);
        t.add_(1.5);
      }(),
      "add_: result type float32 cannot be cast to the in-place output type int64");
  EXPECT_NABLA_ERROR(add(i64({2}), i64({2}), 0.5),
                     "add: alpha must not be a floating-point number for integer inputs");
}

TEST(Errors, UnsupportedDtypeCombinations) {
  EXPECT_NABLA_ERROR(boolean({2}) - boolean({2}), "sub: subtracting bool tensors is not supported");
  EXPECT_NABLA_ERROR(pow(i64({2}), -1), "pow: integers to negative integer powers are not allowed");
  EXPECT_NABLA_ERROR(neg(boolean({2})), "neg: not supported for bool tensors");
  EXPECT_NABLA_ERROR(max(boolean({2})), "amax: not supported for bool tensors");
  EXPECT_NABLA_ERROR(scatter_add(f32({3}), 0, i64({2}), ones({2}, kFloat64)),
                     "scatter_add: src dtype float64 differs from the input dtype float32");
  EXPECT_NABLA_ERROR(randperm(3, kInt32), "randperm: only int64 is supported, got int32");
  EXPECT_NABLA_ERROR(arange(0, 3, 1, kBool), "arange: not supported for bool");
}

// ---- autograd misuse ----------------------------------------------------------------------

TEST(Errors, BackwardOfANonScalarNeedsAGradient) {
  Tensor x = ones({3}, TensorOptions().requires_grad(true));
  Tensor y = x * 2;
  EXPECT_NABLA_ERROR(
      y.backward(),
      "backward: grad can be implicitly created only for scalar outputs, but output 0 has shape [3]");
}

TEST(Errors, SecondBackwardThroughAFreedGraph) {
  Tensor x = ones({3}, TensorOptions(kFloat64).requires_grad(true));
  Tensor y = (x * x).sum();
  y.backward();
  EXPECT_NABLA_ERROR(y.backward(), "trying to backward through the graph a second time");
  EXPECT_NABLA_ERROR(y.backward(), "retain_graph=*/true");
}

TEST(Errors, BackwardOnATensorThatDoesNotRequireGrad) {
  EXPECT_NABLA_ERROR(ones({}).backward(),
                     "backward: element 0 of tensors does not require grad and does not have a grad_fn");
  Tensor x = ones({2}, TensorOptions().requires_grad(true));
  Tensor y;
  {
    NoGradGuard g;
    y = (x * 3).sum();
  }
  EXPECT_NABLA_ERROR(y.backward(), "does not require grad");
  EXPECT_NABLA_ERROR(Tensor().backward(), "backward: output 0 is an undefined tensor");
}

TEST(Errors, GradientShapeMismatchInBackward) {
  Tensor x = ones({2, 3}, TensorOptions().requires_grad(true));
  Tensor y = x * 2;
  EXPECT_NABLA_ERROR(y.backward(ones({3, 2})),
                     "backward: gradient of shape [3, 2] does not match output shape [2, 3]");
  EXPECT_NABLA_ERROR(autograd::backward({y}, {ones({2, 3}), ones({2, 3})}),
                     "backward: got 2 gradients for 1 outputs");
  EXPECT_NABLA_ERROR(x.set_grad(ones({3})),
                     "set_grad: gradient [3] float32 on cpu does not match the tensor [2, 3] float32 on cpu");
}

TEST(Errors, InPlaceOnALeafThatRequiresGrad) {
  Tensor x = ones({3}, TensorOptions().requires_grad(true));
  EXPECT_NABLA_ERROR(x.add_(1),
                     "add_: a leaf tensor that requires grad is being used in an in-place operation");
  EXPECT_NABLA_ERROR(x.mul_(x), "mul_: a leaf tensor that requires grad");
  EXPECT_NABLA_ERROR(x.exp_(), "exp_: a leaf tensor that requires grad");
  EXPECT_NABLA_ERROR(x.copy_(zeros({3})), "copy_: a leaf tensor that requires grad");
  EXPECT_NABLA_ERROR(x.fill_(0), "fill_: a leaf tensor that requires grad");
  EXPECT_NABLA_ERROR(x.zero_(), "a leaf tensor that requires grad is being used in an in-place operation");
  // the leaf was not modified by any of the rejected calls
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 1, 1}));
}

TEST(Errors, InPlaceOnAViewUnderAutograd) {
  Tensor x = ones({2, 3}, TensorOptions().requires_grad(true));
  Tensor y = x * 2;
  EXPECT_NABLA_ERROR(y.narrow(0, 0, 1).add_(1),
                     "add_: in-place operations on a view are not supported when autograd records them");
}

TEST(Errors, InPlaceModificationOfASavedTensorIsDetectedAtBackward) {
  {  // an input saved for backward: sin saves its input
    Tensor x = from_vector<double>({0.1, 0.2, 0.3}).requires_grad_();
    Tensor a = x * 2;
    Tensor b = a.sin();
    a.mul_(3);
    EXPECT_NABLA_ERROR(b.sum().backward(), "modified by an in-place operation: input 0 of SinBackward");
  }
  {  // an output saved for backward: exp saves its result
    Tensor x = from_vector<double>({0.1, 0.2}).requires_grad_();
    Tensor y = x.exp();
    Tensor z = y * 1.0;  // keeps y's ExpBackward in the graph behind z
    y.add_(1);
    EXPECT_NABLA_ERROR(z.sum().backward(), "modified by an in-place operation: output 0 of ExpBackward");
  }
  {  // the version numbers are part of the message
    Tensor x = from_vector<double>({1.0, 2.0}).requires_grad_();
    Tensor a = x + 0.0;
    Tensor b = a * a;
    a.add_(1);
    EXPECT_NABLA_ERROR(b.sum().backward(), "expected version");
  }
}

TEST(Errors, RequiresGradFalseOnANonLeaf) {
  Tensor x = ones({2}, TensorOptions().requires_grad(true));
  Tensor y = x * 2;
  EXPECT_NABLA_ERROR(y.requires_grad_(false),
                     "requires_grad_(false): MulBackward is not a leaf of the graph");
}

TEST(Errors, GradcheckNeedsFloat64Inputs) {
  const Tensor x = ones({2}, TensorOptions().requires_grad(true));
  EXPECT_NABLA_ERROR(autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0] * 2; }, {x}),
                     "gradcheck: input 0 requires grad but is float32");
}

// ---- views ------------------------------------------------------------------------------

TEST(Errors, ViewOfAnIncompatibleLayout) {
  const Tensor x = f32({2, 3});
  EXPECT_NABLA_ERROR(
      x.t().view({-1}),
      "view: shape [6] is incompatible with the input's layout (sizes [3, 2], strides [1, 3])");
  EXPECT_NABLA_ERROR(f32({4, 4}).slice(0, 0, 4, 2).view({8}), "use reshape() or call contiguous() first");
}

TEST(Errors, ViewWithAWrongElementCount) {
  const Tensor x = f32({2, 3});
  EXPECT_NABLA_ERROR(x.view({4}), "view: shape [4] is invalid for an input of 6 elements (shape [2, 3])");
  EXPECT_NABLA_ERROR(x.reshape({-1, 4}), "reshape: shape [-1, 4] is invalid for an input of 6 elements");
  EXPECT_NABLA_ERROR(x.view({-1, -1}), "view: only one dim can be inferred (-1) in shape [-1, -1]");
  EXPECT_NABLA_ERROR(x.reshape({-2, -3}), "reshape: invalid size -2 at dim 0 of shape [-2, -3]");
}

TEST(Errors, ExpandToAnIncompatibleSize) {
  EXPECT_NABLA_ERROR(f32({2, 3}).expand({4, 3}),
                     "expand: the expanded size 4 must match the existing size 2 at non-singleton dim 0");
  EXPECT_NABLA_ERROR(f32({2, 3}).expand({3}),
                     "expand: the number of sizes given (1) must be at least the tensor's dims (2)");
  EXPECT_NABLA_ERROR(f32({3}).expand({-1, 3}),
                     "expand: size -1 or negative is not allowed for a new leading dim 0");
}

TEST(Errors, PermuteWithARepeatedDim) {
  EXPECT_NABLA_ERROR(f32({2, 3}).permute({0, 0}), "permute: dim 0 repeats in [0, 0]");
  EXPECT_NABLA_ERROR(f32({2, 3, 4}).permute({1, 0, -2}), "permute: dim 1 repeats in [1, 0, -2]");
}

TEST(Errors, SliceWithANonPositiveStep) {
  EXPECT_NABLA_ERROR(f32({4}).slice(0, 0, 4, 0), "slice: step must be positive, got 0");
  EXPECT_NABLA_ERROR(f32({4}).slice(0, 0, 4, -1), "slice: step must be positive, got -1");
  EXPECT_NABLA_ERROR(f32({}).slice(0), "slice: cannot slice a 0-dim tensor");
}

TEST(Errors, AsStridedOutOfStorageBounds) {
  const Tensor x = f32({4});
  EXPECT_NABLA_ERROR(x.as_strided({3}, {2}),
                     "as_strided: sizes [3] strides [2] offset 0 reach element 4 of a storage of 4 elements");
  EXPECT_NABLA_ERROR(x.as_strided({2, 2}, {2, 1}, 1),
                     "as_strided: sizes [2, 2] strides [2, 1] offset 1 reach element 4");
  EXPECT_NABLA_ERROR(x.as_strided({1}, {1}, -1), "as_strided: negative storage offset -1");
  EXPECT_NABLA_ERROR(x.as_strided({2, 2}, {1}), "as_strided: 2 sizes but 1 strides");
  EXPECT_NABLA_ERROR(ones({4}, TensorOptions().requires_grad(true)).as_strided({2}, {1}),
                     "as_strided: autograd through as_strided is not supported");
}

// ---- joining and splitting ----------------------------------------------------------------

TEST(Errors, SplitSizesNotSummingToTheDim) {
  const Tensor x = f32({3, 2});
  EXPECT_NABLA_ERROR(x.split(Shape{1, 1}, 0), "split: split sizes [1, 1] sum to 2 but dim 0 has size 3");
  EXPECT_NABLA_ERROR(x.split(Shape{4, -1}, 0), "split: split sizes must be non-negative, got [4, -1]");
  EXPECT_NABLA_ERROR(x.split(int64_t{0}, 0), "split: split_size must be positive, got 0");
  EXPECT_NABLA_ERROR(x.chunk(0), "chunk: expected a positive number of chunks, got 0");
}

TEST(Errors, CatOfMismatchedShapes) {
  EXPECT_NABLA_ERROR(
      cat({f32({2, 3}), f32({2, 4})}, 0),
      "cat: sizes must match except in dim 0: tensor 1 has shape [2, 4], expected size 3 at dim 1");
  EXPECT_NABLA_ERROR(cat({f32({2, 3}), f32({2, 3, 1})}, 0), "cat: tensor 1 has 3 dims but tensor 0 has 2");
  EXPECT_NABLA_ERROR(cat({}, 0), "cat: expected a non-empty list of tensors");
  EXPECT_NABLA_ERROR(cat({f32({}), f32({})}, 0), "cat: zero-dimensional tensor");
}

TEST(Errors, StackOfDifferentShapes) {
  EXPECT_NABLA_ERROR(stack({f32({2}), f32({3})}), "stack: tensor 1 has shape [3] but tensor 0 has [2]");
  EXPECT_NABLA_ERROR(stack({}), "stack: expected a non-empty list of tensors");
}

// ---- index values -------------------------------------------------------------------------

TEST(Errors, IndexValuesOutOfBounds) {
  const Tensor x = f32({3, 2});
  EXPECT_NABLA_ERROR(gather(x, 0, from_vector<int64_t>({0, 5}, {1, 2})),
                     "gather: index 5 is out of bounds for dim 0 with size 3");
  EXPECT_NABLA_ERROR(gather(x, 1, from_vector<int64_t>({-1, 0, 0}, {3, 1})),
                     "gather: index -1 is out of bounds for dim 1 with size 2");
  EXPECT_NABLA_ERROR(index_select(x, 0, from_vector<int64_t>({5})),
                     "index_select: index 5 is out of bounds for dim 0 with size 3");
  EXPECT_NABLA_ERROR(index_select(f32({3}), 0, from_vector<int32_t>({0, 3})),
                     "index_select: index 3 is out of bounds");
  EXPECT_NABLA_ERROR(scatter_add(f32({3}), 0, from_vector<int64_t>({3}), f32({1})),
                     "scatter_add: index 3 is out of bounds for dim 0 with size 3");
  EXPECT_NABLA_ERROR(index_add(x, 0, from_vector<int64_t>({7}), f32({1, 2})),
                     "index_add: index 7 is out of bounds for dim 0 with size 3");
  EXPECT_NABLA_ERROR(one_hot(from_vector<int64_t>({0, 4}), 3),
                     "one_hot: class index 4 is out of range [0, 3)");
  EXPECT_NABLA_ERROR(one_hot(from_vector<int64_t>({0}), -2),
                     "one_hot: num_classes must be positive or -1, got -2");
  EXPECT_NABLA_ERROR(gather(x, 0, i64({2})),
                     "gather: index of shape [2] must have as many dims as the input of shape [3, 2]");
  EXPECT_NABLA_ERROR(index_select(x, 0, i64({1, 1})), "index_select: expected a 1-D index, got shape [1, 1]");
}

// ---- factories and ranges -----------------------------------------------------------------

TEST(Errors, ArangeStepZeroOrInconsistentSign) {
  EXPECT_NABLA_ERROR(arange(0, 10, 0), "arange: step must be non-zero");
  EXPECT_NABLA_ERROR(arange(0.0, 1.0, 0.0), "arange: step must be non-zero");
  EXPECT_NABLA_ERROR(arange(0, 10, -1),
                     "arange: upper bound and lower bound are inconsistent with the step sign");
  EXPECT_NABLA_ERROR(arange(5, 1, 1), "inconsistent with the step sign (start 5, end 1, step 1)");
  EXPECT_NABLA_ERROR(arange(0.0, INFINITY, 1.0), "arange: start 0 and end inf must be finite");
}

TEST(Errors, RandintWithLowNotBelowHigh) {
  EXPECT_NABLA_ERROR(randint(5, 5, {2}), "randint: expected low < high, got low=5 high=5");
  EXPECT_NABLA_ERROR(randint(-1, {2}), "randint: expected low < high, got low=0 high=-1");
}

TEST(Errors, RandomFillParameters) {
  Tensor t = zeros({2});
  EXPECT_NABLA_ERROR(t.uniform_(1.0, 0.0), "uniform_: expected from <= to, got from=1 to=0");
  EXPECT_NABLA_ERROR(t.normal_(0.0, -1.0), "normal_: expected std >= 0, got -1");
}

TEST(Errors, LinspaceNegativeSteps) {
  EXPECT_NABLA_ERROR(linspace(0, 1, -1), "linspace: number of steps must be non-negative, got -1");
}

TEST(Errors, FromVectorWithTheWrongElementCount) {
  EXPECT_NABLA_ERROR(from_vector<float>({1, 2, 3}, {2, 2}),
                     "from_vector: 3 values cannot fill shape [2, 2] (4 elements)");
  EXPECT_NABLA_ERROR(from_vector<int64_t>({}, Shape{}),
                     "from_vector: 0 values cannot fill shape [] (1 elements)");
}

// ---- names, devices, host access -----------------------------------------------------------

TEST(Errors, InvalidDtypeName) {
  EXPECT_NABLA_ERROR(dtype_from_name("float128"), "unknown dtype 'float128' (expected float32, float64");
  EXPECT_NABLA_ERROR(dtype_from_name(""), "unknown dtype ''");
  EXPECT_NABLA_ERROR(dtype_from_name("torch.float32"), "unknown dtype 'torch.float32'");
}

TEST(Errors, InvalidDeviceString) {
  EXPECT_NABLA_ERROR(Device("gpu"), "invalid device 'gpu' (expected 'cpu', 'cuda' or 'cuda:N')");
  EXPECT_NABLA_ERROR(Device("cuda:"), "invalid device 'cuda:'");
  EXPECT_NABLA_ERROR(Device("cuda:x"), "invalid device 'cuda:x'");
  EXPECT_NABLA_ERROR(Device("CPU"), "invalid device 'CPU'");
}

TEST(Errors, CudaTensorWithoutACudaBackend) {
  if (backend_registered(DeviceType::CUDA)) GTEST_SKIP() << "a CUDA backend is available here";
  EXPECT_NABLA_ERROR(zeros({2}, Device::cuda()),
                     "cannot allocate on cuda:0: the cuda backend is not available");
  EXPECT_NABLA_ERROR(ones({2}).to(Device::cuda()),
                     "no CUDA device was found, or nabla was built without CUDA");
  EXPECT_NABLA_ERROR(empty({2}, Device::cuda(1)), "cannot allocate on cuda:1");
  EXPECT_NABLA_ERROR(ones({2}).cuda(), "cuda");
}

TEST(Errors, DataPtrOfTheWrongType) {
  EXPECT_NABLA_ERROR(f32({2}).data_ptr<double>(), "data_ptr: requested float64 but the tensor holds float32");
  EXPECT_NABLA_ERROR(i64({2}).data_ptr<int32_t>(), "data_ptr: requested int32 but the tensor holds int64");
}

TEST(Errors, ItemNeedsExactlyOneElement) {
  EXPECT_NABLA_ERROR(f32({2, 3}).item<float>(),
                     "item: a tensor with 6 elements cannot be converted to a scalar (shape [2, 3])");
  EXPECT_NABLA_ERROR(f32({0}).item(), "item: a tensor with 0 elements");
}

TEST(Errors, UndefinedTensors) {
  const Tensor u;
  EXPECT_NABLA_ERROR(u.sizes(), "sizes: called on an undefined tensor");
  EXPECT_NABLA_ERROR(add(f32({2}), u), "add: input 1 is an undefined tensor");
  EXPECT_NABLA_ERROR(exp(u), "exp: input is an undefined tensor");
  EXPECT_NABLA_ERROR(linear(f32({2}), u), "linear: weight is an undefined tensor");
}

// ---- op parameters --------------------------------------------------------------------------

TEST(Errors, ClampWithNeitherBound) {
  EXPECT_NABLA_ERROR(clamp(f32({2}), std::nullopt, std::nullopt),
                     "clamp: at least one of min and max must be given");
  EXPECT_NABLA_ERROR(
      [] {
        Tensor t = ones({2});
        t.clamp_(std::nullopt);
      }(),
      "clamp: at least one of min and max must be given");
}

TEST(Errors, SetNumThreadsZero) {
  const int before = get_num_threads();
  EXPECT_NABLA_ERROR(set_num_threads(0), "set_num_threads: expected a positive thread count, got 0");
  EXPECT_NABLA_ERROR(set_num_threads(-2), "set_num_threads: expected a positive thread count, got -2");
  EXPECT_EQ(get_num_threads(), before);
}

TEST(Errors, NormWithNegativeP) {
  EXPECT_NABLA_ERROR(norm(f32({3}), -1.0), "norm: p must be non-negative (or INFINITY), got -1");
  EXPECT_NABLA_ERROR(norm(i64({3}), 2.0), "norm: expected a floating-point input, got int64");
}

TEST(Errors, OtherOpParameters) {
  EXPECT_NABLA_ERROR(softplus(f32({2}), 0.0), "softplus: beta must be non-zero");
  EXPECT_NABLA_ERROR(
      [] {
        Tensor t = zeros({2});
        t.copy_(ones({3}));
      }(),
      "copy_: shapes [3] and [2] cannot be broadcast together");
  EXPECT_NABLA_ERROR(
      [] {
        Tensor t = zeros({2});
        t.copy_(ones({2, 2}));
      }(),
      "copy_: source of shape [2, 2] does not broadcast to the destination shape [2]");
  EXPECT_NABLA_ERROR(f32({2, 3}).flatten(1, 0), "flatten: start_dim 1 comes after end_dim 0");
  EXPECT_NABLA_ERROR(
      index_add(f32({3, 2}), 0, i64({1}), f32({2, 2})),
      "index_add: source of shape [2, 2] does not fit input [3, 2] with 1 indices along dim 0");
}

// ---- nothing aborts ------------------------------------------------------------------------

// Runs a spread of bad calls in one process: each must surface as a nabla::Error that the
// caller catches, after which the library keeps working normally.
TEST(Errors, EveryFailureIsCatchableAndTheLibraryKeepsWorking) {
  const std::vector<std::function<void()>> bad = {
      [] { (void)add(ones({2}), ones({3})); },
      [] { (void)zeros({-1}); },
      [] {
        (void)zeros({1LL << 40, 1LL << 40});
      },
      [] { (void)empty({1LL << 46}, kFloat64); },
      [] { (void)ones({2}).t().view({3}); },
      [] {
        (void)ones({2, 3}).sum(7);
      },
      [] { (void)gather(ones({3}), 0, from_vector<int64_t>({9})); },
      [] { (void)one_hot(from_vector<int64_t>({-1}), 3); },
      [] { (void)ones({2}).item<float>(); },
      [] { (void)Device("tpu"); },
      [] { (void)dtype_from_name("complex64"); },
      [] { (void)ones({3}, TensorOptions().requires_grad(true)).sum().backward(ones({2})); },
      [] {
        (void)matmul(ones({2, 3}), ones({2, 3}));
      },
      [] { set_num_threads(0); },
  };
  int caught = 0;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    try {
      bad[i]();
      ADD_FAILURE() << "case " << i << " did not throw";
    } catch (const Error& e) {
      EXPECT_GT(std::string(e.what()).size(), 10u) << "case " << i << " has an uninformative message";
      ++caught;
    }
  }
  EXPECT_EQ(caught, static_cast<int>(bad.size()));
  // still fully functional afterwards
  const Tensor r = matmul(ones({2, 3}), ones({3, 2}));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{3, 3, 3, 3}));
}

}  // namespace
}  // namespace nabla

// Regressions from the code review of the foundation.
TEST(ReviewRegressions, OverwritesCutHistoryAndBadGeometryIsRejected) {
  using namespace nabla;
  // uniform_/fill_ on a non-leaf: its old history no longer feeds gradients
  Tensor x = ones({3}).requires_grad_(true);
  Tensor y = x * 2.0;
  y.uniform_();
  (y + x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 1, 1}));
  // as_strided whose extent overflows int64
  EXPECT_THROW(zeros({4}).as_strided({5}, {int64_t{1} << 62}), Error);
  // in-place writes into elements that share memory
  Tensor e = zeros({1}).expand({8});
  EXPECT_THROW(e.add_(1), Error);
  // gather with a 0-dim index
  const Tensor g = gather(from_vector<float>({1, 2, 3}), 0, scalar_tensor(int64_t{2}, kInt64));
  EXPECT_EQ(g.dim(), 0);
  EXPECT_EQ(g.item<float>(), 3.f);
  // cross_entropy with a strided class-weight view equals the contiguous weights
  const Tensor logits = from_vector<float>({0.5f, -1.f, 2.f, 0.1f, 0.2f, 0.3f}, {2, 3});
  const Tensor t = from_vector<int64_t>({2, 0});
  const Tensor wide = from_vector<float>({1, 9, 2, 9, 3, 9});
  nn::functional::CrossEntropyOptions strided, dense;
  strided.weight = wide.slice(0, 0, 6, 2);
  dense.weight = from_vector<float>({1, 2, 3});
  EXPECT_FLOAT_EQ(nn::functional::cross_entropy(logits, t, strided).item<float>(),
                  nn::functional::cross_entropy(logits, t, dense).item<float>());
  // numbers meet 16-bit tensors in float32: 7e4 overflows float16, 1/7e4 does not
  manual_seed(0);
  Tensor h = randn({300, 300}, kFloat16).requires_grad_(true);
  EXPECT_GT(abs(h / 7e4).max().item<float>(), 0.f);
  EXPECT_EQ((h / 7e4).dtype(), kFloat16);
  h.mean().backward();
  EXPECT_NEAR(h.grad().to(kFloat32).mean().item<float>(), 1.0f / 90000.f, 1e-7);
  Tensor hi = ones({2}, kFloat16);
  hi.mul_(1e-5);
  EXPECT_NEAR(hi.to(kFloat32)[0].item<float>(), 1e-5f, 1e-7);
}
