// Front ends of the view ops: each computes new sizes/strides/offset over the input's
// storage and hands them to run_view, which records the autograd node.
#include <algorithm>
#include <numeric>

#include "nabla/autograd.h"
#include "ops/op_helpers.h"
#include "ops/params_view.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// Resolves one -1 in `shape` against numel.
Shape infer_shape(const Shape& shape, int64_t numel, std::string_view op, const Tensor& x) {
  Shape r = shape;
  int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] == -1) {
      NABLA_CHECK(infer < 0, "{}: only one dim can be inferred (-1) in shape {}", op, shape_to_string(shape));
      infer = static_cast<int64_t>(i);
    } else {
      NABLA_CHECK(r[i] >= 0, "{}: invalid size {} at dim {} of shape {}", op, r[i], i,
                  shape_to_string(shape));
      NABLA_CHECK(!__builtin_mul_overflow(known, r[i], &known), "{}: shape {} overflows int64", op,
                  shape_to_string(shape));
    }
  }
  if (infer >= 0) {
    NABLA_CHECK(known != 0 && numel % known == 0,
                "{}: shape {} is invalid for an input of {} elements (shape {})", op, shape_to_string(shape),
                numel, x.shape_str());
    r[infer] = numel / known;
  } else {
    NABLA_CHECK(known == numel, "{}: shape {} is invalid for an input of {} elements (shape {})", op,
                shape_to_string(shape), numel, x.shape_str());
  }
  return r;
}

// Strides for viewing (sizes, strides) as `shape` without a copy, or false when the layout
// does not allow it (PyTorch's computeStride: chunks of dims that are contiguous among
// themselves can be re-split freely).
bool view_strides(const Shape& sizes, const Shape& strides, const Shape& shape, Shape* out) {
  const int64_t numel = std::accumulate(sizes.begin(), sizes.end(), int64_t{1}, std::multiplies<>());
  out->assign(shape.size(), 0);
  if (numel == 0 || sizes.empty()) {
    *out = contiguous_strides(shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = strides.empty() ? 1 : strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[d];
    if (d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        (*out)[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape_in) {
  check_defined(x, "view");
  const Shape shape = infer_shape(shape_in, x.numel(), "view", x);
  Shape st;
  NABLA_CHECK(
      view_strides(x.sizes(), x.strides(), shape, &st),
      "view: shape {} is incompatible with the input's layout (sizes {}, strides {}): at least one dim spans "
      "non-contiguous memory; use reshape() or call contiguous() first",
      shape_to_string(shape), x.shape_str(), shape_to_string(x.strides()));
  return run_view(Op::view, x, shape, st, x.storage_offset(), ViewParams{shape}.params());
}

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  check_defined(x, "reshape");
  const Shape shape = infer_shape(shape_in, x.numel(), "reshape", x);
  Shape st;
  if (view_strides(x.sizes(), x.strides(), shape, &st)) {
    return run_view(Op::view, x, shape, st, x.storage_offset(), ViewParams{shape}.params());
  }
  return view(x.clone(), shape);
}

Tensor permute(const Tensor& x, const Shape& dims) {
  check_defined(x, "permute");
  const int64_t nd = x.dim();
  NABLA_CHECK(static_cast<int64_t>(dims.size()) == nd, "permute: got {} dims {} for a tensor of {} dims",
              dims.size(), shape_to_string(dims), nd);
  std::vector<int64_t> perm(dims.size());
  std::vector<bool> seen(dims.size(), false);
  Shape sizes(dims.size()), strides(dims.size());
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], nd, "permute");
    NABLA_CHECK(!seen[d], "permute: dim {} repeats in {}", d, shape_to_string(dims));
    seen[d] = true;
    perm[i] = d;
    sizes[i] = x.size(d);
    strides[i] = x.stride(d);
  }
  return run_view(Op::permute, x, sizes, strides, x.storage_offset(), PermuteParams{perm}.params());
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  check_defined(x, "transpose");
  if (x.dim() == 0) return x.view({});
  const int64_t a = wrap_dim(d0, x.dim(), "transpose"), b = wrap_dim(d1, x.dim(), "transpose");
  Shape perm(static_cast<std::size_t>(x.dim()));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  std::swap(perm[a], perm[b]);
  return permute(x, perm);
}

Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start_in, std::optional<int64_t> end_in,
             int64_t step) {
  check_defined(x, "slice");
  NABLA_CHECK(x.dim() > 0, "slice: cannot slice a 0-dim tensor");
  NABLA_CHECK(step > 0, "slice: step must be positive, got {}", step);
  const int64_t d = wrap_dim(dim, x.dim(), "slice");
  const int64_t n = x.size(d);
  auto clamp_index = [n](int64_t i) {
    if (i < 0) i += n;
    return std::clamp<int64_t>(i, 0, n);
  };
  const int64_t start = clamp_index(start_in.value_or(0));
  const int64_t end = std::max(start, clamp_index(end_in.value_or(n)));
  const int64_t len = (end - start + step - 1) / step;
  Shape sizes = x.sizes(), strides = x.strides();
  sizes[d] = len;
  strides[d] *= step;
  return run_view(Op::slice, x, sizes, strides, x.storage_offset() + start * x.stride(d),
                  SliceParams{d, start, step}.params());
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_defined(x, "narrow");
  NABLA_CHECK(x.dim() > 0, "narrow: cannot narrow a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "narrow");
  const int64_t n = x.size(d);
  NABLA_CHECK(start >= -n && start <= n, "narrow: start {} is out of range for dim {} of size {}", start, d,
              n);
  if (start < 0) start += n;
  NABLA_CHECK(length >= 0 && start + length <= n, "narrow: start {} + length {} exceeds dim {} of size {}",
              start, length, d, n);
  return slice(x, d, start, start + length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  check_defined(x, "select");
  NABLA_CHECK(x.dim() > 0, "select: cannot select from a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "select");
  const int64_t n = x.size(d);
  NABLA_CHECK(index >= -n && index < n, "select: index {} is out of range for dim {} of size {}", index, d,
              n);
  if (index < 0) index += n;
  Shape sizes = x.sizes(), strides = x.strides();
  const int64_t offset = x.storage_offset() + index * strides[d];
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  return run_view(Op::select, x, sizes, strides, offset, SelectParams{d, index}.params());
}

Tensor expand(const Tensor& x, const Shape& target) {
  check_defined(x, "expand");
  const int64_t nd = static_cast<int64_t>(target.size()), xd = x.dim();
  NABLA_CHECK(nd >= xd,
              "expand: the number of sizes given ({}) must be at least the tensor's dims ({}); target {}, "
              "tensor {}",
              nd, xd, shape_to_string(target), x.shape_str());
  Shape sizes(target.size()), strides(target.size());
  for (int64_t i = nd - 1; i >= 0; --i) {
    const int64_t xi = i - (nd - xd);
    if (xi < 0) {
      NABLA_CHECK(target[i] >= 0,
                  "expand: size -1 or negative is not allowed for a new leading dim {} (target {})", i,
                  shape_to_string(target));
      sizes[i] = target[i];
      strides[i] = 0;
      continue;
    }
    const int64_t have = x.size(xi);
    const int64_t want = target[i] == -1 ? have : target[i];
    NABLA_CHECK(
        want == have || have == 1,
        "expand: the expanded size {} must match the existing size {} at non-singleton dim {}; target sizes "
        "{}, tensor sizes {}",
        want, have, i, shape_to_string(target), x.shape_str());
    NABLA_CHECK(want >= 0, "expand: invalid size {} at dim {}", want, i);
    sizes[i] = want;
    strides[i] = have == want ? x.stride(xi) : 0;
  }
  return run_view(Op::expand, x, sizes, strides, x.storage_offset(), ViewParams{sizes}.params());
}

namespace {
// squeeze/unsqueeze/flatten: a `view` whose strides are computed directly.
Tensor restride_view(const Tensor& x, Shape sizes, Shape strides) {
  const OpParams p = ViewParams{sizes}.params();
  return run_view(Op::view, x, std::move(sizes), std::move(strides), x.storage_offset(), p);
}
}  // namespace

Tensor squeeze(const Tensor& x) {
  check_defined(x, "squeeze");
  Shape sizes, strides;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.size(d) == 1) continue;
    sizes.push_back(x.size(d));
    strides.push_back(x.stride(d));
  }
  return restride_view(x, sizes, strides);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  check_defined(x, "squeeze");
  const int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.dim() == 0 || x.size(d) != 1) return restride_view(x, x.sizes(), x.strides());
  Shape sizes = x.sizes(), strides = x.strides();
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  return restride_view(x, sizes, strides);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined(x, "unsqueeze");
  const int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape sizes = x.sizes(), strides = x.strides();
  const int64_t st = d < x.dim() ? x.stride(d) * x.size(d) : 1;
  sizes.insert(sizes.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  return restride_view(x, sizes, strides);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  check_defined(x, "flatten");
  if (x.dim() == 0) return reshape(x, {1});
  const int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  NABLA_CHECK(s <= e, "flatten: start_dim {} comes after end_dim {}", s, e);
  Shape shape(x.sizes().begin(), x.sizes().begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= x.size(d);
  shape.push_back(n);
  shape.insert(shape.end(), x.sizes().begin() + e + 1, x.sizes().end());
  return reshape(x, shape);
}

Tensor as_strided(const Tensor& x, const Shape& sizes, const Shape& strides,
                  std::optional<int64_t> offset_in) {
  check_defined(x, "as_strided");
  NABLA_CHECK(sizes.size() == strides.size(), "as_strided: {} sizes but {} strides", sizes.size(),
              strides.size());
  NABLA_CHECK(
      !(GradMode::is_enabled() && x.requires_grad()),
      "as_strided: autograd through as_strided is not supported; call it on a detach()ed tensor or under "
      "NoGradGuard");
  const int64_t offset = offset_in.value_or(x.storage_offset());
  NABLA_CHECK(offset >= 0, "as_strided: negative storage offset {}", offset);
  int64_t last = offset;
  bool empty = false;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    NABLA_CHECK(sizes[i] >= 0 && strides[i] >= 0,
                "as_strided: negative size or stride in sizes {} strides {}", shape_to_string(sizes),
                shape_to_string(strides));
    int64_t span = 0;
    if (sizes[i] == 0)
      empty = true;
    else
      NABLA_CHECK(!__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) &&
                      !__builtin_add_overflow(last, span, &last),
                  "as_strided: sizes {} and strides {} overflow int64", shape_to_string(sizes),
                  shape_to_string(strides));
  }
  const int64_t capacity = static_cast<int64_t>(x.impl()->storage->nbytes / x.element_size());
  NABLA_CHECK(empty || last < capacity,
              "as_strided: sizes {} strides {} offset {} reach element {} of a storage of {} elements",
              shape_to_string(sizes), shape_to_string(strides), offset, last, capacity);
  return run_view(Op::as_strided, x, sizes, strides, offset,
                  AsStridedParams{sizes, strides, offset}.params());
}

}  // namespace nabla
