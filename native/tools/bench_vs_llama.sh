#!/bin/bash
# Interleaved speed comparison with llama.cpp's llama-bench on the same GGUF files.
# Usage: LLAMA_BENCH=/path/to/llama-bench native/tools/bench_vs_llama.sh ROUNDS MODEL.gguf...
# Env: THREADS (default "2 1"), P (default "128 512"), N (default 64), R (reps per run, default 3).
# Prints one line per measurement: engine model threads test t/s (ours: median of R reps, plus
# CPU ms per token over all threads; llama-bench: mean of R reps).
set -u
BENCH=${MLLM_BENCH:-$(dirname "$0")/../build/mllm_bench}
LB=${LLAMA_BENCH:?set LLAMA_BENCH to llama-bench}
ROUNDS=${1:?rounds}; shift
THREADS=${THREADS:-"2 1"}; P=${P:-"128 512"}; N=${N:-64}; R=${R:-3}
for round in $(seq "$ROUNDS"); do
  for m in "$@"; do
    for t in $THREADS; do
      for p in $P; do
        "$BENCH" -m "$m" -p "$p" -n 0 -r "$R" -t "$t" | awk -v m="$(basename "$m")" -v t="$t" -v p="$p" '/median/{print "ours", m, t, "pp" p, $(NF-4), "cpu_ms/tok", $(NF-1)}'
        "$LB" -m "$m" -p "$p" -n 0 -r "$R" -t "$t" -o csv 2>/dev/null | awk -F, -v m="$(basename "$m")" -v t="$t" -v p="$p" 'NR>1{gsub(/"/,""); print "llama", m, t, "pp" p, $(NF-1)}'
      done
      "$BENCH" -m "$m" -p 0 -n "$N" -r "$R" -t "$t" | awk -v m="$(basename "$m")" -v t="$t" -v n="$N" '/median/{print "ours", m, t, "tg" n, $(NF-4), "cpu_ms/tok", $(NF-1)}'
      "$LB" -m "$m" -p 0 -n "$N" -r "$R" -t "$t" -o csv 2>/dev/null | awk -F, -v m="$(basename "$m")" -v t="$t" -v n="$N" 'NR>1{gsub(/"/,""); print "llama", m, t, "tg" n, $(NF-1)}'
    done
  done
done
