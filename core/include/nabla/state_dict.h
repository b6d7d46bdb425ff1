// nabla::StateDict: an ordered name -> tensor map, as PyTorch's state_dict (insertion order
// is kept; names are unique).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

class StateDict {
 public:
  using Item = std::pair<std::string, Tensor>;

  /// Adds a tensor; throws nabla::Error when the name is already present.
  void insert(std::string name, Tensor t);
  /// Adds or replaces.
  void set(const std::string& name, Tensor t);
  bool contains(std::string_view name) const;
  /// The tensor of `name`, or nullptr.
  const Tensor* find(std::string_view name) const;
  /// The tensor of `name`; throws nabla::Error naming it when absent.
  const Tensor& at(std::string_view name) const;
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::vector<std::string> keys() const;
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace nabla
