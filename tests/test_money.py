"""Exact money: yuan read and written to the fen, never a float (property-based)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.i18n import force_locale
from app.core.money import MAX_FEN, MoneyError, format_percent, format_yuan, parse_percent, parse_yuan

fen = st.integers(min_value=0, max_value=MAX_FEN - 1)


@pytest.mark.parametrize("text, expected", [
    ("1000", 100000), ("1,000.50", 100050), ("1000.5元", 100050), ("￥1,000.50", 100050),
    ("¥ 12", 1200), ("0.01", 1), ("0", 0), ("１，０００．５", 100050), (" 3.1 ", 310),
    ("1,234,567.89", 123456789), ("+5", 500),
])
def test_parse_reads_what_people_type(text, expected):
    assert parse_yuan(text) == expected


@pytest.mark.parametrize("text, words", [
    ("1,00.5", "three digits"), ("1.005", "two decimal"), ("-3", "negative"),
    ("abc", "such as"), ("1e3", "such as"), ("", "Enter an amount"), ("1.", "such as"),
    (".5", "such as"), ("1,0000", "three digits"), ("1.2.3", "such as"), ("元", "such as"),
    ("10000000000000", "too large"),
])
def test_parse_refuses_what_it_could_misread(app, text, words):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(MoneyError) as caught:
            parse_yuan(text)
        assert words in str(caught.value.args[0])


def test_format_shows_two_decimals_and_separators():
    assert format_yuan(0) == "0.00"
    assert format_yuan(5) == "0.05"
    assert format_yuan(100050) == "1,000.50"
    assert format_yuan(-12345) == "-123.45"
    assert format_yuan(None) == ""


@given(fen)
def test_parse_format_round_trip(amount):
    assert parse_yuan(format_yuan(amount)) == amount
    assert parse_yuan(format_yuan(amount) + "元") == amount
    assert parse_yuan(format_yuan(amount).replace(",", "")) == amount


@given(st.lists(st.integers(min_value=0, max_value=10**11), max_size=50))
def test_sums_add_up_to_the_cent(amounts):
    """The total of the shown amounts, read back, is the total of the amounts: no drift."""
    shown = [format_yuan(a) for a in amounts]
    assert sum(parse_yuan(s) for s in shown) == sum(amounts)
    assert parse_yuan(format_yuan(sum(amounts))) == sum(amounts)
    whole_yuan = sum(int(s.replace(",", "").split(".")[0]) for s in shown)
    cents = sum(int(s.split(".")[1]) for s in shown)
    assert whole_yuan * 100 + cents == sum(amounts)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_decimal_text_is_exact(whole, cents):
    """Amounts that floats cannot hold (0.1 + 0.2) are read exactly."""
    assert parse_yuan(f"{whole}.{cents:02d}") == whole * 100 + cents


def test_float_traps_are_exact():
    assert parse_yuan("0.1") + parse_yuan("0.2") == parse_yuan("0.3")
    assert parse_yuan("19.99") * 3 == 5997


@given(st.integers(min_value=0, max_value=10000))
def test_percent_round_trip(bp):
    assert parse_percent(format_percent(bp)) == bp
    assert parse_percent(format_percent(bp) + "%") == bp


@pytest.mark.parametrize("text", ["100.01", "-1", "33.333", "x", ""])
def test_percent_refuses(app, text):
    with app.test_request_context():
        with pytest.raises(MoneyError):
            parse_percent(text)
