"""Deprecation and sunset: which deployments may still serve, what to tell the client, where to go.

A version is ``active``, then ``deprecated`` from its ``deprecated_after`` day (responses carry
``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594), a ``successor-version`` link and a readable
``x-interlock-deprecation``), then ``sunset`` from its ``sunset`` day: requests go to the
successor (``redirect: true``), or get ``ModelGone`` (410) naming it. Today's date is injected.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from enum import StrEnum

from interlock.config.deployments import DeploymentBase
from interlock.errors import ModelGone
from interlock.versions.settings import VersionLifecycle

DEPRECATION_TEXT_HEADER = "x-interlock-deprecation"
Resolve = Callable[[str], Sequence[DeploymentBase]]


class LifecycleState(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    SUNSET = "sunset"


_EPOCH_DAY = date(1970, 1, 1).toordinal()
_today: tuple[int, date] = (-1, date.min)  # one tuple: threads never see a day with another day's date


def utc_today() -> date:
    """Today in UTC (every request asks; the date is made once a day)."""
    global _today
    day = int(time.time() // 86_400)  # Unix time counts 86,400 seconds a day: this is the UTC day
    if day != _today[0]:
        _today = (day, date.fromordinal(_EPOCH_DAY + day))
    return _today[1]


def state_on(lifecycle: VersionLifecycle | None, today: date) -> LifecycleState:
    if lifecycle is None:
        return LifecycleState.ACTIVE
    if lifecycle.sunset is not None and today >= lifecycle.sunset:
        return LifecycleState.SUNSET
    if lifecycle.deprecated_after is not None and today >= lifecycle.deprecated_after:
        return LifecycleState.DEPRECATED
    return LifecycleState.ACTIVE


def standard_headers(lifecycle: VersionLifecycle) -> dict[str, str]:
    """``Deprecation: @<unix seconds>``, ``Sunset: <HTTP-date>`` and the successor link, as far as set."""
    headers: dict[str, str] = {}
    if lifecycle.deprecated_after is not None:
        headers["deprecation"] = f"@{calendar.timegm(lifecycle.deprecated_after.timetuple())}"
    if lifecycle.sunset is not None:
        midnight = datetime(lifecycle.sunset.year, lifecycle.sunset.month, lifecycle.sunset.day, tzinfo=UTC)
        headers["sunset"] = format_datetime(midnight, usegmt=True)
    if lifecycle.successor is not None:
        headers["link"] = f'</v1/models/{lifecycle.successor}>; rel="successor-version"'
    return headers


def deprecation_text(lifecycle: VersionLifecycle) -> str:
    text = f"model {lifecycle.model!r} is deprecated"
    if lifecycle.deprecated_after is not None:
        text += f" since {lifecycle.deprecated_after.isoformat()}"
    if lifecycle.sunset is not None:
        text += f" and will be retired on {lifecycle.sunset.isoformat()}"
    if lifecycle.successor is not None:
        text += f"; use {lifecycle.successor!r} instead"
    return text


def gone_error(requested: str, lifecycle: VersionLifecycle) -> ModelGone:
    when = lifecycle.sunset.isoformat() if lifecycle.sunset else "an earlier date"
    message = f"The model {requested!r} was retired on {when}."
    if lifecycle.successor is not None:
        message += f" Its successor is {lifecycle.successor!r}; send requests there."
    else:
        message += " It has no successor in this gateway."
    return ModelGone(message, param="model")


@dataclass(frozen=True, slots=True)
class LifecycleVerdict:
    """What may serve a request: ``deployments`` of ``ref`` (the requested ref or a successor)."""

    requested: str
    ref: str
    deployments: tuple[DeploymentBase, ...]
    retired: tuple[VersionLifecycle, ...]
    today: date
    gate: LifecycleGate

    @property
    def redirected(self) -> bool:
        return bool(self.retired)

    def headers_for(self, served: DeploymentBase) -> dict[str, str]:
        """Response headers once ``served`` has answered: the redirect, and its own deprecation."""
        headers: dict[str, str] = {}
        texts = [
            f"model {lc.model!r} was retired on {lc.sunset}; served by its successor {lc.successor!r}"
            for lc in self.retired
        ]
        own = self.gate.lifecycle_of(served)
        if self.retired:
            headers.update(standard_headers(self.retired[0]))
        elif own is not None and state_on(own, self.today) is LifecycleState.DEPRECATED:
            headers.update(standard_headers(own))
        if own is not None and state_on(own, self.today) is LifecycleState.DEPRECATED:
            texts.append(deprecation_text(own))
        if texts:
            headers[DEPRECATION_TEXT_HEADER] = "; ".join(texts).encode("ascii", "replace").decode()
        return headers


class LifecycleGate:
    """The config's ``lifecycle`` entries, looked up per deployment (``model@version`` before ``model``)."""

    def __init__(
        self, entries: Sequence[VersionLifecycle], today: Callable[[], date] = utc_today, max_hops: int = 8
    ) -> None:
        self._entries = {e.model: e for e in entries}
        self.today = today
        self.max_hops = max_hops

    def lifecycle_of(self, deployment: DeploymentBase) -> VersionLifecycle | None:
        if deployment.version is not None:
            entry = self._entries.get(f"{deployment.model}@{deployment.version}")
            if entry is not None:
                return entry
        return self._entries.get(deployment.model)

    def state_of(self, deployment: DeploymentBase, today: date | None = None) -> LifecycleState:
        if not self._entries:
            return LifecycleState.ACTIVE
        return state_on(self.lifecycle_of(deployment), today or self.today())

    def check(self, ref: str, deployments: Sequence[DeploymentBase], resolve: Resolve) -> LifecycleVerdict:
        """Drop sunset deployments; when none is left, follow the successor (``resolve`` maps a ref to
        deployments), or raise ``ModelGone`` (410) naming it."""
        today = self.today()
        if not self._entries:  # no lifecycle in the config: every version is active
            return LifecycleVerdict(ref, ref, tuple(deployments), (), today, self)
        current_ref, current = ref, tuple(deployments)
        retired: list[VersionLifecycle] = []
        for _ in range(self.max_hops + 1):
            live = tuple(d for d in current if self.state_of(d, today) is not LifecycleState.SUNSET)
            if live or not current:
                return LifecycleVerdict(ref, current_ref, live, tuple(retired), today, self)
            lifecycles = [lc for d in current if (lc := self.lifecycle_of(d)) is not None]
            lifecycle = next((lc for lc in lifecycles if lc.successor), lifecycles[0])
            if lifecycle.successor is None or not lifecycle.redirect:
                raise gone_error(ref, lifecycle)
            retired.append(lifecycle)
            current_ref, current = lifecycle.successor, tuple(resolve(lifecycle.successor))
        raise ModelGone(
            f"The model {ref!r} was retired and its successors do not end within {self.max_hops} steps.",
            param="model",
        )
