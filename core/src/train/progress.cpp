// Progress display: on a terminal, one line redrawn in place (batch, bar, metrics,
// samples/s, ETA), at most ~10 times a second so that drawing never slows training; when
// the output is a file or a pipe, a plain line at every 10% of the epoch, so logs stay
// readable.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

#include "nabla/train.h"

namespace nabla::train {
namespace {
std::string clock(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}
}  // namespace

Progress::Progress(std::FILE* stream, int verbose)
    : out_(stream != nullptr ? stream : stdout), verbose_(verbose), tty_(isatty(fileno(out_)) != 0) {}

std::string Progress::metrics(const Logs& logs) const {
  std::string s;
  for (const auto& [k, v] : logs) {
    if (k == "samples_per_s" || k == "lr") continue;
    s += fmt::format("  {} {:.4f}", k, v);
  }
  return s;
}

void Progress::begin_epoch(int64_t epoch, int64_t epochs, int64_t batches) {
  epoch_ = epoch;
  epochs_ = epochs;
  batches_ = batches;
  last_line_ = -1;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t done, const Logs& running, int64_t samples) {
  if (verbose_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(samples) / elapsed : 0.0;
  const double eta =
      done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(batches_ - done) : 0.0;
  if (tty_) {
    if (done != batches_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
    last_draw_ = now;
    constexpr int kWidth = 24;
    const int filled = batches_ > 0 ? static_cast<int>(kWidth * done / batches_) : kWidth;
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<std::size_t>(kWidth - filled - 1), '.');
    std::fprintf(out_, "\r\033[Kepoch %lld/%lld %lld/%lld [%s]%s  %.0f samples/s  ETA %s",
                 static_cast<long long>(epoch_ + 1), static_cast<long long>(epochs_),
                 static_cast<long long>(done), static_cast<long long>(batches_), bar.c_str(),
                 metrics(running).c_str(), rate, clock(eta).c_str());
  } else {
    const int64_t decile = batches_ > 0 ? done * 10 / batches_ : 10;
    if (decile == last_line_ || (decile == 10 && done != batches_)) return;
    last_line_ = decile;
    std::fprintf(out_, "epoch %lld/%lld batch %lld/%lld%s  %.0f samples/s  ETA %s\n",
                 static_cast<long long>(epoch_ + 1), static_cast<long long>(epochs_),
                 static_cast<long long>(done), static_cast<long long>(batches_), metrics(running).c_str(),
                 rate, clock(eta).c_str());
  }
  std::fflush(out_);
}

void Progress::end_epoch(const Logs& logs) {
  if (verbose_ <= 0) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "epoch %lld/%lld done in %s%s\n", static_cast<long long>(epoch_ + 1),
               static_cast<long long>(epochs_), clock(elapsed).c_str(), metrics(logs).c_str());
  std::fflush(out_);
}

}  // namespace nabla::train
