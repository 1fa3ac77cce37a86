"""New ids for requests, ledger records and budget reservations: time-ordered UUIDs (version 7).

A version-7 UUID (RFC 9562) starts with the Unix time in milliseconds and ends with 74 random
bits, written here as 32 lowercase hex digits like ``uuid.uuid4().hex``. Ids made later sort
later, so a database index on them grows at its right-hand end: the ledger's ``request_id``
index took a random page per record with random ids, which made each insert cost more as the
ledger grew (46 against 31 us of CPU per record at 100,000-300,000 rows, ``benchmarks/ledger_ids``).
The time an id carries is the time of the request, which its client and upstream know anyway.

The random bits come from the operating system's random source, read 4 KiB at a time:
``os.urandom`` releases the GIL for its system call, and once per request that handed the GIL to
a waiting thread. A forked child starts with an empty block, so parent and child never share bits.
"""

from __future__ import annotations

import os
import threading
import time

_BLOCK = 4096
_RANDOM_BYTES = 10  # 12 bits after the version, 62 after the variant, and 6 more that the marks overwrite


class _RandomBlocks:
    __slots__ = ("_block", "_lock", "_pos")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._pos = 0

    def take(self, n: int) -> bytes:
        with self._lock:
            pos = self._pos
            if pos + n > len(self._block):
                self._block, pos = os.urandom(_BLOCK), 0
            self._pos = pos + n
            return self._block[pos:pos + n]

    def forget(self) -> None:
        self._lock = threading.Lock()  # a lock another thread held at the fork stays held in the child
        self._block, self._pos = b"", 0


_blocks = _RandomBlocks()
os.register_at_fork(after_in_child=_blocks.forget)


def new_id_bytes() -> bytes:
    """A new version-7 UUID as 32 lowercase hex digits, in bytes (for headers)."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big"))
    raw += _blocks.take(_RANDOM_BYTES)
    raw[6] = (raw[6] & 0x0F) | 0x70  # version 7
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 variant
    return raw.hex().encode()


def new_id() -> str:
    """A new version-7 UUID as 32 lowercase hex digits."""
    return new_id_bytes().decode()
