"""Benchmark: sections written concurrently vs one at a time.

An engine imitates a GPU serving 4 requests in parallel (OLLAMA_NUM_PARALLEL=4), each
slot at a fixed token rate. The same 6-section report is written by the real
ReportWriter with concurrency_limit=1 (sequential) and concurrency_limit=4.

Per call the imitation writes: a body section 250 tokens, the executive summary 150,
the rating 120 (gpt-oss thinks before it answers). The five body sections run first,
then the summary (which reads them) alongside the rating, so with 4 slots the ideal is
3 slot-rounds against 7 calls in a row. Reported: wall times, speed-up, the ideal.
Target: >= 2.5x.

    .venv/bin/python bench/bench_parallel_sections.py
    .venv/bin/python bench/bench_parallel_sections.py --rate 500
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vast_ai.engines.base import ChatChunk, ChatRequest, ChunkUsage
from vast_ai.schemas import ReportRequest
from vast_ai.writer import ReportWriter
from vast_ai.writer.prompts import read_task

GPU_SLOTS = 4
BODY_TOKENS, SUMMARY_TOKENS, RATING_TOKENS = 250, 150, 120
TOKENS_PER_CHUNK = 10
RATING = '{"recommendation": "hold", "conviction": "medium", "summary": "Fairly valued."}'


class GpuImitation:
    """`slots` requests decode at once, each at `rate` tokens/s; more wait for a slot."""

    name = "gpu-imitation"

    def __init__(self, rate: float, slots: int = GPU_SLOTS) -> None:
        self.rate = rate
        self._slots = asyncio.Semaphore(slots)

    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        task = read_task(request.messages)
        if request.json_schema is not None:
            tokens, final_text = RATING_TOKENS, RATING
        elif task is not None and task.section == "executive_summary":
            tokens, final_text = SUMMARY_TOKENS, ""
        else:
            tokens, final_text = BODY_TOKENS, ""
        async with self._slots:
            for sent in range(0, tokens, TOKENS_PER_CHUNK):
                await asyncio.sleep(TOKENS_PER_CHUNK / self.rate)
                if not final_text:
                    yield ChatChunk(text=f" t{sent}" * TOKENS_PER_CHUNK)
            if final_text:
                yield ChatChunk(text=final_text)
            yield ChatChunk(
                done=True,
                usage=ChunkUsage(completion_tokens=tokens, eval_seconds=tokens / self.rate),
            )

    async def list_models(self) -> list[str]:
        return ["imitation"]

    async def model_digest(self, model: str) -> str | None:
        return None

    async def close(self) -> None:
        return None


def report_request() -> ReportRequest:
    return ReportRequest(
        ticker="AAPL",
        company_data={"name": "Apple Inc."},
        financial_data={},
        fact_sheet=[{"key": "pe", "label": "P/E", "value": 29.5, "display": "29.5x"}],
    )


async def wall_time(limit: int, rate: float) -> float:
    writer = ReportWriter(GpuImitation(rate), concurrency_limit=limit)
    started = time.perf_counter()
    report = await writer.write(report_request(), "imitation")
    elapsed = time.perf_counter() - started
    assert report.success and len(report.sections) == 6, "the report was not complete"
    return elapsed


async def main(rate: float) -> int:
    sequential = await wall_time(1, rate)
    concurrent = await wall_time(GPU_SLOTS, rate)
    speedup = sequential / concurrent
    calls = 5 * BODY_TOKENS + SUMMARY_TOKENS + RATING_TOKENS
    rounds = 2 * BODY_TOKENS + max(SUMMARY_TOKENS, RATING_TOKENS)
    print(f"GPU imitation: {GPU_SLOTS} slots at {rate:g} tokens/s each; 6 sections and a rating")
    print(f"sequential (limit 1): {sequential:6.2f} s")
    print(f"concurrent (limit {GPU_SLOTS}): {concurrent:6.2f} s")
    print(
        f"speed-up: {speedup:.2f}x (target >= 2.5x; ideal for this schedule {calls / rounds:.2f}x)"
    )
    ok = speedup >= 2.5
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="tokens/s per GPU slot")
    sys.exit(asyncio.run(main(parser.parse_args().rate)))
