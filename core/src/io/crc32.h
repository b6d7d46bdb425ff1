// CRC-32 (IEEE 802.3, as zlib, PNG and gzip compute it) for checkpoint checksums (internal).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nabla::io {

/// Extends `crc` (0 for a fresh checksum) over `n` bytes: crc32_update(crc32_update(0, a), b)
/// is the CRC-32 of a followed by b. crc32_update(0, "123456789", 9) == 0xcbf43926.
uint32_t crc32_update(uint32_t crc, const void* data, std::size_t n);

}  // namespace nabla::io
