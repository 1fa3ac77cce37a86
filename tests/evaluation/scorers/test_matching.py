from interlock.evaluation.scorers.matching import extract_numbers, normalize_text


def test_exact_requires_identical_text_up_to_surrounding_whitespace(make_item):
    item = make_item("exact", "Paris")
    scorer = _scorer(item)
    assert scorer.score(item, "  Paris\n").value == 1.0
    assert scorer.score(item, "paris").value == 0.0


def test_exact_accepts_any_listed_answer(make_item):
    item = make_item("exact", ["Paris", "Paris, France"])
    assert _scorer(item).score(item, "Paris, France").value == 1.0


def test_normalized_ignores_case_whitespace_and_punctuation(make_item):
    item = make_item("normalized", "New York City")
    scorer = _scorer(item)
    assert scorer.score(item, "  new   york city. ").value == 1.0
    assert scorer.score(item, "New York").value == 0.0
    assert normalize_text("Hello,  WORLD!") == "hello world"


def test_contains_any_and_all(make_item):
    any_item = make_item("contains", ["refund", "money back"])
    assert _scorer(any_item).score(any_item, "We will give your MONEY BACK.").value == 1.0
    assert _scorer(any_item).score(any_item, "Thanks for writing.").value == 0.0
    all_item = make_item("contains", ["refund", "5 days", "order"], {"mode": "all"})
    score = _scorer(all_item).score(all_item, "Your refund arrives in 5 days.")
    assert score.value == 2 / 3 and "missing 'order'" in score.detail


def test_regex_from_options_or_expected(make_item):
    item = make_item("regex", None, {"pattern": r"\bORD-\d{4}\b"})
    assert _scorer(item).score(item, "Your order ORD-1234 shipped").value == 1.0
    assert _scorer(item).score(item, "Your order ORD-12 shipped").value == 0.0
    full = make_item("regex", "yes|no", {"fullmatch": True, "flags": "i"})
    assert _scorer(full).score(full, " YES ").value == 1.0
    assert _scorer(full).score(full, "yes, definitely").value == 0.0


def test_number_reads_the_final_number(make_item):
    item = make_item("number", 42)
    scorer = _scorer(item)
    assert scorer.score(item, "6 boxes of 7 is 6*7 = 42.").value == 1.0
    assert scorer.score(item, "42 is tempting but the answer is 41").value == 0.0
    assert scorer.score(item, "No idea").detail == "no number in the output"
    money = make_item("number", 1250.5)
    assert _scorer(money).score(money, "Total: $1,250.50").value == 1.0
    assert extract_numbers("from -3 to 2.5, then 1,000") == [-3.0, 2.5, 1000.0]


def _scorer(item):
    from interlock.evaluation.scorers import ScoringContext, scorer_type

    return scorer_type(item.scorer).build(item.options, ScoringContext())
