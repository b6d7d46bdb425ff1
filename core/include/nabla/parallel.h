// Threads used by the reference CPU kernels.
#pragma once

#include <string>

namespace nabla {

/// Number of threads of the CPU kernels (default: the machine's cores, or NABLA_NUM_THREADS).
/// It governs every CPU loop, matrix products included: OpenBLAS is held at one thread and
/// nabla splits each GEMM over these threads, so either OpenBLAS build (pthread or OpenMP)
/// runs the same. Results of nabla's own loops do not depend on it; float32/float64 matrix
/// products (and the convolutions and RNNs built on them) do, in their last bits, as in
/// PyTorch; for a given count every result is deterministic.
int get_num_threads();
void set_num_threads(int n);

/// The threading setup, as torch.__config__.parallel_info(): nabla's threads, OpenMP, and the
/// BLAS library with its build (found at run time) and its own thread count.
std::string parallel_info();

}  // namespace nabla
