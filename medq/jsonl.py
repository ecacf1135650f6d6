"""The one JSONL reader: every stage reads its `.jsonl` inputs through `read_jsonl`, so a bad line is always
reported the same way, as `FILE: line N: what is wrong` (the form of every medq input error), and blank lines are
the only lines ever skipped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from medq.errors import InputDataError


@dataclass(frozen=True)
class BadLine:
    """What `read_jsonl(..., lenient=True)` yields for a line it cannot parse, so the caller can reject it."""

    detail: str


def row_error(path: Path | str, line: int, message: str) -> InputDataError:
    """The error for one bad row: `FILE: line N: message` (one line)."""
    return InputDataError(f"{path}: line {line}: {message}")


def _lines(path: Path) -> Iterator[str]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise row_error(path, number, f"not UTF-8 (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})") \
                    from None


def read_jsonl(path: Path | str, *, objects: bool = True, lenient: bool = False, what: str = "records",
               lines: Iterable[str] | None = None) -> Iterator[tuple[int, Any]]:
    """Yield `(line number, value)` for each non-blank line of `path` (UTF-8), lazily.

    A missing file, bad UTF-8 or bad JSON raises `InputDataError` naming the file and line; with `objects` (the
    default) so does a line that is not a JSON object. With `lenient`, a bad line yields `BadLine(detail)` instead,
    for readers that reject rows rather than stop. `lines` reads already-decoded text (a source with its own
    encoding detection) while errors still name `path`.
    """
    path = Path(path)
    if lines is None:
        if not path.is_file():
            raise InputDataError(f"{path}: file not found (expected {what} as JSON lines)")
        lines = _lines(path)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            detail = f"invalid JSON ({exc.msg} at column {exc.colno})"
        else:
            if not objects or isinstance(value, dict):
                yield number, value
                continue
            detail = f"expected a JSON object, found {type(value).__name__}"
        if not lenient:
            raise row_error(path, number, detail)
        yield number, BadLine(detail)
