// libtorch's C++ data pipeline (torch::data, libtorch 1.13) for nabla/torch_compat.h (issue 20,
// item 2): Example<>, CRTP datasets with .map(), MNIST, transforms (Normalize, Stack, Lambda,
// ...), samplers, DataLoaderOptions and make_data_loader with worker threads.
//
//   auto ds = torch::data::datasets::MNIST(root, torch::data::datasets::MNIST::Mode::kTest)
//                 .map(torch::data::transforms::Normalize<>(0.1307, 0.3081))
//                 .map(torch::data::transforms::Stack<>());
//   auto loader = torch::data::make_data_loader(std::move(ds),
//                                               torch::data::DataLoaderOptions().batch_size(64).workers(2));
//   for (auto& batch : *loader) step(batch.data, batch.target);
//
// nabla's own data API (nabla/data.h: a virtual Dataset, DataLoader, FashionMNIST) stays as it
// is; libtorch's templated API differs from it, so it lives here, in nabla::torch_compat::data.
// That namespace hides nabla::data from `torch::data::...` (qualified lookup stops at the first
// namespace that declares the name), so torch::data::Example is libtorch's template and
// nabla::data's names do not leak in. Limitation, as for nn: after `using namespace torch;` an
// unqualified `data::` is ambiguous (nabla::data is visible too); write torch::data::.
//
// Differences from libtorch 1.13, all on purpose:
// - Samplers have no save()/load() (nabla has no torch::serialize archives).
// - Stateful datasets (StatefulDataset, ChunkDataset) and their loader are not provided;
//   make_data_loader rejects a dataset whose batch type is an optional at compile time.
// - begin() while a previous loop over a loader with workers is unfinished restarts the epoch
//   (libtorch throws "Attempted to get a new DataLoader iterator while another iterator is not
//   yet exhausted"); results still in flight from the old loop are discarded.
// - A batch size of 0 and a dataset of size 0 are a nabla::Error when the loader is made
//   (libtorch asserts on the first batch, or yields no batch).
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/error.h"
#include "nabla/factories.h"
#include "nabla/ops.h"
#include "nabla/tensor.h"

namespace nabla::torch_compat {

/// libtorch's torch::optional / torch::nullopt (c10::optional, which is std::optional since 2.1).
using std::nullopt;
using std::nullopt_t;
using std::optional;

/// libtorch's (c10's) ArrayRef<T>: a non-owning view of contiguous values, implicitly made from
/// one value, a std::vector, a std::array, a C array or a braced list (which must outlive the
/// view: use it as a parameter type, as libtorch does).
template <class T>
class ArrayRef {
 public:
  using value_type = T;
  using iterator = const T*;
  using const_iterator = const T*;
  using size_type = size_t;

  constexpr ArrayRef() = default;
  constexpr ArrayRef(const T& one) : data_(&one), size_(1) {}  // NOLINT: implicit, as c10's
  constexpr ArrayRef(const T* data, size_t size) : data_(data), size_(size) {}
  template <class A>
  ArrayRef(const std::vector<T, A>& v) : data_(v.data()), size_(v.size()) {}  // NOLINT
  template <size_t N>
  constexpr ArrayRef(const std::array<T, N>& a) : data_(a.data()), size_(N) {}  // NOLINT
  template <size_t N>
  constexpr ArrayRef(const T (&a)[N]) : data_(a), size_(N) {}  // NOLINT
// The list's array lives until the end of the full-expression holding the braced list, as
// long as a parameter does; GCC warns regardless (c10's ArrayRef silences it the same way).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  constexpr ArrayRef(std::initializer_list<T> l)  // NOLINT
      : data_(l.begin() == l.end() ? nullptr : l.begin()), size_(l.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  constexpr const T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const T* begin() const { return data_; }
  constexpr const T* end() const { return data_ + size_; }
  constexpr const T& operator[](size_t i) const { return data_[i]; }
  std::vector<T> vec() const { return std::vector<T>(begin(), end()); }

 private:
  const T* data_ = nullptr;
  size_t size_ = 0;
};

namespace data {

// ---- Example ---------------------------------------------------------------------------------

/// One example of a dataset: its data and its target (label).
template <class Data = Tensor, class Target = Tensor>
struct Example {
  using DataType = Data;
  using TargetType = Target;

  Example() = default;
  Example(Data data_, Target target_) : data(std::move(data_)), target(std::move(target_)) {}

  Data data;
  Target target;
};

namespace example {
using NoTarget = void;
}  // namespace example

/// An Example without a target; converts to its data.
template <class Data>
struct Example<Data, example::NoTarget> {
  using DataType = Data;
  using TargetType = example::NoTarget;

  Example() = default;
  Example(Data data_) : data(std::move(data_)) {}  // NOLINT: implicit, as libtorch's

  operator Data&() { return data; }              // NOLINT
  operator const Data&() const { return data; }  // NOLINT

  Data data;
};

using TensorExample = Example<Tensor, example::NoTarget>;

// ---- Datasets --------------------------------------------------------------------------------

namespace datasets {

template <class Source, class AppliedTransform>
class MapDataset;
template <class D, class T>
MapDataset<D, T> map(D dataset, T transform);

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

/// A dataset that yields whole batches for a batch request (CRTP: Self is the subclass).
template <class Self, class Batch = std::vector<Example<>>, class BatchRequest = ArrayRef<size_t>>
class BatchDataset {
 public:
  using SelfType = Self;
  using BatchType = Batch;
  using BatchRequestType = BatchRequest;
  /// Stateful datasets (their batches are optionals) are not supported by this layer's loader.
  static constexpr bool is_stateful = detail::is_optional<BatchType>::value;

  virtual ~BatchDataset() = default;
  virtual Batch get_batch(BatchRequest request) = 0;
  /// The number of examples, or nullopt when unknown.
  virtual std::optional<size_t> size() const = 0;

  /// A MapDataset applying `transform` to the batches of (a copy of) this dataset.
  template <class TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) & {
    return datasets::map(static_cast<Self&>(*this), std::move(transform));
  }
  /// The same, moving this dataset into the result.
  template <class TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) && {
    return datasets::map(std::move(static_cast<Self&>(*this)), std::move(transform));
  }
};

/// A random-access dataset: the subclass overrides get(index) and size(); get_batch() calls
/// get() for each index.
template <class Self, class SingleExample = Example<>>
class Dataset : public BatchDataset<Self, std::vector<SingleExample>> {
 public:
  using ExampleType = SingleExample;

  virtual ExampleType get(size_t index) = 0;

  std::vector<ExampleType> get_batch(ArrayRef<size_t> indices) override {
    std::vector<ExampleType> batch;
    batch.reserve(indices.size());
    for (const size_t i : indices) batch.push_back(get(i));
    return batch;
  }
};

/// A dataset applying a transform to the batches of a source dataset.
template <class Source, class AppliedTransform>
class MapDataset
    : public BatchDataset<MapDataset<Source, AppliedTransform>, typename AppliedTransform::OutputBatchType,
                          typename Source::BatchRequestType> {
 public:
  using DatasetType = Source;
  using TransformType = AppliedTransform;
  using BatchRequestType = typename Source::BatchRequestType;
  using OutputBatchType = typename AppliedTransform::OutputBatchType;

  static_assert(!Source::is_stateful,
                "torch::data::datasets::MapDataset: stateful datasets are not supported");

  MapDataset(DatasetType dataset, TransformType transform)
      : dataset_(std::move(dataset)), transform_(std::move(transform)) {}

  OutputBatchType get_batch(BatchRequestType indices) override {
    return transform_.apply_batch(dataset_.get_batch(std::move(indices)));
  }
  std::optional<size_t> size() const override { return dataset_.size(); }

  const Source& dataset() const noexcept { return dataset_; }
  const AppliedTransform& transform() const noexcept { return transform_; }

 private:
  Source dataset_;
  AppliedTransform transform_;
};

/// A MapDataset of `dataset` and `transform`.
template <class D, class T>
MapDataset<D, T> map(D dataset, T transform) {
  static_assert(std::is_same_v<typename D::BatchType, typename T::InputBatchType>,
                "torch::data::datasets::map: the dataset's BatchType does not match the transform's input "
                "type (a Transform<E, ...> takes std::vector<E>; a Stack<> takes std::vector<Example<>>)");
  return MapDataset<D, T>(std::move(dataset), std::move(transform));
}

/// A dataset holding a std::shared_ptr to another: copies (the loader's workers make one each)
/// share the one underlying dataset, whose get_batch() must then be thread-safe.
template <class UnderlyingDataset>
class SharedBatchDataset
    : public BatchDataset<SharedBatchDataset<UnderlyingDataset>, typename UnderlyingDataset::BatchType,
                          typename UnderlyingDataset::BatchRequestType> {
 public:
  using BatchType = typename UnderlyingDataset::BatchType;
  using BatchRequestType = typename UnderlyingDataset::BatchRequestType;

  /* implicit */ SharedBatchDataset(std::shared_ptr<UnderlyingDataset> shared_dataset)  // NOLINT
      : dataset_(std::move(shared_dataset)) {}

  BatchType get_batch(BatchRequestType request) override { return dataset_->get_batch(std::move(request)); }
  std::optional<size_t> size() const override { return dataset_->size(); }

  UnderlyingDataset& operator*() { return *dataset_; }
  const UnderlyingDataset& operator*() const { return *dataset_; }
  UnderlyingDataset* operator->() { return dataset_.get(); }
  const UnderlyingDataset* operator->() const { return dataset_.get(); }

 private:
  std::shared_ptr<UnderlyingDataset> dataset_;
};

/// A SharedBatchDataset over a new UnderlyingDataset(args...).
template <class UnderlyingDataset, class... Args>
SharedBatchDataset<UnderlyingDataset> make_shared_dataset(Args&&... args) {
  return std::make_shared<UnderlyingDataset>(std::forward<Args>(args)...);
}

/// A dataset over one tensor whose first dim indexes the examples (data only, no target).
struct TensorDataset : public Dataset<TensorDataset, TensorExample> {
  explicit TensorDataset(const std::vector<Tensor>& tensors) : TensorDataset(::nabla::stack(tensors)) {}
  explicit TensorDataset(Tensor t) : tensor(std::move(t)) {}
  TensorExample get(size_t index) override { return tensor[static_cast<int64_t>(index)]; }
  std::optional<size_t> size() const override { return static_cast<size_t>(tensor.size(0)); }
  Tensor tensor;
};

/// MNIST from its four IDX files in `root`: train-images-idx3-ubyte, train-labels-idx1-ubyte,
/// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each may also be gzipped, with a .gz name:
/// a nabla extension). Any dataset in that format loads (Fashion-MNIST too). Examples: data
/// float32 [1, 28, 28] scaled to [0, 1], target an int64 scalar. Throws nabla::Error naming the
/// missing or malformed file. Unlike libtorch, the image count is not required to be exactly
/// 60000 / 10000 (images and labels must agree).
class MNIST : public Dataset<MNIST> {
 public:
  enum class Mode { kTrain, kTest };

  explicit MNIST(const std::string& root, Mode mode = Mode::kTrain);

  Example<> get(size_t index) override;
  std::optional<size_t> size() const override;
  bool is_train() const noexcept { return is_train_; }
  /// float32 [N, 1, 28, 28].
  const Tensor& images() const { return images_; }
  /// int64 [N].
  const Tensor& targets() const { return targets_; }

 private:
  Tensor images_, targets_;
  bool is_train_;
};

}  // namespace datasets

// ---- Transforms ------------------------------------------------------------------------------

namespace transforms {

/// A transform of a whole batch into a new batch.
template <class InputBatch, class OutputBatch>
class BatchTransform {
 public:
  using InputBatchType = InputBatch;
  using OutputBatchType = OutputBatch;

  virtual ~BatchTransform() = default;
  virtual OutputBatch apply_batch(InputBatch input_batch) = 0;
};

/// A transform of single examples; apply_batch() applies it to each example of a batch.
template <class Input, class Output>
class Transform : public BatchTransform<std::vector<Input>, std::vector<Output>> {
 public:
  using InputType = Input;
  using OutputType = Output;

  virtual OutputType apply(InputType input) = 0;

  std::vector<Output> apply_batch(std::vector<Input> input_batch) override {
    std::vector<Output> out;
    out.reserve(input_batch.size());
    for (auto& input : input_batch) out.push_back(apply(std::move(input)));
    return out;
  }
};

/// A BatchTransform calling a function on each batch.
template <class Input, class Output = Input>
class BatchLambda : public BatchTransform<Input, Output> {
 public:
  using typename BatchTransform<Input, Output>::InputBatchType;
  using typename BatchTransform<Input, Output>::OutputBatchType;
  using FunctionType = std::function<OutputBatchType(InputBatchType)>;

  explicit BatchLambda(FunctionType function) : function_(std::move(function)) {}
  OutputBatchType apply_batch(InputBatchType input_batch) override {
    return function_(std::move(input_batch));
  }

 private:
  FunctionType function_;
};

/// A Transform calling a function on each example.
template <class Input, class Output = Input>
class Lambda : public Transform<Input, Output> {
 public:
  using typename Transform<Input, Output>::InputType;
  using typename Transform<Input, Output>::OutputType;
  using FunctionType = std::function<Output(Input)>;

  explicit Lambda(FunctionType function) : function_(std::move(function)) {}
  OutputType apply(InputType input) override { return function_(std::move(input)); }

 private:
  FunctionType function_;
};

/// A transform reducing a batch to one value (Stack<> is one).
template <class T, class BatchType = std::vector<T>>
using Collation = BatchTransform<BatchType, T>;
/// A Collation calling a function.
template <class T, class BatchType = std::vector<T>>
using Collate = BatchLambda<BatchType, T>;

/// A Transform of Example<Tensor, Target> that changes the data through operator() and keeps
/// the target.
template <class Target = Tensor>
class TensorTransform : public Transform<Example<Tensor, Target>, Example<Tensor, Target>> {
 public:
  using E = Example<Tensor, Target>;
  using typename Transform<E, E>::InputType;
  using typename Transform<E, E>::OutputType;

  virtual Tensor operator()(Tensor input) = 0;

  OutputType apply(InputType input) override {
    input.data = (*this)(std::move(input.data));
    return input;
  }
};

/// A TensorTransform calling a function on the data.
template <class Target = Tensor>
class TensorLambda : public TensorTransform<Target> {
 public:
  using FunctionType = std::function<Tensor(Tensor)>;

  explicit TensorLambda(FunctionType function) : function_(std::move(function)) {}
  Tensor operator()(Tensor input) override { return function_(std::move(input)); }

 private:
  FunctionType function_;
};

namespace detail {
/// float32 [C, 1, 1] of the values (libtorch's per-channel shape, broadcasting over [C, H, W]).
Tensor channel_tensor(ArrayRef<double> values, const char* what);
}  // namespace detail

/// (data - mean) / stddev, with mean and stddev one value or one per channel (float32, shaped
/// [C, 1, 1] so that they broadcast over [C, H, W] data). Targets are left alone.
template <class Target = Tensor>
struct Normalize : public TensorTransform<Target> {
  /// Throws nabla::Error if either is empty or a stddev is 0.
  Normalize(ArrayRef<double> mean_, ArrayRef<double> stddev_)
      : mean(detail::channel_tensor(mean_, "mean")), stddev(detail::channel_tensor(stddev_, "stddev")) {
    for (const double s : stddev_) {
      NABLA_CHECK(s != 0.0, "torch::data::transforms::Normalize: stddev must not be 0");
    }
  }

  Tensor operator()(Tensor input) override { return input.sub(mean).div(stddev); }

  Tensor mean, stddev;
};

template <class T = Example<>>
struct Stack;

/// Collates examples into one Example: data and targets each stacked along a new first dim.
template <>
struct Stack<Example<>> : public Collation<Example<>> {
  Example<> apply_batch(std::vector<Example<>> examples) override {
    std::vector<Tensor> data, targets;
    data.reserve(examples.size());
    targets.reserve(examples.size());
    for (auto& e : examples) {
      data.push_back(std::move(e.data));
      targets.push_back(std::move(e.target));
    }
    return {::nabla::stack(data), ::nabla::stack(targets)};
  }
};

/// Collates target-less examples into one TensorExample of the stacked data.
template <>
struct Stack<TensorExample> : public Collation<TensorExample> {
  TensorExample apply_batch(std::vector<TensorExample> examples) override {
    std::vector<Tensor> data;
    data.reserve(examples.size());
    for (auto& e : examples) data.push_back(std::move(e.data));
    return ::nabla::stack(data);
  }
};

}  // namespace transforms

// ---- Samplers --------------------------------------------------------------------------------

namespace samplers {

/// Yields the batch requests (indices) of one epoch; reset() starts a new epoch.
template <class BatchRequest = std::vector<size_t>>
class Sampler {
 public:
  using BatchRequestType = BatchRequest;

  virtual ~Sampler() = default;
  /// Starts a new epoch, over `new_size` examples when given.
  virtual void reset(std::optional<size_t> new_size) = 0;
  /// The next batch of at most `batch_size` indices, or nullopt when the epoch is over.
  virtual std::optional<BatchRequest> next(size_t batch_size) = 0;
};

/// 0, 1, ..., size - 1 in order.
class SequentialSampler : public Sampler<> {
 public:
  explicit SequentialSampler(size_t size) : size_(size) {}
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  /// Indices handed out so far this epoch.
  size_t index() const noexcept { return index_; }

 private:
  size_t size_;
  size_t index_ = 0;
};

/// A new random permutation of 0..size-1 each epoch, drawn with randperm from nabla's global
/// generator (so torch::manual_seed makes the orders reproducible). As libtorch's, the
/// constructor draws a permutation and so does every reset(). `index_dtype` must be an integer
/// type; the indices are kept as int64 whichever (libtorch uses it to save memory).
class RandomSampler : public Sampler<> {
 public:
  explicit RandomSampler(int64_t size, ScalarType index_dtype = kInt64);
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return index_; }

 private:
  std::vector<int64_t> indices_;
  size_t index_ = 0;
};

}  // namespace samplers

// ---- DataLoader ------------------------------------------------------------------------------

/// libtorch's DataLoaderOptions: `DataLoaderOptions().batch_size(64).workers(2)`; each setter
/// returns *this, each getter the value.
struct DataLoaderOptions {
  DataLoaderOptions() = default;
  DataLoaderOptions(size_t batch_size) : batch_size_(batch_size) {}  // NOLINT: implicit, as libtorch's

  /// Examples per batch (>= 1).
  DataLoaderOptions& batch_size(size_t v) {
    batch_size_ = v;
    return *this;
  }
  /// Worker threads preparing batches ahead; 0 loads on the caller's thread.
  DataLoaderOptions& workers(size_t v) {
    workers_ = v;
    return *this;
  }
  /// Batches requested ahead from the workers (default 2 * workers).
  DataLoaderOptions& max_jobs(std::optional<size_t> v) {
    max_jobs_ = v;
    return *this;
  }
  /// How long to wait for a worker's batch before throwing nabla::Error.
  DataLoaderOptions& timeout(std::optional<std::chrono::milliseconds> v) {
    timeout_ = v;
    return *this;
  }
  /// Deliver the workers' batches in the sampler's order (default true).
  DataLoaderOptions& enforce_ordering(bool v) {
    enforce_ordering_ = v;
    return *this;
  }
  /// Skip the last batch of an epoch when it is smaller than batch_size.
  DataLoaderOptions& drop_last(bool v) {
    drop_last_ = v;
    return *this;
  }

  const size_t& batch_size() const noexcept { return batch_size_; }
  size_t& batch_size() noexcept { return batch_size_; }
  const size_t& workers() const noexcept { return workers_; }
  size_t& workers() noexcept { return workers_; }
  const std::optional<size_t>& max_jobs() const noexcept { return max_jobs_; }
  std::optional<size_t>& max_jobs() noexcept { return max_jobs_; }
  const std::optional<std::chrono::milliseconds>& timeout() const noexcept { return timeout_; }
  std::optional<std::chrono::milliseconds>& timeout() noexcept { return timeout_; }
  const bool& enforce_ordering() const noexcept { return enforce_ordering_; }
  bool& enforce_ordering() noexcept { return enforce_ordering_; }
  const bool& drop_last() const noexcept { return drop_last_; }
  bool& drop_last() noexcept { return drop_last_; }

 private:
  size_t batch_size_ = 1;
  size_t workers_ = 0;
  std::optional<size_t> max_jobs_;
  std::optional<std::chrono::milliseconds> timeout_;
  bool enforce_ordering_ = true;
  bool drop_last_ = false;
};

/// DataLoaderOptions with the defaults resolved (max_jobs = 2 * workers), as a loader's options().
struct FullDataLoaderOptions {
  explicit FullDataLoaderOptions(const DataLoaderOptions& o)
      : batch_size(o.batch_size()),
        workers(o.workers()),
        max_jobs(o.max_jobs().value_or(2 * o.workers())),
        timeout(o.timeout()),
        enforce_ordering(o.enforce_ordering()),
        drop_last(o.drop_last()) {}

  size_t batch_size;
  size_t workers;
  size_t max_jobs;
  std::optional<std::chrono::milliseconds> timeout;
  bool enforce_ordering;
  bool drop_last;
};

/// What a loader throws on the caller's thread for an exception a worker thread met preparing
/// that batch: "Caught exception in DataLoader worker thread. Original message: ...". A
/// nabla::Error (so also a std::exception); original_exception is the worker's exception.
struct WorkerException : public ::nabla::Error {
  explicit WorkerException(std::exception_ptr original);
  std::exception_ptr original_exception;
  std::string message;
};

/// The input iterator of a loader's epoch; copies share one position. It fetches its first
/// batch lazily (when first compared or dereferenced) and compares equal to end() once the
/// epoch is over.
template <class Batch>
class Iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  using pointer = Batch*;
  using reference = Batch&;

  /// The past-the-end (sentinel) iterator.
  Iterator() = default;
  explicit Iterator(std::function<std::optional<Batch>()> next_batch)
      : impl_(std::make_shared<Impl>(std::move(next_batch))) {}

  Iterator& operator++() {
    NABLA_CHECK(impl_ != nullptr,
                "torch::data::Iterator: incrementing the DataLoader's past-the-end iterator");
    impl_->initialize();
    NABLA_CHECK(impl_->batch.has_value(),
                "torch::data::Iterator: attempted to increment an iterator past the end");
    impl_->batch.reset();  // the old batch goes before the next one is fetched (memory)
    impl_->batch = impl_->next_batch();
    return *this;
  }
  Batch& operator*() const {
    NABLA_CHECK(impl_ != nullptr,
                "torch::data::Iterator: dereferencing the DataLoader's past-the-end iterator");
    impl_->initialize();
    NABLA_CHECK(impl_->batch.has_value(),
                "torch::data::Iterator: attempted to dereference an iterator that is past the end");
    return *impl_->batch;
  }
  Batch* operator->() const { return &**this; }

  /// Two sentinels are equal; a sentinel and a valid iterator once the epoch is over; two valid
  /// iterators when they are copies of one another.
  bool operator==(const Iterator& other) const {
    if (impl_ == nullptr && other.impl_ == nullptr) return true;
    if (impl_ != nullptr && other.impl_ != nullptr) return impl_ == other.impl_;
    const Impl& valid = impl_ != nullptr ? *impl_ : *other.impl_;
    valid.initialize();
    return !valid.batch.has_value();
  }

 private:
  struct Impl {
    explicit Impl(std::function<std::optional<Batch>()> f) : next_batch(std::move(f)) {}
    void initialize() const {
      if (!initialized) {
        initialized = true;
        batch = next_batch();
      }
    }
    std::function<std::optional<Batch>()> next_batch;
    mutable std::optional<Batch> batch;
    mutable bool initialized = false;
  };
  std::shared_ptr<Impl> impl_;
};

namespace detail {
[[noreturn]] void throw_timeout(std::chrono::milliseconds timeout);
void check_loader_options(const FullDataLoaderOptions& options, std::optional<size_t> dataset_size);
}  // namespace detail

/// libtorch's loader of a stateless dataset: the sampler's batch requests, turned into batches
/// by the dataset (its get_batch()), on the caller's thread (workers == 0) or on `workers`
/// threads that each own a copy of the dataset and prepare up to max_jobs batches ahead.
/// Each begin() starts an epoch (the sampler is reset). With enforce_ordering (the default)
/// the batches come in the sampler's order whatever the threads' timing. An exception from a
/// worker is rethrown, as a WorkerException, when its batch is due. join() or the destructor
/// stops and joins the threads (a batch being prepared is finished first, then dropped).
/// Used from one thread.
template <class Dataset, class Sampler>
class StatelessDataLoader {
 public:
  using BatchType = typename Dataset::BatchType;
  using BatchRequestType = typename Sampler::BatchRequestType;

  static_assert(!Dataset::is_stateful,
                "torch::data: stateful datasets are not supported by nabla's torch_compat");

  StatelessDataLoader(Dataset dataset, DataLoaderOptions options, Sampler sampler)
      : options_(options), sampler_(std::move(sampler)) {
    detail::check_loader_options(options_, dataset.size());
    if (options_.workers == 0) {
      main_thread_dataset_ = std::make_unique<Dataset>(std::move(dataset));
      return;
    }
    try {
      // Each worker owns a copy of the dataset, as in libtorch (so get() need not be
      // thread-safe; copies of a dataset holding tensors share their storage).
      for (size_t w = 0; w < options_.workers; ++w) {
        workers_.emplace_back([this, copy = dataset]() mutable { worker_loop(copy); });
      }
    } catch (...) {
      join();
      throw;
    }
  }

  ~StatelessDataLoader() { join(); }
  StatelessDataLoader(const StatelessDataLoader&) = delete;
  StatelessDataLoader& operator=(const StatelessDataLoader&) = delete;

  /// Starts an epoch: resets the sampler and queues the first max_jobs requests.
  Iterator<BatchType> begin() {
    reset();
    return Iterator<BatchType>([this] { return next(); });
  }
  Iterator<BatchType> end() { return Iterator<BatchType>(); }

  /// Stops and joins the worker threads (idempotent); the loader yields no batch afterwards.
  void join() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
      jobs_.clear();
      results_.clear();
    }
    job_ready_.notify_all();
    for (auto& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

  const FullDataLoaderOptions& options() const noexcept { return options_; }

 private:
  struct Job {
    uint64_t epoch;
    size_t sequence;
    BatchRequestType request;
  };
  struct Result {
    std::optional<BatchType> batch;
    std::exception_ptr error;
  };

  void reset() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++epoch_;  // results of jobs still running for an earlier loop are dropped by their worker
      jobs_.clear();
      results_.clear();
    }
    sampler_.reset();
    pushed_ = 0;
    popped_ = 0;
    if (options_.workers > 0) prefetch(options_.max_jobs);
  }

  std::optional<BatchRequestType> next_request() {
    auto indices = sampler_.next(options_.batch_size);
    if (!indices || (indices->size() < options_.batch_size && options_.drop_last)) return std::nullopt;
    return indices;
  }

  void prefetch(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      auto request = next_request();
      if (!request) return;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_.push_back(Job{epoch_, pushed_++, std::move(*request)});
      }
      job_ready_.notify_one();
    }
  }

  std::optional<BatchType> next() {
    if (options_.workers == 0) {
      if (auto request = next_request()) return main_thread_dataset_->get_batch(std::move(*request));
      return std::nullopt;
    }
    // Nothing in flight (max_jobs 0, or a loop resumed after a worker's exception): ask for one.
    if (popped_ == pushed_) prefetch(1);
    if (popped_ == pushed_) return std::nullopt;
    Result result;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto ready = [this] {
        return quit_ || (options_.enforce_ordering ? results_.count(popped_) > 0 : !results_.empty());
      };
      if (options_.timeout) {
        if (!result_ready_.wait_for(lock, *options_.timeout, ready)) detail::throw_timeout(*options_.timeout);
      } else {
        result_ready_.wait(lock, ready);
      }
      if (quit_) return std::nullopt;
      auto it = options_.enforce_ordering ? results_.find(popped_) : results_.begin();
      result = std::move(it->second);
      results_.erase(it);
      ++popped_;
    }
    if (result.error) throw WorkerException(result.error);
    prefetch(1);
    return std::move(result.batch);
  }

  void worker_loop(Dataset& dataset) {
    for (;;) {
      std::optional<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        job_ready_.wait(lock, [this] { return quit_ || !jobs_.empty(); });
        if (quit_) return;
        job.emplace(std::move(jobs_.front()));
        jobs_.pop_front();
      }
      Result result;
      try {
        result.batch.emplace(dataset.get_batch(std::move(job->request)));
      } catch (...) {
        result.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        // A result of an earlier loop (or after join) is dropped: `result` dies outside the lock.
        if (quit_ || job->epoch != epoch_) continue;
        results_.emplace(job->sequence, std::move(result));
      }
      result_ready_.notify_all();
    }
  }

  const FullDataLoaderOptions options_;
  Sampler sampler_;
  std::unique_ptr<Dataset> main_thread_dataset_;
  size_t pushed_ = 0;  // requests queued this epoch (caller's thread only)
  size_t popped_ = 0;  // batches delivered this epoch (caller's thread only)

  std::mutex mutex_;
  std::condition_variable job_ready_, result_ready_;
  std::deque<Job> jobs_;
  std::map<size_t, Result> results_;  // by sequence number
  uint64_t epoch_ = 0;
  bool quit_ = false;
  std::vector<std::thread> workers_;  // last: the threads start after everything they use
};

/// A loader of `dataset` with `sampler`.
template <class Dataset, class Sampler>
std::enable_if_t<!Dataset::is_stateful, std::unique_ptr<StatelessDataLoader<Dataset, Sampler>>>
make_data_loader(Dataset dataset, Sampler sampler, DataLoaderOptions options) {
  return std::make_unique<StatelessDataLoader<Dataset, Sampler>>(std::move(dataset), std::move(options),
                                                                 std::move(sampler));
}

namespace detail {
[[noreturn]] void throw_unsized_dataset();
}  // namespace detail

/// A loader of `dataset` with a Sampler made from the dataset's size: by default a
/// RandomSampler (shuffling, as libtorch), or make_data_loader<SequentialSampler>(...).
/// `options` may be a batch size. Throws nabla::Error if size() is nullopt.
template <class Sampler = samplers::RandomSampler, class Dataset,
          class = std::enable_if_t<std::is_constructible_v<Sampler, size_t> && !Dataset::is_stateful>>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(
    Dataset dataset, DataLoaderOptions options = DataLoaderOptions()) {
  const std::optional<size_t> size = dataset.size();
  if (!size) detail::throw_unsized_dataset();
  return make_data_loader(std::move(dataset), Sampler(*size), std::move(options));
}

}  // namespace data
}  // namespace nabla::torch_compat
