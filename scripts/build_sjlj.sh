#!/bin/sh
# Build examples/sjlj/calc.wasm: C setjmp/longjmp through the wasm exception
# instructions, with Debian's clang (14) and wasm-ld, no libc (examples/sjlj/rt.c).
# clang 14 emits the legacy encoding (try/catch/rethrow/delegate): its LLVM has no
# -wasm-use-legacy-eh=false (the try_table encoding came with LLVM 19), so wasmtime, which
# runs only the try_table encoding, takes examples/sjlj/calc_tt.wat, the same program
# with try_table that scripts/sjlj_tt.py writes from calc.wasm.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/examples/sjlj"
CC=${CC:-clang}
LD=${WASM_LD:-wasm-ld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="--target=wasm32 -O2 -ffreestanding -fno-builtin -mexception-handling -mllvm -wasm-enable-sjlj"
$CC $flags -c "$src/calc.c" -o "$tmp/calc.o"
$CC $flags -c "$src/rt.c" -o "$tmp/rt.o"
$LD --no-entry --export=_start -o "$src/calc.wasm" "$tmp/calc.o" "$tmp/rt.o"
echo "built $src/calc.wasm"
