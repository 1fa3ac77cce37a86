"""Authenticates presented API keys for the request path, with a short-lived cache.

The key store blocks, so lookups run in a worker thread; answers are cached by the
key's hash (never its plaintext) for ``ttl_s``. Revocation must not wait for that: at most
every ``revocation_check_s`` the store's revocation stamp is read (one cheap query, shared
by concurrent requests), and any change drops the cache, so every process sharing the key
database refuses a revoked key within about that interval. Failures never echo the presented key.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from interlock.errors import AuthenticationFailed
from interlock.accounting.keys import ApiKey, KeyStore, hash_key

_MAX_ENTRIES = 10_000

log = logging.getLogger("interlock.keys")


class KeyAuthenticator:
    def __init__(
        self,
        keys: KeyStore,
        *,
        ttl_s: float = 30.0,
        negative_ttl_s: float = 5.0,
        revocation_check_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._revocation_check_s = revocation_check_s
        self._clock = clock
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}
        self._stamp: str | None = None
        self._checked_at = -math.inf
        self._check_lock = asyncio.Lock()
        # Bumped whenever the cache is dropped: a lookup that started before is not cached (it may
        # have read the key just before its revocation).
        self._generation = 0

    async def authenticate(self, presented: str | None) -> ApiKey:
        """The active key for ``presented`` (a bare key or ``Bearer <key>``); else 401."""
        secret = _strip_bearer(presented)
        if not secret:
            raise AuthenticationFailed("Missing API key. Send it as 'Authorization: Bearer <key>'.")
        await self._notice_revocations()
        digest = hash_key(secret)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            key = cached[0]
        else:
            generation = self._generation
            key = await asyncio.to_thread(self._keys.lookup, secret)
            if generation == self._generation:
                if len(self._cache) >= _MAX_ENTRIES:
                    self._cache.clear()
                self._cache[digest] = (key, now + (self._ttl_s if key else self._negative_ttl_s))
        if key is None:
            raise AuthenticationFailed("Invalid or revoked API key.")
        return key

    async def _notice_revocations(self) -> None:
        """Drop the cache when the store's revocation stamp moved since it was last read."""
        if self._clock() - self._checked_at < self._revocation_check_s:
            return
        async with self._check_lock:
            started = self._clock()
            if started - self._checked_at < self._revocation_check_s:
                return  # a concurrent request just read it
            try:
                stamp = await asyncio.to_thread(self._keys.revocation_stamp)
            except Exception as exc:  # the backend's own errors: a revoke cannot be written either
                log.warning("could not read the key revocation stamp (%s); cached keys stay valid up to %gs",
                            type(exc).__name__, self._ttl_s)
                return
            self._checked_at = started
            if stamp != self._stamp:
                self._stamp = stamp
                self.forget()

    def forget(self) -> None:
        """Drop cached answers, e.g. after revoking a key through this process."""
        self._generation += 1
        self._cache.clear()


def _strip_bearer(presented: str | None) -> str:
    if not presented:
        return ""
    value = presented.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value
