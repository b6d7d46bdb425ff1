// cuDNN handles per (thread, device) (cuda/handle_pool.h) and the descriptor cache (see handle.h).
#include "cuda/cudnn/handle.h"

#include <climits>
#include <map>
#include <mutex>

#include "cuda/handle_pool.h"
#include "tensor/tensor_impl.h"

namespace nabla::cuda::cudnn {

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  cudaGetLastError();  // a kernel cuDNN failed to launch may leave an error: it is this call's, not the next
                       // one's
  throw Error(fmt::format("cuDNN error {} ({}) in {} at {}:{}", static_cast<int>(status),
                          cudnnGetErrorString(status), call, file, line));
}

namespace {

// A new handle bound to stream(device): every handle of a device is, so the work of all threads
// stays in the device's one stream order.
cudnnHandle_t create_handle(int device) {
  set_device(device);
  cudnnHandle_t h = nullptr;
  NABLA_CUDNN_CHECK(cudnnCreate(&h));
  try {
    NABLA_CUDNN_CHECK(cudnnSetStream(h, stream(device)));
  } catch (...) {
    cudnnDestroy(h);
    throw;
  }
  return h;
}

}  // namespace

cudnnHandle_t handle(int device) { return thread_handle<cudnnHandle_t, create_handle>(device, "cuDNN"); }

cudnnDataType_t data_type(ScalarType t) {
  switch (t) {
    case kFloat32:
      return CUDNN_DATA_FLOAT;
    case kFloat64:
      return CUDNN_DATA_DOUBLE;
    case kFloat16:
      return CUDNN_DATA_HALF;
    case kBFloat16:
      return CUDNN_DATA_BFLOAT16;
    default:
      break;
  }
  NABLA_FAIL("cuDNN: {} tensors are not supported (floating-point dtypes only)", dtype_name(t));
}

Scaling scaling(ScalarType t) {
  static constexpr double kOne64 = 1.0, kZero64 = 0.0;
  static constexpr float kOne32 = 1.0f, kZero32 = 0.0f;
  if (t == kFloat64) return {&kOne64, &kZero64};
  return {&kOne32, &kZero32};
}

std::array<int, 4> dims32(const Shape& sizes, std::string_view op) {
  NABLA_INTERNAL_ASSERT(sizes.size() == 4, "cuDNN descriptors here are 4-d");
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  NABLA_CHECK(
      numel <= INT_MAX,
      "{}: a tensor of shape {} has {} elements; cuDNN takes at most 2^31 - 1 per tensor on this path "
      "(split the batch)",
      op, shape_to_string(sizes), numel);
  return {static_cast<int>(sizes[0]), static_cast<int>(sizes[1]), static_cast<int>(sizes[2]),
          static_cast<int>(sizes[3])};
}

namespace {

// One lock for the three caches: a lookup is a map search, and entries are never erased, so a
// descriptor handed out stays valid after the lock is released.
std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}

// Creates a descriptor with `create`, sets it with `set` and destroys it if setting fails.
template <class D, class Create, class Set, class Destroy>
D make_desc(Create create, const Set& set, Destroy destroy) {
  D d = nullptr;
  NABLA_CUDNN_CHECK(create(&d));
  try {
    set(d);
  } catch (...) {
    destroy(d);
    throw;
  }
  return d;
}

int to_int(int64_t v, const char* what) {
  NABLA_CHECK(v >= 0 && v <= INT_MAX, "cuDNN: convolution {} {} does not fit cuDNN's 32-bit ints", what, v);
  return static_cast<int>(v);
}

}  // namespace

cudnnTensorDescriptor_t tensor_desc(ScalarType dtype, const std::array<int, 4>& d) {
  static std::map<std::array<int, 5>, cudnnTensorDescriptor_t> cache;
  const std::array<int, 5> key{static_cast<int>(dtype), d[0], d[1], d[2], d[3]};
  std::lock_guard<std::mutex> lock(cache_mutex());
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const cudnnTensorDescriptor_t desc = make_desc<cudnnTensorDescriptor_t>(
      cudnnCreateTensorDescriptor,
      [&](cudnnTensorDescriptor_t t) {
        NABLA_CUDNN_CHECK(
            cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NCHW, data_type(dtype), d[0], d[1], d[2], d[3]));
      },
      cudnnDestroyTensorDescriptor);
  cache.emplace(key, desc);
  return desc;
}

cudnnFilterDescriptor_t filter_desc(ScalarType dtype, const std::array<int, 4>& d) {
  static std::map<std::array<int, 5>, cudnnFilterDescriptor_t> cache;
  const std::array<int, 5> key{static_cast<int>(dtype), d[0], d[1], d[2], d[3]};
  std::lock_guard<std::mutex> lock(cache_mutex());
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const cudnnFilterDescriptor_t desc = make_desc<cudnnFilterDescriptor_t>(
      cudnnCreateFilterDescriptor,
      [&](cudnnFilterDescriptor_t f) {
        NABLA_CUDNN_CHECK(
            cudnnSetFilter4dDescriptor(f, data_type(dtype), CUDNN_TENSOR_NCHW, d[0], d[1], d[2], d[3]));
      },
      cudnnDestroyFilterDescriptor);
  cache.emplace(key, desc);
  return desc;
}

cudnnConvolutionDescriptor_t conv_desc(ScalarType dtype, const ConvParams& conv, cudnnMathType_t math) {
  static std::map<std::array<int, 9>, cudnnConvolutionDescriptor_t> cache;
  const std::array<int, 9> key{static_cast<int>(dtype),
                               to_int(conv.padding[0], "padding"),
                               to_int(conv.padding[1], "padding"),
                               to_int(conv.stride[0], "stride"),
                               to_int(conv.stride[1], "stride"),
                               to_int(conv.dilation[0], "dilation"),
                               to_int(conv.dilation[1], "dilation"),
                               to_int(conv.groups, "groups"),
                               static_cast<int>(math)};
  std::lock_guard<std::mutex> lock(cache_mutex());
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  // 16-bit convolutions accumulate in float (what PyTorch does too); float64 in double
  const cudnnDataType_t compute = dtype == kFloat64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
  const cudnnConvolutionDescriptor_t desc = make_desc<cudnnConvolutionDescriptor_t>(
      cudnnCreateConvolutionDescriptor,
      [&](cudnnConvolutionDescriptor_t c) {
        NABLA_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c, key[1], key[2], key[3], key[4], key[5], key[6],
                                                          CUDNN_CROSS_CORRELATION, compute));
        NABLA_CUDNN_CHECK(cudnnSetConvolutionGroupCount(c, key[7]));
        NABLA_CUDNN_CHECK(cudnnSetConvolutionMathType(c, math));
      },
      cudnnDestroyConvolutionDescriptor);
  cache.emplace(key, desc);
  return desc;
}

}  // namespace nabla::cuda::cudnn
