/* Sorting: each unit fills a 256-element chunk with pseudo-random signed integers and
 * sorts it, by quicksort (median of three, insertion sort below 16) or by heapsort. */
#include "bench.h"

#define CHUNK 256

static int32_t items[CHUNK];

static void insertion(int32_t *a, int lo, int hi) {
    for (int i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap(int32_t *a, int i, int j) {
    int32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

/* Sorts a[lo..hi]; recurses on the smaller side so the depth stays logarithmic. */
static NOINLINE void quick(int32_t *a, int lo, int hi) {
    while (hi - lo > 16) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap(a, mid, lo);
        if (a[hi] < a[lo]) swap(a, hi, lo);
        if (a[hi] < a[mid]) swap(a, hi, mid);
        int32_t pivot = a[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) swap(a, i++, j--);
        }
        if (j - lo < hi - i) {
            quick(a, lo, j);
            lo = i;
        } else {
            quick(a, i, hi);
            hi = j;
        }
    }
    insertion(a, lo, hi);
}

static void sift_down(int32_t *a, int root, int end) {
    for (;;) {
        int child = 2 * root + 1;
        if (child >= end) return;
        if (child + 1 < end && a[child] < a[child + 1]) child++;
        if (a[root] >= a[child]) return;
        swap(a, root, child);
        root = child;
    }
}

static NOINLINE void heapsort(int32_t *a, int len) {
    for (int k = len / 2 - 1; k >= 0; k--) sift_down(a, k, len);
    for (int end = len - 1; end > 0; end--) {
        swap(a, 0, end);
        sift_down(a, 0, end);
    }
}

EXPORT(run) uint32_t run(int n) {
    uint32_t state = 314159265u, acc = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < CHUNK; k++) items[k] = (int32_t)rnd(&state) >> (i & 7);
        if (i & 1)
            heapsort(items, CHUNK);
        else
            quick(items, 0, CHUNK - 1);
        uint32_t disorder = 0;
        for (int k = 0; k + 1 < CHUNK; k++) disorder += items[k] > items[k + 1];
        acc = acc * 31u + (uint32_t)items[(i * 7) & (CHUNK - 1)] + disorder * 1000003u;
    }
    return acc;
}
