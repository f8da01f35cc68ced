"""SCALE, the byte encoding of every Spacemesh message (``github.com/spacemeshos/go-scale``).

Integers in scalegen structs are *compact* (2-bit mode prefix); fixed arrays are raw; byte and struct
slices carry a compact length and a maximum; options are 0x00 / 0x01‖value. The decoder is strict:
non-canonical compacts, lengths over the maximum, truncated input and trailing bytes are errors, so
a hostile blob is rejected before it can allocate much.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MAX_U32 = (1 << 32) - 1
MAX_U64 = (1 << 64) - 1


class ScaleError(ValueError):
    """Malformed SCALE input (or a value that cannot be encoded)."""


def encode_compact(value: int, max_value: int = MAX_U64) -> bytes:
    if not isinstance(value, int) or value < 0 or value > max_value:
        raise ScaleError(f"compact value {value!r} out of range 0..{max_value}")
    if value < 1 << 6:
        return bytes([value << 2])
    if value < 1 << 14:
        return ((value << 2) | 1).to_bytes(2, "little")
    if value < 1 << 30:
        return ((value << 2) | 2).to_bytes(4, "little")
    size = (value.bit_length() + 7) // 8
    return bytes([((size - 4) << 2) | 3]) + value.to_bytes(size, "little")


class Encoder:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def raw(self, data: bytes, size: int | None = None) -> Encoder:
        if size is not None and len(data) != size:
            raise ScaleError(f"fixed array needs {size} bytes, got {len(data)}")
        self._parts.append(bytes(data))
        return self

    def compact(self, value: int, max_value: int = MAX_U64) -> Encoder:
        self._parts.append(encode_compact(value, max_value))
        return self

    def compact32(self, value: int) -> Encoder:
        return self.compact(value, MAX_U32)

    def u8(self, value: int) -> Encoder:
        return self.raw(value.to_bytes(1, "little"))

    def u64(self, value: int) -> Encoder:
        return self.raw(value.to_bytes(8, "little"))

    def byte_slice(self, data: bytes, limit: int) -> Encoder:
        if len(data) > limit:
            raise ScaleError(f"byte slice of {len(data)} exceeds its limit {limit}")
        return self.compact32(len(data)).raw(data)

    def string(self, text: str, limit: int) -> Encoder:
        return self.byte_slice(text.encode(), limit)

    def option(self, value: T | None, write: Callable[[Encoder, T], object]) -> Encoder:
        if value is None:
            return self.u8(0)
        self.u8(1)
        write(self, value)
        return self

    def slice(
        self, items: list[T] | tuple[T, ...], limit: int, write: Callable[[Encoder, T], object]
    ) -> Encoder:
        if len(items) > limit:
            raise ScaleError(f"list of {len(items)} exceeds its limit {limit}")
        self.compact32(len(items))
        for item in items:
            write(self, item)
        return self

    def bytes(self) -> bytes:
        return b"".join(self._parts)


class Decoder:
    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ScaleError(f"expected bytes, got {type(data).__name__}")
        self._data = bytes(data)
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def raw(self, size: int) -> bytes:
        if size > self.remaining:
            raise ScaleError(
                f"truncated input: need {size} bytes at offset {self._pos}, have {self.remaining}"
            )
        out = self._data[self._pos : self._pos + size]
        self._pos += size
        return out

    def u8(self) -> int:
        return self.raw(1)[0]

    def u64(self) -> int:
        return int.from_bytes(self.raw(8), "little")

    def compact(self, max_value: int = MAX_U64) -> int:
        first = self.u8()
        mode = first & 3
        if mode == 0:
            value = first >> 2
        elif mode == 1:
            value = int.from_bytes(bytes([first]) + self.raw(1), "little") >> 2
            if value < 1 << 6:
                raise ScaleError("non-canonical compact integer")
        elif mode == 2:
            value = int.from_bytes(bytes([first]) + self.raw(3), "little") >> 2
            if value < 1 << 14:
                raise ScaleError("non-canonical compact integer")
        else:
            size = (first >> 2) + 4
            if size > 8:
                raise ScaleError(f"compact integer of {size} bytes is too large")
            value = int.from_bytes(self.raw(size), "little")
            if value < 1 << 30 or value.bit_length() <= (size - 1) * 8:
                raise ScaleError("non-canonical compact integer")
        if value > max_value:
            raise ScaleError(f"integer {value} exceeds {max_value}")
        return value

    def compact32(self) -> int:
        return self.compact(MAX_U32)

    def byte_slice(self, limit: int) -> bytes:
        size = self.compact32()
        if size > limit:
            raise ScaleError(f"byte slice of {size} exceeds its limit {limit}")
        return self.raw(size)

    def string(self, limit: int) -> str:
        try:
            return self.byte_slice(limit).decode()
        except UnicodeDecodeError as exc:
            raise ScaleError("string is not UTF-8") from exc

    def option(self, read: Callable[[Decoder], T]) -> T | None:
        flag = self.u8()
        if flag == 0:
            return None
        if flag != 1:
            raise ScaleError(f"option flag must be 0 or 1, got {flag}")
        return read(self)

    def slice(self, limit: int, read: Callable[[Decoder], T]) -> tuple[T, ...]:
        size = self.compact32()
        if size > limit:
            raise ScaleError(f"list of {size} exceeds its limit {limit}")
        return tuple(read(self) for _ in range(size))

    def finish(self) -> None:
        if self.remaining:
            raise ScaleError(f"{self.remaining} trailing bytes after the message")


def decode_all(data: bytes, read: Callable[[Decoder], T]) -> T:
    """Decodes exactly one value from ``data`` (trailing bytes are an error)."""
    dec = Decoder(data)
    value = read(dec)
    dec.finish()
    return value
