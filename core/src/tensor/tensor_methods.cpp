// Tensor's op methods and the arithmetic operators: each forwards to the free function of the
// same name in nabla/ops.h, so there is one implementation per op.
#include "nabla/ops.h"

namespace nabla {

Tensor Tensor::view(const Shape& s) const { return nabla::view(*this, s); }
Tensor Tensor::reshape(const Shape& s) const { return nabla::reshape(*this, s); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return nabla::transpose(*this, a, b); }
Tensor Tensor::t() const {
  NABLA_CHECK(dim() <= 2, "t: expected a tensor of at most 2 dims, got shape {}", shape_str());
  return dim() < 2 ? nabla::view(*this, sizes()) : nabla::transpose(*this, 0, 1);
}
Tensor Tensor::permute(const Shape& d) const { return nabla::permute(*this, d); }
Tensor Tensor::slice(int64_t d, std::optional<int64_t> s, std::optional<int64_t> e, int64_t st) const {
  return nabla::slice(*this, d, s, e, st);
}
Tensor Tensor::narrow(int64_t d, int64_t s, int64_t l) const { return nabla::narrow(*this, d, s, l); }
Tensor Tensor::select(int64_t d, int64_t i) const { return nabla::select(*this, d, i); }
Tensor Tensor::expand(const Shape& s) const { return nabla::expand(*this, s); }
Tensor Tensor::expand_as(const Tensor& o) const { return nabla::expand(*this, o.sizes()); }
Tensor Tensor::squeeze() const { return nabla::squeeze(*this); }
Tensor Tensor::squeeze(int64_t d) const { return nabla::squeeze(*this, d); }
Tensor Tensor::unsqueeze(int64_t d) const { return nabla::unsqueeze(*this, d); }
Tensor Tensor::flatten(int64_t s, int64_t e) const { return nabla::flatten(*this, s, e); }
Tensor Tensor::as_strided(const Shape& sz, const Shape& st, std::optional<int64_t> off) const {
  return nabla::as_strided(*this, sz, st, off);
}
std::vector<Tensor> Tensor::split(int64_t s, int64_t d) const { return nabla::split(*this, s, d); }
std::vector<Tensor> Tensor::split(const Shape& s, int64_t d) const { return nabla::split(*this, s, d); }
std::vector<Tensor> Tensor::chunk(int64_t c, int64_t d) const { return nabla::chunk(*this, c, d); }

Tensor Tensor::neg() const { return nabla::neg(*this); }
Tensor Tensor::abs() const { return nabla::abs(*this); }
Tensor Tensor::sign() const { return nabla::sign(*this); }
Tensor Tensor::exp() const { return nabla::exp(*this); }
Tensor Tensor::log() const { return nabla::log(*this); }
Tensor Tensor::log1p() const { return nabla::log1p(*this); }
Tensor Tensor::expm1() const { return nabla::expm1(*this); }
Tensor Tensor::sqrt() const { return nabla::sqrt(*this); }
Tensor Tensor::rsqrt() const { return nabla::rsqrt(*this); }
Tensor Tensor::sin() const { return nabla::sin(*this); }
Tensor Tensor::cos() const { return nabla::cos(*this); }
Tensor Tensor::tanh() const { return nabla::tanh(*this); }
Tensor Tensor::sigmoid() const { return nabla::sigmoid(*this); }
Tensor Tensor::relu() const { return nabla::relu(*this); }
Tensor Tensor::reciprocal() const { return nabla::reciprocal(*this); }
Tensor Tensor::clamp(std::optional<Scalar> lo, std::optional<Scalar> hi) const {
  return nabla::clamp(*this, lo, hi);
}
Tensor Tensor::pow(const Scalar& e) const { return nabla::pow(*this, e); }
Tensor Tensor::pow(const Tensor& e) const { return nabla::pow(*this, e); }
Tensor Tensor::add(const Tensor& o, const Scalar& a) const { return nabla::add(*this, o, a); }
Tensor Tensor::add(const Scalar& o, const Scalar& a) const { return nabla::add(*this, o, a); }
Tensor Tensor::sub(const Tensor& o, const Scalar& a) const { return nabla::sub(*this, o, a); }
Tensor Tensor::sub(const Scalar& o, const Scalar& a) const { return nabla::sub(*this, o, a); }
Tensor Tensor::mul(const Tensor& o) const { return nabla::mul(*this, o); }
Tensor Tensor::mul(const Scalar& o) const { return nabla::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return nabla::div(*this, o); }
Tensor Tensor::div(const Scalar& o) const { return nabla::div(*this, o); }
Tensor Tensor::maximum(const Tensor& o) const { return nabla::maximum(*this, o); }
Tensor Tensor::minimum(const Tensor& o) const { return nabla::minimum(*this, o); }
Tensor Tensor::eq(const Tensor& o) const { return nabla::eq(*this, o); }
Tensor Tensor::ne(const Tensor& o) const { return nabla::ne(*this, o); }
Tensor Tensor::lt(const Tensor& o) const { return nabla::lt(*this, o); }
Tensor Tensor::le(const Tensor& o) const { return nabla::le(*this, o); }
Tensor Tensor::gt(const Tensor& o) const { return nabla::gt(*this, o); }
Tensor Tensor::ge(const Tensor& o) const { return nabla::ge(*this, o); }
Tensor Tensor::eq(const Scalar& o) const { return nabla::eq(*this, o); }
Tensor Tensor::ne(const Scalar& o) const { return nabla::ne(*this, o); }
Tensor Tensor::lt(const Scalar& o) const { return nabla::lt(*this, o); }
Tensor Tensor::le(const Scalar& o) const { return nabla::le(*this, o); }
Tensor Tensor::gt(const Scalar& o) const { return nabla::gt(*this, o); }
Tensor Tensor::ge(const Scalar& o) const { return nabla::ge(*this, o); }
Tensor Tensor::masked_fill(const Tensor& m, const Scalar& v) const { return nabla::masked_fill(*this, m, v); }

Tensor Tensor::sum() const { return nabla::sum(*this); }
Tensor Tensor::sum(IntList d, bool k) const { return nabla::sum(*this, d, k); }
Tensor Tensor::mean() const { return nabla::mean(*this); }
Tensor Tensor::mean(IntList d, bool k) const { return nabla::mean(*this, d, k); }
Tensor Tensor::prod() const { return nabla::prod(*this); }
Tensor Tensor::prod(IntList d, bool k) const { return nabla::prod(*this, d, k); }
Tensor Tensor::max() const { return nabla::max(*this); }
std::tuple<Tensor, Tensor> Tensor::max(int64_t d, bool k) const { return nabla::max(*this, d, k); }
Tensor Tensor::min() const { return nabla::min(*this); }
std::tuple<Tensor, Tensor> Tensor::min(int64_t d, bool k) const { return nabla::min(*this, d, k); }
Tensor Tensor::amax(IntList d, bool k) const { return nabla::amax(*this, d, k); }
Tensor Tensor::amin(IntList d, bool k) const { return nabla::amin(*this, d, k); }
Tensor Tensor::argmax() const { return nabla::argmax(*this); }
Tensor Tensor::argmax(int64_t d, bool k) const { return nabla::argmax(*this, d, k); }
Tensor Tensor::argmin() const { return nabla::argmin(*this); }
Tensor Tensor::argmin(int64_t d, bool k) const { return nabla::argmin(*this, d, k); }
Tensor Tensor::var(IntList d, bool u, bool k) const { return nabla::var(*this, d, u, k); }
Tensor Tensor::std(IntList d, bool u, bool k) const { return nabla::std(*this, d, u, k); }
Tensor Tensor::logsumexp(IntList d, bool k) const { return nabla::logsumexp(*this, d, k); }
Tensor Tensor::norm(double p) const { return nabla::norm(*this, p); }
Tensor Tensor::norm(double p, IntList d, bool k) const { return nabla::norm(*this, p, d, k); }

Tensor Tensor::matmul(const Tensor& o) const { return nabla::matmul(*this, o); }
Tensor Tensor::mm(const Tensor& o) const { return nabla::mm(*this, o); }
Tensor Tensor::bmm(const Tensor& o) const { return nabla::bmm(*this, o); }
Tensor Tensor::softmax(int64_t d) const { return nabla::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return nabla::log_softmax(*this, d); }
Tensor Tensor::gather(int64_t d, const Tensor& i) const { return nabla::gather(*this, d, i); }
Tensor Tensor::scatter_add(int64_t d, const Tensor& i, const Tensor& s) const {
  return nabla::scatter_add(*this, d, i, s);
}
Tensor Tensor::index_select(int64_t d, const Tensor& i) const { return nabla::index_select(*this, d, i); }
Tensor Tensor::index_add(int64_t d, const Tensor& i, const Tensor& s) const {
  return nabla::index_add(*this, d, i, s);
}

Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, b); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(b, a); }
Tensor operator-(const Scalar& a, const Tensor& b) { return add(neg(b), a); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Scalar& a, const Tensor& b) { return mul(reciprocal(b), a); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator<(const Tensor& a, const Scalar& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Scalar& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Scalar& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Scalar& b) { return ge(a, b); }
Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Tensor& b) { return a.div_(b); }
Tensor& operator+=(Tensor& a, const Scalar& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Scalar& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Scalar& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Scalar& b) { return a.div_(b); }

}  // namespace nabla
