/* f64 numerics: a softened gravitational N-body simulation (8 bodies), one time step per
 * unit; pairwise forces with a square root and a division, then a position update. */
#include "bench.h"

#define BODIES 8

static double px[BODIES], py[BODIES], pz[BODIES];
static double vx[BODIES], vy[BODIES], vz[BODIES];
static double mass[BODIES];

/* A pseudo-random double in [0, 1). */
static double uniform(uint32_t *state) { return (double)(rnd(state) >> 8) * (1.0 / 16777216.0); }

static uint64_t bits(double d) {
    union { double d; uint64_t u; } pun = { d };
    return pun.u;
}

static double energy(double soft) {
    double e = 0.0;
    for (int a = 0; a < BODIES; a++) {
        e += 0.5 * mass[a] * (vx[a] * vx[a] + vy[a] * vy[a] + vz[a] * vz[a]);
        for (int b = a + 1; b < BODIES; b++) {
            double dx = px[a] - px[b], dy = py[a] - py[b], dz = pz[a] - pz[b];
            e -= mass[a] * mass[b] / __builtin_sqrt(dx * dx + dy * dy + dz * dz + soft);
        }
    }
    return e;
}

EXPORT(run) uint64_t run(int n) {
    const double dt = 0.001, soft = 0.01;
    uint32_t state = 4021u;
    for (int a = 0; a < BODIES; a++) {
        px[a] = uniform(&state) * 10.0 - 5.0;
        py[a] = uniform(&state) * 10.0 - 5.0;
        pz[a] = uniform(&state) * 2.0 - 1.0;
        vx[a] = uniform(&state) - 0.5;
        vy[a] = uniform(&state) - 0.5;
        vz[a] = (uniform(&state) - 0.5) * 0.1;
        mass[a] = 0.5 + uniform(&state);
    }
    for (int i = 0; i < n; i++) {
        for (int a = 0; a < BODIES; a++) {
            for (int b = a + 1; b < BODIES; b++) {
                double dx = px[a] - px[b], dy = py[a] - py[b], dz = pz[a] - pz[b];
                double d2 = dx * dx + dy * dy + dz * dz + soft;
                double scale = dt / (d2 * __builtin_sqrt(d2));
                double fa = mass[b] * scale, fb = mass[a] * scale;
                vx[a] -= dx * fa; vy[a] -= dy * fa; vz[a] -= dz * fa;
                vx[b] += dx * fb; vy[b] += dy * fb; vz[b] += dz * fb;
            }
        }
        for (int a = 0; a < BODIES; a++) {
            px[a] += dt * vx[a];
            py[a] += dt * vy[a];
            pz[a] += dt * vz[a];
        }
    }
    uint64_t sum = bits(energy(soft));
    for (int a = 0; a < BODIES; a++)
        sum = rotl64(sum, 11) ^ bits(px[a]) ^ (bits(vy[a]) >> 3) ^ (bits(pz[a]) << 1);
    return sum;
}
