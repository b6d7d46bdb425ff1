// The safetensors format: writing a StateDict (plus metadata) to its bytes, and parsing and
// validating those bytes back. The layout is described in nabla/io.h.
//
// Parsing trusts nothing: every size is checked against the input before it is used, every
// count is overflow-checked, and no tensor is allocated until the whole header has been read
// and the data offsets have been shown to tile the data section exactly. Tensors are then
// allocated at sizes bounded by the (already present) data section.
#include "io/safetensors.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "io/file.h"
#include "io/json.h"
#include "nabla/factories.h"

namespace nabla::io {
namespace detail {
namespace {

// The data section is the tensors' little-endian bytes, copied to and from memory as is.
static_assert(std::endian::native == std::endian::little,
              "nabla::io reads and writes tensor data as little-endian bytes");

struct DtypeCode {
  ScalarType type;
  std::string_view code;
};
constexpr DtypeCode kDtypeCodes[] = {
    {kFloat32, "F32"}, {kFloat64, "F64"}, {kFloat16, "F16"}, {kBFloat16, "BF16"},
    {kInt64, "I64"},   {kInt32, "I32"},   {kUInt8, "U8"},    {kBool, "BOOL"},
};
static_assert(std::size(kDtypeCodes) == kNumScalarTypes, "every dtype needs a safetensors code");

std::optional<ScalarType> dtype_from_code(std::string_view code) {
  for (const DtypeCode& d : kDtypeCodes) {
    if (d.code == code) return d.type;
  }
  return std::nullopt;
}

constexpr std::string_view kMetadataKey = "__metadata__";

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint64_t get_u64_le(std::string_view s) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
  return v;
}

// ---- parsing ------------------------------------------------------------------------------

// One tensor's header entry, checked on its own (the cross-tensor checks come later).
struct Entry {
  std::string name;
  ScalarType dtype = kFloat32;
  Shape shape;
  int64_t begin = 0;
  int64_t end = 0;
};

// Reading one header; `where` ("load_safetensors: model.safetensors") starts every message.
class HeaderParser {
 public:
  HeaderParser(std::string_view header, uint64_t data_size, std::string where)
      : reader_(header), data_size_(data_size), where_(std::move(where)) {}

  // Fills `entries` (in header order) and `metadata`.
  void parse(std::vector<Entry>& entries, Metadata& metadata) {
    const json::Kind top = reader_.peek();
    NABLA_CHECK(top == json::Kind::Object, "{}: the header is not a JSON object (it is {})", where_,
                json::kind_name(top));
    reader_.begin_object();
    // The reader rejects duplicate keys, so names are unique and "__metadata__" comes once.
    while (std::optional<std::string> key = reader_.next_key()) {
      if (*key == kMetadataKey) {
        parse_metadata(metadata);
      } else {
        entries.push_back(parse_entry(std::move(*key)));
      }
    }
    reader_.finish();
  }

 private:
  void parse_metadata(Metadata& metadata) {
    const json::Kind k = reader_.peek();
    NABLA_CHECK(k == json::Kind::Object, "{}: __metadata__ is not an object of strings (it is {})", where_,
                json::kind_name(k));
    reader_.begin_object();
    while (std::optional<std::string> key = reader_.next_key()) {
      const json::Kind vk = reader_.peek();
      NABLA_CHECK(vk == json::Kind::String, "{}: __metadata__ entry {} is not a string (it is {})", where_,
                  json::quote(*key), json::kind_name(vk));
      metadata.emplace(std::move(*key), reader_.read_string());
    }
  }

  Entry parse_entry(std::string name) {
    Entry e;
    e.name = std::move(name);
    const std::string tensor = fmt::format("tensor {}", json::quote(e.name));
    const json::Kind k = reader_.peek();
    NABLA_CHECK(k == json::Kind::Object,
                "{}: {}: the entry is not an object with dtype, shape and data_offsets (it is {})", where_,
                tensor, json::kind_name(k));
    reader_.begin_object();
    bool has_dtype = false, has_shape = false, has_offsets = false;
    while (std::optional<std::string> key = reader_.next_key()) {
      if (*key == "dtype") {
        has_dtype = true;
        NABLA_CHECK(reader_.peek() == json::Kind::String, "{}: {}: dtype is not a string (it is {})", where_,
                    tensor, json::kind_name(reader_.peek()));
        const std::string code = reader_.read_string();
        const std::optional<ScalarType> t = dtype_from_code(code);
        NABLA_CHECK(t.has_value(),
                    "{}: {}: unknown dtype {} (nabla reads F32, F64, F16, BF16, I64, I32, U8, BOOL)", where_,
                    tensor, json::quote(code));
        e.dtype = *t;
      } else if (*key == "shape") {
        has_shape = true;
        e.shape = read_ints(tensor, "shape");
      } else if (*key == "data_offsets") {
        has_offsets = true;
        const std::vector<int64_t> off = read_ints(tensor, "data_offsets");
        NABLA_CHECK(off.size() == 2, "{}: {}: data_offsets must be two integers [begin, end], got {}", where_,
                    tensor, off.size());
        e.begin = off[0];
        e.end = off[1];
      } else {
        NABLA_FAIL("{}: {}: unexpected key {} (an entry has exactly dtype, shape and data_offsets)", where_,
                   tensor, json::quote(*key));
      }
    }
    for (const auto& [present, what] : {std::pair{has_dtype, "dtype"}, std::pair{has_shape, "shape"},
                                        std::pair{has_offsets, "data_offsets"}}) {
      NABLA_CHECK(present, "{}: {}: missing key \"{}\"", where_, tensor, what);
    }
    check_entry(e, tensor);
    return e;
  }

  std::vector<int64_t> read_ints(const std::string& tensor, std::string_view what) {
    const json::Kind k = reader_.peek();
    NABLA_CHECK(k == json::Kind::Array, "{}: {}: {} is not an array of integers (it is {})", where_, tensor,
                what, json::kind_name(k));
    std::vector<int64_t> v;
    reader_.begin_array();
    while (reader_.next_element()) {
      const json::Kind ek = reader_.peek();
      NABLA_CHECK(ek == json::Kind::Number, "{}: {}: {} holds {}, not an integer", where_, tensor, what,
                  json::kind_name(ek));
      v.push_back(reader_.read_int());
    }
    return v;
  }

  void check_entry(const Entry& e, const std::string& tensor) {
    // The element count, and the product of the sizes with zeros counted as ones (what
    // contiguous strides multiply up to): both must fit int64.
    int64_t numel = 1, stride_span = 1;
    for (std::size_t i = 0; i < e.shape.size(); ++i) {
      const int64_t s = e.shape[i];
      NABLA_CHECK(s >= 0, "{}: {}: negative size {} at dim {} of shape {}", where_, tensor, s, i,
                  fmt::join(e.shape, ", "));
      NABLA_CHECK(!__builtin_mul_overflow(numel, s, &numel) &&
                      !__builtin_mul_overflow(stride_span, std::max<int64_t>(s, 1), &stride_span),
                  "{}: {}: shape [{}] has too many elements (the count overflows int64)", where_, tensor,
                  fmt::join(e.shape, ", "));
    }
    const std::string offsets = fmt::format("data_offsets [{}, {}]", e.begin, e.end);
    NABLA_CHECK(e.begin >= 0 && e.end >= 0, "{}: {}: negative {}", where_, tensor, offsets);
    NABLA_CHECK(e.begin <= e.end, "{}: {}: {} begin after they end", where_, tensor, offsets);
    NABLA_CHECK(static_cast<uint64_t>(e.end) <= data_size_,
                "{}: {}: {} end beyond the data section ({} bytes)", where_, tensor, offsets, data_size_);
    int64_t nbytes = 0;
    NABLA_CHECK(!__builtin_mul_overflow(numel, static_cast<int64_t>(element_size(e.dtype)), &nbytes),
                "{}: {}: the byte size of shape [{}] overflows int64", where_, tensor,
                fmt::join(e.shape, ", "));
    NABLA_CHECK(nbytes == e.end - e.begin, "{}: {}: {} span {} bytes, but shape [{}] of {} needs {}", where_,
                tensor, offsets, e.end - e.begin, fmt::join(e.shape, ", "), dtype_code(e.dtype), nbytes);
  }

  json::Reader reader_;
  uint64_t data_size_;
  std::string where_;
};

// The data section must be tiled exactly: sorted by begin, each tensor starts where the
// previous one ends, the first at 0 and the last at the end of the data. (Several empty
// tensors may share an offset.) Returns the entries in data order.
void check_tiling(std::vector<Entry>& entries, uint64_t data_size, const std::string& where) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  int64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered) {
      NABLA_FAIL("{}: tensors {} (data_offsets [{}, {}]) and {} (data_offsets [{}, {}]) overlap", where,
                 json::quote(prev->name), prev->begin, prev->end, json::quote(e.name), e.begin, e.end);
    }
    NABLA_CHECK(e.begin == covered,
                "{}: the data section has a gap: bytes [{}, {}) before tensor {} belong to no tensor", where,
                covered, e.begin, json::quote(e.name));
    covered = e.end;
    prev = &e;
  }
  NABLA_CHECK(
      static_cast<uint64_t>(covered) == data_size,
      "{}: the data section has {} trailing bytes that belong to no tensor (tensors end at byte {} of {})",
      where, data_size - static_cast<uint64_t>(covered), covered, data_size);
}

Tensor make_tensor_from_bytes(const Entry& e, std::string_view data, const std::string& where) {
  Tensor t = empty(e.shape, TensorOptions(e.dtype));
  const auto n = static_cast<std::size_t>(e.end - e.begin);
  const char* src = data.data() + e.begin;
  if (e.dtype == kBool) {
    // Any other byte in a C++ bool is undefined behaviour, so it is an error here.
    const auto* bad = std::find_if(src, src + n, [](char c) { return c != 0 && c != 1; });
    NABLA_CHECK(bad == src + n, "{}: tensor {}: BOOL element {} holds byte {}, not 0 or 1", where,
                json::quote(e.name), bad - src, static_cast<int>(static_cast<unsigned char>(*bad)));
  }
  if (n > 0) std::memcpy(t.data_ptr(), src, n);
  return t;
}

}  // namespace

std::string_view dtype_code(ScalarType t) {
  for (const DtypeCode& d : kDtypeCodes) {
    if (d.type == t) return d.code;
  }
  NABLA_INTERNAL_ASSERT(false, "dtype {} has no safetensors code", static_cast<int>(t));
  return {};
}

// ---- writing ------------------------------------------------------------------------------

std::string serialize_safetensors(const StateDict& tensors, const Metadata& metadata, std::string_view op) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += json::quote(kMetadataKey);
    header += ":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      NABLA_CHECK(json::is_valid_utf8(key), "{}: a metadata key is not valid UTF-8", op);
      NABLA_CHECK(json::is_valid_utf8(value), "{}: the value of metadata key {} is not valid UTF-8", op,
                  json::quote(key));
      header += first ? "" : ",";
      header += json::quote(key) + ":" + json::quote(value);
      first = false;
    }
    header += "}";
  }

  // Contiguous CPU copies (no copy at all for a contiguous CPU tensor).
  std::vector<Tensor> data;
  data.reserve(tensors.size());
  int64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    NABLA_CHECK(json::is_valid_utf8(name), "{}: tensor name #{} is not valid UTF-8", op, data.size());
    NABLA_CHECK(name != kMetadataKey,
                "{}: a tensor cannot be named \"__metadata__\" (the format reserves it)", op);
    NABLA_CHECK(t.defined(), "{}: tensor {} is undefined", op, json::quote(name));
    Tensor c = t.detach().cpu().contiguous();
    const auto nbytes = static_cast<int64_t>(c.numel() * c.element_size());
    header += header.size() > 1 ? "," : "";
    header +=
        fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", json::quote(name),
                    dtype_code(c.dtype()), fmt::join(c.sizes(), ","), offset, offset + nbytes);
    offset += nbytes;
    data.push_back(std::move(c));
  }
  header += "}";
  // Spaces (which JSON ignores) align the data section to 8 bytes, as the reference writer does.
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + header.size() + static_cast<std::size_t>(offset));
  put_u64_le(out, header.size());
  out += header;
  for (const Tensor& c : data) {
    out.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  }
  return out;
}

// ---- reading ------------------------------------------------------------------------------

SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view source, std::string_view op) {
  const std::string where = fmt::format("{}: {}", op, source);
  NABLA_CHECK(bytes.size() >= 8, "{}: the file is too short ({} bytes) to hold the 8-byte header length",
              where, bytes.size());
  const uint64_t header_len = get_u64_le(bytes);
  NABLA_CHECK(header_len <= kMaxSafetensorsHeaderBytes, "{}: header length {} exceeds the limit of {} bytes",
              where, header_len, kMaxSafetensorsHeaderBytes);
  NABLA_CHECK(header_len <= bytes.size() - 8, "{}: header length {} exceeds the file size ({} bytes)", where,
              header_len, bytes.size());
  const std::string_view header = bytes.substr(8, header_len);
  const std::string_view data = bytes.substr(8 + header_len);

  SafetensorsFile file;
  std::vector<Entry> entries;
  try {
    HeaderParser(header, data.size(), where).parse(entries, file.metadata);
  } catch (const json::SyntaxError& e) {
    NABLA_FAIL("{}: the header is not valid JSON: {}", where, e.what());
  }
  check_tiling(entries, data.size(), where);
  for (const Entry& e : entries) file.tensors.insert(e.name, make_tensor_from_bytes(e, data, where));
  return file;
}

}  // namespace detail

std::string serialize_safetensors(const StateDict& tensors, const Metadata& metadata) {
  return detail::serialize_safetensors(tensors, metadata, "serialize_safetensors");
}

void save_safetensors(const std::string& path, const StateDict& tensors, const Metadata& metadata) {
  write_file_atomically(path, detail::serialize_safetensors(tensors, metadata, "save_safetensors"),
                        "save_safetensors");
}

SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view source) {
  return detail::parse_safetensors(bytes, source, "parse_safetensors");
}

SafetensorsFile load_safetensors(const std::string& path) {
  return detail::parse_safetensors(read_file(path, "load_safetensors"), path, "load_safetensors");
}

}  // namespace nabla::io
