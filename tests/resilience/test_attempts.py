"""The attempt report as clients read it: ``x-interlock-attempts`` and ``x-interlock-fallback``."""

from __future__ import annotations

from interlock.resilience.attempts import Attempt, AttemptReport
from interlock.resilience.failures import Outcome


def test_each_attempt_reads_deployment_outcome_time_then_code_and_hedge() -> None:
    report = AttemptReport(planned=["a", "b", "c"])
    report.add(Attempt("a", Outcome.TIMEOUT, 1.2344, error_code="timeout_total"))
    report.add(Attempt("b", Outcome.HEDGE_LOST, 0.0496, hedge=True))
    report.add(Attempt("c", Outcome.OK, 0.0015))
    headers = report.headers()
    assert headers["x-interlock-attempts"] == (
        "a;outcome=timeout;ms=1234;code=timeout_total, b;outcome=hedge_lost;ms=50;hedge, c;outcome=ok;ms=2")
    assert headers["x-interlock-fallback"] == "from=a; reason=timeout_total"


def test_the_first_choice_is_the_first_planned_deployment_not_skipped() -> None:
    report = AttemptReport(planned=["a", "b", "c"], skipped=[("a", "filtered")])
    assert report.first_choice == "b"
    report.add(Attempt("b", Outcome.OK, 0.01))
    assert not report.fell_back and "x-interlock-fallback" not in report.headers()
    assert AttemptReport(planned=["a"], skipped=[("a", "filtered")]).first_choice is None
    assert AttemptReport().first_choice is None
    served_first = AttemptReport(planned=["a", "b"])
    served_first.add(Attempt("a", Outcome.OK, 0.01))
    assert served_first.headers() == {"x-interlock-attempts": "a;outcome=ok;ms=10"}
