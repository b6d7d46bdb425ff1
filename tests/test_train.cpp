// Trainer: fit/evaluate/predict, callbacks, progress output, and exact resume from a
// checkpoint (2N steps == N steps, save, load into fresh objects, N more: bit for bit).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nabla/nabla.h"

namespace {

using namespace nabla;
namespace fs = std::filesystem;

struct Rig {
  std::shared_ptr<nn::Sequential> model;
  std::shared_ptr<optim::Adam> opt;
  std::shared_ptr<optim::StepLR> sched;
  std::shared_ptr<data::DataLoader> loader;
  std::unique_ptr<train::Trainer> trainer;
};

// A small classifier with dropout (so the RNG state matters) on a fixed synthetic set.
Rig make_setup(uint64_t init_seed) {
  Rig s;
  manual_seed(123);
  const Tensor x = randn({96, 6});
  const Tensor y = argmax(matmul(x, randn({6, 3})), 1);
  manual_seed(init_seed);
  s.model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(6, 16), std::make_shared<nn::ReLU>(), std::make_shared<nn::Dropout>(0.2),
      std::make_shared<nn::Linear>(16, 3)});
  optim::AdamOptions o;
  o.lr = 0.01;
  s.opt = std::make_shared<optim::Adam>(s.model->parameters(), o);
  s.sched = std::make_shared<optim::StepLR>(*s.opt, 1, 0.5);
  s.loader = std::make_shared<data::DataLoader>(std::make_shared<data::TensorDataset>(x, y),
                                                data::DataLoaderOptions(10).shuffle(true).seed(7));
  s.trainer = std::make_unique<train::Trainer>(
      s.model, s.opt,
      [](const Tensor& out, const Tensor& t) { return nn::functional::cross_entropy(out, t); }, s.sched);
  return s;
}

std::vector<std::vector<float>> params_of(nn::Module& m) {
  std::vector<std::vector<float>> r;
  for (const Tensor& p : m.parameters()) r.push_back(p.to_vector<float>());
  return r;
}

TEST(Trainer, ResumeIsBitExact) {
  const fs::path dir = fs::temp_directory_path() / "nabla_test_train_resume";
  fs::create_directories(dir);
  const std::string ckpt = (dir / "mid.safetensors").string();
  train::FitOptions fo;
  fo.verbose = 0;
  fo.epochs = 3;

  Rig whole = make_setup(5);
  whole.trainer->fit(*whole.loader, fo);  // 3 epochs of 10 batches = 30 steps

  Rig first = make_setup(5);
  fo.max_steps = 14;  // stop in the middle of epoch 2
  first.trainer->fit(*first.loader, fo);
  EXPECT_EQ(first.trainer->global_step(), 14);
  first.trainer->save_checkpoint(ckpt, first.loader.get());
  manual_seed(999);  // disturb the global RNG: the checkpoint must restore it

  Rig second = make_setup(77);  // different initial weights: everything comes from the file
  second.trainer->load_checkpoint(ckpt, second.loader.get());
  EXPECT_EQ(second.trainer->global_step(), 14);
  fo.max_steps = -1;
  second.trainer->fit(*second.loader, fo);
  EXPECT_EQ(second.trainer->global_step(), 30);
  EXPECT_EQ(params_of(*second.model), params_of(*whole.model));
  EXPECT_DOUBLE_EQ(second.opt->get_lr(), whole.opt->get_lr());
  fs::remove_all(dir);
}

TEST(Trainer, FitEvaluatePredictAndCallbacks) {
  const fs::path dir = fs::temp_directory_path() / "nabla_test_train_fit";
  fs::create_directories(dir);
  Rig s = make_setup(1);
  auto csv = std::make_shared<train::CSVLogger>((dir / "history.csv").string());
  auto ckpt = std::make_shared<train::ModelCheckpoint>((dir / "ckpt-{epoch}.safetensors").string(), 2, 0,
                                                       s.loader.get());
  train::FitOptions fo;
  fo.epochs = 4;
  fo.callbacks = {csv, ckpt};
  std::FILE* progress = std::tmpfile();
  fo.stream = progress;
  const train::History h = s.trainer->fit(*s.loader, fo, s.loader.get());
  ASSERT_EQ(h.epochs.size(), 4u);
  EXPECT_LT(h.epochs.back().at("loss"), h.epochs.front().at("loss"));
  EXPECT_GT(h.epochs.back().at("val_accuracy"), 0.5);  // chance is 1/3
  EXPECT_TRUE(h.epochs.back().count("samples_per_s"));
  // not a terminal: plain progress lines
  std::rewind(progress);
  char buf[4096];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, progress);
  buf[n] = '\0';
  EXPECT_NE(std::string(buf).find("epoch 1/4 batch"), std::string::npos) << buf;
  EXPECT_NE(std::string(buf).find("epoch 4/4 done"), std::string::npos) << buf;
  std::fclose(progress);
  // CSV: header + 4 rows
  std::ifstream f((dir / "history.csv").string());
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(f, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].rfind("epoch,", 0), 0u);
  EXPECT_NE(lines[0].find("val_loss"), std::string::npos);
  // checkpoints after epochs 2 and 4
  ASSERT_EQ(ckpt->written().size(), 2u);
  EXPECT_TRUE(fs::exists(dir / "ckpt-2.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "ckpt-4.safetensors"));
  // evaluate and predict agree
  const train::Logs ev = s.trainer->evaluate(*s.loader);
  EXPECT_NEAR(ev.at("accuracy"), h.epochs.back().at("val_accuracy"), 1e-12);
  const Tensor x = std::static_pointer_cast<data::TensorDataset>(s.loader->dataset())->data();
  const Tensor pred = s.trainer->predict(x, 7);
  EXPECT_EQ(pred.sizes(), (Shape{96, 3}));
  EXPECT_FALSE(pred.requires_grad());
  fs::remove_all(dir);
}

TEST(Trainer, EarlyStoppingStops) {
  Rig s = make_setup(2);
  auto stop = std::make_shared<train::EarlyStopping>("loss", /*patience=*/0, /*min_delta=*/10.0);
  train::FitOptions fo;
  fo.verbose = 0;
  fo.epochs = 10;
  fo.callbacks = {stop};
  const train::History h = s.trainer->fit(*s.loader, fo);
  // no epoch improves the loss by 10: the second epoch triggers the stop
  EXPECT_EQ(h.epochs.size(), 2u);
  EXPECT_EQ(stop->stopped_epoch(), 1);
}

TEST(Trainer, ClearErrors) {
  Rig s = make_setup(3);
  auto bad = std::make_shared<train::EarlyStopping>("val_loss");
  train::FitOptions fo;
  fo.verbose = 0;
  fo.callbacks = {bad};
  EXPECT_THROW(s.trainer->fit(*s.loader, fo), Error);  // no validation data: val_loss is not logged
  EXPECT_THROW(s.trainer->load_checkpoint("/nonexistent/ckpt.safetensors"), Error);
  EXPECT_THROW(train::Trainer(nullptr, s.opt, [](const Tensor& a, const Tensor&) { return a; }), Error);
}

TEST(Trainer, CountCorrect) {
  const Tensor logits = from_vector<float>({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2});
  EXPECT_EQ(train::count_correct(logits, from_vector<int64_t>({1, 0, 0})), 2);
  EXPECT_EQ(
      train::count_correct(from_vector<float>({0.9f, 0.2f}, {2, 1}), from_vector<float>({1, 1}, {2, 1})), 1);
}

}  // namespace
