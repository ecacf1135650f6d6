"""The `assistant` stage of `+recipe=assistant_demo`: the API and the chat app on 127.0.0.1 in front of the model
server the runner started for it (`inputs.endpoint: serve.endpoint`), with the demo index for evidence. The chat
app keeps its threads in its own database (`chat.db` in `home`), and the API's erasure of a patient calls the app's
erasure endpoint (`api.erasure_hooks`, with a key made for the run).

It creates a demo API key (printed once) and a chat login with a random password, prints the three URLs, the MLflow
UI command and how to stop, and keeps everything up until Ctrl-C (or SIGTERM), then stops both process groups (the
runner stops the model server). It is never cached: each run starts the services anew.
"""

from __future__ import annotations

import copy
import json
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from medq.errors import MedqError
from medq.serve.launcher import ServerProcess, free_port
from medq.serve.services import read_endpoint


class AssistantDemo:
    outputs = ("urls",)
    final_outputs = outputs  # what the user opens (medq/wiring.py)
    cacheable = False    # a running service, not an artifact: the runner reruns it every time

    def __init__(self, api: dict[str, Any], home: str, retrieve: dict[str, Any] | None = None, ui_port: int = 8501,
                 tenant: str = "demo", login: str = "demo", block: bool = True, startup_timeout_s: float = 300,
                 mlflow_uri: str | None = None, inputs: dict[str, str] | None = None):
        self.api = api
        self.home = Path(home)
        self.retrieve = retrieve
        self.ui_port = ui_port
        self.tenant, self.login = tenant, login
        self.block = block
        self.startup_timeout_s = startup_timeout_s
        self.mlflow_uri = mlflow_uri
        self.inputs = inputs if inputs is not None else {"endpoint": "serve.endpoint", "index": "index.index"}
        self._servers: list[ServerProcess] = []

    def _api_node(self, ctx: Any) -> dict[str, Any]:
        node = copy.deepcopy(self.api)
        endpoint, _ = read_endpoint(Path(ctx.inputs["endpoint"]))
        agent = node["agent"]
        agent["endpoint"] = {**agent["endpoint"], "base_url": endpoint.base_url, "model": endpoint.model}
        if "index" in ctx.inputs and self.retrieve:
            agent["index"], agent["retrieve"] = str(ctx.inputs["index"]), self.retrieve
        if node["port"] in (0, None):
            node["port"] = free_port()
        return node

    def _start(self, name: str, command: list[str], env: dict[str, str], log_path: Path, health_url: str) -> None:
        """Start one of the demo's servers in its own process group and wait until it answers (medq's one
        launcher, as for the model server); a server that exits or never answers is a one-line error."""
        server = ServerProcess(name, command, env, log_path, health_url, self.startup_timeout_s, cwd=self.home)
        self._servers.append(server)
        server.start()
        server.wait_healthy()

    def stop(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()

    def run(self, ctx: Any) -> dict[str, str]:
        from medq.api.__main__ import uvicorn_command, write_settings
        from medq.api.keys import ApiKeyStore
        from medq.ui.__main__ import chainlit_command, check_chat_login, prepare_app
        from medq.ui.settings import UiSettings
        from medq.ui.users import add_user

        self.home.mkdir(parents=True, exist_ok=True)
        node = self._api_node(ctx)
        key = self._fresh_key(ApiKeyStore(node["agent"]["memory"]["url"]))
        password = secrets.token_urlsafe(9)
        users = self.home / "users.json"
        add_user(users, self.login, password)
        api_url = f"http://{node['host']}:{node['port']}"
        ui_port = self.ui_port or free_port()
        ui_url = f"http://127.0.0.1:{ui_port}"
        # the chat app keeps its threads in its own database, in the demo's folder; the API erases them through the
        # app's erasure endpoint (a fresh shared key per run)
        ui = UiSettings(api_url=api_url, api_key=key, tenant=self.tenant, model=node["agent_model_name"],
                        database_url=f"sqlite:///{self.home.resolve() / 'chat.db'}", users=str(users.resolve()),
                        home=str((self.home / "chainlit").resolve()), port=ui_port,
                        erasure_key=secrets.token_urlsafe(32))
        node["erasure_hooks"] = [*node.get("erasure_hooks", []),
                                 {"name": "chat_app", "url": ui_url + "/medq/erasure", "key": ui.erasure_key}]
        settings = write_settings(node, self.home / "api")
        command, env = uvicorn_command(settings, node["host"], node["port"], node["workers"])
        api_log = self.home / "api.log"
        try:
            self._start("the API", command, env, api_log, api_url + "/healthz")
            ui_log = self.home / "ui.log"
            self._start("the chat app", chainlit_command("127.0.0.1", ui_port), prepare_app(ui), ui_log, ui_url + "/")
            # a page that loads is not a chat app that lets anyone in: log in for real (and check it was stored)
            check_chat_login(ui_url, self.login, password, ui_log)
            _, record = read_endpoint(Path(ctx.inputs["endpoint"]))
            urls = {"model_server": record["base_url"], "api": api_url, "api_docs": api_url + "/schema",
                    "chat_app": ui_url}
            mlflow = f"mlflow ui --backend-store-uri {self.mlflow_uri}" if self.mlflow_uri else "mlflow ui"
            print(f"\nmedq assistant demo is up:\n"
                  f"  model server  {urls['model_server']}  ({', '.join(record['models'])})\n"
                  f"  API           {api_url}   (OpenAPI: {urls['api_docs']}; docs/api.md)\n"
                  f"  chat app      {ui_url}   login: {self.login} / {password}\n"
                  f"  API key       {key}   (tenant {self.tenant}; shown once)\n"
                  f"  MLflow UI     {mlflow}\n"
                  f"  try: curl {api_url}/v1/chat/completions -H 'Authorization: Bearer {key}' "
                  f"-H 'Content-Type: application/json' -d '{{\"model\": \"medq-agent\", \"user\": \"p1\", "
                  f"\"messages\": [{{\"role\": \"user\", \"content\": \"我对青霉素过敏，嗓子疼怎么办？\"}}]}}'\n"
                  f"Ctrl-C stops the chat app, the API and the model server.", file=sys.stderr, flush=True)
            (ctx.output_dir / "assistant.json").write_text(json.dumps(urls, indent=1), encoding="utf-8")
            if self.block:
                self._block(record["base_url"])
        finally:
            self.stop()
        return {"urls": "assistant.json"}

    def _fresh_key(self, store: Any) -> str:
        """A new demo key; the previous demo run's key (its id kept in the demo's home) is revoked, so demo keys
        do not pile up, each still valid, in the database."""
        id_file = self.home / "demo_key_id"
        if id_file.is_file():
            store.revoke(id_file.read_text(encoding="utf-8").strip())
        key = store.create(self.tenant)
        id_file.write_text(store.lookup(key).key_id, encoding="utf-8")
        return key

    def _block(self, model_url: str, check_every_s: float = 2.0, failures_allowed: int = 3) -> None:
        previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        # a shell without job control starts background jobs with SIGINT ignored: Ctrl-C / kill -INT must still stop
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        failures, next_check = 0, time.monotonic() + check_every_s
        try:
            while all(server.alive() for server in self._servers):
                time.sleep(0.5)
                if time.monotonic() < next_check:
                    continue
                next_check = time.monotonic() + check_every_s
                # the model server is the runner's service, not ours: watch it over its own protocol
                cause = _model_server_down(model_url)
                failures = failures + 1 if cause else 0
                if failures >= failures_allowed:
                    raise MedqError(f"the model server at {model_url} stopped answering ({cause}); stopping the "
                                    f"chat app and the API (the model server's log is in the run folder)")
            raise MedqError(f"a demo service exited by itself; see the logs in {self.home}")
        except KeyboardInterrupt:
            print("medq: stopping the chat app and the API", file=sys.stderr, flush=True)
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


def _model_server_down(base_url: str) -> str | None:
    """None while the OpenAI-protocol server lists its models, else why not (one line)."""
    try:
        response = httpx.get(base_url.rstrip("/") + "/models", timeout=5)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None if response.status_code == 200 else f"HTTP {response.status_code}"
