#!/usr/bin/env bash
# Builds the spark module with its test classes and runs one of its benchmark classes the way spark-submit runs
# a driver (the same JVM flags), from the repository root:
#
#   spark/bench/run-bench-class.sh CLASS [ARGS...]
#
# Used by embedding-throughput.sh and cluster-scaling.sh. Needs JDK 22+ as JAVA_HOME.
set -euo pipefail
main=${1:?usage: $0 CLASS [ARGS...]}
shift
cp_file=spark/target/bench.classpath
./mvnw -B -q -pl spark -am package dependency:build-classpath -DskipTests -Dmobilellm.ctest.skip=true \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file" >/dev/null
# the flags spark-submit gives the driver on Spark 4.2 (org.apache.spark.launcher.JavaModuleOptions)
flags=$(sed -n '/<spark.test.argLine>/,/<\/spark.test.argLine>/p' spark/pom.xml | sed -e 's/<[^>]*>//g')
exec "${JAVA_HOME:?set JAVA_HOME to a JDK 22+}/bin/java" --enable-native-access=ALL-UNNAMED $flags \
  -Dlog4j2.configurationFile=spark/src/test/resources/log4j2-test.properties \
  -cp "spark/target/test-classes:spark/target/classes:$(cat "$cp_file")" \
  "$main" "$@"
