"""Types for paths outside the pipeline, checked when the config is validated (before any stage runs).

A `_target_`'s signature is the config's schema (medq/config.py), so annotating a parameter with one of these types
makes `python -m medq ... --validate` and every run fail in a second, naming the config key, when the file or folder
is not there, instead of failing in the middle of a pipeline after hours of training.

    def __init__(self, questions_path: ExistingFile, ...)      # a CSV the stage reads
    def __init__(self, data_dir: ExistingDir | None = None)    # optional: None is allowed, a given path must exist
    def __init__(self, name_or_path: ModelLocation | None)      # a local model folder (or a reachable hub id)

The validators only check; they return the value unchanged (a `str` stays a `str`), so the stage code is the same.
"""

from __future__ import annotations

import os
import re
import socket
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator

HUB_HOST = "huggingface.co"
# 'Qwen/Qwen3-8B', 'BAAI/bge-m3': one slash, no leading '/', '.' or '~', no second slash
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _existing_file(value: Any) -> Any:
    path = Path(str(value)).expanduser()
    if path.is_dir():
        raise ValueError(f"{path} is a folder, a file is expected")
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    return value


def _existing_dir(value: Any) -> Any:
    path = Path(str(value)).expanduser()
    if path.is_file():
        raise ValueError(f"{path} is a file, a folder is expected")
    if not path.is_dir():
        raise ValueError(f"no such folder: {path}")
    return value


def looks_like_hub_id(value: str) -> bool:
    return bool(_HUB_ID.match(value)) and not Path(value).expanduser().exists()


@lru_cache(maxsize=1)
def hub_reachable(timeout_s: float = 1.0) -> bool:
    """False when offline mode is set or the hub's host does not answer within a second (no retries, no waiting)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    host = os.environ.get("HF_ENDPOINT", f"https://{HUB_HOST}").split("://")[-1].split("/")[0]
    name, _, port = host.partition(":")
    try:
        with socket.create_connection((name, int(port or 443)), timeout=timeout_s):
            return True
    except OSError:
        return False


def _model_location(value: Any) -> Any:
    text = str(value)
    if Path(text).expanduser().is_dir():
        return value
    if looks_like_hub_id(text):
        if hub_reachable():
            return value
        raise ValueError(f"'{text}' looks like a hub id but no model hub is reachable here "
                         "(HF_HUB_OFFLINE or no network): set it to a local folder holding the model")
    if Path(text).expanduser().is_file():
        raise ValueError(f"{text} is a file; a model is a folder (config.json, weights, tokenizer)")
    raise ValueError(f"no such model folder: {text}")


ExistingFile = Annotated[str, AfterValidator(_existing_file)]
ExistingDir = Annotated[str, AfterValidator(_existing_dir)]
ModelLocation = Annotated[str, AfterValidator(_model_location)]
