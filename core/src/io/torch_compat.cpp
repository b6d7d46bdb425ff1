// torch::save / torch::load of nabla/torch_compat.h over nabla::io's checkpoints.
#include "nabla/torch_compat.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace nabla::torch_compat {
namespace {

constexpr const char* kKindKey = "torch_compat.kind";
constexpr const char* kOptimizerKey = "torch_compat.optimizer";

// Runs `body`, turning any nabla::Error it raises into one that names the function and the file
// (the io and load_state_dict messages name neither torch::load nor, always, the path).
template <class F>
auto with_context(const char* function, const std::string& path, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}: {}", function, path, e.what()));
  }
}

void save_kind(const std::string& path, StateDict tensors, const std::string& kind,
               io::Metadata metadata = {}) {
  with_context("torch::save", path, [&] {
    metadata[kKindKey] = kind;
    io::save_checkpoint(path, io::Checkpoint{std::move(tensors), std::move(metadata)});
  });
}

std::string with_article(const std::string& kind) {
  const bool vowel = !kind.empty() && std::string_view("aeiou").find(kind[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + kind;
}

// Loads a checkpoint and checks that it holds `kind`.
io::Checkpoint load_kind(const std::string& path, const std::string& kind) {
  io::Checkpoint c;
  try {
    c = io::load_checkpoint(path);
  } catch (const Error& e) {
    // A file that exists but does not parse is most likely a libtorch archive: say what is read.
    std::error_code ec;
    const bool exists = std::filesystem::is_regular_file(path, ec);
    throw Error(
        fmt::format("torch::load: {}: {}{}", path, e.what(),
                    exists ? " (torch::load reads the safetensors checkpoints nabla's torch::save writes, "
                             "not libtorch's pickle archives)"
                           : ""));
  }
  auto it = c.metadata.find(kKindKey);
  NABLA_CHECK(it != c.metadata.end(),
              "torch::load: {}: the file is a nabla checkpoint but was not written by torch::save (it has no "
              "'{}' entry); load it with nabla::io::load_checkpoint",
              path, kKindKey);
  NABLA_CHECK(it->second == kind,
              "torch::load: {}: the file holds {} saved by torch::save, not the {} torch::load was given",
              path, with_article(it->second), kind);
  return c;
}

}  // namespace

namespace detail {
void throw_null_module(const char* function, const std::string& path) {
  NABLA_FAIL("{}: {}: the module is null (an empty holder or shared_ptr)", function, path);
}
}  // namespace detail

void save(const nn::Module& module, const std::string& path) {
  save_kind(path, module.state_dict(), "module");
}

void load(nn::Module& module, const std::string& path) {
  io::Checkpoint c = load_kind(path, "module");
  with_context("torch::load", path, [&] { module.load_state_dict(c.tensors, /*strict=*/true); });
}

void save(const optim::Optimizer& optimizer, const std::string& path) {
  save_kind(path, optimizer.state_dict(), "optimizer", {{kOptimizerKey, optimizer.name()}});
}

void load(optim::Optimizer& optimizer, const std::string& path) {
  io::Checkpoint c = load_kind(path, "optimizer");
  auto it = c.metadata.find(kOptimizerKey);
  const std::string saved = it == c.metadata.end() ? std::string("<unnamed>") : it->second;
  NABLA_CHECK(saved == optimizer.name(),
              "torch::load: {}: the file holds the state of optimizer {}, this one is {}", path, saved,
              optimizer.name());
  with_context("torch::load", path, [&] { optimizer.load_state_dict(c.tensors); });
}

void save(const Tensor& tensor, const std::string& path) {
  NABLA_CHECK(tensor.defined(), "torch::save: {}: the tensor is undefined", path);
  StateDict sd;
  sd.insert("tensor", tensor.detach());
  save_kind(path, std::move(sd), "tensor");
}

void load(Tensor& tensor, const std::string& path) {
  io::Checkpoint c = load_kind(path, "tensor");
  NABLA_CHECK(c.tensors.size() == 1 && c.tensors.contains("tensor"),
              "torch::load: {}: a saved tensor's file must hold one tensor named 'tensor', this one holds {}",
              path, fmt::join(c.tensors.keys(), ", "));
  tensor = c.tensors.at("tensor");
}

void save(const std::vector<Tensor>& tensors, const std::string& path) {
  StateDict sd;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    NABLA_CHECK(tensors[i].defined(), "torch::save: {}: tensor {} of {} is undefined", path, i,
                tensors.size());
    sd.insert(std::to_string(i), tensors[i].detach());
  }
  save_kind(path, std::move(sd), "tensors");
}

void load(std::vector<Tensor>& tensors, const std::string& path) {
  io::Checkpoint c = load_kind(path, "tensors");
  std::vector<Tensor> out;
  out.reserve(c.tensors.size());
  for (std::size_t i = 0; i < c.tensors.size(); ++i) {
    const Tensor* t = c.tensors.find(std::to_string(i));
    NABLA_CHECK(t != nullptr, "torch::load: {}: the saved tensors are not named 0..{}: '{}' is missing", path,
                c.tensors.size() - 1, i);
    out.push_back(*t);
  }
  tensors = std::move(out);
}

}  // namespace nabla::torch_compat
