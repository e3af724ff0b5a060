"""Benchmark: a whole AAPL report written by the embedded engine on the CPU (the demo path).

The request is built as the dashboard builds it (the recorded Yahoo answers through the
real yfinance, metrics and fact sheet in code); the embedded llama.cpp engine runs the
bundled Gemma 3 270M; the real ReportWriter writes all six sections as the GPU tier does
with ERT_ENGINE=llamacpp (concurrency 4). The model is loaded once first, as a running
server keeps it. Three runs; each prints its wall time, tokens and what each section kept.
Target: a full report in <= 45 s (it took 128-134 s before repeats were cut).

    YF_DISABLE_CURL_CFFI=1 .venv/bin/python bench/bench_cpu_demo_report.py
    YF_DISABLE_CURL_CFFI=1 .venv/bin/python bench/bench_cpu_demo_report.py --runs 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("YF_DISABLE_CURL_CFFI", "1")  # the recordings replay through requests
warnings.filterwarnings("ignore", message="The inplace keyword")

from tests.vast_ai.grounding.gemma_aapl import aapl_request
from vast_ai.engines.base import ChatRequest
from vast_ai.engines.llamacpp_engine import DEFAULT_MODEL_NAME, LlamaCppEngine
from vast_ai.schemas import SECTION_IDS
from vast_ai.writer import ReportWriter

TARGET_SECONDS = 45.0


async def main(runs: int) -> int:
    request = aapl_request().model_copy(update={"sections": list(SECTION_IDS)})
    engine = LlamaCppEngine()
    writer = ReportWriter(engine, concurrency_limit=4)
    try:
        started = time.perf_counter()
        hello = [{"role": "user", "content": "Hi"}]
        async for _ in engine.chat(ChatRequest(DEFAULT_MODEL_NAME, hello, max_tokens=1)):
            pass
        print(f"model loaded in {time.perf_counter() - started:.1f} s (not counted)")
        times = []
        for run in range(1, runs + 1):
            started = time.perf_counter()
            report = await writer.write(request, DEFAULT_MODEL_NAME)
            times.append(time.perf_counter() - started)
            usage = report.usage
            print(
                f"run {run}: {times[-1]:5.1f} s, {usage.completion_tokens} tokens written, "
                f"{usage.prompt_tokens} prompt tokens evaluated, "
                f"{usage.cached_prompt_tokens} from the cache"
            )
            for sid, section in report.sections.items():
                flags = ",".join(f.code for f in section.flags) or "-"
                print(
                    f"  {sid:18} {section.status:12} {len(section.markdown.split()):4} words  "
                    f"{section.usage.completion_tokens:4} tokens  flags {flags}"
                )
            print(f"  rating: {report.rating.recommendation} ({report.rating.withheld})")
    finally:
        await engine.close()
    median = statistics.median(times)
    print(f"report time (median of {runs}): {median:.1f} s (target <= {TARGET_SECONDS:g} s)")
    ok = median <= TARGET_SECONDS
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    sys.exit(asyncio.run(main(parser.parse_args().runs)))
