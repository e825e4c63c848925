// links: path_link and path_symlink made directly (not through wasi-libc), with and
// without a trailing slash on either path, each printing the errno it got, then which
// names exist. A new link's name ending in "/" must fail (ENOENT, or ENOTDIR when a file
// has that name, or EEXIST for a directory), as on wasmtime. argv[1] is a preopened,
// empty, writable directory (descriptor 3).
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define SHOW(what, expr) printf("%-28s %d\n", what, (int)(expr))

static const __wasi_fd_t dir = 3;

static int link_(const char *from, const char *to) {
    return __wasi_path_link(dir, 0, from, dir, to);
}

static int symlink_(const char *target, const char *name) {
    return __wasi_path_symlink(target, dir, name);
}

static void exists(const char *name) {
    __wasi_filestat_t st;
    int rc = __wasi_path_filestat_get(dir, 0, name, &st);
    if (rc == 0)
        printf("%-28s type %d\n", name, (int)st.filetype);
    else
        printf("%-28s errno %d\n", name, rc);
}

int main(void) {
    __wasi_fd_t fd;
    __wasi_rights_t rights = __WASI_RIGHTS_FD_WRITE;
    if (__wasi_path_open(dir, 0, "file", __WASI_OFLAGS_CREAT, rights, rights, 0, &fd) != 0)
        return 1;
    if (__wasi_fd_close(fd) != 0 || __wasi_path_create_directory(dir, "sub") != 0)
        return 1;

    printf("-- path_link\n");
    SHOW("file -> new/", link_("file", "new/"));
    SHOW("file -> new//", link_("file", "new//"));
    SHOW("file -> sub/new/", link_("file", "sub/new/"));
    SHOW("file -> file/", link_("file", "file/"));
    SHOW("file -> sub/", link_("file", "sub/"));
    SHOW("file/ -> other", link_("file/", "other"));
    SHOW("file -> hard", link_("file", "hard"));
    SHOW("file -> sub/hard", link_("file", "sub/hard"));

    printf("-- path_symlink\n");
    SHOW("file -> snew/", symlink_("file", "snew/"));
    SHOW("file -> snew//", symlink_("file", "snew//"));
    SHOW("file -> sub/snew/", symlink_("file", "sub/snew/"));
    SHOW("file -> file/", symlink_("file", "file/"));
    SHOW("file -> sub/", symlink_("file", "sub/"));
    SHOW("sub/ -> slash", symlink_("sub/", "slash"));
    SHOW("missing -> dangling/", symlink_("missing", "dangling/"));
    SHOW("file -> soft", symlink_("file", "soft"));

    printf("-- what exists\n");
    const char *names[] = {"new", "sub/new", "other", "hard", "sub/hard", "snew",
                           "sub/snew", "slash", "dangling", "soft"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        exists(names[i]);
    return 0;
}
