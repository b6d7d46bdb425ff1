// nabla::data: datasets, a batching DataLoader with background prefetch, and the IDX (MNIST
// format) reader behind the Fashion-MNIST dataset.
//
//   auto ds = std::make_shared<nabla::data::FashionMNIST>();            // train split
//   nabla::data::DataLoader loader(ds, nabla::data::DataLoaderOptions().batch_size(64).shuffle(true));
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& batch : loader) train_step(batch.data, batch.target);  // one epoch per loop
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "nabla/device.h"
#include "nabla/tensor.h"

namespace nabla::data {

/// One sample: its input and its target.
struct Example {
  Tensor data;
  Tensor target;
};

/// A batch: the samples' inputs and targets stacked along a new first dim.
struct Batch {
  Tensor data;
  Tensor target;
  int64_t index = 0;  ///< batch number in the epoch (0-based)
};

/// A map-style dataset: `size()` samples addressed by index.
///
/// A DataLoader with prefetch calls get()/get_batch() from its background thread while the
/// caller may use the dataset too, so these const methods must be safe to call concurrently
/// (they are when they only read members, as the datasets here do).
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  /// Sample i, 0 <= i < size().
  virtual Example get(int64_t i) const = 0;
  /// The samples at `indices` (non-empty), stacked. The default stacks get() of each index;
  /// datasets held in tensors override it with one gather.
  virtual Batch get_batch(const std::vector<int64_t>& indices) const;
};

/// A dataset over two tensors whose first dim indexes the samples: data [N, ...] and
/// targets [N, ...]. get(i) returns views of row i; get_batch is one index_select per tensor.
class TensorDataset : public Dataset {
 public:
  /// Throws Error unless both are defined, at least 1-D and agree in their first dim.
  TensorDataset(Tensor data, Tensor targets);
  int64_t size() const override;
  Example get(int64_t i) const override;
  /// `indices` may be empty (gives a batch of 0 samples).
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  const Tensor& data() const { return data_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor data_;
  Tensor targets_;
};

/// Options of a DataLoader, with builder-style setters as TensorOptions:
/// `DataLoaderOptions().batch_size(64).shuffle(true).seed(1)`.
struct DataLoaderOptions {
  int64_t batch_size_ = 1;
  bool shuffle_ = false;
  bool drop_last_ = false;
  uint64_t seed_ = 0;
  bool prefetch_ = true;
  Device device_ = Device::cpu();

  DataLoaderOptions() = default;
  explicit DataLoaderOptions(int64_t batch_size) : batch_size_(batch_size) {}
  /// Samples per batch (>= 1); the last batch of an epoch may be smaller unless drop_last.
  DataLoaderOptions batch_size(int64_t b) const {
    auto o = *this;
    o.batch_size_ = b;
    return o;
  }
  /// Visit the samples in a new random order each epoch (else in index order).
  DataLoaderOptions shuffle(bool s) const {
    auto o = *this;
    o.shuffle_ = s;
    return o;
  }
  /// Skip the last, incomplete batch of an epoch.
  DataLoaderOptions drop_last(bool d) const {
    auto o = *this;
    o.drop_last_ = d;
    return o;
  }
  /// Seed of the shuffling order; the order of epoch e depends only on (seed, e).
  DataLoaderOptions seed(uint64_t s) const {
    auto o = *this;
    o.seed_ = s;
    return o;
  }
  /// Prepare the next batch on a background thread while the caller uses the current one.
  DataLoaderOptions prefetch(bool p) const {
    auto o = *this;
    o.prefetch_ = p;
    return o;
  }
  /// Device the batches are moved to.
  DataLoaderOptions device(Device d) const {
    auto o = *this;
    o.device_ = d;
    return o;
  }
  int64_t batch_size() const { return batch_size_; }
  bool shuffle() const { return shuffle_; }
  bool drop_last() const { return drop_last_; }
  uint64_t seed() const { return seed_; }
  bool prefetch() const { return prefetch_; }
  Device device() const { return device_; }
};

/// A DataLoader's position, for checkpoints: the epoch, the number of batches of that epoch
/// already handed out (the next batch to yield), and the shuffling seed.
struct DataLoaderState {
  int64_t epoch = 0;
  int64_t batch = 0;
  uint64_t seed = 0;
};

namespace detail {
struct LoaderRun;  // one pass over an epoch (core/src/data/dataloader.cpp)
}  // namespace detail

/// Batches of a Dataset, one epoch per range-for loop:
///
///   for (auto& batch : loader) { ... batch.data, batch.target, batch.index ... }
///
/// The loader is a cursor (epoch, batch). A loop starts at the cursor and moves it past each
/// batch it yields; a loop that runs to the end of the epoch moves it to the start of the next
/// epoch, so successive loops visit successive epochs. A loop left early (break) leaves the
/// cursor after the last batch yielded, and the next loop continues from there; set_epoch()
/// restarts. state()/load_state() save and restore the cursor for checkpoints.
///
/// With shuffle, the order of epoch e is randperm(N) drawn from a private nabla::Generator
/// seeded from (seed, e): deterministic, the same on every run and device, and independent of
/// the global generator. With prefetch, a background thread prepares up to two batches ahead;
/// an exception it meets is rethrown on the caller's thread when that batch is reached, and
/// leaving the loop early or destroying the loader stops and joins the thread.
///
/// A loader is used from one thread at a time. Only its latest loop moves the cursor: begin(),
/// set_epoch() and load_state() detach an iteration still in progress (it goes on yielding its
/// own batches but no longer moves the cursor), as does destroying the loader.
class DataLoader {
 public:
  /// Throws Error if `dataset` is null or the batch size is < 1. An empty dataset is allowed
  /// (its epochs have no batches).
  DataLoader(std::shared_ptr<Dataset> dataset, DataLoaderOptions options = {});
  ~DataLoader();
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// An input iterator over the batches of one epoch; copies share one position.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = Batch*;
    using reference = Batch&;

    Iterator() = default;
    Batch& operator*() const;
    Batch* operator->() const { return &**this; }
    /// Fetches the next batch (rethrowing an error met while preparing it).
    Iterator& operator++();
    void operator++(int) { ++*this; }
    /// Two iterators compare equal when both are past the end of their epoch.
    bool operator==(const Iterator& other) const { return at_end() == other.at_end(); }

   private:
    friend class DataLoader;
    explicit Iterator(std::shared_ptr<detail::LoaderRun> run) : run_(std::move(run)) {}
    bool at_end() const;
    std::shared_ptr<detail::LoaderRun> run_;
  };

  /// Starts a loop at the cursor and prepares its first batch (an error doing so is thrown here).
  Iterator begin();
  Iterator end() { return Iterator(); }

  /// Batches per epoch: ceil(N / batch_size), or floor with drop_last.
  int64_t num_batches() const;
  /// The epoch the cursor is in.
  int64_t epoch() const;
  /// Moves the cursor to the start of epoch `e` (>= 0).
  void set_epoch(int64_t e);
  /// The cursor and the seed: iterating after load_state(state()) yields the batches that
  /// would have come next, with the same order.
  DataLoaderState state() const;
  /// Restores a cursor; the seed of `state` becomes this loader's shuffling seed. Throws
  /// Error if epoch < 0 or batch is not in [0, num_batches()].
  void load_state(const DataLoaderState& state);

  const DataLoaderOptions& options() const;
  const std::shared_ptr<Dataset>& dataset() const;

 private:
  struct Impl;
  friend struct detail::LoaderRun;
  std::unique_ptr<Impl> impl_;
};

/// Reads an IDX file (the MNIST format), raw or gzip-compressed (detected by the 1f 8b magic).
///
/// Element types: 0x08 unsigned byte -> uint8; 0x09 signed byte -> int32 (nabla has no int8;
/// widened losslessly); 0x0B int16 -> int32; 0x0C int32 -> int32; 0x0D float32 -> float32;
/// 0x0E float64 -> float64. The result has the file's (big-endian) dims, 1 to 8 of them.
/// Files (and decompressed streams) are limited to 2 GiB. Every malformed input - bad magic,
/// unknown type, bad dim count, overflowing dims, truncated data, trailing bytes, a corrupt
/// gzip stream - throws Error naming the file and the problem.
Tensor read_idx(const std::string& path);

/// Fashion-MNIST (Zalando): 28x28 grey images of 10 clothing classes, 60000 for training and
/// 10000 for testing. data: float32 [N, 1, 28, 28] scaled to [0, 1]; targets: int64 [N] in 0..9.
class FashionMNIST : public Dataset {
 public:
  /// Loads `root`/{train,t10k}-{images-idx3,labels-idx1}-ubyte, each uncompressed or .gz.
  /// Throws Error naming the missing file (and how to get it) or the inconsistency found.
  explicit FashionMNIST(std::string root = default_root(), bool train = true);

  /// Where the Debian package dataset-fashion-mnist installs the files:
  /// /usr/share/datasets/fashion-mnist.
  static std::string default_root();

  static constexpr const char* kClasses[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                               "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

  int64_t size() const override { return tensors_.size(); }
  Example get(int64_t i) const override { return tensors_.get(i); }
  Batch get_batch(const std::vector<int64_t>& indices) const override { return tensors_.get_batch(indices); }

  /// float32 [N, 1, 28, 28] in [0, 1].
  const Tensor& images() const { return tensors_.data(); }
  /// int64 [N] in 0..9.
  const Tensor& targets() const { return tensors_.targets(); }
  const std::string& root() const { return root_; }
  bool train() const { return train_; }

 private:
  static TensorDataset load(const std::string& root, bool train);

  std::string root_;
  bool train_;
  TensorDataset tensors_;
};

}  // namespace nabla::data
