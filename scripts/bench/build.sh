#!/usr/bin/env bash
# Build the benchmark programs (every scripts/bench/*.c that includes bench.h) to
# freestanding wasm32 modules with no imports, check them, then record the expected
# checksums (computed natively) that tests/test_bench.py compares against.
# Needs clang and lld (Debian: apt-get install clang lld); the .wasm files are committed,
# so running the benchmarks does not. A line "wasm-flags: ..." in a source adds flags.
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
# -fno-builtin keeps clang from turning loops into memset/memcpy calls (there is no libc
# to link); bench.py builds the native versions with the same flags, so both run one program.
COMMON="-O2 -fno-builtin -fno-strict-aliasing -fno-math-errno"
for src in $(grep -l '^#include "bench.h"' ./*.c | sort); do
    name=$(basename "$src" .c)
    extra=$(sed -n 's/.*wasm-flags: *\([^*]*\).*/\1/p' "$src" | head -1)
    # shellcheck disable=SC2086
    "$CLANG" --target=wasm32 $COMMON $extra -ffreestanding -nostdlib \
        -Wl,--no-entry -Wl,-z,stack-size=65536 -o "$name.wasm" "$src"
    if command -v wasm-objdump >/dev/null; then
        if wasm-objdump -x -j Import "$name.wasm" 2>/dev/null | grep -q ' <- '; then
            echo "$name.wasm has imports; benchmark modules must have none" >&2; exit 1
        fi
        v128=$(wasm-objdump -d "$name.wasm" | grep -cE 'v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2' || true)
        if [[ -n "$extra" && "$extra" == *simd128* && "$v128" -eq 0 ]]; then
            echo "$name.wasm was built for SIMD but has no v128 instructions" >&2; exit 1
        fi
        echo "built $name.wasm ($(stat -c %s "$name.wasm") bytes, $v128 SIMD instructions)"
    else
        echo "built $name.wasm (wasm-objdump not found: imports and SIMD not checked)"
    fi
done
cd ../..
python3 scripts/bench.py --write-expected
