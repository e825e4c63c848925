#!/usr/bin/env bash
# Rebuild the example modules from their C sources (needs clang and lld; Debian:
# apt-get install clang lld). The .wasm files are committed, so nobody needs this to run them.
set -euo pipefail
cd "$(dirname "$0")/../examples"
# -mbulk-memory lets the sieve's fill loop become memory.fill instead of a call to memset,
# which a module without libc could not link.
clang --target=wasm32 -O2 -mbulk-memory -nostdlib -Wl,--no-entry -o fib.wasm fib.c
echo "built examples/fib.wasm"
# A WASI command (needs wasi-libc too; Debian: apt-get install wasi-libc libclang-rt-dev-wasm32).
clang --target=wasm32-wasi -O2 -Wl,--strip-debug -o hello.wasm hello.c
echo "built examples/hello.wasm"
# A WASI reactor (a library: exports, no main; _initialize runs its constructors).
clang --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--strip-debug -o greet.wasm greet.c
echo "built examples/greet.wasm"
