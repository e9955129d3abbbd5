#!/usr/bin/env bash
# ci/test.sh - THE test command of mobilellm4j: everything CI runs, runnable on a dev machine.
#
#   1. ./mvnw -B verify      Maven reactor: CMake build of native/ + ctest, jextract bindings +
#                            loader tests, Java API, converters, CLI (whatever modules exist).
#   2. ASan/UBSan            native/ again with -DMLLM_SANITIZE=ON (RelWithDebInfo) into
#                            native/build-sanitize, then ctest on it.
#   3. fuzz                  ci/fuzz.sh: the libFuzzer targets (clang) for MLLM_FUZZ_SECONDS each
#                            (default 30), and the Java fuzz targets when ci/fuzz-java.sh exists.
#
# Environment:
#   MLLM_JOBS=N              parallel compile/test jobs (default 2)
#   MLLM_CI_SKIP_MAVEN=1     skip step 1;   MLLM_CI_SKIP_SANITIZE=1  skip step 2
#   MLLM_CI_SKIP_BENCH=1     skip the JMH smoke run;  MLLM_CI_SKIP_CROSS=1  skip the qemu runs
#   MLLM_CI_SKIP_FUZZ=1      skip step 3;   MLLM_FUZZ_SECONDS=N  seconds per fuzz target
#   MLLM_MAVEN_ARGS="..."    extra arguments for ./mvnw (e.g. "-o" or "-pl native,bindings -am")
#   ASAN_OPTIONS / UBSAN_OPTIONS override the defaults below.
# Optional tools (qemu-user and the aarch64 cross compiler, glslc + Vulkan headers + a Vulkan driver, node/npm):
# where one is missing its part is skipped with a line saying so and how to enable it, except in CI (CI set, as
# .ci/run does), where every part must run and a missing tool is an error.
# Exits non-zero on the first failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
jobs=${MLLM_JOBS:-2}
started=$(date +%s)

step() { printf '\n==== %s ====\n' "$*"; }

in_ci=false
if [[ -n "${CI:-}" && "${CI}" != false && "${CI}" != 0 ]]; then in_ci=true; fi
skipped=()
have() { command -v "$1" >/dev/null 2>&1; }
missing() { # missing PART WHY INSTALL: an error in CI, otherwise a skipped part
  if [[ $in_ci == true ]]; then echo "ERROR: CI runs the $1, but $2 (apt-get install $3)" >&2; exit 1; fi
  skipped+=("$1")
  echo "skipped: $1 ($2; to run it: apt-get install $3, or run .ci/run as root)"
}
if ! have node || ! have npm; then
  missing "npm cross-checks" "node/npm not installed" "nodejs npm"
fi
if ! have glslc || ! echo '#include <vulkan/vulkan.h>' | "${CC:-cc}" -E -x c - >/dev/null 2>&1; then
  missing "Vulkan backend build and test" "glslc or the Vulkan headers not installed" "glslc libvulkan-dev mesa-vulkan-drivers"
fi
fuzz=true
if [[ "${MLLM_CI_SKIP_FUZZ:-0}" != 1 ]] && ! have clang; then
  missing "fuzz run" "clang or its libFuzzer runtime not installed" "clang libclang-rt-14-dev"
  fuzz=false
fi
aarch64=true
if [[ "${MLLM_CI_SKIP_CROSS:-0}" != 1 ]]; then
  if ! have qemu-x86_64; then
    missing "x86 CPU level runs under qemu-x86_64" "qemu-user not installed" "qemu-user"
    export MLLM_X86_SKIP_QEMU=1
  fi
  if ! have qemu-aarch64 || ! have aarch64-linux-gnu-gcc || [[ ! -f /usr/aarch64-linux-gnu/include/stdio.h ]]; then
    missing "aarch64 tests" "qemu-aarch64 or the aarch64 cross compiler not installed" \
      "qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
    aarch64=false
  fi
fi

if [[ "${MLLM_CI_SKIP_MAVEN:-0}" != 1 ]]; then
  step "1/2 ./mvnw -B verify (includes native build + ctest)"
  # shellcheck disable=SC2086
  ./mvnw -B -Dmobilellm.native.jobs="$jobs" ${MLLM_MAVEN_ARGS:-} verify
fi

if [[ "${MLLM_CI_SKIP_BENCH:-0}" != 1 ]]; then
  step "JMH smoke run: every benchmark once on the 125M shape, non-zero scores asserted"
  # shellcheck disable=SC2086
  ./mvnw -B -Dmobilellm.native.jobs="$jobs" ${MLLM_MAVEN_ARGS:-} -pl jmh -am verify -Pbench-smoke -DskipTests
fi

if [[ "${MLLM_CI_SKIP_SANITIZE:-0}" != 1 ]]; then
  step "2/2 native/ with AddressSanitizer + UndefinedBehaviorSanitizer, ctest"
  build="$root/native/build-sanitize"
  gen=()
  if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
  cmake -S native -B "$build" "${gen[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLLM_SANITIZE=ON -DMLLM_TESTS=ON
  cmake --build "$build" --parallel "$jobs"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
fi

if [[ "${MLLM_CI_SKIP_FUZZ:-0}" != 1 && $fuzz == true ]]; then
  step "fuzz: libFuzzer targets (GGUF loader, tokenizer, detokenizer, sampler), ${MLLM_FUZZ_SECONDS:-30}s each"
  MLLM_JOBS="$jobs" MLLM_FUZZ_JAVA_SECONDS="${MLLM_FUZZ_JAVA_SECONDS:-15}" ci/fuzz.sh "${MLLM_FUZZ_SECONDS:-30}"
fi

if [[ "${MLLM_CI_SKIP_CROSS:-0}" != 1 ]]; then
  step "x86 CPU levels: qemu-x86_64 Haswell (avx2), Nehalem (scalar); native MOBILELLM_CPU=each level"
  MLLM_TEST_EXCLUDE='^test_vulkan$' ci/test-x86-levels.sh   # the Vulkan test runs once, in step 1
  if [[ $aarch64 == true ]]; then
    step "aarch64: cross build, ctest under qemu-aarch64 -cpu max (neon-dotprod) and cortex-a53 (neon)"
    ci/test-aarch64.sh
  fi
fi

passed="all tests passed in $(( $(date +%s) - started ))s"
if [[ ${#skipped[@]} -gt 0 ]]; then
  printf -v list '%s, ' "${skipped[@]}"
  passed+="; skipped for want of tools (see the lines at the start): ${list%, }"
fi
step "$passed"
