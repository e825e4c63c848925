// args_env: prints its arguments and environment exactly as received, then exercises
// getenv/setenv/unsetenv (which work on wasi-libc's own copy).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc %d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d] (%zu bytes) = [%s]\n", i, strlen(argv[i]), argv[i]);
    int n = 0;
    for (char **e = environ; *e; e++, n++)
        printf("env[%d] = [%s]\n", n, *e);
    printf("env count %d\n", n);
    const char *home = getenv("HOME");
    printf("HOME %s\n", home ? home : "(unset)");
    const char *greeting = getenv("GREETING");
    printf("GREETING %s\n", greeting ? greeting : "(unset)");
    setenv("ADDED", "yes", 1);
    printf("ADDED %s\n", getenv("ADDED"));
    unsetenv("GREETING");
    printf("GREETING after unsetenv %s\n", getenv("GREETING") ? "set" : "(unset)");
    return 0;
}
