// raw_calls: WASI calls made directly (not through wasi-libc) with bad descriptors and
// odd arguments, each printing the errno it got. Several answers are ones where fayasm
// deliberately differs from wasmtime (rights, fd_allocate, cputime clocks, poll_oneoff's
// per-subscription errors: docs/wasi.md), so this one is checked against a fixed
// expectation. fd 3 is a preopened, empty, writable dir. With the argument "trap", it
// ends with a call whose pointer is out of bounds, which traps (WASI's ABI).
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define BAD ((void *)0xfffffff0u)
#define SHOW(what, expr) printf("%-36s %d\n", what, (int)(expr))

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int raw_proc_raise(int sig);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_accept")))
int raw_sock_accept(int fd, int flags, int *out);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_shutdown")))
int raw_sock_shutdown(int fd, int how);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_recv")))
int raw_sock_recv(int fd, void *iov, int n, int flags, int *len, int *oflags);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_send")))
int raw_sock_send(int fd, const void *iov, int n, int flags, int *len);

static int open_at(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                   __wasi_rights_t rights, __wasi_fd_t *fd) {
    return __wasi_path_open(dir, 0, path, oflags, rights, rights, 0, fd);
}

int main(int argc, char **argv) {
    const __wasi_fd_t dir = 3;
    const __wasi_rights_t rw = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE |
        __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET |
        __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_POLL_FD_READWRITE |
        __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES |
        __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS;
    __wasi_size_t n;
    __wasi_fd_t fd, fd2;
    __wasi_filesize_t pos;
    __wasi_timestamp_t t;
    __wasi_fdstat_t fdstat;
    __wasi_filestat_t filestat;
    __wasi_prestat_t prestat;
    char buf[256];

    __wasi_ciovec_t ok_iov = {(const uint8_t *)"x\n", 2};

    printf("-- descriptors\n");
    SHOW("fd_close unknown", __wasi_fd_close(99));
    SHOW("fd_write unknown", __wasi_fd_write(99, &ok_iov, 1, &n));
    SHOW("fd_read from stdout", __wasi_fd_read(1, (__wasi_iovec_t *)&ok_iov, 1, &n));
    SHOW("fd_write to stdin", __wasi_fd_write(0, &ok_iov, 1, &n));
    SHOW("fd_seek stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos));
    SHOW("fd_tell stdout", __wasi_fd_tell(1, &pos));
    SHOW("fd_pread stdin", __wasi_fd_pread(0, (__wasi_iovec_t *)&ok_iov, 1, 0, &n));
    SHOW("fd_read on a directory", __wasi_fd_read(dir, (__wasi_iovec_t *)&ok_iov, 1, &n));
    SHOW("fd_readdir on stdout", __wasi_fd_readdir(1, (uint8_t *)buf, 64, 0, &n));
    SHOW("path_open from stdout", open_at(1, "x", 0, rw, &fd));
    SHOW("fd_prestat_get stdin", __wasi_fd_prestat_get(0, &prestat));
    SHOW("fd_prestat_get preopen", __wasi_fd_prestat_get(dir, &prestat));
    printf("%-36s %d\n", "prestat name length", (int)prestat.u.dir.pr_name_len);
    SHOW("fd_prestat_dir_name too short", __wasi_fd_prestat_dir_name(dir, (uint8_t *)buf, 1));
    SHOW("fd_fdstat_get stdout", __wasi_fd_fdstat_get(1, &fdstat));
    printf("%-36s %d\n", "stdout can seek", (int)!!(fdstat.fs_rights_base & __WASI_RIGHTS_FD_SEEK));
    SHOW("fd_filestat_get stdout", __wasi_fd_filestat_get(1, &filestat));

    printf("-- arguments\n");
    SHOW("clock_time_get process cputime", __wasi_clock_time_get(2, 0, &t));
    SHOW("clock_time_get thread cputime", __wasi_clock_time_get(3, 0, &t));
    SHOW("proc_raise", raw_proc_raise(2));
    SHOW("sched_yield", __wasi_sched_yield());
    SHOW("random_get 0 bytes", __wasi_random_get((uint8_t *)buf, 0));
    SHOW("poll_oneoff no subscriptions", __wasi_poll_oneoff((void *)buf, (void *)buf, 0, &n));
    SHOW("path_open empty path", open_at(dir, "", 0, rw, &fd));
    SHOW("path_open bad utf-8", open_at(dir, "\xff\xfe", 0, rw, &fd));
    SHOW("path_create_directory", __wasi_path_create_directory(dir, "d"));
    SHOW("path_open dir/ as file trailing /", open_at(dir, "d/", 0, __WASI_RIGHTS_FD_READ, &fd));
    SHOW("fd_close it", __wasi_fd_close(fd));
    SHOW("path_remove_directory", __wasi_path_remove_directory(dir, "d"));

    printf("-- sockets\n");
    SHOW("sock_accept stdin", raw_sock_accept(0, 0, (int *)buf));
    SHOW("sock_accept unknown fd", raw_sock_accept(99, 0, (int *)buf));
    SHOW("sock_recv stdin", raw_sock_recv(0, buf, 0, 0, (int *)buf, (int *)buf));
    SHOW("sock_send stdout", raw_sock_send(1, buf, 0, 0, (int *)buf));
    SHOW("sock_shutdown stdout", raw_sock_shutdown(1, 3));

    printf("-- a file\n");
    SHOW("path_open create", open_at(dir, "f.txt", __WASI_OFLAGS_CREAT, rw, &fd));
    __wasi_ciovec_t parts[3] = {{(const uint8_t *)"abc", 3}, {(const uint8_t *)"", 0},
                                {(const uint8_t *)"defgh", 5}};
    SHOW("fd_write 3 iovecs", __wasi_fd_write(fd, parts, 3, &n));
    printf("%-36s %u\n", "written", (unsigned)n);
    SHOW("fd_seek negative", __wasi_fd_seek(fd, -100, __WASI_WHENCE_CUR, &pos));
    SHOW("fd_seek set 2", __wasi_fd_seek(fd, 2, __WASI_WHENCE_SET, &pos));
    char a[2] = {0}, b[3] = {0};
    __wasi_iovec_t scatter[2] = {{(uint8_t *)a, 2}, {(uint8_t *)b, 3}};
    SHOW("fd_read scatter", __wasi_fd_read(fd, scatter, 2, &n));
    printf("%-36s %u %.2s|%.3s\n", "read", (unsigned)n, a, b);
    SHOW("fd_advise sequential", __wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_SEQUENTIAL));
    SHOW("fd_allocate 100", __wasi_fd_allocate(fd, 0, 100));
    SHOW("fd_filestat_get", __wasi_fd_filestat_get(fd, &filestat));
    printf("%-36s %llu type %d\n", "size", (unsigned long long)filestat.size, filestat.filetype);
    SHOW("fd_filestat_set_size 4", __wasi_fd_filestat_set_size(fd, 4));
    SHOW("fd_filestat_set_times both", __wasi_fd_filestat_set_times(fd, 0, 0,
         __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    SHOW("fd_fdstat_set_flags append", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    SHOW("fd_fdstat_set_flags sync", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC));
    SHOW("fd_pwrite at 0 in append mode", __wasi_fd_pwrite(fd, parts, 1, 0, &n));
    SHOW("fd_fdstat_get", __wasi_fd_fdstat_get(fd, &fdstat));
    printf("%-36s %d\n", "flags", fdstat.fs_flags);

    printf("-- rights\n");
    SHOW("drop FD_READ", __wasi_fd_fdstat_set_rights(fd, rw & ~__WASI_RIGHTS_FD_READ, rw));
    SHOW("fd_read without the right", __wasi_fd_read(fd, scatter, 2, &n));
    SHOW("take FD_READ back", __wasi_fd_fdstat_set_rights(fd, rw, rw));
    SHOW("fd_renumber to unknown", __wasi_fd_renumber(fd, 77));
    SHOW("path_open second", open_at(dir, "f.txt", 0, rw, &fd2));
    SHOW("fd_renumber onto it", __wasi_fd_renumber(fd, fd2));
    SHOW("old number closed", __wasi_fd_close(fd));
    SHOW("fd_seek renumbered", __wasi_fd_seek(fd2, 0, __WASI_WHENCE_END, &pos));
    printf("%-36s %llu\n", "size seen through it", (unsigned long long)pos);
    SHOW("fd_close", __wasi_fd_close(fd2));

    printf("-- readdir\n");
    SHOW("path_open long name", open_at(dir, "a-rather-long-file-name.txt", __WASI_OFLAGS_CREAT, rw, &fd));
    (void)__wasi_fd_close(fd);
    // A buffer too small for the first entry: filled completely, entry cut.
    SHOW("fd_readdir 10 bytes", __wasi_fd_readdir(dir, (uint8_t *)buf, 10, 0, &n));
    printf("%-36s %u\n", "bufused", (unsigned)n);
    __wasi_dircookie_t cookie = 0;
    for (;;) {
        SHOW("fd_readdir 40 bytes", __wasi_fd_readdir(dir, (uint8_t *)buf, 40, cookie, &n));
        __wasi_dirent_t e;
        memcpy(&e, buf, sizeof e);
        if (n < sizeof e || n < sizeof e + e.d_namlen) {
            if (n == 40) { printf("entry %llu too big for 40 bytes\n", (unsigned long long)cookie); cookie++; continue; }
            break;
        }
        printf("entry at %llu: \"%.*s\" type %d next %llu\n", (unsigned long long)cookie,
               (int)e.d_namlen, buf + sizeof e, e.d_type, (unsigned long long)e.d_next);
        cookie = e.d_next;
    }
    SHOW("fd_readdir past the end", __wasi_fd_readdir(dir, (uint8_t *)buf, 64, 99, &n));
    printf("%-36s %u\n", "bufused", (unsigned)n);
    SHOW("path_unlink_file", __wasi_path_unlink_file(dir, "f.txt"));
    SHOW("path_unlink_file long", __wasi_path_unlink_file(dir, "a-rather-long-file-name.txt"));

    printf("-- poll_oneoff\n");
    __wasi_subscription_t subs[3];
    __wasi_event_t events[3];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 10;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 200000000;  // 200 ms
    subs[1].userdata = 11;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 1000000;    // 1 ms: fires first
    SHOW("two clocks", __wasi_poll_oneoff(subs, events, 2, &n));
    printf("%-36s %u userdata %llu type %d\n", "events", (unsigned)n,
           (unsigned long long)events[0].userdata, events[0].type);
    subs[2].userdata = 12;
    subs[2].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[2].u.u.fd_write.file_descriptor = 1;
    SHOW("clock and stdout writable", __wasi_poll_oneoff(subs, events, 3, &n));
    printf("%-36s %u userdata %llu type %d error %d\n", "events", (unsigned)n,
           (unsigned long long)events[0].userdata, events[0].type, events[0].error);
    subs[2].u.u.fd_write.file_descriptor = 99;
    SHOW("unknown fd", __wasi_poll_oneoff(subs + 2, events, 1, &n));
    printf("%-36s %u error %d\n", "events", (unsigned)n, events[0].error);
    subs[2].u.tag = 9;
    SHOW("bad event type", __wasi_poll_oneoff(subs + 2, events, 1, &n));
    printf("done\n");
    fflush(stdout);  // proc_exit itself does not flush stdio
    if (argc > 1 && strcmp(argv[1], "trap") == 0) {
        __wasi_ciovec_t out_of_bounds = {BAD, 64};
        printf("not reached: %d\n", __wasi_fd_write(1, &out_of_bounds, 1, &n));
    }
    __wasi_proc_exit(7);
}
