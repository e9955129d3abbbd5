#!/usr/bin/env bash
# Embeddings/s of MobileLlmDatasets.embed on a Spark standalone cluster on loopback (a master and one-core
# workers, each a JVM of its own) with 1 and with 2 workers (io.github.mobilellm4j.spark.bench.ClusterScaling).
# Run from the repository root:
#
#   spark/bench/cluster-scaling.sh MODEL.gguf [ROWS] [RUNS]
#
# MODEL.gguf: e.g. the 125M-shaped random-weights file the jmh module makes
# (~/.cache/mobilellm4j/bench/mobilellm-125m-q8_0-v1.gguf, see jmh/README.md). Needs JDK 22+ as JAVA_HOME.
set -euo pipefail
model=${1:?usage: $0 MODEL.gguf [ROWS] [RUNS]}
rows=${2:-1000}
runs=${3:-3}
exec "$(dirname "$0")/run-bench-class.sh" io.github.mobilellm4j.spark.bench.ClusterScaling "$model" "$rows" "$runs"
