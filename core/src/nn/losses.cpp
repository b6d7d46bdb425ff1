// Loss modules over nabla::nn::functional.
#include "nabla/nn/loss.h"

namespace nabla::nn {

namespace F = functional;

MSELoss::MSELoss(Reduction r) : Loss("MSELoss") { reduction = r; }
Tensor MSELoss::forward(const Tensor& i, const Tensor& t) { return F::mse_loss(i, t, reduction); }

L1Loss::L1Loss(Reduction r) : Loss("L1Loss") { reduction = r; }
Tensor L1Loss::forward(const Tensor& i, const Tensor& t) { return F::l1_loss(i, t, reduction); }

SmoothL1Loss::SmoothL1Loss(Reduction r, double b) : Loss("SmoothL1Loss"), beta(b) { reduction = r; }
Tensor SmoothL1Loss::forward(const Tensor& i, const Tensor& t) {
  return F::smooth_l1_loss(i, t, reduction, beta);
}

CrossEntropyLoss::CrossEntropyLoss(F::CrossEntropyOptions o)
    : Loss("CrossEntropyLoss"), options(std::move(o)) {
  reduction = options.reduction;
}
Tensor CrossEntropyLoss::forward(const Tensor& i, const Tensor& t) {
  F::CrossEntropyOptions o = options;
  o.reduction = reduction;
  return F::cross_entropy(i, t, o);
}

NLLLoss::NLLLoss(F::NLLLossOptions o) : Loss("NLLLoss"), options(std::move(o)) {
  reduction = options.reduction;
}
Tensor NLLLoss::forward(const Tensor& i, const Tensor& t) {
  F::NLLLossOptions o = options;
  o.reduction = reduction;
  return F::nll_loss(i, t, o);
}

BCELoss::BCELoss(Tensor w, Reduction r) : Loss("BCELoss"), weight(std::move(w)) { reduction = r; }
Tensor BCELoss::forward(const Tensor& i, const Tensor& t) {
  return F::binary_cross_entropy(i, t, weight, reduction);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(Tensor w, Tensor pw, Reduction r)
    : Loss("BCEWithLogitsLoss"), weight(std::move(w)), pos_weight(std::move(pw)) {
  reduction = r;
}
Tensor BCEWithLogitsLoss::forward(const Tensor& i, const Tensor& t) {
  return F::binary_cross_entropy_with_logits(i, t, weight, pos_weight, reduction);
}

HingeEmbeddingLoss::HingeEmbeddingLoss(double m, Reduction r) : Loss("HingeEmbeddingLoss"), margin(m) {
  reduction = r;
}
Tensor HingeEmbeddingLoss::forward(const Tensor& i, const Tensor& t) {
  return F::hinge_embedding_loss(i, t, margin, reduction);
}

MultiMarginLoss::MultiMarginLoss(int pp, double m, Tensor w, Reduction r)
    : Loss("MultiMarginLoss"), p(pp), margin(m), weight(std::move(w)) {
  reduction = r;
}
MultiMarginLoss::MultiMarginLoss(const MultiMarginLossOptions& o)
    : MultiMarginLoss(o.p() == 1 || o.p() == 2 ? static_cast<int>(o.p()) : 0, o.margin(), o.weight(),
                      o.reduction()) {
  NABLA_CHECK(o.p() == 1 || o.p() == 2, "MultiMarginLoss: p must be 1 or 2, got {}", o.p());
}
Tensor MultiMarginLoss::forward(const Tensor& i, const Tensor& t) {
  return F::multi_margin_loss(i, t, p, margin, weight, reduction);
}

}  // namespace nabla::nn
