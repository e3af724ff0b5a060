"""Benchmark: what the GPU tier adds on top of Ollama, at the pace a GPU streams.

A fake Ollama (tests/fakes/ollama.py) streams every answer at 150 tokens/s, each token
written on its own, as a GPU does. Fake Ollama, service (uvicorn, loopback) and client
each run in their own process, as in production (where they do not share one lock).

Measured, three runs each:
- time to first token: the official ollama client reading the fake directly, against
  POST /generate_report/stream for one section through the service;
- CPU per streamed token: the service process's CPU time (user + system, from /proc)
  over a whole 6-section report streamed through it, whose sections stream four at a
  time, interleaved; divided by the tokens the client received.
Targets: first token within 10 ms of Ollama direct; <= 100 us of CPU per token.
`--tls` serves the service over HTTPS with a certificate of its own, pinned by the client,
as the image does.

    .venv/bin/python bench/bench_gpu_overhead.py
    .venv/bin/python bench/bench_gpu_overhead.py --runs 3 --tokens 300
    .venv/bin/python bench/bench_gpu_overhead.py --tls
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import ssl
import statistics
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
PACE = 150.0  # tokens/s per stream, as a GPU streams them
SLOTS = 4
TTFT_GAP_TARGET_MS, CPU_TARGET_US = 10.0, 100.0
_TICKS = os.sysconf("SC_CLK_TCK")


def body(sections: list[str] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ticker": "AAPL",
        "company_data": {"name": "Apple Inc."},
        "financial_data": {},
        "fact_sheet": [{"key": "pe", "label": "P/E", "value": 29.5, "display": "29.5x"}],
    }
    if sections:
        request["sections"] = sections
    return request


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class Stream:
    first_token: float = 0.0  # seconds from the request
    tokens: int = 0


async def direct(url: str) -> Stream:
    """The ollama client reading the fake."""
    client = AsyncClient(host=url)
    run = Stream()
    started = time.perf_counter()
    stream = await client.chat(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
    )
    async for part in stream:
        if part.message.content:
            if not run.tokens:
                run.first_token = time.perf_counter() - started
            run.tokens += 1
    await client.close()
    return run


async def through_service(
    url: str, request: dict[str, Any], verify: ssl.SSLContext | bool = False
) -> Stream:
    """POST /generate_report/stream, read to the end. Token events carry whatever text is
    ready, so tokens are counted in the text (the fake sends one word per token)."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    run = Stream()
    async with httpx.AsyncClient(base_url=url, timeout=120, verify=verify) as client:
        started = time.perf_counter()
        async with client.stream(
            "POST", "/generate_report/stream", headers=headers, json=request
        ) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                event = json.loads(line)
                if event["type"] == "token":
                    if not run.tokens:
                        run.first_token = time.perf_counter() - started
                    run.tokens += len(event["text"].split())
                elif event["type"] == "error":
                    raise RuntimeError(event["message"])
    return run


def answer(tokens: int) -> str:
    """`tokens` words of prose: sentences of 15 words, each of them different."""
    return "".join(f" w{i}." if i % 15 == 14 else f" w{i}" for i in range(tokens))


def run_fake_ollama(tokens: int, urls: multiprocessing.Queue, stop: Any) -> None:
    text = answer(tokens)
    with FakeOllama() as ollama:
        ollama.responder = lambda request: (
            Reply(text=rating_json(), tokens_per_second=PACE)
            if request.get("format")
            else Reply(text=text, tokens_per_second=PACE)
        )
        urls.put(ollama.url)
        stop.wait()


def run_service(ollama_url: str, tls: bool, urls: multiprocessing.Queue, stop: Any) -> None:
    settings = Settings(
        ert_api_key=API_KEY,
        ollama_host=ollama_url,
        ert_generation_timeout=120,
        ert_max_concurrency=SLOTS,
    )
    with tempfile.TemporaryDirectory() as folder:
        pin, options = "", {}
        if tls:
            pin, _ = ensure_certificate(Path(folder))
            options = {
                "ssl_certfile": f"{folder}/{CERT_FILE}",
                "ssl_keyfile": f"{folder}/{KEY_FILE}",
            }
        with serve(create_app(settings), **options) as url:
            urls.put((url, pin, os.getpid()))
            stop.wait()


async def main(tokens: int, runs: int, tls: bool) -> int:
    urls: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    fake = multiprocessing.Process(target=run_fake_ollama, args=(tokens, urls, stop))
    fake.start()
    ollama_url = urls.get(timeout=30)
    service = multiprocessing.Process(target=run_service, args=(ollama_url, tls, urls, stop))
    service.start()
    url, pin, service_pid = urls.get(timeout=30)
    verify = pinned_context(url, pin, timeout=10) if tls else False
    gaps, costs = [], []
    try:
        await through_service(url, body(["risks"]), verify)  # warm-up: connections, caches
        await direct(ollama_url)
        scheme = "HTTPS, pinned" if tls else "HTTP"
        print(f"{PACE:g} tokens/s per stream, {tokens} tokens per answer, {SLOTS} slots, {scheme}")
        print(f"{'run':>3}  {'TTFT direct':>11}  {'TTFT tier':>9}  {'gap':>8}  {'CPU/token':>10}")
        for run in range(1, runs + 1):
            ttft_direct = min([(await direct(ollama_url)).first_token for _ in range(3)])
            ttft_tier = min(
                [
                    (await through_service(url, body(["risks"]), verify)).first_token
                    for _ in range(3)
                ]
            )
            before = cpu_seconds(service_pid)
            report = await through_service(url, body(), verify)
            cpu = cpu_seconds(service_pid) - before
            assert report.tokens == 6 * tokens, f"tokens were lost: {report.tokens}"
            gaps.append((ttft_tier - ttft_direct) * 1000)
            costs.append(cpu / report.tokens * 1e6)
            print(
                f"{run:>3}  {ttft_direct * 1000:8.2f} ms  {ttft_tier * 1000:6.2f} ms  "
                f"{gaps[-1]:+5.2f} ms  {costs[-1]:7.1f} us"
            )
    finally:
        stop.set()
        service.join(timeout=15)
        fake.join(timeout=15)
    gap, cost = statistics.median(gaps), statistics.median(costs)
    print(f"TTFT gap (median): {gap:+.2f} ms (target <= {TTFT_GAP_TARGET_MS:g} ms)")
    print(f"CPU per streamed token (median): {cost:.1f} us (target <= {CPU_TARGET_US:g} us)")
    ok = gap <= TTFT_GAP_TARGET_MS and cost <= CPU_TARGET_US
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=300, help="tokens per section answer")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tls", action="store_true", help="HTTPS with a pinned certificate")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.tokens, args.runs, args.tls)))
