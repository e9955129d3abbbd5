#!/usr/bin/env bash
# ci/consumer-test.sh [LOCAL_REPOSITORY] - uses mobilellm4j the way an application does, outside
# this build: from the artifacts the release build installed into a local Maven repository
# (./mvnw -Prelease -Dgpg.skip install; LOCAL_REPOSITORY defaults to ~/.m2/repository), in fresh
# folders, with no C compiler, CMake or glslc on PATH and an empty home folder (so an empty
# ~/.cache/mobilellm4j): the native library can only come from the platform jars.
#
#   1. class path: a minimal pom depending on io.github.mobilellm4j:mobilellm4j only; its class
#      checks that Model.loadDemo() names the demo artifact it lacks, then loads the demo model's
#      GGUF (taken from the installed mobilellm4j-demo-model jar) and generates 16 tokens;
#   2. module path: the same dependency plus mobilellm4j-demo-model, a module `app` requiring
#      io.github.mobilellm4j, run as java -p ... -m app/app.Main: Model.loadDemo() and text, a
#      chat template rendered by Jinjava (an automatic module) with the functions it calls back, and
#      evaluation items read from a snappy-compressed Parquet file (hardwood and snappy-java, automatic
#      modules) equal to the same items in JSON Lines.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
repo=$(cd "${1:-$HOME/.m2/repository}" && pwd -P)
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$root/pom.xml" | head -1)
java_home=${JAVA_HOME:?JAVA_HOME must point to JDK 22 or newer}
work=$(mktemp -d /tmp/mobilellm4j-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
g=io/github/mobilellm4j
for f in "$g/mobilellm4j/$version/mobilellm4j-$version.pom" "$g/mobilellm4j-demo-model/$version/mobilellm4j-demo-model-$version.jar"; do
  [[ -f "$repo/$f" ]] || { echo "ERROR: $repo/$f missing: run ./mvnw -Prelease -Dgpg.skip install first" >&2; exit 1; }
done

# PATH without compilers: the JDK plus the few programs Maven's launcher and this script use.
mkdir -p "$work/bin" "$work/home"
for t in bash sh env uname dirname basename cat sed grep awk tr head tail mkdir rm ls cp mv find readlink \
         sha512sum tar gzip curl wc sort cut date expr chmod id stat mktemp; do
  p=$(command -v "$t" || true)
  [[ -n "$p" ]] && ln -s "$p" "$work/bin/$t"
done
export PATH="$java_home/bin:$work/bin"
for t in cc gcc clang cmake glslc zig; do
  if command -v "$t" >/dev/null 2>&1; then echo "ERROR: $t still on PATH" >&2; exit 1; fi
done
export MAVEN_USER_HOME="$HOME/.m2" # the Maven distribution ./mvnw already fetched
export HOME="$work/home"           # nothing in ~/.cache/mobilellm4j
export MAVEN_OPTS=--enable-native-access=ALL-UNNAMED
mvn() { "$root/mvnw" -B -q -Dmaven.repo.local="$repo" "$@"; }
# the JVM takes user.home from the password database, not from $HOME
run_java() { java -Duser.home="$HOME" "$@"; }

# A pom with the given dependencies (artifactIds of io.github.mobilellm4j) and the plugins pinned to
# versions the build already used.
write_pom() {
  local dir=$1; shift
  mkdir -p "$dir"
  {
    cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>$(basename "$dir")</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>22</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
EOF
    for a in "$@"; do
      printf '    <dependency><groupId>io.github.mobilellm4j</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n' "$a" "$version"
    done
    cat <<'EOF'
  </dependencies>
  <build>
    <plugins>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
    </plugins>
  </build>
</project>
EOF
  } >"$dir/pom.xml"
}

echo "==== consumer 1: class path, io.github.mobilellm4j:mobilellm4j:$version only ===="
c1="$work/classpath-app"
write_pom "$c1" mobilellm4j
mkdir -p "$c1/src/main/java/example"
cat >"$c1/src/main/java/example/Generate.java" <<'EOF'
package example;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import java.nio.file.Path;

public class Generate {
    public static void main(String[] args) {
        try (Model demo = Model.loadDemo()) {
            throw new AssertionError("loadDemo() worked without the demo model artifact");
        } catch (IllegalStateException e) {
            if (!e.getMessage().contains("io.github.mobilellm4j:mobilellm4j-demo-model")) throw e;
            System.out.println("without the demo artifact: " + e.getMessage());
        }
        try (Model model = Model.load(Path.of(args[0]))) {
            Generation g = model.generate("The licenses for most software are designed to",
                    GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(16).build());
            System.out.println("generated " + g.tokens().length + " tokens:" + g.text());
            if (g.tokens().length != 16 || g.text().isBlank()) throw new AssertionError("expected 16 tokens of text");
        }
    }
}
EOF
(cd "$c1" && mvn compile dependency:build-classpath -Dmdep.outputFile=cp.txt -Dmdep.includeScope=runtime)
(cd "$work" && "$java_home/bin/jar" xf "$repo/$g/mobilellm4j-demo-model/$version/mobilellm4j-demo-model-$version.jar" \
  io/github/mobilellm4j/demo/mobilellm-demo-q8_0.gguf)
run_java --enable-native-access=ALL-UNNAMED -cp "$c1/target/classes:$(cat "$c1/cp.txt")" example.Generate \
  "$work/io/github/mobilellm4j/demo/mobilellm-demo-q8_0.gguf"
extracted=$(find "$HOME/.cache/mobilellm4j" -name 'libmobilellm*' -o -name 'mobilellm.dll' | head -1)
[[ -n "$extracted" ]] || { echo "ERROR: the library was not extracted into ~/.cache/mobilellm4j" >&2; exit 1; }
echo "native library extracted from its platform jar to $extracted"

echo "==== consumer 2: module path, java -p ... -m app/app.Main ===="
c2="$work/module-app"
write_pom "$c2" mobilellm4j mobilellm4j-demo-model
(cd "$c2" && mvn dependency:copy-dependencies -DoutputDirectory=mods -DincludeScope=runtime)
mkdir -p "$c2/src/app/app"
cat >"$c2/src/app/module-info.java" <<'EOF'
module app {
    requires io.github.mobilellm4j;
}
EOF
cat >"$c2/src/app/app/Main.java" <<'EOF'
package app;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatTemplate;
import io.github.mobilellm4j.eval.Task;
import io.github.mobilellm4j.eval.TaskData;
import java.nio.file.Path;
import java.util.List;

public class Main {
    public static void main(String[] args) throws Exception {
        if (!Main.class.getModule().isNamed() || !Model.class.getModule().getName().equals("io.github.mobilellm4j")) {
            throw new AssertionError("not running on the module path");
        }
        ChatTemplate t = ChatTemplate.of("{% if messages|length == 0 %}{{ raise_exception('no messages') }}{% endif %}"
                + "{% for m in messages %}<{{ m.role }}>{{ m.content | tojson }}{% endfor %}"
                + "{% if add_generation_prompt %}<assistant>{% endif %}{{ strftime_now('%Y') | length }}");
        String chat = t.render(List.of(ChatMessage.user("hi")), true);
        if (!chat.equals("<user>\"hi\"<assistant>4")) throw new AssertionError("chat template rendered " + chat);
        try {
            t.render(List.of(), false);
            throw new AssertionError("raise_exception did not refuse an empty conversation");
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().contains("no messages")) throw e;
        }
        System.out.println("chat template on the module path: " + chat);
        var parquet = TaskData.load(Task.PIQA, Path.of(args[0]));
        if (!parquet.equals(TaskData.load(Task.PIQA, Path.of(args[1])))) {
            throw new AssertionError("Parquet items differ from the same items in JSON Lines");
        }
        System.out.println("Parquet on the module path: " + parquet.size() + " items");
        try (Model model = Model.loadDemo()) {
            Generation g = model.generate("This License applies to",
                    GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(16).build());
            System.out.println("module " + Main.class.getModule().getName() + " generated " + g.tokens().length
                    + " tokens:" + g.text());
            if (g.tokens().length != 16 || g.text().isBlank()) throw new AssertionError("expected 16 tokens of text");
        }
    }
}
EOF
javac -d "$c2/classes" --module-path "$c2/mods" "$c2/src/app/module-info.java" "$c2/src/app/app/Main.java"
run_java --enable-native-access=io.github.mobilellm4j.bindings,io.github.mobilellm4j \
  -p "$c2/mods:$c2/classes" -m app/app.Main "$root/testdata/eval/parquet/piqa.parquet" "$root/testdata/eval/data/piqa.jsonl"
echo "==== consumer tests passed in $(( $(date +%s) - started ))s ===="
