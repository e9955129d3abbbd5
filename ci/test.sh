#!/usr/bin/env bash
# ci/test.sh - THE test command of mobilellm4j: everything CI runs, runnable on a dev machine.
#
#   1. ./mvnw -B verify      Maven reactor: CMake build of native/ + ctest, jextract bindings +
#                            loader tests, Java API, converters, CLI (whatever modules exist).
#   2. ASan/UBSan            native/ again with -DMLLM_SANITIZE=ON (RelWithDebInfo) into
#                            native/build-sanitize, then ctest on it.
#   3. cross                 every CPU level of the x86-64 build (qemu), then ci/build-natives.sh:
#                            the five release libraries, each tested where it runs (aarch64 under
#                            qemu, Windows under Wine), the glibc 2.28 floor, Metal translation.
#   4. release               ./mvnw -Prelease -Dgpg.skip install (every artifact Central would get,
#                            unsigned), ci/ReleaseCheck.java on them, ci/consumer-test.sh (class path
#                            and module path, no compiler on PATH).
#
# Environment:
#   MLLM_JOBS=N              parallel compile/test jobs (default 2)
#   MLLM_CI_SKIP_MAVEN=1     skip step 1;   MLLM_CI_SKIP_SANITIZE=1  skip step 2
#   MLLM_CI_SKIP_BENCH=1     skip the JMH smoke run;  MLLM_CI_SKIP_CROSS=1  skip step 3 (and 4)
#   MLLM_CI_SKIP_RELEASE=1   skip step 4;  MLLM_M2_REPO=dir  local Maven repository (~/.m2/repository)
#   MLLM_MAVEN_ARGS="..."    extra arguments for ./mvnw (e.g. "-o" or "-pl native,bindings -am")
#   ASAN_OPTIONS / UBSAN_OPTIONS override the defaults below.
# Exits non-zero on the first failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
jobs=${MLLM_JOBS:-2}
started=$(date +%s)

step() { printf '\n==== %s ====\n' "$*"; }

if [[ "${MLLM_CI_SKIP_MAVEN:-0}" != 1 ]]; then
  step "1/4 ./mvnw -B verify (includes native build + ctest)"
  # shellcheck disable=SC2086
  ./mvnw -B -Dmobilellm.native.jobs="$jobs" ${MLLM_MAVEN_ARGS:-} verify
fi

if [[ "${MLLM_CI_SKIP_BENCH:-0}" != 1 ]]; then
  step "JMH smoke run: every benchmark once on the 125M shape, non-zero scores asserted"
  # shellcheck disable=SC2086
  ./mvnw -B -Dmobilellm.native.jobs="$jobs" ${MLLM_MAVEN_ARGS:-} -pl jmh -am verify -Pbench-smoke -DskipTests
fi

if [[ "${MLLM_CI_SKIP_SANITIZE:-0}" != 1 ]]; then
  step "2/4 native/ with AddressSanitizer + UndefinedBehaviorSanitizer, ctest"
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

if [[ "${MLLM_CI_SKIP_CROSS:-0}" != 1 ]]; then
  step "3/4 x86 CPU levels: qemu-x86_64 Haswell (avx2), Nehalem (scalar); native MOBILELLM_CPU=each level"
  MLLM_TEST_EXCLUDE='^test_vulkan$' ci/test-x86-levels.sh   # the Vulkan test runs once, in step 1
  step "release libraries of every platform (ci/build-natives.sh)"
  ci/build-natives.sh
fi

if [[ "${MLLM_CI_SKIP_CROSS:-0}" != 1 && "${MLLM_CI_SKIP_RELEASE:-0}" != 1 ]]; then
  step "4/4 release build: every artifact for Maven Central, unsigned, installed locally"
  # shellcheck disable=SC2086
  ./mvnw -B -Prelease -Dgpg.skip -DskipTests ${MLLM_MAVEN_ARGS:-} install
  version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)
  repo=${MLLM_M2_REPO:-$HOME/.m2/repository}
  java ci/ReleaseCheck.java "$repo" "$version"
  step "consumer test: the installed artifacts, class path and module path, no compiler on PATH"
  ci/consumer-test.sh "$repo"
fi

step "all tests passed in $(( $(date +%s) - started ))s"
