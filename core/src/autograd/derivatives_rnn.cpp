// Backward formula of the whole-sequence recurrent op: its backward primitive runs
// backpropagation through time in one call (cuDNN's backward data + weights on the GPU, the
// reverse time loop on the CPU), reading what forward left in the reserve. It has no
// derivative of its own: double backward through the recurrent op raises.
#include "autograd/derivatives.h"
#include "ops/rnn_config.h"
#include "tensor/tensor_impl.h"

namespace nabla {

void register_rnn_derivatives() {
  set_derivative(
      Op::rnn,
      {[](const BackwardCtx& c) {
         const RnnConfig cfg = RnnConfig::from(c.p);
         NABLA_INTERNAL_ASSERT(cfg.train, "rnn: backward of a forward that kept no reserve");
         const std::size_t nw = static_cast<std::size_t>(cfg.num_weights());
         std::vector<Tensor> in{c.in[kRnnX],
                                c.in[kRnnH0],
                                c.in[kRnnC0],
                                c.in[kRnnMask],
                                c.out[kRnnY],
                                c.grads[kRnnY].contiguous(),
                                c.grads[kRnnHn].contiguous(),
                                c.grads[kRnnCn].contiguous(),
                                c.out[kRnnReserve]};
         std::vector<Tensor> out;
         out.reserve(3 + nw);
         for (int i : {kRnnX, kRnnH0, kRnnC0}) {
           const Tensor& t = c.in[static_cast<std::size_t>(i)];
           out.push_back(make_tensor(t.sizes(), t.dtype(), t.device(), "rnn_backward"));
         }
         for (std::size_t i = 0; i < nw; ++i) {
           const Tensor& w = c.in[kRnnWeights + i];
           in.push_back(w);
           out.push_back(make_tensor(w.sizes(), w.dtype(), w.device(), "rnn_backward"));
         }
         run_op(Op::rnn_backward, std::span<const Tensor>(in.data(), in.size()),
                std::span<Tensor>(out.data(), out.size()), c.p);
         std::vector<Tensor> g{out[0], out[1], out[2], Tensor()};  // the dropout mask takes no gradient
         for (std::size_t i = 0; i < nw; ++i) g.push_back(out[3 + i]);
         return g;
       },
       ~0u, kOut0 | (1u << kRnnReserve), nullptr, /*once_differentiable=*/true});
}

}  // namespace nabla
