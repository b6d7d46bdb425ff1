// torch::save / torch::load of nabla/torch_compat.h, written as a libtorch program would: a
// model and its Adam optimizer saved mid-training and resumed bit for bit, tensors round
// tripped, and the errors (a missing file, a file of another kind, mismatched shapes); and
// libtorch's tensor and device spellings (kCUDA, torch::tensor, scalar sizes, requires_grad(),
// the reduction tags).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "nabla/torch_compat.h"
#include "test_util.h"

namespace torch = nabla::torch_compat;
namespace fs = std::filesystem;

namespace {

struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(4, 8));
    fc2 = register_module("fc2", torch::nn::Linear(8, 2));
  }
  torch::Tensor forward(torch::Tensor x) { return fc2(torch::relu(fc1(x))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Net);

// A fresh directory per test: ctest runs the test cases as parallel processes.
class TorchSave : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        fs::temp_directory_path() / fmt::format("nabla_test_torch_compat_io_{}_{}", info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::vector<float> floats(const torch::Tensor& t) {
  return t.to(torch::kFloat32).contiguous().to_vector<float>();
}

// One Adam step on a fixed batch; returns the loss.
float train_step(Net& model, torch::optim::Adam& optimizer, const torch::Tensor& x, const torch::Tensor& y) {
  optimizer.zero_grad();
  torch::Tensor loss = torch::nn::functional::mse_loss(model(x), y);
  loss.backward();
  optimizer.step();
  return loss.item<float>();
}

TEST_F(TorchSave, ModelAndAdamResumeBitwise) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({16, 4});
  const torch::Tensor y = torch::randn({16, 2});

  Net model;
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  for (int i = 0; i < 3; ++i) train_step(model, optimizer, x, y);
  torch::save(model, path("model.pt"));
  torch::save(optimizer, path("optimizer.pt"));

  // the run that was not interrupted
  std::vector<float> losses;
  for (int i = 0; i < 3; ++i) losses.push_back(train_step(model, optimizer, x, y));

  // a fresh process would build fresh ones (other initial weights) and load
  torch::manual_seed(99);
  Net resumed;
  torch::optim::Adam resumed_optimizer(resumed->parameters(), torch::optim::AdamOptions(1e-2));
  ASSERT_NE(floats(resumed->fc1->weight), floats(model->fc1->weight));
  torch::load(resumed, path("model.pt"));
  torch::load(resumed_optimizer, path("optimizer.pt"));
  std::vector<float> resumed_losses;
  for (int i = 0; i < 3; ++i) resumed_losses.push_back(train_step(resumed, resumed_optimizer, x, y));

  EXPECT_EQ(resumed_losses, losses);
  const auto a = model->named_parameters();
  const auto b = resumed->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(floats(a[i].second), floats(b[i].second)) << a[i].first;
  }
}

TEST_F(TorchSave, SharedPtrModuleRefAndLayerHolder) {
  torch::manual_seed(2);
  auto net = std::make_shared<NetImpl>();
  torch::save(net, path("shared.pt"));  // a std::shared_ptr<Module>
  auto other = std::make_shared<NetImpl>();
  torch::load(*other, path("shared.pt"));  // a Module&
  EXPECT_EQ(floats(other->fc2->bias), floats(net->fc2->bias));

  std::shared_ptr<torch::nn::Module> base = net;  // through the base class
  torch::save(*base, path("base.pt"));
  auto third = std::make_shared<NetImpl>();
  EXPECT_NE(floats(third->fc1->weight), floats(net->fc1->weight));
  torch::load(third, path("base.pt"));
  EXPECT_EQ(floats(third->fc1->weight), floats(net->fc1->weight));
  torch::nn::Linear fc(8, 2);  // a layer's own holder, loaded from a file of the same shapes
  torch::nn::Linear fc_src(8, 2);
  torch::save(fc_src, path("fc.pt"));
  torch::load(fc, path("fc.pt"));
  EXPECT_EQ(floats(fc->weight), floats(fc_src->weight));
}

TEST_F(TorchSave, TensorRoundTrip) {
  torch::manual_seed(3);
  const torch::Tensor t = torch::randn({3, 5}).to(torch::kFloat64);
  torch::save(t, path("t.pt"));
  torch::Tensor back;
  torch::load(back, path("t.pt"));
  EXPECT_EQ(back.dtype(), torch::kFloat64);
  EXPECT_EQ(back.sizes(), t.sizes());
  EXPECT_EQ(back.to_vector<double>(), t.to_vector<double>());

  // a transposed (non-contiguous) tensor that requires grad is saved as its values
  torch::Tensor w = torch::randn({2, 3}).requires_grad_(true);
  torch::save(w.t(), path("wt.pt"));
  torch::Tensor wt = torch::ones({1});  // a defined tensor is replaced
  torch::load(wt, path("wt.pt"));
  EXPECT_EQ(wt.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_FALSE(wt.requires_grad());
  EXPECT_EQ(floats(wt), floats(w.t().detach()));

  const std::vector<torch::Tensor> several = {torch::arange(4), torch::randn({2, 2})};
  torch::save(several, path("several.pt"));
  std::vector<torch::Tensor> loaded;
  torch::load(loaded, path("several.pt"));
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].dtype(), several[0].dtype());
  EXPECT_EQ(floats(loaded[0]), floats(several[0]));
  EXPECT_EQ(floats(loaded[1]), floats(several[1]));
}

TEST_F(TorchSave, MissingFile) {
  Net model;
  const std::string p = path("absent.pt");
  EXPECT_NABLA_ERROR(torch::load(model, p), "torch::load", p);
  torch::Tensor t;
  EXPECT_NABLA_ERROR(torch::load(t, p), "torch::load", p);
}

TEST_F(TorchSave, NotASafetensorsFile) {
  const std::string p = path("pickle.pt");
  std::ofstream(p) << "PK\x03\x04 a libtorch archive, say";
  Net model;
  EXPECT_NABLA_ERROR(torch::load(model, p), "torch::load", p, "not libtorch's pickle archives");
  // a safetensors file that torch::save did not write
  const std::string raw = path("raw.safetensors");
  nabla::StateDict sd;
  sd.insert("x", torch::ones({2}));
  nabla::io::save_safetensors(raw, sd);
  torch::Tensor t;
  EXPECT_NABLA_ERROR(torch::load(t, raw), "torch::load", raw);
  // a nabla checkpoint that torch::save did not write
  const std::string ckpt = path("ckpt.safetensors");
  nabla::io::save_checkpoint(ckpt, nabla::io::Checkpoint{sd, {}});
  EXPECT_NABLA_ERROR(torch::load(t, ckpt), "torch::load", ckpt, "not written by torch::save");
}

TEST_F(TorchSave, FileOfAnotherKind) {
  Net model;
  torch::optim::Adam adam(model->parameters());
  torch::save(model, path("model.pt"));
  torch::save(adam, path("adam.pt"));
  EXPECT_NABLA_ERROR(torch::load(adam, path("model.pt")), "torch::load", path("model.pt"),
                     "holds a module saved by torch::save, not the optimizer");
  EXPECT_NABLA_ERROR(torch::load(model, path("adam.pt")), "torch::load", path("adam.pt"),
                     "holds an optimizer saved by torch::save, not the module");
  torch::Tensor t;
  EXPECT_NABLA_ERROR(torch::load(t, path("model.pt")), "torch::load",
                     "holds a module saved by torch::save, not the tensor");
  // the state of one optimizer does not go into another kind
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1));
  EXPECT_NABLA_ERROR(torch::load(sgd, path("adam.pt")), "torch::load", path("adam.pt"),
                     "the state of optimizer Adam, this one is SGD");
}

TEST_F(TorchSave, ShapeMismatch) {
  torch::nn::Linear small(4, 3), big(4, 5);
  torch::save(small, path("small.pt"));
  const std::vector<float> before = floats(big->weight);
  EXPECT_NABLA_ERROR(torch::load(big, path("small.pt")), "torch::load", path("small.pt"), "weight");
  EXPECT_EQ(floats(big->weight), before);
  // an optimizer's state over parameters of other shapes
  torch::optim::Adam adam_small(small->parameters());
  small->weight.sum().backward();
  adam_small.step();
  torch::save(adam_small, path("adam_small.pt"));
  torch::optim::Adam adam_big(big->parameters());
  EXPECT_NABLA_ERROR(torch::load(adam_big, path("adam_small.pt")), "torch::load", path("adam_small.pt"),
                     "shape");
  // and a module whose names differ
  Net net;
  EXPECT_NABLA_ERROR(torch::load(net, path("small.pt")), "torch::load", path("small.pt"));
}

TEST_F(TorchSave, NullHolderAndUndefinedTensor) {
  torch::nn::Linear fc{nullptr};
  EXPECT_NABLA_ERROR(torch::save(fc, path("x.pt")), "torch::save", "null");
  std::shared_ptr<NetImpl> none;
  EXPECT_NABLA_ERROR(torch::load(none, path("x.pt")), "torch::load", "null");
  EXPECT_NABLA_ERROR(torch::save(torch::Tensor(), path("x.pt")), "torch::save", "undefined");
}

// ---- tensor and device spellings ---------------------------------------------------------------

TEST(TorchSpellings, DeviceConstants) {
  const torch::Device cpu(torch::kCPU);
  EXPECT_TRUE(cpu.is_cpu());
  const torch::Device cuda(torch::kCUDA);
  EXPECT_TRUE(cuda.is_cuda());
  EXPECT_EQ(cuda.index, 0);
  const torch::Device cuda1(torch::kCUDA, 1);
  EXPECT_EQ(cuda1, torch::Device::cuda(1));
  const torch::DeviceType type = torch::kCUDA;
  EXPECT_EQ(type, torch::DeviceType::CUDA);
  torch::Device device = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  EXPECT_EQ(device.is_cuda(), torch::cuda::is_available());
  EXPECT_TRUE(device == torch::kCUDA || device == torch::kCPU);
  const torch::Tensor x = torch::ones({2, 3});
  const torch::Tensor y = x.to(torch::kCPU);
  EXPECT_TRUE(y.device().is_cpu());
  if (torch::cuda::is_available()) {
    const torch::Tensor z = x.to(torch::kCUDA);
    EXPECT_TRUE(z.device().is_cuda());
    EXPECT_TRUE(torch::zeros({2}, torch::kCUDA).device().is_cuda());
    EXPECT_EQ(floats(z.to(torch::kCPU)), floats(x));
  } else {
    EXPECT_NABLA_ERROR(x.to(torch::kCUDA), "CUDA");
  }
}

TEST(TorchSpellings, TensorFromInitializerLists) {
  const torch::Tensor a = torch::tensor({1.5, 2.0, -3.25});
  EXPECT_EQ(a.dtype(), torch::kFloat32);  // libtorch: a double literal takes the default dtype
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{3}));
  EXPECT_EQ(floats(a), (std::vector<float>{1.5f, 2.0f, -3.25f}));
  const torch::Tensor i = torch::tensor({1, 2, 3});
  EXPECT_EQ(i.dtype(), torch::kInt64);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(torch::tensor({true, false}).dtype(), torch::kBool);
  const torch::Tensor d = torch::tensor({0.1, 0.2}, torch::kFloat64);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{0.1, 0.2}));
  const torch::Tensor m = torch::tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}});
  EXPECT_EQ(m.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(floats(m), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const torch::Tensor s = torch::tensor(2.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item<float>(), 2.5f);
  EXPECT_NABLA_ERROR(torch::tensor({{1.0, 2.0}, {3.0}}), "torch::tensor",
                     "row 1 has 1 values but row 0 has 2");
}

TEST(TorchSpellings, ScalarSizes) {
  EXPECT_EQ(torch::empty(5).sizes(), (std::vector<int64_t>{5}));
  EXPECT_EQ(floats(torch::zeros(3)), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(floats(torch::ones(2, torch::kFloat64)), (std::vector<float>{1, 1}));
  EXPECT_EQ(torch::ones(2, torch::kFloat64).dtype(), torch::kFloat64);
  EXPECT_EQ(torch::randn(4).sizes(), (std::vector<int64_t>{4}));
  EXPECT_EQ(torch::rand(4).sizes(), (std::vector<int64_t>{4}));
  // nabla's own overloads stay reachable
  EXPECT_EQ(torch::zeros({2, 3}).sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(torch::empty({4}).sizes(), (std::vector<int64_t>{4}));
  // an empty brace is libtorch's 0-dim tensor, not a size of 0; any integer type is a size
  EXPECT_EQ(torch::zeros({}).dim(), 0);
  EXPECT_EQ(torch::ones({}).numel(), 1);
  EXPECT_EQ(torch::randn({}).dim(), 0);
  EXPECT_EQ(torch::zeros(std::size_t{3}).sizes(), (std::vector<int64_t>{3}));
  EXPECT_EQ(torch::empty(int64_t{0}).sizes(), (std::vector<int64_t>{0}));
  torch::manual_seed(7);
  const std::vector<float> one = floats(torch::randn(6));
  torch::manual_seed(7);
  EXPECT_EQ(one, floats(torch::randn({6})));
}

TEST(TorchSpellings, OptionMakersAndReductions) {
  torch::Tensor w = torch::randn({3}, torch::requires_grad());
  EXPECT_TRUE(w.requires_grad());
  EXPECT_FALSE(torch::zeros({2}, torch::requires_grad(false)).requires_grad());
  EXPECT_TRUE(torch::tensor({1.0, 2.0}, torch::requires_grad()).requires_grad());
  EXPECT_EQ(torch::zeros({2}, torch::dtype(torch::kDouble)).dtype(), torch::kFloat64);
  EXPECT_TRUE(torch::ones({2}, torch::device(torch::kCPU)).device().is_cpu());
  EXPECT_EQ(torch::kFloat, torch::kFloat32);
  EXPECT_EQ(torch::kLong, torch::kInt64);
  EXPECT_EQ(torch::kInt, torch::kInt32);
  // a libtorch loss call with a reduction tag
  const torch::Tensor x = torch::tensor({1.0, 2.0, 4.0});
  const torch::Tensor y = torch::tensor({0.0, 0.0, 0.0});
  namespace F = torch::nn::functional;
  EXPECT_EQ(F::mse_loss(x, y, torch::kSum).item<float>(), 21.0f);
  EXPECT_EQ(F::mse_loss(x, y, torch::kMean).item<float>(), 7.0f);
  EXPECT_EQ(floats(F::mse_loss(x, y, torch::kNone)), (std::vector<float>{1, 4, 16}));
  (w * w).sum().backward();
  EXPECT_EQ(floats(w.grad()), floats(w.detach() * 2.0));
}

}  // namespace
