# Compiler warnings for nabla's own targets (the library, tests, examples).
#
# nabla_set_warnings(<target>) adds -Wall -Wextra -Wno-unused-parameter to the target's C++
# sources, plus -Werror when NABLA_WERROR is ON (CI turns it on). CUDA sources are left alone:
# nvcc forwards host flags differently and gets its own set with the CUDA backend.
include_guard(GLOBAL)

function(nabla_set_warnings target)
  set(flags -Wall -Wextra -Wno-unused-parameter)
  # GCC 12 reports false -Wrestrict hits inside libstdc++'s std::string at -O3 (GCC bug 105329).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND flags -Wno-restrict)
  endif()
  if(NABLA_WERROR)
    list(APPEND flags -Werror)
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${flags}>")
endfunction()
