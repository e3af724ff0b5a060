"""Benchmark: what the GPU tier adds on top of Ollama.

A fake Ollama (tests/fakes/ollama.py) streams 2,000 tokens as fast as it can. Measured
twice, best of N runs each: the official ollama client reading the fake directly, and
POST /generate_report/stream (one section) through the service on uvicorn on loopback.
Fake Ollama, service and client each run in their own process, as in production
(where they do not share one interpreter lock).

Reported: time to first token, and tokens/s while streaming (first to last token) and
overall (request to last token), direct vs through the service.
Targets: streaming throughput through the service >= 95% of direct, TTFT within 10 ms.
`--tls` serves the service over HTTPS with a certificate of its own, pinned by the client,
as the image does.

    .venv/bin/python bench/bench_gpu_overhead.py            # 2,000 tokens, best of 5
    .venv/bin/python bench/bench_gpu_overhead.py --runs 2
    .venv/bin/python bench/bench_gpu_overhead.py --tls
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import ssl
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx
from ollama import AsyncClient

from tests.fakes.live import serve
from tests.fakes.ollama import FakeOllama, Reply, rating_json
from vast_ai.api_key import generate_api_key
from vast_ai.app import create_app
from vast_ai.settings import Settings
from vast_ai.tls import CERT_FILE, KEY_FILE, ensure_certificate, pinned_context

API_KEY = generate_api_key()
MODEL = "gpt-oss:20b"


def body() -> dict[str, Any]:
    return {
        "ticker": "AAPL",
        "company_data": {"name": "Apple Inc."},
        "financial_data": {},
        "fact_sheet": [{"key": "pe", "label": "P/E", "value": 29.5, "display": "29.5x"}],
        "sections": ["risks"],
    }


@dataclass
class Run:
    """One streamed answer, timed from the request: first and last token, token counts."""

    first_token: float = 0.0
    last_token: float = 0.0
    tokens: int = 0
    tokens_in_first: int = 0  # the service may put several tokens in its first event

    def add(self, elapsed: float, tokens: int) -> None:
        if not self.tokens:
            self.first_token, self.tokens_in_first = elapsed, tokens
        self.last_token = elapsed
        self.tokens += tokens

    @property
    def streaming_rate(self) -> float:
        """Tokens/s between the first token and the last (TTFT is measured on its own)."""
        return (self.tokens - self.tokens_in_first) / (self.last_token - self.first_token)

    @property
    def overall_rate(self) -> float:
        return self.tokens / self.last_token


async def direct(url: str) -> Run:
    """The ollama client reading the fake."""
    client = AsyncClient(host=url)
    run = Run()
    started = time.perf_counter()
    stream = await client.chat(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
    )
    async for part in stream:
        if part.message.content:
            run.add(time.perf_counter() - started, 1)
    await client.close()
    return run


async def through_service(url: str, verify: ssl.SSLContext | bool) -> Run:
    """POST /generate_report/stream for one section, read until that section is done.

    Token events carry whatever text is ready, so tokens are counted in the text (the fake
    sends one word per token), not as events."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    run = Run()
    async with httpx.AsyncClient(base_url=url, timeout=60, verify=verify) as client:
        started = time.perf_counter()
        async with client.stream(
            "POST", "/generate_report/stream", headers=headers, json=body()
        ) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                event = json.loads(line)
                if event["type"] == "token":
                    run.add(time.perf_counter() - started, len(event["text"].split()))
    return run


def run_fake_ollama(tokens: int, urls: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    text = "".join(f" w{i}" for i in range(tokens))
    with FakeOllama() as ollama:
        ollama.responder = lambda request: Reply(
            text=rating_json() if request.get("format") else text
        )
        urls.put(ollama.url)
        stop.wait()


def run_service(
    ollama_url: str, tls: bool, urls: multiprocessing.Queue, stop: multiprocessing.Event
) -> None:
    settings = Settings(ert_api_key=API_KEY, ollama_host=ollama_url, ert_generation_timeout=120)
    with tempfile.TemporaryDirectory() as folder:
        pin, options = "", {}
        if tls:
            pin, _ = ensure_certificate(Path(folder))
            options = {
                "ssl_certfile": f"{folder}/{CERT_FILE}",
                "ssl_keyfile": f"{folder}/{KEY_FILE}",
            }
        with serve(create_app(settings), **options) as url:
            urls.put((url, pin))
            stop.wait()


async def main(tokens: int, runs: int, tls: bool) -> int:
    urls: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    fake = multiprocessing.Process(target=run_fake_ollama, args=(tokens, urls, stop))
    fake.start()
    ollama_url = urls.get(timeout=30)
    service = multiprocessing.Process(target=run_service, args=(ollama_url, tls, urls, stop))
    service.start()
    url, pin = urls.get(timeout=30)
    verify = pinned_context(url, pin, timeout=10) if tls else False
    try:
        await through_service(url, verify)  # warm-up: connections, imports, caches
        await direct(ollama_url)
        service_runs = []
        direct_runs = []
        for _ in range(runs):
            direct_runs.append(await direct(ollama_url))
            service_runs.append(await through_service(url, verify))
    finally:
        stop.set()
        service.join(timeout=15)
        fake.join(timeout=15)
    assert all(r.tokens == tokens for r in direct_runs + service_runs), "tokens were lost"

    figures = {
        name: (
            min(r.first_token for r in runs_),
            max(r.streaming_rate for r in runs_),
            max(r.overall_rate for r in runs_),
        )
        for name, runs_ in (
            ("direct (ollama client)", direct_runs),
            ("through the GPU tier" + (" (TLS)" if tls else ""), service_runs),
        )
    }
    print(f"tokens per run: {tokens}, best of {runs}")
    print(f"{'':26}  {'TTFT':>10}  {'streaming':>16}  {'overall':>16}")
    for name, (ttft, streaming, overall) in figures.items():
        print(
            f"{name:26}  {ttft * 1000:7.2f} ms  {streaming:9.0f} tokens/s  {overall:9.0f} tokens/s"
        )
    (direct_ttft, direct_rate, direct_overall), (service_ttft, service_rate, service_overall) = (
        figures.values()
    )
    ratio = service_rate / direct_rate
    ttft_gap_ms = (service_ttft - direct_ttft) * 1000
    print(f"streaming throughput ratio: {ratio:.1%} (target >= 95%)")
    print(f"overall throughput ratio (TTFT included): {service_overall / direct_overall:.1%}")
    print(f"TTFT gap: {ttft_gap_ms:+.2f} ms (target <= 10 ms)")
    ok = ratio >= 0.95 and ttft_gap_ms <= 10
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tls", action="store_true", help="HTTPS with a pinned certificate")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.tokens, args.runs, args.tls)))
