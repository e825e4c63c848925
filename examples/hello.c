// hello: a small WASI command. It greets each NAME given as an argument and, for each
// argument that looks like a path (it contains '/' or '.'), counts the lines and bytes
// of that file, which it can only open inside a directory the runtime preopened (--dir).
//
//   fayasm run examples/hello.wasm --dir examples -- Ada examples/hello.c
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int count(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("%s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    long lines = 0, bytes = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        bytes++;
        if (c == '\n') lines++;
    }
    fclose(f);
    printf("%s: %ld lines, %ld bytes\n", path, lines, bytes);
    return 0;
}

int main(int argc, char **argv) {
    int failures = 0, names = 0;
    printf("Hello from WebAssembly! (%s, %d argument%s)\n", argv[0], argc - 1,
           argc == 2 ? "" : "s");
    for (int i = 1; i < argc; i++) {
        if (strchr(argv[i], '/') || strchr(argv[i], '.')) {
            failures += count(argv[i]);
        } else {
            printf("Hello, %s!\n", argv[i]);
            names++;
        }
    }
    if (argc == 1) printf("Hello, world!\n");
    return failures ? 1 : 0;
}
