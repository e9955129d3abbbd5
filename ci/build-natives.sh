#!/usr/bin/env bash
# ci/build-natives.sh - builds libmobilellm for every platform mobilellm4j ships, on one x86-64
# Linux machine, tests each build that can run here, checks the results, and leaves the five
# libraries in native/build-natives/PLATFORM/ for the release build (./mvnw -Prelease ...), which
# puts each into its platform jar (io.github.mobilellm4j:mobilellm4j-native:VERSION:PLATFORM).
#
#   platform        compiler                       tests here
#   linux-x86_64    zig cc, glibc 2.28 target      ctest (natively)
#   linux-aarch64   zig cc, glibc 2.28 target      ctest under qemu-aarch64, -cpu max and cortex-a53
#   windows-x86_64  MinGW-w64 GCC (Debian)         ctest under Wine (test_vulkan excluded: Wine's
#                                                  Vulkan needs a display)
#   macos-aarch64   zig cc, macOS 11               none: built, not run (no Mac here)
#   macos-x86_64    zig cc, macOS 11               none: built, not run
#
# Checks: the Linux libraries need glibc 2.28 or older (objdump -T: no GLIBC_2.29+ symbol version)
# and export the C API only; the Windows DLL imports system DLLs only; the macOS libraries are
# Mach-O for their CPU; every compute shader translates to Metal Shading Language (ci/check-msl.sh).
#
# Usage: ci/build-natives.sh [--only PLATFORM]... [--no-tests]
# Needs (Debian 12; .ci/run installs them): cmake, ninja (optional), glslc, libvulkan-dev,
#   gcc-mingw-w64-x86-64-win32, wine64, libc6-dev-arm64-cross, qemu-user, spirv-cross, binutils,
#   and Zig 0.11 (ci/install-zig.sh puts it in .tools/; or MLLM_ZIG=/path/to/zig).
# Environment: MLLM_JOBS=N (default 2); MLLM_ZIG; MLLM_NATIVES_DIR (default native/build-natives).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
jobs=${MLLM_JOBS:-2}
out=${MLLM_NATIVES_DIR:-$root/native/build-natives}
work="$out/work"
all=(linux-x86_64 linux-aarch64 windows-x86_64 macos-aarch64 macos-x86_64)
only=() tests=1
while (( $# )); do
  case "$1" in
    --only) only+=("${2:?--only needs a platform: ${all[*]}}"); shift 2 ;;
    --no-tests) tests=0; shift ;;
    *) echo "usage: ci/build-natives.sh [--only PLATFORM]... [--no-tests]" >&2; exit 2 ;;
  esac
done
(( ${#only[@]} )) || only=("${all[@]}")
started=$(date +%s)
step() { printf '\n==== natives: %s ====\n' "$*"; }
fail() { echo "ERROR: $*" >&2; exit 1; }

zig=${MLLM_ZIG:-}
[[ -n "$zig" ]] || zig=$(command -v zig || true)
[[ -n "$zig" ]] || zig="$root/.tools/zig-0.11.0/zig"
[[ -x "$zig" ]] || fail "zig not found: run ci/install-zig.sh (or set MLLM_ZIG)"
for tool in cmake glslc objdump; do
  command -v "$tool" >/dev/null || fail "$tool not found (see the header of ci/build-natives.sh)"
done
[[ -f /usr/include/vulkan/vulkan_core.h ]] || fail "Vulkan headers not found (apt-get install libvulkan-dev)"
export ZIG_GLOBAL_CACHE_DIR="$work/zig-cache"

# The Vulkan headers alone: cross compilers must not see the rest of this machine's /usr/include.
mkdir -p "$work/vulkan-include"
ln -sfn /usr/include/vulkan "$work/vulkan-include/vulkan"
ln -sfn /usr/include/vk_video "$work/vulkan-include/vk_video"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

lib_name() { case "$1" in windows-*) echo mobilellm.dll ;; macos-*) echo libmobilellm.dylib ;; *) echo libmobilellm.so ;; esac; }

# configure + build PLATFORM in work/PLATFORM with the given toolchain arguments; TESTS=ON|OFF
build() {
  local p=$1 t=$2; shift 2
  local b="$work/$p" t0
  t0=$(date +%s)
  cmake -S native -B "$b" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DMLLM_TESTS="$t" -DMLLM_SANITIZE=OFF \
    -DVulkan_INCLUDE_DIR="$work/vulkan-include" -DCMAKE_SHARED_LINKER_FLAGS=-s "$@" >"$b.configure.log" 2>&1 \
    || { cat "$b.configure.log"; fail "$p: cmake configure failed"; }
  grep -q 'Vulkan backend enabled' "$b.configure.log" || fail "$p: configured without the Vulkan backend (glslc missing?)"
  if [[ "$t" == ON ]]; then cmake --build "$b" --parallel "$jobs"; else cmake --build "$b" --parallel "$jobs" --target mobilellm; fi
  mkdir -p "$out/$p"
  cp "$b/$(lib_name "$p")" "$out/$p/"
  echo "$p: built $(lib_name "$p") ($(stat -c %s "$out/$p/$(lib_name "$p")") bytes) in $(( $(date +%s) - t0 ))s"
}

zig_args() { echo "-DCMAKE_TOOLCHAIN_FILE=$root/native/cmake/zig.cmake -DMLLM_ZIG_TARGET=$1 -DMLLM_ZIG=$zig"; }
on_off() { (( tests )) && echo ON || echo OFF; }

for p in "${only[@]}"; do
  case "$p" in
    linux-x86_64)
      step "linux-x86_64 (zig cc, glibc 2.28)"
      # shellcheck disable=SC2046
      build "$p" "$(on_off)" $(zig_args x86_64-linux-gnu.2.28)
      if (( tests )); then
        t0=$(date +%s)
        ctest --test-dir "$work/$p" --output-on-failure --parallel "$jobs"
        echo "linux-x86_64: ctest passed in $(( $(date +%s) - t0 ))s"
      fi
      ;;
    linux-aarch64)
      step "linux-aarch64 (zig cc, glibc 2.28)"
      if (( tests )); then
        # ci/test-aarch64.sh builds and runs ctest under qemu for both CPU models; test_vulkan needs
        # a Vulkan driver for aarch64, which the emulated machine does not have.
        # shellcheck disable=SC2046
        MLLM_AARCH64_BUILD="$work/$p" MLLM_TEST_EXCLUDE='^test_vulkan' \
          MLLM_AARCH64_CMAKE_ARGS="$(zig_args aarch64-linux-gnu.2.28) -DVulkan_INCLUDE_DIR=$work/vulkan-include -DCMAKE_SHARED_LINKER_FLAGS=-s" \
          ci/test-aarch64.sh
        mkdir -p "$out/$p" && cp "$work/$p/libmobilellm.so" "$out/$p/"
      else
        # shellcheck disable=SC2046
        build "$p" OFF $(zig_args aarch64-linux-gnu.2.28)
      fi
      ;;
    windows-x86_64)
      step "windows-x86_64 (MinGW-w64)"
      build "$p" "$(on_off)" -DCMAKE_TOOLCHAIN_FILE="$root/native/cmake/x86_64-w64-mingw32.cmake"
      if (( tests )); then
        t0=$(date +%s)
        export WINEPREFIX="$work/wine" WINEDEBUG=-all
        # Wine's first start creates the prefix and starts its server; parallel first starts race for
        # that (one fails with "chdir to /tmp/wine-..."), so one start comes first.
        wine=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
        "$wine" wineboot --init >/dev/null 2>&1 || fail "$p: Wine does not start ($wine wineboot --init)"
        ctest --test-dir "$work/$p" --output-on-failure --parallel "$jobs" -E '^test_vulkan'
        echo "windows-x86_64: ctest under Wine passed in $(( $(date +%s) - t0 ))s"
      fi
      ;;
    macos-aarch64|macos-x86_64)
      step "$p (zig cc, macOS 11; built, not run)"
      arch=${p#macos-}
      # shellcheck disable=SC2046
      build "$p" OFF $(zig_args "$arch-macos.11.0")
      ;;
    *) fail "unknown platform $p (known: ${all[*]})" ;;
  esac
done

step "checks"
for p in "${only[@]}"; do
  f="$out/$p/$(lib_name "$p")"
  case "$p" in
    linux-*)
      newest=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
      [[ -n "$newest" ]] || fail "$p: no GLIBC symbol versions found in $f"
      if [[ "$(printf '%s\n2.28\n' "$newest" | sort -V | tail -1)" != 2.28 ]]; then
        objdump -T "$f" | grep -E 'GLIBC_2\.(29|[3-9][0-9])' >&2 || true
        fail "$p: needs glibc $newest, above the 2.28 floor"
      fi
      other=$(objdump -T "$f" | awk '$2 == "g" && $4 != "*UND*" {print $NF}' | grep -v '^mllm_' || true)
      [[ -z "$other" ]] || fail "$p: exports symbols besides the C API: $other"
      echo "$p: newest glibc symbol version $newest (floor 2.28), exports mllm_* only"
      ;;
    windows-*)
      dlls=$(x86_64-w64-mingw32-objdump -p "$f" | sed -n 's/^\s*DLL Name: //p' | tr '\n' ' ')
      for d in $dlls; do
        case "${d,,}" in kernel32.dll|msvcrt.dll|api-ms-win-*) ;; *) fail "$p: imports $d, which Windows does not ship" ;; esac
      done
      echo "$p: imports $dlls"
      ;;
    macos-*)
      # Mach-O 64-bit magic, then the CPU type: 0x0100000c arm64, 0x01000007 x86_64
      want=$([[ $p == macos-aarch64 ]] && echo 0100000c || echo 01000007)
      head=$(od -An -tx4 -N8 "$f" | tr -s ' ')
      [[ "$head" == " feedfacf $want" ]] || fail "$p: $f is not a 64-bit Mach-O library for $p ($head)"
      echo "$p: Mach-O dynamic library for ${p#macos-}"
      ;;
  esac
done
for p in "${only[@]}"; do
  case "$p" in macos-*) ci/check-msl.sh "$work/$p"; break ;; esac
done

step "done in $(( $(date +%s) - started ))s: $(cd "$out" && ls -d "${only[@]}" | tr '\n' ' ')-> $out"
