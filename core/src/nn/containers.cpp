// ModuleList, ModuleDict and Functional (nabla/nn/containers.h). Each keeps its own ordered copy of what it
// holds next to Module's children, so list[i] and dict[key] need no name parsing; the two
// change together in every method here.
#include "nabla/nn/containers.h"

#include <fmt/ranges.h>

#include <algorithm>

namespace nabla::nn {

void ModuleList::push_back(std::shared_ptr<Module> module) {
  NABLA_CHECK(module != nullptr, "ModuleList::push_back: the module is null");
  add_child(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

void ModuleList::insert(std::size_t index, std::shared_ptr<Module> module) {
  NABLA_CHECK(module != nullptr, "ModuleList::insert: the module is null");
  NABLA_CHECK(index <= modules_.size(),
              "ModuleList::insert: index {} is out of range for a list of {} modules", index,
              modules_.size());
  // children are named by position: unregister the tail and register it again one further on
  for (std::size_t i = modules_.size(); i-- > index;) remove_child(std::to_string(i));
  modules_.insert(modules_.begin() + static_cast<std::ptrdiff_t>(index), std::move(module));
  for (std::size_t i = index; i < modules_.size(); ++i) add_child(std::to_string(i), modules_[i]);
}

const std::shared_ptr<Module>& ModuleList::ptr(std::size_t i) const {
  NABLA_CHECK(i < modules_.size(), "ModuleList: index {} is out of range for a list of {} modules", i,
              modules_.size());
  return modules_[i];
}

void ModuleDict::insert(const std::string& key, std::shared_ptr<Module> module) {
  NABLA_CHECK(module != nullptr, "ModuleDict::insert: the module for key '{}' is null", key);
  const auto it =
      std::find_if(items_.begin(), items_.end(), [&](const Item& item) { return item.first == key; });
  if (it != items_.end()) {
    replace_child(key, module);
    it->second = std::move(module);
    return;
  }
  add_child(key, module);  // checks the key as a module name
  items_.emplace_back(key, std::move(module));
}

void ModuleDict::update(const std::vector<Item>& items) {
  for (const auto& [key, module] : items) insert(key, module);
}

std::shared_ptr<Module> ModuleDict::pop(const std::string& key) {
  const auto it =
      std::find_if(items_.begin(), items_.end(), [&](const Item& item) { return item.first == key; });
  NABLA_CHECK(it != items_.end(), "ModuleDict::pop: no key '{}' (keys: [{}])", key, fmt::join(keys(), ", "));
  std::shared_ptr<Module> module = std::move(it->second);
  items_.erase(it);
  remove_child(key);
  return module;
}

void ModuleDict::clear() {
  for (const auto& item : items_) remove_child(item.first);
  items_.clear();
}

bool ModuleDict::contains(const std::string& key) const {
  return std::any_of(items_.begin(), items_.end(), [&](const Item& item) { return item.first == key; });
}

const std::shared_ptr<Module>& ModuleDict::operator[](const std::string& key) const {
  const auto it =
      std::find_if(items_.begin(), items_.end(), [&](const Item& item) { return item.first == key; });
  NABLA_CHECK(it != items_.end(), "ModuleDict: no key '{}' (keys: [{}])", key, fmt::join(keys(), ", "));
  return it->second;
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& item : items_) out.push_back(item.first);
  return out;
}

std::vector<std::shared_ptr<Module>> ModuleDict::values() const {
  std::vector<std::shared_ptr<Module>> out;
  out.reserve(items_.size());
  for (const auto& item : items_) out.push_back(item.second);
  return out;
}

Functional::Functional(Function function) : Module("Functional"), function_(std::move(function)) {
  NABLA_CHECK(static_cast<bool>(function_), "Functional: the function is empty");
}

}  // namespace nabla::nn
