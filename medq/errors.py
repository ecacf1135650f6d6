"""The one error type users see: its message is a single line naming what to fix."""

from __future__ import annotations

import sys
from typing import Callable


class MedqError(Exception):
    """A user-facing failure (bad config, bad input file, unreachable service)."""


class ConfigError(MedqError):
    """The composed configuration is invalid; raised before any stage starts."""


class InputDataError(MedqError):
    """An input file cannot be read as configured; names the file and the row, byte or column."""


def command_status(command: Callable[[], int]) -> int:
    """Run a command-line entry point's body: a MedqError becomes one line `medq: error: ...` and exit status 1,
    Ctrl-C exit status 130 (the `python -m medq.api` and `python -m medq.ui` commands)."""
    try:
        return command()
    except MedqError as exc:
        print(f"medq: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
