// A training loop in the spirit of Keras (nabla::train): fit / evaluate / predict over data
// loaders, loss and accuracy metrics, a progress bar on a terminal (plain periodic lines
// otherwise), callbacks (checkpoints, early stopping, CSV history), and full checkpoints
// (model, optimizer, scheduler, RNG, data-loader position) from which training resumes
// exactly. A hand-written loop stays just as easy: train_step() is the loop body.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nabla/data.h"
#include "nabla/lr_scheduler.h"
#include "nabla/nn/module.h"
#include "nabla/optim.h"

namespace nabla::train {

/// Metric name -> value: "loss", "accuracy", "val_loss", "val_accuracy", "lr", "samples_per_s".
using Logs = std::map<std::string, double>;

struct History {
  std::vector<Logs> epochs;
};

class Trainer;

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Trainer&) {}
  virtual void on_epoch_begin(Trainer&, int64_t /*epoch*/) {}
  virtual void on_batch_end(Trainer&, int64_t /*global_step*/, const Logs& /*batch_logs*/) {}
  virtual void on_epoch_end(Trainer&, int64_t /*epoch*/, const Logs& /*logs*/) {}
  virtual void on_train_end(Trainer&) {}
};

struct FitOptions {
  /// Train until this many epochs are complete (counting epochs done before a resume).
  int64_t epochs = 1;
  /// 0: silent; 1: a progress bar on a terminal, one line per ~10% of an epoch otherwise.
  int verbose = 1;
  /// Stop after this many optimizer steps in total (-1: no limit).
  int64_t max_steps = -1;
  std::vector<std::shared_ptr<Callback>> callbacks;
  /// Where progress goes (stdout by default).
  std::FILE* stream = nullptr;
};

using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

class Trainer {
 public:
  /// The scheduler, if any, steps once per epoch.
  Trainer(std::shared_ptr<nn::Module> model, std::shared_ptr<optim::Optimizer> optimizer, LossFn loss,
          std::shared_ptr<optim::LRScheduler> scheduler = nullptr);

  /// Trains on `train` until options.epochs epochs are complete, evaluating on `validation`
  /// after each epoch. Returns the logs of the epochs run by this call.
  History fit(data::DataLoader& train, const FitOptions& options = {},
              data::DataLoader* validation = nullptr);
  /// Mean loss (and accuracy where it applies) over a loader, in eval mode, without autograd.
  Logs evaluate(data::DataLoader& loader);
  /// Model outputs for x, in batches, in eval mode, without autograd.
  Tensor predict(const Tensor& x, int64_t batch_size = 256);
  /// One optimizer step: forward, loss, backward, step. Returns the loss tensor (detached) and
  /// the output (detached), for metrics.
  std::pair<Tensor, Tensor> train_step(const Tensor& x, const Tensor& y);

  /// Model, optimizer, scheduler, global RNG and (when given) the loader's position, with the
  /// epoch and step counters, in one checksummed file written atomically.
  void save_checkpoint(const std::string& path, const data::DataLoader* loader = nullptr) const;
  void load_checkpoint(const std::string& path, data::DataLoader* loader = nullptr);

  nn::Module& model() { return *model_; }
  optim::Optimizer& optimizer() { return *optimizer_; }
  int64_t epoch() const { return epoch_; }
  int64_t global_step() const { return step_; }
  /// Asks fit to stop at the end of the current batch (early stopping).
  void request_stop() { stop_ = true; }

 private:
  std::shared_ptr<nn::Module> model_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  LossFn loss_;
  std::shared_ptr<optim::LRScheduler> scheduler_;
  int64_t epoch_ = 0;  // completed epochs
  int64_t step_ = 0;   // optimizer steps taken
  bool stop_ = false;
};

/// Number of correct predictions in a batch: argmax over classes for [N, C] outputs with
/// int64 targets; output > 0.5 for one-column outputs with 0/1 targets. -1 when accuracy
/// does not apply (regression).
int64_t count_correct(const Tensor& output, const Tensor& target);

/// Saves a full checkpoint every N epochs and/or every N steps. `pattern` may contain
/// {epoch} and {step}, e.g. "run/ckpt-{epoch}.safetensors".
class ModelCheckpoint : public Callback {
 public:
  ModelCheckpoint(std::string pattern, int64_t every_n_epochs = 1, int64_t every_n_steps = 0,
                  const data::DataLoader* loader = nullptr);
  void on_batch_end(Trainer& t, int64_t step, const Logs& logs) override;
  void on_epoch_end(Trainer& t, int64_t epoch, const Logs& logs) override;
  const std::vector<std::string>& written() const { return written_; }

 private:
  std::string path_for(const Trainer& t) const;
  std::string pattern_;
  int64_t every_epochs_, every_steps_;
  const data::DataLoader* loader_;
  std::vector<std::string> written_;
};

/// Stops training when `monitor` has not improved by min_delta for `patience` epochs.
/// Metrics whose name contains "acc" are maximised, the others minimised.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(std::string monitor = "val_loss", int64_t patience = 0, double min_delta = 0.0);
  void on_train_begin(Trainer& t) override;
  void on_epoch_end(Trainer& t, int64_t epoch, const Logs& logs) override;
  int64_t stopped_epoch() const { return stopped_epoch_; }

 private:
  std::string monitor_;
  int64_t patience_;
  double min_delta_;
  bool maximize_;
  double best_ = 0;
  int64_t wait_ = 0, stopped_epoch_ = -1;
  bool have_best_ = false;
};

/// Appends one CSV row per epoch (epoch and every metric) to `path`, with a header.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string path);
  void on_epoch_end(Trainer& t, int64_t epoch, const Logs& logs) override;

 private:
  std::string path_;
  std::vector<std::string> columns_;
};

/// The progress display of fit(), for hand-written loops too (a GAN's two steps, say): a bar
/// redrawn in place on a terminal, a plain line at every 10% of the epoch otherwise.
/// stream: stdout when null; verbose: 0 silent, else on.
class Progress {
 public:
  explicit Progress(std::FILE* stream = nullptr, int verbose = 1);
  void begin_epoch(int64_t epoch, int64_t epochs, int64_t batches);
  /// After batch `done` (1-based) of the epoch, with the running metrics and the samples seen.
  void update(int64_t done, const Logs& running, int64_t samples);
  void end_epoch(const Logs& logs);

 private:
  std::string metrics(const Logs& logs) const;
  std::FILE* out_;
  int verbose_;
  bool tty_;
  int64_t epoch_ = 0, epochs_ = 0, batches_ = 0, last_line_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace nabla::train
