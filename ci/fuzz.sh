#!/usr/bin/env bash
# ci/fuzz.sh [SECONDS_PER_TARGET] - builds the libFuzzer targets of native/fuzz (clang, ASan +
# UBSan) into native/build-fuzz and runs each for SECONDS_PER_TARGET (default 30), starting from
# its committed seed corpus in native/fuzz/corpus/<target>. Then runs the Java fuzz targets
# through ci/fuzz-java.sh SECONDS_PER_TARGET when that script exists (MLLM_FUZZ_JAVA_SECONDS overrides
# the time for them: each Java target pays a JVM start).
#
# A crash, sanitizer report, timeout (10 s per input) or memory blow-up (2 GiB) fails the run;
# the input that caused it is saved as native/build-fuzz/crashes/<target>/<kind>-<sha1> and the
# command that replays it is printed. Inputs that found new coverage stay in
# native/build-fuzz/corpus/<target> for the next run (delete the folder to start from the seeds).
#
# Environment: MLLM_JOBS (build jobs, default 2), CC (default clang).
# Needs clang and its libFuzzer runtime (Debian 12: apt-get install clang libclang-rt-14-dev).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
seconds=${1:-30}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: ci/fuzz.sh [SECONDS_PER_TARGET]  (a positive whole number, default 30)" >&2
  exit 2
fi
jobs=${MLLM_JOBS:-2}
cc=${CC:-clang}
targets=(fuzz_model_load fuzz_tokenizer fuzz_detokenizer fuzz_sampler)
build="$root/native/build-fuzz"

probe='#include <stddef.h>
int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n) { return d && n; }'
if ! command -v "$cc" >/dev/null 2>&1 ||
   ! echo "$probe" | "$cc" -fsanitize=fuzzer,address -x c - -o /dev/null >/dev/null 2>&1; then
  echo "ci/fuzz.sh: $cc with libFuzzer not found; install clang and libclang-rt-14-dev (Debian 12) or set CC" >&2
  exit 1
fi

echo "==== fuzz: building ${targets[*]} with $cc ===="
gen=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
mkdir -p "$build"
CC="$cc" cmake -S native -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLLM_FUZZ=ON -DMLLM_TESTS=OFF -DMLLM_VULKAN=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --parallel "$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  dict=()
  if [[ -f "native/fuzz/$t.dict" ]]; then dict=(-dict="native/fuzz/$t.dict"); fi
  echo "==== fuzz: $t for ${seconds}s ===="
  # new inputs go to the first folder; the committed seeds are only read
  if "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
       -artifact_prefix="$crashes/" "$corpus" "native/fuzz/corpus/$t" >"$build/$t.log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units)' "$build/$t.log" || true
  else
    failed+=("$t")
    tail -n 60 "$build/$t.log"
    for f in "$crashes"/*; do
      [[ -f "$f" ]] && echo "reproduce: $build/$t $f"
    done
  fi
done

if [[ -f ci/fuzz-java.sh ]]; then
  java_seconds=${MLLM_FUZZ_JAVA_SECONDS:-$seconds}
  echo "==== fuzz: Java targets (ci/fuzz-java.sh $java_seconds) ===="
  bash ci/fuzz-java.sh "$java_seconds" || failed+=("java")
fi

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (reproducers above; each becomes a regression test in native/tests)" >&2
  exit 1
fi
echo "fuzz: all targets ran ${seconds}s without a finding"
