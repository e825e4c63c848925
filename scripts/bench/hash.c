/* Hashing over generated data: byte-wise FNV-1a (32-bit multiplies), a 32-bit word hash
 * and a 64-bit multiply-rotate hash, each over a 512-byte window that moves per unit. */
#include "bench.h"

#define BUF 2048
#define WINDOW 512

static uint64_t data[BUF / 8]; /* read as bytes, 32-bit and 64-bit words */

static uint32_t fnv1a(const uint8_t *p, int len, uint32_t seed) {
    uint32_t h = 2166136261u ^ seed;
    for (int k = 0; k < len; k++) {
        h ^= p[k];
        h *= 16777619u;
    }
    return h;
}

static uint32_t words32(const uint32_t *p, int len, uint32_t seed) {
    uint32_t h = seed ^ 0x27d4eb2fu;
    for (int k = 0; k < len; k++) {
        uint32_t w = p[k] * 0xcc9e2d51u;
        h ^= rotl32(w, 15) * 0x1b873593u;
        h = rotl32(h, 13) * 5u + 0xe6546b64u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    return h ^ (h >> 13);
}

static uint64_t words64(const uint64_t *p, int len, uint64_t seed) {
    uint64_t h = seed + 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < len; k++) {
        h ^= rotl64(p[k] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
        h = rotl64(h, 27) * 5u + 0x52dce729u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

EXPORT(run) uint64_t run(int n) {
    uint32_t state = 1597334677u;
    for (int k = 0; k < BUF / 8; k++) data[k] = rnd64(&state);
    const uint8_t *bytes = (const uint8_t *)data;
    const uint32_t *w32 = (const uint32_t *)data;

    uint64_t acc = 0;
    for (int i = 0; i < n; i++) {
        uint32_t off = ((uint32_t)i * 61u) & (BUF - WINDOW - 1);
        uint32_t a = fnv1a(bytes + off, WINDOW, (uint32_t)i);
        uint32_t b = words32(w32 + (off >> 2), WINDOW / 4, a);
        uint64_t c = words64(data + (off >> 3), WINDOW / 8, (uint64_t)b << 32 | a);
        acc = rotl64(acc, 5) ^ c;
    }
    return acc;
}
