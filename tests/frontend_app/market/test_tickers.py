import pytest

from frontend_app.market import InvalidTicker, validate_ticker


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("AAPL", "AAPL"),
        ("  aapl \n", "AAPL"),
        ("ocdo.l", "OCDO.L"),
        ("^GSPC", "^GSPC"),
        ("EURUSD=X", "EURUSD=X"),
        ("BRK-B", "BRK-B"),
        ("A" * 12, "A" * 12),
    ],
)
def test_valid_tickers_are_trimmed_and_upper_cased(raw: str, expected: str) -> None:
    assert validate_ticker(raw) == expected


@pytest.mark.parametrize(
    "raw, says",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("A" * 13, "longer than 12"),
        ("AAPL;DROP TABLE", "longer than 12"),
        ("AAPL;DROP", "only letters"),
        ("<script>", "only letters"),
        ("../../etc/passwd", "longer than 12"),
        ("../etc", "only letters"),
        ("ÄPPLE", "only letters"),
        ("苹果", "only letters"),
        ("AA PL", "only letters"),
    ],
)
def test_bad_tickers_are_refused_with_a_message(raw: str, says: str) -> None:
    with pytest.raises(InvalidTicker) as caught:
        validate_ticker(raw)
    assert caught.value.code == "invalid_ticker"
    assert says in caught.value.message


def test_non_string_input_is_refused_cleanly() -> None:
    with pytest.raises(InvalidTicker, match="must be a string"):
        validate_ticker(None)  # type: ignore[arg-type]
