// Dataset's default batching and TensorDataset: samples held as rows of two tensors.
#include <string>

#include "nabla/data.h"
#include "nabla/factories.h"
#include "nabla/ops.h"

namespace nabla::data {

Batch Dataset::get_batch(const std::vector<int64_t>& indices) const {
  NABLA_CHECK(!indices.empty(), "Dataset::get_batch: expected at least one index");
  std::vector<Tensor> data, targets;
  data.reserve(indices.size());
  targets.reserve(indices.size());
  for (const int64_t i : indices) {
    Example e = get(i);
    NABLA_CHECK(e.data.defined(), "Dataset::get_batch: get({}) returned an undefined data tensor", i);
    data.push_back(std::move(e.data));
    targets.push_back(std::move(e.target));
  }
  Batch b;
  b.data = stack(data, 0);
  // Unlabelled datasets may leave every target undefined; a mix cannot be stacked.
  const bool any_target = targets.front().defined();
  for (std::size_t k = 0; k < targets.size(); ++k) {
    NABLA_CHECK(targets[k].defined() == any_target,
                "Dataset::get_batch: get({}) returned {} target while get({}) did not", indices[k],
                any_target ? "no" : "a", indices.front());
  }
  if (any_target) b.target = stack(targets, 0);
  return b;
}

TensorDataset::TensorDataset(Tensor data, Tensor targets)
    : data_(std::move(data)), targets_(std::move(targets)) {
  NABLA_CHECK(data_.defined(), "TensorDataset: the data tensor is undefined");
  NABLA_CHECK(targets_.defined(), "TensorDataset: the targets tensor is undefined");
  NABLA_CHECK(data_.dim() >= 1,
              "TensorDataset: data must have a first dim indexing the samples, got shape {}",
              data_.shape_str());
  NABLA_CHECK(targets_.dim() >= 1,
              "TensorDataset: targets must have a first dim indexing the samples, got shape {}",
              targets_.shape_str());
  NABLA_CHECK(data_.size(0) == targets_.size(0),
              "TensorDataset: data of shape {} has {} samples but targets of shape {} have {}",
              data_.shape_str(), data_.size(0), targets_.shape_str(), targets_.size(0));
}

int64_t TensorDataset::size() const { return data_.size(0); }

Example TensorDataset::get(int64_t i) const {
  NABLA_CHECK(i >= 0 && i < size(), "TensorDataset::get: index {} is out of range for {} samples", i, size());
  return {data_.select(0, i), targets_.select(0, i)};
}

Batch TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  // Checked here so that the message names the dataset rather than index_select.
  const int64_t n = size();
  for (const int64_t i : indices) {
    NABLA_CHECK(i >= 0 && i < n, "TensorDataset::get_batch: index {} is out of range for {} samples", i, n);
  }
  const Tensor index = from_vector<int64_t>(indices);
  Batch b;
  b.data = index_select(data_, 0, index);
  b.target = index_select(targets_, 0, index);
  return b;
}

}  // namespace nabla::data
