"""Authenticates presented API keys for the request path, with a short-lived cache.

The key store blocks, so lookups run in a worker thread; answers are cached by the
key's hash (never its plaintext) for ``ttl_s``, which bounds how long a revoked key
keeps working in a running gateway. Failures never echo the presented key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from interlock.errors import AuthenticationFailed
from interlock.storage.keys import ApiKey, KeyStore, hash_key

_MAX_ENTRIES = 10_000


class KeyAuthenticator:
    def __init__(
        self,
        keys: KeyStore,
        *,
        ttl_s: float = 30.0,
        negative_ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}

    async def authenticate(self, presented: str | None) -> ApiKey:
        """The active key for ``presented`` (a bare key or ``Bearer <key>``); else 401."""
        secret = _strip_bearer(presented)
        if not secret:
            raise AuthenticationFailed("Missing API key. Send it as 'Authorization: Bearer <key>'.")
        digest = hash_key(secret)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            key = cached[0]
        else:
            key = await asyncio.to_thread(self._keys.lookup, secret)
            if len(self._cache) >= _MAX_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (key, now + (self._ttl_s if key else self._negative_ttl_s))
        if key is None:
            raise AuthenticationFailed("Invalid or revoked API key.")
        return key

    def forget(self) -> None:
        """Drop cached answers, e.g. after revoking a key through this process."""
        self._cache.clear()


def _strip_bearer(presented: str | None) -> str:
    if not presented:
        return ""
    value = presented.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value
