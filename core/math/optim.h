// Per-element update rules of the fused optimizer steps, shared by the CPU kernels
// (cpu_fallback/optim.cpp) and the CUDA multi-tensor kernels. Formulas follow PyTorch's
// torch.optim implementations (the "for-loop" reference versions) term for term, so results
// can be compared with PyTorch directly. T is the compute type (float or double).
//
// Each rule has the same interface, so both backends drive every rule with one loop:
//   states()                 how many state tensors follow the parameters in the op's outputs
//                            (ops.def; an undefined one has a slot that is not read or written)
//   (*this)(p, g, s)         updates parameter p with gradient g and state slots s[0..states())
//   each(rule, f)            f(field) for each hyperparameter, in the order
//                            core/src/ops/params_optim.h packs them into the op call
#pragma once

#include "core/math/scalar_math.h"

namespace nabla::math {

/// The most state tensors a rule has per parameter.
inline constexpr int kMaxOptimStates = 3;

// SGD; first_step: the momentum buffer is new and takes the gradient as it is.
struct SgdUpdate {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, first_step;
  template <class Self, class F>
  static void each(Self& u, F&& f) {
    f(u.lr), f(u.momentum), f(u.dampening), f(u.weight_decay), f(u.nesterov), f(u.maximize), f(u.first_step);
  }
  NABLA_HOST_DEVICE int states() const { return momentum != 0 ? 1 : 0; }
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T* s) const {
    T* buf = &s[0];
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

// Adam / AdamW (decoupled). The bias corrections depend only on the step: prepare() computes
// them once per call, not once per element.
struct AdamUpdate {
  double lr, beta1, beta2, eps, weight_decay;
  double step;  // 1-based count of this update
  bool amsgrad, decoupled, maximize;
  double step_size = 0, bias_correction2_sqrt = 1;  // set by prepare()

  template <class Self, class F>
  static void each(Self& u, F&& f) {
    f(u.lr), f(u.beta1), f(u.beta2), f(u.eps), f(u.weight_decay), f(u.step), f(u.amsgrad), f(u.decoupled),
        f(u.maximize);
  }
  NABLA_HOST_DEVICE int states() const { return amsgrad ? 3 : 2; }

  NABLA_HOST_DEVICE AdamUpdate prepare() const {
    AdamUpdate u = *this;
    u.step_size = lr / (1.0 - m::pow(beta1, step));
    u.bias_correction2_sqrt = m::sqrt(1.0 - m::pow(beta2, step));
    return u;
  }
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T* s) const {
    T &m = s[0], &v = s[1];
    T* vmax = &s[2];
    if (maximize) g = -g;
    if (weight_decay != 0) {
      if (decoupled)
        p *= T(1) - T(lr * weight_decay);  // AdamW: decay the weights directly
      else
        g += T(weight_decay) * p;  // Adam: L2 through the gradient
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

// RMSprop; states: square_avg, momentum_buffer (undefined without momentum), grad_avg
// (undefined unless centered).
struct RmspropUpdate {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
  template <class Self, class F>
  static void each(Self& u, F&& f) {
    f(u.lr), f(u.alpha), f(u.eps), f(u.weight_decay), f(u.momentum), f(u.centered), f(u.maximize);
  }
  NABLA_HOST_DEVICE int states() const { return 3; }
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T* s) const {
    T& square_avg = s[0];
    T *buf = &s[1], *grad_avg = &s[2];
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

// Adagrad
struct AdagradUpdate {
  double lr, lr_decay, weight_decay, eps, step;
  bool maximize;
  template <class Self, class F>
  static void each(Self& u, F&& f) {
    f(u.lr), f(u.lr_decay), f(u.weight_decay), f(u.eps), f(u.step), f(u.maximize);
  }
  NABLA_HOST_DEVICE int states() const { return 1; }
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T* s) const {
    T& sum = s[0];
    if (maximize) g = -g;
    if (weight_decay != 0) g += T(weight_decay) * p;
    const T clr = T(lr / (1.0 + (step - 1.0) * lr_decay));
    sum += g * g;
    p -= clr * g / (m::sqrt(sum) + T(eps));
  }
};

// Adadelta (Zeiler 2012); states: square_avg, acc_delta. 1 - rho is formed in double, as
// PyTorch's addcmul_(..., value=1 - rho) does.
struct AdadeltaUpdate {
  double lr, rho, eps, weight_decay;
  bool maximize;
  template <class Self, class F>
  static void each(Self& u, F&& f) {
    f(u.lr), f(u.rho), f(u.eps), f(u.weight_decay), f(u.maximize);
  }
  NABLA_HOST_DEVICE int states() const { return 2; }
  template <class T>
  NABLA_HOST_DEVICE void operator()(T& p, T g, T* s) const {
    T &square_avg = s[0], &acc_delta = s[1];
    if (maximize) g = -g;
    if (weight_decay != 0) g += T(weight_decay) * p;
    square_avg = square_avg * T(rho) + T(1.0 - rho) * g * g;
    const T std_dev = m::sqrt(square_avg + T(eps));
    const T delta = m::sqrt(acc_delta + T(eps)) / std_dev * g;
    acc_delta = acc_delta * T(rho) + T(1.0 - rho) * delta * delta;
    p -= T(lr) * delta;
  }
};

}  // namespace nabla::math
