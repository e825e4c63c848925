/* Integer loops: tight counted and data-dependent loops of arithmetic, shifts, compares,
 * remainders and 64-bit multiplies, with no memory traffic to speak of. */
#include "bench.h"

EXPORT(run) uint32_t run(int n) {
    uint32_t acc = 0, state = 2463534242u;
    for (int i = 0; i < n; i++) {
        /* Euclid's algorithm on two pseudo-random numbers: a loop of remainders. */
        uint32_t a = rnd(&state) | 1u, b = (rnd(&state) & 0xffffu) | 1u;
        while (b != 0) {
            uint32_t t = a % b;
            a = b;
            b = t;
        }
        acc += a;

        /* A counted loop of multiply, add, xor-shift and rotate. */
        uint32_t h = (uint32_t)i ^ acc;
        for (int j = 0; j < 100; j++) {
            h = h * 0x9e3779b1u + (uint32_t)j;
            h ^= h >> 15;
            h = rotl32(h, 7);
        }
        acc ^= h;

        /* Decimal digits of a 64-bit product: divisions by a constant. */
        uint64_t v = (uint64_t)h * (uint64_t)(acc | 1u);
        uint32_t digits = 0;
        while (v != 0) {
            digits += (uint32_t)(v % 10u);
            v /= 10u;
        }
        acc = acc * 33u + digits;

        /* Signed compares and selects: a clamped running value. */
        int32_t s = (int32_t)acc;
        for (int j = 0; j < 32; j++) {
            s = (s > 1000) ? s / 3 - j : s * 2 + j;
        }
        acc += (uint32_t)s;
    }
    return acc;
}
