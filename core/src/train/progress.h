// The progress display of Trainer::fit: a redrawn bar on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "nabla/train.h"

namespace nabla::train {

class Progress {
 public:
  Progress(std::FILE* stream, int verbose);
  void begin_epoch(int64_t epoch, int64_t epochs, int64_t batches);
  /// After batch `done` (1-based) of the epoch, with the running metrics.
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
