// The non-template parts of torch::data in nabla/torch_compat/data.h: MNIST's loading, the
// samplers, Normalize's per-channel tensors, WorkerException and the loaders' errors.
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "nabla/data.h"
#include "nabla/torch_compat/data.h"

namespace nabla::torch_compat::data {

// ---- MNIST -----------------------------------------------------------------------------------

namespace datasets {
namespace {

// `<root>/<name>`, or its gzipped `<name>.gz` (the Debian datasets ship those; read_idx
// inflates them).
std::string find_idx_file(const std::string& root, const std::string& name, const char* what) {
  std::error_code ec;
  for (const char* suffix : {"", ".gz"}) {
    const std::filesystem::path p = std::filesystem::path(root) / (name + suffix);
    if (std::filesystem::is_regular_file(p, ec)) return p.string();
  }
  NABLA_FAIL("torch::data::datasets::MNIST: error opening {} file at {} (nor {}.gz): no such file", what,
             (std::filesystem::path(root) / name).string(), name);
}

}  // namespace

MNIST::MNIST(const std::string& root, Mode mode) : is_train_(mode == Mode::kTrain) {
  // libtorch's file names (the ones yann.lecun.com's archives unpack to).
  const std::string split = is_train_ ? "train" : "t10k";
  const std::string images_path = find_idx_file(root, split + "-images-idx3-ubyte", "images");
  const std::string targets_path = find_idx_file(root, split + "-labels-idx1-ubyte", "targets");
  const Tensor images = ::nabla::data::read_idx(images_path);
  const Tensor targets = ::nabla::data::read_idx(targets_path);
  NABLA_CHECK(images.dtype() == kUInt8 && images.dim() == 3 && images.size(1) == 28 && images.size(2) == 28,
              "torch::data::datasets::MNIST: {}: expected uint8 images of shape [N, 28, 28], got {} {}",
              images_path, dtype_name(images.dtype()), images.shape_str());
  NABLA_CHECK(targets.dtype() == kUInt8 && targets.dim() == 1,
              "torch::data::datasets::MNIST: {}: expected uint8 labels of shape [N], got {} {}", targets_path,
              dtype_name(targets.dtype()), targets.shape_str());
  NABLA_CHECK(images.size(0) == targets.size(0),
              "torch::data::datasets::MNIST: {} holds {} images but {} holds {} labels", images_path,
              images.size(0), targets_path, targets.size(0));
  // As libtorch: pixels / 255 as float32 with one channel, labels as int64.
  images_ = images.to(kFloat32).div(255.0).view({images.size(0), 1, 28, 28});
  targets_ = targets.to(kInt64);
}

Example<> MNIST::get(size_t index) {
  const auto n = static_cast<size_t>(images_.size(0));
  NABLA_CHECK(index < n, "torch::data::datasets::MNIST::get: index {} is out of range for {} examples", index,
              n);
  const auto i = static_cast<int64_t>(index);
  return {images_[i], targets_[i]};
}

std::optional<size_t> MNIST::size() const { return static_cast<size_t>(images_.size(0)); }

}  // namespace datasets

// ---- Transforms ------------------------------------------------------------------------------

namespace transforms::detail {

Tensor channel_tensor(ArrayRef<double> values, const char* what) {
  NABLA_CHECK(!values.empty(),
              "torch::data::transforms::Normalize: {} is empty (give one value or one per channel)", what);
  std::vector<float> v(values.begin(), values.end());
  return from_vector(v, Shape{static_cast<int64_t>(v.size()), 1, 1});
}

}  // namespace transforms::detail

// ---- Samplers --------------------------------------------------------------------------------

namespace samplers {

void SequentialSampler::reset(std::optional<size_t> new_size) {
  if (new_size) size_ = *new_size;
  index_ = 0;
}

std::optional<std::vector<size_t>> SequentialSampler::next(size_t batch_size) {
  const size_t remaining = size_ - index_;
  if (remaining == 0) return std::nullopt;
  std::vector<size_t> batch(std::min(batch_size, remaining));
  std::iota(batch.begin(), batch.end(), index_);
  index_ += batch.size();
  return batch;
}

namespace {
std::vector<int64_t> permutation(size_t n) {
  return randperm(static_cast<int64_t>(n), TensorOptions().dtype(kInt64)).to_vector<int64_t>();
}
}  // namespace

RandomSampler::RandomSampler(int64_t size, ScalarType index_dtype) {
  NABLA_CHECK(size >= 0, "torch::data::samplers::RandomSampler: size must be non-negative, got {}", size);
  NABLA_CHECK(is_integral(index_dtype),
              "torch::data::samplers::RandomSampler: index_dtype must be an integer type, got {}",
              dtype_name(index_dtype));
  indices_ = permutation(static_cast<size_t>(size));
}

void RandomSampler::reset(std::optional<size_t> new_size) {
  indices_ = permutation(new_size.value_or(indices_.size()));
  index_ = 0;
}

std::optional<std::vector<size_t>> RandomSampler::next(size_t batch_size) {
  const size_t remaining = indices_.size() - index_;
  if (remaining == 0) return std::nullopt;
  const size_t n = std::min(batch_size, remaining);
  std::vector<size_t> batch(indices_.begin() + static_cast<std::ptrdiff_t>(index_),
                            indices_.begin() + static_cast<std::ptrdiff_t>(index_ + n));
  index_ += n;
  return batch;
}

}  // namespace samplers

// ---- DataLoader ------------------------------------------------------------------------------

namespace {
std::string worker_message(const std::exception_ptr& original) {
  std::string message = "Caught exception in DataLoader worker thread.";
  try {
    std::rethrow_exception(original);
  } catch (const std::exception& e) {
    message += " Original message: ";
    message += e.what();
  } catch (...) {
    message += " (not a std::exception)";
  }
  return message;
}
}  // namespace

WorkerException::WorkerException(std::exception_ptr original)
    : ::nabla::Error(worker_message(original)), original_exception(std::move(original)), message(what()) {}

namespace detail {

void throw_timeout(std::chrono::milliseconds timeout) {
  NABLA_FAIL("torch::data: timeout in DataLoader queue while waiting for next batch (timeout was {} ms)",
             timeout.count());
}

void check_loader_options(const FullDataLoaderOptions& options, std::optional<size_t> dataset_size) {
  NABLA_CHECK(options.batch_size > 0, "torch::data::make_data_loader: batch_size must be at least 1, got 0");
  NABLA_CHECK(
      !dataset_size || *dataset_size > 0,
      "torch::data::make_data_loader: the dataset is empty (its size() is 0): there is no batch to load");
}

void throw_unsized_dataset() {
  NABLA_FAIL(
      "torch::data::make_data_loader: Expected the dataset to be sized in order to construct the Sampler "
      "(its "
      "size() is nullopt); pass a sampler yourself: make_data_loader(dataset, sampler, options)");
}

}  // namespace detail
}  // namespace nabla::torch_compat::data
