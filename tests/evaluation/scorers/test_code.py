from interlock.evaluation.scorers import ScoringContext, scorer_type
from interlock.evaluation.scorers.code import extract_code

TESTS = "def test_small():\n    assert add(1, 2) == 3\n\ndef test_negative():\n    assert add(-1, -1) == -2\n"


def _score(make_item, output, **limits):
    item = make_item("code", options={"tests": TESTS, **limits}, category="code")
    return scorer_type("code").build(item.options, ScoringContext()).score(item, output)


def test_right_and_wrong_code(make_item):
    right = _score(make_item, "Sure:\n```python\ndef add(a, b):\n    return a + b\n```\nThis adds.")
    assert right.value == 1.0 and right.detail.startswith("2/2 tests passed")
    wrong = _score(make_item, "```python\ndef add(a, b):\n    return abs(a) + abs(b)\n```")
    assert wrong.value == 0.5 and "test_negative" in wrong.detail


def test_infinite_loop_is_killed_and_scores_zero(make_item):
    score = _score(make_item, "```python\nwhile True:\n    pass\n```", cpu_s=1, timeout_s=5)
    assert score.value == 0.0 and "cpu_limit" in score.detail


def test_memory_hog_is_stopped_and_scores_zero(make_item):
    hog = "```python\nchunks = []\nwhile True:\n    chunks.append(bytearray(50_000_000))\n```"
    score = _score(make_item, hog, memory_mb=256)
    assert score.value == 0.0 and "MemoryError" in score.detail


def test_extract_code_variants():
    assert extract_code("```py\nx = 1\n```\ntext\n```python\ny = 2\n```") == "x = 1\n\ny = 2\n"
    assert extract_code("```python\ndef f():\n    return 1") == "def f():\n    return 1\n"  # cut off
    assert extract_code("Here is the function:\ndef f():\n    return 1") == "def f():\n    return 1"
    assert extract_code("```bash\nls\n```\nno python") == "```bash\nls\n```\nno python"
