#!/usr/bin/env bash
# ci/test-aarch64.sh - cross-builds native/ for aarch64 (no Java) into native/build-aarch64 and runs
# the whole ctest suite under qemu-aarch64 (user mode), once per emulated CPU (ci/build-natives.sh
# runs it with the Zig toolchain for the released library):
#   max          all features qemu knows, including dotprod  -> level neon-dotprod
#   cortex-a53   Armv8.0-A, no dotprod                        -> level neon
# test_cpu_levels checks (MLLM_EXPECT_CPU_LEVEL) that the level in use is the expected one, so the
# two runs are known to exercise different kernels; test_matmul also checks every lower level.
#
# Needs (Debian 12): gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user, cmake (ninja optional).
# Environment: MLLM_JOBS=N (default 2); MLLM_AARCH64_BUILD=dir (default native/build-aarch64);
#              MLLM_AARCH64_CMAKE_ARGS="..." replaces the compiler choice (default: Debian's
#              aarch64-linux-gnu-gcc, native/cmake/aarch64-linux-gnu.cmake, without Vulkan);
#              MLLM_AARCH64_CPUS="cpu:level ..." (default "max:neon-dotprod cortex-a53:neon");
#              MLLM_TEST_EXCLUDE=regex leaves out matching tests (ctest -E).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
jobs=${MLLM_JOBS:-2}
build=${MLLM_AARCH64_BUILD:-$root/native/build-aarch64}
sysroot=/usr/aarch64-linux-gnu
cpus=${MLLM_AARCH64_CPUS:-"max:neon-dotprod cortex-a53:neon"}
started=$(date +%s)

cmake_args=${MLLM_AARCH64_CMAKE_ARGS:-"-DCMAKE_TOOLCHAIN_FILE=$root/native/cmake/aarch64-linux-gnu.cmake -DMLLM_VULKAN=OFF"}
tools=(qemu-aarch64 cmake)
[[ -n "${MLLM_AARCH64_CMAKE_ARGS:-}" ]] || tools+=(aarch64-linux-gnu-gcc)
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "ERROR: $tool not found; apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user cmake" >&2
    exit 1
  fi
done
if [[ ! -d "$sysroot/lib" ]]; then
  echo "ERROR: no aarch64 C library in $sysroot for qemu; apt-get install libc6-dev-arm64-cross" >&2
  exit 1
fi

printf '\n==== aarch64: cross build into %s ====\n' "$build"
gen=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
# shellcheck disable=SC2086
cmake -S native -B "$build" "${gen[@]}" $cmake_args \
  -DCMAKE_BUILD_TYPE=Release -DMLLM_TESTS=ON -DMLLM_SANITIZE=OFF
cmake --build "$build" --parallel "$jobs"

# ctest starts each test through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64 -L sysroot, from the
# toolchain file); qemu-user takes the CPU model from QEMU_CPU.
export QEMU_LD_PREFIX=$sysroot
unset MOBILELLM_CPU
exclude=()
if [[ -n "${MLLM_TEST_EXCLUDE:-}" ]]; then exclude=(-E "$MLLM_TEST_EXCLUDE"); fi
for entry in $cpus; do
  cpu=${entry%%:*} want=${entry#*:}
  printf '\n==== aarch64: qemu-aarch64 -cpu %s (expect level %s) ====\n' "$cpu" "$want"
  export QEMU_CPU=$cpu MLLM_EXPECT_CPU_LEVEL=$want
  qemu-aarch64 "$build/test_cpu_levels" | grep -E '^(detected|in use)'
  t0=$(date +%s)
  ctest --test-dir "$build" --output-on-failure --parallel "$jobs" "${exclude[@]}"
  echo "qemu -cpu $cpu: all tests passed at level $want in $(( $(date +%s) - t0 ))s"
done
unset QEMU_CPU MLLM_EXPECT_CPU_LEVEL

printf '\n==== aarch64: all runs passed in %ss ====\n' "$(( $(date +%s) - started ))"
