"""Resilience: timeouts, retries, circuit breakers, health, balancing, hedging and fallback.

Each piece wraps a ``Provider`` and is one itself; ``DeploymentRegistry`` composes them per
deployment and builds a per-request ``FallbackChain``. See docs/resilience.md.
"""

from interlock.resilience.attempts import Attempt, AttemptReport
from interlock.resilience.breaker import BreakerSettings, BreakerState, CircuitBreaker
from interlock.resilience.clock import Clock, ManualClock, MonotonicClock
from interlock.resilience.failures import (
    AllCandidatesFailed,
    CircuitOpen,
    NoEligibleDeployment,
    Outcome,
    StreamInterrupted,
)
from interlock.resilience.fallback import ChainPolicy, FallbackChain
from interlock.resilience.health import DeploymentHealth, HealthSnapshot, MetricSample
from interlock.resilience.hedging import HedgeSettings
from interlock.resilience.registry import DeploymentRegistry, DeploymentStatus, ResilienceSettings
from interlock.resilience.retry import RetryPolicy, RetrySettings
from interlock.resilience.timeouts import TimeoutSettings

__all__ = [
    "AllCandidatesFailed",
    "Attempt",
    "AttemptReport",
    "BreakerSettings",
    "BreakerState",
    "ChainPolicy",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "DeploymentHealth",
    "DeploymentRegistry",
    "DeploymentStatus",
    "FallbackChain",
    "HealthSnapshot",
    "HedgeSettings",
    "ManualClock",
    "MetricSample",
    "MonotonicClock",
    "NoEligibleDeployment",
    "Outcome",
    "ResilienceSettings",
    "RetryPolicy",
    "RetrySettings",
    "StreamInterrupted",
    "TimeoutSettings",
]
