"""The three model-server backends, as config components (`conf/serve/{vllm,transformers,external}.yaml`).

Each maps its keys one-to-one onto its server's own flags, so a user who knows `vllm serve` recognises every key.
The runner treats the chosen one as a service (medq/serve/services.py): started before the first stage whose
inputs name `serve.endpoint`, stopped after the last.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from medq.errors import ConfigError, MedqError
from medq.serve.launcher import ServerProcess, check_port_free, free_port


@dataclass
class LoraModule:
    """An adapter served on top of the base model under its own name: `path` is an artifact reference
    (`dpo.adapter`), a folder, or an MLflow registry alias (`models:/NAME@ALIAS`)."""

    name: str
    path: str


@dataclass
class Launch:
    """What a backend hands the service: how to start it (None: already running) and how to reach it."""

    command: list[str] | None
    env: dict[str, str]
    base_url: str
    health_url: str
    models: list[str]            # served names: the base model first, then the LoRA modules


class ModelServer:
    """Shared keys of every backend. `inputs`: `model` (and `template`) artifact references, as for a stage."""

    backend = "base"
    service = True  # the runner runs it around the stages that use it, never as a cached stage

    def __init__(self, inputs: dict[str, str] | None = None, served_model_name: str = "medq", host: str = "127.0.0.1",
                 port: int = 0, startup_timeout_s: float = 900.0, block: bool = False, enable_thinking: bool = False,
                 lora_modules: list[LoraModule] | None = None, api_key_env: str | None = None):
        self.inputs = dict(inputs or {})
        self.served_model_name, self.host, self.port = served_model_name, host, int(port)
        self.startup_timeout_s, self.block, self.enable_thinking = startup_timeout_s, block, enable_thinking
        self.lora_modules = [m if isinstance(m, LoraModule) else LoraModule(**m) for m in (lora_modules or [])]
        self.api_key_env = api_key_env

    def pick_port(self) -> int:
        if self.port == 0:
            return free_port(self.host)
        check_port_free(self.host, self.port, "serve.port")
        return self.port

    def launch(self, model: Path | None, template: Path | None, adapters: dict[str, Path], run_dir: Path) -> Launch:
        raise NotImplementedError

    def process(self, launch: Launch, run_dir: Path) -> ServerProcess | None:
        if launch.command is None:
            return None
        return ServerProcess(f"{self.backend} server", launch.command, launch.env, run_dir / "server.log",
                             launch.health_url, self.startup_timeout_s, cwd=run_dir)


def _template_text(template: Path | None, run_dir: Path) -> Path | None:
    """The pinned template's Jinja text as a file: servers take `--chat-template PATH`, medq pins a JSON record."""
    if template is None:
        return None
    data = json.loads((template / "chat_template.json" if template.is_dir() else template).read_text(encoding="utf-8"))
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "chat_template.jinja"
    path.write_text(data["template"], encoding="utf-8")
    return path


class VLLMServer(ModelServer):
    """vLLM's OpenAI server (`python -m vllm.entrypoints.openai.api_server`) from its own environment."""

    backend = "vllm"

    def __init__(self, python: str = ".venv-vllm/bin/python", dtype: str = "auto", max_model_len: int | None = None,
                 tensor_parallel_size: int = 1, pipeline_parallel_size: int = 1,
                 gpu_memory_utilization: float = 0.9, max_lora_rank: int = 16, max_loras: int = 4,
                 tool_call_parser: str | None = "hermes", enable_auto_tool_choice: bool = True,
                 enforce_eager: bool = False, distributed_executor_backend: Literal["mp", "ray"] | None = None,
                 cpu_kvcache_space_gb: float | None = None, extra_args: list[str] | None = None,
                 inputs: dict[str, str] | None = None, served_model_name: str = "medq",
                 host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 900.0, block: bool = False,
                 enable_thinking: bool = False, lora_modules: list[LoraModule] | None = None,
                 api_key_env: str | None = None):
        # the shared keys are spelt out (not **kwargs) because the signature is the config schema
        super().__init__(inputs, served_model_name, host, port, startup_timeout_s, block, enable_thinking,
                         lora_modules, api_key_env)
        self.python, self.dtype, self.max_model_len = python, dtype, max_model_len
        self.tensor_parallel_size, self.pipeline_parallel_size = tensor_parallel_size, pipeline_parallel_size
        self.gpu_memory_utilization, self.max_lora_rank, self.max_loras = gpu_memory_utilization, max_lora_rank, max_loras
        self.tool_call_parser, self.enable_auto_tool_choice = tool_call_parser, enable_auto_tool_choice
        self.enforce_eager, self.distributed_executor_backend = enforce_eager, distributed_executor_backend
        self.cpu_kvcache_space_gb, self.extra_args = cpu_kvcache_space_gb, list(extra_args or [])

    def python_path(self) -> Path:
        path = Path(self.python)
        if not path.is_absolute():  # relative to the checkout, where scripts/install.sh --vllm builds it
            path = Path(__file__).resolve().parents[2] / path
        if not path.exists():
            raise ConfigError(f"serve.vllm: serve.python = {path} does not exist: build vLLM's environment with "
                              "`bash scripts/install.sh --vllm`, or use serve=transformers (or serve=external)")
        return path

    def launch(self, model: Path | None, template: Path | None, adapters: dict[str, Path], run_dir: Path) -> Launch:
        if model is None:
            raise ConfigError("serve.inputs.model is not set: name the model artifact to serve, e.g. merge.model")
        port = self.pick_port()
        command = [str(self.python_path()), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
                   "--served-model-name", self.served_model_name, "--host", self.host, "--port", str(port),
                   "--dtype", self.dtype, "--tensor-parallel-size", str(self.tensor_parallel_size),
                   "--pipeline-parallel-size", str(self.pipeline_parallel_size),
                   "--gpu-memory-utilization", str(self.gpu_memory_utilization),
                   "--default-chat-template-kwargs", json.dumps({"enable_thinking": self.enable_thinking})]
        if self.max_model_len:
            command += ["--max-model-len", str(self.max_model_len)]
        template_file = _template_text(template, run_dir)
        if template_file is not None:
            command += ["--chat-template", str(template_file)]
        if adapters:
            command += ["--enable-lora", "--max-lora-rank", str(self.max_lora_rank), "--max-loras", str(self.max_loras),
                        "--lora-modules", *[f"{name}={path}" for name, path in adapters.items()]]
        if self.tool_call_parser:
            command += ["--tool-call-parser", self.tool_call_parser]
            if self.enable_auto_tool_choice:
                command += ["--enable-auto-tool-choice"]
        if self.enforce_eager:
            command += ["--enforce-eager"]
        if self.distributed_executor_backend:
            command += ["--distributed-executor-backend", self.distributed_executor_backend]
        command += self.extra_args
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_CACHE_ROOT": str(run_dir / "vllm_cache"),
               "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}  # telemetry off by default
        if self.api_key_env:  # by environment, not --api-key: a command line is visible to every user in `ps`
            env["VLLM_API_KEY"] = _env_key(self.api_key_env)
        if self.cpu_kvcache_space_gb is not None:
            env["VLLM_CPU_KVCACHE_SPACE"] = f"{self.cpu_kvcache_space_gb:g}"
        base = f"http://{self.host}:{port}"
        return Launch(command, env, f"{base}/v1", f"{base}/health", [self.served_model_name, *adapters])


class TransformersServer(ModelServer):
    """`transformers serve` from medq's own environment: for machines where vLLM does not install (macOS).
    It serves the model under its path (requests name the path) and has no LoRA modules or logprobs."""

    backend = "transformers"

    def __init__(self, device: str = "cpu", dtype: str = "float32", continuous_batching: bool = False,
                 extra_args: list[str] | None = None, inputs: dict[str, str] | None = None, served_model_name: str = "medq",
                 host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 900.0, block: bool = False,
                 enable_thinking: bool = False, lora_modules: list[LoraModule] | None = None,
                 api_key_env: str | None = None):
        super().__init__(inputs, served_model_name, host, port, startup_timeout_s, block, enable_thinking,
                         lora_modules, api_key_env)
        self.device, self.dtype, self.continuous_batching = device, dtype, continuous_batching
        self.extra_args = list(extra_args or [])

    def launch(self, model: Path | None, template: Path | None, adapters: dict[str, Path], run_dir: Path) -> Launch:
        if model is None:
            raise ConfigError("serve.inputs.model is not set: name the model artifact to serve, e.g. merge.model")
        if adapters:
            raise ConfigError("serve.lora_modules: `transformers serve` has no LoRA modules; serve the merged "
                              "model, or use serve=vllm")
        port = self.pick_port()
        command = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(model), "--host", self.host,
                   "--port", str(port), "--device", self.device, "--dtype", self.dtype,
                   "--chat-template-kwargs", json.dumps({"enable_thinking": self.enable_thinking}),
                   *(["--continuous-batching"] if self.continuous_batching else []), *self.extra_args]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
        base = f"http://{self.host}:{port}"
        return Launch(command, env, f"{base}/v1", f"{base}/health", [str(model)])


class ExternalServer(ModelServer):
    """An already running OpenAI-compatible server (e.g. a hospital's vLLM cluster): nothing is started."""

    backend = "external"

    def __init__(self, base_url: str = "http://127.0.0.1:8000/v1", model: str = "medq",
                 allow_remote_endpoint: bool = False, inputs: dict[str, str] | None = None, served_model_name: str = "medq",
                 host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 900.0, block: bool = False,
                 enable_thinking: bool = False, lora_modules: list[LoraModule] | None = None,
                 api_key_env: str | None = None):
        super().__init__(inputs, served_model_name, host, port, startup_timeout_s, block, enable_thinking,
                         lora_modules, api_key_env)
        self.base_url, self.model, self.allow_remote_endpoint = base_url.rstrip("/"), model, allow_remote_endpoint
        from urllib.parse import urlparse

        from medq.serve.client import is_loopback

        if not allow_remote_endpoint and not is_loopback(urlparse(self.base_url).hostname or ""):
            raise ConfigError(f"serve.base_url = {base_url!r} is not on this machine and patient text would leave "
                              "it: set serve.allow_remote_endpoint=true to allow that")

    def launch(self, model: Path | None, template: Path | None, adapters: dict[str, Path], run_dir: Path) -> Launch:
        root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        return Launch(None, {}, self.base_url, f"{root}/health", [self.model, *(m.name for m in self.lora_modules)])


def _env_key(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"serve.api_key_env = {name!r}: that environment variable is not set")
    return value


__all__ = ["ExternalServer", "Launch", "LoraModule", "ModelServer", "TransformersServer", "VLLMServer", "MedqError"]
