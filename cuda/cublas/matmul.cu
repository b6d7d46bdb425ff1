// bmm and addmm on cuBLAS: one strided-batched GEMM per call. nabla's row-major C = A B is
// cuBLAS's column-major C^T = B^T A^T, so operands are passed swapped. An operand with a
// unit stride in either of its two dims is passed as it is (transposed or not); anything
// else is first copied to contiguous. float32 computes in float32 (TF32 only after
// set_allow_tf32(true)), float64 in double, 16-bit floats with float accumulation.
#include <cublas_v2.h>

#if CUBLAS_VER_MAJOR < 12
#error "nabla's matmul needs cuBLAS 12 or newer (the 64-bit cublasGemmStridedBatchedEx_64)"
#endif

#include "cuda/handle_pool.h"
#include "cuda/kernels/elementwise.cuh"
#include "dispatch/dispatch.h"
#include "nabla/cuda.h"
#include "ops/params_linalg.h"

namespace nabla::cuda {
namespace {

void check(cublasStatus_t s, const char* call, int line) {
  NABLA_CHECK(s == CUBLAS_STATUS_SUCCESS, "cuBLAS error {} in {} at cuda/cublas/matmul.cu:{}",
              static_cast<int>(s), call, line);
}
#define NABLA_CUBLAS_CHECK(call) check((call), #call, __LINE__)

constexpr std::size_t kWorkspaceBytes = 32u << 20;

// A new handle bound to stream(device) (all of a device's work runs on its one stream), with a
// workspace of its own: handles are per (thread, device) (cuda/handle_pool.h), and two threads'
// GEMMs, each possibly several kernels, interleave in the stream, so they must not share one.
// Nothing changes a handle's configuration after this (TF32 travels in each call's compute
// type, not in the handle's math mode). The workspace is a plain cudaMalloc, not a block of the
// caching allocator: it is held for as long as the handle (forever), so counting it in the
// allocator's `allocated` statistics would only hide the memory tensors really use.
cublasHandle_t create_handle(int device) {
  set_device(device);
  cublasHandle_t h = nullptr;
  NABLA_CUBLAS_CHECK(cublasCreate(&h));
  void* workspace = nullptr;
  try {
    NABLA_CUBLAS_CHECK(cublasSetStream(h, stream(device)));
    NABLA_CUDA_CHECK(cudaMalloc(&workspace, kWorkspaceBytes));
    NABLA_CUBLAS_CHECK(cublasSetWorkspace(h, workspace, kWorkspaceBytes));
  } catch (...) {
    if (workspace != nullptr) cudaFree(workspace);
    cublasDestroy(h);
    throw;
  }
  return h;
}

cublasHandle_t handle(int device) { return thread_handle<cublasHandle_t, create_handle>(device, "cuBLAS"); }

struct ColMajor {
  cublasOperation_t op;
  int64_t ld;
};

// How the column-major transpose of a rows x cols row-major matrix with strides (rs, cs) is
// passed to cuBLAS, if it can be without a copy.
bool layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, ColMajor* m) {
  {  // cs == 1: the row-major matrix is a column-major (cols x rows) matrix with ld = rs
    const int64_t r = rows == 1 ? std::max<int64_t>(cols, 1) : rs, c = cols == 1 ? 1 : cs;
    if (c == 1 && r >= std::max<int64_t>(cols, 1)) {
      *m = {CUBLAS_OP_N, r};
      return true;
    }
  }
  {  // rs == 1: it is the transpose of a column-major (rows x cols) matrix with ld = cs
    const int64_t r = rows == 1 ? 1 : rs, c = cols == 1 ? std::max<int64_t>(rows, 1) : cs;
    if (r == 1 && c >= std::max<int64_t>(rows, 1)) {
      *m = {CUBLAS_OP_T, c};
      return true;
    }
  }
  return false;
}

void types_of(ScalarType t, cudaDataType_t* data, cublasComputeType_t* compute) {
  switch (t) {
    case kFloat32:
      *data = CUDA_R_32F;
      *compute = allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      return;
    case kFloat64:
      *data = CUDA_R_64F;
      *compute = CUBLAS_COMPUTE_64F;
      return;
    case kFloat16:
      *data = CUDA_R_16F;
      *compute = CUBLAS_COMPUTE_32F;
      return;
    case kBFloat16:
      *data = CUDA_R_16BF;
      *compute = CUBLAS_COMPUTE_32F;
      return;
    default:
      break;
  }
  NABLA_FAIL(
      "matmul: {} matrix products are not supported on CUDA (cuBLAS has no integer GEMM for them); "
      "convert to a floating-point dtype",
      dtype_name(t));
}

// c[batch, n, m] (contiguous) = alpha * a[batch, n, k] @ b[batch, k, m] + beta * c
void gemm(const Tensor& a_in, const Tensor& b_in, const Tensor& c, double alpha, double beta) {
  const int64_t batch = c.size(0), n = c.size(1), m = c.size(2), k = a_in.size(2);
  if (c.numel() == 0) return;
  cudaDataType_t data;
  cublasComputeType_t compute;
  types_of(c.dtype(), &data, &compute);
  Tensor a = a_in, b = b_in;
  ColMajor la{}, lb{};
  if (!layout(n, k, a.stride(1), a.stride(2), &la)) {
    a = a.contiguous();
    layout(n, k, a.stride(1), a.stride(2), &la);
  }
  if (!layout(k, m, b.stride(1), b.stride(2), &lb)) {
    b = b.contiguous();
    layout(k, m, b.stride(1), b.stride(2), &lb);
  }
  const int device = c.device().index;
  cublasHandle_t h = handle(device);
  set_device(device);
  const double a64 = alpha, b64 = beta;
  const float a32 = static_cast<float>(alpha), b32 = static_cast<float>(beta);
  const void* pa = c.dtype() == kFloat64 ? static_cast<const void*>(&a64) : static_cast<const void*>(&a32);
  const void* pb = c.dtype() == kFloat64 ? static_cast<const void*>(&b64) : static_cast<const void*>(&b32);
  // column-major: C^T (m x n) = B^T (m x k) * A^T (k x n)
  // The 64-bit API (cuBLAS >= 12, which the build requires) takes every size, leading dimension
  // and the batch count as int64, so no product is refused or silently truncated at 2^31 - 1
  // (the int API would need a check per value; for sizes that fit it runs the same kernels).
  NABLA_CUBLAS_CHECK(cublasGemmStridedBatchedEx_64(
      h, lb.op, la.op, m, n, k, pa, b.data_ptr(), data, lb.ld, b.stride(0), a.data_ptr(), data, la.ld,
      a.stride(0), pb, c.data_ptr(), data, m, n * m, batch, compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void bmm_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  if (c.in[0].size(2) == 0) {  // empty inner dim: the product is zero
    Tensor o = out;
    o.zero_();
    return;
  }
  gemm(c.in[0], c.in[1], out, 1.0, 0.0);
}

void addmm_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const AddmmParams p = AddmmParams::from(c.p);
  Tensor o = out;
  if (p.beta != 0.0) o.copy_(c.in[0].expand(out.sizes()));
  if (c.in[1].size(1) == 0) {
    if (p.beta == 0.0)
      o.zero_();
    else if (p.beta != 1.0)
      o.mul_(p.beta);
    return;
  }
  gemm(c.in[1].unsqueeze(0), c.in[2].unsqueeze(0), out.unsqueeze(0), p.alpha, p.beta == 0.0 ? 0.0 : p.beta);
}

}  // namespace nabla::cuda
