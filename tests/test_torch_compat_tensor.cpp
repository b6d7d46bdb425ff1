// libtorch's tensor idioms as libtorch programs write them (namespace torch =
// nabla::torch_compat): from_blob without strides, all/any, grad_fn(), index lists with
// torch::indexing (views, tensor indices, index_put_), accessor<T, N>(), the aten-style free
// functions (torch::nll_loss, torch::max_pool2d, ...) and device spellings.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nabla/torch_compat.h"
#include "test_util.h"

namespace torch = nabla::torch_compat;
using namespace torch::indexing;  // NOLINT: as libtorch programs write it

namespace {

// 0, 1, ..., n-1 as float32 of `shape`
torch::Tensor iota(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return torch::arange(n, torch::kFloat32).reshape(shape);
}

std::vector<float> values(const torch::Tensor& t) { return t.to_vector<float>(); }

// ---- from_blob ---------------------------------------------------------------------------------

TEST(TorchCompatTensor, FromBlobWithoutStridesIsFloat32AndSharesTheMemory) {
  float data[6] = {1, 2, 3, 4, 5, 6};
  torch::Tensor t = torch::from_blob(data, {2, 3});
  EXPECT_EQ(t.dtype(), torch::kFloat32);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values(t), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  t.index_put_({1, 2}, 60.0);
  EXPECT_EQ(data[5], 60.0f);  // no copy: the tensor is the array
}

TEST(TorchCompatTensor, FromBlobWithOptionsAndDeleter) {
  double data[4] = {1, 2, 3, 4};
  torch::Tensor d = torch::from_blob(data, {4}, torch::TensorOptions().dtype(torch::kFloat64));
  EXPECT_EQ(d.dtype(), torch::kFloat64);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1, 2, 3, 4}));
  torch::Tensor g = torch::from_blob(data, {2, 2}, torch::dtype(torch::kFloat64).requires_grad(true));
  EXPECT_TRUE(g.requires_grad());

  int64_t ints[3] = {7, 8, 9};
  void* freed = nullptr;
  {
    torch::Tensor i = torch::from_blob(
        ints, {3}, [&freed](void* p) { freed = p; }, torch::kInt64);
    EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{7, 8, 9}));
    EXPECT_EQ(freed, nullptr);
  }
  EXPECT_EQ(freed, static_cast<void*>(ints));  // libtorch's deleter gets the pointer back

  float cols[6] = {1, 2, 3, 4, 5, 6};
  torch::Tensor s = torch::from_blob(cols, {2, 3}, {1, 2});  // nabla's strided one, float32 too
  EXPECT_EQ(values(s), (std::vector<float>{1, 3, 5, 2, 4, 6}));
  EXPECT_NABLA_ERROR(torch::from_blob(cols, {-1, 3}), "from_blob");
}

// ---- all / any ---------------------------------------------------------------------------------

TEST(TorchCompatTensor, AllAndAnyGiveBoolTensors) {
  torch::Tensor x = torch::tensor({{1.0, 0.0}, {2.0, 3.0}});
  EXPECT_EQ(x.all().dtype(), torch::kBool);
  EXPECT_EQ(x.all().dim(), 0);
  EXPECT_FALSE(x.all().item<bool>());
  EXPECT_TRUE(x.any().item<bool>());
  EXPECT_TRUE((x >= 0).all().item<bool>());
  EXPECT_FALSE((x > 5).any().item<bool>());
  EXPECT_EQ(x.all(1).to_vector<bool>(), (std::vector<bool>{false, true}));
  EXPECT_EQ(x.all(0).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(x.any(-1, /*keepdim=*/true).sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(torch::any(torch::zeros({2, 2}), 0).to_vector<bool>(), (std::vector<bool>{false, false}));
  EXPECT_TRUE(torch::all(torch::tensor({true, true})).item<bool>());
  // NaN is nonzero, as in libtorch
  EXPECT_TRUE(torch::tensor({std::numeric_limits<float>::quiet_NaN()}).all().item<bool>());
  EXPECT_TRUE(torch::tensor(5).all(0).item<bool>());  // a 0-dim tensor takes dim 0
  // libtorch's exception: uint8 in, uint8 out
  torch::Tensor bytes = torch::tensor({1, 0}).to(torch::kUInt8);
  EXPECT_EQ(bytes.any().dtype(), torch::kUInt8);
  EXPECT_EQ(bytes.all().item<int64_t>(), 0);
  EXPECT_EQ(bytes.any(0).item<int64_t>(), 1);
  EXPECT_NABLA_ERROR(x.all(2), "all", "dim 2");
}

TEST(TorchCompatTensor, AllOfNoElementsIsTrueAnyFalse) {
  torch::Tensor e = torch::zeros({0, 3});
  EXPECT_TRUE(e.all().item<bool>());
  EXPECT_FALSE(e.any().item<bool>());
  EXPECT_EQ(e.all(0).to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(e.any(1).numel(), 0);
}

// ---- grad_fn -----------------------------------------------------------------------------------

TEST(TorchCompatTensor, GradFnIsNullForLeavesAndNamesTheNode) {
  torch::Tensor x = torch::randn({2, 2}, torch::requires_grad());
  EXPECT_FALSE(x.grad_fn());
  EXPECT_TRUE(x.grad_fn() == nullptr);
  torch::Tensor y = x * 2;
  ASSERT_TRUE(y.grad_fn());
  // nabla's node names (the Python binding's grad_fn and printing use them): libtorch's
  // carry a version suffix ("MulBackward0")
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward");
  EXPECT_EQ((x + x).grad_fn()->name(), "AddBackward");
  EXPECT_EQ(x.exp().grad_fn()->name(), "ExpBackward");
  // the last op nabla ran: its mm ends in a view of a batched product
  EXPECT_EQ(torch::mm(x, x).grad_fn()->name(), "ViewBackward");
  EXPECT_EQ(torch::relu(x).grad_fn()->name(), "ReluBackward");
  EXPECT_EQ(y.sum().grad_fn()->name(), "SumBackward");
  EXPECT_EQ(y.grad_fn()->name(), y.grad_fn_name());
  EXPECT_TRUE(y.grad_fn() == y.grad_fn());  // one node, however often asked
  EXPECT_FALSE(y.detach().grad_fn());
  EXPECT_NABLA_ERROR(x.grad_fn()->name(), "grad_fn", "leaf");
}

// ---- indexing: views ---------------------------------------------------------------------------

TEST(TorchCompatTensor, IndexWithSliceAndIntegerIsASelectView) {
  torch::Tensor x = iota({2, 3, 4});
  torch::Tensor v = x.index({Slice(), 0});
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(values(v), values(x.select(1, 0)));
  EXPECT_TRUE(v.is_alias_of(x));
  v.fill_(-1);  // shares storage: the write shows in x
  EXPECT_EQ(values(x.select(1, 0)), std::vector<float>(8, -1.0f));
  EXPECT_EQ(x.index({1, -1, 2}).item<float>(), x[1][2][2].item<float>());
  EXPECT_EQ(x.index({1, -1, 2}).dim(), 0);
}

TEST(TorchCompatTensor, IndexWithEllipsisAndOpenSlices) {
  torch::Tensor x = iota({2, 3, 4});
  torch::Tensor a = x.index({"...", Slice(None, 2)});
  EXPECT_EQ(values(a), values(x.narrow(2, 0, 2)));
  EXPECT_TRUE(a.is_alias_of(x));
  EXPECT_EQ(values(x.index({Ellipsis, 1})), values(x.select(2, 1)));
  EXPECT_EQ(values(x.index({0, "..."})), values(x[0]));
  EXPECT_EQ(x.index({"..."}).sizes(), x.sizes());
  EXPECT_EQ(values(x.index({Slice(-2)})), values(x));      // a negative start counts from the end
  EXPECT_EQ(x.index({Slice(), Slice(5, 10)}).size(1), 0);  // out-of-range bounds clamp
}

TEST(TorchCompatTensor, IndexWithAStep) {
  torch::Tensor x = torch::arange(6);
  torch::Tensor s = x.index({Slice(1, None, 2)});
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(s.stride(0), 2);
  EXPECT_TRUE(s.is_alias_of(x));
  EXPECT_EQ(x.index({Slice(None, None, 4)}).to_vector<int64_t>(), (std::vector<int64_t>{0, 4}));
}

TEST(TorchCompatTensor, IndexWithNoneAddsAnAxis) {
  torch::Tensor x = iota({2, 3});
  EXPECT_EQ(x.index({None}).sizes(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(x.index({Slice(), None}).sizes(), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(x.index({"...", None}).sizes(), (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(values(x.index({None, 1})), values(x[1].unsqueeze(0)));
  EXPECT_TRUE(x.index({None}).is_alias_of(x));
  // a bool adds an axis too: kept (true) or emptied (false)
  EXPECT_EQ(x.index({true}).sizes(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(x.index({false}).sizes(), (std::vector<int64_t>{0, 2, 3}));
}

TEST(TorchCompatTensor, GradientFlowsThroughIndex) {
  torch::Tensor x = iota({2, 3}).requires_grad_();
  torch::Tensor y = x.index({Slice(), 1}) * 3 + x.index({1, Slice(None, 2)});
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<float>{0, 3, 0, 1, 4, 0}));

  torch::Tensor w = iota({3, 2}).requires_grad_();
  w.index({torch::tensor({2, 2, 0})}).sum().backward();  // a tensor index: duplicates add up
  EXPECT_EQ(values(w.grad()), (std::vector<float>{1, 1, 0, 0, 2, 2}));
}

// ---- indexing: tensors -------------------------------------------------------------------------

TEST(TorchCompatTensor, IndexWithAMaskOrIndexTensors) {
  torch::Tensor x = iota({3, 4});
  torch::Tensor mask = x > 6;
  EXPECT_EQ(values(x.index({mask})), (std::vector<float>{7, 8, 9, 10, 11}));
  torch::Tensor rows = torch::tensor({2, 0});
  EXPECT_EQ(values(x.index({rows})), values(x.index_select(0, rows)));
  EXPECT_EQ(values(x.index({Slice(), rows})), values(x.index_select(1, rows)));
  EXPECT_EQ(values(x.index({1, rows})), (std::vector<float>{6, 4}));
  EXPECT_EQ(values(x.index({"...", torch::tensor({3})})), (std::vector<float>{3, 7, 11}));
  EXPECT_EQ(x.index({torch::tensor(1)}).sizes(), (std::vector<int64_t>{4}));  // a 0-dim index selects
  // a braced list of tensors means what nabla::index does (undefined: the whole dim)
  torch::Tensor cols = torch::tensor({1, 3});
  EXPECT_EQ(values(x.index({rows, cols})), values(torch::index(x, {rows, cols})));
  EXPECT_EQ(values(x.index({torch::Tensor(), cols})), values(x.index_select(1, cols)));
  const std::vector<torch::Tensor> list{rows};
  EXPECT_EQ(values(x.index(list)), values(x.index_select(0, rows)));
  EXPECT_FALSE(x.index({rows}).is_alias_of(x));  // advanced indexing copies, as libtorch's
}

// ---- index_put_ --------------------------------------------------------------------------------

TEST(TorchCompatTensor, IndexPutWithATensorOrAScalar) {
  torch::Tensor x = torch::zeros({2, 3});
  x.index_put_({Slice(), 0}, torch::tensor({1.0f, 2.0f}));
  EXPECT_EQ(values(x), (std::vector<float>{1, 0, 0, 2, 0, 0}));
  x.index_put_({1, Slice(1, None)}, 7);
  EXPECT_EQ(values(x), (std::vector<float>{1, 0, 0, 2, 7, 7}));
  x.index_put_({"...", 2}, torch::tensor(5.0f));  // broadcast
  EXPECT_EQ(values(x), (std::vector<float>{1, 0, 5, 2, 7, 5}));
  x.index_put_({x > 4}, -1.5);
  EXPECT_EQ(values(x), (std::vector<float>{1, 0, -1.5, 2, -1.5, -1.5}));
  x.index_put_({Slice(), torch::tensor({1})}, 9);
  EXPECT_EQ(values(x), (std::vector<float>{1, 9, -1.5, 2, 9, -1.5}));
  const std::vector<torch::indexing::TensorIndex> entries{0, torch::tensor({0, 2})};
  x.index_put_(entries, torch::tensor({3.0f, 4.0f}));
  EXPECT_EQ(values(x), (std::vector<float>{3, 9, 4, 2, 9, -1.5}));
  // nabla's own tensor-list form, with accumulate, stays as it was
  x.index_put_({torch::tensor({1}), torch::tensor({0})}, torch::tensor({1.0f}), /*accumulate=*/true);
  EXPECT_EQ(values(x)[3], 3.0f);
  EXPECT_NABLA_ERROR(x.index_put_({Slice(), 0}, torch::ones({3})), "copy_");
}

TEST(TorchCompatTensor, IndexPutIntoAParameterUnderNoGradGuard) {
  // libtorch's way to set part of a parameter: no_grad, then write through an index
  torch::Tensor w = torch::ones({2, 2}, torch::requires_grad());
  {
    torch::NoGradGuard no_grad;
    w.index_put_({0, Slice()}, 0);
    w.index_put_({Slice(), 1}, torch::tensor({5.0f, 6.0f}));
  }
  EXPECT_EQ(values(w), (std::vector<float>{0, 5, 1, 6}));
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  // with grad mode on, the write into a view of it is refused (libtorch refuses a leaf that
  // requires grad too); so is one into a view of a recorded result, which libtorch records
  // (CopySlices) and nabla does not
  EXPECT_NABLA_ERROR(w.index_put_({0, 0}, 1), "fill_", "view", "NoGradGuard");
  torch::Tensor y = w * 2;
  EXPECT_NABLA_ERROR(y.index_put_({Slice(), 0}, torch::zeros({2})), "copy_", "view");
  // a tensor index alone writes into y itself, which autograd records
  y.index_put_({torch::tensor({1})}, torch::zeros({2}));
  y.sum().backward();
  EXPECT_EQ(values(w.grad()), (std::vector<float>{2, 2, 0, 0}));
}

// ---- bad index lists ---------------------------------------------------------------------------

TEST(TorchCompatTensor, BadIndexListsThrow) {
  torch::Tensor x = iota({2, 3});
  EXPECT_NABLA_ERROR(x.index({2}), "Tensor::index", "index 2", "dim 0 of size 2");
  EXPECT_NABLA_ERROR(x.index({0, -4}), "Tensor::index", "index -4", "dim 1 of size 3");
  EXPECT_NABLA_ERROR(x.index({0, 0, 0}), "Tensor::index", "too many indices", "2 dims");
  EXPECT_NABLA_ERROR(x.index({"...", 0, "..."}), "Tensor::index", "one ellipsis", "got 2");
  EXPECT_NABLA_ERROR(x.index({Slice(None, None, 0)}), "Tensor::index", "step", "got 0");
  EXPECT_NABLA_ERROR(x.index({Slice(0, 1, -1)}), "Tensor::index", "step", "got -1");
  EXPECT_NABLA_ERROR(x.index({".."}), "TensorIndex", "\"...\"", "\"..\"");
  EXPECT_NABLA_ERROR(x.index({torch::tensor({5})}), "index", "5", "out of bounds");
  EXPECT_NABLA_ERROR(x.index_put_({0, 7}, 1), "Tensor::index_put_", "index 7");
}

// ---- accessor ----------------------------------------------------------------------------------

TEST(TorchCompatTensor, AccessorReadsAndWrites) {
  torch::Tensor x = iota({2, 3});
  auto a = x.accessor<float, 2>();
  EXPECT_EQ(a.size(0), 2);
  EXPECT_EQ(a.size(1), 3);
  EXPECT_EQ(a.sizes().size(), 2u);
  EXPECT_EQ(a.strides()[0], 3);
  float sum = 0;
  for (int64_t i = 0; i < a.size(0); ++i)
    for (int64_t j = 0; j < a.size(1); ++j) sum += a[i][j];
  EXPECT_EQ(sum, 15.0f);
  a[1][2] = 42;
  EXPECT_EQ(x[1][2].item<float>(), 42.0f);

  torch::Tensor ids = torch::tensor({4, 5, 6});
  auto b = ids.accessor<int64_t, 1>();
  b[0] += 10;
  EXPECT_EQ(ids.to_vector<int64_t>(), (std::vector<int64_t>{14, 5, 6}));
}

TEST(TorchCompatTensor, AccessorOfAStridedView) {
  torch::Tensor x = iota({2, 3});
  torch::Tensor t = x.t();  // [3, 2], strides {1, 3}
  auto a = t.accessor<float, 2>();
  EXPECT_EQ(a.stride(0), 1);
  EXPECT_EQ(a.stride(1), 3);
  EXPECT_EQ(a[2][1], 5.0f);
  a[0][1] = -3;  // writes x[1][0]
  EXPECT_EQ(x[1][0].item<float>(), -3.0f);
  const torch::Tensor every_other = torch::arange(10, torch::kFloat64).index({Slice(None, None, 3)});
  auto c = every_other.accessor<const double, 1>();
  EXPECT_EQ(c[3], 9.0);
}

TEST(TorchCompatTensor, AccessorChecksDtypeAndDims) {
  torch::Tensor x = iota({2, 3});
  EXPECT_NABLA_ERROR((x.accessor<double, 2>()), "accessor", "float64", "float32");
  EXPECT_NABLA_ERROR((x.accessor<float, 3>()), "accessor", "3 dims", "[2, 3]");
  torch::Tensor undefined;
  EXPECT_NABLA_ERROR((undefined.accessor<float, 1>()), "accessor", "undefined");
}

// ---- aten-style free functions -----------------------------------------------------------------

namespace F = torch::nn::functional;

TEST(TorchCompatTensor, LossFunctionsWithIntReductions) {
  torch::manual_seed(1);
  torch::Tensor logits = torch::randn({4, 3});
  torch::Tensor target = torch::tensor({0, 2, 1, 2});
  torch::Tensor logp = torch::log_softmax(logits, 1);
  EXPECT_EQ(torch::Reduction::Mean, 1);
  EXPECT_TRUE(nabla::test_util::all_close(torch::nll_loss(logp, target), F::nll_loss(logp, target), 0, 0));
  F::NLLLossOptions sum_opts;
  sum_opts.reduction = F::Reduction::Sum;
  sum_opts.ignore_index = 1;
  EXPECT_TRUE(nabla::test_util::all_close(torch::nll_loss(logp, target, {}, torch::Reduction::Sum, 1),
                                          F::nll_loss(logp, target, sum_opts), 0, 0));
  EXPECT_TRUE(nabla::test_util::all_close(torch::cross_entropy_loss(logits, target),
                                          F::cross_entropy(logits, target), 1e-6, 1e-6));
  torch::Tensor a = torch::rand({5}), b = torch::rand({5});
  EXPECT_TRUE(nabla::test_util::all_close(torch::mse_loss(a, b, torch::Reduction::Sum),
                                          F::mse_loss(a, b, torch::kSum), 0, 0));
  EXPECT_EQ(torch::mse_loss(a, b, torch::Reduction::None).sizes(), a.sizes());
  EXPECT_TRUE(
      nabla::test_util::all_close(torch::binary_cross_entropy(a, b), F::binary_cross_entropy(a, b), 0, 0));
  EXPECT_TRUE(nabla::test_util::all_close(torch::l1_loss(a, b), F::l1_loss(a, b), 0, 0));
  EXPECT_NABLA_ERROR(torch::mse_loss(a, b, 7), "torch::mse_loss", "reduction 7");
}

TEST(TorchCompatTensor, LayerFunctionsMatchFunctional) {
  torch::manual_seed(2);
  torch::Tensor x = torch::randn({2, 3, 6, 6});
  torch::Tensor w = torch::randn({4, 3, 3, 3}), bias = torch::randn({4});
  EXPECT_TRUE(nabla::test_util::all_close(torch::conv2d(x, w, bias, 1, 1),
                                          F::conv2d(x, w, bias, /*stride=*/1, /*padding=*/1), 0, 0));
  EXPECT_EQ(torch::conv2d(x, w).sizes(), (std::vector<int64_t>{2, 4, 4, 4}));
  EXPECT_TRUE(nabla::test_util::all_close(torch::max_pool2d(x, {2, 2}), F::max_pool2d(x, 2), 0, 0));
  EXPECT_EQ(torch::max_pool2d(x, 3, 1, 1).sizes(), (std::vector<int64_t>{2, 3, 6, 6}));
  EXPECT_TRUE(nabla::test_util::all_close(torch::avg_pool2d(x, 2), F::avg_pool2d(x, 2), 0, 0));
  EXPECT_NABLA_ERROR(torch::avg_pool2d(x, 2, {}, 0, false, true, 3), "divisor_override");
  EXPECT_TRUE(nabla::test_util::all_close(torch::dropout(x, 0.5, /*train=*/false), x, 0, 0));
  EXPECT_GT(torch::dropout(x, 0.5, /*train=*/true).eq(0).sum().item<int64_t>(), 0);
  torch::Tensor mean = torch::randn({3}), var = torch::rand({3}) + 0.5, g = torch::randn({3}),
                beta = torch::randn({3});
  EXPECT_TRUE(nabla::test_util::all_close(torch::batch_norm(x, g, beta, mean, var, false, 0.1, 1e-5, true),
                                          F::batch_norm(x, mean, var, g, beta), 0, 0));
  EXPECT_TRUE(nabla::test_util::all_close(torch::softmax(x, 1, torch::kFloat64),
                                          torch::softmax(x.to(torch::kFloat64), 1), 0, 0));
  EXPECT_EQ(torch::log_softmax(x, 1).dtype(), torch::kFloat32);
  torch::Tensor table = torch::randn({5, 2});
  torch::Tensor ids = torch::tensor({4, 0});
  EXPECT_TRUE(nabla::test_util::all_close(torch::embedding(table, ids), F::embedding(ids, table), 0, 0));
  // nabla's namespace-level ones are reached as they were
  EXPECT_EQ(torch::flatten(x, 1).sizes(), (std::vector<int64_t>{2, 108}));
  EXPECT_EQ(torch::cat({x, x}, 1).size(1), 6);
  EXPECT_EQ(torch::argmax(torch::tensor({1, 5, 2})).item<int64_t>(), 1);
}

// ---- devices -----------------------------------------------------------------------------------

TEST(TorchCompatTensor, DeviceSpellings) {
  torch::Device d("cuda:0");
  EXPECT_TRUE(d.is_cuda());
  EXPECT_EQ(d.index, 0);  // libtorch's d.index(): a field in nabla
  EXPECT_EQ(torch::Device("cuda:1").index, 1);
  EXPECT_EQ(torch::Device(torch::kCUDA, 1), torch::Device("cuda:1"));
  EXPECT_FALSE(torch::ones({2}).device().is_cuda());
  EXPECT_TRUE(torch::ones({2}).device().is_cpu());
  EXPECT_NABLA_ERROR(torch::Device("tpu"), "tpu");
  if (nabla::cuda::is_available()) {
    torch::Tensor c = torch::ones({2}).to(torch::kCUDA);
    EXPECT_TRUE(c.device().is_cuda());
    EXPECT_TRUE(c.is_cuda());
    EXPECT_EQ(values(c.index({Slice(1, None)})), (std::vector<float>{1}));
    EXPECT_TRUE(c.all().item<bool>());
    EXPECT_NABLA_ERROR((c.accessor<float, 1>()), "accessor", "cuda:0");
  }
}

}  // namespace
