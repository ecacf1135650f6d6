"""The chat app's configuration (`conf/ui/default.yaml`): the dataclass signature is the schema Hydra validates.

`python -m medq.ui run key=value ...` composes it, writes the resolved node to a file (mode 0600: it holds the API
key and the erasure key) and hands that file's path to the Chainlit process in `MEDQ_UI_CONFIG`; the app reads
nothing else from its environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class UiSettings:
    """`database_url` is the chat app's OWN database (threads, steps, elements, feedback, logins), migrated by the
    app's own Alembic history (`medq/ui/migrations`, version table `medq_ui_alembic_version`); never the API's.
    `erasure_key` is the secret the API sends with its erasure call (`api.erasure_hooks`); null: the app's erasure
    endpoint refuses every call (so an API that lists it reports the erasure as failed)."""

    api_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    tenant: str = "default"
    model: str = "medq-agent"
    database_url: str = "sqlite:///ui/chat.db"
    users: str = "ui/users.json"
    home: str = "ui/app"
    host: str = "127.0.0.1"
    port: int = 8501
    erasure_key: str | None = None


def load_settings(path: str | Path) -> UiSettings:
    """The `ui` node `python -m medq.ui run` wrote (resolved) for the Chainlit process."""
    from omegaconf import OmegaConf

    from medq.config import as_dataclass

    node = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    node = {k: v for k, v in node.items() if k != "_target_"}
    return as_dataclass(UiSettings, node)


def write_settings(settings: UiSettings, path: Path) -> Path:
    """The resolved node for the Chainlit process, readable by its owner only (it holds keys)."""
    import dataclasses
    import os

    from omegaconf import OmegaConf

    path.parent.mkdir(parents=True, exist_ok=True)
    text = OmegaConf.to_yaml(OmegaConf.create(dataclasses.asdict(settings)))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return path
