// parallel_for over an index range for the reference CPU kernels (OpenMP underneath).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>

#include "nabla/parallel.h"

namespace nabla {

/// Calls f(begin, end) on disjoint pieces covering [0, n), on up to get_num_threads()
/// threads, each piece at least `grain` long. Runs inline when the range is small or when
/// already inside a parallel region. Exceptions thrown by f are rethrown on the caller.
template <class F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  const int64_t nt = get_num_threads();
  if (nt <= 1 || n <= grain || omp_in_parallel()) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t pieces = std::min<int64_t>(nt, (n + grain - 1) / std::max<int64_t>(grain, 1));
  const int64_t per = (n + pieces - 1) / pieces;
  std::exception_ptr error;
#pragma omp parallel for num_threads(static_cast <int>(pieces)) schedule(static, 1)
  for (int64_t piece = 0; piece < pieces; ++piece) {
    const int64_t b = piece * per, e = std::min(n, b + per);
    if (b < e) {
      try {
        f(b, e);
      } catch (...) {
#pragma omp critical(nabla_parallel_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace nabla
