// CUDA kernels of the fused cross-entropy pair (formulas in core/math/loss.h, shared with
// cpu_fallback/loss.cpp): the forward takes one thread per row (the two-pass log-sum-exp of
// core/math/softmax.h, then the smoothed loss); the backward one thread per element, reading
// the saved log-sum-exp. Out-of-range targets are reported through the device's report slot
// and become nabla::Error at the next synchronisation point (cuda/kernel_report.h).
#include "core/math/loss.h"
#include "cuda/kernel_report.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"
#include "nabla/ops.h"
#include "ops/params_loss.h"

namespace nabla::cuda {
namespace {

template <class T, class A>
__global__ void __launch_bounds__(kBlock)
    ce_forward(const T* x, const int64_t* target, const T* w, T* loss, T* lse, int64_t n, int64_t classes,
               int64_t ignore, A smoothing, KernelReport* bad, ReportSite site) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const T* row = x + i * classes;
    const int64_t t = target[i];
    if (t != ignore && !math::ce_counts(t, ignore, classes)) report_bad(bad, site, t);
    const math::CeRow<A> r = math::ce_forward_row(
        classes, t, ignore, smoothing, [&](int64_t k) { return cvt<A>(row[k]); },
        [&](int64_t k) { return cvt<A>(w[k]); });
    lse[i] = cvt<T>(r.lse);
    loss[i] = cvt<T>(r.loss);
  }
}

template <class T, class A>
__global__ void __launch_bounds__(kBlock)
    ce_backward(const T* g, const T* x, const int64_t* target, const T* w, const T* lse, const A* sum_w,
                T* gx, int64_t n, int64_t classes, int64_t ignore, A smoothing) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n * classes;
       e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t i = e / classes, k = e % classes;
    const int64_t t = target[i];
    if (!math::ce_counts(t, ignore, classes)) {
      gx[e] = cvt<T>(A(0));
      continue;
    }
    const A wt = cvt<A>(w[t]);
    const A total = math::ce_total(wt, *sum_w, smoothing, classes);
    const A a = math::ce_coefficient(k, t, cvt<A>(w[k]), wt, smoothing, classes);
    gx[e] = cvt<T>(math::ce_gradient(cvt<A>(g[i]), cvt<A>(x[e]), cvt<A>(lse[i]), total, a));
  }
}

}  // namespace

void cross_entropy_kernel(const KernelCall& c) {
  const CrossEntropyParams p = CrossEntropyParams::from(c.p);
  const Tensor& x = c.in[0];
  const int64_t n = x.size(0), classes = x.size(1);
  if (n == 0) return;
  KernelReport* const slot = report_slot(x.device().index);
  visit_float(x.dtype(), "cross_entropy", [&]<class T>() {
    using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
    const int d = x.device().index;
    set_device(d);
    NABLA_LAUNCH(ce_forward<T, A>, grid_size(n), kBlock, 0, stream(d), x.data_ptr<T>(),
                 c.in[1].data_ptr<int64_t>(), c.in[2].data_ptr<T>(), c.out[0].data_ptr<T>(),
                 c.out[1].data_ptr<T>(), n, classes, p.ignore_index, static_cast<A>(p.label_smoothing), slot,
                 ReportSite{ReportOp::cross_entropy, classes, p.ignore_index});
  });
}

void cross_entropy_backward_kernel(const KernelCall& c) {
  // inputs: grad [N], logits [N, C], target [N], weight [C], logsumexp [N]
  const CrossEntropyParams p = CrossEntropyParams::from(c.p);
  const Tensor& x = c.in[1];
  const int64_t n = x.size(0), classes = x.size(1);
  if (n == 0) return;
  visit_float(x.dtype(), "cross_entropy_backward", [&]<class T>() {
    using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
    // summed in the accumulation type on the device (no sync): in a 16-bit type the sum of
    // many class weights would lose most of its digits
    const Tensor sum_w = sum(c.in[3].to(dtype_of<A>()));
    const int d = x.device().index;
    set_device(d);
    // C == 0 leaves no element: grid_size gives an empty grid and nothing is launched
    NABLA_LAUNCH(ce_backward<T, A>, grid_size(n * classes), kBlock, 0, stream(d), c.in[0].data_ptr<T>(),
                 x.data_ptr<T>(), c.in[2].data_ptr<int64_t>(), c.in[3].data_ptr<T>(), c.in[4].data_ptr<T>(),
                 sum_w.data_ptr<A>(), c.out[0].data_ptr<T>(), n, classes, p.ignore_index,
                 static_cast<A>(p.label_smoothing));
  });
}

}  // namespace nabla::cuda
