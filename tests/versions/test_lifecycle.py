"""Lifecycle by injected date: active, deprecated (headers), sunset (successor, or 410 naming it)."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from interlock.errors import ModelGone
from interlock.versions.lifecycle import LifecycleGate, LifecycleState, state_on
from interlock.versions.refs import VersionIndex
from interlock.versions.settings import VersionLifecycle
from versions.builders import deployment

OLD = deployment("qwen-old", "qwen", "2025-11")
NEW_A = deployment("qwen-new-a", "qwen", "2026-03")
NEW_B = deployment("qwen-new-b", "qwen", "2026-03")
LLAMA = deployment("llama", "llama", "3.1")
INDEX = VersionIndex([OLD, NEW_A, NEW_B, LLAMA])

RETIRING = VersionLifecycle(
    model="qwen@2025-11",
    deprecated_after=date(2026, 4, 1),
    sunset=date(2026, 6, 30),
    successor="qwen@2026-03",
)


def gate(*entries: VersionLifecycle, today: date) -> LifecycleGate:
    return LifecycleGate(entries, today=lambda: today)


def test_states_follow_the_calendar() -> None:
    assert state_on(RETIRING, date(2026, 3, 31)) is LifecycleState.ACTIVE
    assert state_on(RETIRING, date(2026, 4, 1)) is LifecycleState.DEPRECATED
    assert state_on(RETIRING, date(2026, 6, 29)) is LifecycleState.DEPRECATED
    assert state_on(RETIRING, date(2026, 6, 30)) is LifecycleState.SUNSET
    assert state_on(None, date(2099, 1, 1)) is LifecycleState.ACTIVE


def test_an_active_version_gets_no_headers() -> None:
    verdict = gate(RETIRING, today=date(2026, 3, 1)).check("qwen@2025-11", [OLD], INDEX.resolve)
    assert verdict.deployments == (OLD,) and not verdict.redirected
    assert verdict.headers_for(OLD) == {}


def test_a_deprecated_version_still_serves_with_headers() -> None:
    verdict = gate(RETIRING, today=date(2026, 5, 1)).check("qwen@2025-11", [OLD], INDEX.resolve)
    assert verdict.deployments == (OLD,)
    headers = verdict.headers_for(OLD)
    assert headers["deprecation"] == f"@{calendar.timegm(date(2026, 4, 1).timetuple())}" == "@1775001600"
    assert headers["sunset"] == "Tue, 30 Jun 2026 00:00:00 GMT"
    assert headers["link"] == '</v1/models/qwen@2026-03>; rel="successor-version"'
    text = headers["x-interlock-deprecation"]
    assert "'qwen@2025-11' is deprecated since 2026-04-01" in text
    assert "retired on 2026-06-30" in text and "use 'qwen@2026-03'" in text


def test_after_sunset_requests_go_to_the_successor() -> None:
    verdict = gate(RETIRING, today=date(2026, 7, 1)).check("qwen@2025-11", [OLD], INDEX.resolve)
    assert verdict.redirected and verdict.ref == "qwen@2026-03"
    assert verdict.deployments == (NEW_A, NEW_B)
    headers = verdict.headers_for(NEW_A)
    assert (
        "was retired on 2026-06-30; served by its successor 'qwen@2026-03'"
        in headers["x-interlock-deprecation"]
    )
    assert headers["sunset"] == "Tue, 30 Jun 2026 00:00:00 GMT"


def test_after_sunset_without_redirect_is_410_naming_the_successor() -> None:
    refusing = RETIRING.model_copy(update={"redirect": False})
    with pytest.raises(ModelGone) as info:
        gate(refusing, today=date(2026, 6, 30)).check("qwen@2025-11", [OLD], INDEX.resolve)
    err = info.value
    assert err.status == 410 and err.code == "model_sunset" and err.param == "model"
    assert err.message == (
        "The model 'qwen@2025-11' was retired on 2026-06-30. "
        "Its successor is 'qwen@2026-03'; send requests there."
    )
    assert err.to_openai()["error"]["type"] == "invalid_request_error"


def test_after_sunset_without_a_successor_is_410() -> None:
    orphan = VersionLifecycle(model="llama", sunset=date(2026, 1, 1))
    with pytest.raises(ModelGone, match="It has no successor"):
        gate(orphan, today=date(2026, 1, 1)).check("llama", [LLAMA], INDEX.resolve)


def test_a_family_keeps_serving_from_its_live_versions() -> None:
    verdict = gate(RETIRING, today=date(2026, 7, 1)).check("qwen", INDEX.resolve("qwen"), INDEX.resolve)
    assert verdict.deployments == (NEW_A, NEW_B) and not verdict.redirected
    assert verdict.headers_for(NEW_A) == {}


def test_successor_chains_are_followed_and_version_entries_beat_model_entries() -> None:
    entries = (
        RETIRING,
        VersionLifecycle(model="qwen@2026-03", sunset=date(2026, 9, 1), successor="llama"),
        VersionLifecycle(model="qwen", deprecated_after=date(2026, 1, 1)),  # every other qwen version
    )
    g = gate(*entries, today=date(2026, 10, 1))
    verdict = g.check("qwen@2025-11", [OLD], INDEX.resolve)
    assert verdict.ref == "llama" and verdict.deployments == (LLAMA,)
    assert [lc.model for lc in verdict.retired] == ["qwen@2025-11", "qwen@2026-03"]
    assert g.lifecycle_of(NEW_A) == entries[1]
    assert g.lifecycle_of(deployment("qwen-other", "qwen", "2024")) == entries[2]
    assert g.state_of(deployment("qwen-other", "qwen", "2024")) is LifecycleState.DEPRECATED


def test_utc_today_is_the_utc_date_and_turns_at_utc_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from interlock.versions import lifecycle

    assert lifecycle.utc_today() == datetime.now(UTC).date()
    midnight = datetime(2027, 3, 1, tzinfo=UTC).timestamp()
    for at, day in ((midnight - 0.001, date(2027, 2, 28)), (midnight, date(2027, 3, 1)),
                    (midnight + 86_399.9, date(2027, 3, 1)), (midnight - 86_400.001, date(2027, 2, 27))):
        monkeypatch.setattr(lifecycle, "time", SimpleNamespace(time=lambda at=at: at))
        assert lifecycle.utc_today() == day, at
