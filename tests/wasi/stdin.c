// stdin: reads all of stdin with small read(2) calls, then reports what arrived
// (bytes, lines, a checksum) and echoes the first line in upper case.
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    static unsigned char data[1 << 16];
    size_t total = 0;
    int reads = 0;
    for (;;) {
        ssize_t n = read(0, data + total, total + 7 <= sizeof data ? 7 : sizeof data - total);
        if (n < 0) { perror("read"); return 1; }
        if (n == 0) break;
        total += n;
        reads++;
    }
    unsigned sum = 0, lines = 0;
    for (size_t i = 0; i < total; i++) {
        sum = sum * 31 + data[i];
        if (data[i] == '\n') lines++;
    }
    printf("bytes %zu lines %u checksum %08x more-than-one-read %d\n", total, lines, sum, reads > 1);
    printf("first line: ");
    for (size_t i = 0; i < total && data[i] != '\n'; i++) putchar(toupper(data[i]));
    printf("\n");
    printf("read after eof: %zd\n", read(0, data, 10));
    return 0;
}
