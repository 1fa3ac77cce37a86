"""Time-ordered ids: version-7 UUIDs from a block of OS randomness, distinct across a fork."""

from __future__ import annotations

import os
import time
import uuid

from interlock.api.middleware import new_request_id
from interlock.ids import new_id, new_id_bytes


def test_an_id_is_a_version_7_uuid_in_hex_carrying_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    parsed = uuid.UUID(hex=made)
    assert made == parsed.hex and len(made) == 32
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert before <= int(made[:12], 16) <= after
    assert new_id_bytes().decode()[12] == "7"


def test_ids_made_later_sort_later_and_none_repeat_across_many_blocks() -> None:
    first = new_id()
    time.sleep(0.002)
    many = [new_id() for _ in range(5000)]  # 10 random bytes each: about a dozen 4 KiB reads
    assert len(set(many)) == len(many)
    assert all(first < later for later in many)
    assert sorted(many, key=lambda i: i[:12]) == many  # the time prefix never goes back


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    new_id()  # the parent holds a block with bytes left
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then leave without running the test session's cleanup
        try:
            os.write(write, new_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    parent = new_id()
    assert len(child) == 32 and child[12:] != parent[12:]  # the random parts differ


def test_the_gateway_request_id_is_time_ordered() -> None:
    rid = new_request_id()
    assert uuid.UUID(hex=rid.decode()).version == 7
