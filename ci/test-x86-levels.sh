#!/usr/bin/env bash
# ci/test-x86-levels.sh [BUILD_DIR] - runs the already built native test binaries of an x86-64
# build at every CPU level, proving that one library binary picks kernels the CPU can run:
#   1. under qemu-x86_64 (user mode, TCG) on emulated CPUs that lack our higher instruction sets:
#        Haswell (AVX2 + FMA + F16C, no AVX-512)  -> level avx2
#        Nehalem (SSE4.2, no AVX)                  -> level scalar
#      qemu raises SIGILL for any instruction the emulated CPU does not have, so a pass means the
#      library never executed one, and the results are checked as usual;
#   2. natively with MOBILELLM_CPU=<level> for every level the CPU supports (scalar, avx2, avxvnni
#      where the CPU has AVX-VNNI, avx512, ...; test_cpu_levels lists them), each the whole suite.
# test_cpu_levels checks through MLLM_EXPECT_CPU_LEVEL that the expected level is the one in use.
#
# BUILD_DIR defaults to $MLLM_X86_BUILD, else native/target/cmake (ci/test.sh's Maven build), else
# native/build. Needs qemu-user (Debian package) for part 1.
# Environment: MLLM_X86_CPUS="cpu:level ..." (qemu CPU models and the level each must give);
#              MLLM_X86_SKIP_QEMU=1 / MLLM_X86_SKIP_NATIVE=1 skip a part; MLLM_JOBS (default 2);
#              MLLM_TEST_EXCLUDE=regex leaves out matching tests (as ctest -E);
#              MLLM_X86_QEMU_EXCLUDE=regex (default ^test_vulkan: test_vulkan, test_vulkan_batch) leaves tests out of part 1 only:
#              test_vulkan runs a system Vulkan driver (lavapipe: LLVM JIT, minutes under TCG, and
#              its JIT crashes on an emulated Nehalem), not our CPU kernels.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
jobs=${MLLM_JOBS:-2}
build=${1:-${MLLM_X86_BUILD:-}}
if [[ -z "$build" ]]; then
  for d in native/target/cmake native/build; do
    if [[ -f "$d/CTestTestfile.cmake" && -x "$d/test_cpu_levels" ]]; then build=$d; break; fi
  done
fi
if [[ -z "$build" || ! -x "$build/test_cpu_levels" ]]; then
  echo "ERROR: no built native tests found (build native/ first, e.g. ci/test.sh, or pass BUILD_DIR)" >&2
  exit 1
fi
build=$(cd "$build" && pwd -P)
# Haswell without the features TCG cannot emulate (they only produce warnings; none matters here).
cpus=${MLLM_X86_CPUS:-"Haswell-noTSX,-pcid,-x2apic,-tsc-deadline,-invpcid:avx2 Nehalem:scalar"}
started=$(date +%s)
unset MOBILELLM_CPU MLLM_EXPECT_CPU_LEVEL MLLM_EMULATED_CPU

# Test names as ctest knows them; add_test(NAME x COMMAND x) runs $build/x in $build.
exclude=()
if [[ -n "${MLLM_TEST_EXCLUDE:-}" ]]; then exclude=(-E "$MLLM_TEST_EXCLUDE"); fi
mapfile -t tests < <(ctest --test-dir "$build" -N "${exclude[@]}" | sed -n 's/^ *Test *#[0-9]*: *\([^ ]*\).*/\1/p')
if [[ ${#tests[@]} -eq 0 ]]; then echo "ERROR: ctest lists no tests in $build" >&2; exit 1; fi
echo "build $build: ${#tests[@]} tests"

if [[ "${MLLM_X86_SKIP_QEMU:-0}" != 1 ]]; then
  if ! command -v qemu-x86_64 >/dev/null 2>&1; then
    echo "ERROR: qemu-x86_64 not found; apt-get install qemu-user" >&2
    exit 1
  fi
  qex=${MLLM_X86_QEMU_EXCLUDE-^test_vulkan}
  # the tests that are programs of this build (check_layers is a CMake script: nothing to emulate)
  qtests=()
  for t in "${tests[@]}"; do [[ -x "$build/$t" ]] && qtests+=("$t"); done
  if [[ -n "$qex" ]]; then mapfile -t qtests < <(printf '%s\n' "${qtests[@]}" | grep -vE "$qex" || true); fi
  logs=$(mktemp -d)
  trap 'rm -rf "$logs"' EXIT
  for entry in $cpus; do
    cpu=${entry%%:*} want=${entry##*:}
    printf '\n==== qemu-x86_64 -cpu %s (expect level %s) ====\n' "$cpu" "$want"
    export MLLM_EMULATED_CPU=1 MLLM_EXPECT_CPU_LEVEL=$want
    (cd "$build" && qemu-x86_64 -cpu "$cpu" ./test_cpu_levels 2>/dev/null | grep -E '^(detected|in use)') || true
    t0=$(date +%s)
    # Each test in $build, $jobs at a time; a test's output is shown only when it fails.
    printf '%s\n' "${qtests[@]}" | xargs -P "$jobs" -I{} bash -c \
      'cd "$1" && if qemu-x86_64 -cpu "$2" "./$3" >"$4/$3.log" 2>&1; then echo "  passed $3"; else
         rc=$?; echo "  FAILED $3 (exit $rc)"; cat "$4/$3.log"; exit 1; fi' _ "$build" "$cpu" {} "$logs" ||
      { echo "ERROR: tests failed under qemu-x86_64 -cpu $cpu" >&2; exit 1; }
    echo "qemu -cpu $cpu: ${#qtests[@]} tests passed at level $want in $(( $(date +%s) - t0 ))s"
  done
  unset MLLM_EMULATED_CPU MLLM_EXPECT_CPU_LEVEL
fi

if [[ "${MLLM_X86_SKIP_NATIVE:-0}" != 1 ]]; then
  top=$("$build/test_cpu_levels" 2>/dev/null | sed -n 's/^detected \([^:]*\):.*/\1/p')
  levels=$("$build/test_cpu_levels" 2>/dev/null | sed -n 's/^supported //p')
  echo; echo "native CPU: level $top (supported: $levels)"
  for lv in $levels; do
    printf '\n==== native, MOBILELLM_CPU=%s ====\n' "$lv"
    MOBILELLM_CPU=$lv MLLM_EXPECT_CPU_LEVEL=$lv ctest --test-dir "$build" --output-on-failure --parallel "$jobs" "${exclude[@]}"
  done
fi

printf '\n==== x86 levels: all runs passed in %ss ====\n' "$(( $(date +%s) - started ))"
