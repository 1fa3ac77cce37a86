"""Authenticating presented keys on the request path."""

from __future__ import annotations

import pytest

from interlock.errors import AuthenticationFailed
from interlock.storage.database import Database
from interlock.storage.key_auth import KeyAuthenticator
from interlock.storage.keys import SqlKeyStore


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys(database: Database) -> SqlKeyStore:
    return SqlKeyStore(database)


async def test_a_bearer_key_authenticates(keys: SqlKeyStore) -> None:
    created = keys.create("ml")
    auth = KeyAuthenticator(keys)
    assert (await auth.authenticate(f"Bearer {created.secret}")).key_id == created.key.key_id
    assert (await auth.authenticate(created.secret)).team == "ml"


@pytest.mark.parametrize("presented", [None, "", "Bearer ", "Bearer il-nope"])
async def test_missing_or_wrong_keys_are_401_without_echoing_the_key(keys: SqlKeyStore, presented) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await KeyAuthenticator(keys).authenticate(presented)
    assert caught.value.status == 401
    assert "il-nope" not in caught.value.message


async def test_a_revoked_key_stops_working_within_the_cache_ttl(keys: SqlKeyStore) -> None:
    clock = Ticker()
    created = keys.create("ml")
    auth = KeyAuthenticator(keys, ttl_s=30, clock=clock)
    await auth.authenticate(created.secret)
    keys.revoke(created.key.key_id)

    clock.now = 29
    await auth.authenticate(created.secret)  # still cached
    clock.now = 31
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(created.secret)


class CountingKeys:
    def __init__(self, store: SqlKeyStore) -> None:
        self.store = store
        self.lookups = 0

    def lookup(self, presented: str):
        self.lookups += 1
        return self.store.lookup(presented)


async def test_answers_are_cached_by_hash_good_and_bad(database: Database) -> None:
    clock = Ticker()
    keys = CountingKeys(SqlKeyStore(database))
    auth = KeyAuthenticator(keys, ttl_s=30, negative_ttl_s=5, clock=clock)  # type: ignore[arg-type]
    created = keys.store.create("ml")
    for _ in range(3):
        await auth.authenticate(created.secret)
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate("il-wrong")
    assert keys.lookups == 2
    clock.now = 6  # the negative answer expired, the positive one has not
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate("il-wrong")
    await auth.authenticate(created.secret)
    assert keys.lookups == 3
