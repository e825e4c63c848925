// sandbox: tries to get out of its preopened directories (argv[1] writable, argv[2]
// read-only) through "..", absolute paths, symlinks and renames, and to change the
// read-only one. Prints one line per attempt: "ok" or the errno. The test prepares the
// symlinks (see tests/test_wasi.py) and checks the host file system afterwards.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static char bufs[2][512];
static const char *sb, *ro;

static const char *S(int slot, const char *rel) {
    snprintf(bufs[slot], sizeof bufs[slot], "%s/%s", sb, rel);
    return bufs[slot];
}
static const char *R(int slot, const char *rel) {
    snprintf(bufs[slot], sizeof bufs[slot], "%s/%s", ro, rel);
    return bufs[slot];
}

static void report(const char *what, int r) {
    if (r < 0)
        printf("%-34s errno %d\n", what, errno);
    else
        printf("%-34s ok\n", what);
}

// open, and for a success read the start of the file and close it
static void try_open(const char *what, const char *path, int flags) {
    int fd = open(path, flags, 0644);
    if (fd < 0) { report(what, -1); return; }
    char buf[32] = {0};
    ssize_t n = (flags & O_ACCMODE) == O_WRONLY ? 0 : read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("%-34s ok \"%.*s\"\n", what, (int)(n < 0 ? 0 : n), buf);
}

static int do_stat(const char *path) { struct stat st; return stat(path, &st); }
static int do_lstat(const char *path) { struct stat st; return lstat(path, &st); }
static int do_opendir(const char *path) {
    DIR *d = opendir(path);
    if (!d) return -1;
    closedir(d);
    return 0;
}
static int do_readlink(const char *what, const char *path) {
    char buf[256];
    ssize_t n = readlink(path, buf, sizeof buf);
    if (n < 0) return -1;
    printf("%-34s \"%.*s\"\n", what, (int)n, buf);
    return 0;
}
static int do_utime(const char *path) {
    struct timespec t[2] = {{1, 0}, {1, 0}};
    return utimensat(AT_FDCWD, path, t, 0);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: sandbox RW-DIR RO-DIR\n"); return 2; }
    sb = argv[1];
    ro = argv[2];

    printf("-- reading out\n");
    try_open("dotdot", S(0, "../outside.txt"), O_RDONLY);
    try_open("sub/../..", S(0, "sub/../../outside.txt"), O_RDONLY);
    try_open("absolute", "/etc/passwd", O_RDONLY);
    try_open("symlink to absolute dir", S(0, "link_out/o.txt"), O_RDONLY);
    try_open("symlink to absolute file", S(0, "link_abs_file"), O_RDONLY);
    try_open("symlink ../", S(0, "link_up"), O_RDONLY);
    try_open("symlink to .. then down", S(0, "link_updir/outside.txt"), O_RDONLY);
    try_open("symlink chain", S(0, "chain1"), O_RDONLY);
    try_open("symlink loop", S(0, "loop"), O_RDONLY);
    report("opendir ..", do_opendir(S(0, "..")));
    report("stat through symlink out", do_stat(S(0, "link_up")));
    report("lstat of that symlink", do_lstat(S(0, "link_up")));
    report("readlink absolute target", do_readlink("readlink absolute target", S(0, "link_out")));
    report("readlink relative target", do_readlink("readlink relative target", S(0, "link_up")));
    {
        __wasi_fd_t fd;
        printf("%-34s errno %d\n", "raw path_open absolute",
               __wasi_path_open(3, 0, "/etc/passwd", 0, 0, 0, 0, &fd));
        printf("%-34s errno %d\n", "raw path_open ..",
               __wasi_path_open(3, 0, "..", 0, 0, 0, 0, &fd));
    }

    printf("-- staying in\n");
    try_open("symlink inside", S(0, "link_in"), O_RDONLY);
    try_open("relative symlink in sub", S(0, "sub/link_rel"), O_RDONLY);
    try_open("sub/.. stays inside", S(0, "sub/../f.txt"), O_RDONLY);
    try_open("chain that stays inside", S(0, "chain_in"), O_RDONLY);

    printf("-- writing out\n");
    try_open("create ../x", S(0, "../created.txt"), O_CREAT | O_WRONLY);
    try_open("create through dangling link", S(0, "dangle"), O_CREAT | O_WRONLY);
    try_open("create through link to ..", S(0, "link_updir/created.txt"), O_CREAT | O_WRONLY);
    try_open("truncate through link", S(0, "link_up"), O_WRONLY | O_TRUNC);
    report("mkdir ../x", mkdir(S(0, "../newdir"), 0755));
    report("mkdir through link", mkdir(S(0, "link_updir/newdir"), 0755));
    report("rename to ..", rename(S(0, "f.txt"), S(1, "../moved.txt")));
    report("rename through link", rename(S(0, "f.txt"), S(1, "link_updir/moved.txt")));
    report("rename from ..", rename(S(0, "../outside.txt"), S(1, "stolen.txt")));
    report("hard link from ..", link(S(0, "../outside.txt"), S(1, "hard.txt")));
    report("hard link to ..", link(S(0, "f.txt"), S(1, "../hard.txt")));
    report("symlink absolute target", symlink("/etc/passwd", S(0, "newlink")));
    report("symlink relative out", symlink("../outside.txt", S(0, "newlink2")));
    try_open("open that symlink", S(0, "newlink2"), O_RDONLY);
    report("remove that symlink", unlink(S(0, "newlink2")));
    report("unlink ../x", unlink(S(0, "../outside.txt")));
    report("rmdir ../x", rmdir(S(0, "../outside_dir")));
    report("utimensat through link", do_utime(S(0, "link_up")));
    report("truncate through link", truncate(S(0, "link_up"), 0));

    printf("-- read-only preopen\n");
    try_open("read", R(0, "r.txt"), O_RDONLY);
    report("stat", do_stat(R(0, "r.txt")));
    report("opendir", do_opendir(ro));
    try_open("open for writing", R(0, "r.txt"), O_WRONLY);
    try_open("open read-write", R(0, "r.txt"), O_RDWR);
    try_open("open append", R(0, "r.txt"), O_WRONLY | O_APPEND);
    try_open("create", R(0, "new.txt"), O_CREAT | O_WRONLY);
    try_open("truncate on open", R(0, "r.txt"), O_RDONLY | O_TRUNC);
    report("truncate", truncate(R(0, "r.txt"), 0));
    report("mkdir", mkdir(R(0, "newdir"), 0755));
    report("rmdir", rmdir(R(0, "rdir")));
    report("unlink", unlink(R(0, "r.txt")));
    report("rename inside", rename(R(0, "r.txt"), R(1, "r2.txt")));
    report("rename out of it", rename(R(0, "r.txt"), S(1, "r.txt")));
    report("rename into it", rename(S(0, "f.txt"), R(1, "f.txt")));
    report("hard link out of it", link(R(0, "r.txt"), S(1, "r_hard.txt")));
    report("symlink", symlink("r.txt", R(0, "l")));
    report("utimensat", do_utime(R(0, "r.txt")));
    return 0;
}
