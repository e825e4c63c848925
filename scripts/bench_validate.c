/* A sample program for measuring the validator: assorted kernels (sorting, hashing,
 * matrix arithmetic, a small bytecode VM, text scanning) written as macros, so that
 * bench_validate.py can instantiate them many times over and build a large module. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFINE_KERNELS(S, T, K)                                                         \
static void sort_##S(T *a, int n) {                                                     \
    for (int gap = n / 2; gap > 0; gap /= 2)                                            \
        for (int i = gap; i < n; i++) {                                                 \
            T v = a[i];                                                                 \
            int j = i;                                                                  \
            while (j >= gap && a[j - gap] > v) { a[j] = a[j - gap]; j -= gap; }         \
            a[j] = v;                                                                   \
        }                                                                               \
}                                                                                       \
static void quick_##S(T *a, int lo, int hi) {                                           \
    while (lo < hi) {                                                                   \
        T p = a[(lo + hi) / 2];                                                         \
        int i = lo, j = hi;                                                             \
        while (i <= j) {                                                                \
            while (a[i] < p) i++;                                                       \
            while (a[j] > p) j--;                                                       \
            if (i <= j) { T t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }                \
        }                                                                               \
        if (j - lo < hi - i) { quick_##S(a, lo, j); lo = i; }                          \
        else { quick_##S(a, i, hi); hi = j; }                                           \
    }                                                                                   \
}                                                                                       \
static uint32_t hash_##S(const T *a, int n) {                                           \
    uint32_t h = 2166136261u ^ (uint32_t)(K);                                           \
    for (int i = 0; i < n; i++) {                                                       \
        const unsigned char *p = (const unsigned char *)&a[i];                          \
        for (unsigned k = 0; k < sizeof(T); k++) { h ^= p[k]; h *= 16777619u; }        \
    }                                                                                   \
    return h;                                                                           \
}                                                                                       \
static void matmul_##S(const T *x, const T *y, T *z, int n) {                           \
    for (int i = 0; i < n; i++)                                                         \
        for (int j = 0; j < n; j++) {                                                   \
            T acc = 0;                                                                  \
            for (int k = 0; k < n; k++) acc += x[i * n + k] * y[k * n + j];             \
            z[i * n + j] = acc + (T)(K);                                                \
        }                                                                               \
}                                                                                       \
static T dot_##S(const T *x, const T *y, int n) {                                       \
    T acc = 0;                                                                          \
    for (int i = 0; i < n; i++) acc += x[i] * y[i];                                     \
    return acc;                                                                         \
}                                                                                       \
static T poly_##S(T x) {                                                                \
    T r = (T)(K);                                                                       \
    for (int i = 1; i < 9; i++) r = r * x + (T)(i * (K) % 7);                           \
    return r;                                                                           \
}                                                                                       \
static int vm_##S(const unsigned char *code, int len, T *stack) {                       \
    int sp = 0, pc = 0, steps = 0;                                                      \
    while (pc < len && steps++ < 100000) {                                              \
        switch (code[pc++]) {                                                           \
        case 0: stack[sp++] = (T)code[pc++]; break;                                     \
        case 1: sp--; stack[sp - 1] = stack[sp - 1] + stack[sp]; break;                 \
        case 2: sp--; stack[sp - 1] = stack[sp - 1] - stack[sp]; break;                 \
        case 3: sp--; stack[sp - 1] = stack[sp - 1] * stack[sp]; break;                 \
        case 4: if (stack[--sp] != 0) pc = code[pc]; else pc++; break;                  \
        case 5: stack[sp] = stack[sp - 1]; sp++; break;                                 \
        case 6: { T t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; \
                  break; }                                                              \
        case 7: sp--; break;                                                            \
        case 8: pc = code[pc]; break;                                                   \
        case 9: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;                 \
        default: return -1;                                                             \
        }                                                                               \
        if (sp < 0 || sp > 250) return -2;                                              \
    }                                                                                   \
    return sp;                                                                          \
}                                                                                       \
static int scan_##S(const char *s, T *out, int max) {                                   \
    int n = 0;                                                                          \
    while (*s && n < max) {                                                             \
        while (*s == ' ' || *s == ',' || *s == '\n') s++;                               \
        if (!*s) break;                                                                 \
        int neg = 0;                                                                    \
        if (*s == '-') { neg = 1; s++; }                                                \
        T v = 0;                                                                        \
        while (*s >= '0' && *s <= '9') { v = v * 10 + (T)(*s - '0'); s++; }             \
        if (*s == '.') { s++; T f = 1; while (*s >= '0' && *s <= '9') {                 \
            f = f / 10; v = v + f * (T)(*s - '0'); s++; } }                             \
        out[n++] = neg ? -v : v;                                                        \
        if (*s && *s != ' ' && *s != ',' && *s != '\n') return -1;                      \
    }                                                                                   \
    return n;                                                                           \
}                                                                                       \
typedef struct { uint32_t key; T value; int used; } entry_##S;                          \
static int put_##S(entry_##S *tab, int cap, uint32_t key, T value) {                    \
    uint32_t h = (key * 2654435761u + (uint32_t)(K)) % (uint32_t)cap;                   \
    for (int probe = 0; probe < cap; probe++) {                                         \
        entry_##S *e = &tab[(h + probe) % cap];                                         \
        if (!e->used || e->key == key) {                                                \
            e->used = 1; e->key = key; e->value = value; return probe;                  \
        }                                                                               \
    }                                                                                   \
    return -1;                                                                          \
}                                                                                       \
static int get_##S(const entry_##S *tab, int cap, uint32_t key, T *value) {             \
    uint32_t h = (key * 2654435761u + (uint32_t)(K)) % (uint32_t)cap;                   \
    for (int probe = 0; probe < cap; probe++) {                                         \
        const entry_##S *e = &tab[(h + probe) % cap];                                   \
        if (!e->used) return 0;                                                         \
        if (e->key == key) { *value = e->value; return 1; }                             \
    }                                                                                   \
    return 0;                                                                           \
}                                                                                       \
__attribute__((noinline)) double run_##S(int n) {                                       \
    T *a = malloc(sizeof(T) * (size_t)n * 3 + 64);                                      \
    T *b = a + n, *c = b + n;                                                           \
    for (int i = 0; i < n; i++) { a[i] = (T)((i * (K) + 7) % 101); b[i] = (T)(n - i); } \
    sort_##S(a, n); quick_##S(b, 0, n - 1);                                             \
    int m = 1; while ((m + 1) * (m + 1) <= n) m++;                                      \
    matmul_##S(a, b, c, m);                                                             \
    static const unsigned char prog[] = {0, 5, 0, 1, 5, 3, 6, 0, 1, 2, 5, 4, 2, 7};     \
    T vmstack[256];                                                                     \
    int sp = vm_##S(prog, (int)sizeof prog, vmstack);                                   \
    T parsed[16];                                                                       \
    int np = scan_##S("1, 22, -3.5, 40\n5", parsed, 16);                                \
    entry_##S tab[61];                                                                  \
    memset(tab, 0, sizeof tab);                                                         \
    for (int i = 0; i < 40; i++) put_##S(tab, 61, (uint32_t)(i * 7), a[i % n]);         \
    T got = 0; get_##S(tab, 61, 21, &got);                                              \
    double r = (double)dot_##S(a, c, n) + (double)poly_##S((T)2) + sp + np            \
               + (double)got + hash_##S(a, n) % 1000;                                   \
    free(a);                                                                            \
    return r;                                                                           \
}

#ifndef SAMPLE_NO_MAIN
DEFINE_KERNELS(i32, int32_t, 3)
DEFINE_KERNELS(i64, int64_t, 5)
DEFINE_KERNELS(f32, float, 7)
DEFINE_KERNELS(f64, double, 11)

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    printf("%f %f %f %f\n", run_i32(n), run_i64(n), run_f32(n), run_f64(n));
    return 0;
}
#endif
