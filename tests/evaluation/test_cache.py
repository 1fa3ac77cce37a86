import sqlite3

from interlock.evaluation.cache import MIGRATIONS, ResultCache
from interlock.evaluation.client import Completion
from interlock.evaluation.scorers import Score


def completion(text, version="m@1"):
    return Completion(
        text=text,
        model_version=version,
        prompt_tokens=3,
        completion_tokens=2,
        cost_usd=None,
        latency_ms=12.5,
        finish_reason="stop",
    )


def test_completions_persist_and_the_newest_version_wins(tmp_path):
    path = tmp_path / "cache.sqlite"
    cache = ResultCache(path)
    cache.put_completion("item", "m", "p1", completion("old"))
    cache.put_completion("item", "m", "p1", completion("new", "m@2"))
    cache.close()
    reopened = ResultCache(path)
    assert reopened.get_completion("item", "m", "p1") == completion("new", "m@2")
    assert reopened.get_completion("item", "m", "p2") is None
    assert reopened.get_completion("item", "other", "p1") is None
    assert reopened.count_completions() == 2


def test_scores_are_keyed_by_version_and_scoring_key(tmp_path):
    cache = ResultCache(tmp_path / "cache.sqlite")
    cache.put_score("item", "m", "m@1", "p", "k", Score(0.5, "half"))
    assert cache.get_score("item", "m", "m@1", "p", "k") == Score(0.5, "half")
    assert cache.get_score("item", "m", "m@2", "p", "k") is None
    assert cache.get_score("item", "m", "m@1", "p", "other") is None


def test_migrations_are_recorded_and_applied_once(tmp_path):
    path = tmp_path / "cache.sqlite"
    ResultCache(path).close()
    ResultCache(path).close()
    rows = sqlite3.connect(path).execute("SELECT version FROM schema_migrations").fetchall()
    assert rows == [(v,) for v in range(1, len(MIGRATIONS) + 1)]
