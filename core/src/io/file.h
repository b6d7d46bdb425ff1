// Whole-file reads and atomic, durable whole-file writes with clear errors (internal).
#pragma once

#include <string>
#include <string_view>

namespace nabla::io {

/// The whole contents of `path`. Errors start with `op` and name the path and the system's
/// reason ("load_safetensors: cannot open 'x.safetensors': No such file or directory").
std::string read_file(const std::string& path, std::string_view op);
/// atomic_write_file (nabla/io.h) with errors starting with `op`.
void write_file_atomically(const std::string& path, std::string_view bytes, std::string_view op);

}  // namespace nabla::io
