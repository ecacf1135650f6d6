"""The API's configuration (`conf/api/default.yaml`): the dataclass signatures are the schema Hydra validates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass
class RateLimit:
    """Requests per API key per time unit.

    With `store_url: null` the counters live in each worker's memory, so the limit holds PER WORKER (N workers let
    a key through up to N times the limit). A `redis://` URL gives one shared counter across workers and hosts.
    """

    requests: int = 120
    per: Literal["second", "minute", "hour", "day"] = "minute"
    store_url: str | None = None


@dataclass
class ErasureHook:
    """A store outside the API that holds a patient's data and erases it itself (the chat app's threads): after
    erasing its own data, the API sends `POST url {"tenant", "patient_id"}` with `Authorization: Bearer key`; a 2xx
    JSON answer with `erased` counts is success, anything else fails the erasure (502 naming `name`)."""

    name: str
    url: str
    key: str | None = None
    timeout_s: float = 30.0


@dataclass
class ApiSettings:
    """`agent` is the agent group's node (conf/agent/default.yaml, interpolated): the API builds the same agent,
    and its memory store's database also holds the API keys (the chat app keeps its threads in its own database)."""

    agent: dict[str, Any]
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    agent_model_name: str = "medq-agent"
    rate_limit: RateLimit = field(default_factory=RateLimit)
    max_body_bytes: int = 64 * 1024       # larger request bodies -> 413 (the message limit is the agent's)
    cors_origins: list[str] = field(default_factory=list)   # empty = CORS off
    access_log: str | None = None         # JSONL file of who read/changed which patient's data; null = log only
    tracking_uri: str | None = None       # MLflow store for the agent's traces (and their erasure); null = MLflow's
    erasure_hooks: list[ErasureHook] = field(default_factory=list)   # called after the API erased a patient


def load_settings(path: str | Path) -> ApiSettings:
    """The API node of a resolved config (what `python -m medq.api serve` writes for uvicorn's workers)."""
    from omegaconf import OmegaConf

    from medq.config import as_dataclass

    node = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    node = {k: v for k, v in node.items() if k != "_target_"}
    return as_dataclass(ApiSettings, node)
