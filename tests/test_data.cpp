// nabla::data: TensorDataset, the DataLoader (batch counts, deterministic shuffling, prefetch,
// early exit, errors from the worker thread, resumable state), read_idx on raw and gzip IDX
// files (well-formed and malformed), and FashionMNIST (the Debian package's files when
// installed, small synthetic files otherwise).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla::data {
namespace {

namespace fs = std::filesystem;
using L = std::vector<int64_t>;
using Bytes = std::vector<uint8_t>;

// The message of the Error `f` throws (fails the test when it throws nothing), for checks of
// more than the substrings EXPECT_NABLA_ERROR looks for.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected nabla::Error";
  return "";
}

// A TensorDataset whose sample i has data [i, 10 i] (float32) and target i (int64), so that a
// batch tells which indices it holds.
std::shared_ptr<TensorDataset> indexed_dataset(int64_t n) {
  std::vector<float> d;
  L t;
  for (int64_t i = 0; i < n; ++i) {
    d.push_back(static_cast<float>(i));
    d.push_back(static_cast<float>(10 * i));
    t.push_back(i);
  }
  return std::make_shared<TensorDataset>(from_vector(d, {n, 2}), from_vector(t));
}

// The target indices of every batch of one loop.
std::vector<L> one_epoch(DataLoader& loader) {
  std::vector<L> out;
  for (auto& batch : loader) out.push_back(batch.target.to_vector<int64_t>());
  return out;
}

L flatten(const std::vector<L>& batches) {
  L all;
  for (const L& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

// ---- TensorDataset -------------------------------------------------------------------------

TEST(TensorDataset, SizeGetAndBatch) {
  auto ds = indexed_dataset(10);
  EXPECT_EQ(ds->size(), 10);
  const Example e = ds->get(4);
  EXPECT_EQ(e.data.sizes(), (Shape{2}));
  EXPECT_EQ(e.data.to_vector<float>(), (std::vector<float>{4, 40}));
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item<int64_t>(), 4);

  const Batch b = ds->get_batch({7, 1, 3});
  EXPECT_EQ(b.data.sizes(), (Shape{3, 2}));
  EXPECT_EQ(b.data.to_vector<float>(), (std::vector<float>{7, 70, 1, 10, 3, 30}));
  EXPECT_EQ(b.target.sizes(), (Shape{3}));
  EXPECT_EQ(b.target.dtype(), kInt64);
  EXPECT_EQ(b.target.to_vector<int64_t>(), (L{7, 1, 3}));

  const Batch none = ds->get_batch({});
  EXPECT_EQ(none.data.sizes(), (Shape{0, 2}));
  EXPECT_EQ(none.target.sizes(), (Shape{0}));
}

TEST(TensorDataset, MultiDimTargets) {
  TensorDataset ds(zeros({5, 1, 4, 4}), ones({5, 3}, kInt64));
  const Batch b = ds.get_batch({0, 4});
  EXPECT_EQ(b.data.sizes(), (Shape{2, 1, 4, 4}));
  EXPECT_EQ(b.target.sizes(), (Shape{2, 3}));
}

TEST(TensorDataset, Errors) {
  EXPECT_NABLA_ERROR(TensorDataset(zeros({10, 3}), zeros({7})),
                     "data of shape [10, 3] has 10 samples but targets of shape [7] have 7");
  EXPECT_NABLA_ERROR(TensorDataset(scalar_tensor(1.0), zeros({1})), "data must have a first dim");
  EXPECT_NABLA_ERROR(TensorDataset(zeros({1}), scalar_tensor(1.0)), "targets must have a first dim");
  EXPECT_NABLA_ERROR(TensorDataset(Tensor(), zeros({1})), "data tensor is undefined");
  EXPECT_NABLA_ERROR(TensorDataset(zeros({1}), Tensor()), "targets tensor is undefined");
  auto ds = indexed_dataset(10);
  EXPECT_NABLA_ERROR(ds->get(10), "index 10 is out of range for 10 samples");
  EXPECT_NABLA_ERROR(ds->get(-1), "index -1 is out of range");
  EXPECT_NABLA_ERROR(ds->get_batch({1, 12}), "index 12 is out of range for 10 samples");
}

// A dataset without get_batch: the default stacks get().
class SquaresDataset : public Dataset {
 public:
  explicit SquaresDataset(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  Example get(int64_t i) const override {
    return {full({2}, static_cast<double>(i * i), kFloat32), scalar_tensor(i, kInt64)};
  }

 private:
  int64_t n_;
};

TEST(Dataset, DefaultGetBatchStacks) {
  SquaresDataset ds(6);
  const Batch b = ds.get_batch({2, 5});
  EXPECT_EQ(b.data.sizes(), (Shape{2, 2}));
  EXPECT_EQ(b.data.to_vector<float>(), (std::vector<float>{4, 4, 25, 25}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (L{2, 5}));
  EXPECT_NABLA_ERROR(ds.get_batch({}), "at least one index");
}

// ---- DataLoader: batching ------------------------------------------------------------------

TEST(DataLoader, OptionsBuilder) {
  const auto o = DataLoaderOptions().batch_size(64).shuffle(true).drop_last(true).seed(7).prefetch(false);
  EXPECT_EQ(o.batch_size(), 64);
  EXPECT_TRUE(o.shuffle());
  EXPECT_TRUE(o.drop_last());
  EXPECT_EQ(o.seed(), 7u);
  EXPECT_FALSE(o.prefetch());
  EXPECT_EQ(o.device(), Device::cpu());
  EXPECT_EQ(DataLoaderOptions(32).batch_size(), 32);
  const DataLoaderOptions d;
  EXPECT_EQ(d.batch_size(), 1);
  EXPECT_FALSE(d.shuffle());
  EXPECT_FALSE(d.drop_last());
  EXPECT_TRUE(d.prefetch());
}

TEST(DataLoader, BatchCounts) {
  for (const bool prefetch : {true, false}) {
    SCOPED_TRACE(prefetch ? "prefetch" : "no prefetch");
    DataLoader keep(indexed_dataset(10), DataLoaderOptions().batch_size(3).prefetch(prefetch));
    EXPECT_EQ(keep.num_batches(), 4);
    std::vector<int64_t> sizes, indices;
    for (auto& batch : keep) {
      sizes.push_back(batch.data.size(0));
      indices.push_back(batch.index);
      EXPECT_EQ(batch.data.size(1), 2);
      EXPECT_EQ(batch.target.size(0), batch.data.size(0));
      EXPECT_EQ(batch.data.device(), Device::cpu());
    }
    EXPECT_EQ(sizes, (L{3, 3, 3, 1}));
    EXPECT_EQ(indices, (L{0, 1, 2, 3}));

    DataLoader drop(indexed_dataset(10),
                    DataLoaderOptions().batch_size(3).drop_last(true).prefetch(prefetch));
    EXPECT_EQ(drop.num_batches(), 3);
    const std::vector<L> batches = one_epoch(drop);
    EXPECT_EQ(batches, (std::vector<L>{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}));

    DataLoader exact(indexed_dataset(9),
                     DataLoaderOptions().batch_size(3).drop_last(true).prefetch(prefetch));
    EXPECT_EQ(exact.num_batches(), 3);
    DataLoader big(indexed_dataset(10), DataLoaderOptions().batch_size(100).prefetch(prefetch));
    EXPECT_EQ(big.num_batches(), 1);
    EXPECT_EQ(one_epoch(big).at(0).size(), 10u);
    DataLoader big_drop(indexed_dataset(10),
                        DataLoaderOptions().batch_size(100).drop_last(true).prefetch(prefetch));
    EXPECT_EQ(big_drop.num_batches(), 0);
    EXPECT_TRUE(one_epoch(big_drop).empty());
  }
}

TEST(DataLoader, EmptyDatasetYieldsNothing) {
  DataLoader loader(indexed_dataset(0), DataLoaderOptions().batch_size(4).shuffle(true));
  EXPECT_EQ(loader.num_batches(), 0);
  EXPECT_TRUE(one_epoch(loader).empty());
  EXPECT_EQ(loader.epoch(), 1);
  EXPECT_TRUE(loader.begin() == loader.end());
}

TEST(DataLoader, ConstructionErrors) {
  EXPECT_NABLA_ERROR(DataLoader(indexed_dataset(3), DataLoaderOptions().batch_size(0)),
                     "batch_size must be at least 1, got 0");
  EXPECT_NABLA_ERROR(DataLoader(indexed_dataset(3), DataLoaderOptions().batch_size(-2)), "got -2");
  EXPECT_NABLA_ERROR(DataLoader(nullptr), "dataset is null");
}

TEST(DataLoader, LoopsVisitSuccessiveEpochs) {
  DataLoader loader(indexed_dataset(10), DataLoaderOptions().batch_size(4));
  EXPECT_EQ(loader.epoch(), 0);
  EXPECT_EQ(one_epoch(loader).size(), 3u);
  EXPECT_EQ(loader.epoch(), 1);
  EXPECT_EQ(one_epoch(loader).size(), 3u);
  EXPECT_EQ(loader.epoch(), 2);
  loader.set_epoch(7);
  EXPECT_EQ(loader.epoch(), 7);
  EXPECT_EQ(loader.state().batch, 0);
  EXPECT_NABLA_ERROR(loader.set_epoch(-1), "non-negative");
}

// ---- DataLoader: shuffling -----------------------------------------------------------------

TEST(DataLoader, ShuffleIsDeterministicAndAPermutation) {
  const auto opts = DataLoaderOptions().batch_size(3).shuffle(true).seed(42);
  DataLoader a(indexed_dataset(10), opts), b(indexed_dataset(10), opts);
  std::vector<L> epochs_a, epochs_b;
  for (int e = 0; e < 4; ++e) {
    epochs_a.push_back(flatten(one_epoch(a)));
    manual_seed(1000 + e);  // the global generator must not matter
    epochs_b.push_back(flatten(one_epoch(b)));
  }
  EXPECT_EQ(epochs_a, epochs_b);
  for (const L& order : epochs_a) {
    L sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (L{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << "every index exactly once per epoch";
  }
  for (int e = 1; e < 4; ++e) EXPECT_NE(epochs_a[e], epochs_a[0]) << "epoch " << e << " repeats epoch 0";
  EXPECT_NE(epochs_a[0], (L{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));

  // Another seed, another order; the same seed again, the same orders.
  DataLoader c(indexed_dataset(10), opts.seed(43));
  EXPECT_NE(flatten(one_epoch(c)), epochs_a[0]);
  DataLoader again(indexed_dataset(10), opts);
  again.set_epoch(2);
  EXPECT_EQ(flatten(one_epoch(again)), epochs_a[2]);
}

TEST(DataLoader, ShuffleLeavesTheGlobalGeneratorAlone) {
  manual_seed(5);
  const GeneratorState before = get_rng_state();
  DataLoader loader(indexed_dataset(50), DataLoaderOptions().batch_size(8).shuffle(true));
  one_epoch(loader);
  const GeneratorState after = get_rng_state();
  EXPECT_EQ(before.seed, after.seed);
  EXPECT_EQ(before.offset, after.offset);
}

TEST(DataLoader, PrefetchGivesTheSameBatches) {
  const auto opts = DataLoaderOptions().batch_size(7).shuffle(true).seed(3);
  DataLoader on(indexed_dataset(100), opts.prefetch(true)), off(indexed_dataset(100), opts.prefetch(false));
  for (int e = 0; e < 3; ++e) {
    std::vector<Batch> x, y;
    for (auto& b : on) x.push_back(b);
    for (auto& b : off) y.push_back(b);
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].index, y[i].index);
      EXPECT_EQ(x[i].data.to_vector<float>(), y[i].data.to_vector<float>());
      EXPECT_EQ(x[i].target.to_vector<int64_t>(), y[i].target.to_vector<int64_t>());
    }
  }
}

// ---- DataLoader: the worker thread ---------------------------------------------------------

// A dataset whose samples take a while, counting the samples made.
class SlowDataset : public Dataset {
 public:
  SlowDataset(int64_t n, std::chrono::milliseconds delay) : n_(n), delay_(delay) {}
  int64_t size() const override { return n_; }
  Example get(int64_t i) const override {
    std::this_thread::sleep_for(delay_);
    ++made;
    return {full({4}, static_cast<double>(i), kFloat32), scalar_tensor(i, kInt64)};
  }
  mutable std::atomic<int64_t> made{0};

 private:
  int64_t n_;
  std::chrono::milliseconds delay_;
};

TEST(DataLoader, BreakingOutEarlyDoesNotHang) {
  nabla::test_util::finishes_within(std::chrono::seconds(20), [] {
    auto ds = std::make_shared<SlowDataset>(1000, std::chrono::milliseconds(5));
    {
      DataLoader loader(ds, DataLoaderOptions().batch_size(10));
      for (auto& batch : loader) {
        if (batch.index == 1) break;
      }
      EXPECT_EQ(loader.state().batch, 2);
      // The worker was stopped: it made at most the batches it may hold ahead (and one in
      // progress), not the 100 of the epoch.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      EXPECT_LE(ds->made.load(), 10 * 6);
      // Leaving the loop while the worker is busy, then destroying the loader.
      for (auto& batch : loader) {
        (void)batch;
        break;
      }
    }
    {
      // The loader destroyed while an iterator is still alive: the iteration goes on alone.
      auto loader = std::make_unique<DataLoader>(ds, DataLoaderOptions().batch_size(10));
      auto it = loader->begin();
      loader.reset();
      ++it;
      EXPECT_EQ(it->index, 1);
    }
    {
      // Many short-lived loops.
      DataLoader loader(ds, DataLoaderOptions().batch_size(1));
      for (int i = 0; i < 20; ++i) {
        auto it = loader.begin();
        (void)it;
      }
    }
  });
}

TEST(DataLoader, BreakingOutContinuesAtTheNextBatch) {
  DataLoader loader(indexed_dataset(10), DataLoaderOptions().batch_size(3).shuffle(true).seed(9));
  DataLoader ref(indexed_dataset(10), DataLoaderOptions().batch_size(3).shuffle(true).seed(9));
  const std::vector<L> full = one_epoch(ref);
  std::vector<L> got;
  for (auto& b : loader) {
    got.push_back(b.target.to_vector<int64_t>());
    break;
  }
  EXPECT_EQ(loader.epoch(), 0);
  for (auto& b : loader) got.push_back(b.target.to_vector<int64_t>());
  EXPECT_EQ(got, full);
  EXPECT_EQ(loader.epoch(), 1);
}

struct CustomError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Sample `bad` throws: a nabla::Error, or a CustomError.
class FailingDataset : public Dataset {
 public:
  FailingDataset(int64_t n, int64_t bad, bool custom) : n_(n), bad_(bad), custom_(custom) {}
  int64_t size() const override { return n_; }
  Example get(int64_t i) const override {
    if (i == bad_) {
      if (custom_) throw CustomError("custom failure at sample " + std::to_string(i));
      NABLA_FAIL("FailingDataset: sample {} is corrupt", i);
    }
    return {full({2}, static_cast<double>(i), kFloat32), scalar_tensor(i, kInt64)};
  }

 private:
  int64_t n_, bad_;
  bool custom_;
};

TEST(DataLoader, WorkerErrorsSurfaceOnTheCaller) {
  for (const bool prefetch : {true, false}) {
    SCOPED_TRACE(prefetch ? "prefetch" : "no prefetch");
    DataLoader loader(std::make_shared<FailingDataset>(10, 5, /*custom=*/false),
                      DataLoaderOptions().batch_size(2).prefetch(prefetch));
    std::vector<int64_t> seen;
    const std::string msg = error_of([&] {
      for (auto& b : loader) seen.push_back(b.index);
    });
    EXPECT_EQ(msg, "FailingDataset: sample 5 is corrupt");
    EXPECT_EQ(seen, (L{0, 1})) << "the batches before the failing one arrive";
    EXPECT_EQ(loader.state().batch, 2) << "the failed batch is not counted";
    EXPECT_EQ(loader.epoch(), 0);

    DataLoader custom(std::make_shared<FailingDataset>(10, 0, /*custom=*/true),
                      DataLoaderOptions().batch_size(4).prefetch(prefetch));
    try {
      for (auto& b : custom) (void)b;
      ADD_FAILURE() << "expected CustomError";
    } catch (const CustomError& e) {
      EXPECT_STREQ(e.what(), "custom failure at sample 0");
    }
  }
}

// ---- DataLoader: resumable state -----------------------------------------------------------

TEST(DataLoader, StateResumesExactly) {
  for (const bool prefetch : {true, false}) {
    SCOPED_TRACE(prefetch ? "prefetch" : "no prefetch");
    const auto opts = DataLoaderOptions().batch_size(3).shuffle(true).seed(1234).prefetch(prefetch);
    DataLoader ref(indexed_dataset(10), opts);
    ref.set_epoch(2);
    const std::vector<L> full = one_epoch(ref);
    ASSERT_EQ(full.size(), 4u);

    DataLoader first(indexed_dataset(10), opts);
    first.set_epoch(2);
    DataLoaderState saved;
    for (auto& b : first) {
      if (b.index == 1) {
        saved = first.state();  // after training on batches 0 and 1
        break;
      }
    }
    EXPECT_EQ(saved.epoch, 2);
    EXPECT_EQ(saved.batch, 2);
    EXPECT_EQ(saved.seed, 1234u);

    // A fresh loader, even one built with another seed, resumes at batch 2 of epoch 2.
    DataLoader resumed(indexed_dataset(10), opts.seed(99).prefetch(!prefetch));
    resumed.load_state(saved);
    EXPECT_EQ(resumed.options().seed(), 1234u);
    std::vector<L> rest;
    std::vector<int64_t> indices;
    for (auto& b : resumed) {
      rest.push_back(b.target.to_vector<int64_t>());
      indices.push_back(b.index);
    }
    EXPECT_EQ(rest, (std::vector<L>{full[2], full[3]}));
    EXPECT_EQ(indices, (L{2, 3}));
    EXPECT_EQ(resumed.epoch(), 3);

    // A state saved at the end of an epoch resumes with nothing left of it.
    DataLoaderState end_state{4, 4, 1234};
    resumed.load_state(end_state);
    EXPECT_TRUE(one_epoch(resumed).empty());
    EXPECT_EQ(resumed.epoch(), 5);
  }
}

TEST(DataLoader, LoadStateErrors) {
  DataLoader loader(indexed_dataset(10), DataLoaderOptions().batch_size(3));
  EXPECT_NABLA_ERROR(loader.load_state({0, 5, 0}), "batch 5 is outside the 4 batches");
  EXPECT_NABLA_ERROR(loader.load_state({0, -1, 0}), "batch -1 is outside");
  EXPECT_NABLA_ERROR(loader.load_state({-1, 0, 0}), "epoch must be non-negative");
}

static_assert(std::input_iterator<DataLoader::Iterator>);

TEST(DataLoader, IteratorMisuse) {
  DataLoader loader(indexed_dataset(2), DataLoaderOptions().batch_size(2));
  auto it = loader.begin();
  ++it;
  EXPECT_TRUE(it == loader.end());
  EXPECT_NABLA_ERROR(*it, "past the end");
  EXPECT_NABLA_ERROR(++it, "past the end");
}

// ---- read_idx ------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("nabla_test_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  fs::path path_;
};

void put_be(Bytes& b, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  Bytes b{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) put_be(b, d, 4);
  return b;
}

void write_raw(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good()) << path;
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb9");
  ASSERT_NE(f, nullptr) << path;
  if (!b.empty()) {
    ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

Bytes read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Writes `b` raw and gzipped and checks that both read back as `check` wants.
void roundtrip(const TempDir& dir, const std::string& name, const Bytes& b,
               const std::function<void(const Tensor&)>& check) {
  write_raw(dir.file(name), b);
  write_gz(dir.file(name + ".gz"), b);
  {
    SCOPED_TRACE(name + " raw");
    check(read_idx(dir.file(name)));
  }
  {
    SCOPED_TRACE(name + " gzip");
    check(read_idx(dir.file(name + ".gz")));
  }
}

TEST(ReadIdx, AllElementTypesRawAndGzip) {
  TempDir dir;
  {
    Bytes b = idx_header(0x08, {2, 3});
    for (uint8_t v : {0, 1, 2, 127, 128, 255}) b.push_back(v);
    roundtrip(dir, "u8", b, [](const Tensor& t) {
      EXPECT_EQ(t.dtype(), kUInt8);
      EXPECT_EQ(t.sizes(), (Shape{2, 3}));
      EXPECT_EQ(t.to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 2, 127, 128, 255}));
    });
  }
  {
    Bytes b = idx_header(0x09, {4});
    for (int8_t v : {0, -1, 127, -128}) b.push_back(static_cast<uint8_t>(v));
    roundtrip(dir, "i8", b, [](const Tensor& t) {
      EXPECT_EQ(t.dtype(), kInt32);
      EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{0, -1, 127, -128}));
    });
  }
  {
    Bytes b = idx_header(0x0B, {2, 2});
    for (int16_t v : {1, -2, 32767, -32768}) put_be(b, static_cast<uint16_t>(v), 2);
    roundtrip(dir, "i16", b, [](const Tensor& t) {
      EXPECT_EQ(t.dtype(), kInt32);
      EXPECT_EQ(t.sizes(), (Shape{2, 2}));
      EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 32767, -32768}));
    });
  }
  {
    Bytes b = idx_header(0x0C, {3});
    for (int32_t v : {70000, -1, 2147483647}) put_be(b, static_cast<uint32_t>(v), 4);
    roundtrip(dir, "i32", b, [](const Tensor& t) {
      EXPECT_EQ(t.dtype(), kInt32);
      EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{70000, -1, 2147483647}));
    });
  }
  {
    Bytes b = idx_header(0x0D, {1, 2, 2});
    for (float v : {0.5f, -1.5f, 3.25e10f, 1e-30f}) put_be(b, std::bit_cast<uint32_t>(v), 4);
    roundtrip(dir, "f32", b, [](const Tensor& t) {
      EXPECT_EQ(t.dtype(), kFloat32);
      EXPECT_EQ(t.sizes(), (Shape{1, 2, 2}));
      EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0.5f, -1.5f, 3.25e10f, 1e-30f}));
    });
  }
  {
    Bytes b = idx_header(0x0E, {2});
    for (double v : {3.141592653589793, -2e-300}) put_be(b, std::bit_cast<uint64_t>(v), 8);
    roundtrip(dir, "f64", b, [](const Tensor& t) {
      EXPECT_EQ(t.dtype(), kFloat64);
      EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{3.141592653589793, -2e-300}));
    });
  }
  {
    // Zero samples, and the most dims allowed.
    roundtrip(dir, "empty", idx_header(0x08, {0, 28, 28}), [](const Tensor& t) {
      EXPECT_EQ(t.sizes(), (Shape{0, 28, 28}));
    });
    Bytes b = idx_header(0x08, {1, 1, 1, 1, 1, 1, 1, 2});
    b.push_back(9);
    b.push_back(8);
    roundtrip(dir, "dims8", b, [](const Tensor& t) {
      EXPECT_EQ(t.dim(), 8);
      EXPECT_EQ(t.to_vector<uint8_t>(), (std::vector<uint8_t>{9, 8}));
    });
  }
}

TEST(ReadIdx, LargeGzipAndConcatenatedMembers) {
  TempDir dir;
  // Larger than the first guess of the decompressed size, so the output buffer must grow.
  const uint32_t n = 3u << 20;
  Bytes b = idx_header(0x08, {n});
  for (uint32_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i % 7 == 0 ? i : 0));
  write_gz(dir.file("big.gz"), b);
  const Tensor t = read_idx(dir.file("big.gz"));
  ASSERT_EQ(t.numel(), static_cast<int64_t>(n));
  const auto v = t.to_vector<uint8_t>();
  EXPECT_TRUE(std::equal(v.begin(), v.end(), b.begin() + 8));

  // Two gzip members back to back (as `cat a.gz b.gz`) make one stream.
  Bytes whole = idx_header(0x08, {4});
  for (uint8_t x : {1, 2, 3, 4}) whole.push_back(x);
  write_gz(dir.file("a.gz"), Bytes(whole.begin(), whole.begin() + 6));
  write_gz(dir.file("b.gz"), Bytes(whole.begin() + 6, whole.end()));
  Bytes cat = read_bytes(dir.file("a.gz"));
  const Bytes second = read_bytes(dir.file("b.gz"));
  cat.insert(cat.end(), second.begin(), second.end());
  write_raw(dir.file("cat.gz"), cat);
  EXPECT_EQ(read_idx(dir.file("cat.gz")).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(ReadIdx, MalformedFiles) {
  TempDir dir;
  // A valid int16 file of dims [3, 4]: 24 data bytes.
  Bytes good = idx_header(0x0B, {3, 4});
  for (int i = 0; i < 12; ++i) put_be(good, static_cast<uint16_t>(i * 1000), 2);

  struct Case {
    std::string name;
    Bytes bytes;
    std::string message;
  };
  std::vector<Case> cases;
  Bytes bad_magic = good;
  bad_magic[0] = 1;
  cases.push_back(
      {"bad_magic", bad_magic, "bad magic number: the first two bytes must be 00 00, found 01 00"});
  Bytes bad_magic2 = good;
  bad_magic2[1] = 0x42;
  cases.push_back({"bad_magic2", bad_magic2, "bad magic number"});
  Bytes bad_type = good;
  bad_type[2] = 0x0A;
  cases.push_back({"bad_type", bad_type, "unknown element type code 0x0A"});
  cases.push_back({"ndim0", Bytes{0, 0, 0x08, 0}, "unsupported number of dims 0 (expected 1 to 8)"});
  Bytes ndim9 = idx_header(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  ndim9.push_back(0);
  cases.push_back({"ndim9", ndim9, "unsupported number of dims 9"});
  cases.push_back({"overflow", idx_header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}), "overflow"});
  // Fits int64 but is absurd: must be compared with the bytes present, not allocated.
  cases.push_back({"huge", idx_header(0x08, {65536, 65536, 65536}),
                   "truncated: expected 281474976710656 data bytes, found 0"});
  cases.push_back({"empty_file", Bytes{}, "truncated: expected a 4-byte magic number, found 0 bytes"});
  cases.push_back(
      {"short_magic", Bytes{0, 0, 8}, "truncated: expected a 4-byte magic number, found 3 bytes"});
  cases.push_back({"short_header", Bytes(good.begin(), good.begin() + 9),
                   "truncated: expected a 12-byte header for 2 dims, found 9 bytes"});
  for (const std::size_t keep : {std::size_t{0}, std::size_t{1}, std::size_t{12}, std::size_t{23}}) {
    cases.push_back({"truncated_" + std::to_string(keep),
                     Bytes(good.begin(), good.begin() + 12 + static_cast<std::ptrdiff_t>(keep)),
                     "truncated: expected 24 data bytes, found " + std::to_string(keep)});
  }
  Bytes trailing = good;
  trailing.insert(trailing.end(), {1, 2, 3});
  cases.push_back({"trailing", trailing, "3 trailing bytes after the 24 data bytes"});

  for (const Case& c : cases) {
    for (const bool gz : {false, true}) {
      const std::string path = dir.file(c.name + (gz ? ".gz" : ""));
      if (gz) {
        write_gz(path, c.bytes);
      } else {
        write_raw(path, c.bytes);
      }
      SCOPED_TRACE(path);
      const std::string msg = error_of([&] { read_idx(path); });
      EXPECT_EQ(msg.rfind("read_idx: " + path + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
    }
  }
}

TEST(ReadIdx, CorruptGzipAndMissingFiles) {
  TempDir dir;
  Bytes good = idx_header(0x08, {1000});
  for (int i = 0; i < 1000; ++i) good.push_back(static_cast<uint8_t>((i * 37) ^ (i >> 3)));
  write_gz(dir.file("good.gz"), good);
  const Bytes gz = read_bytes(dir.file("good.gz"));
  ASSERT_GT(gz.size(), 40u);
  ASSERT_EQ(read_idx(dir.file("good.gz")).numel(), 1000);

  auto expect_corrupt = [&](const std::string& name, const Bytes& bytes, const std::string& part) {
    const std::string path = dir.file(name);
    write_raw(path, bytes);
    const std::string msg = error_of([&] { read_idx(path); });
    EXPECT_EQ(msg.rfind("read_idx: " + path + ": corrupt gzip stream", 0), 0u) << msg;
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  };
  Bytes flipped = gz;
  for (std::size_t i = 20; i < 30; ++i) flipped[i] ^= 0x5A;  // inside the deflate data
  expect_corrupt("flipped.gz", flipped, "corrupt gzip stream");
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0xFF;  // the CRC-32 in the trailer
  expect_corrupt("bad_crc.gz", bad_crc, "incorrect data check");
  Bytes bad_method = gz;
  bad_method[2] = 7;  // compression method: only 8 (deflate) exists
  expect_corrupt("bad_method.gz", bad_method, "corrupt gzip stream");
  for (const std::size_t keep : {std::size_t{2}, std::size_t{10}, gz.size() / 2, gz.size() - 1}) {
    expect_corrupt("cut_" + std::to_string(keep) + ".gz",
                   Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(keep)), "end unexpectedly");
  }
  Bytes garbage = gz;
  garbage.insert(garbage.end(), {'x', 'y', 'z'});
  expect_corrupt("garbage.gz", garbage, "3 bytes of trailing garbage");

  EXPECT_NABLA_ERROR(read_idx(dir.file("absent")), "read_idx: " + dir.file("absent") + ": no such file");
  EXPECT_NABLA_ERROR(read_idx(dir.path().string()), "is a directory");
}

// ---- FashionMNIST ------------------------------------------------------------------------

TEST(FashionMNIST, Classes) {
  EXPECT_STREQ(FashionMNIST::kClasses[0], "T-shirt/top");
  EXPECT_STREQ(FashionMNIST::kClasses[1], "Trouser");
  EXPECT_STREQ(FashionMNIST::kClasses[9], "Ankle boot");
  EXPECT_EQ(FashionMNIST::default_root(), "/usr/share/datasets/fashion-mnist");
}

TEST(FashionMNIST, PackagedTestSplit) {
  const std::string root = FashionMNIST::default_root();
  const bool present =
      (fs::exists(root + "/t10k-images-idx3-ubyte.gz") || fs::exists(root + "/t10k-images-idx3-ubyte")) &&
      (fs::exists(root + "/t10k-labels-idx1-ubyte.gz") || fs::exists(root + "/t10k-labels-idx1-ubyte"));
  if (!present) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << root
                 << " (apt-get install dataset-fashion-mnist, or bash cmake/dev.sh deps)";
  }
  const auto ds = std::make_shared<FashionMNIST>(root, /*train=*/false);
  EXPECT_FALSE(ds->train());
  ASSERT_EQ(ds->size(), 10000);
  EXPECT_EQ(ds->images().sizes(), (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(ds->images().dtype(), kFloat32);
  EXPECT_EQ(ds->targets().sizes(), (Shape{10000}));
  EXPECT_EQ(ds->targets().dtype(), kInt64);
  EXPECT_GE(ds->images().min().item<float>(), 0.0f);
  EXPECT_EQ(ds->images().max().item<float>(), 1.0f);
  const float mean = ds->images().mean().item<float>();
  EXPECT_GT(mean, 0.2f);  // about 0.286 for Fashion-MNIST
  EXPECT_LT(mean, 0.4f);
  std::map<int64_t, int64_t> count;
  for (const int64_t y : ds->targets().to_vector<int64_t>()) ++count[y];
  ASSERT_EQ(count.size(), 10u);
  for (const auto& [label, n] : count) {
    EXPECT_GE(label, 0);
    EXPECT_LE(label, 9);
    EXPECT_EQ(n, 1000) << "class " << label << " (" << FashionMNIST::kClasses[label] << ")";
  }
  const Example e = ds->get(0);
  EXPECT_EQ(e.data.sizes(), (Shape{1, 28, 28}));
  EXPECT_EQ(e.target.dim(), 0);

  DataLoader loader(ds, DataLoaderOptions().batch_size(256).shuffle(true));
  EXPECT_EQ(loader.num_batches(), 40);
  int64_t seen = 0;
  for (auto& b : loader) {
    EXPECT_EQ(b.data.size(1), 1);
    seen += b.data.size(0);
  }
  EXPECT_EQ(seen, 10000);
}

// Small synthetic files in the Fashion-MNIST layout: the loader works without the package.
void write_split(const TempDir& dir, const std::string& split, uint32_t n_images, uint32_t n_labels, bool gz,
                 uint8_t max_label = 9) {
  Bytes img = idx_header(0x08, {n_images, 28, 28});
  for (uint32_t i = 0; i < n_images * 28 * 28; ++i) img.push_back(static_cast<uint8_t>(i % 256));
  Bytes lab = idx_header(0x08, {n_labels});
  for (uint32_t i = 0; i < n_labels; ++i) lab.push_back(static_cast<uint8_t>(i % (max_label + 1u)));
  const std::string images = dir.file(split + "-images-idx3-ubyte"),
                    labels = dir.file(split + "-labels-idx1-ubyte");
  if (gz) {
    write_gz(images + ".gz", img);
    write_gz(labels + ".gz", lab);
  } else {
    write_raw(images, img);
    write_raw(labels, lab);
  }
}

TEST(FashionMNIST, SyntheticFiles) {
  TempDir dir;
  write_split(dir, "train", 5, 5, /*gz=*/true);
  write_split(dir, "t10k", 3, 3, /*gz=*/false);
  FashionMNIST train(dir.path().string());
  EXPECT_TRUE(train.train());
  EXPECT_EQ(train.size(), 5);
  EXPECT_EQ(train.images().sizes(), (Shape{5, 1, 28, 28}));
  const auto px = train.images().flatten().to_vector<float>();
  EXPECT_FLOAT_EQ(px[0], 0.0f);
  EXPECT_FLOAT_EQ(px[255], 1.0f);
  EXPECT_FLOAT_EQ(px[51], 51.0f / 255.0f);
  EXPECT_EQ(train.targets().to_vector<int64_t>(), (L{0, 1, 2, 3, 4}));
  FashionMNIST test(dir.path().string(), /*train=*/false);
  EXPECT_EQ(test.size(), 3);
  const Batch b = test.get_batch({2, 0});
  EXPECT_EQ(b.data.sizes(), (Shape{2, 1, 28, 28}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (L{2, 0}));
}

TEST(FashionMNIST, Errors) {
  const std::string absent = "/nonexistent/nabla-fashion-mnist";
  EXPECT_NABLA_ERROR(
      FashionMNIST(absent), "directory " + absent + " does not exist",
      "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) "
      "or pass the directory holding the IDX files");

  TempDir empty;
  EXPECT_NABLA_ERROR(FashionMNIST(empty.path().string(), /*train=*/false),
                     "missing t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz)");
  EXPECT_NABLA_ERROR(FashionMNIST(empty.path().string(), /*train=*/false),
                     "apt-get install dataset-fashion-mnist");

  TempDir mismatch;
  write_split(mismatch, "train", 4, 3, /*gz=*/false);
  EXPECT_NABLA_ERROR(FashionMNIST(mismatch.path().string()), "holds 4 images but");
  EXPECT_NABLA_ERROR(FashionMNIST(mismatch.path().string()), "holds 3 labels");

  TempDir bad_label;
  write_split(bad_label, "train", 20, 20, /*gz=*/false, /*max_label=*/11);
  EXPECT_NABLA_ERROR(FashionMNIST(bad_label.path().string()), "label 11 is out of range 0..9");

  TempDir only_images;
  write_split(only_images, "train", 2, 2, /*gz=*/false);
  fs::remove(only_images.file("train-labels-idx1-ubyte"));
  EXPECT_NABLA_ERROR(FashionMNIST(only_images.path().string()), "missing train-labels-idx1-ubyte");
}

}  // namespace
}  // namespace nabla::data
