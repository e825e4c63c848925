/* Indirect calls: a stack machine whose every instruction is a call through a table of
 * function pointers, plus objects that carry their own methods (two more signatures). */
#include "bench.h"

typedef struct {
    uint32_t stack[32];
    int sp;
    uint32_t acc;
} machine;

typedef void (*op_fn)(machine *m, uint32_t arg);

static NOINLINE void op_push(machine *m, uint32_t arg) { m->stack[m->sp++] = arg ^ m->acc; }
static NOINLINE void op_add(machine *m, uint32_t arg) { m->sp--; m->stack[m->sp - 1] += m->stack[m->sp] + arg; }
static NOINLINE void op_mul(machine *m, uint32_t arg) { m->sp--; m->stack[m->sp - 1] *= m->stack[m->sp] | arg; }
static NOINLINE void op_xor(machine *m, uint32_t arg) { m->sp--; m->stack[m->sp - 1] ^= m->stack[m->sp] >> (arg & 7); }
static NOINLINE void op_dup(machine *m, uint32_t arg) { m->stack[m->sp] = m->stack[m->sp - 1] + arg; m->sp++; }
static NOINLINE void op_swap(machine *m, uint32_t arg) {
    uint32_t t = m->stack[m->sp - 1];
    m->stack[m->sp - 1] = m->stack[m->sp - 2];
    m->stack[m->sp - 2] = t + arg;
}
static NOINLINE void op_rot(machine *m, uint32_t arg) { m->stack[m->sp - 1] = rotl32(m->stack[m->sp - 1], (int)(arg & 15) + 1); }
static NOINLINE void op_emit(machine *m, uint32_t arg) { m->acc = m->acc * 33u + m->stack[--m->sp] + arg; }

/* The opcodes by their effect on the stack depth: push-like (+1), pop-like (-1), neutral. */
enum { PUSH, DUP, ADD, MUL, XOR, EMIT, SWAP, ROT, NOPS };
static op_fn ops[NOPS];

#define CODE 96
static uint8_t code[CODE];
static uint32_t args[CODE];

typedef struct shape shape;
struct shape {
    uint32_t (*area)(const shape *s);
    void (*grow)(shape *s, uint32_t by, uint32_t salt);
    uint32_t w, h;
};
static NOINLINE uint32_t rect_area(const shape *s) { return s->w * s->h; }
static NOINLINE uint32_t tri_area(const shape *s) { return s->w * s->h / 2u; }
static NOINLINE uint32_t square_area(const shape *s) { return s->w * s->w; }
static NOINLINE void grow_wide(shape *s, uint32_t by, uint32_t salt) { s->w = (s->w + by) & 1023u; s->h ^= salt & 3u; }
static NOINLINE void grow_tall(shape *s, uint32_t by, uint32_t salt) { s->h = (s->h + by + salt) & 1023u; }

#define SHAPES 16
static shape shapes[SHAPES];

/* A random program that never underflows or overflows the stack and leaves it empty. */
static void generate(uint32_t *state) {
    int depth = 0;
    for (int pc = 0; pc < CODE; pc++) {
        int left = CODE - pc, op;
        uint32_t r = rnd(state);
        if (depth >= left - 1 || depth >= 24) op = depth >= 2 ? ADD + (int)(r % 4u) : EMIT;
        else if (depth < 2) op = (r & 1u) ? PUSH : DUP + (depth == 0 ? -1 : 0);
        else op = (int)(r % NOPS);
        if (op == EMIT && depth == 0) op = PUSH;
        code[pc] = (uint8_t)op;
        args[pc] = rnd(state);
        depth += (op == PUSH || op == DUP) ? 1 : (op == ADD || op == MUL || op == XOR || op == EMIT) ? -1 : 0;
    }
    /* Whatever is left is emitted by run(). */
}

EXPORT(run) uint32_t run(int n) {
    ops[PUSH] = op_push; ops[DUP] = op_dup; ops[ADD] = op_add; ops[MUL] = op_mul;
    ops[XOR] = op_xor; ops[EMIT] = op_emit; ops[SWAP] = op_swap; ops[ROT] = op_rot;
    uint32_t state = 977u;
    generate(&state);
    for (int k = 0; k < SHAPES; k++) {
        uint32_t r = rnd(&state);
        shapes[k].area = (r & 3u) == 0 ? square_area : (r & 1u) ? rect_area : tri_area;
        shapes[k].grow = (r & 4u) ? grow_wide : grow_tall;
        shapes[k].w = (r >> 8) & 255u;
        shapes[k].h = (r >> 16) & 255u;
    }

    machine m;
    m.acc = 0;
    uint32_t total = 0;
    for (int i = 0; i < n; i++) {
        m.sp = 0;
        m.acc ^= (uint32_t)i;
        for (int pc = 0; pc < CODE; pc++) ops[code[pc]](&m, args[pc]);
        while (m.sp > 0) op_emit(&m, 0);
        for (int k = 0; k < SHAPES; k++) {
            shape *s = &shapes[(k + i) & (SHAPES - 1)];
            total += s->area(s);
            s->grow(s, (uint32_t)k, m.acc);
        }
        total = total * 7u + m.acc;
    }
    return total;
}
