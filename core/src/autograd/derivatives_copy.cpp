// Backward formula of copy (dtype/layout/device changes): the gradient itself; OpNode casts it
// back to the source dtype and sums it over broadcast dims.
#include "autograd/derivatives.h"

namespace nabla {

void register_copy_derivatives() {
  set_derivative(Op::copy, {[](const BackwardCtx& c) {
                   const Device src = c.in_meta[0].device;
                   return std::vector<Tensor>{c.grad().device() == src ? c.grad() : c.grad().to(src)};
                 }});
}

}  // namespace nabla
