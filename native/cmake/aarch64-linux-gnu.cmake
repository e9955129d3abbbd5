# Cross build for 64-bit Arm Linux with Debian's cross compiler (gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross). Tests run under qemu-user: ctest starts every test binary through
# CMAKE_CROSSCOMPILING_EMULATOR; the emulated CPU is chosen with QEMU_CPU (e.g. max, cortex-a53).
#   cmake -S native -B native/build-aarch64 -DCMAKE_TOOLCHAIN_FILE=native/cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(MLLM_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${MLLM_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${MLLM_CROSS_TRIPLE}-g++)
set(MLLM_CROSS_SYSROOT /usr/${MLLM_CROSS_TRIPLE} CACHE PATH "Target libraries for the emulator (-L)")

set(CMAKE_FIND_ROOT_PATH ${MLLM_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(MLLM_QEMU_AARCH64 qemu-aarch64)
if(MLLM_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MLLM_QEMU_AARCH64} -L ${MLLM_CROSS_SYSROOT})
endif()
