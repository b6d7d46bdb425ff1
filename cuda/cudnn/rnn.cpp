// The recurrent op (rnn / rnn_backward) on cuDNN's RNN API (v8 entry points: cudnnRNNForward,
// cudnnRNNBackwardData_v8, cudnnRNNBackwardWeights_v8).
//
// cuDNN keeps all weights of a network in one flat buffer in its own layout. nabla keeps
// PyTorch's separate parameters, so the kernel packs them into the buffer with
// cudnnGetRNNWeightParams and device-to-device copies, once per configuration, and again only
// when a parameter changed: the cache remembers each parameter's storage (weakly), address and
// version counter, which every in-place update (optimizer steps included) bumps. Backward
// writes cuDNN's flat weight gradient and unpacks it into the parameters' gradient shapes.
//
// Parameters of another dtype than the input (16-bit ones, when the front end passes them as
// they are) are converted into the buffer when they are packed, so the check above keys on the
// parameters the user holds: an unchanged 16-bit model packs once, and an optimizer step (which
// bumps the version) repacks. Float32 copies made afresh per call by a front end never match
// that check (new storage each time): then each call repacks (device-to-device copies only),
// but the state itself is taken over, not rebuilt (see state_for).
//
// Data layout: every sequence of a batch has all T steps, so x and y ([T, B, F], contiguous)
// are exactly cuDNN's sequence-major *packed* layout, which is the layout cuDNN permits with
// padded I/O disabled (the unpacked layouts require CUDNN_RNN_PADDED_IO_ENABLED). Padded I/O
// would only add the fill of steps past a sequence's length, which never exist here.
//
// Threads: every use of a State (lookup, packing, the cuDNN calls that read its descriptors,
// dropout states and buffers) runs under g_mutex; the handle is the calling thread's own.
//
// The reserve space (what backward needs from forward) is the op's uint8 output, allocated
// here at the size cuDNN asks for, so autograd carries it to backward; inference (no grad)
// runs cuDNN's inference mode with no reserve. Dropout between layers uses cuDNN's own
// generator (states made once per configuration, seeded from nabla's generator on first use),
// so its masks are not the CPU's.
//
// The handle, checked calls and data types are cuda/cudnn/handle.h's, shared with the
// convolutions and batch norm.
#include <array>
#include <climits>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/cudnn/handle.h"
#include "cuda/runtime.h"
#include "dispatch/dispatch.h"
#include "nabla/autograd.h"
#include "nabla/cuda.h"
#include "ops/rnn_config.h"
#include "tensor/tensor_impl.h"

namespace nabla::cuda {
std::shared_ptr<Storage> cuda_allocate(std::size_t nbytes, Device device);  // cuda/allocator.cpp

namespace {

using cudnn::data_type;
using cudnn::handle;

// A configuration, and whose weights: two layers of one shape in a model (told apart by the
// address of their first weight) get a state each instead of repacking on every call.
struct Key {
  RnnConfig cfg;
  ScalarType dtype;
  int device;
  const void* owner;
  bool same_config(const Key& o) const {
    return cfg.mode == o.cfg.mode && cfg.layers == o.cfg.layers && cfg.dirs == o.cfg.dirs &&
           cfg.hidden == o.cfg.hidden && cfg.input == o.cfg.input && cfg.bias == o.cfg.bias &&
           cfg.dropout == o.cfg.dropout && dtype == o.dtype && device == o.device;
  }
  bool operator==(const Key& o) const { return same_config(o) && owner == o.owner; }
};

// cuDNN's RNN sizes are 32-bit ints.
int32_t to_int(int64_t v, const char* what) {
  NABLA_CHECK(v >= 0 && v <= INT32_MAX, "rnn: {} {} does not fit cuDNN's 32-bit ints", what, v);
  return static_cast<int32_t>(v);
}

// Where a packed parameter came from.
struct Packed {
  std::weak_ptr<Storage> storage;
  const void* data = nullptr;
  uint32_t version = 0;
};

// One configuration's descriptors, dropout states and packed weights.
struct State {
  Key key;
  cudnnRNNDescriptor_t rnn = nullptr;
  cudnnDropoutDescriptor_t dropout = nullptr;
  std::shared_ptr<Storage> dropout_states, weights;
  std::size_t weight_bytes = 0;
  std::vector<Packed> packed;
  // Whether the parameters packed last are all gone: nobody holds them, so a call with other
  // parameters of the same configuration may take this state over.
  bool orphaned() const {
    for (const Packed& p : packed) {
      if (!p.storage.expired()) return false;
    }
    return true;
  }
  // the device array of sequence lengths (all T) for the last (T, B) seen: made once, reused
  std::shared_ptr<Storage> lengths;
  int64_t lengths_t = -1, lengths_b = -1;

  State(const Key& k, cudnnHandle_t h) : key(k) {
    try {
      init(h);
    } catch (...) {
      destroy();  // a constructor that throws runs no destructor
      throw;
    }
  }
  ~State() { destroy(); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

 private:
  void destroy() {
    if (rnn != nullptr) cudnnDestroyRNNDescriptor(rnn);
    if (dropout != nullptr) cudnnDestroyDropoutDescriptor(dropout);
    rnn = nullptr;
    dropout = nullptr;
  }
  void init(cudnnHandle_t h) {
    const Key& k = key;
    const RnnConfig& c = k.cfg;
    NABLA_CUDNN_CHECK(cudnnCreateDropoutDescriptor(&dropout));
    if (c.dropout > 0.0) {
      std::size_t bytes = 0;
      NABLA_CUDNN_CHECK(cudnnDropoutGetStatesSize(h, &bytes));
      dropout_states = cuda_allocate(bytes, Device::cuda(k.device));
      NABLA_CUDNN_CHECK(cudnnSetDropoutDescriptor(dropout, h, static_cast<float>(c.dropout),
                                                  dropout_states->data, bytes, c.dropout_seed));
    } else {
      // no random states are made (nor needed) for a dropout of 0
      NABLA_CUDNN_CHECK(cudnnSetDropoutDescriptor(dropout, h, 0.0f, nullptr, 0, 0));
    }
    NABLA_CUDNN_CHECK(cudnnCreateRNNDescriptor(&rnn));
    const cudnnDataType_t t = data_type(k.dtype);
    // FMA math keeps float32 in float32 (no TF32) unless the user allowed TF32.
    const cudnnMathType_t math = k.dtype == kFloat32 && !allow_tf32() ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
    NABLA_CUDNN_CHECK(cudnnSetRNNDescriptor_v8(
        rnn, CUDNN_RNN_ALGO_STANDARD, static_cast<cudnnRNNMode_t>(c.mode),
        c.bias ? CUDNN_RNN_DOUBLE_BIAS : CUDNN_RNN_NO_BIAS,
        c.dirs == 2 ? CUDNN_BIDIRECTIONAL : CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, t, t, math,
        to_int(c.input, "input size"), to_int(c.hidden, "hidden size"),
        /*projSize=*/to_int(c.hidden, "hidden size"), to_int(c.layers, "number of layers"), dropout,
        CUDNN_RNN_PADDED_IO_DISABLED));  // with the packed data layout of DataDesc (see the file's header)
    NABLA_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(h, rnn, &weight_bytes));
    weights = cuda_allocate(weight_bytes, Device::cuda(k.device));
  }
};

// The few most recent configurations (a model rarely has more than a handful of RNN layers).
std::mutex g_mutex;
std::list<std::unique_ptr<State>> g_states;
constexpr std::size_t kMaxStates = 8;

// The state of `k`: its own if cached; else a cached state of the same configuration whose
// parameters are gone, taken over (building one costs descriptors, a weight-space allocation
// and, with dropout, cuDNN's generator-state initialisation kernel; and a new one evicts
// another layer's); else a new one. Parameters made afresh per call (a front end's converted
// copies) thus reuse one state instead of building one per call.
State& state_for(const Key& k, cudnnHandle_t h) {
  for (auto it = g_states.begin(); it != g_states.end(); ++it) {
    if ((*it)->key == k) {
      g_states.splice(g_states.begin(), g_states, it);
      return *g_states.front();
    }
  }
  for (auto it = g_states.begin(); it != g_states.end(); ++it) {
    if ((*it)->key.same_config(k) && (*it)->orphaned()) {
      (*it)->key.owner = k.owner;
      (*it)->packed.clear();
      g_states.splice(g_states.begin(), g_states, it);
      return *g_states.front();
    }
  }
  g_states.push_front(std::make_unique<State>(k, h));
  if (g_states.size() > kMaxStates) g_states.pop_back();
  return *g_states.front();
}

struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() { NABLA_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

struct DataDesc {
  cudnnRNNDataDescriptor_t d = nullptr;
  DataDesc(cudnnDataType_t t, int64_t T, int64_t B, int64_t F) {
    to_int(B, "batch size");
    const std::vector<int> lengths(static_cast<std::size_t>(B), to_int(T, "sequence length"));
    NABLA_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&d));
    // Packed sequence-major: [T, B, F] with every length T (sorted non-increasing, as packed
    // data must be), no padding fill. The lengths are read here from host memory; the calls get
    // the device copy (seq_lengths).
    const cudnnStatus_t status = cudnnSetRNNDataDescriptor(
        d, t, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED, lengths[0], static_cast<int>(B),
        to_int(F, "feature size"), lengths.data(), /*paddingFill=*/nullptr);
    if (status != CUDNN_STATUS_SUCCESS) cudnnDestroyRNNDataDescriptor(d);  // the destructor will not run
    NABLA_CUDNN_CHECK(status);
  }
  ~DataDesc() { cudnnDestroyRNNDataDescriptor(d); }
  DataDesc(const DataDesc&) = delete;
  DataDesc& operator=(const DataDesc&) = delete;
};

// Copies between nabla's parameters and cuDNN's flat buffer `flat`: to_flat packs, otherwise
// unpacks. cuDNN's linear layer k (< G) is gate k of W_ih (rows k*H..), G + k gate k of W_hh;
// its gate order is PyTorch's.
void copy_weights(const State& s, cudnnHandle_t h, void* flat, std::span<const Tensor> params, bool to_flat,
                  cudaStream_t st) {
  const RnnConfig& c = s.key.cfg;
  const int64_t G = c.gates(), H = c.hidden, es = static_cast<int64_t>(element_size(s.key.dtype));
  TensorDesc mdesc, bdesc;
  for (int64_t l = 0; l < c.layers; ++l) {
    for (int64_t d = 0; d < c.dirs; ++d) {
      const std::size_t w0 = static_cast<std::size_t>((l * c.dirs + d) * c.weights_per_dir());
      for (int64_t lin = 0; lin < 2 * G; ++lin) {
        void* m = nullptr;
        void* b = nullptr;
        NABLA_CUDNN_CHECK(cudnnGetRNNWeightParams(h, s.rnn, static_cast<int32_t>(l * c.dirs + d),
                                                  s.weight_bytes, flat, static_cast<int32_t>(lin), mdesc.d,
                                                  &m, bdesc.d, &b));
        const int64_t gate = lin % G;
        const Tensor& w = params[w0 + (lin < G ? 0 : 1)];
        const int64_t cols = w.size(1);
        char* wp = static_cast<char*>(w.data_ptr()) + gate * H * cols * es;
        const std::size_t wbytes = static_cast<std::size_t>(H * cols * es);
        if (wbytes > 0)
          NABLA_CUDA_CHECK(
              cudaMemcpyAsync(to_flat ? m : wp, to_flat ? wp : m, wbytes, cudaMemcpyDeviceToDevice, st));
        if (c.bias && b != nullptr) {
          const Tensor& bt = params[w0 + (lin < G ? 2 : 3)];
          char* bp = static_cast<char*>(bt.data_ptr()) + gate * H * es;
          NABLA_CUDA_CHECK(cudaMemcpyAsync(to_flat ? b : bp, to_flat ? bp : b,
                                           static_cast<std::size_t>(H * es), cudaMemcpyDeviceToDevice, st));
        }
      }
    }
  }
}

// `params` in the state's compute dtype: the tensors themselves when they have it, else
// contiguous converted copies (16-bit parameters). Stream-ordered reuse by the caching
// allocator keeps a copy alive long enough for the asynchronous copies that read it.
std::vector<Tensor> in_compute_dtype(const State& s, std::span<const Tensor> params) {
  const NoGradGuard no_grad;
  std::vector<Tensor> r;
  r.reserve(params.size());
  for (const Tensor& p : params) r.push_back(p.dtype() == s.key.dtype ? p : p.to(s.key.dtype).contiguous());
  return r;
}

bool all_in_dtype(std::span<const Tensor> ts, ScalarType t) {
  for (const Tensor& x : ts) {
    if (x.dtype() != t) return false;
  }
  return true;
}

// Packs the parameters into the state's buffer unless it already holds these versions. The
// check is on the parameters as passed (their storage, address and version), before any
// conversion, so 16-bit parameters that did not change are not converted again.
void pack(State& s, cudnnHandle_t h, std::span<const Tensor> params, cudaStream_t st) {
  bool same = s.packed.size() == params.size();
  for (std::size_t i = 0; same && i < params.size(); ++i) {
    const Packed& p = s.packed[i];
    same = p.storage.lock() == params[i].impl()->storage && p.data == params[i].data_ptr() &&
           p.version == params[i].version();
  }
  if (same) return;
  if (all_in_dtype(params, s.key.dtype)) {
    copy_weights(s, h, s.weights->data, params, /*to_flat=*/true, st);
  } else {
    const std::vector<Tensor> converted = in_compute_dtype(s, params);
    copy_weights(s, h, s.weights->data, converted, /*to_flat=*/true, st);
  }
  s.packed.clear();
  for (const Tensor& t : params) s.packed.push_back({t.impl()->storage, t.data_ptr(), t.version()});
}

// cuDNN's device array of sequence lengths (every sequence has all T steps), kept on the State
// so that a steady (T, B) copies nothing per call.
const int32_t* seq_lengths(State& s, int64_t T, int64_t B, int device, cudaStream_t st) {
  if (s.lengths == nullptr || s.lengths_t != T || s.lengths_b != B) {
    const std::vector<int32_t> host(static_cast<std::size_t>(B), static_cast<int32_t>(T));
    auto dev = cuda_allocate(std::max<std::size_t>(1, host.size() * sizeof(int32_t)), Device::cuda(device));
    // pageable source: the copy has read it when the call returns
    NABLA_CUDA_CHECK(
        cudaMemcpyAsync(dev->data, host.data(), host.size() * sizeof(int32_t), cudaMemcpyHostToDevice, st));
    s.lengths = std::move(dev);
    s.lengths_t = T;
    s.lengths_b = B;
  }
  return static_cast<const int32_t*>(s.lengths->data);
}

void set_state_desc(const TensorDesc& d, const RnnConfig& c, ScalarType t, int64_t B) {
  const int dims[3] = {static_cast<int>(c.layers * c.dirs), static_cast<int>(B), static_cast<int>(c.hidden)};
  const int strides[3] = {static_cast<int>(B * c.hidden), static_cast<int>(c.hidden), 1};
  NABLA_CUDNN_CHECK(cudnnSetTensorNdDescriptor(d.d, data_type(t), 3, dims, strides));
}

void* ptr_or_null(const Tensor& t) { return t.numel() > 0 ? t.data_ptr() : nullptr; }

}  // namespace

void rnn_kernel(const KernelCall& c) {
  const RnnConfig cfg = RnnConfig::from(c.p);
  const Tensor& x = c.in[kRnnX];
  // cuDNN rejects an input size of 0 (an RNN descriptor needs inputSize > 0)
  NABLA_CHECK(cfg.input > 0, "rnn: cuDNN needs at least one input feature, got input of shape {}",
              x.shape_str());
  const int dev = x.device().index;
  set_device(dev);
  const cudaStream_t st = stream(dev);
  const cudnnHandle_t h = handle(dev);
  const int64_t T = x.size(0), B = x.size(1);
  const std::lock_guard<std::mutex> lock(g_mutex);
  State& s = state_for(Key{cfg, x.dtype(), dev, c.in[kRnnWeights].data_ptr()}, h);
  pack(s, h, c.in.subspan(kRnnWeights), st);

  const cudnnDataType_t t = data_type(x.dtype());
  const DataDesc xd(t, T, B, cfg.input), yd(t, T, B, cfg.dirs * cfg.hidden);
  TensorDesc hd;
  set_state_desc(hd, cfg, x.dtype(), B);
  const cudnnForwardMode_t mode = cfg.train ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE;
  std::size_t ws_bytes = 0, rs_bytes = 0;
  NABLA_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(h, s.rnn, mode, xd.d, &ws_bytes, &rs_bytes));
  const auto ws = cuda_allocate(std::max<std::size_t>(ws_bytes, 1), x.device());
  Tensor reserve = make_tensor({cfg.train ? static_cast<int64_t>(rs_bytes) : 0}, kUInt8, x.device(), "rnn");
  c.out[kRnnReserve] = reserve;
  const int32_t* lengths = seq_lengths(s, T, B, dev, st);
  NABLA_CUDNN_CHECK(
      cudnnRNNForward(h, s.rnn, mode, lengths, xd.d, x.data_ptr(), yd.d, c.out[kRnnY].data_ptr(), hd.d,
                      c.in[kRnnH0].data_ptr(), c.out[kRnnHn].data_ptr(), hd.d, ptr_or_null(c.in[kRnnC0]),
                      ptr_or_null(c.out[kRnnCn]), s.weight_bytes, s.weights->data, ws_bytes, ws->data,
                      cfg.train ? rs_bytes : 0, cfg.train ? reserve.data_ptr() : nullptr));
}

void rnn_backward_kernel(const KernelCall& c) {
  const RnnConfig cfg = RnnConfig::from(c.p);
  const Tensor& x = c.in[kRnnX];
  const int dev = x.device().index;
  set_device(dev);
  const cudaStream_t st = stream(dev);
  const cudnnHandle_t h = handle(dev);
  const int64_t T = x.size(0), B = x.size(1);
  const std::lock_guard<std::mutex> lock(g_mutex);
  const std::span<const Tensor> params = c.in.subspan(kRnnBwdWeights);
  State& s = state_for(Key{cfg, x.dtype(), dev, params[0].data_ptr()}, h);
  pack(s, h, params, st);

  const cudnnDataType_t t = data_type(x.dtype());
  const DataDesc xd(t, T, B, cfg.input), yd(t, T, B, cfg.dirs * cfg.hidden);
  TensorDesc hd;
  set_state_desc(hd, cfg, x.dtype(), B);
  std::size_t ws_bytes = 0, rs_bytes = 0;
  NABLA_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(h, s.rnn, CUDNN_FWD_MODE_TRAINING, xd.d, &ws_bytes, &rs_bytes));
  const Tensor& reserve = c.in[kRnnBwdReserve];
  NABLA_INTERNAL_ASSERT(static_cast<std::size_t>(reserve.numel()) == rs_bytes,
                        "rnn_backward: reserve of {} bytes, cuDNN expects {}", reserve.numel(), rs_bytes);
  void* rs = reserve.data_ptr();
  const auto ws = cuda_allocate(std::max<std::size_t>(ws_bytes, 1), x.device());
  const int32_t* len = seq_lengths(s, T, B, dev, st);
  NABLA_CUDNN_CHECK(cudnnRNNBackwardData_v8(
      h, s.rnn, len, yd.d, c.in[kRnnBwdY].data_ptr(), c.in[kRnnBwdDy].data_ptr(), xd.d, c.out[0].data_ptr(),
      hd.d, c.in[kRnnH0].data_ptr(), c.in[kRnnBwdDhn].data_ptr(), c.out[1].data_ptr(), hd.d,
      ptr_or_null(c.in[kRnnC0]), ptr_or_null(c.in[kRnnBwdDcn]), ptr_or_null(c.out[2]), s.weight_bytes,
      s.weights->data, ws_bytes, ws->data, rs_bytes, rs));
  const auto dw = cuda_allocate(s.weight_bytes, x.device());
  NABLA_CUDA_CHECK(cudaMemsetAsync(dw->data, 0, s.weight_bytes, st));
  NABLA_CUDNN_CHECK(cudnnRNNBackwardWeights_v8(h, s.rnn, CUDNN_WGRAD_MODE_ADD, len, xd.d, x.data_ptr(), hd.d,
                                               c.in[kRnnH0].data_ptr(), yd.d, c.in[kRnnBwdY].data_ptr(),
                                               s.weight_bytes, dw->data, ws_bytes, ws->data, rs_bytes, rs));
  const std::span<Tensor> grads(c.out.data() + 3, params.size());
  if (all_in_dtype(grads, s.key.dtype)) {
    copy_weights(s, h, dw->data, grads, /*to_flat=*/false, st);
  } else {
    // gradients of 16-bit parameters: unpacked in the compute dtype, then converted
    const NoGradGuard no_grad;
    std::vector<Tensor> tmp;
    tmp.reserve(grads.size());
    for (const Tensor& g : grads)
      tmp.push_back(make_tensor(g.sizes(), s.key.dtype, g.device(), "rnn_backward"));
    copy_weights(s, h, dw->data, tmp, /*to_flat=*/false, st);
    for (std::size_t i = 0; i < grads.size(); ++i) grads[i].copy_(tmp[i]);
  }
}

}  // namespace nabla::cuda
