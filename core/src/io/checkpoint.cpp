// Checkpoints: safetensors files tagged "nabla.format" = "checkpoint-v1" that carry a CRC-32 of
// their contents under "nabla.checksum", so that a truncated or bit-flipped checkpoint is
// reported as corrupt instead of silently resuming training from damaged state. The structural
// checks of the safetensors parser catch damage to the layout; the checksum catches damage to
// the values (a flipped bit in a weight or in a metadata string is still a well-formed file).
#include <utility>

#include "io/crc32.h"
#include "io/file.h"
#include "io/json.h"
#include "io/safetensors.h"
#include "nabla/io.h"

namespace nabla::io {
namespace {

constexpr std::string_view kFormatKey = "nabla.format";
constexpr std::string_view kChecksumKey = "nabla.checksum";
constexpr std::string_view kReservedPrefix = "nabla.";

// Feeds the checksum. Strings and counts are length-prefixed (8 bytes, little-endian) so that
// different contents never encode to the same byte stream ("ab"+"c" vs "a"+"bc").
class Crc {
 public:
  void bytes(const void* p, std::size_t n) { crc_ = crc32_update(crc_, p, n); }
  void u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    bytes(b, sizeof b);
  }
  void str(std::string_view s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  uint32_t value() const { return crc_; }

 private:
  uint32_t crc_ = 0;
};

// The checksum described in nabla/io.h: metadata (all but the checksum itself, in key order),
// then each tensor's name, dtype code and shape, then the tensors' bytes in order, which are
// exactly the file's data section. Computed from tensors rather than from the file's bytes, so
// saving can compute it before the header that holds it is written.
std::string checksum(const Metadata& metadata, const StateDict& tensors, std::string_view op) {
  Crc crc;
  crc.u64(metadata.size() - metadata.count(std::string(kChecksumKey)));
  for (const auto& [key, value] : metadata) {
    if (key == kChecksumKey) continue;
    crc.str(key);
    crc.str(value);
  }
  crc.u64(tensors.size());
  for (const auto& [name, t] : tensors) {
    NABLA_CHECK(t.defined(), "{}: tensor {} is undefined", op, json::quote(name));
    crc.str(name);
    crc.str(detail::dtype_code(t.dtype()));
    crc.u64(static_cast<uint64_t>(t.dim()));
    for (const int64_t s : t.sizes()) crc.u64(static_cast<uint64_t>(s));
  }
  // A GPU or strided tensor is copied out here and again by the serializer: one tensor at a
  // time, so the extra memory is bounded by the largest tensor.
  for (const auto& [name, t] : tensors) {
    const Tensor c = t.detach().cpu().contiguous();
    crc.bytes(c.data_ptr(), c.numel() * c.element_size());
  }
  return fmt::format("{:08x}", crc.value());
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  constexpr std::string_view op = "save_checkpoint";
  for (const auto& [key, value] : c.metadata) {
    NABLA_CHECK(!key.starts_with(kReservedPrefix),
                "{}: metadata key {} is reserved (keys starting with \"nabla.\" belong to nabla)", op,
                json::quote(key));
  }
  Metadata metadata = c.metadata;
  metadata.emplace(kFormatKey, kCheckpointFormat);
  metadata.emplace(kChecksumKey, checksum(metadata, c.tensors, op));
  write_file_atomically(path, detail::serialize_safetensors(c.tensors, metadata, op), op);
}

Checkpoint load_checkpoint(const std::string& path) {
  constexpr std::string_view op = "load_checkpoint";
  SafetensorsFile file = detail::parse_safetensors(read_file(path, op), path, op);
  Metadata& metadata = file.metadata;

  const auto format = metadata.find(std::string(kFormatKey));
  NABLA_CHECK(
      format != metadata.end(),
      "{}: {}: not a nabla checkpoint (its metadata has no \"nabla.format\"); load_safetensors reads plain "
      "safetensors files",
      op, path);
  NABLA_CHECK(format->second == kCheckpointFormat,
              "{}: {}: unsupported checkpoint format {} (expected \"{}\")", op, path,
              json::quote(format->second), kCheckpointFormat);
  const auto stored = metadata.find(std::string(kChecksumKey));
  NABLA_CHECK(stored != metadata.end(),
              "{}: checkpoint {} is corrupt: its metadata has no \"nabla.checksum\"", op, path);
  const std::string actual = checksum(metadata, file.tensors, op);
  NABLA_CHECK(
      stored->second == actual,
      "{}: checkpoint {} is corrupt: checksum mismatch (the file records {}, its contents give \"{}\")", op,
      path, json::quote(stored->second), actual);

  metadata.erase(format);
  metadata.erase(stored);
  for (const auto& [key, value] : metadata) {
    NABLA_CHECK(!key.starts_with(kReservedPrefix),
                "{}: {}: unknown reserved metadata key {} in a {} checkpoint", op, path, json::quote(key),
                kCheckpointFormat);
  }
  return Checkpoint{std::move(file.tensors), std::move(metadata)};
}

}  // namespace nabla::io
