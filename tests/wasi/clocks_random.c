// clocks_random: clocks and randomness, checked for plausibility (values differ on
// every run, so only the verdicts are printed).
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(clockid_t c) {
    struct timespec t;
    if (clock_gettime(c, &t) != 0) return -1;
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void verdict(const char *what, int ok) { printf("%s: %s\n", what, ok ? "yes" : "NO"); }

int main(void) {
    int64_t real = ns(CLOCK_REALTIME);
    verdict("realtime after 2020", real > INT64_C(1577836800) * 1000000000);
    verdict("realtime before 2200", real < INT64_C(7258118400) * 1000000000);
    time_t t = time(NULL);
    verdict("time() agrees with realtime", t >= real / 1000000000 - 1 && t <= real / 1000000000 + 5);

    struct timespec res;
    verdict("monotonic resolution in (0, 1s]", clock_getres(CLOCK_MONOTONIC, &res) == 0 &&
            (res.tv_sec > 0 || res.tv_nsec > 0) && res.tv_sec <= 1);
    verdict("realtime resolution in (0, 1s]", clock_getres(CLOCK_REALTIME, &res) == 0 &&
            (res.tv_sec > 0 || res.tv_nsec > 0) && res.tv_sec <= 1);

    int64_t m0 = ns(CLOCK_MONOTONIC), prev = m0, backwards = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t m = ns(CLOCK_MONOTONIC);
        if (m < prev) backwards++;
        prev = m;
    }
    verdict("monotonic never goes back", backwards == 0);

    struct timespec nap = {0, 20 * 1000000};
    m0 = ns(CLOCK_MONOTONIC);
    verdict("nanosleep returns 0", nanosleep(&nap, NULL) == 0);
    int64_t slept = ns(CLOCK_MONOTONIC) - m0;
    verdict("slept at least 20 ms", slept >= 20 * 1000000);
    verdict("slept less than 5 s", slept < INT64_C(5) * 1000000000);

    // An absolute deadline on the realtime clock: poll_oneoff with the abstime flag.
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 15 * 1000000;
    if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
    m0 = ns(CLOCK_MONOTONIC);
    verdict("clock_nanosleep abstime returns 0",
            clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL) == 0);
    verdict("woke at the deadline", ns(CLOCK_REALTIME) >= (int64_t)until.tv_sec * 1000000000 + until.tv_nsec - 1000000);
    verdict("usleep 5 ms", usleep(5000) == 0);

    unsigned char a[64], b[64], zero[64] = {0};
    verdict("getentropy", getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0);
    verdict("random bytes are not all zero", memcmp(a, zero, sizeof a) != 0);
    verdict("two draws differ", memcmp(a, b, sizeof a) != 0);
    int counts[2] = {0, 0};
    unsigned char big[4096];
    getentropy(big, 256);
    for (int i = 0; i < 256; i++) counts[big[i] & 1]++;
    verdict("bits look balanced", counts[0] > 64 && counts[1] > 64);
    verdict("getentropy of 0 bytes", getentropy(big, 0) == 0);
    return 0;
}
