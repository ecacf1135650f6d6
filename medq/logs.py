"""The console shows medq's progress; library chatter (DEBUG lines, FutureWarnings) goes to the run log only.

Hydra configures the root logger with a console and a file handler (`<run folder>/<job>.log`); stage workers
(medq/stage_worker.py) get the same pair from `quiet_console(log_file)`. Some libraries set their own loggers to
DEBUG (bm25s does at import), DeepSpeed adds its own stdout handler, and Python warnings print straight to stderr:
all would reach the console.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] %(message)s"
RUN_LOG_ONLY = ("DeepSpeed", "httpx")   # library loggers whose INFO and WARNING lines belong in the run log only


def quiet_console(log_file: Path | None = None) -> Path | None:
    """Console handlers show INFO and above; warnings (`warnings.warn`) go to the run log instead of stderr.
    Adds a console and a `log_file` handler when the root logger has none (a worker process). Returns the run log."""
    root = logging.getLogger()
    if not root.handlers:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        root.addHandler(console)
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            file = logging.FileHandler(log_file, encoding="utf-8")
            file.setFormatter(logging.Formatter(FORMAT))
            root.addHandler(file)
        root.setLevel(logging.INFO)
    files = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    for handler in root.handlers:
        if not isinstance(handler, logging.FileHandler) and handler.level < logging.INFO:
            handler.setLevel(logging.INFO)  # a library logger at DEBUG (bm25s) must not print to the console
    # DeepSpeed gives its logger its own stdout handler when imported (later, inside a stage), and httpx logs one
    # INFO line per request (the assistant demo's model-server watch asks every 2 s, which buried the demo's URLs):
    # a filter on the logger object outlives both, and sends their records to the run log; only errors still reach
    # the console
    for name in RUN_LOG_ONLY:
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if not isinstance(f, _RunLogOnly)]
        logger.addFilter(_RunLogOnly(files, logger))
    logging.captureWarnings(True)
    warnings_log = logging.getLogger("py.warnings")
    warnings_log.handlers = list(files) or [logging.NullHandler()]
    warnings_log.propagate = False
    return Path(files[0].baseFilename) if files else None


class _RunLogOnly(logging.Filter):
    """Write a library logger's records to the run log's handlers; let only errors through to its own handlers
    (and, for a logger that propagates, to the root's console and run log, which then writes them once)."""

    def __init__(self, files: list[logging.Handler], logger: logging.Logger):
        super().__init__()
        self.files = files
        self.logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        passes = record.levelno >= logging.ERROR
        if not (passes and self.logger.propagate):
            for handler in self.files:
                if record.levelno >= handler.level:
                    handler.handle(record)
        return passes
