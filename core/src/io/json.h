// A tiny strict JSON reader for safetensors headers (internal); the writer is nabla/json.h.
//
// The reader is a pull parser: the caller asks for the value it expects next (an object, a
// key, an integer, ...) instead of getting a document tree. Safetensors headers come from
// untrusted files of up to 100 MB, and a tree of a pathological header ("[0,0,0,...") would
// take tens of bytes per input byte; pulling keeps memory bounded by what the caller keeps.
// The reader is strict RFC 8259 with three restrictions that suit headers: numbers must be
// integers that fit int64, nesting is limited in depth, and duplicate keys in an object are
// an error (RFC 8259 leaves them undefined; for a header they would mean two tensors or two
// values under one name).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "nabla/error.h"
#include "nabla/json.h"

namespace nabla::io::json {

/// Malformed JSON (or JSON outside the restrictions above). The message says what was wrong
/// and at which byte offset of the text.
class SyntaxError : public Error {
 public:
  using Error::Error;
};

enum class Kind { Null, Bool, Number, String, Array, Object };
/// "null", "a boolean", "a number", "a string", "an array", "an object" (for messages).
std::string_view kind_name(Kind k);

class Reader {
 public:
  explicit Reader(std::string_view text, int max_depth = 64);

  /// The kind of the next value (whitespace before it is skipped). Throws at the end of the text.
  Kind peek();
  /// Consumes '{'.
  void begin_object();
  /// The next key of the innermost object (its ':' is consumed), or nullopt when the object
  /// ends (its '}' is consumed). Throws SyntaxError on a key seen before in this object.
  std::optional<std::string> next_key();
  /// Consumes '['.
  void begin_array();
  /// True when another element of the innermost array follows; false when the array ends
  /// (its ']' is consumed).
  bool next_element();
  std::string read_string();
  int64_t read_int();
  /// Consumes any value, however nested (up to the depth limit).
  void skip_value();
  /// Checks that only whitespace follows the top-level value.
  void finish();
  /// Byte offset of the next unread character (for messages).
  std::size_t offset() const { return pos_; }

 private:
  struct Level {
    bool is_object;
    bool first = true;
    std::unordered_set<std::string> keys;  // objects only: to reject duplicates
  };
  [[noreturn]] void fail(std::string_view what) const;
  void skip_ws();
  void expect(char c, std::string_view what);
  void push(bool is_object);
  // Before a value: the value of a key, an array element, or the top-level value.
  void begin_value();
  void parse_string_into(std::string& out);
  uint32_t parse_hex4();

  std::string_view text_;
  std::size_t pos_ = 0;
  int max_depth_;
  std::vector<Level> stack_;
  bool value_expected_ = true;  // a value must come next (top level, after ':' or ',')
};

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or values > U+10FFFF), as
/// quote and Object (nabla/json.h) ask of their strings.
bool is_valid_utf8(std::string_view s);

}  // namespace nabla::io::json
