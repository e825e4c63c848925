#!/usr/bin/env bash
# Rebuild the WASI test programs from their C sources (needs clang, lld and wasi-libc;
# Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32). The .wasm files
# are committed, so the tests run without any of these. --strip-debug keeps the name
# section (for backtraces) and drops DWARF.
set -euo pipefail
cd "$(dirname "$0")"
for src in *.c; do
  clang --target=wasm32-wasi -O2 -Wl,--strip-debug -o "${src%.c}.wasm" "$src"
  echo "built tests/wasi/${src%.c}.wasm"
done
