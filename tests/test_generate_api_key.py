import re
import subprocess
import sys
from pathlib import Path

import generate_api_key

KEY_RE = re.compile(r"^ert-[A-Za-z0-9_-]{32}$")
SCRIPT = Path(__file__).resolve().parents[1] / "generate_api_key.py"


def test_key_format() -> None:
    assert KEY_RE.match(generate_api_key.generate_api_key())


def test_keys_are_unique_across_calls() -> None:
    keys = {generate_api_key.generate_api_key() for _ in range(200)}
    assert len(keys) == 200


def test_script_prints_key_and_paste_lines() -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True
    ).stdout
    lines = out.splitlines()
    vast = [line for line in lines if line.startswith("ERT_API_KEY=")]
    render = [line for line in lines if line.startswith("ERT_LLM_API_KEY=")]
    assert len(vast) == 1 and len(render) == 1
    key = vast[0].removeprefix("ERT_API_KEY=")
    assert KEY_RE.match(key)
    assert render[0] == f"ERT_LLM_API_KEY={key}"
    assert f"  {key}" in lines
