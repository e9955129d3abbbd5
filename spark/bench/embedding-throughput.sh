#!/usr/bin/env bash
# Embeddings/s of mobilellm_embed on local[1] and local[2] against plain Java loops over Model.embed in the same
# JVM (io.github.mobilellm4j.spark.bench.EmbeddingThroughput). Run from the repository root:
#
#   spark/bench/embedding-throughput.sh MODEL.gguf [ROWS] [RUNS] [java|overhead]
#
# java: only the plain Java ways (no Spark session). overhead: only the four ways that give Spark's overhead on
# two cores (java x2, java batched x2, spark local[2], spark typed local[2]).
#
# MODEL.gguf: e.g. the 125M-shaped random-weights file the jmh module makes
# (~/.cache/mobilellm4j/bench/mobilellm-125m-q8_0-v1.gguf, see jmh/README.md). Needs JDK 22+ as JAVA_HOME.
set -euo pipefail
model=${1:?usage: $0 MODEL.gguf [ROWS] [RUNS] [java|overhead]}
rows=${2:-1000}
runs=${3:-3}
only=${4:-}
exec "$(dirname "$0")/run-bench-class.sh" io.github.mobilellm4j.spark.bench.EmbeddingThroughput "$model" "$rows" "$runs" $only
