/* Shared by the benchmark programs: the export macro, fixed-width types and a PRNG.
 * Every program exports run(n): work linear in n, a checksum that depends only on n. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

#if defined(__wasm__)
#define EXPORT(name) __attribute__((export_name(#name)))
#else
#define EXPORT(name) __attribute__((visibility("default")))
#endif
#define NOINLINE __attribute__((noinline))

/* Marsaglia's xorshift32: cheap, deterministic, never returns 0 for a non-zero state. */
static inline uint32_t rnd(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Two draws as one 64-bit value, high half first (statements fix the order of the calls). */
static inline uint64_t rnd64(uint32_t *state) {
    uint64_t high = rnd(state);
    return high << 32 | rnd(state);
}

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

#endif
