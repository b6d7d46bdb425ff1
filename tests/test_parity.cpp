// nabla::testing: compare()'s statistics (absolute/relative error, float32 ULPs, NaN and
// infinity rules, shape mismatch) and run_parity on a small user model: agreement of
// float32 with float64, a planted divergence caught at the right step and tensor and dumped
// to safetensors, bad targets rejected.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "nabla/nabla.h"
#include "nabla/testing.h"

namespace nabla::testing {
namespace {

TEST(Compare, Statistics) {
  const Tensor b = from_vector(std::vector<double>{1.0, -2.0, 0.0, 4.0});
  const Tensor a = from_vector(std::vector<double>{1.0, -2.5, 1e-6, 4.0});
  const CompareStats s = compare(a, b, {1e-5, 1e-3});
  EXPECT_EQ(s.numel, 4);
  EXPECT_DOUBLE_EQ(s.max_abs, 0.5);
  EXPECT_DOUBLE_EQ(s.max_rel, 0.25);
  EXPECT_EQ(s.beyond, 1);
  EXPECT_EQ(s.worst, 1);
  EXPECT_FALSE(s.ok);
  EXPECT_TRUE(compare(a, b, {0.6, 0.0}).ok);
}

TEST(Compare, UlpsNansAndInfinities) {
  const float one = 1.0f, next = std::nextafter(1.0f, 2.0f), prev = std::nextafter(1.0f, 0.0f);
  EXPECT_EQ(compare(from_vector(std::vector<float>{next}), from_vector(std::vector<float>{one})).max_ulp, 1);
  EXPECT_EQ(compare(from_vector(std::vector<float>{prev}), from_vector(std::vector<float>{next})).max_ulp, 2);
  // across zero: -0 and +0 are 0 ULPs apart, the smallest subnormals 2
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(compare(from_vector(std::vector<float>{-0.0f}), from_vector(std::vector<float>{0.0f})).max_ulp,
            0);
  EXPECT_EQ(compare(from_vector(std::vector<float>{-tiny}), from_vector(std::vector<float>{tiny})).max_ulp,
            2);
  const Tensor special = from_vector(std::vector<float>{NAN, INFINITY, -INFINITY});
  EXPECT_TRUE(compare(special, special).ok);
  EXPECT_FALSE(compare(from_vector(std::vector<float>{1.0f, INFINITY, -INFINITY}), special).ok);
  const CompareStats shape = compare(zeros({2, 3}), zeros({3, 2}));
  EXPECT_TRUE(shape.shape_mismatch);
  EXPECT_FALSE(shape.ok);
}

TEST(Target, ParseAndErrors) {
  const Target t = Target::parse("cpu:float64");
  EXPECT_TRUE(t.device.is_cpu());
  EXPECT_EQ(t.dtype, kFloat64);
  EXPECT_EQ(t.str(), "cpu:float64");
  EXPECT_EQ(Target::parse("cuda:1:bfloat16").device.index, 1);
  EXPECT_THROW(Target::parse("cpu"), Error);
  EXPECT_THROW(Target::parse("cpu:int64"), Error);
  EXPECT_THROW(Target::parse("tpu:float32"), Error);
}

// A two-layer regression model; `lr_of` lets a test plant a divergence on one target.
ParityFactory small_model(std::function<double(const Target&)> lr_of) {
  return [lr_of](const Target& t) {
    auto net = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(4, 8), std::make_shared<nn::Tanh>(),
        std::make_shared<nn::Linear>(8, 1)});
    net->to(t.dtype);
    net->to(t.device);
    auto opt = std::make_shared<optim::SGD>(net->parameters(), optim::SGDOptions{lr_of(t)});
    ParityModel m;
    m.modules = {{"net", net}};
    m.step = [net, opt](const std::vector<Tensor>& b) {
      opt->zero_grad();
      nn::functional::mse_loss((*net)(b[0]), b[1]).backward();
      opt->step();
    };
    return m;
  };
}

std::vector<Tensor> small_batch(int64_t step) {
  Generator g(100 + static_cast<uint64_t>(step));
  return {rand({6, 4}, g), rand({6, 1}, g)};
}

TEST(RunParity, Float32AgreesWithFloat64) {
  std::FILE* sink = std::tmpfile();
  ParityOptions o;
  o.steps = 4;
  o.out = sink;
  o.tolerance = {1e-5, 1e-4};
  const ParityReport r = run_parity(small_model([](const Target&) { return 0.1; }), small_batch,
                                    Target::parse("cpu:float32"), Target::parse("cpu:float64"), o);
  std::fclose(sink);
  EXPECT_TRUE(r.ok) << r.first_bad;
  // per step: 4 module outputs (3 layers + the model), their 4 gradients (in backward order;
  // the model's output is its last layer's, so those two come together), 4 parameter
  // gradients, 4 parameters
  EXPECT_EQ(r.rows.size(), 4u * 16u);
  EXPECT_EQ(r.rows[0].name, "net.0");
  EXPECT_EQ(r.rows[3].name, "net");
  EXPECT_EQ(r.rows[4].kind, "d_out");
  EXPECT_EQ(r.rows[4].name, "net.2");
  EXPECT_EQ(r.rows[5].name, "net");
  EXPECT_EQ(r.rows[7].name, "net.0");
  EXPECT_EQ(r.rows[8].kind, "grad");
  EXPECT_EQ(r.rows[12].kind, "param");
  for (const ParityRow& row : r.rows) EXPECT_GT(row.stats.max_ulp + 1, 0);
}

TEST(RunParity, PlantedDivergenceIsFoundAndDumped) {
  const std::string dump =
      (std::filesystem::temp_directory_path() / "nabla_test_parity_dump.safetensors").string();
  std::filesystem::remove(dump);
  std::FILE* sink = std::tmpfile();
  ParityOptions o;
  o.steps = 3;
  o.out = sink;
  o.dump_path = dump;
  // the float64 target steps with a different learning rate: forward outputs and gradients of
  // step 1 still agree, the parameters after its optimizer step do not
  const ParityReport r =
      run_parity(small_model([](const Target& t) { return t.dtype == kFloat64 ? 0.2 : 0.1; }), small_batch,
                 Target::parse("cpu:float32"), Target::parse("cpu:float64"), o);
  std::fclose(sink);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_step, 1);
  EXPECT_EQ(r.first_bad, "param net.0.weight");
  const io::SafetensorsFile f = io::load_safetensors(dump);
  EXPECT_TRUE(f.tensors.contains("a/net.0.weight"));
  EXPECT_TRUE(f.tensors.contains("b/net.0.weight"));
  EXPECT_EQ(f.tensors.at("a/net.0.weight").dtype(), kFloat32);
  EXPECT_EQ(f.tensors.at("b/net.0.weight").dtype(), kFloat64);
  std::filesystem::remove(dump);
}

TEST(Hooks, BackwardHookSeesTheOutputGradient) {
  nn::Linear lin(3, 2);
  std::vector<Tensor> seen;
  const int h = lin.add_backward_hook([&](nn::Module& m, const Tensor& g) {
    EXPECT_EQ(&m, &lin);
    seen.push_back(g.clone());
  });
  const Tensor x = ones({4, 3});
  (lin(x) * 3.0).sum().backward();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].to_vector<float>(), std::vector<float>(8, 3.0f));
  lin.remove_backward_hook(h);
  lin.zero_grad();
  lin(x).sum().backward();
  EXPECT_EQ(seen.size(), 1u);
  // a tensor hook; a leaf has none
  const Tensor w = ones({2}).requires_grad_(true);
  const Tensor y = w * 2.0;
  Tensor got;
  y.register_hook([&](const Tensor& g) { got = g.clone(); });
  (y * y).sum().backward();
  EXPECT_EQ(got.to_vector<float>(), (std::vector<float>{4.0f, 4.0f}));
  EXPECT_THROW(w.register_hook([](const Tensor&) {}), Error);
}

TEST(RunParity, BadArguments) {
  ParityOptions o;
  o.steps = 0;
  EXPECT_THROW(run_parity(small_model([](const Target&) { return 0.1; }), small_batch,
                          Target::parse("cpu:float32"), Target::parse("cpu:float64"), o),
               Error);
  EXPECT_THROW(run_parity(nullptr, small_batch, Target::parse("cpu:float32"), Target::parse("cpu:float64")),
               Error);
}

}  // namespace
}  // namespace nabla::testing
