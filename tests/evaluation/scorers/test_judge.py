import pytest

from interlock.evaluation.scorers import ScorerConfigError, ScoringContext, scorer_type
from interlock.evaluation.scorers.judge import parse_judge_score, parse_verdict


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ("Score: 8\nAccurate and concise.", 0.8),
        ("**Score:** 7/10", 0.7),
        ("I would rate this 4 out of 5.", 0.8),
        ("9", 0.9),
        ("score = 10", 1.0),
        ("The response is fine.", None),
        ("Score: 14", None),
    ],
)
def test_parse_judge_score(reply, value):
    assert parse_judge_score(reply) == value


def test_parse_verdict():
    assert parse_verdict("Verdict: B\nB is more complete.") == "B"
    assert parse_verdict("**Verdict:** tie") == "tie"
    assert parse_verdict("A. It answers the question.") == "A"
    assert parse_verdict("Both are fine") is None


def test_rubric_judge_through_the_gateway(make_item, gateway):
    item = make_item(
        "llm_judge",
        "Reset it from Settings > Security.",
        prompt="How do I reset my password?",
        category="customer_support",
    )
    scorer = scorer_type("llm_judge").build(
        item.options, ScoringContext(base_url=gateway.url, judge_model="judge")
    )
    _answer_every_judge_prompt(gateway, "Score: 8\nClear and correct.")
    score = scorer.score(item, "Go to Settings, then Security, then Reset password.")
    assert score.value == 0.8
    [request] = gateway.calls("judge")
    assert request["temperature"] == 0
    assert "Reset it from Settings > Security." in request["messages"][-1]["content"]


def test_pairwise_judge_scores_win_tie_loss(make_item, gateway):
    item = make_item("llm_judge", "reference answer", {"mode": "pairwise", "judge_model": "judge"})
    scorer = scorer_type("llm_judge").build(item.options, ScoringContext(base_url=gateway.url))
    _answer_every_judge_prompt(gateway, "Verdict: tie")
    assert scorer.score(item, "candidate").value == 0.5
    request = gateway.calls("judge")[-1]["messages"][-1]["content"]
    prompt_order_a = request.index("candidate") < request.index("reference answer")
    _answer_every_judge_prompt(gateway, "Verdict: A" if prompt_order_a else "Verdict: B")
    assert scorer.score(item, "candidate").value == 1.0
    _answer_every_judge_prompt(gateway, "Verdict: B" if prompt_order_a else "Verdict: A")
    assert scorer.score(item, "candidate").value == 0.0


def test_judge_needs_a_model(make_item):
    item = make_item("llm_judge")
    with pytest.raises(ScorerConfigError):
        scorer_type("llm_judge").build(item.options, ScoringContext(base_url="http://127.0.0.1:9"))


def test_unparseable_judge_reply_is_an_error_not_a_zero(make_item, gateway):
    item = make_item("llm_judge")
    scorer = scorer_type("llm_judge").build(
        item.options, ScoringContext(base_url=gateway.url, judge_model="judge")
    )
    _answer_every_judge_prompt(gateway, "It is a reasonable reply.")
    with pytest.raises(ValueError, match="no score"):
        scorer.score(item, "whatever")


def _answer_every_judge_prompt(gateway, reply):
    gateway.default_answers["judge"] = reply
