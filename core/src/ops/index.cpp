// Front ends of indexing, joining and splitting: gather, scatter_add, index_select,
// index_add, cat, stack, split, chunk, one_hot. Index values are range-checked by the kernels
// (they are data); everything else is checked here.
#include <algorithm>

#include "ops/op_helpers.h"
#include "ops/params_index.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

void check_index_dtype(const Tensor& index, std::string_view op) {
  NABLA_CHECK(index.dtype() == kInt64, "{}: expected an int64 index tensor, got {}", op,
              dtype_name(index.dtype()));
}

Tensor as_index(const Tensor& index, std::string_view op) {
  check_defined(index, op, "index");
  NABLA_CHECK(index.dtype() == kInt64 || index.dtype() == kInt32,
              "{}: expected an int64 or int32 index tensor, got {}", op, dtype_name(index.dtype()));
  return index.dtype() == kInt64 ? index : index.to(kInt64);
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined(x, "gather");
  check_defined(index, "gather", "index");
  check_index_dtype(index, "gather");
  const int64_t d = wrap_dim(dim, x.dim(), "gather");
  if (index.dim() == 0 && x.dim() > 0) return gather(x, d, index.view({1})).view({});
  const int64_t nd = std::max<int64_t>(x.dim(), 1);
  NABLA_CHECK(std::max<int64_t>(index.dim(), 1) == nd,
              "gather: index of shape {} must have as many dims as the input of shape {}", index.shape_str(),
              x.shape_str());
  for (int64_t i = 0; i < x.dim() && index.dim() > 0; ++i) {
    NABLA_CHECK(i == d || index.size(i) <= x.size(i),
                "gather: index size {} exceeds the input size {} at dim {} (index {}, input {})",
                index.size(i), x.size(i), i, index.shape_str(), x.shape_str());
  }
  const OpParams p = IndexParams{d}.params();
  if (x.dim() == 0)
    return run_op(Op::gather, {x.view({1}), index.view({-1})},
                  make_tensor(index.sizes(), x.dtype(), x.device()), p);
  return run_op(Op::gather, {x, index}, make_tensor(index.sizes(), x.dtype(), x.device(), "gather"), p);
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  check_defined(x, "scatter_add");
  check_defined(index, "scatter_add", "index");
  check_defined(src, "scatter_add", "src");
  check_index_dtype(index, "scatter_add");
  NABLA_CHECK(src.dtype() == x.dtype(), "scatter_add: src dtype {} differs from the input dtype {}",
              dtype_name(src.dtype()), dtype_name(x.dtype()));
  NABLA_CHECK(x.dim() > 0 && index.dim() == x.dim() && src.dim() == x.dim(),
              "scatter_add: input {}, index {} and src {} must have the same number of dims (at least 1)",
              x.shape_str(), index.shape_str(), src.shape_str());
  const int64_t d = wrap_dim(dim, x.dim(), "scatter_add");
  for (int64_t i = 0; i < x.dim(); ++i) {
    NABLA_CHECK(index.size(i) <= src.size(i), "scatter_add: index size {} exceeds the src size {} at dim {}",
                index.size(i), src.size(i), i);
    NABLA_CHECK(i == d || index.size(i) <= x.size(i),
                "scatter_add: index size {} exceeds the input size {} at dim {}", index.size(i), x.size(i),
                i);
  }
  const OpParams p = IndexParams{d}.params();
  const std::array<Tensor, 3> in{x, index, src};
  Tensor out = make_tensor(x.sizes(), x.dtype(), x.device(), "scatter_add");
  run_op(Op::scatter_add, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(&out, 1), p);
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index_in) {
  check_defined(x, "index_select");
  const Tensor index = as_index(index_in, "index_select");
  NABLA_CHECK(index.dim() <= 1, "index_select: expected a 1-D index, got shape {}", index.shape_str());
  if (x.dim() == 0)
    return index_select(x.view({1}), 0, index).view(index.dim() == 0 ? Shape{} : Shape{index.numel()});
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  Shape shape = x.sizes();
  shape[d] = index.numel();
  const OpParams p = IndexParams{d}.params();
  return run_op(Op::index_select, {x, index.view({-1})},
                make_tensor(shape, x.dtype(), x.device(), "index_select"), p);
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index_in, const Tensor& source) {
  check_defined(x, "index_add");
  check_defined(source, "index_add", "source");
  const Tensor index = as_index(index_in, "index_add");
  NABLA_CHECK(index.dim() <= 1, "index_add: expected a 1-D index, got shape {}", index.shape_str());
  NABLA_CHECK(source.dtype() == x.dtype(), "index_add: source dtype {} differs from the input dtype {}",
              dtype_name(source.dtype()), dtype_name(x.dtype()));
  NABLA_CHECK(x.dim() > 0 && source.dim() == x.dim(),
              "index_add: source of shape {} must have the dims of the input {}", source.shape_str(),
              x.shape_str());
  const int64_t d = wrap_dim(dim, x.dim(), "index_add");
  for (int64_t i = 0; i < x.dim(); ++i) {
    const int64_t want = i == d ? index.numel() : x.size(i);
    NABLA_CHECK(source.size(i) == want,
                "index_add: source of shape {} does not fit input {} with {} indices along dim {}",
                source.shape_str(), x.shape_str(), index.numel(), d);
  }
  const OpParams p = IndexParams{d}.params();
  const std::array<Tensor, 3> in{x, index.view({-1}), source};
  Tensor out = make_tensor(x.sizes(), x.dtype(), x.device(), "index_add");
  run_op(Op::index_add, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(&out, 1), p);
  return out;
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  // Legacy rule (as PyTorch): 1-D empty tensors are skipped whatever the other shapes.
  const Tensor* ref = nullptr;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    check_defined(tensors[i], "cat", fmt::format("tensor {}", i));
    if (ref == nullptr && !(tensors[i].dim() == 1 && tensors[i].numel() == 0)) ref = &tensors[i];
  }
  if (ref == nullptr) ref = &tensors[0];
  NABLA_CHECK(ref->dim() > 0, "cat: zero-dimensional tensor {} cannot be concatenated", 0);
  const int64_t d = wrap_dim(dim, ref->dim(), "cat");
  ScalarType dt = tensors[0].dtype();
  for (const Tensor& t : tensors) dt = promote_types(dt, t.dtype());
  Shape shape = ref->sizes();
  shape[d] = 0;
  std::vector<Tensor> in;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (t.dim() == 1 && t.numel() == 0 && ref->dim() != 1) {
      in.push_back(t.to(dt));
      continue;
    }
    NABLA_CHECK(t.dim() == ref->dim(), "cat: tensor {} has {} dims but tensor 0 has {} (shapes {} and {})", i,
                t.dim(), ref->dim(), t.shape_str(), ref->shape_str());
    for (int64_t k = 0; k < t.dim(); ++k) {
      NABLA_CHECK(
          k == d || t.size(k) == ref->size(k),
          "cat: sizes must match except in dim {}: tensor {} has shape {}, expected size {} at dim {}", d, i,
          t.shape_str(), ref->size(k), k);
    }
    shape[d] += t.size(d);
    in.push_back(t.dtype() == dt ? t : t.to(dt));
  }
  const OpParams p = IndexParams{d}.params();
  Tensor out = make_tensor(shape, dt, ref->device(), "cat");
  run_op(Op::cat, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(&out, 1), p);
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    check_defined(tensors[i], "stack", fmt::format("tensor {}", i));
    NABLA_CHECK(tensors[i].sizes() == tensors[0].sizes(), "stack: tensor {} has shape {} but tensor 0 has {}",
                i, tensors[i].shape_str(), tensors[0].shape_str());
  }
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> u;
  for (const Tensor& t : tensors) u.push_back(t.unsqueeze(d));
  return cat(u, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  check_defined(x, "split");
  NABLA_CHECK(split_size > 0 || (split_size == 0 && x.size(dim) == 0),
              "split: split_size must be positive, got {}", split_size);
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.size(d);
  if (n == 0) return {x};
  std::vector<Tensor> r;
  for (int64_t s = 0; s < n; s += split_size) r.push_back(x.narrow(d, s, std::min(split_size, n - s)));
  return r;
}

std::vector<Tensor> split(const Tensor& x, const Shape& sizes, int64_t dim) {
  check_defined(x, "split");
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    NABLA_CHECK(s >= 0, "split: split sizes must be non-negative, got {}", shape_to_string(sizes));
    total += s;
  }
  NABLA_CHECK(total == x.size(d), "split: split sizes {} sum to {} but dim {} has size {}",
              shape_to_string(sizes), total, d, x.size(d));
  std::vector<Tensor> r;
  int64_t at = 0;
  for (int64_t s : sizes) {
    r.push_back(x.narrow(d, at, s));
    at += s;
  }
  return r;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  check_defined(x, "chunk");
  NABLA_CHECK(chunks > 0, "chunk: expected a positive number of chunks, got {}", chunks);
  const int64_t n = x.size(dim);
  return split(x, std::max<int64_t>((n + chunks - 1) / chunks, n == 0 ? 0 : 1), dim);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  check_defined(indices, "one_hot");
  check_index_dtype(indices, "one_hot");
  if (num_classes < 0) {
    NABLA_CHECK(num_classes == -1, "one_hot: num_classes must be positive or -1, got {}", num_classes);
    NABLA_CHECK(indices.numel() > 0,
                "one_hot: cannot infer num_classes from an empty tensor; pass num_classes");
    num_classes = indices.max().item<int64_t>() + 1;
  }
  Shape shape = indices.sizes();
  shape.push_back(num_classes);
  return run_op(Op::one_hot, {indices}, make_tensor(shape, kInt64, indices.device(), "one_hot"));
}

}  // namespace nabla
