// The strict JSON pull reader of io/json.h and the writer of nabla/json.h.
#include "io/json.h"

#include <cmath>
#include <utility>

namespace nabla::io::json {
namespace {

bool in(unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; }

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it is malformed
// (RFC 3629, table 3-7 of the Unicode standard: the second-byte ranges exclude overlong
// forms, UTF-16 surrogates and code points above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned char {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;  // 0 is no continuation
  };
  const unsigned char c = at(0);
  const auto cont = [&](std::size_t k) { return in(at(k), 0x80, 0xBF); };
  if (c < 0x80) return 1;
  if (in(c, 0xC2, 0xDF)) return cont(1) ? 2 : 0;
  if (c == 0xE0) return in(at(1), 0xA0, 0xBF) && cont(2) ? 3 : 0;
  if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return in(at(1), 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return in(at(1), 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0;
  if (in(c, 0xF1, 0xF3)) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return in(at(1), 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A character for a message: printable ASCII as itself, anything else as its byte value.
std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

}  // namespace

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::Null:
      return "null";
    case Kind::Bool:
      return "a boolean";
    case Kind::Number:
      return "a number";
    case Kind::String:
      return "a string";
    case Kind::Array:
      return "an array";
    case Kind::Object:
      return "an object";
  }
  return "?";
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ---- Object -------------------------------------------------------------------------------

Object& Object::member(std::string_view key, std::string_view json_value) {
  if (!members_.empty()) members_ += ", ";
  members_ += quote(key);
  members_ += ": ";
  members_ += json_value;
  return *this;
}

Object& Object::add(std::string_view key, std::string_view value) { return member(key, quote(value)); }

// JSON has no NaN or infinity: null is the value a reader takes for "no number".
Object& Object::add(std::string_view key, double value) {
  return member(key, std::isfinite(value) ? fmt::format("{}", value) : "null");
}

Object& Object::add_significant(std::string_view key, double value, int digits) {
  return member(key, std::isfinite(value) ? fmt::format("{:.{}g}", value, digits) : "null");
}

Object& Object::add_fixed(std::string_view key, double value, int decimals) {
  return member(key, std::isfinite(value) ? fmt::format("{:.{}f}", value, decimals) : "null");
}

std::string Object::str() const { return "{" + members_ + "}"; }

// ---- Reader -------------------------------------------------------------------------------

Reader::Reader(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

void Reader::fail(std::string_view what) const {
  throw SyntaxError(fmt::format("{} at byte {}", what, pos_));
}

void Reader::skip_ws() {
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    ++pos_;
  }
}

void Reader::expect(char c, std::string_view what) {
  skip_ws();
  if (pos_ >= text_.size()) fail(fmt::format("unexpected end of text, expected {}", what));
  if (text_[pos_] != c) fail(fmt::format("expected {}, found {}", what, describe_char(text_[pos_])));
  ++pos_;
}

Kind Reader::peek() {
  skip_ws();
  if (pos_ >= text_.size()) fail("unexpected end of text, expected a value");
  const char c = text_[pos_];
  switch (c) {
    case '{':
      return Kind::Object;
    case '[':
      return Kind::Array;
    case '"':
      return Kind::String;
    case 't':
    case 'f':
      return Kind::Bool;
    case 'n':
      return Kind::Null;
    default:
      if (c == '-' || (c >= '0' && c <= '9')) return Kind::Number;
      fail(fmt::format("unexpected {}, expected a value", describe_char(c)));
  }
}

void Reader::begin_value() {
  // Misuse by the caller (reading two values where one belongs), not bad input.
  NABLA_INTERNAL_ASSERT(value_expected_, "json::Reader: a value was read where none belongs");
  value_expected_ = false;
}

void Reader::push(bool is_object) {
  if (static_cast<int>(stack_.size()) >= max_depth_) {
    fail(fmt::format("nesting deeper than {} levels", max_depth_));
  }
  stack_.push_back(Level{is_object, /*first=*/true, {}});
}

void Reader::begin_object() {
  begin_value();
  expect('{', "'{'");
  push(/*is_object=*/true);
}

void Reader::begin_array() {
  begin_value();
  expect('[', "'['");
  push(/*is_object=*/false);
}

std::optional<std::string> Reader::next_key() {
  NABLA_INTERNAL_ASSERT(!stack_.empty() && stack_.back().is_object && !value_expected_,
                        "json::Reader: next_key outside an object or before the previous value was read");
  Level& level = stack_.back();
  skip_ws();
  if (pos_ < text_.size() && text_[pos_] == '}') {
    ++pos_;
    stack_.pop_back();
    return std::nullopt;
  }
  if (!level.first) expect(',', "',' or '}'");
  skip_ws();
  if (pos_ >= text_.size()) fail("unexpected end of text, expected a key");
  if (text_[pos_] != '"') fail(fmt::format("expected a string key, found {}", describe_char(text_[pos_])));
  const std::size_t key_pos = pos_;
  ++pos_;
  std::string key;
  parse_string_into(key);
  expect(':', "':'");
  if (!level.keys.insert(key).second) {
    pos_ = key_pos;
    fail(fmt::format("duplicate key {}", quote(key)));
  }
  level.first = false;
  value_expected_ = true;
  return key;
}

bool Reader::next_element() {
  NABLA_INTERNAL_ASSERT(!stack_.empty() && !stack_.back().is_object && !value_expected_,
                        "json::Reader: next_element outside an array or before the previous value was read");
  Level& level = stack_.back();
  skip_ws();
  if (pos_ < text_.size() && text_[pos_] == ']') {
    ++pos_;
    stack_.pop_back();
    return false;
  }
  if (!level.first) expect(',', "',' or ']'");
  level.first = false;
  value_expected_ = true;
  return true;
}

std::string Reader::read_string() {
  begin_value();
  expect('"', "a string");
  std::string s;
  parse_string_into(s);
  return s;
}

uint32_t Reader::parse_hex4() {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i, ++pos_) {
    if (pos_ >= text_.size()) fail("unexpected end of text in a \\u escape");
    const char c = text_[pos_];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= static_cast<uint32_t>(c - 'A' + 10);
    else
      fail(fmt::format("invalid hex digit {} in a \\u escape", describe_char(c)));
  }
  return v;
}

// The opening quote has been consumed.
void Reader::parse_string_into(std::string& out) {
  while (true) {
    if (pos_ >= text_.size()) fail("unterminated string");
    const char c = text_[pos_];
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      ++pos_;
      return;
    }
    if (u < 0x20) fail(fmt::format("unescaped control character {} in a string", describe_char(c)));
    if (u >= 0x80) {
      const std::size_t n = utf8_sequence_length(text_, pos_);
      if (n == 0) fail("invalid UTF-8 in a string");
      out.append(text_.substr(pos_, n));
      pos_ += n;
      continue;
    }
    if (c != '\\') {
      out += c;
      ++pos_;
      continue;
    }
    ++pos_;
    if (pos_ >= text_.size()) fail("unterminated string");
    const char e = text_[pos_++];
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp = parse_hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired low surrogate in a \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A code point above U+FFFF is written as a UTF-16 surrogate pair: \uD83D\uDE00.
          if (text_.substr(pos_, 2) != "\\u") fail("unpaired high surrogate in a \\u escape");
          pos_ += 2;
          const uint32_t lo = parse_hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired high surrogate in a \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default:
        --pos_;
        fail(fmt::format("invalid escape \\{}", describe_char(e)));
    }
  }
}

int64_t Reader::read_int() {
  begin_value();
  skip_ws();
  const std::size_t start = pos_;
  const bool negative = pos_ < text_.size() && text_[pos_] == '-';
  if (negative) ++pos_;
  const auto digit_at = [&](std::size_t i) { return i < text_.size() && text_[i] >= '0' && text_[i] <= '9'; };
  if (!digit_at(pos_)) {
    if (pos_ >= text_.size()) fail("unexpected end of text, expected a number");
    fail(fmt::format("expected a number, found {}", describe_char(text_[pos_])));
  }
  if (text_[pos_] == '0' && digit_at(pos_ + 1)) fail("number with a leading zero");
  // Accumulate towards the sign so that INT64_MIN, whose magnitude int64 cannot hold, parses.
  int64_t v = 0;
  while (digit_at(pos_)) {
    const int d = text_[pos_] - '0';
    if (__builtin_mul_overflow(v, int64_t{10}, &v) ||
        (negative ? __builtin_sub_overflow(v, d, &v) : __builtin_add_overflow(v, d, &v))) {
      pos_ = start;
      fail("integer out of the int64 range");
    }
    ++pos_;
  }
  if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
    pos_ = start;
    fail("number with a fraction or an exponent (only integers are allowed)");
  }
  return v;
}

void Reader::skip_value() {
  switch (peek()) {
    case Kind::Object:
      begin_object();
      while (next_key()) skip_value();
      return;
    case Kind::Array:
      begin_array();
      while (next_element()) skip_value();
      return;
    case Kind::String:
      read_string();
      return;
    case Kind::Number:
      read_int();
      return;
    case Kind::Bool:
    case Kind::Null: {
      begin_value();
      for (const std::string_view word : {"true", "false", "null"}) {
        if (text_.substr(pos_, word.size()) == word) {
          pos_ += word.size();
          return;
        }
      }
      fail("invalid literal (expected true, false or null)");
    }
  }
}

void Reader::finish() {
  NABLA_INTERNAL_ASSERT(stack_.empty() && !value_expected_, "json::Reader: finish before the value was read");
  skip_ws();
  if (pos_ != text_.size())
    fail(fmt::format("unexpected {} after the JSON value", describe_char(text_[pos_])));
}

}  // namespace nabla::io::json
