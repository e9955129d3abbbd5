#!/bin/bash
# Aggregate decode rate of N sequences decoded together (what continuous batching serves), ours
# (mllm_bench --parallel N) and, when LLAMA_BATCHED_BENCH is set, llama.cpp's llama-batched-bench on the
# same GGUF files, one after the other per file.
# Usage: [LLAMA_BATCHED_BENCH=/path/to/llama-batched-bench] native/tools/bench_parallel.sh ROUNDS MODEL.gguf...
# Env: NPL (sequence counts, default "1 2 4 8 16"), THREADS (default 2), P (prompt tokens per sequence,
#      default 128), N (decode steps, default 64), R (ours: repetitions, default 3), BACKEND (ours: cpu or
#      vulkan, default cpu), LLAMA_ARGS (extra llama-batched-bench arguments, e.g. "-ngl 99").
# Prints one line per measurement: engine model backend threads N pp_t/s tg_t/s, both aggregate over the
# N sequences (ours: medians of R repetitions; llama-batched-bench: its single timed run per N).
set -u
BENCH=${MLLM_BENCH:-$(dirname "$0")/../build/mllm_bench}
LBB=${LLAMA_BATCHED_BENCH:-}
ROUNDS=${1:?rounds}; shift
NPL=${NPL:-"1 2 4 8 16"}; T=${THREADS:-2}; P=${P:-128}; N=${N:-64}; R=${R:-3}; B=${BACKEND:-cpu}
for round in $(seq "$ROUNDS"); do
  for m in "$@"; do
    name=$(basename "$m")
    for np in $NPL; do
      "$BENCH" -m "$m" -p "$P" -n "$N" -r "$R" -t "$T" --parallel "$np" --backend "$B" |
        awk -v m="$name" -v b="$B" -v t="$T" -v np="$np" '
          /^pp/ { pp = $(NF - 1) }
          /^tg/ { for (i = 1; i <= NF; i++) if ($i == "median") tg = $(i + 1) }
          END { print "ours", m, b, t, np, pp, tg }'
    done
    if [ -n "$LBB" ]; then
      largest=${NPL##* }
      "$LBB" -m "$m" -c $((largest * (P + N) + 256)) -npp "$P" -ntg "$N" -npl "$(echo $NPL | tr ' ' ,)" \
          -t "$T" ${LLAMA_ARGS:-} 2>/dev/null |
        awk -F'|' -v m="$name" -v t="$T" '$2 + 0 > 0 { gsub(/ /, ""); print "llama", m, "-", t, $4, $7, $9 }'
    fi
  done
done
