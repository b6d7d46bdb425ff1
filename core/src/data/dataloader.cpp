// DataLoader: the epoch order (shuffled from a per-epoch generator), batching, and the
// background thread that prepares batches ahead of the caller.
//
// One loop over the loader is a detail::LoaderRun, shared by the loop's iterators. The run
// owns the prefetch thread; when the last iterator goes (end of the loop, break, exception),
// the run stops the thread and joins it. The loader keeps only a weak reference to its latest
// run, so a loop that is left early is never kept alive by the loader. The cursor (epoch,
// batch) lives in the loader's Impl and is moved by the run on the caller's thread only; the
// worker thread touches nothing but the dataset, its own copy of the order and the queue.
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "nabla/autograd.h"
#include "nabla/data.h"
#include "nabla/factories.h"
#include "nabla/random.h"

namespace nabla::data {
namespace {

// Ready batches the worker may hold besides the one the caller is using: two keeps the
// caller fed through an uneven batch without holding many batches in (device) memory.
constexpr std::size_t kPrefetchDepth = 2;

}  // namespace

struct DataLoader::Impl {
  std::shared_ptr<Dataset> dataset;
  DataLoaderOptions options;
  int64_t epoch = 0;
  int64_t batch = 0;
  std::weak_ptr<detail::LoaderRun> active;

  ~Impl() { detach(); }
  void detach();
  int64_t num_batches() const {
    const int64_t n = dataset->size(), b = options.batch_size();
    return options.drop_last() ? n / b : (n + b - 1) / b;
  }
  std::vector<int64_t> order(int64_t e) const;
};

namespace {

// SplitMix64's finaliser: spreads (seed, epoch) over the Philox key so that neighbouring
// seeds or epochs give unrelated orders.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<int64_t> DataLoader::Impl::order(int64_t e) const {
  const int64_t n = dataset->size();
  if (!options.shuffle()) {
    std::vector<int64_t> v(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
    return v;
  }
  Generator gen(mix(mix(options.seed()) ^ static_cast<uint64_t>(e)));
  return randperm(n, gen).to_vector<int64_t>();
}

namespace detail {

struct LoaderRun {
  struct Item {
    Batch batch;
    std::exception_ptr error;
  };

  // Set on the caller's thread only.
  DataLoader::Impl* owner = nullptr;
  Batch current;
  bool finished = false;
  int64_t next = 0;  // the batch to hand out next

  // Read-only after construction (shared with the worker).
  std::shared_ptr<const Dataset> dataset;
  std::vector<int64_t> order;
  int64_t first = 0;  // the batch the loop started at
  int64_t num_batches = 0;
  int64_t batch_size = 1;
  Device device = Device::cpu();

  // The prefetch queue, guarded by mutex.
  std::thread worker;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Item> queue;
  bool stop = false;
  bool worker_done = false;
  std::exception_ptr worker_failure;  // an error outside a batch (the queue itself failed)

  ~LoaderRun() {
    if (worker.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        stop = true;
      }
      cv.notify_all();
      worker.join();  // waits at most for the batch being prepared
    }
  }

  Batch make_batch(int64_t b) const {
    const std::size_t begin = static_cast<std::size_t>(b * batch_size);
    const std::size_t end = std::min(order.size(), begin + static_cast<std::size_t>(batch_size));
    const std::vector<int64_t> indices(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                       order.begin() + static_cast<std::ptrdiff_t>(end));
    Batch out = dataset->get_batch(indices);
    // TODO(cuda): copy from pinned host memory on a side stream so that the transfer overlaps
    // the caller's compute; today .to() is a plain synchronous copy.
    if (out.data.defined()) out.data = out.data.to(device);
    if (out.target.defined()) out.target = out.target.to(device);
    out.index = b;
    return out;
  }

  void work() {
    try {
      // Grad mode is per thread: batches are data, never part of a graph.
      NoGradGuard no_grad;
      for (int64_t b = first; b < num_batches; ++b) {
        {
          std::unique_lock<std::mutex> lock(mutex);
          cv.wait(lock, [&] { return stop || queue.size() < kPrefetchDepth; });
          if (stop) break;
        }
        Item item;
        try {
          item.batch = make_batch(b);
        } catch (...) {
          item.error = std::current_exception();
        }
        const bool failed = item.error != nullptr;
        {
          std::lock_guard<std::mutex> lock(mutex);
          if (stop) break;
          queue.push_back(std::move(item));
        }
        cv.notify_all();
        if (failed) break;  // the caller stops at the error: nothing after it is wanted
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      worker_failure = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      worker_done = true;
    }
    cv.notify_all();
  }

  Batch take(int64_t b) {
    if (!worker.joinable()) {
      NoGradGuard no_grad;
      return make_batch(b);
    }
    Item item;
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return !queue.empty() || worker_done; });
      if (queue.empty()) {
        if (worker_failure) std::rethrow_exception(worker_failure);
        NABLA_INTERNAL_ASSERT(false, "DataLoader: the prefetch thread ended before batch {}", b);
      }
      item = std::move(queue.front());
      queue.pop_front();
    }
    cv.notify_all();
    if (item.error) std::rethrow_exception(item.error);
    NABLA_INTERNAL_ASSERT(item.batch.index == b, "DataLoader: got batch {} where {} was due",
                          item.batch.index, b);
    return std::move(item.batch);
  }

  // Moves to the next batch, or past the end (which moves the owner to the next epoch).
  void advance() {
    if (next >= num_batches) {
      finished = true;
      current = Batch();
      if (owner != nullptr) {
        ++owner->epoch;
        owner->batch = 0;
        owner->active.reset();
        owner = nullptr;
      }
      return;
    }
    try {
      current = take(next);
    } catch (...) {
      // The cursor stays on the failed batch: a new loop retries it.
      finished = true;
      current = Batch();
      if (owner != nullptr) owner->active.reset();
      owner = nullptr;
      throw;
    }
    ++next;
    if (owner != nullptr) owner->batch = next;
  }
};

}  // namespace detail

void DataLoader::Impl::detach() {
  if (auto run = active.lock()) run->owner = nullptr;
  active.reset();
}

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, DataLoaderOptions options)
    : impl_(std::make_unique<Impl>()) {
  NABLA_CHECK(dataset != nullptr, "DataLoader: the dataset is null");
  NABLA_CHECK(options.batch_size() >= 1, "DataLoader: batch_size must be at least 1, got {}",
              options.batch_size());
  const int64_t n = dataset->size();
  NABLA_CHECK(n >= 0, "DataLoader: the dataset reports a negative size {}", n);
  impl_->dataset = std::move(dataset);
  impl_->options = options;
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

DataLoader::Iterator DataLoader::begin() {
  Impl& im = *impl_;
  im.detach();
  const int64_t nb = im.num_batches();
  NABLA_CHECK(im.batch >= 0 && im.batch <= nb,
              "DataLoader: position {} is past the {} batches of an epoch "
              "(did the dataset shrink?)",
              im.batch, nb);
  auto run = std::make_shared<detail::LoaderRun>();
  run->owner = &im;
  run->dataset = im.dataset;
  run->num_batches = nb;
  run->first = run->next = im.batch;
  run->batch_size = im.options.batch_size();
  run->device = im.options.device();
  if (run->next < nb) run->order = im.order(im.epoch);
  im.active = run;
  if (im.options.prefetch() && run->next < nb) {
    // The worker holds a plain pointer: the run outlives it, since ~LoaderRun joins it.
    run->worker = std::thread([r = run.get()] { r->work(); });
  }
  run->advance();
  return Iterator(std::move(run));
}

Batch& DataLoader::Iterator::operator*() const {
  NABLA_CHECK(!at_end(), "DataLoader: dereferencing an iterator past the end of the epoch");
  return run_->current;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  NABLA_CHECK(!at_end(), "DataLoader: incrementing an iterator past the end of the epoch");
  run_->advance();
  return *this;
}

bool DataLoader::Iterator::at_end() const { return run_ == nullptr || run_->finished; }

int64_t DataLoader::num_batches() const { return impl_->num_batches(); }

int64_t DataLoader::epoch() const { return impl_->epoch; }

void DataLoader::set_epoch(int64_t e) {
  NABLA_CHECK(e >= 0, "DataLoader::set_epoch: the epoch must be non-negative, got {}", e);
  impl_->detach();
  impl_->epoch = e;
  impl_->batch = 0;
}

DataLoaderState DataLoader::state() const { return {impl_->epoch, impl_->batch, impl_->options.seed()}; }

void DataLoader::load_state(const DataLoaderState& s) {
  NABLA_CHECK(s.epoch >= 0, "DataLoader::load_state: the epoch must be non-negative, got {}", s.epoch);
  const int64_t nb = num_batches();
  NABLA_CHECK(s.batch >= 0 && s.batch <= nb,
              "DataLoader::load_state: batch {} is outside the {} batches of an epoch of this loader "
              "(was the state saved with another dataset or batch size?)",
              s.batch, nb);
  impl_->detach();
  impl_->epoch = s.epoch;
  impl_->batch = s.batch;
  impl_->options = impl_->options.seed(s.seed);
}

const DataLoaderOptions& DataLoader::options() const { return impl_->options; }

const std::shared_ptr<Dataset>& DataLoader::dataset() const { return impl_->dataset; }

}  // namespace nabla::data
