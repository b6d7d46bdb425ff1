// Loss modules: thin wrappers over nabla::nn::functional with PyTorch's names and defaults.
#pragma once

#include "nabla/nn/functional.h"
#include "nabla/nn/module.h"

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
  Tensor forward(const Tensor& input, const Tensor& target) override;
};
class L1Loss : public Loss {
 public:
  explicit L1Loss(Reduction r = Reduction::Mean);
  Tensor forward(const Tensor& input, const Tensor& target) override;
};
class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(Reduction r = Reduction::Mean, double beta = 1.0);
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
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
};
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(Tensor weight = Tensor(), Tensor pos_weight = Tensor(),
                             Reduction r = Reduction::Mean);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight, pos_weight;
};
class HingeEmbeddingLoss : public Loss {
 public:
  explicit HingeEmbeddingLoss(double margin = 1.0, Reduction r = Reduction::Mean);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  double margin;
};
class MultiMarginLoss : public Loss {
 public:
  explicit MultiMarginLoss(int p = 1, double margin = 1.0, Tensor weight = Tensor(),
                           Reduction r = Reduction::Mean);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  int p;
  double margin;
  Tensor weight;
};

}  // namespace nabla::nn
