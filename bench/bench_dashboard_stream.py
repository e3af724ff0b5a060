"""Benchmark: many browsers watching reports stream through one dashboard worker.

N Socket.IO clients (python-socketio's asyncio client) each generate a report at once,
against a fake GPU tier that streams T tokens at R tokens/s per report. Every token
carries the wall-clock time the fake tier sent it, so each client measures the delay
GPU tier -> dashboard -> browser. The dashboard runs as `make run` and Render run it
(gunicorn, eventlet worker, one process), with ERT_MAX_CONCURRENT_REPORTS=N.

Reported: token delay p50/p95/max, lost events (token count and `seq` gaps), the
dashboard worker's peak RSS and its CPU per token delivered to one browser watching one
report. Targets: p95 < 250 ms, nothing lost, < 400 MB.

`--interleave 4` streams four sections at once, as the GPU tier does with four model
slots (each token its own write, `--rate` tokens/s per section); issue 13's target is
then the CPU: at most 60 µs per token per watched report.

    .venv/bin/python bench/bench_dashboard_stream.py            # 100 clients, 1,500 tokens, 100/s
    .venv/bin/python bench/bench_dashboard_stream.py --quick    # 20 clients, 300 tokens
    .venv/bin/python bench/bench_dashboard_stream.py --interleave 4 --rate 150 --clients 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ert_run import Tier, free_port, start_dashboard, wait_healthy
from vast_ai.schemas import (
    SECTION_IDS,
    SECTION_TITLES,
    DoneEvent,
    GenerationOptions,
    Rating,
    ReportGrounding,
    ReportMetadata,
    ReportResponse,
    Section,
    SectionDoneEvent,
    SectionStartedEvent,
    StartedEvent,
    Usage,
)

TARGET_P95_MS, TARGET_RSS_MB = 250.0, 400.0
TARGET_CPU_US_PER_TOKEN = 60.0  # with sections interleaving (issue 13)


# ---- the fake GPU tier (its own process) ----


def _report(ticker: str, texts: dict[str, str]) -> ReportResponse:
    now = datetime.now(UTC)
    sections = {s: Section(id=s, title=SECTION_TITLES[s], markdown=texts[s]) for s in SECTION_IDS}
    return ReportResponse(
        success=True,
        report_id="bench",
        ticker=ticker,
        model="bench:1b",
        sections=sections,
        rating=Rating(recommendation="hold", conviction="low"),
        grounding=ReportGrounding(),
        usage=Usage(completion_tokens=sum(len(t.split()) for t in texts.values())),
        metadata=ReportMetadata(
            started_at=now,
            finished_at=now,
            generation_time=1.0,
            engine="bench",
            prompt_hash="bench",
            options=GenerationOptions(),
        ),
    )


def run_fake_gpu_tier(port: int, tokens: int, rate: float, interleave: int) -> None:
    from aiohttp import web

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "healthy", "model": "bench:1b"})

    async def stream(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)

        async def send(event: object) -> None:
            await response.write(event.model_dump_json().encode() + b"\n")  # type: ignore[attr-defined]

        await send(
            StartedEvent(
                report_id="bench",
                ticker=body["ticker"],
                model="bench:1b",
                sections=list(SECTION_IDS),
            )
        )
        per_section = tokens // len(SECTION_IDS)
        parts: dict[str, list[str]] = {s: [] for s in SECTION_IDS}
        start, sent = time.monotonic(), 0
        # `interleave` sections at a time, each at `rate`: their tokens take turns.
        for first in range(0, len(SECTION_IDS), interleave):
            batch = SECTION_IDS[first : first + interleave]
            for section in batch:
                await send(SectionStartedEvent(section=section))
            for _ in range(per_section):
                for section in batch:
                    delay = start + sent / (rate * len(batch)) - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    text = f"{time.time():.6f} "
                    parts[section].append(text)
                    # The same line TokenEvent(...).model_dump_json() gives, cheaper to make.
                    await response.write(
                        b'{"type":"token","section":"%s","text":"%s"}\n'
                        % (section.encode(), text.encode())
                    )
                    sent += 1
            start, sent = time.monotonic(), 0
            for section in batch:
                markdown = "".join(parts[section])
                await send(
                    SectionDoneEvent(
                        section=Section(
                            id=section, title=SECTION_TITLES[section], markdown=markdown
                        )
                    )
                )
        texts = {s: "".join(p) for s, p in parts.items()}
        await send(DoneEvent(report=_report(body["ticker"], texts)))
        await response.write_eof()
        return response

    app = web.Application(client_max_size=1 << 20)
    app.add_routes([web.get("/health", health), web.post("/generate_report/stream", stream)])
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# ---- the browsers (a few processes, many clients each) ----


async def _one_client(url: str, tokens_expected: int, out: dict, ready: asyncio.Event) -> None:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    delays: list[float] = []
    received: list[float] = []  # when each token arrived (wall clock)
    seqs: list[int] = []
    finished = asyncio.Event()
    state = {"tokens": 0, "job": None, "end": None}

    @client.on("token")
    async def on_token(data: dict) -> None:
        now = time.time()
        seqs.append(data["seq"])
        # The dashboard may merge tokens into one event: each keeps its own send time.
        stamps = data["text"].split()
        state["tokens"] += len(stamps)
        delays.extend(now - float(stamp) for stamp in stamps)
        received.extend(now for _ in stamps)

    @client.on("progress")
    async def on_progress(data: dict) -> None:
        seqs.append(data["seq"])

    @client.on("section")
    async def on_section(data: dict) -> None:
        seqs.append(data["seq"])

    @client.on("completed")
    async def on_completed(data: dict) -> None:
        seqs.append(data["seq"])
        state["end"] = "completed"
        finished.set()

    @client.on("failed")
    async def on_failed(data: dict) -> None:
        seqs.append(data["seq"])
        state["end"] = f"failed: {data['code']} {data['message']}"
        finished.set()

    await client.connect(url, transports=["websocket"])
    await ready.wait()
    ack = await client.call("generate", {"ticker": "AAPL"}, timeout=60)
    state["job"] = ack.get("job_id")
    if state["job"] is None:
        state["end"] = f"refused: {ack.get('error', {}).get('code')}"
    else:
        try:
            await asyncio.wait_for(finished.wait(), timeout=tokens_expected / 10 + 120)
        except TimeoutError:
            state["end"] = "timeout"
    await client.disconnect()
    unique = sorted(set(seqs))
    gaps = (unique[-1] - len(unique)) if unique else 0
    out.update(
        delays=delays,
        received=received,
        tokens=state["tokens"],
        end=state["end"],
        seq_gaps=gaps,
    )


def run_clients(
    url: str, count: int, tokens: int, queue: multiprocessing.Queue, go: multiprocessing.Event
) -> None:
    async def main() -> list[dict]:
        ready = asyncio.Event()
        results: list[dict] = [{} for _ in range(count)]
        tasks = [
            asyncio.create_task(_one_client(url, tokens, results[i], ready)) for i in range(count)
        ]
        await asyncio.sleep(0.5)
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        ready.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return results

    queue.put(asyncio.run(main()))


# ---- measuring the dashboard ----


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def streaming_cpu_us(results: list[dict], samples: list[tuple[float, float]]) -> float | None:
    """The worker's CPU per token while every report streams (from the last report's first
    token to the first report's last): the per-token cost, without each report's start
    (market data, metrics) and end (saving)."""
    arrivals = [r["received"] for r in results if r.get("received")]
    if not arrivals or len(samples) < 2:
        return None
    start, end = max(a[0] for a in arrivals), min(a[-1] for a in arrivals)
    inside = [(t, cpu) for t, cpu in samples if start <= t <= end]
    if len(inside) < 2:
        return None
    (t0, cpu0), (t1, cpu1) = inside[0], inside[-1]
    tokens = sum(t0 <= t <= t1 for a in arrivals for t in a)
    return round((cpu1 - cpu0) / max(1, tokens) * 1e6, 1)


def arguments(description: str, clients: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=clients)
    parser.add_argument("--tokens", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=100.0, help="tokens per second per report")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--quick", action="store_true", help="20 clients, 300 tokens")
    parser.add_argument(
        "--interleave", type=int, default=1, help="sections streamed at once (4: a GPU tier)"
    )
    args = parser.parse_args()
    if args.quick:
        args.clients, args.tokens = 20, 300
    return args


def start_fake_gpu_tier(args: argparse.Namespace) -> tuple[multiprocessing.Process, int]:
    port = free_port()
    tier = multiprocessing.Process(
        target=run_fake_gpu_tier,
        args=(port, args.tokens, args.rate, args.interleave),
        daemon=True,
    )
    tier.start()
    return tier, port


def dashboard_env(args: argparse.Namespace, tier_port: int, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SECRET_KEY": "bench",
        "ERT_DATA_SOURCE": "snapshot",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "REMOTE_LLM_INTEGRATION": "true",
        "ERT_LLM_BACKEND_URL": f"http://127.0.0.1:{tier_port}",
        "ERT_LLM_API_KEY": "ert-bench-key",
        "ERT_LLM_TIMEOUT": "60",
        "ERT_MAX_CONCURRENT_REPORTS": str(args.clients),
        # One address plays every browser here: its per-address limit must let them all in.
        "ERT_REPORTS_PER_ADDRESS": f"{args.clients}/minute",
    }


def stream_through(dashboards: list[Tier], args: argparse.Namespace) -> dict[str, Any]:
    """`args.clients` browsers, spread evenly over `dashboards`, each generate a report at
    once: the figures (the dashboards keep running)."""
    workers = [worker_pids(d.process.pid) or [d.process.pid] for d in dashboards]
    peaks = [0.0] * len(dashboards)
    sampling = threading.Event()
    cpu_samples: list[tuple[float, float]] = []  # (wall clock, worker CPU seconds)

    def sample() -> None:
        while not sampling.is_set():
            for index, dashboard in enumerate(dashboards):
                for pid in [dashboard.process.pid, *worker_pids(dashboard.process.pid)]:
                    peaks[index] = max(peaks[index], rss_mb(pid))
            cpu_samples.append(
                (time.time(), sum(cpu_seconds(pid) for pids in workers for pid in pids))
            )
            time.sleep(0.2)

    idle = [max(rss_mb(pid) for pid in pids) for pids in workers]
    cpu_before = sum(cpu_seconds(pid) for pids in workers for pid in pids)
    threading.Thread(target=sample, daemon=True).start()
    try:
        queue: multiprocessing.Queue = multiprocessing.Queue()
        go = multiprocessing.Event()
        processes = max(args.processes, len(dashboards))
        shares = [
            args.clients // processes + (i < args.clients % processes) for i in range(processes)
        ]
        procs = [
            multiprocessing.Process(
                target=run_clients,
                args=(dashboards[i % len(dashboards)].url, n, args.tokens, queue, go),
            )
            for i, n in enumerate(shares)
            if n
        ]
        for p in procs:
            p.start()
        time.sleep(2 + args.clients / 50)  # all connected
        started = time.monotonic()
        go.set()
        results = [r for _ in procs for r in queue.get(timeout=args.tokens / args.rate + 300)]
        wall = time.monotonic() - started
        cpu_used = sum(cpu_seconds(pid) for pids in workers for pid in pids) - cpu_before
        for p in procs:
            p.join(10)
    finally:
        sampling.set()

    delays = sorted(d * 1000 for r in results for d in r.get("delays", []))
    ends = [r.get("end") for r in results]
    lost_tokens = sum(max(0, args.tokens // 6 * 6 - r.get("tokens", 0)) for r in results)
    p50 = statistics.median(delays) if delays else float("nan")
    p95 = delays[int(len(delays) * 0.95) - 1] if delays else float("nan")
    return {
        "instances": len(dashboards),
        "clients": args.clients,
        "tokens_per_report": args.tokens // 6 * 6,
        "rate": args.rate,
        "sections_at_once": args.interleave,
        "completed": ends.count("completed"),
        "other_endings": sorted({e for e in ends if e != "completed"}, key=str),
        "token_delay_ms": {
            "p50": round(p50, 1),
            "p95": round(p95, 1),
            "max": round(delays[-1], 1) if delays else None,
            "samples": len(delays),
        },
        "lost_tokens": lost_tokens,
        "seq_gaps": sum(r.get("seq_gaps", 0) for r in results),
        "dashboard_rss_mb": {
            "idle": [round(m, 1) for m in idle],
            "peak": [round(m, 1) for m in peaks],
        },
        "wall_seconds": round(wall, 1),
        "tokens_per_second": round(len(delays) / wall, 1),
        "dashboard_cpu": {
            "seconds": round(cpu_used, 1),
            "share_of_one_core": round(cpu_used / wall, 2),
            "us_per_token": round(cpu_used / max(1, len(delays)) * 1e6, 1),
            "us_per_token_streaming": streaming_cpu_us(results, cpu_samples),
        },
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def targets_met(figures: dict[str, Any]) -> bool:
    """p95 < 250 ms, nothing lost, every report completed, every instance < 400 MB."""
    return (
        figures["token_delay_ms"]["p95"] < TARGET_P95_MS
        and figures["lost_tokens"] == 0
        and figures["seq_gaps"] == 0
        and figures["completed"] == figures["clients"]
        and max(figures["dashboard_rss_mb"]["peak"]) < TARGET_RSS_MB
        and (
            figures["sections_at_once"] == 1
            or (figures["dashboard_cpu"]["us_per_token_streaming"] or float("inf"))
            <= TARGET_CPU_US_PER_TOKEN
        )
    )


TARGETS = (
    f"p95 < {TARGET_P95_MS:.0f} ms, nothing lost, < {TARGET_RSS_MB:.0f} MB; with sections "
    f"interleaving, ≤ {TARGET_CPU_US_PER_TOKEN:.0f} µs of dashboard CPU per token"
)


def main() -> int:
    args = arguments(__doc__ or "", clients=100)
    tier, tier_port = start_fake_gpu_tier(args)
    tmp = Path(tempfile.mkdtemp(prefix="ert-bench-"))
    dashboard = start_dashboard(
        dashboard_env(args, tier_port, tmp), port=free_port(), log=tmp / "dashboard.log"
    )
    try:
        wait_healthy(dashboard, timeout=60)
        figures = stream_through([dashboard], args)
    finally:
        dashboard.stop()
        tier.terminate()
    print(json.dumps(figures, indent=2))
    print(
        "dashboard CPU per token per watched report, while streaming: "
        f"{figures['dashboard_cpu']['us_per_token_streaming']} µs "
        f"(target ≤ {TARGET_CPU_US_PER_TOKEN:.0f} µs with sections interleaving)"
    )
    ok = targets_met(figures)
    print(f"targets ({TARGETS}): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
