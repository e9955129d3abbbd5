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
cp_file=spark/target/bench.classpath
./mvnw -B -q -pl spark -am package dependency:build-classpath -DskipTests -Dmobilellm.ctest.skip=true \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file" >/dev/null
# the flags spark-submit gives the driver on Spark 4.2 (org.apache.spark.launcher.JavaModuleOptions)
flags=$(sed -n '/<spark.test.argLine>/,/<\/spark.test.argLine>/p' spark/pom.xml | sed -e 's/<[^>]*>//g')
exec "${JAVA_HOME:?set JAVA_HOME to a JDK 22+}/bin/java" --enable-native-access=ALL-UNNAMED $flags \
  -Dlog4j2.configurationFile=spark/src/test/resources/log4j2-test.properties \
  -cp "spark/target/test-classes:spark/target/classes:$(cat "$cp_file")" \
  io.github.mobilellm4j.spark.bench.ClusterScaling "$model" "$rows" "$runs"
