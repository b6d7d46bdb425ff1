// Safetensors serialization and parsing with the caller's operation name in errors (internal:
// checkpoint.cpp reuses them so that its messages start with "save_checkpoint" /
// "load_checkpoint").
#pragma once

#include <string>
#include <string_view>

#include "nabla/io.h"

namespace nabla::io::detail {

std::string serialize_safetensors(const StateDict& tensors, const Metadata& metadata, std::string_view op);
SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view source, std::string_view op);
/// The safetensors dtype code of `t` ("F32", "BF16", ...).
std::string_view dtype_code(ScalarType t);

}  // namespace nabla::io::detail
