#!/usr/bin/env bash
# ci/test.sh - THE test command of mobilellm4j: everything CI runs, runnable on a dev machine.
#
#   1. ./mvnw -B verify      Maven reactor: CMake build of native/ + ctest, jextract bindings +
#                            loader tests, Java API, converters, CLI (whatever modules exist).
#   2. ASan/UBSan            native/ again with -DMLLM_SANITIZE=ON (RelWithDebInfo) into
#                            native/build-sanitize, then ctest on it.
#   3. fuzz                  ci/fuzz.sh: the libFuzzer targets (clang) for MLLM_FUZZ_SECONDS each
#                            (default 30), and the Java fuzz targets when ci/fuzz-java.sh exists.
#   4. cross                 every CPU level of the x86-64 build (qemu), then ci/build-natives.sh:
#                            the five release libraries, each tested where it runs (aarch64 under
#                            qemu, Windows under Wine), the glibc 2.28 floor, Metal translation.
#                            Without its tools (outside CI), the aarch64 tests run on their own
#                            (ci/test-aarch64.sh, Debian's cross compiler) if those tools are here.
#   5. release               ./mvnw -Prelease -Dgpg.skip install (every artifact Central would get,
#                            unsigned), ci/ReleaseCheck.java on them, ci/consumer-test.sh (class path
#                            and module path, no compiler on PATH).
#
# Environment:
#   MLLM_JOBS=N              parallel compile/test jobs (default 2)
#   MLLM_CI_SKIP_MAVEN=1     skip step 1;   MLLM_CI_SKIP_SANITIZE=1  skip step 2
#   MLLM_CI_SKIP_BENCH=1     skip the JMH smoke run;  MLLM_CI_SKIP_CROSS=1  skip step 4 (and 5)
#   MLLM_CI_SKIP_FUZZ=1      skip step 3;   MLLM_FUZZ_SECONDS=N  seconds per fuzz target
#   MLLM_CI_SKIP_RELEASE=1   skip step 5;   MLLM_M2_REPO=dir  local Maven repository (~/.m2/repository)
#   MLLM_MAVEN_ARGS="..."    extra arguments for ./mvnw (e.g. "-o" or "-pl native,bindings -am")
#   ASAN_OPTIONS / UBSAN_OPTIONS override the defaults below.
# Optional tools (qemu-user and the aarch64 cross compiler, glslc + Vulkan headers + a Vulkan driver, node/npm,
# clang with libFuzzer; for step 4's release libraries Zig, MinGW-w64, Wine and SPIRV-Cross): where one is missing
# its part is skipped with a line saying so and how to enable it, except in CI (CI set, as .ci/run does), where
# every part must run and a missing tool is an error.
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
missing() { # missing PART WHY HOW (a command that installs it): an error in CI, otherwise a skipped part
  if [[ $in_ci == true ]]; then echo "ERROR: CI runs the $1, but $2 ($3)" >&2; exit 1; fi
  skipped+=("$1")
  echo "skipped: $1 ($2; to run it: $3, or run .ci/run as root)"
}
if ! have node || ! have npm; then
  missing "npm cross-checks" "node/npm not installed" "apt-get install nodejs npm"
fi
vulkan=true
if ! have glslc || ! echo '#include <vulkan/vulkan.h>' | "${CC:-cc}" -E -x c - >/dev/null 2>&1; then
  missing "Vulkan backend build and test" "glslc or the Vulkan headers not installed" "apt-get install glslc libvulkan-dev mesa-vulkan-drivers"
  vulkan=false
fi
fuzz=true
if [[ "${MLLM_CI_SKIP_FUZZ:-0}" != 1 ]] && ! have clang; then
  missing "fuzz run" "clang or its libFuzzer runtime not installed" "apt-get install clang libclang-rt-14-dev"
  fuzz=false
fi
aarch64=true natives=true
if [[ "${MLLM_CI_SKIP_CROSS:-0}" != 1 ]]; then
  if ! have qemu-x86_64; then
    missing "x86 CPU level runs under qemu-x86_64" "qemu-user not installed" "apt-get install qemu-user"
    export MLLM_X86_SKIP_QEMU=1
  fi
  if ! have qemu-aarch64 || [[ ! -f /usr/aarch64-linux-gnu/include/stdio.h ]]; then
    missing "aarch64 tests" "qemu-aarch64 or the aarch64 C library not installed" "apt-get install qemu-user libc6-dev-arm64-cross"
    aarch64=false natives=false
  fi
  # ci/build-natives.sh: the five release libraries (then the release artifacts, step 5)
  zig=${MLLM_ZIG:-$(command -v zig || echo "$root/.tools/zig-0.11.0/zig")}
  if [[ ! -x "$zig" ]]; then
    missing "release libraries and artifacts (steps 4-5)" "Zig 0.11 not found" "ci/install-zig.sh"
    natives=false
  elif ! have x86_64-w64-mingw32-gcc || { ! have wine64 && [[ ! -x /usr/lib/wine/wine64 ]]; } || ! have spirv-cross || ! have objdump; then
    missing "release libraries and artifacts (steps 4-5)" "MinGW-w64, Wine, SPIRV-Cross or binutils not installed" \
      "apt-get install gcc-mingw-w64-x86-64-win32 wine64 spirv-cross binutils"
    natives=false
  fi
  [[ $vulkan == true ]] || natives=false # the release libraries contain the Vulkan backend (reported above)
  # without the release libraries, the aarch64 tests build with Debian's cross compiler (ci/test-aarch64.sh)
  if [[ $natives == false && $aarch64 == true ]] && ! have aarch64-linux-gnu-gcc; then
    missing "aarch64 tests" "the aarch64 cross compiler not installed" "apt-get install gcc-aarch64-linux-gnu"
    aarch64=false
  fi
fi

if [[ "${MLLM_CI_SKIP_MAVEN:-0}" != 1 ]]; then
  step "1/5 ./mvnw -B verify (includes native build + ctest)"
  # shellcheck disable=SC2086
  ./mvnw -B -Dmobilellm.native.jobs="$jobs" ${MLLM_MAVEN_ARGS:-} verify
fi

if [[ "${MLLM_CI_SKIP_BENCH:-0}" != 1 ]]; then
  step "JMH smoke run: every benchmark once on the 125M shape, non-zero scores asserted"
  # shellcheck disable=SC2086
  ./mvnw -B -Dmobilellm.native.jobs="$jobs" ${MLLM_MAVEN_ARGS:-} -pl jmh -am verify -Pbench-smoke -DskipTests
fi

if [[ "${MLLM_CI_SKIP_SANITIZE:-0}" != 1 ]]; then
  step "2/5 native/ with AddressSanitizer + UndefinedBehaviorSanitizer, ctest"
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
  step "3/5 fuzz: libFuzzer targets (GGUF loader, tokenizer, detokenizer, sampler), ${MLLM_FUZZ_SECONDS:-30}s each"
  MLLM_JOBS="$jobs" MLLM_FUZZ_JAVA_SECONDS="${MLLM_FUZZ_JAVA_SECONDS:-15}" ci/fuzz.sh "${MLLM_FUZZ_SECONDS:-30}"
fi

if [[ "${MLLM_CI_SKIP_CROSS:-0}" != 1 ]]; then
  step "4/5 x86 CPU levels: qemu-x86_64 Haswell (avx2), Nehalem (scalar); native MOBILELLM_CPU=each level"
  MLLM_TEST_EXCLUDE='^test_vulkan' ci/test-x86-levels.sh   # the Vulkan tests run once, in step 1
  if [[ $natives == true ]]; then
    step "4/5 release libraries of every platform (ci/build-natives.sh: aarch64 under qemu, Windows under Wine)"
    ci/build-natives.sh
  elif [[ $aarch64 == true ]]; then
    step "4/5 aarch64 without the release libraries: ctest under qemu-aarch64 -cpu max (neon-dotprod), cortex-a53 (neon)"
    ci/test-aarch64.sh
  fi
fi

if [[ "${MLLM_CI_SKIP_CROSS:-0}" != 1 && "${MLLM_CI_SKIP_RELEASE:-0}" != 1 && $natives == true ]]; then
  step "5/5 release build: every artifact for Maven Central, unsigned, installed locally"
  # shellcheck disable=SC2086
  ./mvnw -B -Prelease -Dgpg.skip -DskipTests ${MLLM_MAVEN_ARGS:-} install
  version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)
  repo=${MLLM_M2_REPO:-$HOME/.m2/repository}
  java ci/ReleaseCheck.java "$repo" "$version"
  step "consumer test: the installed artifacts, class path and module path, no compiler on PATH"
  ci/consumer-test.sh "$repo"
fi

passed="all tests passed in $(( $(date +%s) - started ))s"
if [[ ${#skipped[@]} -gt 0 ]]; then
  printf -v list '%s, ' "${skipped[@]}"
  passed+="; skipped for want of tools (see the lines at the start): ${list%, }"
fi
step "$passed"
