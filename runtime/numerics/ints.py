"""i32 and i64 instructions on raw values: unsigned Python ints holding the two's-complement
bits (i32 in [0, 2**32), i64 in [0, 2**64)). Every result is again unsigned; comparisons
and tests return the ints 0 or 1, never bools."""
from __future__ import annotations

from ..errors import DIV_ZERO, INT_OVERFLOW, Trap

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
_S32 = 0x80000000
_S64 = 0x8000000000000000

OVERFLOW = INT_OVERFLOW


# --- i32 -------------------------------------------------------------------------------
# Signed views use (x ^ SIGN) - SIGN: two's complement to a Python int, branch-free.

def i32_eqz(a: int) -> int:
    return 0 if a else 1


def i32_eq(a: int, b: int) -> int:
    return 1 if a == b else 0


def i32_ne(a: int, b: int) -> int:
    return 1 if a != b else 0


def i32_lt_s(a: int, b: int) -> int:
    return 1 if (a ^ _S32) < (b ^ _S32) else 0


def i32_lt_u(a: int, b: int) -> int:
    return 1 if a < b else 0


def i32_gt_s(a: int, b: int) -> int:
    return 1 if (a ^ _S32) > (b ^ _S32) else 0


def i32_gt_u(a: int, b: int) -> int:
    return 1 if a > b else 0


def i32_le_s(a: int, b: int) -> int:
    return 1 if (a ^ _S32) <= (b ^ _S32) else 0


def i32_le_u(a: int, b: int) -> int:
    return 1 if a <= b else 0


def i32_ge_s(a: int, b: int) -> int:
    return 1 if (a ^ _S32) >= (b ^ _S32) else 0


def i32_ge_u(a: int, b: int) -> int:
    return 1 if a >= b else 0


def i32_clz(a: int) -> int:
    return 32 - a.bit_length()


def i32_ctz(a: int) -> int:
    # a & -a isolates the lowest set bit.
    return (a & -a).bit_length() - 1 if a else 32


def i32_popcnt(a: int) -> int:
    return a.bit_count()


def i32_add(a: int, b: int) -> int:
    return (a + b) & M32


def i32_sub(a: int, b: int) -> int:
    return (a - b) & M32


def i32_mul(a: int, b: int) -> int:
    return (a * b) & M32


def i32_div_s(a: int, b: int) -> int:
    """Signed division truncating toward zero; traps on /0 and on INT_MIN / -1."""
    a = (a ^ _S32) - _S32
    b = (b ^ _S32) - _S32
    try:
        q = a // b
    except ZeroDivisionError:
        raise Trap(DIV_ZERO) from None
    if q < 0 and q * b != a:
        q += 1  # Python floors; wasm truncates
    elif q == 0x80000000:
        raise Trap(OVERFLOW)
    return q & M32


def i32_div_u(a: int, b: int) -> int:
    try:
        return a // b
    except ZeroDivisionError:
        raise Trap(DIV_ZERO) from None


def i32_rem_s(a: int, b: int) -> int:
    """Signed remainder with the sign of the dividend; INT_MIN rem -1 is 0, not a trap."""
    a = (a ^ _S32) - _S32
    b = (b ^ _S32) - _S32
    try:
        r = a % b
    except ZeroDivisionError:
        raise Trap(DIV_ZERO) from None
    if r and (r ^ a) < 0:
        r -= b  # Python's remainder takes the divisor's sign
    return r & M32


def i32_rem_u(a: int, b: int) -> int:
    try:
        return a % b
    except ZeroDivisionError:
        raise Trap(DIV_ZERO) from None


def i32_and(a: int, b: int) -> int:
    return a & b


def i32_or(a: int, b: int) -> int:
    return a | b


def i32_xor(a: int, b: int) -> int:
    return a ^ b


def i32_shl(a: int, b: int) -> int:
    return (a << (b & 31)) & M32


def i32_shr_s(a: int, b: int) -> int:
    return (((a ^ _S32) - _S32) >> (b & 31)) & M32


def i32_shr_u(a: int, b: int) -> int:
    return a >> (b & 31)


def i32_rotl(a: int, b: int) -> int:
    k = b & 31
    return ((a << k) | (a >> (32 - k))) & M32


def i32_rotr(a: int, b: int) -> int:
    k = b & 31
    return ((a >> k) | (a << (32 - k))) & M32


def i32_extend8_s(a: int) -> int:
    return (((a & 0xFF) ^ 0x80) - 0x80) & M32


def i32_extend16_s(a: int) -> int:
    return (((a & 0xFFFF) ^ 0x8000) - 0x8000) & M32


def i32_wrap_i64(a: int) -> int:
    return a & M32


# --- i64 -------------------------------------------------------------------------------

def i64_eqz(a: int) -> int:
    return 0 if a else 1


def i64_lt_s(a: int, b: int) -> int:
    return 1 if (a ^ _S64) < (b ^ _S64) else 0


def i64_gt_s(a: int, b: int) -> int:
    return 1 if (a ^ _S64) > (b ^ _S64) else 0


def i64_le_s(a: int, b: int) -> int:
    return 1 if (a ^ _S64) <= (b ^ _S64) else 0


def i64_ge_s(a: int, b: int) -> int:
    return 1 if (a ^ _S64) >= (b ^ _S64) else 0


# Unsigned comparisons and the bitwise ops do not depend on the width.
i64_eq, i64_ne = i32_eq, i32_ne
i64_lt_u, i64_gt_u, i64_le_u, i64_ge_u = i32_lt_u, i32_gt_u, i32_le_u, i32_ge_u
i64_and, i64_or, i64_xor = i32_and, i32_or, i32_xor
i64_popcnt = i32_popcnt
i64_div_u, i64_rem_u = i32_div_u, i32_rem_u


def i64_clz(a: int) -> int:
    return 64 - a.bit_length()


def i64_ctz(a: int) -> int:
    return (a & -a).bit_length() - 1 if a else 64


def i64_add(a: int, b: int) -> int:
    return (a + b) & M64


def i64_sub(a: int, b: int) -> int:
    return (a - b) & M64


def i64_mul(a: int, b: int) -> int:
    return (a * b) & M64


def i64_div_s(a: int, b: int) -> int:
    """Signed division truncating toward zero; traps on /0 and on INT_MIN / -1."""
    a = (a ^ _S64) - _S64
    b = (b ^ _S64) - _S64
    try:
        q = a // b
    except ZeroDivisionError:
        raise Trap(DIV_ZERO) from None
    if q < 0 and q * b != a:
        q += 1
    elif q == 0x8000000000000000:
        raise Trap(OVERFLOW)
    return q & M64


def i64_rem_s(a: int, b: int) -> int:
    a = (a ^ _S64) - _S64
    b = (b ^ _S64) - _S64
    try:
        r = a % b
    except ZeroDivisionError:
        raise Trap(DIV_ZERO) from None
    if r and (r ^ a) < 0:
        r -= b
    return r & M64


def i64_shl(a: int, b: int) -> int:
    return (a << (b & 63)) & M64


def i64_shr_s(a: int, b: int) -> int:
    return (((a ^ _S64) - _S64) >> (b & 63)) & M64


def i64_shr_u(a: int, b: int) -> int:
    return a >> (b & 63)


def i64_rotl(a: int, b: int) -> int:
    k = b & 63
    return ((a << k) | (a >> (64 - k))) & M64


def i64_rotr(a: int, b: int) -> int:
    k = b & 63
    return ((a >> k) | (a << (64 - k))) & M64


def i64_extend8_s(a: int) -> int:
    return (((a & 0xFF) ^ 0x80) - 0x80) & M64


def i64_extend16_s(a: int) -> int:
    return (((a & 0xFFFF) ^ 0x8000) - 0x8000) & M64


def i64_extend32_s(a: int) -> int:
    return (((a & M32) ^ _S32) - _S32) & M64


def i64_extend_i32_s(a: int) -> int:
    return ((a ^ _S32) - _S32) & M64


def i64_extend_i32_u(a: int) -> int:
    return a


OPS = {
    "i32.eqz": i32_eqz, "i32.eq": i32_eq, "i32.ne": i32_ne,
    "i32.lt_s": i32_lt_s, "i32.lt_u": i32_lt_u, "i32.gt_s": i32_gt_s, "i32.gt_u": i32_gt_u,
    "i32.le_s": i32_le_s, "i32.le_u": i32_le_u, "i32.ge_s": i32_ge_s, "i32.ge_u": i32_ge_u,
    "i32.clz": i32_clz, "i32.ctz": i32_ctz, "i32.popcnt": i32_popcnt,
    "i32.add": i32_add, "i32.sub": i32_sub, "i32.mul": i32_mul,
    "i32.div_s": i32_div_s, "i32.div_u": i32_div_u, "i32.rem_s": i32_rem_s, "i32.rem_u": i32_rem_u,
    "i32.and": i32_and, "i32.or": i32_or, "i32.xor": i32_xor,
    "i32.shl": i32_shl, "i32.shr_s": i32_shr_s, "i32.shr_u": i32_shr_u,
    "i32.rotl": i32_rotl, "i32.rotr": i32_rotr,
    "i32.extend8_s": i32_extend8_s, "i32.extend16_s": i32_extend16_s,
    "i32.wrap_i64": i32_wrap_i64,
    "i64.eqz": i64_eqz, "i64.eq": i64_eq, "i64.ne": i64_ne,
    "i64.lt_s": i64_lt_s, "i64.lt_u": i64_lt_u, "i64.gt_s": i64_gt_s, "i64.gt_u": i64_gt_u,
    "i64.le_s": i64_le_s, "i64.le_u": i64_le_u, "i64.ge_s": i64_ge_s, "i64.ge_u": i64_ge_u,
    "i64.clz": i64_clz, "i64.ctz": i64_ctz, "i64.popcnt": i64_popcnt,
    "i64.add": i64_add, "i64.sub": i64_sub, "i64.mul": i64_mul,
    "i64.div_s": i64_div_s, "i64.div_u": i64_div_u, "i64.rem_s": i64_rem_s, "i64.rem_u": i64_rem_u,
    "i64.and": i64_and, "i64.or": i64_or, "i64.xor": i64_xor,
    "i64.shl": i64_shl, "i64.shr_s": i64_shr_s, "i64.shr_u": i64_shr_u,
    "i64.rotl": i64_rotl, "i64.rotr": i64_rotr,
    "i64.extend8_s": i64_extend8_s, "i64.extend16_s": i64_extend16_s,
    "i64.extend32_s": i64_extend32_s,
    "i64.extend_i32_s": i64_extend_i32_s, "i64.extend_i32_u": i64_extend_i32_u,
}
