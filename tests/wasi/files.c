// files: files and directories through wasi-libc, below the directory argv[1]
// (preopened by the test). Prints every result, never inode numbers or times, so that
// every runtime must print the same thing.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static char path_buf[4][512];
static const char *base;

static const char *P(int slot, const char *rel) {
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", base, rel);
    return path_buf[slot];
}

static void report(const char *what, int r) {
    if (r < 0)
        printf("%s: error %d (%s)\n", what, errno, strerror(errno));
    else
        printf("%s: ok\n", what);
}

static void show_file(const char *what, const char *path) {
    char buf[128];
    int fd = open(path, O_RDONLY);
    if (fd < 0) { report(what, fd); return; }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    printf("%s: %zd bytes \"%s\"\n", what, n, buf);
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *what, const char *path) {
    DIR *d = opendir(path);
    if (!d) { report(what, -1); return; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char kind = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f'
                  : e->d_type == DT_LNK ? 'l' : '?';
        char *s = malloc(strlen(e->d_name) + 3);
        sprintf(s, "%s:%c", e->d_name, kind);
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    printf("%s:", what);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: files DIR\n"); return 2; }
    base = argv[1];
    struct stat st;
    char buf[64];

    report("mkdir d", mkdir(P(0, "d"), 0755));
    report("mkdir d again", mkdir(P(0, "d"), 0755));

    // create, write, seek, read, tell
    int fd = open(P(0, "d/a.txt"), O_CREAT | O_RDWR | O_TRUNC, 0644);
    report("create d/a.txt", fd);
    printf("write: %zd\n", write(fd, "hello world\n", 12));
    printf("seek set 6: %lld\n", (long long)lseek(fd, 6, SEEK_SET));
    ssize_t n = read(fd, buf, 5);
    buf[n] = 0;
    printf("read 5: %zd \"%s\"\n", n, buf);
    printf("tell: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("seek end -1: %lld\n", (long long)lseek(fd, -1, SEEK_END));
    printf("seek cur +1: %lld\n", (long long)lseek(fd, 1, SEEK_CUR));
    printf("read at eof: %zd\n", read(fd, buf, 5));
    printf("seek before start: %lld errno %d\n", (long long)lseek(fd, -100, SEEK_SET), errno);
    printf("pwrite at 0: %zd\n", pwrite(fd, "J", 1, 0));
    n = pread(fd, buf, 5, 0);
    buf[n] = 0;
    printf("pread 5 at 0: %zd \"%s\"\n", n, buf);
    fstat(fd, &st);
    printf("fstat: size %lld regular %d nlink %d\n", (long long)st.st_size, S_ISREG(st.st_mode),
           (int)st.st_nlink);
    report("ftruncate 5", ftruncate(fd, 5));
    fstat(fd, &st);
    printf("size after truncate: %lld\n", (long long)st.st_size);
    report("close", close(fd));
    report("close again", close(fd));

    // append mode
    fd = open(P(0, "d/a.txt"), O_WRONLY | O_APPEND);
    report("open append", fd);
    lseek(fd, 0, SEEK_SET);
    printf("append write: %zd\n", write(fd, "!!", 2));
    close(fd);
    show_file("after append", P(0, "d/a.txt"));

    // stdio on top
    FILE *f = fopen(P(0, "d/lines.txt"), "w");
    for (int i = 1; i <= 5; i++) fprintf(f, "line %d of %d\n", i, 5);
    fclose(f);
    f = fopen(P(0, "d/lines.txt"), "r");
    int lines = 0;
    char line[64];
    while (fgets(line, sizeof line, f)) lines++;
    printf("fgets lines: %d, last \"%.*s\"\n", lines, (int)strlen(line) - 1, line);
    fseek(f, 7, SEEK_SET);
    printf("fseek/ftell: %ld, next char '%c'\n", ftell(f), fgetc(f));
    fclose(f);

    // stat, rename, access
    report("stat d", stat(P(0, "d"), &st));
    printf("d is dir: %d\n", S_ISDIR(st.st_mode));
    report("rename a.txt b.txt", rename(P(0, "d/a.txt"), P(1, "d/b.txt")));
    report("stat old name", stat(P(0, "d/a.txt"), &st));
    report("stat new name", stat(P(0, "d/b.txt"), &st));
    printf("new name size: %lld\n", (long long)st.st_size);
    report("access b.txt R_OK", access(P(0, "d/b.txt"), R_OK));

    // directories
    report("mkdir d/sub", mkdir(P(0, "d/sub"), 0755));
    fd = open(P(0, "d/sub/x"), O_CREAT | O_WRONLY, 0644);
    write(fd, "x-data", 6);
    close(fd);
    report("rmdir non-empty", rmdir(P(0, "d/sub")));
    report("rmdir a file", rmdir(P(0, "d/b.txt")));
    report("unlink a directory", unlink(P(0, "d/sub")));
    report("open dir for writing", open(P(0, "d/sub"), O_WRONLY));
    report("open file as dir", open(P(0, "d/b.txt"), O_RDONLY | O_DIRECTORY));
    report("path through a file", open(P(0, "d/b.txt/x"), O_RDONLY));
    report("open missing", open(P(0, "d/missing"), O_RDONLY));
    report("create excl existing", open(P(0, "d/b.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));

    // symlinks and hard links
    report("symlink", symlink("b.txt", P(0, "d/link")));
    ssize_t len = readlink(P(0, "d/link"), buf, sizeof buf);
    printf("readlink: %zd \"%.*s\"\n", len, (int)(len < 0 ? 0 : len), buf);
    report("lstat link", lstat(P(0, "d/link"), &st));
    printf("is symlink: %d\n", S_ISLNK(st.st_mode));
    report("stat through link", stat(P(0, "d/link"), &st));
    printf("target size: %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    show_file("read through link", P(0, "d/link"));
    report("open link O_NOFOLLOW", open(P(0, "d/link"), O_RDONLY | O_NOFOLLOW));
    report("readlink a file", readlink(P(0, "d/b.txt"), buf, sizeof buf));
    report("symlink to dir", symlink("sub", P(0, "d/sublink")));
    show_file("file through dir link", P(0, "d/sublink/x"));
    report("hard link", link(P(0, "d/b.txt"), P(1, "d/hard")));
    stat(P(0, "d/b.txt"), &st);
    printf("nlink after link: %d\n", (int)st.st_nlink);
    list("listing of d", P(0, "d"));

    // times
    struct timespec times[2] = {{1000000000, 0}, {1200000000, 0}};
    report("utimensat", utimensat(AT_FDCWD, P(0, "d/b.txt"), times, 0));
    stat(P(0, "d/b.txt"), &st);
    printf("atime %lld mtime %lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    fd = open(P(0, "d/b.txt"), O_RDONLY);
    // wasi-libc's futimens rejects UTIME_NOW, so ask WASI directly: mtime := now.
    printf("fd_filestat_set_times: %d\n",
           __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    fstat(fd, &st);
    printf("atime kept %d, mtime recent %d\n", st.st_atim.tv_sec == 1000000000,
           st.st_mtim.tv_sec > 1600000000);
    close(fd);

    // rename a directory, then remove everything
    report("rename dir", rename(P(0, "d/sub"), P(1, "d/sub2")));
    list("after rename", P(0, "d"));
    report("unlink sub2/x", unlink(P(0, "d/sub2/x")));
    report("rmdir sub2", rmdir(P(0, "d/sub2")));
    const char *files[] = {"d/link", "d/sublink", "d/hard", "d/b.txt", "d/lines.txt"};
    for (int i = 0; i < 5; i++) {
        snprintf(buf, sizeof buf, "unlink %s", files[i]);
        report(buf, unlink(P(0, files[i])));
    }
    report("rmdir d", rmdir(P(0, "d")));
    list("base at the end", base);
    return 0;
}
