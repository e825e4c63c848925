/* The freestanding runtime of calc.c (rt.c): setjmp/longjmp as clang's wasm lowering
 * wants them, and output. */
typedef unsigned long jmp_buf[1];
int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int value);
void put(const char *s);
void put_long(long long v);
void flush(void);
