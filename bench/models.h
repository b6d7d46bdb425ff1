// The classic models of nabla-bench and nabla-parity, with fixed definitions so that results
// compare with other frameworks (bench/compare/model_step.py has the same in PyTorch):
//   mlp      784-128(ReLU)-10, cross-entropy, Adam(1e-3); batch 64
//   cnn      Conv32 3x3-ReLU-MaxPool2-Conv64 3x3-ReLU-MaxPool2-Flatten-Dense128-ReLU-Dense10
//            on 1x28x28, cross-entropy, Adam(1e-3); batch 64
//   lstm     LSTM(3 -> 50, batch_first) over 10 steps x 3 features, Dense(50 -> 3) on the last
//            step, cross-entropy, Adam(1e-3); batch 10
//   dcgan32  DCGAN generator (100->256->128->64->3, 4x4 transposed convolutions, BatchNorm,
//            ReLU, Tanh; 32x32 out) and discriminator (3->64->128->256->1, 4x4 strided
//            convolutions, LeakyReLU(0.2), BatchNorm, Sigmoid): one discriminator and one
//            generator step, BCE, Adam(2e-4, 0.5, 0.999); batch 16 on CPU, 128 on GPU
// and, outside "all" (GPU comparisons; slow on a CPU):
//   lstm512        LSTM(512 -> 512, 2 layers) over 100 steps, batch 64: forward + backward
//   lstm512_cells  the same as a hand-written loop of LSTMCell steps
#pragma once

#include <nabla/nabla.h>
#include <nabla/testing.h>

#include <string>
#include <vector>

namespace nabla::bench {

/// The classic models ("all"); is_model also accepts lstm512 and lstm512_cells.
const std::vector<std::string>& model_names();
/// Whether `name` is one of them.
bool is_model(const std::string& name);
/// The model's default batch on a device.
int64_t default_batch(const std::string& name, Device device);
/// Builds the model on a target (weights from the current global seed): its modules and
/// one training step on a batch from make_batch.
testing::ParityModel make_model(const std::string& name, const testing::Target& target);
/// A random batch of the model's inputs as CPU float32/int64 tensors, the same for a seed.
std::vector<Tensor> make_batch(const std::string& name, int64_t batch, uint64_t seed);

}  // namespace nabla::bench
