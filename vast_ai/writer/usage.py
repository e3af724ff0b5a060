"""Usage: what one model call cost, and what a section or a report cost in all."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from vast_ai.engines.base import ChunkUsage
from vast_ai.schemas import Usage
from vast_ai.writer.prompts import Messages


def usage_of(chunk: ChunkUsage | None, wall_seconds: float) -> Usage:
    """One call's usage; `wall_seconds` stands in where the engine gave no timing."""
    chunk = chunk or ChunkUsage()
    seconds = chunk.eval_seconds or wall_seconds
    return Usage(
        prompt_tokens=chunk.prompt_tokens,
        cached_prompt_tokens=chunk.cached_prompt_tokens,
        completion_tokens=chunk.completion_tokens,
        generation_seconds=round(seconds, 4),
        tokens_per_second=round(chunk.completion_tokens / seconds, 2) if seconds > 0 else 0.0,
    )


def total_usage(parts: Sequence[Usage]) -> Usage:
    """The sum; cached prompt tokens are unknown (None) only if no part knew them."""
    completion = sum(u.completion_tokens for u in parts)
    seconds = sum(u.generation_seconds for u in parts)
    cached = [u.cached_prompt_tokens for u in parts if u.cached_prompt_tokens is not None]
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in parts),
        cached_prompt_tokens=sum(cached) if cached else None,
        completion_tokens=completion,
        generation_seconds=round(seconds, 4),
        tokens_per_second=round(completion / seconds, 2) if seconds > 0 else 0.0,
    )


def prompt_hash(prompts: Sequence[Messages]) -> str:
    """sha256 over every prompt of a report, in the order they were asked."""
    digest = hashlib.sha256()
    for messages in prompts:
        for message in messages:
            digest.update(f"{message['role']}\x00{message['content']}\x00".encode())
    return digest.hexdigest()
