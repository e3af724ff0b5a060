"""Benchmark: what the GPU tier adds on top of Ollama.

A fake Ollama (tests/fakes/ollama.py) streams 2,000 tokens as fast as it can. Measured
twice, best of N runs each: the official ollama client reading the fake directly, and
POST /generate_report/stream (one section) through the service on uvicorn on loopback.
Fake Ollama, service and client each run in their own process, as in production
(where they do not share one interpreter lock).

Reported: time to first token and tokens/s, direct vs through the service.
Targets: throughput through the service >= 95% of direct, TTFT within 10 ms of direct.

    .venv/bin/python bench/bench_gpu_overhead.py            # 2,000 tokens, best of 5
    .venv/bin/python bench/bench_gpu_overhead.py --runs 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from ollama import AsyncClient  # noqa: E402

from tests.fakes.ollama import FakeOllama, Reply, rating_json  # noqa: E402
from tests.vast_ai.live import serve  # noqa: E402
from vast_ai.app import create_app  # noqa: E402
from vast_ai.settings import Settings  # noqa: E402

API_KEY = "ert-bench-key"
MODEL = "gpt-oss:20b"


def body() -> dict[str, Any]:
    return {
        "ticker": "AAPL",
        "company_data": {"name": "Apple Inc."},
        "financial_data": {},
        "fact_sheet": [{"key": "pe", "label": "P/E", "value": 29.5, "display": "29.5x"}],
        "sections": ["risks"],
    }


async def direct(url: str) -> tuple[float, float, int]:
    """(ttft seconds, total seconds, tokens) reading the fake with the ollama client."""
    client = AsyncClient(host=url)
    started = time.perf_counter()
    first = 0.0
    tokens = 0
    stream = await client.chat(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
    )
    async for part in stream:
        if part.message.content:
            tokens += 1
            first = first or time.perf_counter() - started
    total = time.perf_counter() - started
    await client.close()
    return first, total, tokens


async def through_service(url: str) -> tuple[float, float, int]:
    """(ttft seconds, seconds until the section is done, tokens) through the service.

    Token events carry whatever text is ready, so tokens are counted in the text (the fake
    sends one word per token), not as events."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        started = time.perf_counter()
        first = 0.0
        tokens = 0
        total = 0.0
        async with client.stream(
            "POST", "/generate_report/stream", headers=headers, json=body()
        ) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                event = json.loads(line)
                if event["type"] == "token":
                    tokens += len(event["text"].split())
                    first = first or time.perf_counter() - started
                elif event["type"] == "section_done":
                    total = time.perf_counter() - started
    return first, total, tokens


def best(results: list[tuple[float, float, int]]) -> tuple[float, float]:
    """(lowest ttft, highest tokens/s) over the runs."""
    return min(r[0] for r in results), max(r[2] / r[1] for r in results)


def run_fake_ollama(tokens: int, urls: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    text = "".join(f" w{i}" for i in range(tokens))
    with FakeOllama() as ollama:
        ollama.responder = lambda request: Reply(
            text=rating_json() if request.get("format") else text
        )
        urls.put(ollama.url)
        stop.wait()


def run_service(ollama_url: str, urls: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    settings = Settings(ert_api_key=API_KEY, ollama_host=ollama_url, ert_generation_timeout=120)
    with serve(create_app(settings)) as url:
        urls.put(url)
        stop.wait()


async def main(tokens: int, runs: int) -> int:
    urls: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    fake = multiprocessing.Process(target=run_fake_ollama, args=(tokens, urls, stop))
    fake.start()
    ollama_url = urls.get(timeout=30)
    service = multiprocessing.Process(target=run_service, args=(ollama_url, urls, stop))
    service.start()
    url = urls.get(timeout=30)
    try:
        await through_service(url)  # warm-up: connections, imports, caches
        await direct(ollama_url)
        service_runs = []
        direct_runs = []
        for _ in range(runs):
            direct_runs.append(await direct(ollama_url))
            service_runs.append(await through_service(url))
    finally:
        stop.set()
        service.join(timeout=15)
        fake.join(timeout=15)
    assert all(r[2] == tokens for r in direct_runs + service_runs), "tokens were lost"

    direct_ttft, direct_rate = best(direct_runs)
    service_ttft, service_rate = best(service_runs)
    ratio = service_rate / direct_rate
    ttft_gap_ms = (service_ttft - direct_ttft) * 1000
    print(f"tokens per run: {tokens}, best of {runs}")
    for name, ttft, rate in (
        ("direct (ollama client)", direct_ttft, direct_rate),
        ("through the GPU tier", service_ttft, service_rate),
    ):
        print(f"{name:24}  TTFT {ttft * 1000:7.2f} ms  {rate:9.0f} tokens/s")
    print(f"throughput ratio: {ratio:.1%} (target >= 95%)")
    print(f"TTFT gap: {ttft_gap_ms:+.2f} ms (target <= 10 ms)")
    ok = ratio >= 0.95 and ttft_gap_ms <= 10
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.tokens, args.runs)))
