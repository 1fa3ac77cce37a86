"""Gateway processes announcing themselves in the shared database, and the warning about unshared budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from interlock.storage.database import Database
from interlock.accounting.instances import (
    PROCESS_BUDGETS,
    InstanceRegistry,
    budget_scope,
    unshared_budget_warning,
)


class Moment:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_live_processes_see_each_other_and_forget_those_gone(database: Database) -> None:
    clock = Moment()
    a = InstanceRegistry(database, PROCESS_BUDGETS, instance_id="host-a:1", stale_after_s=45, clock=clock)
    b = InstanceRegistry(database, PROCESS_BUDGETS, instance_id="host-b:2", stale_after_s=45, clock=clock)
    a.beat()
    assert a.peers() == []
    b.beat()
    assert [p.instance_id for p in a.peers()] == ["host-b:2"]
    assert [p.instance_id for p in b.peers()] == ["host-a:1"]

    clock.now += timedelta(seconds=60)  # b stopped beating without leaving (killed)
    a.beat()
    assert a.peers() == []
    b.beat()
    b.leave()
    assert a.peers() == []


def test_a_replaced_registry_of_the_same_process_does_not_remove_its_successor(database: Database) -> None:
    old = InstanceRegistry(database, PROCESS_BUDGETS, instance_id="host-a:1")
    new = InstanceRegistry(database, PROCESS_BUDGETS, instance_id="host-a:1")  # after a config reload
    other = InstanceRegistry(database, PROCESS_BUDGETS, instance_id="host-b:2")
    old.beat()
    new.beat()
    old.leave()
    assert [p.instance_id for p in other.peers()] == ["host-a:1"]


def test_the_warning_names_processes_whose_budgets_are_apart(database: Database) -> None:
    shared = budget_scope("redis://:secret@cache.internal:6380/2")
    assert shared == "redis://cache.internal:6380/2" and "secret" not in shared
    InstanceRegistry(database, shared, instance_id="host-a:1").beat()
    InstanceRegistry(database, PROCESS_BUDGETS, instance_id="host-b:2").beat()
    me = InstanceRegistry(database, shared, instance_id="host-c:3")
    warning = unshared_budget_warning(shared, me.peers())
    assert warning is not None and "1 other gateway process" in warning and "pid" in warning
    assert "accounting.redis_url" in warning
    alone = InstanceRegistry(database, PROCESS_BUDGETS, instance_id="host-d:4")
    assert "2 other gateway process" in (unshared_budget_warning(PROCESS_BUDGETS, alone.peers()) or "")
    assert unshared_budget_warning(shared, []) is None
