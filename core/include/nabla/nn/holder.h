// nabla::nn::ModuleHolder: a value-semantics handle around a std::shared_ptr to a module, as
// libtorch's torch::nn::ModuleHolder (the `torch::nn::Linear` of libtorch's C++ frontend, whose
// class is `LinearImpl`). Copies share the module; `Holder h{nullptr}` is empty until assigned;
// h->member, *h, h.get(), h.ptr(), `if (h)`, and h(args...) calls the held class's own
// forward(args...), so a forward of any signature (by value, several arguments) works.
// NABLA_MODULE(Name) declares the holder `Name` of a user's `NameImpl`, as libtorch's
// TORCH_MODULE (which nabla/torch_compat.h defines). nabla's own API does not need holders:
// its layers are made with std::make_shared and called as (*m)(x).
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "nabla/error.h"
#include "nabla/nn/module.h"

namespace nabla::nn {

template <class Contained>
class ModuleHolder;

namespace detail {
template <class T>
struct is_shared_ptr : std::false_type {};
template <class T>
struct is_shared_ptr<std::shared_ptr<T>> : std::true_type {};

template <class M>
std::true_type holder_base_test(const ModuleHolder<M>*);
std::false_type holder_base_test(...);
/// T is a ModuleHolder<M> or a class derived from one (NABLA_MODULE's holders).
template <class T>
inline constexpr bool is_module_holder_v =
    decltype(holder_base_test(std::declval<const std::remove_cvref_t<T>*>()))::value;

/// T (after decay) is a std::shared_ptr to a Module, or a holder of one.
template <class T>
concept ModulePointerOrHolder = is_module_holder_v<T> ||
    (is_shared_ptr<std::remove_cvref_t<T>>::value&&
         std::is_base_of_v<Module, typename std::remove_cvref_t<T>::element_type>);
}  // namespace detail

template <class Contained>
class ModuleHolder {
  static_assert(std::is_base_of_v<Module, Contained>,
                "ModuleHolder: the held type must derive from nabla::nn::Module");

 public:
  using ContainedType = Contained;

  /// Default-constructs the module, where it has a default constructor (`ReLU relu;`); a
  /// holder of a module without one (Linear) is declared `Linear fc{nullptr};`.
  ModuleHolder() requires std::is_default_constructible_v<Contained> : impl_(std::make_shared<Contained>()) {}
  /// An empty holder: using it throws until a module is assigned.
  ModuleHolder(std::nullptr_t) {}  // NOLINT: implicit, as libtorch's
  /// Constructs the module from the arguments: `Linear(320, 50)`, `Sequential(Linear(3, 4))`
  /// (a lone nullptr, holder or shared_ptr of the held class goes to the other constructors).
  template <class Head, class... Tail>
  requires(sizeof...(Tail) > 0 ||
           !(std::is_same_v<std::remove_cvref_t<Head>, std::nullptr_t> ||
             std::is_base_of_v<ModuleHolder, std::remove_cvref_t<Head>> ||
             std::is_convertible_v<Head, std::shared_ptr<Contained>>)) explicit ModuleHolder(Head&& head,
                                                                                             Tail&&... tail)
      : impl_(std::make_shared<Contained>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}
  /// Holds an existing module (what register_module returns).
  template <class M>
  requires std::is_base_of_v<Contained, M> ModuleHolder(std::shared_ptr<M> module)
      : impl_(std::move(module)) {}  // NOLINT: implicit, as libtorch's

  /// True when a module is held.
  explicit operator bool() const noexcept { return impl_ != nullptr; }
  bool is_empty() const noexcept { return impl_ == nullptr; }

  Contained* operator->() const { return get(); }
  Contained& operator*() const { return *get(); }
  /// The module; throws nabla::Error on an empty holder.
  Contained* get() const {
    NABLA_CHECK(impl_ != nullptr,
                "ModuleHolder<{}>: accessing an empty module holder (made from nullptr; assign it a "
                "module first, e.g. `fc = register_module(\"fc\", Linear(...))`)",
                detail::demangle(typeid(Contained).name()));
    return impl_.get();
  }
  /// The shared_ptr (empty for an empty holder).
  const std::shared_ptr<Contained>& ptr() const { return impl_; }

  /// The held class's own forward(args...), not a virtual of Module: so a forward taking its
  /// argument by value, several arguments, or returning something else than a Tensor is
  /// reached as written. A forward that returns a Tensor also runs the module's hooks (its
  /// input is the argument when there is a single tensor one, undefined otherwise).
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    Contained& m = *get();
    using Result = decltype(m.forward(std::forward<Args>(args)...));
    if constexpr (sizeof...(Args) == 1 && (std::is_same_v<std::remove_cvref_t<Args>, Tensor> && ...) &&
                  std::is_same_v<Result, Tensor>) {
      const Tensor x = (args, ...);
      Tensor y = m.forward(x);
      return m.run_hooks(x, std::move(y));
    } else if constexpr (std::is_same_v<Result, Tensor>) {
      Tensor y = m.forward(std::forward<Args>(args)...);
      return m.run_hooks(Tensor(), std::move(y));
    } else {
      return m.forward(std::forward<Args>(args)...);
    }
  }

  /// The held module's operator[] (Sequential's: the i-th child).
  template <class Arg>
  decltype(auto) operator[](Arg&& arg) const {
    return (*get())[std::forward<Arg>(arg)];
  }

 private:
  std::shared_ptr<Contained> impl_;
};

}  // namespace nabla::nn

/// Declares `class Name`, the holder of the user's `NameImpl` (a nabla::nn::Module subclass),
/// as libtorch's TORCH_MODULE: `Name net;` (NameImpl default-constructible), `Name net{nullptr}`,
/// `Name(args...)`, `net->member`, `net(x)`.
#define NABLA_MODULE(Name) NABLA_MODULE_IMPL(Name, Name##Impl)
#define NABLA_MODULE_IMPL(Name, ImplType)                    \
  class Name : public ::nabla::nn::ModuleHolder<ImplType> {  \
   public:                                                   \
    using ::nabla::nn::ModuleHolder<ImplType>::ModuleHolder; \
    using Impl = ImplType;                                   \
  }
