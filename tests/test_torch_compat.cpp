// libtorch-style programs ported with two lines (nabla/torch_compat.h, namespace torch =
// nabla::torch_compat): module holders, TORCH_MODULE, register_module, Sequential from holders,
// forward by value and with several arguments; and nabla's own API in the same file.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "nabla/torch_compat.h"
#include "test_util.h"

namespace torch = nabla::torch_compat;

namespace {

// ---- libtorch's idioms, as libtorch's examples write them ------------------------------------

struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(4, 8));
    fc2 = register_module("fc2", torch::nn::Linear(8, 2));
  }
  // libtorch's usual signature: the argument by value
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(fc1->forward(x));
    return fc2(x);
  }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Net);

// a forward of two arguments, reached through the holder
struct CellImpl : torch::nn::Module {
  explicit CellImpl(int64_t n) : in(register_module("in", torch::nn::Linear(n, n))) {}
  torch::Tensor forward(torch::Tensor x, torch::Tensor h) { return torch::tanh(in(x) + h); }
  torch::nn::Linear in;
};
TORCH_MODULE(Cell);

// a by-value forward, put into a Sequential type-erased (only Module's virtual reaches it)
struct DoubleImpl : torch::nn::Module {
  torch::Tensor forward(torch::Tensor x) { return x * 2.0; }
};
TORCH_MODULE(Double);

// a forward that returns no Tensor (with one tensor argument it would have to: Module's
// virtual forward(Tensor) and forward(const Tensor&) return one)
struct PairImpl : torch::nn::Module {
  std::pair<torch::Tensor, torch::Tensor> forward(torch::Tensor x, double shift) { return {x, x + shift}; }
};
TORCH_MODULE(Pair);

std::vector<double> values(const torch::Tensor& t) { return t.to(torch::kFloat64).to_vector<double>(); }

TEST(TorchCompat, NullHolderThrowsNamingTheModule) {
  torch::nn::Linear fc{nullptr};
  EXPECT_FALSE(fc);
  EXPECT_TRUE(fc.is_empty());
  EXPECT_EQ(fc.ptr(), nullptr);
  const auto x = torch::ones({1, 3});
  try {
    fc(x);
    FAIL() << "calling an empty holder did not throw";
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty module holder"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nabla::nn::Linear"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)fc->weight, nabla::Error);
  Net net{nullptr};
  try {
    net(x);
    FAIL() << "calling an empty holder did not throw";
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("NetImpl"), std::string::npos) << e.what();
  }
}

TEST(TorchCompat, HolderSharesItsModule) {
  torch::manual_seed(0);
  torch::nn::Linear fc(3, 2);
  ASSERT_TRUE(fc);
  EXPECT_EQ(fc->in_features, 3);
  EXPECT_EQ(fc->weight.sizes(), (std::vector<int64_t>{2, 3}));
  torch::nn::Linear copy = fc;  // a handle: the same module
  EXPECT_EQ(copy.get(), fc.get());
  EXPECT_EQ(&*copy, fc.get());
  std::shared_ptr<torch::nn::LinearImpl> p = fc.ptr();
  EXPECT_EQ(p.get(), fc.get());
  torch::nn::Linear from_ptr = p;  // and back
  EXPECT_EQ(from_ptr.get(), fc.get());

  const auto x = torch::randn({4, 3});
  const auto expected = nabla::nn::functional::linear(x, fc->weight, fc->bias);
  EXPECT_TRUE(nabla::test_util::all_close(fc(x), expected, 1e-6, 1e-6));
  EXPECT_TRUE(nabla::test_util::all_close(fc->forward(x), expected, 1e-6, 1e-6));
  // a default-constructible layer needs no arguments
  torch::nn::ReLU relu;
  EXPECT_EQ(values(relu(torch::full({2}, -1.0))), (std::vector<double>{0, 0}));
}

TEST(TorchCompat, TorchModuleByValueForward) {
  torch::manual_seed(1);
  Net net;
  EXPECT_EQ(net->parameters().size(), 4u);
  const auto names = net->named_parameters();
  EXPECT_EQ(names[0].first, "fc1.weight");
  EXPECT_EQ(names[3].first, "fc2.bias");
  const auto x = torch::randn({5, 4});
  namespace F = torch::nn::functional;
  const auto expected =
      F::linear(F::relu(F::linear(x, net->fc1->weight, net->fc1->bias)), net->fc2->weight, net->fc2->bias);
  EXPECT_TRUE(nabla::test_util::all_close(net(x), expected, 1e-6, 1e-6));
  EXPECT_TRUE(nabla::test_util::all_close(net->forward(x), expected, 1e-6, 1e-6));
  // Module's virtual forward(const Tensor&) reaches the by-value override too
  torch::nn::Module& base = *net;
  EXPECT_TRUE(nabla::test_util::all_close(base(x), expected, 1e-6, 1e-6));
  EXPECT_TRUE(nabla::test_util::all_close(base.forward(x), expected, 1e-6, 1e-6));
  // the type name of a module made without one
  EXPECT_EQ(net->type_name(), "(anonymous namespace)::NetImpl");
  // trains: gradients reach the parameters through the holder
  net(x).sum().backward();
  for (const auto& p : net->parameters()) EXPECT_TRUE(p.grad().defined());
}

// TORCH_MODULE holders as members, registered as libtorch registers them
struct OuterImpl : torch::nn::Module {
  OuterImpl() {
    inner = register_module("inner", Net());
    head = register_module("head", torch::nn::Linear(2, 1));  // into a shared_ptr member
    body->push_back(torch::nn::Tanh());
    register_module("body", body);
  }
  torch::Tensor forward(torch::Tensor x) { return head->forward(body(inner(x))); }
  Net inner{nullptr};
  std::shared_ptr<torch::nn::LinearImpl> head;
  torch::nn::Sequential body;  // default: an empty Sequential
};
TORCH_MODULE(Outer);

TEST(TorchCompat, NestedHoldersRegisterUnderTheirNames) {
  torch::manual_seed(5);
  Outer outer;
  std::vector<std::string> names;
  for (const auto& [name, p] : outer->named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"inner.fc1.weight", "inner.fc1.bias", "inner.fc2.weight",
                                             "inner.fc2.bias", "head.weight", "head.bias"}));
  const auto x = torch::randn({3, 4});
  const auto expected =
      nabla::nn::functional::linear(torch::tanh(outer->inner(x)), outer->head->weight, outer->head->bias);
  EXPECT_TRUE(nabla::test_util::all_close(outer(x), expected, 1e-6, 1e-6));
  EXPECT_NE(outer->repr().find("(inner): "), std::string::npos) << outer->repr();
}

TEST(TorchCompat, ForwardHooksRunThroughTheHolder) {
  Double d;
  int calls = 0;
  d->add_forward_hook([&](nabla::nn::Module&, const nabla::Tensor& in, nabla::Tensor& out) {
    ++calls;
    EXPECT_EQ(values(in), (std::vector<double>{1.5}));
    out = out + 1.0;
  });
  EXPECT_EQ(values(d(torch::full({1}, 1.5))), (std::vector<double>{4.0}));
  EXPECT_EQ(calls, 1);
}

TEST(TorchCompat, MultiArgumentAndNonTensorForward) {
  torch::manual_seed(2);
  Cell cell(3);
  const auto x = torch::randn({2, 3});
  const auto h = torch::randn({2, 3});
  const auto expected = torch::tanh(nabla::nn::functional::linear(x, cell->in->weight, cell->in->bias) + h);
  EXPECT_TRUE(nabla::test_util::all_close(cell(x, h), expected, 1e-6, 1e-6));
  Pair pair;
  const auto [a, b] = pair(x, 1.0);
  EXPECT_TRUE(nabla::test_util::all_close(b, x + 1.0, 1e-6, 1e-6));
  EXPECT_TRUE(nabla::test_util::all_close(a, x, 1e-6, 1e-6));
}

TEST(TorchCompat, SequentialFromHolders) {
  torch::manual_seed(3);
  torch::nn::Sequential seq(torch::nn::Linear(3, 4), torch::nn::ReLU(), Double(), torch::nn::Linear(4, 1));
  EXPECT_EQ(seq->size(), 4u);
  seq->push_back(torch::nn::Sigmoid());
  seq->push_back("last", Double());
  EXPECT_EQ(seq->size(), 6u);
  EXPECT_EQ(seq->named_children()[5].first, "last");
  auto* l0 = dynamic_cast<nabla::nn::Linear*>(seq[0].get());
  auto* l3 = dynamic_cast<nabla::nn::Linear*>(seq[3].get());
  ASSERT_NE(l0, nullptr);
  ASSERT_NE(l3, nullptr);
  const auto x = torch::randn({2, 3});
  namespace F = torch::nn::functional;
  const auto h = F::relu(F::linear(x, l0->weight, l0->bias)) * 2.0;
  const auto expected = torch::sigmoid(F::linear(h, l3->weight, l3->bias)) * 2.0;
  EXPECT_TRUE(nabla::test_util::all_close(seq(x), expected, 1e-6, 1e-6));
  EXPECT_TRUE(nabla::test_util::all_close(seq->forward(x), expected, 1e-6, 1e-6));
  EXPECT_EQ(seq->parameters().size(), 4u);

  // a member of a user module, registered as a holder
  struct ModelImpl : torch::nn::Module {
    ModelImpl() { body = register_module("body", torch::nn::Sequential(torch::nn::Linear(2, 2), Double())); }
    torch::Tensor forward(torch::Tensor x) { return body(x); }
    torch::nn::Sequential body{nullptr};
  };
  auto model = std::make_shared<ModelImpl>();
  EXPECT_EQ(model->named_parameters()[0].first, "body.0.weight");
  EXPECT_EQ(model->body->size(), 2u);
}

TEST(TorchCompat, SequentialTypeErasedReachesByValueForward) {
  // shared_ptr<Module>: no static type to call through; the virtual reaches forward(Tensor)
  const std::shared_ptr<nabla::nn::Module> d = std::make_shared<DoubleImpl>();
  nabla::nn::Sequential seq{d, std::make_shared<nabla::nn::ReLU>()};
  EXPECT_EQ(values(seq(torch::full({2}, 3.0))), (std::vector<double>{6, 6}));
  nabla::nn::Sequential seq2;
  seq2.push_back(d);
  EXPECT_EQ(values(seq2.forward(torch::full({1}, -1.0))), (std::vector<double>{-2}));
}

TEST(TorchCompat, ModuleWithoutForwardStillSaysSo) {
  struct Empty : torch::nn::Module {};
  Empty e;
  try {
    e(torch::ones({1}));
    FAIL() << "forward of a module without one did not throw";
  } catch (const nabla::Error& err) {
    EXPECT_NE(std::string(err.what()).find("Empty: forward(x) is not implemented"), std::string::npos)
        << err.what();
  }
}

// ModuleList / ModuleDict as libtorch's examples use them: a stack of layers run in a loop,
// heads picked by name.
struct TowerImpl : torch::nn::Module {
  explicit TowerImpl(int64_t depth) {
    for (int64_t i = 0; i < depth; ++i) layers->push_back(torch::nn::Linear(3, 3));
    register_module("layers", layers);
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> named{
        {"a", torch::nn::Linear(3, 1).ptr()}, {"b", torch::nn::Linear(3, 2).ptr()}};
    heads = register_module("heads", torch::nn::ModuleDict(named));
  }
  torch::Tensor forward(torch::Tensor x, const std::string& head) {
    for (const auto& layer : *layers) x = torch::relu((*layer)(x));
    return (*heads[head])(x);
  }
  torch::nn::ModuleList layers;
  torch::nn::ModuleDict heads{nullptr};
};
TORCH_MODULE(Tower);

TEST(TorchCompat, ModuleListAndModuleDict) {
  torch::manual_seed(6);
  Tower tower(2);
  std::vector<std::string> names;
  for (const auto& [name, p] : tower->named_parameters()) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"}));
  const auto x = torch::randn({4, 3});
  auto& l0 = tower->layers->at<torch::nn::LinearImpl>(0);
  auto& l1 = tower->layers->at<torch::nn::LinearImpl>(1);
  auto& hb = tower->heads->at<torch::nn::LinearImpl>("b");
  namespace F = torch::nn::functional;
  const auto h = F::relu(F::linear(F::relu(F::linear(x, l0.weight, l0.bias)), l1.weight, l1.bias));
  EXPECT_TRUE(nabla::test_util::all_close(tower(x, "b"), F::linear(h, hb.weight, hb.bias), 1e-6, 1e-6));
  EXPECT_EQ(tower(x, "a").sizes(), (std::vector<int64_t>{4, 1}));

  // insert renames the tail; extend appends; the wrong type or index is an Error
  torch::nn::ModuleList list(torch::nn::Linear(1, 1), torch::nn::ReLU());
  list->insert(1, torch::nn::Tanh());
  list->extend(std::vector<std::shared_ptr<torch::nn::Module>>{std::make_shared<nabla::nn::Sigmoid>()});
  ASSERT_EQ(list->size(), 4u);
  std::vector<std::string> types, children;
  for (const auto& m : *list) types.push_back(m->type_name());
  for (const auto& [name, m] : list->named_children()) children.push_back(name + "=" + m->type_name());
  EXPECT_EQ(types, (std::vector<std::string>{"Linear", "Tanh", "ReLU", "Sigmoid"}));
  EXPECT_EQ(children, (std::vector<std::string>{"0=Linear", "1=Tanh", "2=ReLU", "3=Sigmoid"}));
  EXPECT_EQ(list->named_parameters()[0].first, "0.weight");
  EXPECT_THROW(list->at<torch::nn::LinearImpl>(1), nabla::Error);
  EXPECT_THROW((void)list[7], nabla::Error);
  EXPECT_THROW(list->insert(9, torch::nn::ReLU()), nabla::Error);
  EXPECT_THROW(list->forward(torch::ones({1})), nabla::Error);  // a container has no forward

  // update replaces in place, pop removes, clear empties; a bad key is an Error naming the keys
  torch::nn::ModuleDict dict;
  dict->insert("x", torch::nn::Linear(2, 2));
  dict->insert("y", torch::nn::ReLU());
  dict->update({{"x", std::make_shared<nabla::nn::Tanh>()}, {"z", std::make_shared<nabla::nn::Sigmoid>()}});
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(dict["x"]->type_name(), "Tanh");
  EXPECT_EQ(dict->named_children()[0].second->type_name(), "Tanh");
  EXPECT_TRUE(dict->parameters().empty());
  EXPECT_TRUE(dict->contains("y"));
  EXPECT_EQ(dict->pop("y")->type_name(), "ReLU");
  EXPECT_FALSE(dict->contains("y"));
  EXPECT_EQ(dict->named_children().size(), 2u);
  try {
    (void)dict["nope"];
    FAIL() << "a missing key did not throw";
  } catch (const nabla::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no key 'nope' (keys: [x, z])"), std::string::npos) << e.what();
  }
  EXPECT_THROW(dict->insert("a.b", torch::nn::ReLU()), nabla::Error);
  dict->clear();
  EXPECT_TRUE(dict->empty());
  EXPECT_TRUE(dict->named_children().empty());
}

TEST(TorchCompat, FunctionalInSequentialAndApply) {
  torch::manual_seed(7);
  torch::nn::Sequential seq(torch::nn::Linear(3, 3), torch::nn::Functional(torch::relu),
                            torch::nn::Functional(torch::leaky_relu, 0.5), torch::nn::Linear(3, 1));
  const auto x = torch::randn({5, 3});
  auto* l0 = dynamic_cast<nabla::nn::Linear*>(seq[0].get());
  auto* l3 = dynamic_cast<nabla::nn::Linear*>(seq[3].get());
  namespace F = torch::nn::functional;
  const auto expected = F::linear(F::relu(F::linear(x, l0->weight, l0->bias)), l3->weight, l3->bias);
  EXPECT_TRUE(nabla::test_util::all_close(seq(x), expected, 1e-6, 1e-6));
  const auto neg = torch::full({1, 3}, -2.0);
  torch::nn::Functional leaky(torch::leaky_relu, 0.5);
  EXPECT_EQ(values(leaky(neg)), (std::vector<double>{-1, -1, -1}));

  // apply: this module first, then the submodules depth first, as libtorch's
  std::vector<std::string> visited;
  seq->apply([&](torch::nn::Module& m) { visited.push_back(m.type_name()); });
  EXPECT_EQ(visited,
            (std::vector<std::string>{"Sequential", "Linear", "Functional", "Functional", "Linear"}));
  std::vector<std::string> named;
  seq->apply([&](const std::string& name, torch::nn::Module&) { named.push_back(name); }, "net");
  EXPECT_EQ(named, (std::vector<std::string>{"net", "net.0", "net.1", "net.2", "net.3"}));
  // the classic use: re-initialise every Linear
  seq->apply([](torch::nn::Module& m) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(&m)) torch::nn::init::zeros_(linear->weight);
  });
  EXPECT_EQ(values(l3->weight), (std::vector<double>{0, 0, 0}));
}

TEST(TorchCompat, TorchCheckAndClipGradNorm) {
  const auto t = torch::ones({2, 3});
  try {
    TORCH_CHECK(t.dim() == 3, "expected a 3-D tensor, got ", t.dim(), " dims");
    FAIL() << "TORCH_CHECK did not throw";
  } catch (const nabla::Error& e) {
    EXPECT_EQ(std::string(e.what()), "expected a 3-D tensor, got 2 dims");
  }
  try {
    TORCH_CHECK(t.numel() == 5);
    FAIL() << "TORCH_CHECK did not throw";
  } catch (const std::exception& e) {
    EXPECT_EQ(std::string(e.what()), "Expected t.numel() == 5 to be true, but got false.");
  }
  TORCH_CHECK(t.dim() == 2, "not thrown");  // a true condition does nothing

  auto p = torch::zeros({2}).requires_grad_(true);
  (p * torch::tensor({3.0f, 4.0f})).sum().backward();
  const double norm = torch::nn::utils::clip_grad_norm_({p}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  const auto g = values(p.grad());
  EXPECT_NEAR(g[0], 0.6, 1e-5);
  EXPECT_NEAR(g[1], 0.8, 1e-5);
}

// ---- nabla's own API, unchanged, in the same program -----------------------------------------

struct NablaNet : nabla::nn::Module {
  NablaNet() : nabla::nn::Module("NablaNet") {
    fc = register_module("fc", std::make_shared<nabla::nn::Linear>(3, 2));
  }
  nabla::Tensor forward(const nabla::Tensor& x) override { return (*fc)(x); }
  std::shared_ptr<nabla::nn::Linear> fc;
};

TEST(TorchCompat, NablaApiUnchanged) {
  nabla::manual_seed(4);
  auto net = std::make_shared<NablaNet>();
  EXPECT_EQ(net->type_name(), "NablaNet");
  auto seq = std::make_shared<nabla::nn::Sequential>(
      std::initializer_list<std::shared_ptr<nabla::nn::Module>>{net, std::make_shared<nabla::nn::Tanh>()});
  const auto x = nabla::randn({2, 3});
  const auto expected = nabla::tanh(nabla::nn::functional::linear(x, net->fc->weight, net->fc->bias));
  EXPECT_TRUE(nabla::test_util::all_close((*seq)(x), expected, 1e-6, 1e-6));
  // nabla's class and torch's holder of it side by side
  torch::nn::Linear holder = net->fc;
  EXPECT_EQ(holder.get(), net->fc.get());
  torch::nn::LinearImpl& same = *net->fc;
  EXPECT_EQ(&same, holder.get());
}

}  // namespace
