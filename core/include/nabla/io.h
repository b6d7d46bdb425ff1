// nabla::io: saving and loading tensors in the safetensors format, durable file writes, and
// checksummed checkpoints.
//
// Safetensors (https://github.com/huggingface/safetensors) is the file format of Hugging Face
// and of PyTorch's ecosystem: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "0.weight": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]}, ...}
// padded with spaces so that the data starts 8-byte aligned, then the tensors' raw
// little-endian row-major bytes, one after the other, covering the data section exactly.
// Tensor names are kept as given, so files written from an nn module's state_dict() use
// PyTorch's names ("0.weight", "layer1.bias", ...) and load in PyTorch and back.
//
// Loading validates the whole file before any tensor is made and reports any problem as a
// nabla::Error naming the file and what is wrong; a corrupt or hostile file never crashes
// the process, reads out of bounds or makes nabla allocate more than the file's size (plus
// small per-tensor overhead).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "nabla/state_dict.h"

namespace nabla::io {

/// Free-form string metadata stored in a file's "__metadata__" (sorted by key).
using Metadata = std::map<std::string, std::string>;

/// The largest header load_safetensors accepts (the reference implementation's limit).
inline constexpr std::size_t kMaxSafetensorsHeaderBytes = 100'000'000;

// ---- safetensors -------------------------------------------------------------------------

/// The bytes of a safetensors file holding `tensors` (in their StateDict order) and
/// `metadata` ("__metadata__" is left out when empty). Tensors on any device and in any
/// layout are copied out contiguous. Supported dtypes, with their codes in the file:
/// float32 F32, float64 F64, float16 F16, bfloat16 BF16, int64 I64, int32 I32, uint8 U8,
/// bool BOOL. Throws nabla::Error for an undefined tensor, a name or metadata string that is
/// not valid UTF-8, or a tensor named "__metadata__".
std::string serialize_safetensors(const StateDict& tensors, const Metadata& metadata = {});
/// serialize_safetensors, then atomic_write_file.
void save_safetensors(const std::string& path, const StateDict& tensors, const Metadata& metadata = {});

/// The contents of a safetensors file.
struct SafetensorsFile {
  /// CPU tensors, in the order of their data in the file (for files nabla writes, the order
  /// they were saved in).
  StateDict tensors;
  Metadata metadata;
};

/// Parses the bytes of a safetensors file; `source` names them in error messages. Rejects,
/// with a nabla::Error naming `source` and the problem: input shorter than 8 bytes; a header
/// length beyond the input or above kMaxSafetensorsHeaderBytes; a header that is not strict
/// JSON (integers only, no duplicate keys, valid UTF-8) or not an object; a tensor entry that
/// is not an object of exactly "dtype", "shape" and "data_offsets"; an unknown dtype; a
/// negative size or a shape whose element count overflows; data_offsets that are not two
/// integers with begin <= end <= the data size; a byte length other than numel * element
/// size; data sections with gaps, overlaps or uncovered bytes; a "__metadata__" that is not
/// an object of strings; BOOL data other than 0 and 1.
SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view source = "<memory>");
/// Reads and parses a safetensors file (errors name `path`).
SafetensorsFile load_safetensors(const std::string& path);

// ---- durable writes ----------------------------------------------------------------------

/// Replaces the file at `path` with `bytes` so that a crash or a failure at any point leaves
/// either the old file or the complete new one, never a mix: the bytes go to a temporary file
/// in the same directory, which is fsync'ed and renamed over `path`; then the directory is
/// fsync'ed so the rename itself is durable. An existing file's permission bits are kept.
/// Throws nabla::Error (with the system's reason) on any failure, removing the temporary file.
void atomic_write_file(const std::string& path, std::string_view bytes);

// ---- checkpoints -------------------------------------------------------------------------

/// Training state: tensors (model, optimizer, ...) and string metadata (scheduler, RNG and
/// data-loader state, step counts, ...). Metadata keys starting with "nabla." are reserved.
struct Checkpoint {
  StateDict tensors;
  Metadata metadata;
};

/// The format tag save_checkpoint writes under "nabla.format".
inline constexpr std::string_view kCheckpointFormat = "checkpoint-v1";

/// Saves `c` atomically as a safetensors file (readable by any safetensors reader) whose
/// metadata also holds "nabla.format" = "checkpoint-v1" and "nabla.checksum": the IEEE CRC-32,
/// as 8 lowercase hex digits, of (1) every other metadata entry in key order, (2) each
/// tensor's name, dtype and shape, and (3) the data section, each string and count
/// length-prefixed so the encoding is unambiguous. Throws nabla::Error for a metadata key
/// starting with "nabla." or anything serialize_safetensors rejects.
void save_checkpoint(const std::string& path, const Checkpoint& c);
/// Loads and validates a checkpoint: the checks of load_safetensors, then the format tag and
/// the checksum (a mismatch throws "checkpoint <path> is corrupt: checksum mismatch ...").
/// The returned metadata no longer holds the "nabla." entries.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace nabla::io
