"""A byte stream with the spec's strict LEB128 and UTF-8 rules and its error wording.

Like the reference interpreter, one stream spans the whole module: running past the end
is "unexpected end", a length longer than what is left is "length out of bounds", and a
section that ends elsewhere than its size says is "section size mismatch".
"""
from __future__ import annotations

import struct

from fayasm.errors import DecodeError

UNEXPECTED_END = "unexpected end of section or function"
_F32 = struct.Struct("<I")
_F64 = struct.Struct("<Q")


class Reader:
    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        # Never past the data: the one-byte fast paths index it without another check.
        self.end = len(data) if end is None else min(end, len(data))

    def error(self, message: str, pos: int | None = None) -> DecodeError:
        return DecodeError(message, self.pos if pos is None else pos)

    def eof(self) -> bool:
        return self.pos >= self.end

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < self.end else None

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise DecodeError(UNEXPECTED_END, pos)
        self.pos = pos + 1
        return self.data[pos]

    def bytes(self, n: int) -> bytes:
        pos = self.pos
        if n < 0 or pos + n > self.end:
            raise DecodeError(UNEXPECTED_END, self.end)
        self.pos = pos + n
        return self.data[pos:pos + n]

    def expect(self, value: int, message: str) -> None:
        if self.byte() != value:
            raise DecodeError(message, self.pos - 1)

    def u32(self) -> int:
        # Fast path for the common one-byte case.
        pos = self.pos
        if pos < self.end:
            b = self.data[pos]
            if b < 0x80:
                self.pos = pos + 1
                return b
        return self.uN(32)

    def uN(self, bits: int) -> int:
        result = 0
        shift = 0
        n = bits
        while True:
            if n <= 0:
                raise DecodeError("integer representation too long", self.pos)
            b = self.byte()
            if n < 7 and (b & 0x7F) >= (1 << n):
                raise DecodeError("integer too large", self.pos - 1)
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            n -= 7

    def sN(self, bits: int) -> int:
        result = 0
        shift = 0
        n = bits
        while True:
            if n <= 0:
                raise DecodeError("integer representation too long", self.pos)
            b = self.byte()
            if n < 7:
                mask = (-1 << (n - 1)) & 0x7F
                if b & mask not in (0, mask):
                    raise DecodeError("integer too large", self.pos - 1)
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result
            n -= 7

    def s32(self) -> int:
        pos = self.pos
        if pos < self.end:
            b = self.data[pos]
            if b < 0x80:
                self.pos = pos + 1
                return b - 0x80 if b & 0x40 else b
        return self.sN(32)

    def s64(self) -> int:
        return self.sN(64)

    def f32_bits(self) -> int:
        return _F32.unpack(self.bytes(4))[0]

    def f64_bits(self) -> int:
        return _F64.unpack(self.bytes(8))[0]

    def length(self) -> int:
        """A vector or byte-string length, which must fit in what is left of the stream
        (measured, as the reference interpreter does, from before the length itself)."""
        pos = self.pos
        n = self.u32()
        if n > self.end - pos:
            raise DecodeError("length out of bounds", pos)
        return n

    def name(self) -> str:
        pos = self.pos
        raw = self.bytes(self.length())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("malformed UTF-8 encoding", pos) from None
