"""The model server as a pipeline service: what the runner calls around its stages.

A stage uses the server by naming `serve.endpoint` (any service key) in its inputs. The service is started lazily,
just before the first such stage that actually runs (a cached stage needs no server), and stopped after the last
one, or when the pipeline fails. The stage receives `endpoint.json` (URL, served names, and the model's lineage:
path, chat-template hash, adapters); its cache key sees only the lineage, never the port.
With `block: true` the server is (started if needed and) kept up after the last stage until Ctrl-C.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from hydra.utils import get_object

from medq.artifacts import sha256_json, sha256_path, write_json_atomic
from medq.errors import ConfigError, MedqError
from medq.serve.client import ChatEndpoint
from medq.serve.launcher import ServerProcess
from medq.serve.servers import ModelServer

log = logging.getLogger(__name__)
ENDPOINT_FILE = "endpoint.json"
VOLATILE_KEYS = {"port", "host", "block", "startup_timeout_s"}


def is_service_node(node: Any) -> bool:
    if not isinstance(node, Mapping) or "_target_" not in node:
        return False
    try:
        target = get_object(node["_target_"])
    except Exception:
        return False
    return bool(getattr(target, "service", False))


def read_endpoint(path: Path, **overrides: Any) -> tuple[ChatEndpoint, dict[str, Any]]:
    """(ChatEndpoint for the served base model, the full endpoint record) from a service's endpoint.json."""
    import json

    record = json.loads(Path(path).read_text(encoding="utf-8"))
    fields = {"base_url": record["base_url"], "model": record["models"][0],
              "allow_remote_endpoint": record.get("allow_remote_endpoint", False),
              "api_key_env": record.get("api_key_env"), "enable_thinking": record.get("enable_thinking")}
    return ChatEndpoint(**{**fields, **overrides}), record


class _Running:
    def __init__(self, server: ModelServer, identity: dict[str, Any], folder: Path):
        self.server, self.identity, self.folder = server, identity, folder
        self.process: ServerProcess | None = None
        self.started = False


class ModelServices:
    """All service nodes of a pipeline config (usually one: `serve`)."""

    def __init__(self, config: Mapping[str, Any], stages: list[str], run_dir: Path,
                 resolve_inputs: Callable[[str, Any, Mapping[str, Any]], dict[str, Path]]):
        self.config, self.run_dir, self._resolve_inputs = config, Path(run_dir), resolve_inputs
        self.names = [k for k, v in config.items() if k not in stages and is_service_node(v)]
        self.users: dict[str, list[str]] = {n: [] for n in self.names}
        for stage in stages:
            for ref in ((config.get(stage) or {}).get("inputs") or {}).values():
                producer = str(ref).partition(".")[0]
                if producer in self.users:
                    self.users[producer].append(stage)
        self._services: dict[str, _Running] = {}

    def provides(self, name: str) -> bool:
        return name in self.names

    # -- identity (before any start: cache keys must not depend on a port) ----------------------------------------
    def endpoint_file(self, name: str, done: Mapping[str, Any]) -> Path:
        if name not in self._services:
            import hydra.utils

            server: ModelServer = hydra.utils.instantiate(self.config[name], _convert_="all")
            inputs = self._resolve_inputs(name, server, done)
            adapters = {m.name: self._adapter_path(name, m.path, done) for m in server.lora_modules}
            # how the server is reached or kept up does not change what it answers: not part of the cache key
            served = {k: v for k, v in self.config[name].items() if k not in VOLATILE_KEYS}
            identity = {"service": name, "backend": server.backend, "config": served,
                        "inputs": {k: str(p) for k, p in inputs.items()},
                        "input_sha256": {k: sha256_path(p) for k, p in inputs.items()},
                        "adapters": {k: str(p) for k, p in adapters.items()},
                        "adapter_sha256": {k: sha256_path(p) for k, p in adapters.items()}}
            self._services[name] = _Running(server, identity, self.run_dir / "services" / name)
        return self._services[name].folder / ENDPOINT_FILE

    def hash_of(self, path: Path) -> str | None:
        """The cache-key hash of a service input (its lineage), or None when `path` is no service's endpoint."""
        for running in self._services.values():
            if Path(path) == running.folder / ENDPOINT_FILE:
                return sha256_json(running.identity)
        return None

    def _adapter_path(self, name: str, ref: str, done: Mapping[str, Any]) -> Path:
        producer, _, artifact = ref.partition(".")
        if producer in done and artifact in done[producer].artifacts:
            return Path(done[producer].artifacts[artifact])
        if ref.startswith("models:/"):
            import mlflow

            target = self.run_dir / "services" / name / "adapters" / ref.replace("models:/", "").replace("@", "_")
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=ref, dst_path=str(target)))
        path = Path(ref)
        if not path.exists():
            raise ConfigError(f"{name}.lora_modules: adapter '{ref}' is neither an artifact of an earlier stage, a "
                              "models:/NAME@ALIAS registry reference, nor an existing folder")
        return path

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start_for(self, stage: str, inputs: Mapping[str, Path]) -> None:
        """Start every service whose endpoint file is among this stage's inputs (no-op when already up)."""
        for name, running in self._services.items():
            if running.folder / ENDPOINT_FILE in {Path(p) for p in inputs.values()}:
                self._start(name, running)

    def _start(self, name: str, running: _Running) -> None:
        if running.started:
            if running.process is not None and not running.process.alive():
                raise MedqError(f"the {running.server.backend} server ({name}) died; see {running.folder / 'server.log'}")
            return
        server, identity = running.server, running.identity
        running.folder.mkdir(parents=True, exist_ok=True)
        inputs = {k: Path(v) for k, v in identity["inputs"].items()}
        launch = server.launch(inputs.get("model"), inputs.get("template"),
                               {k: Path(v) for k, v in identity["adapters"].items()}, running.folder)
        running.process = server.process(launch, running.folder)
        running.started = True
        seconds = 0.0
        if running.process is not None:
            running.process.start()
            seconds = running.process.wait_healthy()
        template_sha = None
        if "template" in inputs:
            template_sha = sha256_path(inputs["template"])
        record = {"base_url": launch.base_url, "models": launch.models, "backend": server.backend,
                  "model_path": identity["inputs"].get("model"), "chat_template_sha256": template_sha,
                  "adapters": identity["adapters"], "enable_thinking": server.enable_thinking,
                  "api_key_env": server.api_key_env,
                  "allow_remote_endpoint": bool(getattr(server, "allow_remote_endpoint", False)),
                  "pid": running.process.pid if running.process else None, "startup_seconds": round(seconds, 2),
                  "log": str(running.folder / "server.log") if running.process else None}
        write_json_atomic(running.folder / ENDPOINT_FILE, record)
        log.info("%s: %s serving %s at %s (healthy in %.1f s)", name, server.backend, ", ".join(launch.models),
                 launch.base_url, seconds)

    def stage_done(self, stage: str) -> None:
        """Stop services whose last user this stage was (unless they block at the end)."""
        for name, users in self.users.items():
            running = self._services.get(name)
            if running and users and users[-1] == stage and not running.server.block:
                self._stop(running)

    def finish(self, done: Mapping[str, Any]) -> None:
        """After the last stage: serve the blocking services until Ctrl-C (or until the server exits)."""
        for name in self.names:
            server_config = self.config[name]
            if not server_config.get("block", False):
                continue
            self.endpoint_file(name, done)
            running = self._services[name]
            self._start(name, running)
            self._block(name, running)

    def _block(self, name: str, running: _Running) -> None:
        record = (running.folder / ENDPOINT_FILE).read_text(encoding="utf-8")
        import json

        info = json.loads(record)
        pgid = running.process.pid if running.process else None
        print(f"\nmedq: {name} ({info['backend']}) is serving {', '.join(info['models'])} at {info['base_url']}\n"
              f"      Ctrl-C stops it" + (f" (process group {pgid}; or: kill -TERM -{pgid})" if pgid else "") + ".",
              file=sys.stderr, flush=True)
        if running.process is None:
            return
        previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        # a shell without job control starts background jobs with SIGINT ignored: Ctrl-C / kill -INT must still stop
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while running.process.alive():
                time.sleep(0.5)
            log.warning("%s exited by itself; see %s", name, running.folder / "server.log")
        except KeyboardInterrupt:
            print("medq: stopping the server", file=sys.stderr, flush=True)
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
            self._stop(running)

    def _stop(self, running: _Running) -> None:
        if running.process is not None:
            running.process.stop()
            running.process = None

    def stop_all(self) -> None:
        for running in self._services.values():
            self._stop(running)

    def __enter__(self) -> "ModelServices":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_all()
