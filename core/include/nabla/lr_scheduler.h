// Learning-rate schedulers (nabla::optim), as torch.optim.lr_scheduler: each step() sets the
// learning rate of every parameter group of its optimizer from the epoch count.
#pragma once

#include <vector>

#include "nabla/optim.h"

namespace nabla::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  /// Advances one epoch (or iteration) and sets the new learning rates.
  virtual void step();
  int64_t last_epoch() const { return last_epoch_; }
  std::vector<double> get_last_lr() const;
  /// last_epoch and the base learning rates, as 0-dim tensors (for checkpoints).
  virtual StateDict state_dict() const;
  virtual void load_state_dict(const StateDict& state);

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  /// The learning rate of group g at epoch last_epoch_ (closed form).
  virtual double lr_at(std::size_t g) const = 0;
  void apply();

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = 0;
};

/// lr = base * gamma^(epoch / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(std::size_t g) const override;
  int64_t step_size_;
  double gamma_;
};

/// lr = base * gamma^(number of milestones <= epoch)
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma = 0.1);

 protected:
  double lr_at(std::size_t g) const override;
  std::vector<int64_t> milestones_;
  double gamma_;
};

/// lr = base * gamma^epoch
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& opt, double gamma);

 protected:
  double lr_at(std::size_t g) const override;
  double gamma_;
};

/// lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min = 0.0);

 protected:
  double lr_at(std::size_t g) const override;
  int64_t t_max_;
  double eta_min_;
};

/// Linear warmup (torch's LinearLR): the factor goes linearly from start_factor to end_factor
/// over total_iters steps, then stays.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3.0, double end_factor = 1.0, int64_t total_iters = 5);

 protected:
  double lr_at(std::size_t g) const override;
  double start_, end_;
  int64_t total_;
};

struct ReduceLROnPlateauOptions {
  enum class Mode { Min, Max };
  Mode mode = Mode::Min;
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;  // relative
  int64_t cooldown = 0;
  double min_lr = 0.0;
  double eps = 1e-8;
};

/// Cuts the learning rate by `factor` when a metric has stopped improving for `patience`
/// epochs. step(metric) replaces step().
class ReduceLROnPlateau {
 public:
  using Options = ReduceLROnPlateauOptions;
  using Mode = ReduceLROnPlateauOptions::Mode;
  explicit ReduceLROnPlateau(Optimizer& opt, const Options& options = {});
  void step(double metric);
  int64_t num_bad_epochs() const { return num_bad_; }
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 private:
  bool better(double a, double best) const;
  Optimizer& optimizer_;
  Options o_;
  double best_;
  int64_t num_bad_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
};

}  // namespace nabla::optim
