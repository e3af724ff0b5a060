"""What a person sends to start a report (Socket.IO `generate`, POST /api/reports),
checked once here, where it enters: the ticker leaves as a validated Ticker, the peers
as the items named (each one that is not a ticker is left out of the report with the
reason, by market.PeerFinder, never failing it)."""

from __future__ import annotations

from typing import Any

from ..errors import ErtError
from ..jobs import JobSpec
from ..market import validate_ticker
from .dashboard import Dashboard

# "compare with": at most this many characters and names (PeerFinder compares 5 of them).
MAX_PEERS_TEXT = 200
MAX_PEERS_NAMED = 10


def parse_generate_payload(data: Any, dashboard: Dashboard) -> JobSpec:
    """The job `{ticker, model?, peers?}` asks for, or an ErtError saying what is wrong."""
    if not isinstance(data, dict):
        raise ErtError("invalid_request", "Send an object: {ticker, model?, peers?}")
    unknown = set(data) - {"ticker", "model", "peers"}
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
    return JobSpec(ticker=ticker, model=model, peers=_peers(data.get("peers")))


def _peers(raw: Any) -> tuple[str, ...]:
    """ "MSFT, GOOG" or ["MSFT", "GOOG"] as ("MSFT", "GOOG"); None or "" as ()."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = raw.replace(";", ",").replace(",", " ").split()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ErtError("invalid_peers", 'Name peers as text ("MSFT, GOOG") or a list of tickers')
    items = [item.strip() for item in raw if item.strip()]
    if sum(len(item) for item in items) > MAX_PEERS_TEXT or len(items) > MAX_PEERS_NAMED:
        raise ErtError(
            "invalid_peers",
            f"Name at most {MAX_PEERS_NAMED} peers (5 are compared), such as MSFT, GOOG",
        )
    return tuple(items)
