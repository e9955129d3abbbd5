#!/usr/bin/env bash
# ci/check-msl.sh BUILD_DIR - translates every compute shader embedded in the library built in
# BUILD_DIR (the SPIR-V in BUILD_DIR/vk_spirv, listed in vk_spirv/vk_shaders.c) to Metal Shading
# Language with SPIRV-Cross, as MoltenVK does on macOS, and fails on any that does not translate.
# Also fails on atomics that SPIRV-Cross placed in the thread or constant address space (its
# translation of atomics through buffer device addresses), which Metal rejects.
# The *_dot4 kernels (integer dot products) are left out: the library never creates them on a
# portability implementation such as MoltenVK (vk_device.c), where the byte-by-byte kernels run.
# Needs spirv-cross (Debian: apt-get install spirv-cross).
set -euo pipefail
build=${1:?usage: ci/check-msl.sh BUILD_DIR (a CMake build of native/ with the Vulkan backend)}
table="$build/vk_spirv/vk_shaders.c"
command -v spirv-cross >/dev/null || { echo "ERROR: spirv-cross not found (apt-get install spirv-cross)" >&2; exit 1; }
[[ -f "$table" ]] || { echo "ERROR: $table not found: $build has no Vulkan backend" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
names=$(grep -o '{"[a-z0-9_]*", spv_' "$table" | sed 's/^{"\([a-z0-9_]*\)".*/\1/' | grep -v '_dot4$')
n=0 failed=0
for name in $names; do
  n=$((n + 1))
  # MSL 3.0: Metal 3, which MoltenVK needs for buffer device addresses
  if ! spirv-cross --msl --msl-version 30000 "$build/vk_spirv/$name.spv" --output "$out/$name.metal" 2>"$out/$name.err"; then
    echo "FAIL $name: $(head -c 300 "$out/$name.err")"; failed=$((failed + 1)); continue
  fi
  if ! grep -q '^kernel void' "$out/$name.metal"; then
    echo "FAIL $name: no kernel function in the translation"; failed=$((failed + 1)); continue
  fi
  if grep -nE '(thread|constant) atomic_' "$out/$name.metal"; then
    echo "FAIL $name: atomics outside device memory"; failed=$((failed + 1)); continue
  fi
done
if (( n == 0 )); then echo "ERROR: no shaders listed in $table" >&2; exit 1; fi
if (( failed )); then echo "MSL: $failed of $n compute shaders do not translate" >&2; exit 1; fi
echo "MSL: all $n compute shaders translate to Metal Shading Language 3.0"
