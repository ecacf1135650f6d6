"""The `assistant` stage of +recipe=assistant_demo, run by itself with block=false: it starts the real API and
chat app in front of a model server (the scripted replay server standing in for the demo's vLLM: the recipe's
pipeline up to `merge` is covered by the training tests), prints URLs, key and login, and stops both on return."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.api.conftest import PASS, SAFE_DRAFT


@pytest.mark.slow
def test_assistant_stage_starts_api_and_chat_app_and_stops_them(model_server, tmp_path, capsys):
    from medq.api.__main__ import compose_api_config
    from medq.apps.assistant_demo import AssistantDemo
    from medq.runner import build_stage
    from medq.stage import StageContext

    model_server.script("draft", default={"content": SAFE_DRAFT})
    model_server.script("critic", default=PASS)
    endpoint = tmp_path / "endpoint.json"
    endpoint.write_text(json.dumps({"base_url": model_server.base_url, "models": ["replay"]}), encoding="utf-8")
    api = compose_api_config([f"agent.memory.url=sqlite:///{tmp_path / 'memory.db'}", "agent.tracing.enabled=false",
                              "api.port=0", "api.access_log=null"])
    # built as the runner builds a stage (hydra instantiate from the config node), so `api` arrives as config
    stage = build_stage({"assistant": {"_target_": "medq.apps.assistant_demo.AssistantDemo", "_recursive_": False,
                                       "api": api,
                                       "home": str(tmp_path / "home"), "ui_port": 0, "block": False,
                                       "inputs": {"endpoint": "serve.endpoint"}}}, "assistant")
    assert isinstance(stage, AssistantDemo) and isinstance(stage.api, dict)
    out = tmp_path / "out"
    out.mkdir()
    artifacts = stage.run(StageContext("assistant", out, {"endpoint": endpoint}, tracker=None, seed=0))
    urls = json.loads((out / artifacts["urls"]).read_text())
    printed = capsys.readouterr().err
    assert urls["api"] in printed and urls["chat_app"] in printed and "mlflow ui" in printed
    key = printed.split("API key")[1].split()[0]
    assert key.startswith("mq-")
    for url in (urls["api"] + "/healthz", urls["chat_app"]):     # both stopped when the stage returned
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
    from medq.api.keys import ApiKeyStore

    assert ApiKeyStore(f"sqlite:///{tmp_path / 'memory.db'}").lookup(key).tenant == "demo"
    # the chat app got its own database (its own migration history) in the demo's folder, and the API's erasure
    # calls the app's erasure endpoint with the app's key; the API's database holds no chat-app table
    from omegaconf import OmegaConf
    from sqlalchemy import create_engine, inspect

    chat = create_engine(f"sqlite:///{tmp_path / 'home' / 'chat.db'}")
    memory = create_engine(f"sqlite:///{tmp_path / 'memory.db'}")
    try:
        assert {"threads", "steps", "users", "medq_ui_alembic_version"} <= set(inspect(chat).get_table_names())
        assert not {"threads", "steps", "users", "medq_ui_alembic_version"} & set(inspect(memory).get_table_names())
    finally:
        chat.dispose()
        memory.dispose()
    hooks = OmegaConf.load(tmp_path / "home" / "api" / "api.yaml")["erasure_hooks"]
    ui = OmegaConf.load(tmp_path / "home" / "chainlit" / "ui.yaml")
    assert [(h.name, h.url, h.key) for h in hooks] == [("chat_app", urls["chat_app"] + "/medq/erasure", ui.erasure_key)]
    assert ui.erasure_key and ui.database_url == f"sqlite:///{tmp_path / 'home' / 'chat.db'}"


def _demo_stage(tmp_path, model_url: str, block: bool):
    from medq.api.__main__ import compose_api_config
    from medq.runner import build_stage

    endpoint = tmp_path / "endpoint.json"
    endpoint.write_text(json.dumps({"base_url": model_url, "models": ["replay"]}), encoding="utf-8")
    api = compose_api_config([f"agent.memory.url=sqlite:///{tmp_path / 'memory.db'}", "agent.tracing.enabled=false",
                              "api.port=0", "api.access_log=null"])
    stage = build_stage({"assistant": {"_target_": "medq.apps.assistant_demo.AssistantDemo", "_recursive_": False,
                                       "api": api, "home": str(tmp_path / "home"), "ui_port": 0, "block": block,
                                       "inputs": {"endpoint": "serve.endpoint"}}}, "assistant")
    return stage, endpoint


@pytest.mark.slow
def test_demo_revokes_its_previous_key_and_notices_the_model_server_dying(tmp_path, capsys):
    """Issue 16, finding 8: every demo run added a still-valid "demo" key; a model server that died went unnoticed."""
    import threading

    from medq.api.keys import ApiKeyStore
    from medq.errors import MedqError
    from medq.stage import StageContext
    from tests.fixtures.openai_replay import OpenAIReplay

    server = OpenAIReplay().start()
    server.script("draft", default={"content": SAFE_DRAFT})
    server.script("critic", default=PASS)
    stage, endpoint = _demo_stage(tmp_path, server.base_url, block=False)
    keys = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        out.mkdir()
        stage.run(StageContext("assistant", out, {"endpoint": endpoint}, tracker=None, seed=0))
        keys.append(capsys.readouterr().err.split("API key")[1].split()[0])
    store = ApiKeyStore(f"sqlite:///{tmp_path / 'memory.db'}")
    assert store.lookup(keys[0]) is None and store.lookup(keys[1]).tenant == "demo"
    # a blocking demo whose model server dies: one line saying so, and the API and chat app are stopped
    stage, endpoint = _demo_stage(tmp_path, server.base_url, block=True)
    out = tmp_path / "out-block"
    out.mkdir()

    def kill_model_server_once_up() -> None:
        deadline = time.monotonic() + 300
        while not (out / "assistant.json").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        server.stop()

    killer = threading.Thread(target=kill_model_server_once_up, daemon=True)
    killer.start()
    started = time.monotonic()
    with pytest.raises(MedqError, match=r"the model server at http://127\.0\.0\.1:\d+/v1 stopped answering") as info:
        stage.run(StageContext("assistant", out, {"endpoint": endpoint}, tracker=None, seed=0))
    assert "\n" not in str(info.value) and time.monotonic() - started < 300
    urls = json.loads((out / "assistant.json").read_text())
    for url in (urls["api"] + "/healthz", urls["chat_app"]):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
