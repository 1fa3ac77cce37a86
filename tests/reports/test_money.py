import pytest

from interlock.reports.money import format_usd


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.4, "$1,234"),
        (1_234_567.89, "$1,234,568"),
        (475.2, "$475"),
        (99.999, "$100"),  # rounds into whole dollars, not "$100.00"
        (12.3, "$12.30"),
        (1.0, "$1.00"),
        (0.5, "$0.50"),
        (0.123, "$0.12"),
        (0.015, "$0.015"),  # two significant figures: not "$0.01", which would be a third off
        (0.0042, "$0.0042"),
        (0.00042, "$0.00042"),
        (0.0001, "$0.0001"),
        (0.00000004, "under $0.0001"),
        (0.9999, "$1.00"),
        (0.0, "$0.00"),
        (-12.3, "-$12.30"),
        (None, "—"),
    ],
)
def test_money_is_rounded_for_reading(value, text):
    assert format_usd(value) == text


@pytest.mark.parametrize(("value", "text"), [(10.0, "$10"), (2.5, "$2.50"), (0.0, "$0"), (0.001, "$0.001")])
def test_axis_ticks_drop_zero_cents(value, text):
    assert format_usd(value, compact=True) == text


def test_never_a_run_of_zeros_or_float_noise():
    for exponent in range(-4, 7):
        for mantissa in (1.0, 1.2345678, 3.3333333, 9.87654321):
            text = format_usd(mantissa * 10**exponent)
            decimals = text.partition(".")[2]
            assert "0.000000" not in text and len(decimals) <= 5, text
