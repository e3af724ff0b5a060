"""The one report writer, shared by the GPU tier and the dashboard's in-process engines.

`ReportWriter(engine, *, concurrency_limit, grounding_threshold=0.2, engine_name=None,
generation_timeout=None, num_ctx=8192, token_window=0.0)`; see `vast_ai.writer.report`
for its behaviour (the GPU tier passes OLLAMA_CONTEXT_LENGTH as `num_ctx`, and a token
window).
"""

from vast_ai.writer.report import ReportWriter

__all__ = ["ReportWriter"]
