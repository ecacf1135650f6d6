"""vLLM's real OpenAI server (CPU build, .venv-vllm) on the tiny Qwen3 and a LoRA module: one start per session,
shared with every other test package through tests/fixtures/servers.py."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from medq.errors import MedqError
from medq.serve import ChatClient
from medq.serve.parity import ParityCheck, ServeParityStage
from medq.stage import StageContext
from medq.tracking import StageTracker
from tests.fixtures.servers import LORA_NAME

pytestmark = pytest.mark.timeout(1800)  # the session's vLLM start (about 30 s idle, minutes on a loaded machine)
QUESTION = [{"role": "user", "content": "我最近总是头痛，晚上睡不好，需要做什么检查？"}]


def test_models_chat_and_stream(vllm_server):
    client = ChatClient(vllm_server.endpoint())
    assert client.models() == ["medq", LORA_NAME]
    reply = client.chat(QUESTION)
    assert reply.text and reply.model == "medq" and reply.finish_reason in ("stop", "length")
    assert reply.usage["completion_tokens"] >= 1
    assert "".join(client.stream(QUESTION)) == reply.text, "greedy: streamed and whole replies agree"


def test_lora_module_selection_changes_the_output(vllm_server):
    client = ChatClient(vllm_server.endpoint())
    base = client.chat(QUESTION, logprobs=True, top_logprobs=1)
    lora = client.chat(QUESTION, model=LORA_NAME, logprobs=True, top_logprobs=1)
    assert lora.model == LORA_NAME
    assert [t["token"] for t in base.logprobs] != [t["token"] for t in lora.logprobs]


def test_metrics_endpoint_counts_requests(vllm_server):
    ChatClient(vllm_server.endpoint()).chat(QUESTION)
    root = vllm_server.base_url.removesuffix("/v1")
    text = urllib.request.urlopen(f"{root}/metrics", timeout=30).read().decode()
    counts = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith("vllm:request_success_total{")]
    assert counts and sum(counts) >= 1


def _parity(tmp_path: Path, server, checks: list[ParityCheck], **kw):
    endpoint = server.endpoint_file(tmp_path / "svc")
    stage = ServeParityStage(inputs={}, checks=checks, prompts=["我最近总是头痛，晚上睡不好，需要做什么检查？",
                                                                  "孩子发烧38.5度，应该怎么处理？"],
                             max_new_tokens=12, **kw)
    out = tmp_path / "out"
    out.mkdir()
    tiny = server.tiny
    ctx = StageContext("serve_parity", out, {"endpoint": endpoint, "model": tiny.model, "template": tiny.template,
                                             "adapter": tiny.adapter}, StageTracker(None, None), 0)
    return stage, ctx


def test_parity_merged_weights_and_lora_module(vllm_server, tmp_path):
    stage, ctx = _parity(tmp_path, vllm_server, [ParityCheck("merged"),
                                                 ParityCheck("lora_module", adapter="adapter", served=LORA_NAME)])
    assert stage.run(ctx) == {"parity": "parity.json"}
    report = json.loads((ctx.output_dir / "parity.json").read_text(encoding="utf-8"))
    for name in ("merged", "lora_module"):
        check = report["checks"][name]
        assert check["mismatches"] == []
        assert check["tokens_compared"] >= 1, f"{name}: parity must compare tokens, not only report near-ties"
        assert check["max_logprob_diff"] <= 2e-2


def test_parity_names_prompt_and_first_differing_token(vllm_server, tmp_path):
    # the LoRA module against the base weights without the adapter: a real mismatch
    stage, ctx = _parity(tmp_path, vllm_server, [ParityCheck("wrong_reference", served=LORA_NAME)])
    with pytest.raises(MedqError, match=r"serve_parity failed .*prompt 0 \('我最近总是头痛.*(first differing token at \d+: "
                                        r"served .* vs in-process .*; served .* vs in-process|logprob)") as info:
        stage.run(ctx)
    assert "\n" not in str(info.value)
