// Compiler portability macros shared by public headers, core/math functors and both backends.
#pragma once

#if defined(__CUDACC__) || defined(__HIPCC__)
#define NABLA_HOST_DEVICE __host__ __device__
#define NABLA_INLINE __forceinline__
#else
#define NABLA_HOST_DEVICE
#define NABLA_INLINE inline
#endif

#define NABLA_VERSION_MAJOR 0
#define NABLA_VERSION_MINOR 1
#define NABLA_VERSION_PATCH 0
#define NABLA_VERSION_STRING "0.1.0"
