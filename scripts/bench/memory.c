/* Byte and word memory traffic: 8-, 16-, 32- and 64-bit loads and stores over a few KiB of
 * linear memory: a byte transform, a byte histogram, a 16-bit sum and a word-wise stencil. */
#include "bench.h"

#define SIZE 4096
#define BLOCK 1024

static uint8_t src[SIZE];
static uint16_t dst16[BLOCK / 2]; /* bytes written as uint8_t, read back as halves */
static uint32_t hist[256];
static uint32_t words[BLOCK];
static uint64_t wide[BLOCK / 4];

EXPORT(run) uint32_t run(int n) {
    uint32_t state = 88172645u;
    for (int k = 0; k < SIZE; k++) src[k] = (uint8_t)rnd(&state);
    for (int k = 0; k < BLOCK; k++) words[k] = rnd(&state);
    for (int k = 0; k < BLOCK / 4; k++) wide[k] = rnd64(&state);

    uint8_t *dst = (uint8_t *)dst16;
    uint32_t acc = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *in = src + (((uint32_t)i * 97u) & (SIZE - BLOCK - 1));
        uint8_t key = (uint8_t)(i * 13 + 1);

        /* Byte loads and byte stores. */
        for (int k = 0; k < BLOCK; k++) dst[k] = (uint8_t)(in[k] ^ key) + (uint8_t)k;

        /* A histogram: byte loads feeding 32-bit read-modify-writes. */
        for (int k = 0; k < 256; k++) hist[k] = 0;
        for (int k = 0; k < BLOCK; k++) hist[dst[k]]++;
        uint32_t h = 0;
        for (int k = 0; k < 256; k++) h = h * 3u + hist[k];

        /* 16-bit loads, as unsigned and as signed halves. */
        const uint16_t *halves = dst16;
        const int16_t *shalves = (const int16_t *)dst16;
        int32_t s16 = 0;
        for (int k = 0; k < BLOCK / 2; k++) s16 += (int32_t)halves[k] - shalves[(k + 97) & (BLOCK / 2 - 1)];

        /* 32-bit words: a stencil that reads neighbours and writes back in place. */
        for (int k = 1; k < BLOCK - 1; k++) words[k] = words[k - 1] + (words[k + 1] ^ (uint32_t)dst[k]);

        /* 64-bit words: rotate and mix. */
        uint64_t w = (uint64_t)i;
        for (int k = 0; k < BLOCK / 4; k++) {
            wide[k] = rotl64(wide[k] + w, 9);
            w ^= wide[k];
        }
        acc = acc * 31u + h + (uint32_t)s16 + words[BLOCK - 2] + (uint32_t)(w >> 17);
    }
    return acc;
}
