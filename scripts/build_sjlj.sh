#!/bin/sh
# Build examples/sjlj/calc.wasm: C setjmp/longjmp through the wasm exception
# instructions, with Debian's clang (14) and wasm-ld, no libc (examples/sjlj/rt.c).
# clang 14 emits the legacy encoding (try/catch/rethrow/delegate): its LLVM has no
# -wasm-use-legacy-eh=false (the try_table encoding came with LLVM 19). wasmtime runs only
# the try_table encoding, so binaryen's wasm-opt (117 or newer: --translate-to-exnref;
# Debian's is 108, `npm install binaryen` has a newer one: WASM_OPT=node_modules/.bin/wasm-opt)
# also writes examples/sjlj/calc.exnref.wasm, the same program with try_table and exnref.
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
OPT=${WASM_OPT:-wasm-opt}
if "$OPT" --help 2>/dev/null | grep -q -- --translate-to-exnref; then
  "$OPT" --enable-exception-handling --enable-reference-types --translate-to-exnref \
    "$src/calc.wasm" -o "$src/calc.exnref.wasm"
  echo "built $src/calc.exnref.wasm"
else
  echo "calc.exnref.wasm not rebuilt: $OPT has no --translate-to-exnref (binaryen 117+)" >&2
fi
