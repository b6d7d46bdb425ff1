// nabla::cuda: whether the CUDA backend is usable here. Device discovery, streams and the
// caching allocator arrive with the CUDA backend (cuda/); without it these report no device.
#pragma once

namespace nabla::cuda {

/// True when nabla was built with CUDA and a GPU and driver are present.
bool is_available();
/// Number of usable GPUs (0 without the CUDA backend).
int device_count();

}  // namespace nabla::cuda
