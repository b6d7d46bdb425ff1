// Threads used by the reference CPU kernels.
#pragma once

namespace nabla {

/// Number of threads of the CPU kernels (default: the machine's cores, or NABLA_NUM_THREADS).
int get_num_threads();
void set_num_threads(int n);

}  // namespace nabla
