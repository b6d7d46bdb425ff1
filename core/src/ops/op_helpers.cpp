// Type promotion, dim lists, broadcasting and the in-place protocol shared by all front ends.
#include "ops/op_helpers.h"

#include <algorithm>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "ops/params_copy.h"
#include "tensor/tensor_impl.h"

namespace nabla {

void check_defined(const Tensor& t, std::string_view op, std::string_view what) {
  NABLA_CHECK(t.defined(), "{}: {} is an undefined tensor", op, what);
}

Tensor wrapped_scalar(const Scalar& s, ScalarType dtype) {
  Tensor t = make_tensor({}, dtype, Device::cpu(), "scalar");
  {
    NoGradGuard g;
    run_op(Op::fill, {}, t, FillParams{s}.params());
  }
  t.impl()->wrapped_number = true;
  return t;
}

TypeOperand TypeOperand::of(const Tensor& t) { return {t.dtype(), t.dim(), t.impl()->wrapped_number}; }
TypeOperand TypeOperand::of(const Scalar& s) { return {s.natural_dtype(), 0, true}; }

namespace {
int category(ScalarType t) { return t == kBool ? 0 : is_integral(t) ? 1 : 2; }

// Combines the result of a higher-ranked group with a lower-ranked group (PyTorch's
// combine_categories): the lower group only counts when it is of a higher category.
std::optional<ScalarType> combine(std::optional<ScalarType> higher, std::optional<ScalarType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (category(*higher) == 2) return higher;
  if (*higher == kBool || category(*lower) == 2) return promote_types(*higher, *lower);
  return higher;
}
}  // namespace

ScalarType result_type(std::initializer_list<TypeOperand> ops) {
  std::optional<ScalarType> dimmed, zero, wrapped;
  for (const TypeOperand& o : ops) {
    auto& slot = o.wrapped ? wrapped : (o.dim > 0 ? dimmed : zero);
    // a wrapped float counts as the default dtype, whatever precision carried it
    const ScalarType t = o.wrapped && is_floating_point(o.dtype) ? default_dtype() : o.dtype;
    slot = slot ? promote_types(*slot, t) : t;
  }
  auto r = combine(dimmed, combine(zero, wrapped));
  return r ? *r : default_dtype();
}

ScalarType result_type(const Tensor& a, const Tensor& b) {
  check_defined(a, "result_type");
  check_defined(b, "result_type");
  return result_type({TypeOperand::of(a), TypeOperand::of(b)});
}

bool can_cast(ScalarType from, ScalarType to) {
  if (is_floating_point(from) && !is_floating_point(to)) return false;
  if (from != kBool && to == kBool) return false;
  return true;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape r(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    NABLA_CHECK(da == db || da == 1 || db == 1,
                "{}: shapes {} and {} cannot be broadcast together (size {} vs {} at dim {} of the result)",
                op, shape_to_string(a), shape_to_string(b), da, db, i);
    r[i] = da == 1 ? db : da;
  }
  return r;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) { return broadcast_shapes(a, b, "broadcast_shapes"); }

std::vector<int64_t> reduction_dims(const Tensor& x, const IntList& dims, std::string_view op) {
  std::vector<int64_t> r;
  const int64_t nd = x.dim();
  if (dims.size() == 0) {
    for (int64_t d = 0; d < nd; ++d) r.push_back(d);
    return r;
  }
  for (int64_t d : dims.vec()) {
    const int64_t w = wrap_dim(d, nd, op);
    NABLA_CHECK(std::find(r.begin(), r.end(), w) == r.end(),
                "{}: dim {} appears more than once in the dim list {}", op, w, shape_to_string(dims.vec()));
    r.push_back(w);
  }
  if (nd == 0) r.clear();  // a 0-dim tensor reduces over nothing
  std::sort(r.begin(), r.end());
  return r;
}

Shape reduced_shape(const Shape& sizes, const std::vector<int64_t>& dims, bool keepdim) {
  Shape r;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    const bool red = std::find(dims.begin(), dims.end(), static_cast<int64_t>(d)) != dims.end();
    if (!red)
      r.push_back(sizes[d]);
    else if (keepdim)
      r.push_back(1);
  }
  return r;
}

bool inplace_needs_autograd(const Tensor& self, std::initializer_list<const Tensor*> others) {
  if (!GradMode::is_enabled()) return false;
  if (self.requires_grad()) return true;
  for (const Tensor* t : others) {
    if (t != nullptr && t->defined() && t->requires_grad()) return true;
  }
  return false;
}

void check_inplace(const Tensor& self, std::string_view op, bool autograd) {
  check_defined(self, op, "self");
  for (int64_t d = 0; d < self.dim(); ++d) {
    NABLA_CHECK(
        !(self.stride(d) == 0 && self.size(d) > 1),
        "{}: the tensor written in place has elements that share memory (stride 0 along dim {} of shape {}, "
        "e.g. from expand); write into a contiguous() copy instead",
        op, d, self.shape_str());
  }
  if (!GradMode::is_enabled()) return;
  NABLA_CHECK(!(self.requires_grad() && self.is_leaf()),
              "{}: a leaf tensor that requires grad is being used in an in-place operation; run it under "
              "NoGradGuard (as optimizers do) or on a detach()ed tensor",
              op);
  // A view whose storage no other tensor holds (its base was a temporary: the output that
  // batch_norm, layer_norm or embedding reshape, or a reshape of a dropped result) has no base
  // whose gradient could go wrong, and no saved tensor aliases it: it is written as any tensor
  // (so ReLU(inplace=True) after BatchNorm works, as in PyTorch).
  const bool shared = self.impl()->storage.use_count() > 1;
  NABLA_CHECK(!(autograd && self.impl()->is_view && shared),
              "{}: in-place operations on a view are not supported when autograd records them "
              "(the view shares storage with its base, whose gradient would be wrong); use the "
              "out-of-place op, or run under NoGradGuard",
              op);
}

Tensor& commit_inplace(Tensor& self, const Tensor& result, std::string_view op) {
  NABLA_CHECK(result.sizes() == self.sizes(),
              "{}: the result of shape {} cannot be written in place into a tensor of shape {}", op,
              result.shape_str(), self.shape_str());
  NABLA_CHECK(can_cast(result.dtype(), self.dtype()),
              "{}: result type {} cannot be cast to the in-place output type {}", op,
              dtype_name(result.dtype()), dtype_name(self.dtype()));
  {
    NoGradGuard g;
    run_op(Op::copy, {result}, self);
  }
  if (GradMode::is_enabled() && result.requires_grad()) {
    AutogradMeta& m = self.impl()->meta();
    const AutogradMeta& rm = *result.impl()->autograd;
    m.requires_grad = true;
    m.grad_fn = rm.grad_fn;
    m.output_nr = rm.output_nr;
  }
  return self;
}

bool safe_to_write_over(const Tensor& out, const Tensor& a) {
  if (!out.is_alias_of(a)) return true;
  return a.sizes() == out.sizes() && a.strides() == out.strides() &&
         a.storage_offset() == out.storage_offset();
}

}  // namespace nabla
