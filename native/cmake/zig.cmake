# Cross build with Zig's C compiler (`zig cc`: clang with the C library headers and link stubs
# of many targets), used for the release libraries:
#   x86_64-linux-gnu.2.28, aarch64-linux-gnu.2.28  glibc symbol versions no newer than 2.28 (RHEL 8)
#   x86_64-macos.11.0, aarch64-macos.11.0          macOS 11 or newer
#   cmake -S native -B build -DCMAKE_TOOLCHAIN_FILE=native/cmake/zig.cmake \
#         -DMLLM_ZIG_TARGET=x86_64-linux-gnu.2.28 [-DMLLM_ZIG=/path/to/zig]
# ci/build-natives.sh runs these builds; .ci/run installs Zig.
set(MLLM_ZIG_TARGET "" CACHE STRING "Zig target triple, e.g. aarch64-linux-gnu.2.28")
find_program(MLLM_ZIG zig)
if(NOT MLLM_ZIG_TARGET OR NOT MLLM_ZIG)
  message(FATAL_ERROR "zig.cmake needs -DMLLM_ZIG_TARGET=<triple> and zig on PATH or -DMLLM_ZIG=/path/to/zig")
endif()
# try_compile projects configure with this file again: hand them the two settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MLLM_ZIG_TARGET MLLM_ZIG)

string(REGEX MATCH "^[^-]+" MLLM_ZIG_ARCH "${MLLM_ZIG_TARGET}")
if(MLLM_ZIG_TARGET MATCHES "-linux")
  set(CMAKE_SYSTEM_NAME Linux)
elseif(MLLM_ZIG_TARGET MATCHES "-macos")
  set(CMAKE_SYSTEM_NAME Darwin)
elseif(MLLM_ZIG_TARGET MATCHES "-windows")
  set(CMAKE_SYSTEM_NAME Windows)
endif()
set(CMAKE_SYSTEM_PROCESSOR ${MLLM_ZIG_ARCH})

# zig cc reads -march as a CPU name; it takes features as -mcpu=<cpu>+<feature>
set(MLLM_DOTPROD_FLAGS -mcpu=generic+dotprod)

set(CMAKE_C_COMPILER ${MLLM_ZIG})
set(CMAKE_C_COMPILER_ARG1 "cc -target ${MLLM_ZIG_TARGET}")
# `zig ar` and `zig ranlib` are subcommands, not programs: spell out the archive rules.
set(CMAKE_C_ARCHIVE_CREATE "${MLLM_ZIG} ar qc <TARGET> <OBJECTS>")
set(CMAKE_C_ARCHIVE_APPEND "${MLLM_ZIG} ar q <TARGET> <OBJECTS>")
set(CMAKE_C_ARCHIVE_FINISH "${MLLM_ZIG} ranlib <TARGET>")

# Headers and libraries come from Zig, never from this machine's /usr.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Tests of Linux builds run under qemu-user with Debian's cross C library (ci/build-natives.sh).
if(CMAKE_SYSTEM_NAME STREQUAL Linux AND NOT CMAKE_HOST_SYSTEM_PROCESSOR STREQUAL MLLM_ZIG_ARCH)
  find_program(MLLM_QEMU qemu-${MLLM_ZIG_ARCH})
  if(MLLM_QEMU AND EXISTS /usr/${MLLM_ZIG_ARCH}-linux-gnu)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${MLLM_QEMU} -L /usr/${MLLM_ZIG_ARCH}-linux-gnu)
  endif()
endif()
