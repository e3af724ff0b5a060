"""`make run`: start both tiers on this machine, as Render and Vast.ai run them.

- the GPU tier: `uvicorn vast_ai.app:app` on 127.0.0.1:8001, with Ollama if one answers
  at OLLAMA_HOST, else the embedded llama.cpp engine with the bundled Gemma model;
- the dashboard: `gunicorn --worker-class eventlet -w 1 --bind 127.0.0.1:5000 wsgi:app`,
  talking to the GPU tier (REMOTE_LLM_INTEGRATION on), market data from yfinance with
  the bundled snapshots as the offline fallback (ERT_DATA_SOURCE=auto).

A fresh API key is made for each run (or ERT_API_KEY's is used) and handed to both
through their environment; only its first characters are printed, and it is kept in
instance/gpu-tier.key (readable by this user only) for the README's curl examples until
the run stops. Once both answer, it prints the URL, what works offline and how to
connect a real model. Ctrl-C (or SIGTERM) stops both.
The functions here are reused by the browser tests and the benchmark.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from generate_api_key import generate_api_key

ROOT = Path(__file__).resolve().parent
GPU_TIER_PORT = 8001
DASHBOARD_PORT = 5000
BUNDLED_MODEL = "gemma3:270m"
KEY_FILE = Path("instance") / "gpu-tier.key"
# A CPU writes six sections with the bundled model in minutes, not the GPU's seconds.
CPU_GENERATION_TIMEOUT = "1200"


@dataclass
class Tier:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path | None = None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGINT (what Ctrl-C sends; gunicorn's quick shutdown), SIGKILL after `timeout`."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for tests and benchmarks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ollama_answers(host: str) -> bool:
    try:
        return httpx.get(f"{host.rstrip('/')}/api/version", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def gpu_tier_env(
    api_key: str, base: Mapping[str, str], engine: str | None = None
) -> dict[str, str]:
    """The GPU tier's environment: the key and engine: Ollama if one answers, else llama.cpp."""
    env = {**base, "ERT_API_KEY": api_key}
    if engine is None:
        engine = (
            "ollama"
            if ollama_answers(env.get("OLLAMA_HOST", "http://127.0.0.1:11434"))
            else "llamacpp"
        )
    env["ERT_ENGINE"] = engine
    if engine == "llamacpp":
        env.setdefault("OLLAMA_MODEL", BUNDLED_MODEL)
        env.setdefault("ERT_ALLOWED_MODELS", BUNDLED_MODEL)
        env.setdefault("ERT_GENERATION_TIMEOUT", CPU_GENERATION_TIMEOUT)
    return env


def dashboard_env(api_key: str, gpu_tier_url: str, base: Mapping[str, str]) -> dict[str, str]:
    env = {
        "ERT_DATA_SOURCE": "auto",
        **base,
        "REMOTE_LLM_INTEGRATION": "true",
        "ERT_LLM_BACKEND_URL": gpu_tier_url,
        "ERT_LLM_API_KEY": api_key,
    }
    if "SECRET_KEY" not in env:
        env["SECRET_KEY"] = secrets.token_hex(32)
    return env


def start_gpu_tier(
    env: Mapping[str, str], port: int = GPU_TIER_PORT, log: Path | None = None
) -> Tier:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "vast_ai.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return Tier("GPU tier", _spawn(command, env, log), f"http://127.0.0.1:{port}", log)


def start_dashboard(
    env: Mapping[str, str],
    port: int = DASHBOARD_PORT,
    log: Path | None = None,
    host: str = "127.0.0.1",
) -> Tier:
    """The dashboard exactly as Render starts it (DESIGN.md), bound to localhost unless
    `host` says otherwise (then other machines can reach it: sign-in is required)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "eventlet",
        "-w",
        "1",
        "--bind",
        f"{host}:{port}",
        "wsgi:app",
    ]
    return Tier("dashboard", _spawn(command, env, log), f"http://127.0.0.1:{port}", log)


def _spawn(command: list[str], env: Mapping[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    output = open(log, "ab") if log is not None else None  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=output, stderr=output)
    finally:
        if output is not None:
            output.close()


def wait_healthy(tier: Tier, timeout: float) -> None:
    """Until `tier`'s /health answers 200; RuntimeError if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tier.process.poll() is not None:
            raise RuntimeError(f"The {tier.name} exited with status {tier.process.returncode}")
        try:
            if httpx.get(f"{tier.url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"The {tier.name} did not answer {tier.url}/health within {timeout:.0f} s")


def keep_key(api_key: str, path: Path) -> None:
    """Write the run's key to `path`, readable and writable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a file left by an older run keeps its mode otherwise
    with os.fdopen(descriptor, "w") as file:
        file.write(api_key + "\n")


def engine_lines(gpu_env: Mapping[str, str]) -> list[str]:
    """Who writes the text, and how to get a real model when it is the bundled one."""
    if gpu_env["ERT_ENGINE"] == "ollama":
        model = gpu_env.get("OLLAMA_MODEL", "its default model (gpt-oss:20b)")
        host = gpu_env.get("OLLAMA_HOST", "http://127.0.0.1:11434")
        return [f"the text is written by the Ollama at {host} with {model}"]
    return [
        "the text is written by the bundled Gemma 3 270M on this CPU (no Ollama answered at "
        "OLLAMA_HOST): a tiny model, about 40 s a report on two cores",
        "for a real model, start Ollama (https://ollama.com), `ollama pull llama3.1:8b`, then "
        "`OLLAMA_MODEL=llama3.1:8b make run`; or rent a GPU tier (vast_ai/README.md)",
    ]


def offline_line(dashboard_env: Mapping[str, str]) -> str:
    from frontend_app.market.snapshots import SnapshotSource  # the dashboard's own list

    bundled = ", ".join(SnapshotSource().tickers())
    if dashboard_env.get("ERT_DATA_SOURCE") == "snapshot":
        return f"market data from the bundled companies only (ERT_DATA_SOURCE=snapshot): {bundled}"
    return (
        "market data from Yahoo Finance; without internet, reports work for the bundled "
        f"companies: {bundled}"
    )


def shown(path: Path) -> str:
    """`path` as a person would type it here: relative to the current folder if inside it."""
    return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)


def say(message: str) -> None:
    print(f"ERT: {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start the GPU tier and the dashboard.")
    parser.add_argument("--port", type=int, default=DASHBOARD_PORT, help="dashboard port")
    parser.add_argument("--gpu-port", type=int, default=GPU_TIER_PORT, help="GPU tier port")
    parser.add_argument(
        "--key-file", type=Path, default=ROOT / KEY_FILE, help="where the run's key is kept"
    )
    args = parser.parse_args(argv)

    base = dict(os.environ)
    # A key from the environment lets the user choose it; otherwise one per run.
    api_key = base.get("ERT_API_KEY") or generate_api_key()
    gpu_env = gpu_tier_env(api_key, base)
    say(f"GPU tier engine {gpu_env['ERT_ENGINE']}; API key for this run {api_key[:8]}…")
    tiers: list[Tier] = []

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    # Set both explicitly: a shell that starts us in the background ignores SIGINT.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    try:
        gpu = start_gpu_tier(gpu_env, port=args.gpu_port)
        tiers.append(gpu)
        say(f"starting the GPU tier at {gpu.url} …")
        wait_healthy(gpu, timeout=300)
        keep_key(api_key, args.key_file)
        dash_env = dashboard_env(api_key, gpu.url, base)
        if gpu_env["ERT_ENGINE"] == "llamacpp":
            dash_env.setdefault("ERT_MODELS", BUNDLED_MODEL)
        dashboard = start_dashboard(dash_env, port=args.port)
        tiers.append(dashboard)
        say(f"starting the dashboard at {dashboard.url} …")
        wait_healthy(dashboard, timeout=60)
        say(f"ready in {time.monotonic() - started:.0f} s: open {dashboard.url}")
        say(offline_line(dash_env))
        for line in engine_lines(gpu_env):
            say(line)
        say(f"the GPU tier's key for this run is in {shown(args.key_file)} (curl: README.md)")
        say("Ctrl-C stops both tiers")
        while all(t.process.poll() is None for t in tiers):
            time.sleep(0.5)
        ended = next(t for t in tiers if t.process.poll() is not None)
        say(f"the {ended.name} stopped (status {ended.process.returncode}); stopping")
        return 1
    except KeyboardInterrupt:
        say("stopping…")
        return 0
    except RuntimeError as exc:
        say(str(exc))
        return 1
    finally:
        # A second Ctrl-C must not leave a tier running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for tier in reversed(tiers):
            tier.stop()
        args.key_file.unlink(missing_ok=True)
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
