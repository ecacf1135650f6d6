"""The model server as a runner service, with a real launched server process (tests/fixtures/openai_replay.py as the
backend, with a child process like vLLM's engine core) and the real runner, MLflow store and chat client."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from medq.errors import MedqError
from medq.runner import Pipeline
from medq.serve.launcher import process_group_alive
from medq.tracking import MlflowTracker


def config(root: Path, stages: list[str], **overrides) -> dict:
    log = str(root / "asks.jsonl")
    counter = str(root / "calls.log")
    cfg = {
        "name": "svc", "seed": 1, "force": False, "stages": stages,
        "paths": {"artifacts_dir": str(root / "artifacts")},
        "tracking": {"_target_": "medq.tracking.MlflowTracker", "tracking_uri": f"sqlite:///{root}/mlruns/mlflow.db",
                     "experiment": "svc", "artifact_location": str(root / "mlruns" / "artifacts")},
        "serve": {"_target_": "tests.fixtures.servers.ReplayModelServer",
                  "script": {"draft": {"default": {"content": "多休息。"}}}},
        "first": {"_target_": "tests.stages.WriteTextStage", "text": "hello", "counter_file": counter},
        "ask": {"_target_": "tests.serve.stages.AskStage", "inputs": {"endpoint": "serve.endpoint"}, "log_file": log},
        "ask_again": {"_target_": "tests.serve.stages.AskStage", "inputs": {"endpoint": "serve.endpoint"},
                      "log_file": log},
        "last": {"_target_": "tests.stages.UpperCaseStage", "counter_file": counter},
    }
    for key, values in overrides.items():
        cfg[key].update(values)
    return cfg


def run(root: Path, cfg: dict):
    tracker = MlflowTracker(cfg["tracking"]["tracking_uri"], "svc", cfg["tracking"]["artifact_location"])
    pipeline = Pipeline(cfg, root / "run", tracker, {"recipe": "svc"})
    return pipeline, pipeline.run


def asks(root: Path) -> list[dict]:
    path = root / "asks.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def group_gone(pgid: int) -> bool:
    return not process_group_alive(pgid)


def test_server_runs_around_its_users_and_the_url_comes_through_inputs(tmp_path):
    cfg = config(tmp_path, ["first", "ask", "ask_again", "last"])
    pipeline, go = run(tmp_path, cfg)
    outcomes = go()
    first, second = asks(tmp_path)
    assert first["reply"] == second["reply"] == "多休息。"
    assert first["url"] == second["url"] and first["pid"] == second["pid"] and first["alive"], \
        "one server for both users, alive while they run"
    assert group_gone(first["pid"]), "after the last user the whole process group (server and child) is stopped"
    endpoint = json.loads((tmp_path / "run" / "services" / "serve" / "endpoint.json").read_text())
    assert endpoint["backend"] == "replay" and endpoint["models"] == ["replay"]
    assert outcomes["ask"].artifacts["reply"].read_text(encoding="utf-8") == "多休息。"

    # rerun: every stage cached, so no server is started; the cache key did not see the (new) port
    _, go_again = run(tmp_path, cfg)
    again = go_again()
    assert all(o.cached for o in again.values()) and len(asks(tmp_path)) == 2


def test_failing_user_stops_the_server(tmp_path):
    cfg = config(tmp_path, ["ask", "ask_again"], ask_again={"fail": True})
    _, go = run(tmp_path, cfg)
    with pytest.raises(MedqError, match="told to fail"):
        go()
    record = asks(tmp_path)[-1]
    assert record["alive"] and group_gone(record["pid"])


def test_port_in_use_is_a_one_line_error(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = config(tmp_path, ["ask"], serve={"port": port})
        _, go = run(tmp_path, cfg)
        with pytest.raises(MedqError, match=f"port {port} on 127.0.0.1 is already in use: set serve.port"):
            go()
    assert asks(tmp_path) == []


def test_external_backend_refuses_a_remote_url_unless_allowed(tmp_path):
    from medq.errors import ConfigError
    from medq.serve import ExternalServer

    with pytest.raises(ConfigError, match="serve.allow_remote_endpoint=true"):
        ExternalServer(base_url="https://vllm.hospital.example/v1")
    server = ExternalServer(base_url="https://vllm.hospital.example/v1", allow_remote_endpoint=True)
    launch = server.launch(None, None, {}, tmp_path)
    assert launch.command is None and launch.base_url == "https://vllm.hospital.example/v1"
