// Callbacks of Trainer::fit: ModelCheckpoint, EarlyStopping, CSVLogger.
#include <cmath>
#include <fstream>

#include "nabla/train.h"

namespace nabla::train {

ModelCheckpoint::ModelCheckpoint(std::string pattern, int64_t every_n_epochs, int64_t every_n_steps,
                                 const data::DataLoader* loader)
    : pattern_(std::move(pattern)),
      every_epochs_(every_n_epochs),
      every_steps_(every_n_steps),
      loader_(loader) {
  NABLA_CHECK(!pattern_.empty(), "ModelCheckpoint: empty path pattern");
  NABLA_CHECK(every_epochs_ >= 0 && every_steps_ >= 0 && (every_epochs_ > 0 || every_steps_ > 0),
              "ModelCheckpoint: give a positive every_n_epochs or every_n_steps");
}

std::string ModelCheckpoint::path_for(const Trainer& t) const {
  std::string p = pattern_;
  auto replace = [&](const std::string& key, int64_t v) {
    for (std::size_t at = p.find(key); at != std::string::npos; at = p.find(key))
      p.replace(at, key.size(), std::to_string(v));
  };
  replace("{epoch}", t.epoch());
  replace("{step}", t.global_step());
  return p;
}

void ModelCheckpoint::on_batch_end(Trainer& t, int64_t step, const Logs&) {
  if (every_steps_ > 0 && step % every_steps_ == 0) {
    written_.push_back(path_for(t));
    t.save_checkpoint(written_.back(), loader_);
  }
}

void ModelCheckpoint::on_epoch_end(Trainer& t, int64_t epoch, const Logs&) {
  if (every_epochs_ > 0 && (epoch + 1) % every_epochs_ == 0) {
    written_.push_back(path_for(t));
    t.save_checkpoint(written_.back(), loader_);
  }
}

EarlyStopping::EarlyStopping(std::string monitor, int64_t patience, double min_delta)
    : monitor_(std::move(monitor)),
      patience_(patience),
      min_delta_(std::fabs(min_delta)),
      maximize_(monitor_.find("acc") != std::string::npos) {
  NABLA_CHECK(patience >= 0, "EarlyStopping: patience must be non-negative, got {}", patience);
}

void EarlyStopping::on_train_begin(Trainer&) {
  have_best_ = false;
  wait_ = 0;
  stopped_epoch_ = -1;
}

void EarlyStopping::on_epoch_end(Trainer& t, int64_t epoch, const Logs& logs) {
  auto it = logs.find(monitor_);
  NABLA_CHECK(it != logs.end(),
              "EarlyStopping: the metric '{}' is not logged (pass validation data for val_* metrics)",
              monitor_);
  const double v = it->second;
  const bool improved = !have_best_ || (maximize_ ? v > best_ + min_delta_ : v < best_ - min_delta_);
  if (improved) {
    best_ = v;
    have_best_ = true;
    wait_ = 0;
    return;
  }
  if (++wait_ > patience_) {
    stopped_epoch_ = epoch;
    t.request_stop();
  }
}

CSVLogger::CSVLogger(std::string path) : path_(std::move(path)) {
  std::ofstream f(path_, std::ios::trunc);
  NABLA_CHECK(f.good(), "CSVLogger: cannot write {}", path_);
}

void CSVLogger::on_epoch_end(Trainer&, int64_t epoch, const Logs& logs) {
  std::ofstream f(path_, std::ios::app);
  NABLA_CHECK(f.good(), "CSVLogger: cannot append to {}", path_);
  if (columns_.empty()) {
    for (const auto& [k, v] : logs) columns_.push_back(k);
    f << "epoch";
    for (const auto& c : columns_) f << ',' << c;
    f << '\n';
  }
  f << epoch + 1;
  for (const auto& c : columns_) {
    auto it = logs.find(c);
    f << ',';
    if (it != logs.end()) f << fmt::format("{:.9g}", it->second);
  }
  f << '\n';
}

}  // namespace nabla::train
