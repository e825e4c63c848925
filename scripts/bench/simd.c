/* SIMD: 128-bit vectors (clang/GCC vector extensions, so the same source builds natively;
 * for wasm32 with -msimd128 every operation below is a v128 instruction): i32x4 multiply-
 * xorshift mixing, i8x16 add/compare/select, i16x8 multiplies, f32x4 multiply-add, shuffles.
 * wasm-flags: -msimd128 */
#include "bench.h"

typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef int8_t i8x16 __attribute__((vector_size(16)));
typedef int16_t i16x8 __attribute__((vector_size(16)));
typedef float f32x4 __attribute__((vector_size(16)));

#define ROWS 64 /* vectors per array: 1 KiB each */

static u32x4 ints[ROWS];
static f32x4 floats[ROWS];

EXPORT(run) uint32_t run(int n) {
    uint32_t state = 7777u;
    for (int k = 0; k < ROWS; k++) {
        u32x4 v;
        f32x4 f;
        for (int l = 0; l < 4; l++) v[l] = rnd(&state);
        for (int l = 0; l < 4; l++) f[l] = (float)(rnd(&state) >> 20);
        ints[k] = v;
        floats[k] = f * 0.001f;
    }

    uint32_t acc = 0;
    for (int i = 0; i < n; i++) {
        uint32_t s = (uint32_t)i;
        u32x4 h = { s, s ^ 0x5bd1e995u, s * 3u, s + 0x68e31da4u };
        u8x16 lo = (u8x16)h, hi = lo;
        i16x8 prod = (i16x8)h;
        f32x4 fsum = { 0.0f, 0.0f, 0.0f, 0.0f };
        const f32x4 decay = { 0.5f, 0.25f, 0.75f, 0.125f };
        for (int k = 0; k < ROWS; k++) {
            u32x4 v = ints[k];
            /* i32x4: multiply, xor and shifts */
            h = (h ^ v) * 0x9e3779b1u;
            h ^= h >> 13;
            h += h << 5;
            /* i8x16: wrapping adds, then lane-wise min and max by compare and select */
            u8x16 b = (u8x16)v + (u8x16)h;
            i8x16 below = (i8x16)(b < lo);
            lo = (b & (u8x16)below) | (lo & ~(u8x16)below);
            i8x16 above = (i8x16)(b > hi);
            hi = (b & (u8x16)above) | (hi & ~(u8x16)above);
            /* i16x8: wrapping multiply-accumulate */
            prod = prod * (i16x8)v + (i16x8)h;
            /* f32x4: a decaying multiply-add */
            fsum = fsum * decay + floats[k] * (f32x4){ 1.0f, 2.0f, 3.0f, 4.0f };
            /* lanes rotate each row */
            h = __builtin_shufflevector(h, h, 1, 2, 3, 0);
            /* write back so the data evolves from unit to unit */
            ints[k] = v + (u32x4)prod;
        }
        u32x4 fb = (u32x4)fsum;
        u32x4 mix = h ^ (u32x4)lo ^ ((u32x4)hi << 1) ^ (u32x4)prod ^ fb;
        acc = acc * 31u + mix[0] + (mix[1] ^ mix[2]) + mix[3];
    }
    return acc;
}
