"""Training data: the prepared `messages` splits and preference pairs, checked before any model is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medq.errors import InputDataError
from medq.jsonl import read_jsonl

ROLES = {"system", "user", "assistant"}


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = list(read_jsonl(path))
    if not rows:
        raise InputDataError(f"{path}: no records.")
    return rows


def _check_messages(path: Path, number: int, messages: Any, field: str, need_assistant: bool) -> None:
    where = f"{path}: line {number}"
    if not isinstance(messages, list) or not messages:
        raise InputDataError(f"{where}: '{field}' must be a non-empty list of {{role, content}} messages.")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise InputDataError(f"{where}: {field}[{index}] must be {{role: system|user|assistant, content: text}}.")
    if need_assistant and not any(m["role"] == "assistant" for m in messages):
        raise InputDataError(f"{where}: '{field}' has no assistant message to learn from.")


def load_messages(path: Path, enable_thinking: bool) -> Any:
    """A `datasets.Dataset` with `messages` (and the template switches TRL passes to the chat template)."""
    from datasets import Dataset

    rows = []
    for number, row in _read_jsonl(path):
        if "messages" not in row:
            raise InputDataError(f"{path}: line {number}: no 'messages' field (found: {', '.join(row) or 'none'}); "
                                 f"SFT needs ChatML records from the prepare stage.")
        _check_messages(path, number, row["messages"], "messages", need_assistant=True)
        rows.append({"messages": row["messages"], "chat_template_kwargs": {"enable_thinking": enable_thinking}})
    return Dataset.from_list(rows)


def load_preference_pairs(path: Path, enable_thinking: bool) -> Any:
    """TRL's conversational preference format: `prompt`, `chosen`, `rejected` message lists."""
    from datasets import Dataset

    rows = []
    for number, row in _read_jsonl(path):
        missing = [k for k in ("prompt", "chosen", "rejected") if k not in row]
        if missing:
            raise InputDataError(f"{path}: line {number}: preference row is missing {', '.join(missing)} "
                                 f"(needs prompt, chosen, rejected message lists).")
        for key in ("prompt", "chosen", "rejected"):
            _check_messages(path, number, row[key], key, need_assistant=key != "prompt")
        rows.append({"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"],
                     "chat_template_kwargs": {"enable_thinking": enable_thinking}})
    return Dataset.from_list(rows)
