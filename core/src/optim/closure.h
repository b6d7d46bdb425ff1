// The closure of Optimizer::step(closure), called as torch.optim calls it: with grad mode on
// (step itself runs under no_grad), so the closure's forward records and its backward works.
#pragma once

#include <functional>
#include <string>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/tensor.h"

namespace nabla::optim {

inline Tensor call_closure(const std::function<Tensor()>& closure, const std::string& optimizer) {
  NABLA_CHECK(static_cast<bool>(closure), "{}: step(closure) got an empty closure", optimizer);
  const bool prev = GradMode::is_enabled();
  GradMode::set_enabled(true);
  struct Restore {
    bool prev;
    ~Restore() { GradMode::set_enabled(prev); }
  } restore{prev};
  return closure();
}

}  // namespace nabla::optim
