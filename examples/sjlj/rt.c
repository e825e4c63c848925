/* A freestanding runtime for calc.c: what clang's wasm setjmp/longjmp lowering
 * (-mllvm -wasm-enable-sjlj) calls (saveSetjmp, testSetjmp, getTempRet0, __wasm_longjmp
 * and the __c_longjmp tag), a bump allocator for the tables it keeps, and output and
 * exit through WASI preview 1. No libc: Debian's clang 14 has no wasi-libc setjmp. */
#include "rt.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")))
int wasi_fd_write(int fd, const void *iovs, int n, int *written);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit")))
_Noreturn void wasi_proc_exit(int code);

/* -- memory: a bump allocator (the tables are small and few) -------------------- */
extern unsigned char __heap_base;
static unsigned char *heap_top = &__heap_base;

void *malloc(unsigned long n) {
  unsigned long *p = (unsigned long *)heap_top;
  n = (n + 7) & ~7ul;
  heap_top += n + 8;
  unsigned long pages = __builtin_wasm_memory_size(0);
  while ((unsigned long)heap_top > pages * 65536) {
    __builtin_wasm_memory_grow(0, 1);
    pages++;
  }
  p[0] = n;
  return p + 1;
}

void free(void *p) { (void)p; }

void *realloc(void *p, unsigned long n) {
  if (!p)
    return malloc(n);
  unsigned long old = ((unsigned long *)p)[-1];
  unsigned char *q = malloc(n);
  for (unsigned long i = 0; i < old && i < n; i++)
    q[i] = ((unsigned char *)p)[i];
  return q;
}

/* -- setjmp/longjmp ---------------------------------------------------------------
 * Each function calling setjmp keeps a table of (setjmp id, label) pairs ended by an
 * id of 0; setjmp stores a fresh id in the jmp_buf and an entry for its call site.
 * longjmp throws the __c_longjmp tag with {env, value}; the function that called setjmp
 * catches it, asks testSetjmp which of its call sites the id belongs to (0: none, throw
 * on) and resumes there with the value. */
struct entry { unsigned long id; unsigned int label; };
static unsigned long last_id;
static unsigned int temp_ret;

unsigned int getTempRet0(void) { return temp_ret; }

struct entry *saveSetjmp(unsigned long *env, unsigned int label, struct entry *table,
                         unsigned int size) {
  *env = ++last_id;
  for (unsigned int i = 0; i < size; i++) {
    if (table[i].id == 0) {
      table[i].id = last_id;
      table[i].label = label;
      table[i + 1].id = 0;
      temp_ret = size;
      return table;
    }
  }
  unsigned int bigger = size * 2;
  table = realloc(table, sizeof(struct entry) * (bigger + 1));
  for (unsigned int i = size; i <= bigger; i++)
    table[i].id = 0;
  table[size].id = last_id;
  table[size].label = label;
  temp_ret = bigger;
  return table;
}

unsigned int testSetjmp(unsigned long id, struct entry *table, unsigned int size) {
  for (unsigned int i = 0; i < size && table[i].id != 0; i++)
    if (table[i].id == id)
      return table[i].label;
  return 0;
}

static struct { void *env; int value; } longjmp_args;

void __wasm_longjmp(void *env, int value) {
  longjmp_args.env = env;
  longjmp_args.value = value ? value : 1;
  __builtin_wasm_throw(1, &longjmp_args);
}

/* -- output ------------------------------------------------------------------------ */
static char buf[4096];
static int used;

void flush(void) {
  struct { const char *p; int n; } iov = {buf, used};
  int written;
  if (used)
    wasi_fd_write(1, &iov, 1, &written);
  used = 0;
}

void put(const char *s) {
  for (; *s; s++) {
    if (used == sizeof buf)
      flush();
    buf[used++] = *s;
  }
}

void put_long(long long v) {
  char tmp[24];
  int i = 23;
  int neg = v < 0;
  unsigned long long u = neg ? 0ull - (unsigned long long)v : (unsigned long long)v;
  tmp[i] = 0;
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg)
    tmp[--i] = '-';
  put(tmp + i);
}

int main(void);

void _start(void) {
  int code = main();
  flush();
  wasi_proc_exit(code);
}
