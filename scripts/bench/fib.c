/* Recursion and calls: one Fibonacci-shaped call tree (depth 15, 1973 calls) per unit.
 * The leaves carry a salt that changes per unit, so no compiler can hoist or memoise it. */
#include "bench.h"

static NOINLINE uint32_t tree(int depth, uint32_t salt) {
    if (depth < 2) return (uint32_t)depth + salt;
    return tree(depth - 1, salt) + tree(depth - 2, salt * 3u + 1u);
}

/* A second, shallower shape: mutual recursion through two functions with more arguments. */
static NOINLINE uint32_t ping(int depth, uint32_t a, uint32_t b, uint32_t c);
static NOINLINE uint32_t pong(int depth, uint32_t a, uint32_t b, uint32_t c) {
    if (depth == 0) return a ^ b ^ c;
    return ping(depth - 1, b + 1u, c, a) * 5u + c;
}
static NOINLINE uint32_t ping(int depth, uint32_t a, uint32_t b, uint32_t c) {
    if (depth == 0) return a + b + c;
    return pong(depth - 1, c, a ^ 7u, b) + a;
}

EXPORT(run) uint32_t run(int n) {
    uint32_t sum = 0;
    for (int i = 0; i < n; i++) {
        sum = sum * 31u + tree(15, (uint32_t)i & 7u);
        sum ^= ping(64, (uint32_t)i, sum, 12345u);
    }
    return sum;
}
