#!/bin/sh
# Load on a running OpenAI-compatible server: concurrent chat clients (the OpenAI Java SDK), greedy requests, every
# other one streamed; prints latency percentiles and throughput, and fails on an error or on a prompt that got two
# different answers. Arguments: [--url BASE_URL] [--api-key KEY] [--clients N] [--requests N] [--max-tokens N]
# [--no-keep-alive] (a new connection per request).
# Example: ./mobilellm serve -m model.gguf --parallel 2 & server/load-test.sh --url http://127.0.0.1:8080/v1
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log="$root/target/load-test-build.log"
mkdir -p "$root/target"
# the tool lives in the server's test classes; building them is quick once the reactor has been built
if ! ./mvnw -B -DskipTests -pl server -am install >"$log" 2>&1 </dev/null; then
    tail -n 40 "$log" >&2
    echo "load-test.sh: the build failed; the whole log: $log" >&2
    exit 1
fi
exec ./mvnw -B -q -pl server exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.github.mobilellm4j.server.ChatLoad \
    -Dexec.args="$*"
