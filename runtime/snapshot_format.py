"""The byte format of a snapshot: a header (magic, format version, module hash), a body of
plain values in a small tagged encoding, and a CRC-32 of everything before it.

The decoder treats every byte as hostile: any malformed, truncated or trailing byte, a
length past the end, nesting past MAX_DEPTH, a checksum that does not match or a version
this fayasm does not read raises SnapshotError, and decoding builds nothing else. Values
are None, bool, int, float, str, bytes and lists of them (tuples come back as lists);
nothing in the format names Python code, so reading a snapshot runs none (unlike pickle).
"""
from __future__ import annotations

import struct
import zlib
from typing import Any

from .errors import SnapshotError

MAGIC = b"\x00fayasm-snapshot"
FORMAT_VERSION = 1
MAX_DEPTH = 16

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_NONE, _FALSE, _TRUE, _INT, _FLOAT, _STR, _BYTES, _LIST = b"NFTIDSBL"


def _put(out: list, v: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise SnapshotError("snapshot state nests too deeply to encode")
    if v is None:
        out.append(b"N")
    elif v is True or v is False:
        out.append(b"T" if v else b"F")
    elif isinstance(v, int):
        n = (v.bit_length() + 8) // 8  # room for the sign
        out.append(b"I" + _U32.pack(n) + v.to_bytes(n, "little", signed=True))
    elif isinstance(v, float):
        out.append(b"D" + _F64.pack(v))  # every bit pattern, NaN payloads included
    elif isinstance(v, str):
        data = v.encode("utf-8", "surrogatepass")
        out.append(b"S" + _U64.pack(len(data)))
        out.append(data)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        out.append(b"B" + _U64.pack(len(v)))
        out.append(v)
    elif isinstance(v, (list, tuple)):
        out.append(b"L" + _U64.pack(len(v)))
        for item in v:
            _put(out, item, depth + 1)
    else:
        raise SnapshotError(f"a snapshot cannot encode a {type(v).__name__}")


def encode(module_hash: str, body: Any) -> bytes:
    """The snapshot file: header, ``body`` encoded, CRC-32."""
    digest = bytes.fromhex(module_hash)
    if len(digest) != 32:
        raise SnapshotError("a snapshot needs the module's SHA-256")
    out: list = [MAGIC, _U32.pack(FORMAT_VERSION), digest]
    _put(out, body)
    data = b"".join(out)
    return data + _U32.pack(zlib.crc32(data))


class _Reader:
    def __init__(self, view: memoryview, pos: int, end: int):
        self.view, self.pos, self.end = view, pos, end

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > self.end:
            raise SnapshotError("corrupted snapshot: it ends in the middle of a value")
        out = self.view[self.pos:self.pos + n]
        self.pos += n
        return out

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise SnapshotError("corrupted snapshot: values nest too deeply")
        tag = self.take(1)[0]
        if tag == _NONE:
            return None
        if tag == _FALSE:
            return False
        if tag == _TRUE:
            return True
        if tag == _INT:
            n = _U32.unpack(self.take(4))[0]
            if n > 64:  # no state holds a number wider than a v128
                raise SnapshotError("corrupted snapshot: an integer too wide")
            return int.from_bytes(self.take(n), "little", signed=True)
        if tag == _FLOAT:
            return _F64.unpack(self.take(8))[0]
        if tag == _STR:
            n = _U64.unpack(self.take(8))[0]
            try:
                return bytes(self.take(n)).decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise SnapshotError("corrupted snapshot: a name that is not UTF-8") from None
        if tag == _BYTES:
            n = _U64.unpack(self.take(8))[0]
            return self.take(n)  # a view: memory contents are copied once, into memory
        if tag == _LIST:
            n = _U64.unpack(self.take(8))[0]
            if n > self.end - self.pos:  # each item takes a byte at least
                raise SnapshotError("corrupted snapshot: a list longer than the snapshot")
            return [self.value(depth + 1) for _ in range(n)]
        raise SnapshotError(f"corrupted snapshot: unknown value tag {tag:#x}")


def decode(data: bytes | bytearray | memoryview) -> tuple[str, Any]:
    """(module hash, body) of a snapshot file; SnapshotError for anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SnapshotError(f"a snapshot is bytes, not {type(data).__name__}")
    try:
        view = memoryview(data).cast("B")
    except TypeError:  # a view that is not one contiguous run of bytes
        raise SnapshotError("a snapshot is one contiguous run of bytes") from None
    head = len(MAGIC) + 4 + 32
    if len(view) < head + 1 + 4 or bytes(view[:len(MAGIC)]) != MAGIC:
        raise SnapshotError("not a fayasm snapshot (no snapshot header)")
    version = _U32.unpack(view[len(MAGIC):len(MAGIC) + 4])[0]
    if version != FORMAT_VERSION:
        newer = "a newer fayasm" if version > FORMAT_VERSION else "an older format"
        raise SnapshotError(f"snapshot format version {version} (from {newer}); this fayasm "
                            f"reads version {FORMAT_VERSION}")
    end = len(view) - 4
    if zlib.crc32(view[:end]) != _U32.unpack(view[end:])[0]:
        raise SnapshotError("corrupted snapshot: its checksum does not match its contents")
    digest = bytes(view[len(MAGIC) + 4:head]).hex()
    reader = _Reader(view, head, end)
    body = reader.value()
    if reader.pos != end:
        raise SnapshotError("corrupted snapshot: bytes after its contents")
    return digest, body


__all__ = ["encode", "decode", "MAGIC", "FORMAT_VERSION"]
