# FindCUDNN: NVIDIA's cuDNN (cudnn.h and libcudnn), for find_package(CUDNN [version]).
#
# Searched, first hit wins: CUDNN_ROOT (a CMake variable or an environment variable: the prefix
# holding include/cudnn.h and lib/libcudnn.so*), the CUDA toolkit's own include and library
# dirs, the system paths, and last the dir of NVIDIA's pip wheel (nvidia-cudnn-cu*, which
# PyTorch brings) of the Python found as Python3_EXECUTABLE, Python_EXECUTABLE or python3.
# A wheel ships only libcudnn.so.<major>, without the unversioned link, hence the second name.
#
# Result variables: CUDNN_FOUND, CUDNN_VERSION (major.minor.patch from cudnn_version.h),
# CUDNN_INCLUDE_DIRS, CUDNN_LIBRARIES. Cache variables (set them to skip the search):
# CUDNN_INCLUDE_DIR, CUDNN_LIBRARY. Imported target: CUDNN::cudnn.
include(FindPackageHandleStandardArgs)

if(NOT CUDAToolkit_FOUND)
  find_package(CUDAToolkit QUIET)
endif()

set(_cudnn_pip_dir "")
if(NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
  set(_cudnn_python "${Python3_EXECUTABLE}")
  if(NOT _cudnn_python)
    set(_cudnn_python "${Python_EXECUTABLE}")
  endif()
  if(NOT _cudnn_python)
    find_program(_cudnn_python python3 NO_CACHE)
  endif()
  if(_cudnn_python)
    execute_process(COMMAND "${_cudnn_python}" -c "import nvidia.cudnn as m; print(m.__path__[0])"
      OUTPUT_VARIABLE _cudnn_pip_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _cudnn_rc)
    if(NOT _cudnn_rc EQUAL 0)
      set(_cudnn_pip_dir "")
    endif()
  endif()
endif()

find_path(CUDNN_INCLUDE_DIR cudnn.h
  HINTS ${CUDAToolkit_INCLUDE_DIRS} "${CUDAToolkit_LIBRARY_ROOT}"
  PATHS "${_cudnn_pip_dir}"
  PATH_SUFFIXES include
  DOC "Directory of cudnn.h")
find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
  HINTS "${CUDAToolkit_LIBRARY_DIR}" "${CUDAToolkit_LIBRARY_ROOT}"
  PATHS "${_cudnn_pip_dir}"
  PATH_SUFFIXES lib64 lib lib/x86_64-linux-gnu
  DOC "cuDNN's library (libcudnn.so*)")

# cuDNN 8 and later keep the version in cudnn_version.h.
set(CUDNN_VERSION "")
if(CUDNN_INCLUDE_DIR AND EXISTS "${CUDNN_INCLUDE_DIR}/cudnn_version.h")
  file(STRINGS "${CUDNN_INCLUDE_DIR}/cudnn_version.h" _cudnn_defs REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ")
  foreach(_cudnn_part MAJOR MINOR PATCHLEVEL)
    string(REGEX REPLACE ".*#define CUDNN_${_cudnn_part} ([0-9]+).*" "\\1" _cudnn_${_cudnn_part} "${_cudnn_defs}")
  endforeach()
  set(CUDNN_VERSION "${_cudnn_MAJOR}.${_cudnn_MINOR}.${_cudnn_PATCHLEVEL}")
endif()

find_package_handle_standard_args(CUDNN
  REQUIRED_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR
  VERSION_VAR CUDNN_VERSION)

if(CUDNN_FOUND)
  set(CUDNN_INCLUDE_DIRS "${CUDNN_INCLUDE_DIR}")
  set(CUDNN_LIBRARIES "${CUDNN_LIBRARY}")
  if(NOT TARGET CUDNN::cudnn)
    add_library(CUDNN::cudnn UNKNOWN IMPORTED)
    set_target_properties(CUDNN::cudnn PROPERTIES
      IMPORTED_LOCATION "${CUDNN_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}")
  endif()
endif()
mark_as_advanced(CUDNN_INCLUDE_DIR CUDNN_LIBRARY)
