// nabla::io::json: writing JSON text, the one writer of the library and its tools (the
// safetensors header, nabla-bench's result lines, the examples' final metrics line).
//
// Strings are escaped (RFC 8259); numbers that JSON cannot hold (NaN, infinities) are written
// as null, so every line a program prints with Object parses with any JSON reader.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace nabla::io::json {

/// `s` as a JSON string literal, quotes included. `s` must be valid UTF-8; control characters,
/// '"' and '\' are escaped, everything else is written as is.
std::string quote(std::string_view s);

/// A JSON object on one line, members in the order they are added:
///   json::Object().add("model", "cnn").add("batch", 8).add_fixed("ms_per_step", 1.23456, 4).str()
///   == R"({"model": "cnn", "batch": 8, "ms_per_step": 1.2346})"
/// Keys and string values are quoted with quote (and must be valid UTF-8).
class Object {
 public:
  Object& add(std::string_view key, std::string_view value);
  Object& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Object& add(std::string_view key, bool value) { return member(key, value ? "true" : "false"); }
  // Integers of every type (a bool takes the exact-match overload above).
  template <std::integral T>
  Object& add(std::string_view key, T value) {
    return member(key, std::to_string(value));
  }
  // A double that is not finite (NaN, an infinity) is written as null.
  /// `value` in the fewest digits that read back as the same double.
  Object& add(std::string_view key, double value);
  /// `value` with `digits` significant digits (printf's %.*g).
  Object& add_significant(std::string_view key, double value, int digits);
  /// `value` with `decimals` digits after the point (printf's %.*f).
  Object& add_fixed(std::string_view key, double value, int decimals);

  /// The object's text, "{}" when no member was added.
  std::string str() const;

 private:
  Object& member(std::string_view key, std::string_view json_value);
  std::string members_;  // `"key": value` pairs joined by ", "
};

}  // namespace nabla::io::json
