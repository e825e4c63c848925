/* A tiny module the README runs: recursive Fibonacci and a prime sieve. */

__attribute__((export_name("fib"))) int fib(int n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static unsigned char sieve[1 << 16];

/* The number of primes below n (n at most 65536). */
__attribute__((export_name("count_primes"))) int count_primes(int n) {
    if (n > (int)sizeof sieve) n = sizeof sieve;
    int count = 0;
    for (int i = 0; i < n; i++) sieve[i] = 1;
    for (int i = 2; i < n; i++) {
        if (!sieve[i]) continue;
        count++;
        for (int j = 2 * i; j < n; j += i) sieve[j] = 0;
    }
    return count;
}
