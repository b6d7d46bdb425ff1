// read_idx: the IDX format of MNIST-style datasets, raw or gzip-compressed.
//
// An IDX file is a 4-byte magic (0, 0, type code, number of dims), the dims as big-endian
// uint32, then the elements in row-major order, big-endian. The whole file (decompressed if
// need be) is read into memory first and every size in the header is checked against the
// bytes actually there before the tensor is allocated, so a corrupt or hostile header cannot
// make us allocate more than the input's real size.
#include <fmt/ranges.h>
#include <zlib.h>

#include <bit>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nabla/data.h"
#include "nabla/factories.h"

namespace nabla::data {
namespace {

// Limit of a file and of a decompressed stream: far above any IDX dataset in use (MNIST's
// largest file is 47 MB) and well inside what a tensor may hold.
constexpr std::size_t kMaxBytes = std::size_t{2} << 30;

template <class... Args>
[[noreturn]] void fail(const std::string& path, fmt::format_string<Args...> what, Args&&... args) {
  NABLA_FAIL("read_idx: {}: {}", path, fmt::format(what, std::forward<Args>(args)...));
}

std::vector<uint8_t> read_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "no such file");
  if (fs::is_directory(st)) fail(path, "is a directory, not an IDX file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail(path, "cannot open: {}", std::strerror(errno));
  // The size from stat is only a hint for the first allocation (one byte more, so that the
  // end of file is seen without growing); the bytes actually read are what is checked.
  const std::uintmax_t hint = fs::file_size(path, ec);
  std::vector<uint8_t> bytes(ec ? 0
                                : static_cast<std::size_t>(std::min<std::uintmax_t>(hint, kMaxBytes) + 1));
  std::size_t n = 0;
  for (;;) {
    if (n == bytes.size()) {
      if (bytes.size() > kMaxBytes) fail(path, "file is larger than the {} GiB limit", kMaxBytes >> 30);
      bytes.resize(std::min(kMaxBytes + 1, std::max<std::size_t>(bytes.size() * 2, 1 << 20)));
    }
    const std::size_t got = std::fread(bytes.data() + n, 1, bytes.size() - n, f.get());
    n += got;
    if (got == 0) {
      if (std::ferror(f.get())) fail(path, "read error: {}", std::strerror(errno));
      break;
    }
  }
  if (n > kMaxBytes) fail(path, "file is larger than the {} GiB limit", kMaxBytes >> 30);
  bytes.resize(n);
  return bytes;
}

bool is_gzip(const std::vector<uint8_t>& b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

// Inflates a gzip file (one or more concatenated members, as gzip(1) accepts), growing the
// output geometrically up to kMaxBytes: the gzip trailer's size field is not trusted.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& in, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(path, "cannot initialise zlib");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};

  std::vector<uint8_t> out(std::min(kMaxBytes + 1, std::max<std::size_t>(in.size() * 4, 1 << 20)));
  std::size_t produced = 0;
  zs.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct; it only reads
  zs.avail_in = static_cast<uInt>(in.size());  // in.size() <= kMaxBytes < 4 GiB
  for (;;) {
    if (produced == out.size()) {
      if (out.size() > kMaxBytes) fail(path, "decompressed data exceed the {} GiB limit", kMaxBytes >> 30);
      out.resize(std::min(kMaxBytes + 1, out.size() * 2));
    }
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, UINT_MAX));
    const int ret = inflate(&zs, Z_NO_FLUSH);
    produced = static_cast<std::size_t>(zs.next_out - out.data());
    if (ret == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows, or garbage.
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        if (inflateReset(&zs) != Z_OK) fail(path, "corrupt gzip stream: cannot restart zlib");
        continue;
      }
      fail(path, "corrupt gzip stream: {} bytes of trailing garbage after the compressed data", zs.avail_in);
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR && zs.avail_out == 0) continue;  // output full: grow and go on
    if (ret == Z_BUF_ERROR)
      fail(path, "corrupt gzip stream: the compressed data end unexpectedly (truncated file?)");
    if (ret == Z_MEM_ERROR) fail(path, "out of memory while decompressing");
    fail(path, "corrupt gzip stream: {}", zs.msg != nullptr ? zs.msg : "invalid data");
  }
  if (produced > kMaxBytes) fail(path, "decompressed data exceed the {} GiB limit", kMaxBytes >> 30);
  out.resize(produced);
  return out;
}

struct ElementType {
  uint8_t code;
  const char* name;
  std::size_t size;
  ScalarType dtype;
};
constexpr ElementType kTypes[] = {
    {0x08, "uint8", 1, kUInt8}, {0x09, "int8", 1, kInt32},      {0x0B, "int16", 2, kInt32},
    {0x0C, "int32", 4, kInt32}, {0x0D, "float32", 4, kFloat32}, {0x0E, "float64", 8, kFloat64},
};

uint64_t load_be(const uint8_t* p, std::size_t n) {
  uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// Converts n big-endian elements of `type` at `src` into the tensor's dtype at `dst`.
void convert(const ElementType& type, const uint8_t* src, std::size_t n, void* dst) {
  switch (type.code) {
    case 0x08:
      std::memcpy(dst, src, n);
      break;
    case 0x09:
      for (std::size_t i = 0; i < n; ++i) static_cast<int32_t*>(dst)[i] = static_cast<int8_t>(src[i]);
      break;
    case 0x0B:
      for (std::size_t i = 0; i < n; ++i)
        static_cast<int32_t*>(dst)[i] = static_cast<int16_t>(static_cast<uint16_t>(load_be(src + 2 * i, 2)));
      break;
    case 0x0C:
      for (std::size_t i = 0; i < n; ++i)
        static_cast<int32_t*>(dst)[i] = static_cast<int32_t>(static_cast<uint32_t>(load_be(src + 4 * i, 4)));
      break;
    case 0x0D:
      for (std::size_t i = 0; i < n; ++i)
        static_cast<float*>(dst)[i] = std::bit_cast<float>(static_cast<uint32_t>(load_be(src + 4 * i, 4)));
      break;
    case 0x0E:
      for (std::size_t i = 0; i < n; ++i)
        static_cast<double*>(dst)[i] = std::bit_cast<double>(load_be(src + 8 * i, 8));
      break;
    default:
      NABLA_INTERNAL_ASSERT(false, "read_idx: unhandled type code {}", type.code);
  }
}

Tensor parse(const std::vector<uint8_t>& b, const std::string& path) {
  const std::size_t n = b.size();
  if (n < 4) fail(path, "truncated: expected a 4-byte magic number, found {} bytes", n);
  if (b[0] != 0 || b[1] != 0) {
    fail(path, "bad magic number: the first two bytes must be 00 00, found {:02x} {:02x} (not an IDX file?)",
         b[0], b[1]);
  }
  const ElementType* type = nullptr;
  for (const ElementType& t : kTypes) {
    if (t.code == b[2]) type = &t;
  }
  if (type == nullptr) {
    fail(path, "unknown element type code 0x{:02X} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)", b[2]);
  }
  const int ndim = b[3];
  if (ndim < 1 || ndim > 8) fail(path, "unsupported number of dims {} (expected 1 to 8)", ndim);
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(ndim);
  if (n < header)
    fail(path, "truncated: expected a {}-byte header for {} dims, found {} bytes", header, ndim, n);

  Shape shape(static_cast<std::size_t>(ndim));
  int64_t numel = 1;
  bool overflow = false;
  for (int d = 0; d < ndim; ++d) {
    shape[d] = static_cast<int64_t>(load_be(&b[4 + 4 * static_cast<std::size_t>(d)], 4));
    overflow = overflow || __builtin_mul_overflow(numel, shape[d], &numel);
  }
  int64_t expected = 0;
  overflow = overflow || __builtin_mul_overflow(numel, static_cast<int64_t>(type->size), &expected);
  if (overflow) fail(path, "dims {} of {} overflow the addressable size", shape, type->name);

  const std::size_t found = n - header;
  if (static_cast<uint64_t>(expected) > found) {
    fail(path, "truncated: expected {} data bytes, found {} (dims {}, type {})", expected, found, shape,
         type->name);
  }
  if (static_cast<uint64_t>(expected) < found) {
    fail(path, "{} trailing bytes after the {} data bytes of dims {}, type {}",
         found - static_cast<uint64_t>(expected), expected, shape, type->name);
  }
  Tensor t = empty(shape, TensorOptions(type->dtype));
  if (numel > 0) convert(*type, b.data() + header, static_cast<std::size_t>(numel), t.data_ptr());
  return t;
}

}  // namespace

Tensor read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_file(path);
  if (is_gzip(bytes)) bytes = gunzip(bytes, path);
  return parse(bytes, path);
}

}  // namespace nabla::data
