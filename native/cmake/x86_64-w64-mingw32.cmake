# Cross build for 64-bit Windows with Debian's MinGW-w64 (gcc-mingw-w64-x86-64-win32: Win32
# threads, no winpthreads DLL). Tests run under Wine: ctest starts every test binary through
# CMAKE_CROSSCOMPILING_EMULATOR.
#   cmake -S native -B native/build-windows -DCMAKE_TOOLCHAIN_FILE=native/cmake/x86_64-w64-mingw32.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(MLLM_CROSS_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MLLM_CROSS_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${MLLM_CROSS_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${MLLM_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Debian installs the 64-bit loader as /usr/lib/wine/wine64 (the wine package adds /usr/bin/wine).
find_program(MLLM_WINE NAMES wine64 wine PATHS /usr/lib/wine)
if(MLLM_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MLLM_WINE})
endif()
