// libtorch's index lists (nabla/indexing.h): Tensor::index and index_put_ over TensorIndex.
//
// As libtorch's applySlicing: the basic entries (integers, slices, None, "...") are applied
// first, left to right, as views of x (select, slice, unsqueeze), so a list of them alone
// gives a view sharing x's storage, with the view ops' gradients; the tensor entries are
// collected at the dims of that view they index and applied last by nabla::index /
// index_put_ (advanced indexing: a copy). The rules are the Python binding's __getitem__
// (python_stub/src/tensor.cpp), which follows PyTorch's.
#include <span>
#include <string>

#include "nabla/factories.h"
#include "nabla/ops.h"

namespace nabla {
namespace indexing {

TensorIndex::TensorIndex(const char* str) : kind_(Kind::Ellipsis) {
  NABLA_CHECK(str != nullptr && std::string(str) == "...",
              "TensorIndex: the only string index is \"...\" (Ellipsis), got \"{}\"", str ? str : "(null)");
}

}  // namespace indexing

namespace {

using indexing::TensorIndex;

// x after the basic entries, and the tensor entries per dim of it (undefined: the whole dim).
struct Applied {
  Tensor view;
  std::vector<Tensor> tensors;
  bool advanced = false;
};

bool is_mask(const Tensor& t) { return t.dtype() == kBool || t.dtype() == kUInt8; }

// for_write: a whole-dim slice makes no view, so that index_put_({Slice(), idx}, v) writes into
// x itself (autograd refuses in-place writes into views: nabla has no CopySlices).
Applied apply_indices(const Tensor& x, std::span<const TensorIndex> list, bool for_write, const char* op) {
  NABLA_CHECK(x.defined(), "{}: called on an undefined tensor", op);
  int64_t consumed = 0, ellipses = 0;
  for (const TensorIndex& e : list) {
    if (e.is_integer() || e.is_slice()) {
      ++consumed;
    } else if (e.is_ellipsis()) {
      ++ellipses;
    } else if (e.is_tensor()) {
      const Tensor& t = e.tensor();
      if (!t.defined()) {
        ++consumed;
      } else if (t.dim() > 0) {
        consumed += is_mask(t) ? t.dim() : 1;
      } else if (!is_mask(t)) {
        ++consumed;  // a 0-dim integer tensor selects; a 0-dim bool one adds a dim, as a bool
      }
    }
  }
  NABLA_CHECK(ellipses <= 1, "{}: an index list may hold one ellipsis (\"...\"), got {}", op, ellipses);
  NABLA_CHECK(consumed <= x.dim(),
              "{}: too many indices for a tensor of {} dims (the {} entries index {} dims)", op, x.dim(),
              list.size(), consumed);
  Applied r{x, {}, false};
  int64_t dim = 0;   // the dim of r.view the next entry applies to
  int64_t real = 0;  // and of x, for messages
  const auto add_index = [&](Tensor idx, int64_t covers) {
    while (static_cast<int64_t>(r.tensors.size()) < dim) r.tensors.emplace_back();
    r.tensors.push_back(std::move(idx));
    r.advanced = true;
    dim += covers;
    real += covers;
  };
  const auto add_bool = [&](bool b) {
    r.view = r.view.unsqueeze(dim);
    add_index(from_vector(std::vector<bool>{b}), 1);
    --real;  // the new axis is not one of x's
  };
  const auto select = [&](int64_t i, std::size_t k) {
    const int64_t n = r.view.size(dim);
    NABLA_CHECK(i >= -n && i < n, "{}: index {} (entry {} of the list) is out of range for dim {} of size {}",
                op, i, k, real, n);
    r.view = r.view.select(dim, i);
    ++real;
  };
  for (std::size_t k = 0; k < list.size(); ++k) {
    const TensorIndex& e = list[k];
    switch (e.kind()) {
      case TensorIndex::Kind::None:
        r.view = r.view.unsqueeze(dim++);
        break;
      case TensorIndex::Kind::Ellipsis:
        dim += x.dim() - consumed;
        real += x.dim() - consumed;
        break;
      case TensorIndex::Kind::Boolean:
        add_bool(e.boolean());
        break;
      case TensorIndex::Kind::Integer:
        select(e.integer(), k);
        break;
      case TensorIndex::Kind::Slice: {
        const indexing::Slice& s = e.slice();
        NABLA_CHECK(s.step() > 0, "{}: the slice step (entry {} of the list) must be positive, got {}", op, k,
                    s.step());
        const int64_t n = r.view.size(dim);
        const bool whole = s.start().value_or(0) == 0 && s.stop().value_or(n) >= n && s.step() == 1;
        if (!(for_write && whole)) r.view = r.view.slice(dim, s.start(), s.stop(), s.step());
        ++dim;
        ++real;
        break;
      }
      case TensorIndex::Kind::Tensor: {
        const Tensor& t = e.tensor();
        if (!t.defined()) {
          ++dim;
          ++real;
        } else if (t.dim() == 0 && is_mask(t)) {
          add_bool(t.item<bool>());
        } else if (t.dim() == 0 && !t.is_floating_point()) {
          select(t.item<int64_t>(), k);
        } else {
          add_index(t, is_mask(t) ? t.dim() : 1);
        }
        break;
      }
    }
  }
  return r;
}

Tensor index_list(const Tensor& x, std::span<const TensorIndex> list) {
  Applied a = apply_indices(x, list, /*for_write=*/false, "Tensor::index");
  return a.advanced ? nabla::index(a.view, a.tensors) : a.view;
}

void index_put_list(Tensor& x, std::span<const TensorIndex> list, const Tensor* values, const Scalar* value) {
  Applied a = apply_indices(x, list, /*for_write=*/true, "Tensor::index_put_");
  Tensor& view = a.view;
  if (!a.advanced) {
    if (values != nullptr) {
      view.copy_(*values);
    } else {
      view.fill_(*value);
    }
    return;
  }
  // As libtorch's: a number converts to x's dtype; a tensor must have it (index_put_ says so).
  const Tensor v = values != nullptr
                       ? values->to(view.device())
                       : scalar_tensor(*value, TensorOptions().device(view.device())).to(view.dtype());
  view.index_put_(a.tensors, v);
}

}  // namespace

Tensor Tensor::index(std::initializer_list<TensorIndex> indices) const {
  return index_list(*this, std::span<const TensorIndex>(indices.begin(), indices.size()));
}
Tensor Tensor::index(const std::vector<TensorIndex>& indices) const { return index_list(*this, indices); }
Tensor Tensor::index(const std::vector<Tensor>& indices) const { return nabla::index(*this, indices); }

Tensor& Tensor::index_put_(std::initializer_list<TensorIndex> indices, const Tensor& values) {
  index_put_list(*this, std::span<const TensorIndex>(indices.begin(), indices.size()), &values, nullptr);
  return *this;
}
Tensor& Tensor::index_put_(std::initializer_list<TensorIndex> indices, const Scalar& value) {
  index_put_list(*this, std::span<const TensorIndex>(indices.begin(), indices.size()), nullptr, &value);
  return *this;
}
Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, const Tensor& values) {
  index_put_list(*this, indices, &values, nullptr);
  return *this;
}
Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, const Scalar& value) {
  index_put_list(*this, indices, nullptr, &value);
  return *this;
}

}  // namespace nabla
