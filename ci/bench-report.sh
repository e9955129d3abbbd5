#!/usr/bin/env bash
# ci/bench-report.sh - the benchmark report of mobilellm4j, in one command.
#
#   ci/bench-report.sh [BenchReport options]
#
# Builds jmh/target/benchmarks.jar (./mvnw -pl jmh -am package -DskipTests), then runs
# io.github.mobilellm4j.jmh.report.BenchReport, which
#   1. records the machine (CPU model, SIMD flags, cores, memory) and measures memory bandwidth;
#   2. creates the synthetic MobileLLM GGUF files it needs (cached in ~/.cache/mobilellm4j/bench);
#   3. for each shape x weight type x backend x threads: JMH decode + prompt (32/128/512) tokens/s,
#      then llama-bench on the same GGUF with the same threads when llama-bench is on PATH
#      (or --llama-bench PATH), interleaved;
#   4. embeddings/s and the Java-layer overhead (C loop vs Java API) with every core, model load
#      time (mmap and read), tokenizer MB/s;
#   5. writes jmh/results/{jmh-results.json (JMH JSON), llama-bench.json, machine.json},
#      docs/benchmarks.md and its chart docs/benchmarks.svg.
#
# Options (all optional; defaults in brackets):
#   --profile full|quick|smoke   [full: 3x2 s warm-up + 5x2 s measured per benchmark, one fork; about
#                                 30 min for the defaults on 2 cores; quick: about 13 min; smoke: 9 min]
#   --shapes 125M,350M | all     --types F16,Q8_0,Q4_0     --threads 1,2,<cores>     --backends CPU
#   --forks N   --llama-bench PATH | --no-llama-bench   --llama-bench-args "..."
#   --results jmh/results   --out docs/benchmarks.md   --note "text shown at the top of the report"
#   --parts tokens,extras,load,tokenizer   run only these parts, keep the other results
#   --from-results               only re-render docs/benchmarks.md from existing results
#
# Environment: JAVA_HOME (JDK 22+; when it is unset or older, ci/lib/jdk.sh looks for one), MLLM_BENCH_SKIP_BUILD=1 (use the existing jar), MLLM_BENCH_JVM_ARGS (extra flags of the
# report JVM, e.g. -Dmobilellm.bench.cache=/data/models; the system properties mobilellm.bench.cache,
# mobilellm.bench.text, mobilellm.library.path and mobilellm.cache.dir are passed on to the forks).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

# shellcheck source=lib/jdk.sh
. ci/lib/jdk.sh
mllm_find_jdk || { echo "[bench-report] needs JDK 22 or newer: set JAVA_HOME" >&2; exit 1; }
java_bin=$JAVA_HOME/bin/java
jar=jmh/target/benchmarks.jar

if [ "${MLLM_BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$jar" ]; then
  echo "[bench-report] building $jar" >&2
  ./mvnw -B -q -pl jmh -am package -DskipTests
fi

# shellcheck disable=SC2086
exec "$java_bin" --enable-native-access=ALL-UNNAMED ${MLLM_BENCH_JVM_ARGS:-} \
  -cp "$jar" io.github.mobilellm4j.jmh.report.BenchReport "$@"
