// FashionMNIST: the Fashion-MNIST IDX files as a dataset of float images and int64 labels.
#include <filesystem>
#include <string>

#include "nabla/data.h"
#include "nabla/ops.h"

namespace nabla::data {
namespace {

constexpr const char* kHowToGet =
    "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass the "
    "directory holding the IDX files";

// The path of `<root>/<stem>`, uncompressed or .gz (the uncompressed one first: no inflating).
std::string find_file(const std::string& root, const std::string& stem) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* suffix : {"", ".gz"}) {
    const fs::path p = fs::path(root) / (stem + suffix);
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  NABLA_FAIL("FashionMNIST: missing {} (or {}.gz) in {}: {}", stem, stem, root, kHowToGet);
}

}  // namespace

std::string FashionMNIST::default_root() { return "/usr/share/datasets/fashion-mnist"; }

FashionMNIST::FashionMNIST(std::string root, bool train)
    : root_(std::move(root)), train_(train), tensors_(load(root_, train_)) {}

TensorDataset FashionMNIST::load(const std::string& root, bool train) {
  std::error_code ec;
  NABLA_CHECK(std::filesystem::is_directory(root, ec), "FashionMNIST: directory {} does not exist: {}", root,
              kHowToGet);
  const std::string split = train ? "train" : "t10k";
  const std::string images_path = find_file(root, split + "-images-idx3-ubyte");
  const std::string labels_path = find_file(root, split + "-labels-idx1-ubyte");
  const Tensor images = read_idx(images_path);
  const Tensor labels = read_idx(labels_path);

  NABLA_CHECK(images.dtype() == kUInt8 && images.dim() == 3 && images.size(1) == 28 && images.size(2) == 28,
              "FashionMNIST: {}: expected uint8 images of shape [N, 28, 28], got {} {}", images_path,
              dtype_name(images.dtype()), images.shape_str());
  NABLA_CHECK(labels.dtype() == kUInt8 && labels.dim() == 1,
              "FashionMNIST: {}: expected uint8 labels of shape [N], got {} {}", labels_path,
              dtype_name(labels.dtype()), labels.shape_str());
  NABLA_CHECK(images.size(0) == labels.size(0), "FashionMNIST: {} holds {} images but {} holds {} labels",
              images_path, images.size(0), labels_path, labels.size(0));
  if (labels.numel() > 0) {
    const int64_t top = labels.max().item<int64_t>();
    NABLA_CHECK(top < 10, "FashionMNIST: {}: label {} is out of range 0..9", labels_path, top);
  }
  // Pixels 0..255 to [0, 1], as torchvision's ToTensor; one channel for conv layers.
  Tensor data = images.to(kFloat32).div(255.0).view({images.size(0), 1, 28, 28});
  return TensorDataset(std::move(data), labels.to(kInt64));
}

}  // namespace nabla::data
