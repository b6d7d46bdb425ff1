# Install/consumer check, run by ctest as `cmake -P` (test install_consumer).
#
# Installs the nabla build tree NABLA_BUILD_DIR into WORK_DIR/prefix, then builds
# tests/consumer/main.cpp against that prefix twice and runs it:
#   (a) as a CMake project using find_package(nabla) + nabla::nabla;
#   (b) with `c++ main.cpp $(pkg-config --cflags --libs nabla)`;
# and (c) builds examples/from_libtorch as its own project against the prefix.
# Inputs: NABLA_BUILD_DIR, NABLA_SOURCE_DIR, WORK_DIR; optional NABLA_CXX_COMPILER and
# NABLA_GENERATOR (the compiler and generator of the nabla build).
cmake_minimum_required(VERSION 3.25)

foreach(var NABLA_BUILD_DIR NABLA_SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "check.cmake: ${var} is not set")
  endif()
endforeach()

set(consumer_src "${NABLA_SOURCE_DIR}/tests/consumer")
set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Runs a command; on failure stops with the step name, the command and its output.
function(run_step step)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "install_consumer: ${step} failed (exit ${rc})\n"
                        "command: ${cmd}\n--- stdout\n${out}\n--- stderr\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

function(expect_ok step)
  if(NOT step_output MATCHES "consumer ok")
    message(FATAL_ERROR "install_consumer: ${step} did not print 'consumer ok':\n${step_output}")
  endif()
  string(STRIP "${step_output}" out)
  message(STATUS "${step}: ${out}")
endfunction()

# ---- install ------------------------------------------------------------------------------
run_step("install" "${CMAKE_COMMAND}" --install "${NABLA_BUILD_DIR}" --prefix "${prefix}")

# ---- (a) find_package(nabla) --------------------------------------------------------------
set(configure_args -S "${consumer_src}" -B "${WORK_DIR}/cmake-build"
                   "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
if(NABLA_GENERATOR)
  list(APPEND configure_args -G "${NABLA_GENERATOR}")
endif()
if(NABLA_CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${NABLA_CXX_COMPILER}")
endif()
run_step("configure consumer (find_package)" "${CMAKE_COMMAND}" ${configure_args})
run_step("build consumer (find_package)" "${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake-build")
run_step("run consumer (find_package)" "${WORK_DIR}/cmake-build/consumer")
expect_ok("find_package consumer")

# ---- (b) pkg-config -----------------------------------------------------------------------
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(NOT PKG_CONFIG_EXECUTABLE)
  message(FATAL_ERROR "install_consumer: pkg-config not found (Debian: pkg-config)")
endif()
# lib/, lib64/ or lib/<multiarch>/, depending on GNUInstallDirs at configure time.
file(GLOB_RECURSE pc_files "${prefix}/*.pc")
list(FILTER pc_files INCLUDE REGEX "/lib[^/]*/(.+/)?pkgconfig/nabla\\.pc$")
if(NOT pc_files)
  message(FATAL_ERROR "install_consumer: no lib*/pkgconfig/nabla.pc under ${prefix}")
endif()
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
# Keep the system's .pc directories too: nabla.pc requires fmt.
if(DEFINED ENV{PKG_CONFIG_PATH} AND NOT "$ENV{PKG_CONFIG_PATH}" STREQUAL "")
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}:$ENV{PKG_CONFIG_PATH}")
else()
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
endif()

run_step("pkg-config --cflags --libs nabla" "${PKG_CONFIG_EXECUTABLE}" --cflags --libs nabla)
string(STRIP "${step_output}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
run_step("pkg-config --variable=libdir nabla" "${PKG_CONFIG_EXECUTABLE}" --variable=libdir nabla)
string(STRIP "${step_output}" pc_libdir)

set(cxx c++)
if(NABLA_CXX_COMPILER)
  set(cxx "${NABLA_CXX_COMPILER}")
endif()
set(pc_exe "${WORK_DIR}/pkgconfig-consumer")
run_step("compile consumer (pkg-config)"
  "${cxx}" "${consumer_src}/main.cpp" ${pc_flags} "-Wl,-rpath,${pc_libdir}" -o "${pc_exe}")
run_step("run consumer (pkg-config)" "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${pc_libdir}" "${pc_exe}")
expect_ok("pkg-config consumer")

# ---- (c) the libtorch port example, nabla side, as its own CMake project ------------------
# examples/from_libtorch/CMakeLists.txt with FROM_LIBTORCH_BACKEND=nabla: a libtorch program's
# build switched to the installed nabla (compiled and linked here; ctest runs the in-tree build).
set(port_args -S "${NABLA_SOURCE_DIR}/examples/from_libtorch" -B "${WORK_DIR}/from-libtorch-build"
              "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release -DFROM_LIBTORCH_BACKEND=nabla)
if(NABLA_GENERATOR)
  list(APPEND port_args -G "${NABLA_GENERATOR}")
endif()
if(NABLA_CXX_COMPILER)
  list(APPEND port_args "-DCMAKE_CXX_COMPILER=${NABLA_CXX_COMPILER}")
endif()
run_step("configure examples/from_libtorch (nabla side)" "${CMAKE_COMMAND}" ${port_args})
run_step("build examples/from_libtorch (nabla side)" "${CMAKE_COMMAND}" --build "${WORK_DIR}/from-libtorch-build")
message(STATUS "examples/from_libtorch: the nabla side builds against the installed package")

message(STATUS "install_consumer: ok (prefix ${prefix})")
