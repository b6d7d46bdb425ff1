// torch::data of nabla/torch_compat.h, written as libtorch programs write their data code: a
// user's Dataset<Self> with get/size, .map() with Normalize/Stack/Lambda, the samplers,
// DataLoaderOptions and make_data_loader (order, shuffling under torch::manual_seed, drop_last,
// worker threads and their exceptions, early exit), MNIST on the Fashion-MNIST files, and the
// errors for bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "nabla/torch_compat.h"
#include "test_util.h"

namespace torch = nabla::torch_compat;
namespace fs = std::filesystem;

namespace {

using L = std::vector<int64_t>;

// Example i: data float32 [2] = {i, 10 i}, target int64 scalar i (a batch tells its indices).
// Optionally sleeps in get() (scrambling worker timing), records the threads that ran get(),
// and throws for one index.
struct Indexed : torch::data::datasets::Dataset<Indexed> {
  explicit Indexed(size_t n) : n_(n) {}

  torch::data::Example<> get(size_t index) override {
    if (throw_at_ && index == *throw_at_) NABLA_FAIL("bad example {}", index);
    if (sleep_) std::this_thread::sleep_for(std::chrono::microseconds(300 * ((index * 7) % 5)));
    if (calls_) {
      ++calls_->count;
      std::lock_guard<std::mutex> lock(calls_->mutex);
      calls_->threads.insert(std::this_thread::get_id());
    }
    const auto f = static_cast<float>(index);
    return {torch::tensor({f, 10 * f}), torch::tensor(static_cast<int64_t>(index))};
  }
  torch::optional<size_t> size() const override { return n_; }

  struct Calls {
    std::atomic<int> count{0};
    std::mutex mutex;
    std::set<std::thread::id> threads;
  };
  size_t n_;
  bool sleep_ = false;
  torch::optional<size_t> throw_at_;
  std::shared_ptr<Calls> calls_;  // shared by the workers' copies
};

// The targets of every batch of one loop over a Stack<>-ed loader.
template <class Loader>
std::vector<L> epoch_targets(Loader& loader) {
  std::vector<L> out;
  for (auto& batch : loader) out.push_back(batch.target.template to_vector<int64_t>());
  return out;
}

L flatten(const std::vector<L>& batches) {
  L all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

bool is_permutation_of_iota(L v, int64_t n) {
  std::sort(v.begin(), v.end());
  L iota(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) iota[static_cast<size_t>(i)] = i;
  return v == iota;
}

// ---- Names -----------------------------------------------------------------------------------

TEST(TorchCompatData, NamesAreLibtorchsNotNablaData) {
  // torch::data:: finds the compat layer's templates, not nabla::data's classes.
  static_assert(std::is_same_v<torch::data::Example<>, torch::data::Example<torch::Tensor, torch::Tensor>>);
  static_assert(!std::is_same_v<torch::data::Example<>, nabla::data::Example>);
  static_assert(!std::is_same_v<torch::data::DataLoaderOptions, nabla::data::DataLoaderOptions>);
  static_assert(std::is_same_v<torch::optional<size_t>, std::optional<size_t>>);
  static_assert(std::is_same_v<torch::data::TensorExample::TargetType, void>);
  torch::data::Example<> e(torch::ones({2}), torch::tensor(int64_t{0}));
  EXPECT_EQ(e.data.sizes(), (nabla::Shape{2}));
  EXPECT_EQ(e.target.dim(), 0);
  torch::data::TensorExample t = torch::ones({3});
  const torch::Tensor& as_tensor = t;  // a TensorExample converts to its data
  EXPECT_EQ(as_tensor.size(0), 3);
  EXPECT_FALSE(torch::optional<int>(torch::nullopt).has_value());
}

// ---- Datasets --------------------------------------------------------------------------------

TEST(TorchCompatData, UserDatasetGetSizeAndGetBatch) {
  Indexed ds(5);
  ASSERT_TRUE(ds.size().has_value());
  EXPECT_EQ(ds.size().value(), 5u);
  const torch::data::Example<> e = ds.get(3);
  EXPECT_EQ(e.data.to_vector<float>(), (std::vector<float>{3, 30}));
  EXPECT_EQ(e.target.item<int64_t>(), 3);
  // The default get_batch calls get() for each index, in the order given.
  const std::vector<size_t> idx{4, 0, 2};
  const std::vector<torch::data::Example<>> batch = ds.get_batch(idx);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].target.item<int64_t>(), 4);
  EXPECT_EQ(batch[1].target.item<int64_t>(), 0);
  EXPECT_EQ(batch[2].data.to_vector<float>(), (std::vector<float>{2, 20}));
}

TEST(TorchCompatData, LoaderWithoutCollationYieldsVectorsOfExamples) {
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(Indexed(5), 2);
  static_assert(
      std::is_same_v<std::decay_t<decltype(*loader->begin())>, std::vector<torch::data::Example<>>>);
  std::vector<L> got;
  for (auto& batch : *loader) {
    L t;
    for (auto& example : batch) t.push_back(example.target.item<int64_t>());
    got.push_back(t);
  }
  EXPECT_EQ(got, (std::vector<L>{{0, 1}, {2, 3}, {4}}));
}

TEST(TorchCompatData, MapNormalizeScalar) {
  auto ds = Indexed(4).map(torch::data::transforms::Normalize<>(0.5, 2.0));
  EXPECT_EQ(ds.size().value(), 4u);
  const std::vector<size_t> idx{1, 3};
  auto batch = ds.get_batch(idx);
  ASSERT_EQ(batch.size(), 2u);
  // (x - 0.5) / 2, the target left alone; libtorch's mean/stddev are [C, 1, 1] float32.
  EXPECT_EQ(batch[0].data.sizes(), (nabla::Shape{1, 1, 2}));
  EXPECT_TRUE(nabla::test_util::all_close(batch[0].data.flatten(), {0.25, 4.75}, 1e-6, 1e-6));
  EXPECT_TRUE(nabla::test_util::all_close(batch[1].data.flatten(), {1.25, 14.75}, 1e-6, 1e-6));
  EXPECT_EQ(batch[1].target.item<int64_t>(), 3);
  EXPECT_EQ(batch[1].target.dtype(), torch::kInt64);
}

// A dataset of one 2-channel 1x2 image: channel 0 = {1, 3}, channel 1 = {2, 10}.
struct TwoChannels : torch::data::datasets::Dataset<TwoChannels> {
  torch::data::Example<> get(size_t) override {
    return {torch::tensor({{1.0f, 3.0f}, {2.0f, 10.0f}}).view({2, 1, 2}), torch::tensor(int64_t{7})};
  }
  torch::optional<size_t> size() const override { return 1; }
};

TEST(TorchCompatData, MapNormalizePerChannel) {
  auto ds = TwoChannels().map(torch::data::transforms::Normalize<>({1.0, 2.0}, {2.0, 4.0}));
  const std::vector<size_t> idx{0};
  const auto out = ds.get_batch(idx)[0].data;
  EXPECT_EQ(out.sizes(), (nabla::Shape{2, 1, 2}));
  EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0.0f, 1.0f, 0.0f, 2.0f}));
  const auto& normalize = ds.transform();
  EXPECT_EQ(normalize.mean.sizes(), (nabla::Shape{2, 1, 1}));
  EXPECT_EQ(normalize.mean.dtype(), torch::kFloat32);
}

TEST(TorchCompatData, MapStackShapes) {
  auto ds = Indexed(6).map(torch::data::transforms::Stack<>());
  const std::vector<size_t> idx{5, 1, 2};
  torch::data::Example<> batch = ds.get_batch(idx);
  EXPECT_EQ(batch.data.sizes(), (nabla::Shape{3, 2}));
  EXPECT_EQ(batch.target.sizes(), (nabla::Shape{3}));
  EXPECT_EQ(batch.data.to_vector<float>(), (std::vector<float>{5, 50, 1, 10, 2, 20}));
  EXPECT_EQ(batch.target.to_vector<int64_t>(), (L{5, 1, 2}));
}

TEST(TorchCompatData, MapChainNormalizeThenStack) {
  auto ds =
      Indexed(3).map(torch::data::transforms::Normalize<>(1.0, 0.5)).map(torch::data::transforms::Stack<>());
  const std::vector<size_t> idx{0, 2};
  auto batch = ds.get_batch(idx);
  EXPECT_EQ(batch.data.sizes(), (nabla::Shape{2, 1, 1, 2}));
  EXPECT_EQ(batch.data.flatten().to_vector<float>(), (std::vector<float>{-2, -2, 2, 38}));
  EXPECT_EQ(batch.target.to_vector<int64_t>(), (L{0, 2}));
}

TEST(TorchCompatData, LambdaTransforms) {
  namespace tr = torch::data::transforms;
  // Lambda on examples, TensorLambda on the data, Collate into one value.
  auto ds = Indexed(4)
                .map(tr::Lambda<torch::data::Example<>>([](torch::data::Example<> e) {
                  e.target = e.target.add(100);
                  return e;
                }))
                .map(tr::TensorLambda<>([](torch::Tensor x) { return x.mul(2); }))
                .map(tr::Collate<torch::data::Example<>>(
                    [](std::vector<torch::data::Example<>> e) { return std::move(e.back()); }));
  const std::vector<size_t> idx{0, 3};
  torch::data::Example<> last = ds.get_batch(idx);
  EXPECT_EQ(last.data.to_vector<float>(), (std::vector<float>{6, 60}));
  EXPECT_EQ(last.target.item<int64_t>(), 103);
}

// A user's own transform, subclassing libtorch's base classes.
struct Negate : torch::data::transforms::TensorTransform<> {
  torch::Tensor operator()(torch::Tensor input) override { return input.neg(); }
};
struct CountBatch
    : torch::data::transforms::BatchTransform<std::vector<torch::data::Example<>>, torch::Tensor> {
  torch::Tensor apply_batch(std::vector<torch::data::Example<>> batch) override {
    return torch::tensor(static_cast<int64_t>(batch.size()));
  }
};

TEST(TorchCompatData, UserTransformSubclasses) {
  auto ds = Indexed(3).map(Negate()).map(CountBatch());
  const std::vector<size_t> idx{0, 1, 2};
  EXPECT_EQ(ds.get_batch(idx).item<int64_t>(), 3);
  auto negated = Indexed(3).map(Negate()).map(torch::data::transforms::Stack<>());
  EXPECT_EQ(negated.get_batch(idx).data.select(1, 0).to_vector<float>(), (std::vector<float>{0, -1, -2}));
}

TEST(TorchCompatData, TensorDatasetAndStackOfTensorExamples) {
  auto ds = torch::data::datasets::TensorDataset(torch::arange(6).view({3, 2}))
                .map(torch::data::transforms::Stack<torch::data::TensorExample>());
  EXPECT_EQ(ds.size().value(), 3u);
  const std::vector<size_t> idx{2, 0};
  torch::Tensor batch = ds.get_batch(idx);
  EXPECT_EQ(batch.to_vector<int64_t>(), (L{4, 5, 0, 1}));
}

// A user's BatchDataset: whole batches from a request of indices (libtorch's ArrayRef<size_t>).
struct RowSums : torch::data::datasets::BatchDataset<RowSums, torch::Tensor> {
  torch::Tensor get_batch(torch::ArrayRef<size_t> request) override {
    int64_t sum = 0;
    for (const size_t i : request) sum += static_cast<int64_t>(i);
    return torch::tensor(sum);
  }
  torch::optional<size_t> size() const override { return 7; }
};

TEST(TorchCompatData, UserBatchDataset) {
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(RowSums(), 3);
  L sums;
  for (torch::Tensor& batch : *loader) sums.push_back(batch.item<int64_t>());
  EXPECT_EQ(sums, (L{0 + 1 + 2, 3 + 4 + 5, 6}));
}

TEST(TorchCompatData, SharedDatasetIsSharedByTheWorkers) {
  auto shared = torch::data::datasets::make_shared_dataset<Indexed>(12);
  shared->calls_ = std::make_shared<Indexed::Calls>();
  EXPECT_EQ(shared.size().value(), 12u);
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      shared.map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions().batch_size(5).workers(2));
  EXPECT_EQ(epoch_targets(*loader), (std::vector<L>{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}, {10, 11}}));
  EXPECT_EQ((*shared).calls_->count.load(), 12);  // one dataset behind every copy
}

// ---- Samplers and loaders --------------------------------------------------------------------

TEST(TorchCompatData, SamplersDirectly) {
  torch::data::samplers::SequentialSampler seq(5);
  EXPECT_EQ(seq.next(2).value(), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(seq.next(2).value(), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(seq.next(2).value(), (std::vector<size_t>{4}));
  EXPECT_FALSE(seq.next(2).has_value());
  seq.reset(3);
  EXPECT_EQ(seq.next(10).value(), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(seq.index(), 3u);

  torch::manual_seed(5);
  torch::data::samplers::RandomSampler rnd(8);
  const std::vector<size_t> a = rnd.next(8).value();
  EXPECT_FALSE(rnd.next(1).has_value());
  rnd.reset();
  const std::vector<size_t> b = rnd.next(8).value();
  L la(a.begin(), a.end()), lb(b.begin(), b.end());
  EXPECT_TRUE(is_permutation_of_iota(la, 8));
  EXPECT_TRUE(is_permutation_of_iota(lb, 8));
  // The constructor and reset() each draw randperm from the global generator, as libtorch's.
  torch::manual_seed(5);
  EXPECT_EQ(torch::randperm(8).to_vector<int64_t>(), la);
  EXPECT_EQ(torch::randperm(8).to_vector<int64_t>(), lb);
}

TEST(TorchCompatData, SequentialSamplerOrderEveryEpoch) {
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      Indexed(10).map(torch::data::transforms::Stack<>()), torch::data::DataLoaderOptions().batch_size(4));
  const std::vector<L> want{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}};
  EXPECT_EQ(epoch_targets(*loader), want);
  EXPECT_EQ(epoch_targets(*loader), want);  // a second loop is a new epoch from the start
}

TEST(TorchCompatData, RandomSamplerDeterministicUnderManualSeed) {
  auto run = [] {
    torch::manual_seed(42);
    auto loader = torch::data::make_data_loader<torch::data::samplers::RandomSampler>(
        Indexed(20).map(torch::data::transforms::Stack<>()), torch::data::DataLoaderOptions().batch_size(6));
    std::vector<L> epochs;
    for (int e = 0; e < 2; ++e) {
      const auto batches = epoch_targets(*loader);
      EXPECT_EQ(batches.size(), 4u);
      EXPECT_EQ(batches.back().size(), 2u);
      epochs.push_back(flatten(batches));
    }
    return epochs;
  };
  const auto first = run();
  const auto second = run();
  EXPECT_EQ(first, second);
  for (const auto& order : first) EXPECT_TRUE(is_permutation_of_iota(order, 20));
  EXPECT_NE(first[0], first[1]);  // a new permutation each epoch
  L iota(20);
  for (int64_t i = 0; i < 20; ++i) iota[static_cast<size_t>(i)] = i;
  EXPECT_NE(first[0], iota);
}

TEST(TorchCompatData, DefaultSamplerIsRandom) {
  torch::manual_seed(9);
  auto by_default = torch::data::make_data_loader(Indexed(16).map(torch::data::transforms::Stack<>()), 5);
  static_assert(
      std::is_same_v<std::decay_t<decltype(*by_default)>,
                     torch::data::StatelessDataLoader<
                         torch::data::datasets::MapDataset<Indexed, torch::data::transforms::Stack<>>,
                         torch::data::samplers::RandomSampler>>);
  const L a = flatten(epoch_targets(*by_default));
  torch::manual_seed(9);
  auto explicit_random = torch::data::make_data_loader(Indexed(16).map(torch::data::transforms::Stack<>()),
                                                       torch::data::samplers::RandomSampler(16),
                                                       torch::data::DataLoaderOptions(5));
  EXPECT_EQ(flatten(epoch_targets(*explicit_random)), a);
  EXPECT_TRUE(is_permutation_of_iota(a, 16));
  EXPECT_FALSE(std::is_sorted(a.begin(), a.end()));
}

TEST(TorchCompatData, DropLast) {
  for (size_t workers : {0, 2}) {
    auto keep = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        Indexed(10).map(torch::data::transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(4).workers(workers));
    EXPECT_EQ(epoch_targets(*keep), (std::vector<L>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}})) << workers;
    auto drop = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        Indexed(10).map(torch::data::transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(4).workers(workers).drop_last(true));
    EXPECT_EQ(epoch_targets(*drop), (std::vector<L>{{0, 1, 2, 3}, {4, 5, 6, 7}})) << workers;
  }
}

TEST(TorchCompatData, OptionsBuilderAndGetters) {
  torch::data::DataLoaderOptions o;
  EXPECT_EQ(o.batch_size(), 1u);
  EXPECT_EQ(o.workers(), 0u);
  EXPECT_FALSE(o.max_jobs().has_value());
  EXPECT_TRUE(o.enforce_ordering());
  EXPECT_FALSE(o.drop_last());
  o.batch_size(64).workers(2).drop_last(true).enforce_ordering(false).max_jobs(5);
  EXPECT_EQ(o.batch_size(), 64u);
  EXPECT_EQ(o.workers(), 2u);
  EXPECT_EQ(o.max_jobs().value(), 5u);
  EXPECT_FALSE(o.enforce_ordering());
  EXPECT_TRUE(o.drop_last());
  // max_jobs defaults to twice the workers once resolved, as libtorch's FullDataLoaderOptions.
  const torch::data::FullDataLoaderOptions full(torch::data::DataLoaderOptions(32).workers(3));
  EXPECT_EQ(full.batch_size, 32u);
  EXPECT_EQ(full.max_jobs, 6u);
  auto loader =
      torch::data::make_data_loader(Indexed(4), torch::data::DataLoaderOptions().batch_size(3).workers(1));
  EXPECT_EQ(loader->options().batch_size, 3u);
  EXPECT_EQ(loader->options().workers, 1u);
  EXPECT_EQ(loader->options().max_jobs, 2u);
}

TEST(TorchCompatData, WorkersGiveTheSameBatchesAsTheCallersThread) {
  auto make = [](size_t workers, std::shared_ptr<Indexed::Calls> calls) {
    Indexed ds(37);
    ds.sleep_ = true;
    ds.calls_ = std::move(calls);
    return torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        std::move(ds).map(torch::data::transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(3).workers(workers));
  };
  auto main_loader = make(0, nullptr);
  const auto want = epoch_targets(*main_loader);
  ASSERT_EQ(want.size(), 13u);

  auto calls = std::make_shared<Indexed::Calls>();
  auto loader = make(3, calls);
  for (int epoch = 0; epoch < 2; ++epoch) EXPECT_EQ(epoch_targets(*loader), want) << "epoch " << epoch;
  std::lock_guard<std::mutex> lock(calls->mutex);
  EXPECT_EQ(calls->threads.count(std::this_thread::get_id()), 0u) << "get() ran on the caller's thread";
  EXPECT_GE(calls->threads.size(), 2u) << "the batches were not spread over the worker threads";
  EXPECT_LE(calls->threads.size(), 3u);
}

TEST(TorchCompatData, WorkersPrepareBatchesAhead) {
  auto calls = std::make_shared<Indexed::Calls>();
  Indexed ds(40);
  ds.calls_ = calls;
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(ds).map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions().batch_size(2).workers(2));
  auto it = loader->begin();
  EXPECT_EQ(it->target.to_vector<int64_t>(), (L{0, 1}));
  // Without the caller asking for more, the workers prepare batches ahead: the max_jobs = 4
  // requested at begin() and the one requested when batch 0 was handed out, and no more.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (calls->count.load() < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(calls->count.load(), 10);
  ++it;
  EXPECT_EQ(it->target.to_vector<int64_t>(), (L{2, 3}));
}

TEST(TorchCompatData, UnorderedWorkersDeliverEveryBatch) {
  Indexed ds(30);
  ds.sleep_ = true;
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(ds).map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions().batch_size(4).workers(3).enforce_ordering(false));
  const auto batches = epoch_targets(*loader);
  EXPECT_EQ(batches.size(), 8u);
  EXPECT_TRUE(is_permutation_of_iota(flatten(batches), 30));
}

TEST(TorchCompatData, WorkerExceptionRethrownAtItsBatch) {
  Indexed ds(24);
  ds.throw_at_ = 13;
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(ds).map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions().batch_size(4).workers(2));
  std::vector<L> before;
  try {
    for (auto& batch : *loader) before.push_back(batch.target.to_vector<int64_t>());
    ADD_FAILURE() << "no exception";
  } catch (const torch::data::WorkerException& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("Caught exception in DataLoader worker thread"), std::string::npos) << what;
    EXPECT_NE(what.find("bad example 13"), std::string::npos) << what;
    EXPECT_THROW(std::rethrow_exception(e.original_exception), nabla::Error);
  }
  EXPECT_EQ(before, (std::vector<L>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}}));
  // A WorkerException is a nabla::Error; the next loop starts a fresh epoch.
  EXPECT_NABLA_ERROR(epoch_targets(*loader), "bad example 13");
}

TEST(TorchCompatData, ExceptionOnTheCallersThreadWithoutWorkers) {
  Indexed ds(8);
  ds.throw_at_ = 5;
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(ds).map(torch::data::transforms::Stack<>()), 2);
  std::vector<L> before;
  EXPECT_NABLA_ERROR(([&] {
                       for (auto& batch : *loader) before.push_back(batch.target.to_vector<int64_t>());
                     }()),
                     "bad example 5");
  EXPECT_EQ(before, (std::vector<L>{{0, 1}, {2, 3}}));
}

TEST(TorchCompatData, LeavingTheLoopEarlyJoinsCleanly) {
  nabla::test_util::finishes_within(std::chrono::seconds(30), [] {
    Indexed ds(200);
    ds.sleep_ = true;
    auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        std::move(ds).map(torch::data::transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(4).workers(4));
    for (auto& batch : *loader) {
      EXPECT_EQ(batch.target.to_vector<int64_t>(), (L{0, 1, 2, 3}));
      break;
    }
    // Looping again restarts the epoch; stale batches of the left loop are not delivered.
    int n = 0;
    for (auto& batch : *loader) {
      EXPECT_EQ(batch.target[0].item<int64_t>(), 4 * n);
      if (++n == 3) break;
    }
    EXPECT_EQ(n, 3);
    loader.reset();  // joins the workers while they are busy
  });
}

TEST(TorchCompatData, TimeoutWaitingForAWorker) {
  struct Slow : torch::data::datasets::Dataset<Slow> {
    torch::data::Example<> get(size_t i) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return {torch::zeros({1}), torch::tensor(static_cast<int64_t>(i))};
    }
    torch::optional<size_t> size() const override { return 2; }
  };
  auto loader = torch::data::make_data_loader(
      Slow().map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions().workers(1).timeout(std::chrono::milliseconds(20)));
  EXPECT_NABLA_ERROR(epoch_targets(*loader), "timeout", "20 ms");
}

// ---- MNIST -----------------------------------------------------------------------------------

const std::string kFashion = "/usr/share/datasets/fashion-mnist";

bool fashion_test_split_present() {
  return (fs::exists(kFashion + "/t10k-images-idx3-ubyte.gz") ||
          fs::exists(kFashion + "/t10k-images-idx3-ubyte")) &&
         (fs::exists(kFashion + "/t10k-labels-idx1-ubyte.gz") ||
          fs::exists(kFashion + "/t10k-labels-idx1-ubyte"));
}

TEST(TorchCompatData, MNISTOnFashionMNISTFiles) {
  if (!fashion_test_split_present()) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << kFashion
                 << " (apt-get install dataset-fashion-mnist, or bash cmake/dev.sh deps)";
  }
  using torch::data::datasets::MNIST;
  MNIST test(kFashion, MNIST::Mode::kTest);
  EXPECT_FALSE(test.is_train());
  ASSERT_EQ(test.size().value(), 10000u);
  EXPECT_EQ(test.images().sizes(), (nabla::Shape{10000, 1, 28, 28}));
  EXPECT_EQ(test.images().dtype(), torch::kFloat32);
  EXPECT_EQ(test.targets().dtype(), torch::kInt64);
  const auto e = test.get(0);
  EXPECT_EQ(e.data.sizes(), (nabla::Shape{1, 28, 28}));
  EXPECT_EQ(e.target.dim(), 0);

  // The first batch equals nabla's own FashionMNIST's tensors.
  const nabla::data::FashionMNIST own(kFashion, /*train=*/false);
  std::vector<int64_t> first(64);
  for (int64_t i = 0; i < 64; ++i) first[static_cast<size_t>(i)] = i;
  const nabla::data::Batch want = own.get_batch(first);

  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      MNIST(kFashion, MNIST::Mode::kTest).map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions().batch_size(64).workers(2));
  auto it = loader->begin();
  ASSERT_NE(it, loader->end());
  EXPECT_EQ(it->data.sizes(), (nabla::Shape{64, 1, 28, 28}));
  EXPECT_EQ(it->target.sizes(), (nabla::Shape{64}));
  EXPECT_EQ(it->data.to_vector<float>(), want.data.to_vector<float>());
  EXPECT_EQ(it->target.to_vector<int64_t>(), want.target.to_vector<int64_t>());

  // libtorch's MNIST example pipeline: Normalize then Stack.
  auto normalized = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      MNIST(kFashion, MNIST::Mode::kTest)
          .map(torch::data::transforms::Normalize<>(0.1307, 0.3081))
          .map(torch::data::transforms::Stack<>()),
      64);
  auto nit = normalized->begin();
  EXPECT_TRUE(nabla::test_util::all_close(nit->data, want.data.sub(0.1307).div(0.3081), 1e-5, 1e-5));
  int64_t seen = 0, batches = 0;
  for (auto& batch : *normalized) {
    seen += batch.data.size(0);
    ++batches;
  }
  EXPECT_EQ(seen, 10000);
  EXPECT_EQ(batches, 157);  // ceil(10000 / 64)
}

// A scratch directory, removed at the end.
struct ScratchDir {
  ScratchDir()
      : path(fs::temp_directory_path() /
             ("nabla-tcd-" + std::to_string(::getpid()) + "-" + std::to_string(n++))) {
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
  static inline int n = 0;
};

// An uncompressed IDX file of unsigned bytes.
void write_idx(const fs::path& p, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values) {
  std::vector<uint8_t> bytes{0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (const uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<uint8_t>(d >> s));
  }
  bytes.insert(bytes.end(), values.begin(), values.end());
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(TorchCompatData, MNISTOnSmallFilesWithLibtorchsNames) {
  ScratchDir dir;
  std::vector<uint8_t> pixels(3 * 28 * 28);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i % 256);
  write_idx(dir.path / "train-images-idx3-ubyte", {3, 28, 28}, pixels);
  write_idx(dir.path / "train-labels-idx1-ubyte", {3}, {7, 0, 9});
  torch::data::datasets::MNIST train(dir.path.string());
  EXPECT_TRUE(train.is_train());
  EXPECT_EQ(train.size().value(), 3u);
  EXPECT_EQ(train.targets().to_vector<int64_t>(), (L{7, 0, 9}));
  const auto e = train.get(0);
  EXPECT_FLOAT_EQ(e.data.flatten()[255].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(e.data.flatten()[51].item<float>(), 51.0f / 255.0f);
  EXPECT_EQ(e.target.item<int64_t>(), 7);
  // The test split is missing: the error names the file libtorch would open.
  EXPECT_NABLA_ERROR(
      torch::data::datasets::MNIST(dir.path.string(), torch::data::datasets::MNIST::Mode::kTest),
      "error opening images file", "t10k-images-idx3-ubyte");
  write_idx(dir.path / "t10k-images-idx3-ubyte", {2, 28, 28}, std::vector<uint8_t>(2 * 28 * 28));
  EXPECT_NABLA_ERROR(
      torch::data::datasets::MNIST(dir.path.string(), torch::data::datasets::MNIST::Mode::kTest),
      "error opening targets file", "t10k-labels-idx1-ubyte");
  write_idx(dir.path / "t10k-labels-idx1-ubyte", {3}, {1, 2, 3});
  EXPECT_NABLA_ERROR(
      torch::data::datasets::MNIST(dir.path.string(), torch::data::datasets::MNIST::Mode::kTest),
      "holds 2 images but", "holds 3 labels");
}

// The data code of libtorch's MNIST example (pytorch/examples, cpp/mnist), unchanged but for
// the data root: small files with MNIST's names stand in for the real set.
TEST(TorchCompatData, LibtorchMnistExampleDataCode) {
  ScratchDir dir;
  for (const auto& [split, n] : {std::pair<std::string, uint32_t>{"train", 130}, {"t10k", 70}}) {
    std::vector<uint8_t> pixels(n * 28 * 28), labels(n);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 31) % 256);
    for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
    write_idx(dir.path / (split + "-images-idx3-ubyte"), {n, 28, 28}, pixels);
    write_idx(dir.path / (split + "-labels-idx1-ubyte"), {n}, labels);
  }
  const std::string kDataRoot = dir.path.string();
  const int64_t kTrainBatchSize = 64;
  const int64_t kTestBatchSize = 1000;
  torch::manual_seed(1);

  auto train_dataset = torch::data::datasets::MNIST(kDataRoot)
                           .map(torch::data::transforms::Normalize<>(0.1307, 0.3081))
                           .map(torch::data::transforms::Stack<>());
  const size_t train_dataset_size = train_dataset.size().value();
  auto train_loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(train_dataset), kTrainBatchSize);

  auto test_dataset = torch::data::datasets::MNIST(kDataRoot, torch::data::datasets::MNIST::Mode::kTest)
                          .map(torch::data::transforms::Normalize<>(0.1307, 0.3081))
                          .map(torch::data::transforms::Stack<>());
  const size_t test_dataset_size = test_dataset.size().value();
  auto test_loader = torch::data::make_data_loader(std::move(test_dataset), kTestBatchSize);

  torch::Device device(torch::kCPU);
  size_t batch_idx = 0, seen = 0;
  for (auto& batch : *train_loader) {
    auto data = batch.data.to(device), targets = batch.target.to(device);
    EXPECT_EQ(data.size(1), 1);
    EXPECT_EQ(targets.dtype(), torch::kInt64);
    seen += static_cast<size_t>(data.size(0));
    if (batch_idx++ == 0) {
      EXPECT_EQ(targets.to_vector<int64_t>()[3], 3);  // sequential: example 3
    }
  }
  EXPECT_EQ(train_dataset_size, 130u);
  EXPECT_EQ(seen, train_dataset_size);
  EXPECT_EQ(batch_idx, 3u);  // 64 + 64 + 2
  int64_t correct_labels_sum = 0;
  for (const auto& batch : *test_loader) correct_labels_sum += batch.target.sum().item<int64_t>();
  EXPECT_EQ(test_dataset_size, 70u);
  EXPECT_EQ(correct_labels_sum, 7 * 45);  // labels i % 10 of 70 examples, in any order
}

// ---- Errors ----------------------------------------------------------------------------------

struct Unsized : torch::data::datasets::Dataset<Unsized> {
  torch::data::Example<> get(size_t i) override { return {torch::ones({1}), torch::ones({1})}; }
  torch::optional<size_t> size() const override { return torch::nullopt; }
};

TEST(TorchCompatData, Errors) {
  EXPECT_NABLA_ERROR(
      torch::data::make_data_loader(Indexed(4), torch::data::DataLoaderOptions().batch_size(0)),
      "make_data_loader", "batch_size must be at least 1");
  EXPECT_NABLA_ERROR(torch::data::make_data_loader(Indexed(0), 2), "make_data_loader",
                     "the dataset is empty");
  EXPECT_NABLA_ERROR(torch::data::make_data_loader(Unsized()),
                     "Expected the dataset to be sized in order to construct the Sampler");
  EXPECT_NABLA_ERROR(torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(Unsized(), 4),
                     "Expected the dataset to be sized");
  // An unsized dataset works with a sampler given explicitly.
  auto loader = torch::data::make_data_loader(Unsized().map(torch::data::transforms::Stack<>()),
                                              torch::data::samplers::SequentialSampler(3), 2);
  std::vector<int64_t> sizes;
  for (auto& batch : *loader) sizes.push_back(batch.data.size(0));
  EXPECT_EQ(sizes, (L{2, 1}));

  EXPECT_NABLA_ERROR(torch::data::transforms::Normalize<>(std::vector<double>{}, std::vector<double>{1.0}),
                     "Normalize", "mean is empty");
  EXPECT_NABLA_ERROR(torch::data::transforms::Normalize<>(0.5, 0.0), "Normalize", "stddev must not be 0");
  EXPECT_NABLA_ERROR(torch::data::samplers::RandomSampler(4, torch::kFloat32), "index_dtype");

  auto small = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(Indexed(2), 2);
  auto it = small->begin();
  ++it;
  EXPECT_EQ(it, small->end());
  EXPECT_NABLA_ERROR(++it, "past the end");
  EXPECT_NABLA_ERROR(*small->end(), "past-the-end");
  EXPECT_NABLA_ERROR(torch::data::datasets::MNIST("/nonexistent/nabla-mnist"), "error opening images file",
                     "/nonexistent/nabla-mnist/train-images-idx3-ubyte");
}

}  // namespace
