// Module containers without a forward of their own, as libtorch's and PyTorch's: ModuleList
// (children "0", "1", ... in order) and ModuleDict (children under string keys, in insertion
// order). They register what they hold, so parameters(), state_dict(), to(), train() reach it;
// the owner runs the children itself. Calling forward on one throws "not implemented".
// And Functional, libtorch's wrapper of a function as a module (a step of a Sequential).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/error.h"
#include "nabla/nn/holder.h"
#include "nabla/nn/module.h"

namespace nabla::nn {

namespace detail {
/// The shared_ptr of a module given as a shared_ptr or a holder.
template <class M>
std::shared_ptr<Module> module_ptr(const std::shared_ptr<M>& m) {
  return m;
}
template <class M>
std::shared_ptr<Module> module_ptr(const ModuleHolder<M>& m) {
  return m.ptr();
}
/// `module` cast to M, or an Error naming both types (container accessors at<M>()).
template <class M>
M& module_as(const std::shared_ptr<Module>& module, const char* container, const std::string& where) {
  auto* p = dynamic_cast<M*>(module.get());
  NABLA_CHECK(p != nullptr, "{}: the module at {} is a {}, not a {}", container, where, module->type_name(),
              demangle(typeid(M).name()));
  return *p;
}
}  // namespace detail

/// A list of modules: `ModuleList(Linear(3, 4), ReLU())`, push_back, insert, extend, list[i],
/// at<Linear>(i), range-for over the shared_ptrs.
class ModuleList : public Module {
 public:
  using Iterator = std::vector<std::shared_ptr<Module>>::const_iterator;

  ModuleList() : Module("ModuleList") {}
  template <class... Ms>
  requires(sizeof...(Ms) > 0 &&
           (detail::ModulePointerOrHolder<Ms> && ...)) explicit ModuleList(Ms&&... modules)
      : ModuleList() {
    (push_back(detail::module_ptr(modules)), ...);
  }

  void push_back(std::shared_ptr<Module> module);
  template <class M>
  void push_back(const ModuleHolder<M>& module) {
    push_back(module.ptr());
  }
  template <class M>
  requires(std::is_base_of_v<Module, M> &&
           !std::is_same_v<M, Module>) void push_back(std::shared_ptr<M> module) {
    push_back(std::shared_ptr<Module>(std::move(module)));
  }
  /// Inserts before position `index` (0 <= index <= size()); the children after it are renamed
  /// (their state_dict names shift, as in libtorch).
  void insert(std::size_t index, std::shared_ptr<Module> module);
  template <class M>
  void insert(std::size_t index, const ModuleHolder<M>& module) {
    insert(index, module.ptr());
  }
  /// Appends every module of another list (or any range of shared_ptrs or holders).
  template <class Container>
  void extend(const Container& modules) {
    for (const auto& m : modules) push_back(detail::module_ptr(m));
  }

  std::size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  /// The i-th module; throws Error when i >= size().
  const std::shared_ptr<Module>& ptr(std::size_t i) const;
  const std::shared_ptr<Module>& operator[](std::size_t i) const { return ptr(i); }
  /// The i-th module as an M (Error if it is not one).
  template <class M>
  M& at(std::size_t i) const {
    return detail::module_as<M>(ptr(i), "ModuleList", "index " + std::to_string(i));
  }
  Iterator begin() const { return modules_.begin(); }
  Iterator end() const { return modules_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

/// Modules under string keys, in insertion order: `ModuleDict({{"conv", conv}, {"fc", fc}})`,
/// dict["fc"], at<Linear>("fc"), contains, keys, values, items, update, pop, clear. Inserting an
/// existing key replaces that module in place (its position and state_dict names stay).
class ModuleDict : public Module {
 public:
  using Item = std::pair<std::string, std::shared_ptr<Module>>;
  using Iterator = std::vector<Item>::const_iterator;

  ModuleDict() : Module("ModuleDict") {}
  explicit ModuleDict(const std::vector<Item>& items) : ModuleDict() { update(items); }

  /// Adds (or replaces) `key`; keys follow the rules of module names (no '.', not empty).
  void insert(const std::string& key, std::shared_ptr<Module> module);
  template <class M>
  void insert(const std::string& key, const ModuleHolder<M>& module) {
    insert(key, module.ptr());
  }
  void update(const std::vector<Item>& items);
  void update(const ModuleDict& other) { update(other.items_); }
  /// Removes `key` and returns its module; Error when absent.
  std::shared_ptr<Module> pop(const std::string& key);
  void clear();

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  bool contains(const std::string& key) const;
  /// The module under `key`; Error (listing the keys) when absent.
  const std::shared_ptr<Module>& operator[](const std::string& key) const;
  template <class M>
  M& at(const std::string& key) const {
    return detail::module_as<M>((*this)[key], "ModuleDict", "key '" + key + "'");
  }
  std::vector<std::string> keys() const;
  std::vector<std::shared_ptr<Module>> values() const;
  const std::vector<Item>& items() const { return items_; }
  Iterator begin() const { return items_.begin(); }
  Iterator end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
};

/// A function of one tensor as a parameterless module, as libtorch's torch::nn::Functional:
/// `Sequential(Linear(4, 8), Functional(torch::relu), Functional(torch::leaky_relu, 0.2))`.
/// Extra arguments are bound after the tensor. (A name with several overloads must be picked
/// by a cast or wrapped in a lambda, as in libtorch.)
class Functional : public Module {
 public:
  using Function = std::function<Tensor(Tensor)>;
  explicit Functional(Function function);
  template <class F, class Arg, class... Args>
  Functional(F function, Arg arg, Args... args)
      : Functional(
            Function([function, arg, args...](Tensor x) { return function(std::move(x), arg, args...); })) {}
  Tensor forward(const Tensor& x) override { return function_(x); }

 private:
  Function function_;
};

}  // namespace nabla::nn
