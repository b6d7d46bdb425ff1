// Front ends of copies between dtypes, layouts and devices, and of fills.
#include "nabla/autograd.h"
#include "nabla/random.h"
#include "ops/op_helpers.h"
#include "ops/params_copy.h"
#include "ops/params_random.h"
#include "tensor/random_state.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// A new tensor holding t's values as `dtype` on `device`. A copy across devices is the device
// backend's business (it registers the copy kernel that handles both sides); without one, the
// allocation on the missing device fails with a message saying so.
Tensor copy_to_new(const Tensor& t, ScalarType dtype, Device device) {
  return run_op(Op::copy, {t}, make_tensor(t.sizes(), dtype, device, "to"));
}

}  // namespace

Tensor Tensor::to(ScalarType t, bool copy) const {
  check_defined(*this, "to");
  if (t == dtype() && !copy) return *this;
  return copy_to_new(*this, t, device());
}

Tensor Tensor::to(Device d, bool copy) const {
  check_defined(*this, "to");
  if (d == device() && !copy) return *this;
  return copy_to_new(*this, dtype(), d);
}

Tensor Tensor::to(const TensorOptions& o, bool copy) const {
  check_defined(*this, "to");
  const ScalarType dt = o.has_dtype() ? o.dtype() : dtype();
  if (dt == dtype() && o.device() == device() && !copy) return *this;
  return copy_to_new(*this, dt, o.device());
}

Tensor Tensor::cpu() const { return to(Device::cpu()); }
Tensor Tensor::cuda(int index) const { return to(Device::cuda(index)); }

Tensor Tensor::contiguous() const {
  check_defined(*this, "contiguous");
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  check_defined(*this, "clone");
  return copy_to_new(*this, dtype(), device());
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_defined(src, "copy_", "src");
  const bool ag = inplace_needs_autograd(*this, {&src});
  check_inplace(*this, "copy_", ag);
  NABLA_CHECK(broadcast_shapes(src.sizes(), sizes(), "copy_") == sizes(),
              "copy_: source of shape {} does not broadcast to the destination shape {}", src.shape_str(),
              shape_str());
  if (!safe_to_write_over(*this, src)) return copy_(src.clone());
  // The copy overwrites every element, so self's old history is dropped: its gradient now
  // flows to src alone (run_op records self as the copy's output when src requires grad).
  if (ag && !src.requires_grad()) {
    impl()->meta().grad_fn.reset();
    impl()->meta().requires_grad = false;
  }
  run_op(Op::copy, {src}, *this);
  return *this;
}

namespace {
// An op that overwrites every element of `self` (fill, random draws): under autograd it is
// checked like any in-place op, and a non-leaf's old history is cut, since none of the new
// values depend on it.
void overwrite_history(Tensor& self, std::string_view op) {
  const bool ag = GradMode::is_enabled() && self.requires_grad();
  check_inplace(self, op, ag);
  if (self.requires_grad() && !self.is_leaf()) {
    self.impl()->meta().grad_fn.reset();
    self.impl()->meta().requires_grad = false;
  }
}
}  // namespace

Tensor& Tensor::fill_(const Scalar& v) {
  overwrite_history(*this, "fill_");
  NABLA_CHECK(!(is_integral(dtype(), true) && v.is_floating_point()),
              "fill_: cannot fill a {} tensor with the floating-point value {}", dtype_name(dtype()),
              v.str());
  run_op(Op::fill, {}, *this, FillParams{v}.params());
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0); }

namespace {
// P: UniformParams or NormalParams; its slot is the global generator's next.
template <class P>
Tensor& random_fill(Tensor& self, Op op, P params, std::string_view name) {
  overwrite_history(self, name);
  NABLA_CHECK(is_floating_point(self.dtype()), "{}: expected a floating-point tensor, got {}", name,
              dtype_name(self.dtype()));
  params.slot = next_philox_slot();
  const OpParams p = params.params();
  if (self.is_contiguous()) {
    run_op(op, {}, self, p);
  } else {
    // element i of a draw is the i-th element in row-major order, whatever the layout
    Tensor tmp = make_tensor(self.sizes(), self.dtype(), self.device(), name);
    run_op(op, {}, tmp, p);
    NoGradGuard g;
    run_op(Op::copy, {tmp}, self);
  }
  return self;
}
}  // namespace

Tensor& Tensor::uniform_(double from, double to) {
  NABLA_CHECK(from <= to, "uniform_: expected from <= to, got from={} to={}", from, to);
  return random_fill(*this, Op::uniform, UniformParams{.low = from, .high = to}, "uniform_");
}

Tensor& Tensor::normal_(double mean, double std) {
  NABLA_CHECK(std >= 0.0, "normal_: expected std >= 0, got {}", std);
  return random_fill(*this, Op::normal, NormalParams{.mean = mean, .stddev = std}, "normal_");
}

}  // namespace nabla
