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
class ApiSettings:
    """`agent` is the agent group's node (conf/agent/default.yaml, interpolated): the API builds the same agent,
    and its memory store's database also holds the API keys and the chat app's threads."""

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


def load_settings(path: str | Path) -> ApiSettings:
    """The API node of a resolved config (what `python -m medq.api serve` writes for uvicorn's workers)."""
    from omegaconf import OmegaConf

    from medq.config import as_dataclass

    node = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    node = {k: v for k, v in node.items() if k != "_target_"}
    return as_dataclass(ApiSettings, node)
