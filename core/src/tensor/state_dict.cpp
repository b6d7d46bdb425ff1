// StateDict: ordered name -> tensor map.
#include "nabla/state_dict.h"

namespace nabla {

void StateDict::insert(std::string name, Tensor t) {
  NABLA_CHECK(index_.find(name) == index_.end(), "StateDict: duplicate name '{}'", name);
  index_.emplace(name, items_.size());
  items_.emplace_back(std::move(name), std::move(t));
}

void StateDict::set(const std::string& name, Tensor t) {
  auto it = index_.find(name);
  if (it == index_.end())
    insert(name, std::move(t));
  else
    items_[it->second].second = std::move(t);
}

bool StateDict::contains(std::string_view name) const {
  return index_.find(std::string(name)) != index_.end();
}

const Tensor* StateDict::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

const Tensor& StateDict::at(std::string_view name) const {
  const Tensor* t = find(name);
  NABLA_CHECK(t != nullptr, "StateDict: no tensor named '{}'", name);
  return *t;
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> k;
  k.reserve(items_.size());
  for (const Item& i : items_) k.push_back(i.first);
  return k;
}

}  // namespace nabla
