from __future__ import annotations

from interlock.resilience.budget import BudgetSettings, RatioBudget
from interlock.resilience.clock import ManualClock


def test_spends_are_capped_at_the_ratio_of_requests_plus_the_floor() -> None:
    budget = RatioBudget(ManualClock(), BudgetSettings(ratio=0.2, min_per_window=3, window_s=10))
    for _ in range(100):
        budget.record_request()
    granted = sum(budget.try_spend() for _ in range(100))
    assert granted == 23
    assert budget.refused() == 77


def test_budget_refills_as_the_window_moves() -> None:
    clock = ManualClock()
    budget = RatioBudget(clock, BudgetSettings(ratio=0.5, min_per_window=0, window_s=10))
    for _ in range(4):
        budget.record_request()
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]
    clock.advance(11)
    assert not budget.try_spend()  # old requests expired too
    for _ in range(2):
        budget.record_request()
    assert budget.try_spend()
