"""Canary splits: which of an alias's weighted targets serves a request.

A sticky key (API key id or ``user``) is hashed with the alias name (SHA-256) to a point in
[0, 1) that is laid against the cumulative weights, so a key always lands on the same target,
and moving weight from A to B (95/5 -> 90/10) moves only the keys in the slice that changed
hands. Without a key the point comes from an injected RNG: that is every request naming no
``user`` on a gateway without API keys (its callers are all "anonymous", which is no key to stick to;
the gateway passes no key id for them).
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from interlock.versions.settings import StickyKey, VersionedAlias, WeightedTarget

_SCALE = float(1 << 64)


def sticky_point(alias: str, key: str) -> float:
    """A uniform point in [0, 1) fixed by ``alias`` and ``key`` (different aliases split independently)."""
    digest = hashlib.sha256(f"{alias}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def sticky_key(kind: StickyKey, api_key_id: str | None, user: str | None) -> str | None:
    """The key to hash for ``kind``; ``user`` falls back to the API key when the request names no user."""
    if kind is StickyKey.USER:
        return f"user:{user}" if user else (f"key:{api_key_id}" if api_key_id else None)
    if kind is StickyKey.API_KEY:
        return f"key:{api_key_id}" if api_key_id else None
    return None


def pick_target(targets: Sequence[WeightedTarget], point: float) -> WeightedTarget:
    """The target whose slice of the cumulative weights holds ``point`` (in [0, 1))."""
    if not targets:
        raise ValueError("no targets to choose from")
    bounds = list(accumulate(t.weight for t in targets))
    index = bisect_right(bounds, point * bounds[-1])
    return targets[min(index, len(targets) - 1)]


def choose_target(
    alias: VersionedAlias,
    rng: random.Random,
    *,
    api_key_id: str | None = None,
    user: str | None = None,
) -> str:
    """The ref (model or family@version) that serves this request for ``alias``.

    Deterministic for a given sticky key; requests without one draw from ``rng``.
    """
    targets = alias.weighted_targets()
    if len(targets) == 1:
        return targets[0].model
    key = sticky_key(alias.sticky, api_key_id, user)
    point = sticky_point(alias.name, key) if key is not None else rng.random()
    return pick_target(targets, point).model
