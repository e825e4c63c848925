// exit_code: ends the way argv[1] says ("return N", "exit N", "exit-unflushed N"),
// after writing to stdout, so the test sees both the code and that output is not lost.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: exit_code return|exit|_exit N\n"); return 2; }
    int code = atoi(argv[2]);
    printf("about to %s %d\n", argv[1], code);   // buffered: exit() must flush it
    if (strcmp(argv[1], "exit") == 0) exit(code);
    if (strcmp(argv[1], "_exit") == 0) {
        fflush(stdout);
        write(1, "raw write\n", 10);
        _exit(code);                              // proc_exit with no libc cleanup
    }
    return code;
}
