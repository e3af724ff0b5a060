"""Print a new API key for the GPU tier and the lines to paste where it is used.

Run: `python generate_api_key.py`. The GPU server (Vast.ai) checks requests against
`ERT_API_KEY`; the dashboard (Render) sends `ERT_LLM_API_KEY`: both get the same key.
"""

from __future__ import annotations

from vast_ai.api_key import generate_api_key

__all__ = ["generate_api_key", "paste_lines"]


def paste_lines(key: str) -> list[str]:
    """What to print: the key and the environment lines for each tier."""
    return [
        "New ERT API key (treat it like a password; it is shown only here):",
        f"  {key}",
        "",
        "Vast.ai instance (GPU tier) environment:",
        f"ERT_API_KEY={key}",
        "",
        "Render service (dashboard) environment:",
        f"ERT_LLM_API_KEY={key}",
    ]


def main() -> None:
    print("\n".join(paste_lines(generate_api_key())))


if __name__ == "__main__":
    main()
