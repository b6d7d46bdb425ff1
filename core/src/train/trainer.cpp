// Trainer: fit / evaluate / predict / train_step and full checkpoints.
#include <cstring>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/io.h"
#include "nabla/ops.h"
#include "nabla/random.h"
#include "nabla/train.h"

namespace nabla::train {

Trainer::Trainer(std::shared_ptr<nn::Module> model, std::shared_ptr<optim::Optimizer> optimizer, LossFn loss,
                 std::shared_ptr<optim::LRScheduler> scheduler)
    : model_(std::move(model)),
      optimizer_(std::move(optimizer)),
      loss_(std::move(loss)),
      scheduler_(std::move(scheduler)) {
  NABLA_CHECK(model_ != nullptr, "Trainer: the model is null");
  NABLA_CHECK(optimizer_ != nullptr, "Trainer: the optimizer is null");
  NABLA_CHECK(static_cast<bool>(loss_), "Trainer: the loss function is empty");
}

int64_t count_correct(const Tensor& output, const Tensor& target) {
  NoGradGuard g;
  if (output.dim() == 2 && output.size(1) > 1 && target.dtype() == kInt64 && target.dim() == 1) {
    return eq(argmax(output, 1), target).to(kInt64).sum().item<int64_t>();
  }
  const bool one_column = output.dim() == 1 || (output.dim() == 2 && output.size(1) == 1);
  if (one_column && target.is_floating_point() && target.numel() == output.size(0)) {
    return eq(gt(output.reshape({-1}), 0.5), gt(target.reshape({-1}), 0.5)).to(kInt64).sum().item<int64_t>();
  }
  return -1;
}

std::pair<Tensor, Tensor> Trainer::train_step(const Tensor& x, const Tensor& y) {
  optimizer_->zero_grad();
  const Tensor out = (*model_)(x);
  const Tensor loss = loss_(out, y);
  NABLA_CHECK(loss.numel() == 1, "Trainer: the loss function must return a scalar, got shape {}",
              loss.shape_str());
  loss.backward();
  optimizer_->step();
  ++step_;
  return {loss.detach(), out.detach()};
}

namespace {
// Running sums of an epoch's metrics.
struct Meter {
  double loss = 0;
  int64_t samples = 0, correct = 0, counted = 0;
  void add(double batch_loss, int64_t n, int64_t c) {
    loss += batch_loss * static_cast<double>(n);
    samples += n;
    if (c >= 0) {
      correct += c;
      counted += n;
    }
  }
  Logs logs(const std::string& prefix = "") const {
    Logs l;
    if (samples > 0) l[prefix + "loss"] = loss / static_cast<double>(samples);
    if (counted > 0) l[prefix + "accuracy"] = static_cast<double>(correct) / static_cast<double>(counted);
    return l;
  }
};
}  // namespace

History Trainer::fit(data::DataLoader& train, const FitOptions& o, data::DataLoader* validation) {
  NABLA_CHECK(o.epochs >= 0, "fit: epochs must be non-negative, got {}", o.epochs);
  History history;
  stop_ = false;
  Progress progress(o.stream, o.verbose);
  for (auto& cb : o.callbacks) cb->on_train_begin(*this);
  auto steps_left = [&] { return o.max_steps < 0 || step_ < o.max_steps; };
  while (epoch_ < o.epochs && !stop_ && steps_left()) {
    for (auto& cb : o.callbacks) cb->on_epoch_begin(*this, epoch_);
    model_->train();
    const int64_t batches = train.num_batches();
    progress.begin_epoch(epoch_, o.epochs, batches);
    Meter meter;
    const auto start = std::chrono::steady_clock::now();
    bool interrupted = false;
    for (data::Batch& batch : train) {
      const auto [loss, out] = train_step(batch.data, batch.target);
      const int64_t n = batch.data.dim() > 0 ? batch.data.size(0) : 1;
      const double batch_loss = loss.item<double>();  // one device sync per step for the loss
      meter.add(batch_loss, n, count_correct(out, batch.target));
      Logs running = meter.logs();
      progress.update(batch.index + 1, running, meter.samples);
      running["batch_loss"] = batch_loss;
      for (auto& cb : o.callbacks) cb->on_batch_end(*this, step_, running);
      if (stop_ || !steps_left()) {
        interrupted = batch.index + 1 < batches;
        break;
      }
    }
    if (interrupted) break;  // mid-epoch: the loader keeps its position for a resume
    ++epoch_;
    Logs logs = meter.logs();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (secs > 0) logs["samples_per_s"] = static_cast<double>(meter.samples) / secs;
    logs["lr"] = optimizer_->get_lr();
    if (scheduler_) scheduler_->step();
    if (validation != nullptr) {
      for (const auto& [k, v] : evaluate(*validation)) logs["val_" + k] = v;
    }
    progress.end_epoch(logs);
    for (auto& cb : o.callbacks) cb->on_epoch_end(*this, epoch_ - 1, logs);
    history.epochs.push_back(logs);
  }
  for (auto& cb : o.callbacks) cb->on_train_end(*this);
  return history;
}

Logs Trainer::evaluate(data::DataLoader& loader) {
  NoGradGuard g;
  const bool was_training = model_->is_training();
  model_->eval();
  Meter meter;
  for (data::Batch& batch : loader) {
    const Tensor out = (*model_)(batch.data);
    const int64_t n = batch.data.dim() > 0 ? batch.data.size(0) : 1;
    meter.add(loss_(out, batch.target).item<double>(), n, count_correct(out, batch.target));
  }
  model_->train(was_training);
  return meter.logs();
}

Tensor Trainer::predict(const Tensor& x, int64_t batch_size) {
  NABLA_CHECK(batch_size > 0, "predict: batch_size must be positive, got {}", batch_size);
  NABLA_CHECK(x.defined() && x.dim() > 0, "predict: expected a batch of inputs with at least 1 dim");
  NoGradGuard g;
  const bool was_training = model_->is_training();
  model_->eval();
  std::vector<Tensor> outs;
  for (int64_t s = 0; s < x.size(0); s += batch_size) {
    outs.push_back((*model_)(x.narrow(0, s, std::min(batch_size, x.size(0) - s))));
  }
  model_->train(was_training);
  NABLA_CHECK(!outs.empty(), "predict: the input has no samples");
  return cat(outs, 0);
}

namespace {
// uint64 values stored bit for bit in int64 tensors
Tensor u64(uint64_t v) {
  int64_t i;
  std::memcpy(&i, &v, sizeof i);
  return scalar_tensor(i, kInt64);
}
uint64_t to_u64(const Tensor& t) {
  const int64_t i = t.item<int64_t>();
  uint64_t v;
  std::memcpy(&v, &i, sizeof v);
  return v;
}
void add_prefixed(StateDict& out, const std::string& prefix, const StateDict& in) {
  for (const auto& [k, v] : in) out.insert(prefix + k, v);
}
StateDict with_prefix(const StateDict& in, const std::string& prefix) {
  StateDict r;
  for (const auto& [k, v] : in) {
    if (k.rfind(prefix, 0) == 0) r.insert(k.substr(prefix.size()), v);
  }
  return r;
}
}  // namespace

void Trainer::save_checkpoint(const std::string& path, const data::DataLoader* loader) const {
  io::Checkpoint c;
  add_prefixed(c.tensors, "model.", model_->state_dict());
  add_prefixed(c.tensors, "optimizer.", optimizer_->state_dict());
  if (scheduler_) add_prefixed(c.tensors, "scheduler.", scheduler_->state_dict());
  const GeneratorState rng = get_rng_state();
  c.tensors.insert("rng.seed", u64(rng.seed));
  c.tensors.insert("rng.offset", u64(rng.offset));
  c.tensors.insert("trainer.epoch", scalar_tensor(epoch_, kInt64));
  c.tensors.insert("trainer.step", scalar_tensor(step_, kInt64));
  if (loader != nullptr) {
    const data::DataLoaderState s = loader->state();
    c.tensors.insert("loader.epoch", scalar_tensor(s.epoch, kInt64));
    c.tensors.insert("loader.batch", scalar_tensor(s.batch, kInt64));
    c.tensors.insert("loader.seed", u64(s.seed));
  }
  c.metadata["model"] = model_->type_name();
  c.metadata["optimizer"] = optimizer_->name();
  io::save_checkpoint(path, c);
}

void Trainer::load_checkpoint(const std::string& path, data::DataLoader* loader) {
  const io::Checkpoint c = io::load_checkpoint(path);
  auto meta = [&](const char* k) {
    auto it = c.metadata.find(k);
    return it == c.metadata.end() ? std::string("?") : it->second;
  };
  NABLA_CHECK(meta("optimizer") == optimizer_->name(),
              "load_checkpoint: {} holds the state of a {} optimizer, not {}", path, meta("optimizer"),
              optimizer_->name());
  NABLA_CHECK(!loader || c.tensors.contains("loader.epoch"),
              "load_checkpoint: {} has no data-loader position (it was saved without a loader)", path);
  model_->load_state_dict(with_prefix(c.tensors, "model."));
  optimizer_->load_state_dict(with_prefix(c.tensors, "optimizer."));
  if (scheduler_) scheduler_->load_state_dict(with_prefix(c.tensors, "scheduler."));
  set_rng_state({to_u64(c.tensors.at("rng.seed")), to_u64(c.tensors.at("rng.offset"))});
  epoch_ = c.tensors.at("trainer.epoch").item<int64_t>();
  step_ = c.tensors.at("trainer.step").item<int64_t>();
  if (loader != nullptr) {
    loader->load_state({c.tensors.at("loader.epoch").item<int64_t>(),
                        c.tensors.at("loader.batch").item<int64_t>(), to_u64(c.tensors.at("loader.seed"))});
  }
}

}  // namespace nabla::train
