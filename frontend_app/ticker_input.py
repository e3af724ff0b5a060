"""Checks of what a person sends to start a report (Socket.IO `generate`, POST /api/reports)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .market import MarketDataError, validate_ticker

if TYPE_CHECKING:
    from .services import Dashboard


class TickerInputError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_generate_payload(data: Any, dashboard: Dashboard) -> tuple[str, str | None]:
    """(ticker, model) from `{ticker, model?}`, or TickerInputError saying what is wrong."""
    if not isinstance(data, dict):
        raise TickerInputError("invalid_request", "Send an object: {ticker, model?}")
    unknown = set(data) - {"ticker", "model"}
    if unknown:
        raise TickerInputError("invalid_request", f"Unknown fields: {', '.join(sorted(unknown))}")
    raw = data.get("ticker")
    if not isinstance(raw, str):
        raise TickerInputError("invalid_ticker", "Type a ticker such as AAPL")
    try:
        ticker = validate_ticker(raw)
    except MarketDataError as exc:
        raise TickerInputError(exc.code, exc.message) from None
    model = data.get("model") or None
    if model is not None:
        allowed = {m["name"] for m in dashboard.models()} | set(dashboard.settings.ert_models)
        if not isinstance(model, str) or model not in allowed:
            raise TickerInputError(
                "unknown_model", f"Choose one of the offered models: {', '.join(sorted(allowed))}"
            )
    return ticker, model
