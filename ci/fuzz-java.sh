#!/usr/bin/env bash
# ci/fuzz-java.sh - fuzzes the converter's readers of untrusted files with Jazzer.
#
#   ci/fuzz-java.sh [SECONDS]    each target for SECONDS (default 20), one fresh JVM per target
#
# Targets (converters/src/test/java/io/github/mobilellm4j/convert/fuzz): the pickle reader, the zip
# reader with the torch checkpoint reader, the safetensors reader, config.json handling and the GGUF
# reader of `quantize`. Each starts from its committed inputs plus the corpus it grew in earlier runs
# (converters/.cifuzz-corpus, not committed). A finding fails the run; Jazzer saves the input in the
# target's inputs folder (converters/src/test/resources/.../fuzz/<Target>Inputs/<method>/crash-*), from
# where every `mvn verify` replays it: fix the bug and commit the file as a regression test.
# A JVM costs about 15 s of start-up on top of SECONDS; CI runs 15 s per target (about 2 minutes in all).
#
# Environment: MLLM_MAVEN_ARGS="..." extra arguments for ./mvnw (e.g. "-o").
set -euo pipefail

seconds=${1:-20}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: ci/fuzz-java.sh [SECONDS]" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
targets=(PickleFuzzTest ZipFuzzTest SafetensorsFuzzTest ConfigJsonFuzzTest GgufReaderFuzzTest)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "Jazzer: ${#targets[@]} targets, ${seconds}s each"
status=0
# -Xmx1g: a fuzzed input that makes a reader allocate without bound is then an OutOfMemoryError finding
# instead of gigabytes of heap. JAZZER_FUZZ turns the @FuzzTest methods from replaying their inputs into fuzzing; Jazzer fuzzes one
# test per JVM, hence reuseForks=false. The sanitizers for injection attacks are left out: the readers
# call none of the APIs they watch, and they triple the start-up time and memory of each JVM.
disabled=$(printf 'com.code_intelligence.jazzer.sanitizers.%s:' BigDecimal ClojureLangHooks Deserialization \
  ExpressionLanguageInjection FilePathTraversal LdapInjection NamingContextLookup OsCommandInjection \
  ReflectiveCall RegexInjection ScriptEngineInjection ServerSideRequestForgery SqlInjection TemplateInjection \
  UnsafeSanitizer XPathInjection XmlParserSsrfGuidance)
# shellcheck disable=SC2086
JAZZER_FUZZ=1 ./mvnw -B ${MLLM_MAVEN_ARGS:-} -pl converters test -DreuseForks=false \
  -Dtest="$(IFS=,; echo "${targets[*]}")" -Dsurefire.failIfNoSpecifiedTests=false \
  -Djazzer.max_duration="${seconds}s" -Djazzer.disabled_hooks="${disabled%:}" \
  -Dmobilellm.test.argLine=-Xmx1g >"$log" 2>&1 || status=$?

# libFuzzer's last status line of each target: executions, coverage (edges reached), corpus size
awk '/Running io\.github\.mobilellm4j\.convert\.fuzz\./ { n = split($NF, p, "."); target = p[n] }
     /^#[0-9]+[[:space:]]+DONE/ { printf "  %-20s %s\n", target, $0 }' "$log"
if [[ $status -ne 0 ]]; then
  tail -n 150 "$log" >&2
  echo "ci/fuzz-java.sh: a fuzz target failed (the finding and its saved input are above)" >&2
  exit "$status"
fi
echo "Jazzer: no findings"
