// Per-element update rules of the fused optimizer steps, shared by the CPU kernels
// (cpu_fallback/optim.cpp) and the CUDA multi-tensor kernels. Formulas follow PyTorch's
// torch.optim implementations (the "for-loop" reference versions) term for term, so results
// can be compared with PyTorch directly. T is the compute type (float or double).
#pragma once

#include "core/math/scalar_math.h"

namespace nabla::math {

// SGD: args = lr, momentum, dampening, weight_decay, nesterov, maximize, first_step
struct SgdUpdate {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, first_step;
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T* buf) const {
    if (maximize) g = -g;
    if (weight_decay != 0) g += T(weight_decay) * p;
    if (momentum != 0) {
      T b = first_step ? g : T(momentum) * *buf + (T(1) - T(dampening)) * g;
      *buf = b;
      g = nesterov ? g + T(momentum) * b : b;
    }
    p -= T(lr) * g;
  }
};

// Adam / AdamW: args = lr, beta1, beta2, eps, weight_decay, step, amsgrad, decoupled, maximize.
// The bias corrections depend only on the step: prepare() computes them once per call, not
// once per element.
struct AdamUpdate {
  double lr, beta1, beta2, eps, weight_decay;
  double step;  // 1-based count of this update
  bool amsgrad, decoupled, maximize;
  double step_size = 0, bias_correction2_sqrt = 1;  // set by prepare()

  NABLA_HOST_DEVICE AdamUpdate prepare() const {
    AdamUpdate u = *this;
    u.step_size = lr / (1.0 - m::pow(beta1, step));
    u.bias_correction2_sqrt = m::sqrt(1.0 - m::pow(beta2, step));
    return u;
  }
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T& m, T& v, T* vmax) const {
    if (maximize) g = -g;
    if (weight_decay != 0) {
      if (decoupled) p *= T(1) - T(lr * weight_decay);  // AdamW: decay the weights directly
      else g += T(weight_decay) * p;                     // Adam: L2 through the gradient
    }
    m = T(beta1) * m + (T(1) - T(beta1)) * g;
    v = T(beta2) * v + (T(1) - T(beta2)) * g * g;
    T second = v;
    if (amsgrad) {
      *vmax = *vmax > v ? *vmax : v;
      second = *vmax;
    }
    const T denom = m::sqrt(second) / T(bias_correction2_sqrt) + T(eps);
    p -= T(step_size) * m / denom;
  }
};

// RMSprop: args = lr, alpha, eps, weight_decay, momentum, centered, maximize
struct RmspropUpdate {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T& square_avg, T* buf, T* grad_avg) const {
    if (maximize) g = -g;
    if (weight_decay != 0) g += T(weight_decay) * p;
    square_avg = T(alpha) * square_avg + (T(1) - T(alpha)) * g * g;
    T avg;
    if (centered) {
      *grad_avg = T(alpha) * *grad_avg + (T(1) - T(alpha)) * g;
      avg = m::sqrt(square_avg - *grad_avg * *grad_avg) + T(eps);
    } else {
      avg = m::sqrt(square_avg) + T(eps);
    }
    if (momentum > 0) {
      *buf = T(momentum) * *buf + g / avg;
      p -= T(lr) * *buf;
    } else {
      p -= T(lr) * g / avg;
    }
  }
};

// Adagrad: args = lr, lr_decay, weight_decay, eps, step, maximize
struct AdagradUpdate {
  double lr, lr_decay, weight_decay, eps, step;
  bool maximize;
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T& sum) const {
    if (maximize) g = -g;
    if (weight_decay != 0) g += T(weight_decay) * p;
    const T clr = T(lr / (1.0 + (step - 1.0) * lr_decay));
    sum += g * g;
    p -= clr * g / (m::sqrt(sum) + T(eps));
  }
};

}  // namespace nabla::math
