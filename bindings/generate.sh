#!/bin/sh
# Regenerates the FFM bindings of native/include/mobilellm.h into bindings/src/main/java.
#
#   bindings/generate.sh            # jextract from PATH
#   JEXTRACT=/path/to/jextract bindings/generate.sh
#
# The output is committed, so a normal build never needs jextract. Run this after every change
# of mobilellm.h (and bump MLLM_ABI_VERSION there when the change is incompatible).
#
# Generated without -l: the code looks symbols up with SymbolLookup.loaderLookup(), and the
# library is loaded by the hand-written NativeLibrary. To guarantee that happens before the first
# downcall, a static initializer calling NativeLibrary.load() is appended to the header class
# (see bindings/README.md).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
root=$(cd "$here/.." && pwd -P)
header="$root/native/include/mobilellm.h"
out="$here/src/main/java"
pkg=io.github.mobilellm4j.bindings
pkg_dir="$out/$(printf '%s' "$pkg" | tr . /)"
header_class=mobilellm_h

jextract=${JEXTRACT:-}
if [ -z "$jextract" ]; then
  jextract=$(command -v jextract || true)
fi
if [ -z "$jextract" ] || [ ! -x "$jextract" ]; then
  echo "generate.sh: jextract not found: put it on PATH or set JEXTRACT=/path/to/jextract" >&2
  exit 1
fi
[ -f "$header" ] || { echo "generate.sh: missing $header" >&2; exit 1; }

# Everything generated is listed here; hand-written files in the package are left alone.
hand_written="NativeLibrary.java package-info.java"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM HUP

# run_jextract DIR [OPTIONS...]: runs jextract with DIR as working folder (jextract reads extra
# clang flags from a compile_flags.txt there); output and messages go to $work.
run_jextract() {
  dir=$1; shift
  rm -rf "$work/out"
  (cd "$dir" && "$jextract" "$@" --include-dir "$root/native/include" "$header") > "$work/log" 2>&1
}

# Pass 1: list the header's symbols (--dump-includes).
#
# jextract ships clang's builtin headers (stdint.h, stddef.h ...) in its runtime's conf/jextract.
# When the libclang it runs on also finds its own resource folder (Debian's llvm packages), the
# builtin stdint.h is reached twice through #include_next, the second copy is skipped by its
# include guard, the C library's <stdint.h> is never read and int32_t comes out unknown.
# "-I /usr/include" does not help (clang ignores -I for a folder that already is a system include
# folder), so on that symptom we pass -nobuiltininc: the copies in conf/jextract stay (jextract
# adds them with -I) and their #include_next reaches the C library's headers.
mkdir "$work/plain" "$work/nobuiltin"
printf '%s\n' -nobuiltininc > "$work/nobuiltin/compile_flags.txt"
cwd="$work/plain"
if ! run_jextract "$cwd" --dump-includes "$work/dump.txt" || grep -q "error:" "$work/log"; then
  if grep -q "unknown type name 'u\{0,1\}int[0-9]*_t'" "$work/log"; then
    echo "generate.sh: fixed-width int types unresolved; using -nobuiltininc" >&2
    cwd="$work/nobuiltin"
    run_jextract "$cwd" --dump-includes "$work/dump.txt" || { cat "$work/log" >&2; exit 1; }
  else
    cat "$work/log" >&2; exit 1
  fi
fi
if grep -q "error:" "$work/log"; then cat "$work/log" >&2; exit 1; fi

# Keep only what mobilellm.h itself declares (not stdint.h/stddef.h/libc internals).
grep "# header: .*/mobilellm\.h[[:space:]]*$" "$work/dump.txt" | sed 's/[[:space:]]*#.*$//' > "$work/symbols.txt"
[ -s "$work/symbols.txt" ] || { echo "generate.sh: no symbols found in $header" >&2; exit 1; }

# Pass 2: generate.
run_jextract "$cwd" --output "$work/out" --target-package "$pkg" --header-class-name "$header_class" \
  "@$work/symbols.txt" || { cat "$work/log" >&2; exit 1; }
if grep -q "error:" "$work/log"; then cat "$work/log" >&2; exit 1; fi
cat "$work/log"

gen_dir="$work/out/$(printf '%s' "$pkg" | tr . /)"
[ -f "$gen_dir/$header_class.java" ] || { echo "generate.sh: jextract produced no $header_class.java" >&2; exit 1; }

# Sanity: the ABI constant must be there.
grep -q "MLLM_ABI_VERSION()" "$gen_dir/$header_class.java" || {
  echo "generate.sh: MLLM_ABI_VERSION is missing from the generated code" >&2; exit 1; }

# Post-processing of the header class (the only edits made to jextract output):
#  1. jextract's master branch targets JDK 25 and calls SymbolLookup.findOrThrow (JDK 23+); we
#     compile with --release 22, so symbol lookups go through findSymbol() below instead (same
#     behaviour, with an error that names the loaded library).
#  2. A static initializer that loads the library (NativeLibrary) before any downcall can run.
hc="$gen_dir/$header_class.java"
sed 's/SYMBOL_LOOKUP\.findOrThrow(/findSymbol(/g' "$hc" > "$work/hc1.java"
awk -v hook='
    // --- added by bindings/generate.sh (not jextract output) ---

    // Loads libmobilellm (NativeLibrary: property, env, or extracted resource; ABI checked)
    // before any downcall of this class or its nested function holders can run.
    static {
        NativeLibrary.load();
    }

    // Replaces SymbolLookup.findOrThrow (JDK 23+) so that this code compiles for release 22.
    static MemorySegment findSymbol(String name) {
        return SYMBOL_LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "unresolved symbol: " + name + " (library: " + NativeLibrary.loaded().map(l -> l.path().toString()).orElse("not loaded")
                + "; built from an older mobilellm.h?)"));
    }
' '{ lines[NR] = $0 } END {
  last = NR; while (last > 0 && lines[last] !~ /^}[[:space:]]*$/) last--
  if (last == 0) { print "no closing brace" > "/dev/stderr"; exit 1 }
  for (i = 1; i < last; i++) print lines[i]
  print hook
  for (i = last; i <= NR; i++) print lines[i]
}' "$work/hc1.java" > "$hc"
if grep -q "\.findOrThrow(" "$gen_dir"/*.java; then
  echo "generate.sh: findOrThrow still used somewhere; extend the post-processing" >&2; exit 1
fi

# The ABI version as a constant NativeLibrary can read without initialising the header class
# (whose static initializer is what calls NativeLibrary.load()).
abi=$(sed -n 's/^ *private static final int MLLM_ABI_VERSION = (int)\([0-9][0-9]*\)L;.*/\1/p' "$hc")
[ -n "$abi" ] || { echo "generate.sh: cannot read MLLM_ABI_VERSION from $hc" >&2; exit 1; }
cat > "$gen_dir/mobilellm_abi.java" <<JAVA
// Generated by bindings/generate.sh from the jextract output of native/include/mobilellm.h.

package $pkg;

/** MLLM_ABI_VERSION of the header the bindings were generated from (read by NativeLibrary). */
final class mobilellm_abi {
    static final int MLLM_ABI_VERSION = $abi;

    private mobilellm_abi() {
    }
}
JAVA

# Replace the previously generated files.
mkdir -p "$pkg_dir"
for f in "$pkg_dir"/*.java; do
  [ -e "$f" ] || continue
  name=$(basename "$f")
  case " $hand_written " in *" $name "*) continue ;; esac
  rm -f "$f"
done
cp "$gen_dir"/*.java "$pkg_dir/"
echo "generate.sh: wrote $(ls "$gen_dir" | wc -l | tr -d ' ') files into $pkg_dir"
