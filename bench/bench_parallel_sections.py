"""Benchmark: sections written concurrently vs one at a time, and how busy the slots stay.

An engine imitates a GPU serving 4 requests in parallel (OLLAMA_NUM_PARALLEL=4), each
slot at a fixed token rate. The same 6-section report is written by the real
ReportWriter with concurrency_limit=1 (sequential) and concurrency_limit=4.

Per call the imitation writes: a body section 250 tokens, the executive summary 150,
the rating 120 (gpt-oss thinks before it answers). The writer starts the four analytical
sections first; the summary and the rating start when those are done, beside the
business overview. Reported, three runs each: wall times, the speed-up, and the share of
the report's wall time the 4 slots were busy.
Targets: speed-up >= 3x; slots busy >= 85%. For this imitation's work the slots can be
busy at most 76%: five 250-token sections on four slots end no earlier than two section
lengths (one slot writes two of them, whatever the order), so 1,520 tokens of work fill at
most 1,520 of 4 x 500 slot-tokens, and the speed-up is 1,520 / 500 = 3.04x without
overheads. 85% would need the report done within 1,520 / (4 x 0.85) = 447 token-times,
less than two sections: no schedule reaches it with these figures.

    .venv/bin/python bench/bench_parallel_sections.py
    .venv/bin/python bench/bench_parallel_sections.py --rate 500 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncGenerator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vast_ai.engines.base import RATING_TASK, ChatChunk, ChatRequest, ChunkUsage
from vast_ai.schemas import ReportRequest
from vast_ai.writer import ReportWriter
from vast_ai.writer.report import summary_sources

GPU_SLOTS = 4
BODY_TOKENS, SUMMARY_TOKENS, RATING_TOKENS = 250, 150, 120
TOKENS_PER_CHUNK = 10
RATING = '{"recommendation": "hold", "conviction": "medium", "summary": "Fairly valued."}'
SPEEDUP_TARGET, BUSY_TARGET = 3.0, 0.85


class GpuImitation:
    """`slots` requests decode at once, each at `rate` tokens/s; more wait for a slot."""

    name = "gpu-imitation"
    demo = False
    follows_instructions = True

    def __init__(self, rate: float, slots: int = GPU_SLOTS) -> None:
        self.rate = rate
        self.busy_seconds = 0.0  # slot-seconds spent decoding
        self.summary_read: list[str] = []  # the sections the summary's task carried
        self._slots = asyncio.Semaphore(slots)

    async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        section = request.task.section if request.task else ""
        if section == RATING_TASK:
            tokens, final_text = RATING_TOKENS, RATING
        elif section == "executive_summary":
            tokens, final_text = SUMMARY_TOKENS, ""
            self.summary_read = list(request.task.context) if request.task else []
        else:
            tokens, final_text = BODY_TOKENS, ""
        async with self._slots:
            started = time.perf_counter()
            try:
                for sent in range(0, tokens, TOKENS_PER_CHUNK):
                    # Paced from the start, as a GPU decodes: timer slack does not add up.
                    due = started + (sent + TOKENS_PER_CHUNK) / self.rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    if not final_text:
                        yield ChatChunk(text="".join(f" t{sent + i}" for i in range(10)))
                if final_text:
                    yield ChatChunk(text=final_text)
                yield ChatChunk(
                    done=True,
                    usage=ChunkUsage(completion_tokens=tokens, eval_seconds=tokens / self.rate),
                )
            finally:
                self.busy_seconds += time.perf_counter() - started

    async def list_models(self) -> list[str]:
        return ["imitation"]

    async def model_digest(self, model: str) -> str | None:
        return None

    async def processor(self, model: str) -> None:
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


async def write(limit: int, rate: float) -> tuple[float, float]:
    """Wall time of one report, and the share of it the GPU's slots were busy."""
    engine = GpuImitation(rate)
    writer = ReportWriter(engine, concurrency_limit=limit)
    started = time.perf_counter()
    report = await writer.write(report_request(), "imitation")
    elapsed = time.perf_counter() - started
    assert report.success and len(report.sections) == 6, "the report was not complete"
    body = [sid for sid in report.sections if sid != "executive_summary"]
    assert engine.summary_read == summary_sources(body), "the summary did not read its sections"
    return elapsed, engine.busy_seconds / (GPU_SLOTS * elapsed)


async def main(rate: float, runs: int) -> int:
    work = 5 * BODY_TOKENS + SUMMARY_TOKENS + RATING_TOKENS
    print(f"GPU imitation: {GPU_SLOTS} slots at {rate:g} tokens/s each; 6 sections and a rating")
    print(
        f"{'run':>3}  {'sequential':>10}  {'concurrent':>10}  {'speed-up':>8}  {'slots busy':>10}"
    )
    speedups, busy = [], []
    for run in range(1, runs + 1):
        sequential, _ = await write(1, rate)
        concurrent, share = await write(GPU_SLOTS, rate)
        speedups.append(sequential / concurrent)
        busy.append(share)
        print(
            f"{run:>3}  {sequential:9.2f}s  {concurrent:9.2f}s  {speedups[-1]:7.2f}x  {share:9.1%}"
        )
    speedup, share = statistics.median(speedups), statistics.median(busy)
    bound = work / (GPU_SLOTS * 2 * BODY_TOKENS)
    print(
        f"speed-up (median): {speedup:.2f}x (target >= {SPEEDUP_TARGET:g}x; was 2.34x; "
        f"{work / (2 * BODY_TOKENS):.2f}x for this imitation's work without overheads)"
    )
    print(
        f"slots busy (median): {share:.1%} (target >= {BUSY_TARGET:.0%}; "
        f"at most {bound:.0%} for this imitation's work)"
    )
    ok = speedup >= SPEEDUP_TARGET and share >= BUSY_TARGET
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="tokens/s per GPU slot")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.rate, args.runs)))
