/* f64 numerics with branches: escape-time Mandelbrot over a 16x12 tile per unit (at most
 * 48 iterations a pixel). The tile moves by a picometre a unit, so it cannot be hoisted. */
#include "bench.h"

#define W 16
#define H 12
#define LIMIT 48

EXPORT(run) uint32_t run(int n) {
    uint32_t acc = 0;
    for (int i = 0; i < n; i++) {
        double jitter = (double)(i & 1023) * 1e-12;
        uint32_t count = 0;
        for (int y = 0; y < H; y++) {
            double ci = -1.2 + y * (2.4 / H) + jitter;
            for (int x = 0; x < W; x++) {
                double cr = -2.1 + x * (2.8 / W) - jitter;
                double zr = 0.0, zi = 0.0, zr2 = 0.0, zi2 = 0.0;
                int k = 0;
                while (k < LIMIT && zr2 + zi2 <= 4.0) {
                    zi = 2.0 * zr * zi + ci;
                    zr = zr2 - zi2 + cr;
                    zr2 = zr * zr;
                    zi2 = zi * zi;
                    k++;
                }
                count += (uint32_t)k * (uint32_t)(x + 1);
            }
        }
        acc = acc * 31u + count;
    }
    return acc;
}
