// conv2d and its two backward primitives on cuDNN: cudnnConvolutionForward,
// cudnnConvolutionBackwardData (also the forward of conv_transpose2d) and
// cudnnConvolutionBackwardFilter, over packed NCHW tensors with groups.
//
// Numerics: float16/bfloat16 compute in float; float32 runs on FMA kernels unless
// nabla::set_allow_tf32(true), when cuDNN may pick TF32 tensor-core kernels; float64 in double.
//
// Algorithms. Each (pass, device, dtype, shapes, window, TF32, deterministic, benchmark) key
// gets a list of candidate algorithms once, then every call of that key runs the first one
// whose workspace the caching allocator can provide (a candidate whose workspace could not be
// had is skipped by the key's later calls, see Entry):
//   - by default the list is cuDNN's heuristic order (cudnnGet*Algorithm_v7), nothing is run;
//   - in benchmark mode (nabla::cuda::set_cudnn_benchmark) cuDNN times the algorithms on the
//     call's own buffers (cudnnFind*AlgorithmEx) with the largest workspace the heuristics ask
//     for that can be allocated, and the list is the measured order;
//   - in deterministic mode (nabla::cuda::set_deterministic) only algorithms cuDNN reports as
//     CUDNN_DETERMINISTIC are kept (some backward ones accumulate with atomics).
// Workspaces are temporary tensors of the caching allocator: after the first calls they are
// cached blocks, not cudaMalloc calls.
#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "cuda/cudnn/handle.h"
#include "dispatch/dispatch.h"
#include "nabla/cuda.h"
#include "tensor/tensor_impl.h"

namespace nabla::cuda {
namespace {

enum class Pass { forward, backward_data, backward_filter };

const char* pass_op(Pass p) {
  switch (p) {
    case Pass::forward:
      return "conv2d";
    case Pass::backward_data:
      return "conv2d_backward_input";
    case Pass::backward_filter:
      return "conv2d_backward_weight";
  }
  return "conv2d";
}

// One convolution: x [N, C, H, W], w [O, C/groups, kh, kw], y [N, O, OH, OW]. The forward writes
// y, backward_data writes x (from y = the output's gradient), backward_filter writes w.
struct Conv {
  Pass pass;
  const Tensor& x;
  const Tensor& w;
  const Tensor& y;
  const ConvParams& p;
  ScalarType dtype;
  int device;
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
};

Conv describe(Pass pass, const Tensor& x, const Tensor& w, const Tensor& y, const ConvParams& p) {
  const ScalarType t = x.dtype();
  const char* op = pass_op(pass);
  return {pass,
          x,
          w,
          y,
          p,
          t,
          x.device().index,
          cudnn::tensor_desc(t, cudnn::dims32(x.sizes(), op)),
          cudnn::tensor_desc(t, cudnn::dims32(y.sizes(), op)),
          cudnn::filter_desc(t, cudnn::dims32(w.sizes(), op))};
}

struct Algo {
  int algo;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t, by pass
  cudnnMathType_t math;
  std::size_t workspace;
};

// The math type candidates are searched with: tensor cores for 16-bit data (accumulating in
// float), FMA kernels for float32 unless TF32 is allowed.
cudnnMathType_t search_math(ScalarType t) {
  if (t == kFloat16 || t == kBFloat16) return CUDNN_TENSOR_OP_MATH;
  if (t == kFloat32) return allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  return CUDNN_DEFAULT_MATH;
}

// The math type an algorithm runs with: cuDNN reports the one it measured or expects, but
// float32 stays on FMA kernels when TF32 is not allowed, whatever the report says.
cudnnMathType_t run_math(ScalarType t, cudnnMathType_t reported) {
  return t == kFloat32 && !allow_tf32() ? CUDNN_FMA_MATH : reported;
}

// The perf results cuDNN could run, in its order, within `max_workspace` bytes, and only the
// deterministic ones in deterministic mode.
template <class Perf>
std::vector<Algo> usable(const Perf* perf, int n, std::size_t max_workspace) {
  std::vector<Algo> r;
  for (int i = 0; i < n; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > max_workspace) continue;
    if (deterministic() && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
    r.push_back({static_cast<int>(perf[i].algo), perf[i].mathType, perf[i].memory});
  }
  return r;
}

// A workspace of `bytes` from the caching allocator (undefined for 0); OutOfMemoryError when
// it cannot be had.
Tensor workspace(std::size_t bytes, int device) {
  if (bytes == 0) return Tensor();
  return make_tensor({static_cast<int64_t>(bytes)}, kUInt8, Device::cuda(device), "cuDNN workspace");
}

std::vector<Algo> heuristic(const Conv& c, cudnnConvolutionDescriptor_t cd) {
  const cudnnHandle_t h = cudnn::handle(c.device);
  constexpr std::size_t kAny = SIZE_MAX;
  int n = 0;
  switch (c.pass) {
    case Pass::forward: {
      std::array<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT> perf{};
      NABLA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
          h, c.xd, c.wd, cd, c.yd, static_cast<int>(perf.size()), &n, perf.data()));
      return usable(perf.data(), n, kAny);
    }
    case Pass::backward_data: {
      std::array<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT> perf{};
      NABLA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          h, c.wd, c.yd, cd, c.xd, static_cast<int>(perf.size()), &n, perf.data()));
      return usable(perf.data(), n, kAny);
    }
    case Pass::backward_filter: {
      std::array<cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT> perf{};
      NABLA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, c.xd, c.yd, cd, c.wd, static_cast<int>(perf.size()), &n, perf.data()));
      return usable(perf.data(), n, kAny);
    }
  }
  return {};
}

// Times the algorithms on the call's buffers (the output is overwritten, and then computed
// for real by the caller). The workspace is the largest a heuristic candidate asks for that
// can be allocated now.
std::vector<Algo> measure(const Conv& c, cudnnConvolutionDescriptor_t cd,
                          const std::vector<Algo>& candidates) {
  std::vector<std::size_t> sizes;
  for (const Algo& a : candidates) sizes.push_back(a.workspace);
  std::sort(sizes.begin(), sizes.end(), std::greater<>());
  Tensor ws;
  std::size_t ws_bytes = 0;
  for (std::size_t s : sizes) {
    try {
      ws = workspace(s, c.device);
      ws_bytes = s;
      break;
    } catch (const OutOfMemoryError&) {
      // try the next smaller size
    }
  }
  void* wsp = ws.defined() ? ws.data_ptr() : nullptr;
  const cudnnHandle_t h = cudnn::handle(c.device);
  set_device(c.device);
  int n = 0;
  switch (c.pass) {
    case Pass::forward: {
      std::array<cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT> perf{};
      NABLA_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
          h, c.xd, c.x.data_ptr(), c.wd, c.w.data_ptr(), cd, c.yd, c.y.data_ptr(),
          static_cast<int>(perf.size()), &n, perf.data(), wsp, ws_bytes));
      return usable(perf.data(), n, ws_bytes);
    }
    case Pass::backward_data: {
      std::array<cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT> perf{};
      NABLA_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
          h, c.wd, c.w.data_ptr(), c.yd, c.y.data_ptr(), cd, c.xd, c.x.data_ptr(),
          static_cast<int>(perf.size()), &n, perf.data(), wsp, ws_bytes));
      return usable(perf.data(), n, ws_bytes);
    }
    case Pass::backward_filter: {
      std::array<cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT> perf{};
      NABLA_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
          h, c.xd, c.x.data_ptr(), c.yd, c.y.data_ptr(), cd, c.wd, c.w.data_ptr(),
          static_cast<int>(perf.size()), &n, perf.data(), wsp, ws_bytes));
      return usable(perf.data(), n, ws_bytes);
    }
  }
  return {};
}

// The workspace algorithm `a` needs with the math type it runs with (which may differ from
// the one it was found with), or nothing when cuDNN cannot run it so.
std::optional<std::size_t> run_workspace(const Conv& c, const Algo& a) {
  const cudnnConvolutionDescriptor_t cd = cudnn::conv_desc(c.dtype, c.p, run_math(c.dtype, a.math));
  const cudnnHandle_t h = cudnn::handle(c.device);
  std::size_t bytes = 0;
  cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
  switch (c.pass) {
    case Pass::forward:
      status = cudnnGetConvolutionForwardWorkspaceSize(
          h, c.xd, c.wd, cd, c.yd, static_cast<cudnnConvolutionFwdAlgo_t>(a.algo), &bytes);
      break;
    case Pass::backward_data:
      status = cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, c.wd, c.yd, cd, c.xd, static_cast<cudnnConvolutionBwdDataAlgo_t>(a.algo), &bytes);
      break;
    case Pass::backward_filter:
      status = cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, c.xd, c.yd, cd, c.wd, static_cast<cudnnConvolutionBwdFilterAlgo_t>(a.algo), &bytes);
      break;
  }
  if (status / 1000 == CUDNN_STATUS_NOT_SUPPORTED / 1000)
    return std::nullopt;  // cuDNN 9's NOT_SUPPORTED_* family
  NABLA_CUDNN_CHECK(status);
  return bytes;
}

using AlgoKey = std::array<int64_t, 25>;
constexpr std::size_t kBenchmarkField = 24;  // the key's last field: whether benchmark mode chose

AlgoKey key_of(const Conv& c) {
  return {static_cast<int64_t>(c.pass),
          c.device,
          static_cast<int64_t>(c.dtype),
          c.x.size(0),
          c.x.size(1),
          c.x.size(2),
          c.x.size(3),
          c.w.size(0),
          c.w.size(1),
          c.w.size(2),
          c.w.size(3),
          c.y.size(0),
          c.y.size(1),
          c.y.size(2),
          c.y.size(3),
          c.p.padding[0],
          c.p.padding[1],
          c.p.stride[0],
          c.p.stride[1],
          c.p.dilation[0],
          c.p.dilation[1],
          c.p.groups,
          allow_tf32(),
          deterministic(),
          cudnn_benchmark()};
}

// A key's candidates, and where its calls start: `first` moves past the candidates whose
// workspace could not be allocated, so a workspace that never fits is asked for once per key,
// not on every call. (A failed request is expensive: the caching allocator synchronises the
// device and returns all its cached blocks to the driver before it gives up, and the next
// calls then pay cudaMalloc again for every buffer.) The cost is that a key stays on the
// slower algorithm if memory frees up later; the candidates are cheap to find again in a new
// process, and a steady loop has the same peak every step.
struct Entry {
  std::vector<Algo> algos;
  std::size_t first = 0;
};

// One lock for the cache and every entry's `first`; entries are never erased, so a reference
// to one stays valid after the lock is released (std::map nodes do not move).
struct AlgoCache {
  std::mutex mutex;
  std::map<AlgoKey, Entry> entries;
};

AlgoCache& algo_cache() {
  static AlgoCache cache;
  return cache;
}

// The entry of c's key: found once, then read from the cache. The search runs outside the
// lock (benchmarking takes a while and allocates); two threads racing on a new key both search
// and the first result is kept.
Entry& candidates(const Conv& c) {
  AlgoCache& cache = algo_cache();
  const AlgoKey key = key_of(c);
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.entries.find(key);
    if (it != cache.entries.end()) return it->second;
  }
  const cudnnConvolutionDescriptor_t cd = cudnn::conv_desc(c.dtype, c.p, search_math(c.dtype));
  std::vector<Algo> found = heuristic(c, cd);
  if (key[kBenchmarkField] != 0 && !found.empty()) found = measure(c, cd, found);
  Entry e;
  for (Algo a : found) {
    if (const std::optional<std::size_t> bytes = run_workspace(c, a)) {
      a.workspace = *bytes;
      e.algos.push_back(a);
    }
  }
  std::lock_guard<std::mutex> lock(cache.mutex);
  return cache.entries.emplace(key, std::move(e)).first->second;
}

void launch(const Conv& c, const Algo& a, const Tensor& ws) {
  const cudnnConvolutionDescriptor_t cd = cudnn::conv_desc(c.dtype, c.p, run_math(c.dtype, a.math));
  const cudnnHandle_t h = cudnn::handle(c.device);
  void* wsp = ws.defined() ? ws.data_ptr() : nullptr;
  const auto [one, zero] = cudnn::scaling(c.dtype);
  set_device(c.device);
  switch (c.pass) {
    case Pass::forward:
      NABLA_CUDNN_CHECK(cudnnConvolutionForward(h, one, c.xd, c.x.data_ptr(), c.wd, c.w.data_ptr(), cd,
                                                static_cast<cudnnConvolutionFwdAlgo_t>(a.algo), wsp,
                                                a.workspace, zero, c.yd, c.y.data_ptr()));
      return;
    case Pass::backward_data:
      NABLA_CUDNN_CHECK(cudnnConvolutionBackwardData(h, one, c.wd, c.w.data_ptr(), c.yd, c.y.data_ptr(), cd,
                                                     static_cast<cudnnConvolutionBwdDataAlgo_t>(a.algo), wsp,
                                                     a.workspace, zero, c.xd, c.x.data_ptr()));
      return;
    case Pass::backward_filter:
      NABLA_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, one, c.xd, c.x.data_ptr(), c.yd, c.y.data_ptr(), cd,
                                                       static_cast<cudnnConvolutionBwdFilterAlgo_t>(a.algo),
                                                       wsp, a.workspace, zero, c.wd, c.w.data_ptr()));
      return;
  }
}

// Runs the first candidate, from the entry's `first` on, whose workspace can be allocated. After
// a failed request of S bytes only candidates needing less than S are tried (a larger one
// would fail the same way, each time a failed cudaMalloc); the workspace-free ones, which
// cuDNN's lists end with, always can run. The candidate that ran becomes the key's `first`.
void run(Pass pass, const Tensor& x, const Tensor& w, const Tensor& y, const ConvParams& p) {
  const Conv c = describe(pass, x, w, y, p);
  set_device(c.device);
  Entry& e = candidates(c);
  const std::vector<Algo>& algos = e.algos;  // never changes once cached
  NABLA_CHECK(
      !algos.empty(),
      "{}: cuDNN offers no {}algorithm for input {}, weight {}, output {} ({}, stride ({}, {}), padding ({}, "
      "{}), dilation ({}, {}), groups {})",
      pass_op(pass), deterministic() ? "deterministic " : "", x.shape_str(), w.shape_str(), y.shape_str(),
      dtype_name(c.dtype), p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1],
      p.groups);
  AlgoCache& cache = algo_cache();
  std::size_t first = 0;
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    first = e.first;
  }
  std::size_t failed_bytes = SIZE_MAX;
  std::exception_ptr oom;
  for (std::size_t i = first; i < algos.size(); ++i) {
    if (algos[i].workspace >= failed_bytes) continue;
    Tensor ws;
    try {
      ws = workspace(algos[i].workspace, c.device);
    } catch (const OutOfMemoryError&) {
      failed_bytes = algos[i].workspace;
      oom = std::current_exception();
      continue;  // a slower algorithm with a smaller workspace may fit
    }
    if (i != first) {
      std::lock_guard<std::mutex> lock(cache.mutex);
      e.first = std::max(e.first, i);
    }
    launch(c, algos[i], ws);
    return;
  }
  // no candidate's workspace fits (the list had no workspace-free one): the last failure says
  // how many bytes were asked for and what was free
  NABLA_INTERNAL_ASSERT(oom != nullptr, "{}: no cuDNN candidate was tried", pass_op(pass));
  std::rethrow_exception(oom);
}

// An output whose sums are empty (no input channels, no batch) is zero; cuDNN takes no empty
// tensors.
void zero(const Tensor& t) {
  Tensor o = t;
  o.zero_();
}

}  // namespace

void conv2d_kernel(const KernelCall& k) {
  const Tensor &x = k.in[0], &w = k.in[1], &y = k.out[0];
  if (y.numel() == 0) return;
  if (x.numel() == 0 || w.numel() == 0) return zero(y);
  run(Pass::forward, x, w, y, ConvParams::from(k.p));
}

void conv2d_backward_input_kernel(const KernelCall& k) {
  // inputs (grad [N, O, OH, OW], w); output grad_x [N, C, H, W]
  const Tensor &gy = k.in[0], &w = k.in[1], &gx = k.out[0];
  if (gx.numel() == 0) return;
  if (gy.numel() == 0 || w.numel() == 0) return zero(gx);
  run(Pass::backward_data, gx, w, gy, ConvParams::from(k.p));
}

void conv2d_backward_weight_kernel(const KernelCall& k) {
  // inputs (x, grad [N, O, OH, OW]); output grad_w [O, C/g, kh, kw]
  const Tensor &x = k.in[0], &gy = k.in[1], &gw = k.out[0];
  if (gw.numel() == 0) return;
  if (x.numel() == 0 || gy.numel() == 0) return zero(gw);
  run(Pass::backward_filter, x, gw, gy, ConvParams::from(k.p));
}

}  // namespace nabla::cuda
