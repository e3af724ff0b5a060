"""What a person sends to start a report (Socket.IO `generate`, POST /api/reports),
checked once here, where it enters: the ticker leaves as a validated Ticker."""

from __future__ import annotations

from typing import Any

from ..errors import ErtError
from ..jobs import JobSpec
from ..market import validate_ticker
from .dashboard import Dashboard


def parse_generate_payload(data: Any, dashboard: Dashboard) -> JobSpec:
    """The job `{ticker, model?}` asks for, or an ErtError saying what is wrong."""
    if not isinstance(data, dict):
        raise ErtError("invalid_request", "Send an object: {ticker, model?}")
    unknown = set(data) - {"ticker", "model"}
    if unknown:
        raise ErtError("invalid_request", f"Unknown fields: {', '.join(sorted(unknown))}")
    raw = data.get("ticker")
    if not isinstance(raw, str):
        raise ErtError("invalid_ticker", "Type a ticker such as AAPL")
    ticker = validate_ticker(raw)
    model = data.get("model")
    if model is not None:
        # Only a name the picker offers: 0, false or "" are not "the default model".
        allowed = {m["name"] for m in dashboard.models()} | set(dashboard.settings.ert_models)
        if not isinstance(model, str) or model not in allowed:
            raise ErtError(
                "unknown_model", f"Choose one of the offered models: {', '.join(sorted(allowed))}"
            )
    return JobSpec(ticker=ticker, model=model)
