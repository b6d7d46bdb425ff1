// libtorch's C++-frontend spellings on top of all of nabla, for porting a libtorch program with
// two lines:
//
//   #include <nabla/torch_compat.h>          // instead of <torch/torch.h>
//   namespace torch = nabla::torch_compat;   // instead of libtorch's own namespace
//
// Why a namespace of its own, and not `namespace torch = nabla;`: in libtorch `torch::nn::Linear`
// is a holder (a value handle around a shared_ptr<LinearImpl>), while nabla's `nabla::nn::Linear`
// is the layer class itself, made with std::make_shared<nabla::nn::Linear>(...) all over nabla's
// examples, tests and users' code. One name cannot be both, and nabla's API stays as it is; so
// nabla::torch_compat::nn names the holders (Linear = ModuleHolder<nabla::nn::Linear>, with
// libtorch's LinearImpl for the class) and reaches everything else of nabla through
// using-directives, which qualified lookup follows ([namespace.qual]): torch::Tensor,
// torch::zeros, torch::optim::Adam, torch::nn::Module, torch::nn::functional::relu, ... are
// nabla's own, and whatever nabla adds later shows up here too. A name declared here (the
// holders) wins over the nabla one it shadows.
//
// Not included by nabla/nabla.h: TORCH_MODULE below would clash with libtorch's in a program
// that includes both (to convert tensors between them, say).
//
// Limitation: `using namespace torch;` followed by an unqualified `nn::Linear` is ambiguous
// (torch_compat::nn and nabla::nn both become visible as `nn`); write torch::nn::, or
// `namespace nn = torch::nn;`, as libtorch's own examples do.
#pragma once

#include "nabla/nabla.h"
#include "nabla/nn/holder.h"

namespace nabla::torch_compat {

using namespace ::nabla;  // NOLINT: the re-export of all of nabla (see the file comment)

namespace nn {

using namespace ::nabla::nn;  // NOLINT: Module, ModuleHolder, functional, init, ...

// libtorch's pair per layer: NameImpl, the class; Name, its holder.
#define NABLA_TORCH_COMPAT_HOLDER(Name) \
  using Name##Impl = ::nabla::nn::Name; \
  using Name = ::nabla::nn::ModuleHolder<Name##Impl>

NABLA_TORCH_COMPAT_HOLDER(Linear);
NABLA_TORCH_COMPAT_HOLDER(Sequential);
NABLA_TORCH_COMPAT_HOLDER(Identity);
NABLA_TORCH_COMPAT_HOLDER(Flatten);
NABLA_TORCH_COMPAT_HOLDER(Dropout);
NABLA_TORCH_COMPAT_HOLDER(Dropout2d);
NABLA_TORCH_COMPAT_HOLDER(ReLU);
NABLA_TORCH_COMPAT_HOLDER(LeakyReLU);
NABLA_TORCH_COMPAT_HOLDER(Sigmoid);
NABLA_TORCH_COMPAT_HOLDER(Tanh);
NABLA_TORCH_COMPAT_HOLDER(Softmax);
NABLA_TORCH_COMPAT_HOLDER(LogSoftmax);
NABLA_TORCH_COMPAT_HOLDER(GELU);
NABLA_TORCH_COMPAT_HOLDER(SiLU);
NABLA_TORCH_COMPAT_HOLDER(ELU);
NABLA_TORCH_COMPAT_HOLDER(Softplus);
NABLA_TORCH_COMPAT_HOLDER(Conv2d);
NABLA_TORCH_COMPAT_HOLDER(ConvTranspose2d);
NABLA_TORCH_COMPAT_HOLDER(MaxPool2d);
NABLA_TORCH_COMPAT_HOLDER(AvgPool2d);
NABLA_TORCH_COMPAT_HOLDER(AdaptiveAvgPool2d);
NABLA_TORCH_COMPAT_HOLDER(BatchNorm1d);
NABLA_TORCH_COMPAT_HOLDER(BatchNorm2d);
NABLA_TORCH_COMPAT_HOLDER(LayerNorm);
NABLA_TORCH_COMPAT_HOLDER(RNN);
NABLA_TORCH_COMPAT_HOLDER(LSTM);
NABLA_TORCH_COMPAT_HOLDER(GRU);
NABLA_TORCH_COMPAT_HOLDER(RNNCell);
NABLA_TORCH_COMPAT_HOLDER(LSTMCell);
NABLA_TORCH_COMPAT_HOLDER(GRUCell);
NABLA_TORCH_COMPAT_HOLDER(Embedding);
NABLA_TORCH_COMPAT_HOLDER(MSELoss);
NABLA_TORCH_COMPAT_HOLDER(L1Loss);
NABLA_TORCH_COMPAT_HOLDER(SmoothL1Loss);
NABLA_TORCH_COMPAT_HOLDER(CrossEntropyLoss);
NABLA_TORCH_COMPAT_HOLDER(NLLLoss);
NABLA_TORCH_COMPAT_HOLDER(BCELoss);
NABLA_TORCH_COMPAT_HOLDER(BCEWithLogitsLoss);
NABLA_TORCH_COMPAT_HOLDER(HingeEmbeddingLoss);
NABLA_TORCH_COMPAT_HOLDER(MultiMarginLoss);

#undef NABLA_TORCH_COMPAT_HOLDER

}  // namespace nn
}  // namespace nabla::torch_compat

/// libtorch's TORCH_MODULE(Name): the holder `Name` of the user's `NameImpl`.
#define TORCH_MODULE(Name) NABLA_MODULE(Name)
#define TORCH_MODULE_IMPL(Name, ImplType) NABLA_MODULE_IMPL(Name, ImplType)
