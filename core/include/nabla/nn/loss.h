// Loss modules: thin wrappers over nabla::nn::functional with PyTorch's names and defaults.
#pragma once

#include "nabla/nn/functional.h"
#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

using functional::Reduction;

/// A module of two inputs: loss(input, target).
class Loss : public Module {
 public:
  using Module::Module;
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  Reduction reduction = Reduction::Mean;
};

class MSELoss : public Loss {
 public:
  explicit MSELoss(Reduction r = Reduction::Mean);
  explicit MSELoss(const MSELossOptions& options) : MSELoss(options.reduction()) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
};
class L1Loss : public Loss {
 public:
  explicit L1Loss(Reduction r = Reduction::Mean);
  explicit L1Loss(const L1LossOptions& options) : L1Loss(options.reduction()) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
};
class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(Reduction r = Reduction::Mean, double beta = 1.0);
  explicit SmoothL1Loss(const SmoothL1LossOptions& options)
      : SmoothL1Loss(options.reduction(), options.beta()) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
  double beta;
};
class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(functional::CrossEntropyOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  functional::CrossEntropyOptions options;
};
class NLLLoss : public Loss {
 public:
  explicit NLLLoss(functional::NLLLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  functional::NLLLossOptions options;
};
class BCELoss : public Loss {
 public:
  explicit BCELoss(Tensor weight = Tensor(), Reduction r = Reduction::Mean);
  explicit BCELoss(const BCELossOptions& options) : BCELoss(options.weight(), options.reduction()) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
};
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(Tensor weight = Tensor(), Tensor pos_weight = Tensor(),
                             Reduction r = Reduction::Mean);
  explicit BCEWithLogitsLoss(const BCEWithLogitsLossOptions& options)
      : BCEWithLogitsLoss(options.weight(), options.pos_weight(), options.reduction()) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight, pos_weight;
};
class HingeEmbeddingLoss : public Loss {
 public:
  explicit HingeEmbeddingLoss(double margin = 1.0, Reduction r = Reduction::Mean);
  explicit HingeEmbeddingLoss(const HingeEmbeddingLossOptions& options)
      : HingeEmbeddingLoss(options.margin(), options.reduction()) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
  double margin;
};
class MultiMarginLoss : public Loss {
 public:
  explicit MultiMarginLoss(int p = 1, double margin = 1.0, Tensor weight = Tensor(),
                           Reduction r = Reduction::Mean);
  explicit MultiMarginLoss(const MultiMarginLossOptions& options);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  int p;
  double margin;
  Tensor weight;
};

}  // namespace nabla::nn
