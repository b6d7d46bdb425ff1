// Out-of-line throw helpers behind NABLA_CHECK / NABLA_INTERNAL_ASSERT.
#include "nabla/error.h"

namespace nabla::detail {

void throw_error(const char* /*file*/, int /*line*/, const std::string& msg) { throw Error(msg); }

void throw_internal(const char* file, int line, const char* cond, const std::string& msg) {
  throw Error(fmt::format("internal error in nabla (please report): {} at {}:{}{}{}", cond, file, line,
                          msg.empty() ? "" : ": ", msg));
}

}  // namespace nabla::detail
