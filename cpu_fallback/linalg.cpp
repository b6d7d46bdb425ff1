// Reference CPU matrix products: OpenBLAS GEMM (through CBLAS) for float32/float64, a plain
// loop with a wide accumulator for the other dtypes. Operands of any strides are passed to
// BLAS as they are when one of their dims is unit-stride (as transposed or not), and copied
// to contiguous otherwise.
#include "cpu_fallback/blas.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "nabla/ops.h"
#include "ops/params_linalg.h"

namespace nabla::cpu {
namespace {

struct BlasMat {
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

// How a rows x cols matrix with strides (rs, cs) can be handed to row-major CBLAS.
bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, BlasMat* m) {
  {  // as is: unit column stride, leading dim = row stride
    const int64_t r = rows == 1 ? std::max<int64_t>(cols, 1) : rs, c = cols == 1 ? 1 : cs;
    if (c == 1 && r >= std::max<int64_t>(cols, 1)) {
      *m = {CblasNoTrans, r};
      return true;
    }
  }
  {  // as the transpose of a row-major cols x rows matrix
    const int64_t r = rows == 1 ? 1 : rs, c = cols == 1 ? std::max<int64_t>(rows, 1) : cs;
    if (r == 1 && c >= std::max<int64_t>(rows, 1)) {
      *m = {CblasTrans, c};
      return true;
    }
  }
  return false;
}

// c[bt] (contiguous [batch, n, m]) = alpha * a[bt] @ b[bt] + beta * c[bt]. beta == 0 ignores
// c's contents (NaN included), as BLAS does.
void batched_matmul(const Tensor& a, const Tensor& b, const Tensor& c, double alpha, double beta) {
  const int64_t batch = c.size(0), n = c.size(1), m = c.size(2), k = a.size(2);
  if (c.numel() == 0) return;
  const ScalarType t = c.dtype();
  if (t == kFloat32 || t == kFloat64) {
    Tensor aa = a, bb = b;
    BlasMat la{}, lb{};
    if (!blas_layout(n, k, a.stride(1), a.stride(2), &la)) {
      aa = a.contiguous();
      blas_layout(n, k, aa.stride(1), aa.stride(2), &la);
    }
    if (!blas_layout(k, m, b.stride(1), b.stride(2), &lb)) {
      bb = b.contiguous();
      blas_layout(k, m, bb.stride(1), bb.stride(2), &lb);
    }
    visit_float(t, "matmul", [&]<class T>() {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        for (int64_t i = 0; i < batch; ++i) {
          gemm<T>(la.trans, lb.trans, n, m, k, alpha, aa.data_ptr<T>() + i * aa.stride(0), la.ld,
                  bb.data_ptr<T>() + i * bb.stride(0), lb.ld, beta, c.data_ptr<T>() + i * n * m, m);
        }
      }
    });
    return;
  }
  visit_numeric(t, "matmul", [&]<class T>() {
    using A = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    T* cp = c.data_ptr<T>();
    const int64_t as0 = a.stride(0), as1 = a.stride(1), as2 = a.stride(2);
    const int64_t bs0 = b.stride(0), bs1 = b.stride(1), bs2 = b.stride(2);
    parallel_for(batch * n, std::max<int64_t>(1, kGrain / std::max<int64_t>(m * k, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     const int64_t bi = r / n, i = r % n;
                     for (int64_t j = 0; j < m; ++j) {
                       A acc = 0;
                       for (int64_t p = 0; p < k; ++p) {
                         acc += static_cast<A>(cvt<compute_t<T>>(ap[bi * as0 + i * as1 + p * as2])) *
                                static_cast<A>(cvt<compute_t<T>>(bp[bi * bs0 + p * bs1 + j * bs2]));
                       }
                       T& dst = cp[(bi * n + i) * m + j];
                       const A prev = beta == 0.0 ? A(0) : static_cast<A>(cvt<compute_t<T>>(dst));
                       dst = cvt<T>(static_cast<A>(alpha) * acc + static_cast<A>(beta) * prev);
                     }
                   }
                 });
  });
}

}  // namespace

void bmm_kernel(const KernelCall& c) { batched_matmul(c.in[0], c.in[1], c.out[0], 1.0, 0.0); }

void addmm_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const AddmmParams p = AddmmParams::from(c.p);
  if (p.beta != 0.0) {
    visit_dtype(out.dtype(), "addmm",
                [&]<class T>() { cpu_map<T, T>(out, {c.in[0]}, [](compute_t<T> x) { return x; }); });
  }
  batched_matmul(c.in[1].unsqueeze(0), c.in[2].unsqueeze(0), out.unsqueeze(0), p.alpha, p.beta);
}

}  // namespace nabla::cpu
