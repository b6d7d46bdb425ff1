// nabla::io: safetensors round trips for every dtype and layout, the exact bytes the format
// prescribes, compatibility with the reference implementation (Python's safetensors, when
// installed), rejection of corrupt files (one case per validation rule, every truncation,
// seeded random byte flips), atomic writes that leave the old file intact on failure,
// checksummed checkpoints, the internal JSON reader, and the nabla-inspect tool.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "io/crc32.h"
#include "io/json.h"
#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;

// ---- helpers ------------------------------------------------------------------------------

using test_util::throws_with;

// A file as the spec lays it out: 8-byte little-endian header length, header, data.
std::string make_file(std::string_view header, std::string_view data = {}) {
  std::string out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  out += header;
  out += data;
  return out;
}

// Little-endian bytes of values (the host is little-endian; io.cpp asserts it too).
template <class T>
std::string le_bytes(std::initializer_list<T> values) {
  std::string out;
  for (const T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return out;
}

// The raw bytes of a tensor, row-major.
std::string tensor_bytes(const Tensor& t) {
  const Tensor c = t.detach().cpu().contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

// Same dtype, shape and bytes (so NaNs and signed zeros compare too).
::testing::AssertionResult same_tensor(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) {
    return ::testing::AssertionFailure() << "dtype " << a.dtype() << " vs " << b.dtype();
  }
  if (a.sizes() != b.sizes())
    return ::testing::AssertionFailure() << "shape " << a.shape_str() << " vs " << b.shape_str();
  if (tensor_bytes(a) != tensor_bytes(b))
    return ::testing::AssertionFailure() << "values differ: " << a << " vs " << b;
  return ::testing::AssertionSuccess();
}

void expect_same_state(const StateDict& expected, const StateDict& actual) {
  ASSERT_EQ(expected.keys(), actual.keys());
  for (const auto& [name, t] : expected) EXPECT_TRUE(same_tensor(t, actual.at(name))) << name;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh directory per test: ctest runs test cases as parallel processes.
class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           fmt::format("nabla_test_io_{}_{}_{}", info->test_suite_name(), info->name(), ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::string path(std::string_view name) const { return (dir_ / name).string(); }
  // Names in the directory (to check that no temporary file is left behind).
  std::vector<std::string> listing(const fs::path& d) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(d)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

// Runs a shell command with stdout and stderr captured; returns the exit status.
struct RunResult {
  int status = -1;
  std::string out, err;
};

RunResult run_command(const std::string& cmd, const fs::path& dir) {
  const fs::path out = dir / "cmd.stdout", err = dir / "cmd.stderr";
  const std::string full = fmt::format("{} > '{}' 2> '{}'", cmd, out.string(), err.string());
  const int rc = std::system(full.c_str());
  RunResult r;
  r.status = rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = read_all(out);
  r.err = read_all(err);
  return r;
}

// One tensor of every dtype and several layouts.
StateDict sample_state() {
  manual_seed(7);
  StateDict sd;
  sd.insert("0.weight", randn({4, 3}));
  sd.insert("0.bias", from_vector<float>({-0.0f, std::numeric_limits<float>::infinity(),
                                          std::numeric_limits<float>::quiet_NaN(), 1e-40f}));
  sd.insert("f64", randn({2, 2, 2}, kFloat64));
  sd.insert("f16", from_vector<Half>({Half(1.5f), Half(-2.0f), Half(65504.0f)}, {3}));
  sd.insert("bf16", from_vector<BFloat16>({BFloat16(0.5f), BFloat16(-3.0f)}, {1, 2}));
  sd.insert("i64",
            from_vector<int64_t>(
                {std::numeric_limits<int64_t>::min(), -1, 0, std::numeric_limits<int64_t>::max()}, {2, 2}));
  sd.insert("i32", from_vector<int32_t>(
                       {std::numeric_limits<int32_t>::min(), 7, std::numeric_limits<int32_t>::max()}));
  sd.insert("u8", from_vector<uint8_t>({0, 1, 127, 128, 255}));
  sd.insert("mask", from_vector<bool>({true, false, true, true}, {2, 2}));
  sd.insert("scalar", scalar_tensor(2.5, kFloat64));               // 0-dim
  sd.insert("empty", zeros({0, 3}));                               // no elements
  sd.insert("empty_i64", zeros({2, 0, 4}, kInt64));                // no elements, 3-dim
  sd.insert("transposed", arange(12, kFloat32).view({3, 4}).t());  // non-contiguous
  sd.insert("strided", arange(20, kInt32).slice(0, 1, 20, 3));     // non-contiguous with offset
  sd.insert("expanded", from_vector<float>({1, 2, 3}).unsqueeze(0).expand({2, 3}));  // stride 0
  return sd;
}

// ---- round trips --------------------------------------------------------------------------

TEST_F(IoTest, RoundTripEveryDtypeAndLayoutInMemory) {
  const StateDict sd = sample_state();
  const io::Metadata meta = {{"format", "pt"},
                             {"quote\"back\\slash", "line\nbreak\ttab\x01 control"},
                             {"unicode", "h\xC3\xA9llo \xF0\x9F\x98\x80"},
                             {"empty", ""}};
  const std::string bytes = io::serialize_safetensors(sd, meta);
  // The data section starts 8-byte aligned.
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ((8 + header_len) % 8, 0u);

  const io::SafetensorsFile f = io::parse_safetensors(bytes);
  expect_same_state(sd, f.tensors);
  EXPECT_EQ(f.metadata, meta);
  EXPECT_EQ(f.tensors.at("scalar").dim(), 0);
  EXPECT_EQ(f.tensors.at("transposed").to_vector<float>(), sd.at("transposed").to_vector<float>());
  EXPECT_EQ(f.tensors.at("strided").to_vector<int32_t>(), (std::vector<int32_t>{1, 4, 7, 10, 13, 16, 19}));
  for (const auto& [name, t] : f.tensors) {
    EXPECT_EQ(t.device(), Device::cpu()) << name;
    EXPECT_TRUE(t.is_contiguous()) << name;
    EXPECT_FALSE(t.requires_grad()) << name;
  }
  // Serializing what was loaded gives the same bytes.
  EXPECT_EQ(io::serialize_safetensors(f.tensors, f.metadata), bytes);
}

TEST_F(IoTest, RoundTripThroughAFile) {
  StateDict sd = sample_state();
  Tensor w = randn({3, 3}).requires_grad_();
  sd.insert("requires_grad", w);
  io::save_safetensors(path("model.safetensors"), sd, {{"epoch", "3"}});
  const io::SafetensorsFile f = io::load_safetensors(path("model.safetensors"));
  expect_same_state(sd, f.tensors);
  EXPECT_EQ(f.metadata, (io::Metadata{{"epoch", "3"}}));
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"model.safetensors"});
}

TEST_F(IoTest, RoundTripOfAnEmptyStateDict) {
  const std::string bytes = io::serialize_safetensors({});
  EXPECT_EQ(bytes, make_file("{}      "));
  const io::SafetensorsFile f = io::parse_safetensors(bytes);
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_TRUE(f.metadata.empty());
}

// ---- the format, byte for byte --------------------------------------------------------------

TEST_F(IoTest, SerializerWritesTheSpecBytes) {
  StateDict sd;
  sd.insert("a", from_vector<float>({1.0f, 2.0f}));
  // 54 bytes of JSON padded with two spaces to 56 = 0x38, so the data starts at byte 64. (The
  // reference implementation writes exactly these bytes too.)
  const std::string expected = std::string("\x38\0\0\0\0\0\0\0", 8) +
                               R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})" + "  " +
                               std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  EXPECT_EQ(io::serialize_safetensors(sd), expected);

  sd.insert("b", scalar_tensor(true));
  const std::string with_meta =
      std::string("\x90\0\0\0\0\0\0\0", 8) +
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)" +
      R"("b":{"dtype":"BOOL","shape":[],"data_offsets":[8,9]}})" + "      " +
      std::string("\x00\x00\x80\x3f\x00\x00\x00\x40\x01", 9);
  EXPECT_EQ(io::serialize_safetensors(sd, {{"format", "pt"}}), with_meta);
}

TEST_F(IoTest, SixteenBitFloatsAreStoredAsTheirBits) {
  // F16 is IEEE binary16 and BF16 the top half of a float32, as PyTorch stores them:
  // 1.0 is 0x3c00 and 0x3f80, -2.0 is 0xc000 and 0xc000.
  StateDict sd;
  sd.insert("h", from_vector<Half>({Half(1.0f), Half(-2.0f)}));
  sd.insert("b", from_vector<BFloat16>({BFloat16(1.0f), BFloat16(-2.0f)}));
  const std::string bytes = io::serialize_safetensors(sd);
  EXPECT_EQ(bytes.substr(bytes.size() - 8), std::string("\x00\x3c\x00\xc0\x80\x3f\x00\xc0", 8));
}

TEST_F(IoTest, DtypeCodesFollowTheSpec) {
  const std::pair<ScalarType, std::string_view> codes[] = {
      {kFloat32, "F32"}, {kFloat64, "F64"}, {kFloat16, "F16"}, {kBFloat16, "BF16"},
      {kInt64, "I64"},   {kInt32, "I32"},   {kUInt8, "U8"},    {kBool, "BOOL"}};
  for (const auto& [dtype, code] : codes) {
    StateDict sd;
    sd.insert("x", zeros({2}, dtype));
    const std::string bytes = io::serialize_safetensors(sd);
    EXPECT_NE(bytes.find(fmt::format("\"dtype\":\"{}\"", code)), std::string::npos) << code;
    EXPECT_EQ(io::parse_safetensors(bytes).tensors.at("x").dtype(), dtype) << code;
  }
}

TEST_F(IoTest, HandBuiltFileLoads) {
  const io::SafetensorsFile f = io::parse_safetensors(
      make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", le_bytes<float>({1.5f, -2.0f})));
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors.at("a").sizes(), (Shape{2}));
  EXPECT_EQ(f.tensors.at("a").to_vector<float>(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_TRUE(f.metadata.empty());
}

TEST_F(IoTest, HandBuiltFileWithAnyKeyOrderWhitespaceAndEscapes) {
  // Pretty-printed, keys in another order, __metadata__ last, \u escapes (incl. a surrogate
  // pair), the header order unlike the data order, and no padding: all valid by the spec.
  const std::string header =
      "{\n  \"b\\u00e9\" : {\"data_offsets\": [8, 24], \"shape\": [2, 1], \"dtype\": \"I64\"},\n"
      "  \"a\\ud83d\\ude00\": {\"shape\": [], \"dtype\": \"F64\", \"data_offsets\": [0, 8]},\n"
      "  \"__metadata__\": {\"k\\n\": \"v\\\"\\/\"}\r\n}\t";
  const io::SafetensorsFile f =
      io::parse_safetensors(make_file(header, le_bytes<double>({0.25}) + le_bytes<int64_t>({-5, 1LL << 40})));
  // Tensors come in data order.
  EXPECT_EQ(f.tensors.keys(), (std::vector<std::string>{"a\xF0\x9F\x98\x80", "b\xC3\xA9"}));
  EXPECT_EQ(f.tensors.at("a\xF0\x9F\x98\x80").item<double>(), 0.25);
  EXPECT_EQ(f.tensors.at("b\xC3\xA9").sizes(), (Shape{2, 1}));
  EXPECT_EQ(f.tensors.at("b\xC3\xA9").to_vector<int64_t>(), (std::vector<int64_t>{-5, 1LL << 40}));
  EXPECT_EQ(f.metadata, (io::Metadata{{"k\n", "v\"/"}}));
}

TEST_F(IoTest, EmptyTensorsMayShareAnOffset) {
  const std::string header = R"({"e1":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                             R"("x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},)"
                             R"("e2":{"dtype":"U8","shape":[3,0],"data_offsets":[4,4]},)"
                             R"("e0":{"dtype":"BOOL","shape":[0],"data_offsets":[0,0]}})";
  const io::SafetensorsFile f = io::parse_safetensors(make_file(header, le_bytes<int32_t>({42})));
  EXPECT_EQ(f.tensors.keys(), (std::vector<std::string>{"e0", "x", "e1", "e2"}));
  EXPECT_EQ(f.tensors.at("x").item<int32_t>(), 42);
  EXPECT_EQ(f.tensors.at("e2").sizes(), (Shape{3, 0}));
}

// ---- the reference implementation -----------------------------------------------------------

constexpr std::string_view kPythonScript = R"PY(
import sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

def expected():
    return {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1),
        "f64": np.arange(4, dtype=np.float64) / 3,
        "f16": np.arange(5, dtype=np.float16) * np.float16(0.25),
        "i64": (np.arange(6, dtype=np.int64) - 3).reshape(3, 2) * np.int64(10**12),
        "i32": (np.arange(4, dtype=np.int32) - 2).reshape(2, 2) * np.int32(100000),
        "u8": np.arange(10, dtype=np.uint8) * np.uint8(25),
        "mask": np.arange(5) % 2 == 0,
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }

mode, path = sys.argv[1], sys.argv[2]
if mode == "write":
    save_file(expected(), path, metadata={"producer": "python", "note": "h\u00e9llo"})
else:
    got = load_file(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    exp = expected()
    assert sorted(got) == sorted(exp), (sorted(got), sorted(exp))
    for k, v in exp.items():
        g = got[k]
        assert g.dtype == v.dtype and g.shape == v.shape and np.array_equal(g, v), (k, g, v)
    assert meta == {"producer": "nabla", "note": "h\u00e9llo"}, meta
print("ok")
)PY";

// The tensors of expected() in the script above.
StateDict python_expected() {
  StateDict sd;
  sd.insert("f32", from_vector<float>({-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}, {2, 3}));
  sd.insert("f64", from_vector<double>({0.0, 1.0 / 3, 2.0 / 3, 1.0}));
  sd.insert("f16", from_vector<Half>({Half(0.0f), Half(0.25f), Half(0.5f), Half(0.75f), Half(1.0f)}));
  sd.insert("i64", from_vector<int64_t>({-3'000'000'000'000, -2'000'000'000'000, -1'000'000'000'000, 0,
                                         1'000'000'000'000, 2'000'000'000'000},
                                        {3, 2}));
  sd.insert("i32", from_vector<int32_t>({-200000, -100000, 0, 100000}, {2, 2}));
  sd.insert("u8", from_vector<uint8_t>({0, 25, 50, 75, 100, 125, 150, 175, 200, 225}));
  sd.insert("mask", from_vector<bool>({true, false, true, false, true}));
  sd.insert("scalar", scalar_tensor(3.5, kFloat32));
  sd.insert("empty", zeros({0, 3}));
  return sd;
}

TEST_F(IoTest, CompatibleWithTheReferenceImplementation) {
  if (std::system("python3 -c 'import safetensors, numpy' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 with the safetensors and numpy packages is not available "
                    "(pip install safetensors numpy to run this check)";
  }
  write_all(dir_ / "check.py", kPythonScript);
  const std::string script = path("check.py");
  const StateDict expected = python_expected();

  // Python writes, nabla reads.
  RunResult r = run_command(fmt::format("python3 '{}' write '{}'", script, path("py.safetensors")), dir_);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const io::SafetensorsFile f = io::load_safetensors(path("py.safetensors"));
  ASSERT_EQ(f.tensors.size(), expected.size());
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(f.tensors.contains(name)) << name;
    EXPECT_TRUE(same_tensor(t, f.tensors.at(name))) << name;
  }
  EXPECT_EQ(f.metadata, (io::Metadata{{"producer", "python"}, {"note", "h\xC3\xA9llo"}}));

  // nabla writes, Python reads (and checks values, dtypes, shapes and metadata).
  io::save_safetensors(path("nabla.safetensors"), expected,
                       {{"producer", "nabla"}, {"note", "h\xC3\xA9llo"}});
  r = run_command(fmt::format("python3 '{}' read '{}'", script, path("nabla.safetensors")), dir_);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok"), std::string::npos) << r.out << r.err;
}

// ---- corrupt files ---------------------------------------------------------------------------

// A valid one-tensor header around a changed entry.
std::string one_tensor(std::string_view entry, std::string_view data = std::string(8, '\0')) {
  return make_file(fmt::format(R"({{"a":{}}})", entry), data);
}

TEST_F(IoTest, RejectsEveryKindOfCorruption) {
  const std::string f32x2 = std::string(8, '\0');
  struct Case {
    const char* what;
    std::string bytes;
    const char* needle;
  };
  const Case cases[] = {
      {"empty file", "", "too short (0 bytes)"},
      {"shorter than 8 bytes", "abc", "too short (3 bytes)"},
      {"header length beyond the file", std::string("\x03\0\0\0\0\0\0\0", 8) + "{}", "header length 3"},
      {"header length beyond the file (2)", std::string("\xe7\x03\0\0\0\0\0\0", 8) + "{}",
       "header length 999 exceeds the file size (10 bytes)"},
      {"header length above 100 MB", std::string("\x00\xe1\xf5\x05\x01\0\0\0", 8) + "{}",
       "exceeds the limit"},
      {"header length 2^64-1", std::string(8, '\xff') + "{}", "exceeds the limit"},
      {"empty header", make_file(""), "not valid JSON"},
      {"header not JSON", make_file("{\"a\":"), "not valid JSON"},
      {"header not an object", make_file("[1, 2]"), "not a JSON object (it is an array)"},
      {"trailing garbage", make_file("{} x"), "unexpected 'x' after the JSON value"},
      {"trailing NUL padding", make_file(std::string("{}\0", 3)), "not valid JSON"},
      {"trailing comma", make_file(R"({"__metadata__":{},})"), "not valid JSON"},
      {"entry not an object", make_file(R"({"a":[1]})"), "tensor \"a\": the entry is not an object"},
      {"missing dtype", one_tensor(R"({"shape":[2],"data_offsets":[0,8]})"), "missing key \"dtype\""},
      {"missing shape", one_tensor(R"({"dtype":"F32","data_offsets":[0,8]})"), "missing key \"shape\""},
      {"missing data_offsets", one_tensor(R"({"dtype":"F32","shape":[2]})"), "missing key \"data_offsets\""},
      {"extra key", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1})"),
       "unexpected key \"x\""},
      {"unknown dtype", one_tensor(R"({"dtype":"I16","shape":[4],"data_offsets":[0,8]})"),
       "unknown dtype \"I16\""},
      {"lower-case dtype", one_tensor(R"({"dtype":"f32","shape":[2],"data_offsets":[0,8]})"),
       "unknown dtype"},
      {"dtype not a string", one_tensor(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"),
       "dtype is not a string"},
      {"negative size", one_tensor(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"),
       "negative size -2"},
      {"shape overflow", one_tensor(R"({"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,8]})"),
       "overflows int64"},
      {"stride overflow behind a zero",
       one_tensor(R"({"dtype":"U8","shape":[0,4294967296,4294967296],"data_offsets":[0,0]})", ""),
       "overflows int64"},
      {"byte size overflow",
       one_tensor(R"({"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]})"), "byte size"},
      {"shape not an array", one_tensor(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"),
       "shape is not an array"},
      {"fractional size", one_tensor(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"),
       "only integers"},
      {"string size", one_tensor(R"({"dtype":"F32","shape":["2"],"data_offsets":[0,8]})"), "not an integer"},
      {"one offset", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[8]})"), "two integers"},
      {"three offsets", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8,8]})"), "two integers"},
      {"negative offset", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[-8,0]})"),
       "negative data_offsets"},
      {"begin after end", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"),
       "begin after they end"},
      {"end beyond the data", one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})", "1234"),
       "end beyond the data section (4 bytes)"},
      {"offset beyond int64",
       one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]})"), "int64 range"},
      {"byte length mismatch", one_tensor(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"),
       "span 8 bytes, but shape [3] of F32 needs 12"},
      {"gap before the first tensor", one_tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]})"),
       "gap"},
      {"gap between tensors",
       make_file(
           R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})",
           "abc"),
       "gap: bytes [1, 2)"},
      {"overlapping tensors",
       make_file(
           R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
           "abc"),
       "overlap"},
      {"two tensors on the same bytes",
       make_file(
           R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})",
           "ab"),
       "overlap"},
      {"uncovered trailing bytes",
       one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})", f32x2 + "xy"), "2 trailing bytes"},
      {"data but no tensors", make_file("{}", "x"), "1 trailing bytes"},
      {"duplicate tensor names",
       make_file(
           R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
           "ab"),
       "duplicate key \"a\""},
      {"duplicate keys in an entry",
       one_tensor(R"({"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]})"),
       "duplicate key \"dtype\""},
      {"duplicate __metadata__", make_file(R"({"__metadata__":{},"__metadata__":{}})"),
       "duplicate key \"__metadata__\""},
      {"duplicate metadata keys", make_file(R"({"__metadata__":{"k":"1","k":"2"}})"), "duplicate key \"k\""},
      {"__metadata__ not an object", make_file(R"({"__metadata__":"x"})"), "__metadata__ is not an object"},
      {"__metadata__ with a number", make_file(R"({"__metadata__":{"epoch":3}})"),
       "__metadata__ entry \"epoch\" is not a string (it is a number)"},
      {"__metadata__ with null", make_file(R"({"__metadata__":{"k":null}})"), "is not a string (it is null)"},
      {"invalid UTF-8 in a name", make_file("{\"\xff\":{}}"), "invalid UTF-8"},
      {"overlong UTF-8", make_file("{\"\xc0\xaf\":{}}"), "invalid UTF-8"},
      {"UTF-8 surrogate", make_file("{\"\xed\xa0\x80\":{}}"), "invalid UTF-8"},
      {"lone surrogate escape", make_file(R"({"\ud800":{}})"), "unpaired high surrogate"},
      {"bad escape", make_file(R"({"\q":{}})"), "invalid escape"},
      {"raw control character", make_file("{\"a\nb\":{}}"), "unescaped control character"},
      {"BOOL byte other than 0 or 1",
       one_tensor(R"({"dtype":"BOOL","shape":[2],"data_offsets":[0,2]})", "\x01\x02"),
       "BOOL element 1 holds byte 2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_NABLA_ERROR(io::parse_safetensors(c.bytes, "bad.safetensors"), c.needle);
    // Every message names the operation and the source.
    EXPECT_NABLA_ERROR(io::parse_safetensors(c.bytes, "bad.safetensors"),
                       "parse_safetensors: bad.safetensors: ");
  }
  EXPECT_GE(std::size(cases), 20u);
}

TEST_F(IoTest, LoadErrorsNameTheFile) {
  const std::string p = path("bad.safetensors");
  write_all(p, std::string("\x3f\x42\x0f\0\0\0\0\0", 8) + std::string(112, ' '));  // header length 999999
  EXPECT_NABLA_ERROR(
      io::load_safetensors(p),
      fmt::format("load_safetensors: {}: header length 999999 exceeds the file size (120 bytes)", p));
  EXPECT_NABLA_ERROR(
      io::load_safetensors(path("missing")),
      fmt::format("load_safetensors: cannot open '{}': No such file or directory", path("missing")));
  EXPECT_NABLA_ERROR(io::load_safetensors(dir_.string()), "is a directory");
}

TEST_F(IoTest, EveryTruncationIsRejected) {
  const std::string bytes = io::serialize_safetensors(sample_state(), {{"format", "pt"}});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    SCOPED_TRACE(fmt::format("cut at {} of {}", cut, bytes.size()));
    EXPECT_TRUE(
        throws_with<Error>([&] { io::parse_safetensors(std::string_view(bytes).substr(0, cut)); }, {""}));
  }
}

TEST_F(IoTest, RandomByteFlipsLoadSameShapesOrThrow) {
  const StateDict sd = sample_state();
  const std::string bytes = io::serialize_safetensors(sd, {{"format", "pt"}});
  std::mt19937_64 rng(1234);
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 500; ++trial) {
    std::string m = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    std::string what;
    for (int k = 0; k < flips; ++k) {
      // Mostly the header (where structure lives), sometimes anywhere.
      const std::size_t limit = rng() % 4 == 0 ? m.size() : std::min<std::size_t>(m.size(), 8 + 600);
      const std::size_t pos = rng() % limit;
      m[pos] = static_cast<char>(rng() % 256);
      what += fmt::format(" byte {}", pos);
    }
    SCOPED_TRACE(fmt::format("trial {}:{}", trial, what));
    try {
      const io::SafetensorsFile f = io::parse_safetensors(m);
      ++loaded;
      // What loads has the original layout: the same number of tensors, in the same order,
      // with the same shapes and element sizes (a flip may rename a tensor or turn F32 into I32).
      ASSERT_EQ(f.tensors.size(), sd.size());
      auto it = sd.begin();
      for (const auto& [name, t] : f.tensors) {
        EXPECT_EQ(t.sizes(), it->second.sizes());
        EXPECT_EQ(t.element_size(), it->second.element_size());
        ++it;
      }
    } catch (const Error& e) {
      ++rejected;
      EXPECT_EQ(std::string(e.what()).rfind("parse_safetensors: <memory>: ", 0), 0u) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw " << typeid(e).name() << ": " << e.what();
    }
  }
  EXPECT_GT(rejected, 100);
  EXPECT_GT(loaded, 0);
}

// ---- writing errors ---------------------------------------------------------------------------

TEST_F(IoTest, SerializerRejectsWhatTheFormatCannotHold) {
  StateDict undefined;
  undefined.insert("w", Tensor());
  EXPECT_NABLA_ERROR(io::serialize_safetensors(undefined),
                     "serialize_safetensors: tensor \"w\" is undefined");
  StateDict reserved;
  reserved.insert("__metadata__", zeros({1}));
  EXPECT_NABLA_ERROR(io::serialize_safetensors(reserved), "cannot be named \"__metadata__\"");
  StateDict bad_name;
  bad_name.insert("w\xff", zeros({1}));
  EXPECT_NABLA_ERROR(io::serialize_safetensors(bad_name), "not valid UTF-8");
  EXPECT_NABLA_ERROR(io::serialize_safetensors({}, {{"k", "\xc3"}}), "metadata key \"k\" is not valid UTF-8");
  EXPECT_NABLA_ERROR(io::save_safetensors(path("x.safetensors"), undefined),
                     "save_safetensors: tensor \"w\" is undefined");
  EXPECT_FALSE(fs::exists(path("x.safetensors")));
}

// ---- atomic writes ----------------------------------------------------------------------------

TEST_F(IoTest, AtomicWriteCreatesAndReplaces) {
  const std::string p = path("f.bin");
  io::atomic_write_file(p, "first");
  EXPECT_EQ(read_all(p), "first");
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  io::atomic_write_file(p, std::string("second\0with NUL", 15));
  EXPECT_EQ(read_all(p), std::string("second\0with NUL", 15));
  // The replaced file keeps its permission bits, and no temporary file is left behind.
  EXPECT_EQ(fs::status(p).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  io::atomic_write_file(p, "");
  EXPECT_EQ(read_all(p), "");
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"f.bin"});
}

TEST_F(IoTest, AtomicWriteOverADirectoryFailsAndKeepsIt) {
  fs::create_directory(dir_ / "d");
  write_all(dir_ / "d" / "inside", "keep");
  EXPECT_NABLA_ERROR(io::atomic_write_file(path("d"), "data"),
                     fmt::format("atomic_write_file: cannot write '{}': it is a directory", path("d")));
  EXPECT_EQ(read_all(dir_ / "d" / "inside"), "keep");
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"d"});
  EXPECT_NABLA_ERROR(io::atomic_write_file(path("d") + "/", "data"), "names a directory");
}

TEST_F(IoTest, AtomicWriteIntoAMissingDirectoryFails) {
  EXPECT_NABLA_ERROR(io::atomic_write_file(path("no/such/dir/f"), "data"), "cannot create a temporary file");
  EXPECT_NABLA_ERROR(io::atomic_write_file(path("no/such/dir/f"), "data"), "No such file or directory");
}

TEST_F(IoTest, AtomicWriteInAReadOnlyDirectoryKeepsTheOldFile) {
  const fs::path ro = dir_ / "ro";
  fs::create_directory(ro);
  write_all(ro / "f", "old contents");
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  // root ignores directory permissions: find out by trying.
  if (::access(ro.c_str(), W_OK) == 0) {
    fs::permissions(ro, fs::perms::owner_all);
    GTEST_SKIP()
        << "this user can write to read-only directories (root); the EFBIG test covers failed writes";
  }
  EXPECT_NABLA_ERROR(io::atomic_write_file((ro / "f").string(), "new contents"), "Permission denied");
  EXPECT_EQ(read_all(ro / "f"), "old contents");
  fs::permissions(ro, fs::perms::owner_all);
  EXPECT_EQ(listing(ro), std::vector<std::string>{"f"});
}

TEST_F(IoTest, AtomicWriteThatFailsHalfwayKeepsTheOldFile) {
  // A file size limit makes write() fail with EFBIG after part of the data: a genuine
  // half-written temporary file, even for root.
  const std::string p = path("model.safetensors");
  const std::string old_bytes = io::serialize_safetensors(sample_state());
  write_all(p, old_bytes);
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = saved;
  lim.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  const std::string big(64 * 1024, 'x');
  const bool threw = throws_with<Error>([&] { io::atomic_write_file(p, big); }, {"File too large"});
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(threw);
  EXPECT_EQ(read_all(p), old_bytes);
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"model.safetensors"});
  EXPECT_NO_THROW(io::load_safetensors(p));
}

// ---- checkpoints ------------------------------------------------------------------------------

TEST_F(IoTest, CheckpointRoundTrip) {
  io::Checkpoint c;
  c.tensors = sample_state();
  c.metadata = {{"step", "1200"}, {"rng", "philox:7:123"}, {"note", "h\xC3\xA9llo\n"}};
  io::save_checkpoint(path("ckpt"), c);
  const io::Checkpoint back = io::load_checkpoint(path("ckpt"));
  expect_same_state(c.tensors, back.tensors);
  EXPECT_EQ(back.metadata, c.metadata);

  // A plain safetensors file underneath, with the reserved entries.
  const io::SafetensorsFile f = io::load_safetensors(path("ckpt"));
  EXPECT_EQ(f.metadata.at("nabla.format"), "checkpoint-v1");
  const std::string sum = f.metadata.at("nabla.checksum");
  EXPECT_EQ(sum.size(), 8u);
  EXPECT_EQ(sum.find_first_not_of("0123456789abcdef"), std::string::npos) << sum;
  EXPECT_EQ(f.metadata.size(), c.metadata.size() + 2);

  // Empty checkpoints work too.
  io::save_checkpoint(path("empty"), {});
  EXPECT_TRUE(io::load_checkpoint(path("empty")).tensors.empty());
}

TEST_F(IoTest, Crc32IsTheIeeeCrc) {
  EXPECT_EQ(io::crc32_update(0, "123456789", 9), 0xcbf43926u);
  EXPECT_EQ(io::crc32_update(0, "", 0), 0u);
  EXPECT_EQ(io::crc32_update(io::crc32_update(0, "12345", 5), "6789", 4), 0xcbf43926u);
  EXPECT_EQ(io::crc32_update(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
}

TEST_F(IoTest, CheckpointDetectsCorruption) {
  io::Checkpoint c;
  c.tensors.insert("w", arange(16, kFloat32).view({4, 4}));
  c.tensors.insert("b", from_vector<int64_t>({1, 2}));
  c.metadata = {{"epoch", "3"}};
  const std::string p = path("ckpt");
  io::save_checkpoint(p, c);
  const std::string good = read_all(p);

  const auto expect_corrupt = [&](std::string bytes, const char* what) {
    SCOPED_TRACE(what);
    write_all(p, bytes);
    EXPECT_NABLA_ERROR(io::load_checkpoint(p),
                       fmt::format("load_checkpoint: checkpoint {} is corrupt: checksum mismatch", p));
  };
  // One flipped bit in the data section: still a well-formed safetensors file.
  std::string m = good;
  m[m.size() - 3] ^= 0x01;
  write_all(p, m);
  EXPECT_NO_THROW(io::load_safetensors(p));
  expect_corrupt(m, "data byte");
  // Every single data byte flip is caught.
  const std::size_t data_start = good.size() - (16 * 4 + 2 * 8);
  for (std::size_t i = data_start; i < good.size(); i += 7) {
    m = good;
    m[i] = static_cast<char>(m[i] ^ 0x80);
    expect_corrupt(m, "data byte sweep");
  }
  // A changed metadata value of the same length.
  m = good;
  m.replace(m.find("\"epoch\":\"3\""), 11, "\"epoch\":\"4\"");
  expect_corrupt(m, "metadata value");
  // A renamed tensor.
  m = good;
  m.replace(m.find("\"w\":"), 4, "\"v\":");
  expect_corrupt(m, "tensor name");
  // A changed shape with the same byte count.
  m = good;
  m.replace(m.find("[4,4]"), 5, "[2,8]");
  expect_corrupt(m, "shape");
  // A changed checksum.
  m = good;
  const std::size_t at = m.find("\"nabla.checksum\":\"") + 18;
  m[at] = m[at] == '0' ? '1' : '0';
  expect_corrupt(m, "checksum text");

  // Structural damage is reported by the safetensors checks, under load_checkpoint's name.
  write_all(p, good.substr(0, good.size() - 1));
  EXPECT_NABLA_ERROR(io::load_checkpoint(p), fmt::format("load_checkpoint: {}: ", p));
  write_all(p, good);
  EXPECT_NO_THROW(io::load_checkpoint(p));
}

TEST_F(IoTest, CheckpointFormatRules) {
  io::Checkpoint c;
  c.metadata = {{"nabla.step", "1"}};
  EXPECT_NABLA_ERROR(io::save_checkpoint(path("c"), c),
                     "save_checkpoint: metadata key \"nabla.step\" is reserved");
  EXPECT_FALSE(fs::exists(path("c")));

  io::save_safetensors(path("plain"), {}, {{"format", "pt"}});
  EXPECT_NABLA_ERROR(io::load_checkpoint(path("plain")), "not a nabla checkpoint");
  io::save_safetensors(path("v9"), {}, {{"nabla.format", "checkpoint-v9"}});
  EXPECT_NABLA_ERROR(io::load_checkpoint(path("v9")), "unsupported checkpoint format \"checkpoint-v9\"");
  io::save_safetensors(path("nosum"), {}, {{"nabla.format", "checkpoint-v1"}});
  EXPECT_NABLA_ERROR(io::load_checkpoint(path("nosum")),
                     "is corrupt: its metadata has no \"nabla.checksum\"");
  EXPECT_NABLA_ERROR(io::load_checkpoint(path("missing")), "load_checkpoint: cannot open");

  StateDict undefined;
  undefined.insert("w", Tensor());
  EXPECT_NABLA_ERROR(io::save_checkpoint(path("c"), {undefined, {}}),
                     "save_checkpoint: tensor \"w\" is undefined");
}

// ---- the JSON reader ----------------------------------------------------------------------------

TEST(IoJson, ReaderParsesStrictJson) {
  io::json::Reader r(
      R"( {"a": [1, -2, 0, -0, 9223372036854775807, -9223372036854775808], "s": "x\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t", "n": {}} )");
  r.begin_object();
  EXPECT_EQ(r.next_key(), "a");
  r.begin_array();
  std::vector<int64_t> v;
  while (r.next_element()) v.push_back(r.read_int());
  EXPECT_EQ(v, (std::vector<int64_t>{1, -2, 0, 0, std::numeric_limits<int64_t>::max(),
                                     std::numeric_limits<int64_t>::min()}));
  EXPECT_EQ(r.next_key(), "s");
  EXPECT_EQ(r.read_string(), "x\xC3\xA9\xF0\x9F\x98\x80\"\\/\b\f\n\r\t");
  EXPECT_EQ(r.next_key(), "n");
  r.skip_value();
  EXPECT_EQ(r.next_key(), std::nullopt);
  r.finish();
}

TEST(IoJson, ReaderRejectsMalformedJson) {
  const std::pair<std::string, const char*> cases[] = {
      {"[01]", "leading zero"},
      {"[9223372036854775808]", "int64 range"},
      {"[-9223372036854775809]", "int64 range"},
      {"[1e3]", "only integers"},
      {"[1.5]", "only integers"},
      {"[-]", "expected a number"},
      {"[1,]", "expected a value"},
      {"[,1]", "expected a value"},
      {"[1 2]", "expected ',' or ']'"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\":1,}", "expected a string key"},
      {"{1:1}", "expected a string key"},
      {"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
      {"[\"abc]", "unterminated string"},
      {"[\"\\u12G4\"]", "invalid hex digit"},
      {"[\"\\udc00\"]", "unpaired low surrogate"},
      {"[\"\\ud800\\u0041\"]", "unpaired high surrogate"},
      {"[\"\\x\"]", "invalid escape"},
      {"[tru]", "invalid literal"},
      {"[nul]", "invalid literal"},
      {"[] []", "after the JSON value"},
      {"", "unexpected end of text"},
      {"[\"\xf4\x90\x80\x80\"]", "invalid UTF-8"},  // above U+10FFFF
      {"[\"\xe2\x82\"]", "invalid UTF-8"},          // truncated sequence
      {std::string(100, '[') + std::string(100, ']'), "nesting deeper than 64 levels"},
      {std::string(100000, '['), "nesting deeper than 64 levels"},
  };
  for (const auto& [text, needle] : cases) {
    SCOPED_TRACE(text.substr(0, 40));
    EXPECT_TRUE(throws_with<io::json::SyntaxError>(
        [&] {
          io::json::Reader r(text);
          r.skip_value();
          r.finish();
        },
        {needle}));
  }
  // 64 levels are fine.
  const std::string deep = std::string(64, '[') + std::string(64, ']');
  io::json::Reader ok(deep);
  ok.skip_value();
  ok.finish();
}

TEST(IoJson, QuoteRoundTrips) {
  const std::string s = "a\"b\\c\n\x01\x1f\x7f \xC3\xA9";
  EXPECT_EQ(io::json::quote(s), "\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f \xC3\xA9\"");
  const std::string quoted = io::json::quote(s);
  io::json::Reader r(quoted);
  EXPECT_EQ(r.read_string(), s);
  EXPECT_TRUE(io::json::is_valid_utf8("h\xC3\xA9llo \xF0\x9F\x98\x80"));
  EXPECT_FALSE(io::json::is_valid_utf8("\xC3"));
  EXPECT_FALSE(io::json::is_valid_utf8("\xed\xbf\xbf"));  // a surrogate
}

// The writer of nabla-bench's result lines and the examples' metrics line: keys and string
// values escaped, members in the order added, numbers JSON cannot hold written as null.
TEST(IoJson, ObjectEscapesAndKeepsOrder) {
  const std::string nasty = "q\"b\\s/\b\f\n\r\t\x01\x1f \xC3\xA9";
  const std::string text = io::json::Object()
                               .add("z", "first")
                               .add(nasty, nasty)
                               .add("n", int64_t{-9007199254740993})
                               .add("u", 7U)
                               .add("yes", true)
                               .str();
  EXPECT_EQ(text,
            "{\"z\": \"first\", "
            "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f \xC3\xA9\": "
            "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f \xC3\xA9\", "
            "\"n\": -9007199254740993, \"u\": 7, \"yes\": true}");
  // A strict reader gets every key and value back.
  io::json::Reader r(text);
  r.begin_object();
  EXPECT_EQ(r.next_key(), "z");
  EXPECT_EQ(r.read_string(), "first");
  EXPECT_EQ(r.next_key(), nasty);
  EXPECT_EQ(r.read_string(), nasty);
  EXPECT_EQ(r.next_key(), "n");
  EXPECT_EQ(r.read_int(), -9007199254740993);
  EXPECT_EQ(r.next_key(), "u");
  EXPECT_EQ(r.read_int(), 7);
  EXPECT_EQ(r.next_key(), "yes");
  EXPECT_EQ(r.peek(), io::json::Kind::Bool);
  r.skip_value();
  EXPECT_EQ(r.next_key(), std::nullopt);
  r.finish();

  EXPECT_EQ(io::json::Object().str(), "{}");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(io::json::Object()
                .add("shortest", 0.1)
                .add("big", 1e300)
                .add_significant("g6", 2.99876543, 6)
                .add_significant("tiny", 1.5e-7, 6)
                .add_fixed("f4", 1.23456, 4)
                .add_fixed("f1", 1234.0, 1)
                .add("nan", std::nan(""))
                .add_significant("inf", inf, 6)
                .add_fixed("-inf", -inf, 1)
                .str(),
            "{\"shortest\": 0.1, \"big\": 1e+300, \"g6\": 2.99877, \"tiny\": 1.5e-07, \"f4\": 1.2346, "
            "\"f1\": 1234.0, \"nan\": null, \"inf\": null, \"-inf\": null}");
}

// ---- nabla-inspect ------------------------------------------------------------------------------

TEST_F(IoTest, InspectPrintsAValidFile) {
  StateDict sd;
  sd.insert("0.weight", from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  sd.insert("0.bias", from_vector<float>({-1, std::numeric_limits<float>::quiet_NaN(),
                                          std::numeric_limits<float>::infinity()}));
  sd.insert("steps", from_vector<int64_t>({3, -4, 10}));
  sd.insert("mask", from_vector<bool>({true, false, true}));
  sd.insert("empty", zeros({0, 5}, kFloat16));
  io::save_safetensors(path("model.safetensors"), sd, {{"format", "pt"}, {"multi", "line\nvalue"}});

  const RunResult r =
      run_command(fmt::format("'{}' '{}'", NABLA_INSPECT_PATH, path("model.safetensors")), dir_);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* part :
       {"0.weight", "float32", "[2, 3]", "0.bias", "steps", "int64", "mask", "bool", "[0, 5]", "format", "pt",
        "line\\nvalue", "total: 5 tensors, 15 parameters, 63 bytes"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << "missing \"" << part << "\" in:\n" << r.out;
  }
  // 0.weight: min 1, max 6, mean 3.5, std 1.87083 (unbiased); steps: sum 9.
  for (const char* stat : {"3.5", "1.87083", "9"}) {
    EXPECT_NE(r.out.find(stat), std::string::npos) << stat << " in:\n" << r.out;
  }
  // The columns line up: every tensor row has its dtype where the header row has "dtype".
  std::istringstream lines(r.out);
  std::string line;
  std::size_t dtype_col = std::string::npos;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("name ", 0) == 0)
      dtype_col = line.find("dtype");
    else if (dtype_col != std::string::npos && line.rfind("total:", 0) != 0) {
      EXPECT_TRUE(line.substr(dtype_col).rfind("float", 0) == 0 ||
                  line.substr(dtype_col).rfind("int64", 0) == 0 ||
                  line.substr(dtype_col).rfind("bool", 0) == 0)
          << line;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 5) << r.out;
}

TEST_F(IoTest, InspectRejectsACorruptFile) {
  write_all(dir_ / "bad.safetensors", std::string("\x3f\x42\x0f\0\0\0\0\0", 8) + "{}");
  RunResult r = run_command(fmt::format("'{}' '{}'", NABLA_INSPECT_PATH, path("bad.safetensors")), dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("nabla-inspect: load_safetensors: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("header length 999999 exceeds the file size"), std::string::npos) << r.err;

  r = run_command(fmt::format("'{}' '{}'", NABLA_INSPECT_PATH, path("missing")), dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST_F(IoTest, InspectChecksCheckpoints) {
  io::Checkpoint c;
  c.tensors.insert("w", ones({2, 2}));
  c.metadata = {{"step", "5"}};
  io::save_checkpoint(path("ckpt"), c);
  RunResult r = run_command(fmt::format("'{}' '{}'", NABLA_INSPECT_PATH, path("ckpt")), dir_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("checkpoint-v1, checksum ok"), std::string::npos) << r.out;

  std::string bytes = read_all(dir_ / "ckpt");
  bytes.back() ^= 0x40;
  write_all(dir_ / "ckpt", bytes);
  r = run_command(fmt::format("'{}' '{}'", NABLA_INSPECT_PATH, path("ckpt")), dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is corrupt: checksum mismatch"), std::string::npos) << r.err;
}

TEST_F(IoTest, InspectArguments) {
  RunResult r = run_command(fmt::format("'{}'", NABLA_INSPECT_PATH), dir_);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("usage: nabla-inspect"), std::string::npos) << r.err;
  r = run_command(fmt::format("'{}' a b", NABLA_INSPECT_PATH), dir_);
  EXPECT_EQ(r.status, 2);
  r = run_command(fmt::format("'{}' --bogus f", NABLA_INSPECT_PATH), dir_);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown option '--bogus'"), std::string::npos) << r.err;
  r = run_command(fmt::format("'{}' --help", NABLA_INSPECT_PATH), dir_);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("usage: nabla-inspect"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace nabla
