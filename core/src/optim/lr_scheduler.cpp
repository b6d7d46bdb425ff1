// Learning-rate schedulers in closed form (the same values as PyTorch's chainable versions
// for an unchanged schedule), so a scheduler restored from a checkpoint needs only its epoch.
#include "nabla/lr_scheduler.h"

#include <algorithm>
#include <cmath>

#include "nabla/factories.h"

namespace nabla::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (std::size_t g = 0; g < optimizer.param_groups().size(); ++g) base_lrs_.push_back(optimizer.get_lr(g));
}

void LRScheduler::apply() {
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, lr_at(g));
}

void LRScheduler::step() {
  ++last_epoch_;
  apply();
}

std::vector<double> LRScheduler::get_last_lr() const {
  std::vector<double> r;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) r.push_back(optimizer_.get_lr(g));
  return r;
}

StateDict LRScheduler::state_dict() const {
  StateDict sd;
  sd.insert("last_epoch", scalar_tensor(last_epoch_, kInt64));
  sd.insert("base_lrs", from_vector(base_lrs_));
  return sd;
}

void LRScheduler::load_state_dict(const StateDict& sd) {
  const Tensor& base = sd.at("base_lrs");
  NABLA_CHECK(base.numel() == static_cast<int64_t>(base_lrs_.size()),
              "lr scheduler: load_state_dict: {} base learning rates for {} parameter groups", base.numel(),
              base_lrs_.size());
  base_lrs_ = base.to_vector<double>();
  last_epoch_ = sd.at("last_epoch").item<int64_t>();
  apply();
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma)
    : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  NABLA_CHECK(step_size > 0, "StepLR: step_size must be positive, got {}", step_size);
}
double StepLR::lr_at(std::size_t g) const {
  return base_lrs_[g] * std::pow(gamma_, static_cast<double>(last_epoch_ / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
}
double MultiStepLR::lr_at(std::size_t g) const {
  const auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
  return base_lrs_[g] * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma) : LRScheduler(opt), gamma_(gamma) {}
double ExponentialLR::lr_at(std::size_t g) const {
  return base_lrs_[g] * std::pow(gamma_, static_cast<double>(last_epoch_));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t T_max, double eta_min)
    : LRScheduler(opt), t_max_(T_max), eta_min_(eta_min) {
  NABLA_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got {}", T_max);
}
double CosineAnnealingLR::lr_at(std::size_t g) const {
  const double pi = 3.14159265358979323846;
  return eta_min_ +
         (base_lrs_[g] - eta_min_) *
             (1.0 + std::cos(pi * static_cast<double>(last_epoch_) / static_cast<double>(t_max_))) / 2.0;
}

LinearLR::LinearLR(Optimizer& opt, double start, double end, int64_t total)
    : LRScheduler(opt), start_(start), end_(end), total_(total) {
  NABLA_CHECK(start > 0.0 && start <= 1.0 && end >= 0.0 && end <= 1.0,
              "LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], got {} and {}", start, end);
  NABLA_CHECK(total > 0, "LinearLR: total_iters must be positive, got {}", total);
  apply();  // the warmup starts at start_factor, as PyTorch's constructor does
}
double LinearLR::lr_at(std::size_t g) const {
  const double t = static_cast<double>(std::min(last_epoch_, total_)) / static_cast<double>(total_);
  return base_lrs_[g] * (start_ + (end_ - start_) * t);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, const Options& o)
    : optimizer_(opt), o_(o), best_(o.mode == Mode::Min ? INFINITY : -INFINITY) {
  NABLA_CHECK(o.factor < 1.0 && o.factor >= 0.0, "ReduceLROnPlateau: factor must be in [0, 1), got {}",
              o.factor);
}

bool ReduceLROnPlateau::better(double a, double best) const {
  return o_.mode == Mode::Min ? a < best * (1.0 - o_.threshold) : a > best * (1.0 + o_.threshold);
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (better(metric, best_)) {
    best_ = metric;
    num_bad_ = 0;
  } else {
    ++num_bad_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_ = 0;
  }
  if (num_bad_ > o_.patience) {
    for (std::size_t g = 0; g < optimizer_.param_groups().size(); ++g) {
      const double old_lr = optimizer_.get_lr(g);
      const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
      if (old_lr - new_lr > o_.eps) optimizer_.set_lr(g, new_lr);
    }
    cooldown_counter_ = o_.cooldown;
    num_bad_ = 0;
  }
}

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict sd;
  sd.insert("best", scalar_tensor(best_, kFloat64));
  sd.insert("num_bad_epochs", scalar_tensor(num_bad_, kInt64));
  sd.insert("cooldown_counter", scalar_tensor(cooldown_counter_, kInt64));
  sd.insert("last_epoch", scalar_tensor(last_epoch_, kInt64));
  return sd;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& sd) {
  best_ = sd.at("best").item<double>();
  num_bad_ = sd.at("num_bad_epochs").item<int64_t>();
  cooldown_counter_ = sd.at("cooldown_counter").item<int64_t>();
  last_epoch_ = sd.at("last_epoch").item<int64_t>();
}

}  // namespace nabla::optim
