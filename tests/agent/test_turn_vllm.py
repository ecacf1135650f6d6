"""The turn and agent_eval against the tiny model behind vLLM's OpenAI server (the shared session fixture).

The model is random-init, so it writes no sensible Chinese: these tests check the plumbing against a real server
(the request shapes vLLM accepts, tool definitions, structured output for the critic, token accounting, memory
written once per turn) and that whatever such a model writes never reaches the patient unchecked.
"""

from __future__ import annotations

import functools

import pytest

from medq.agent.review import FALLBACK_HEAD
from tests.agent.turn_helpers import lexicon, make_agent, memory_store, scripted_server, retriever  # noqa: F401

pytestmark = pytest.mark.slow
SHORT_PROMPT = "你是医疗助手，用中文简短回答，每句注明证据编号如[E1]。"


@pytest.fixture
def tiny_agent(make_agent, vllm_server):
    agent = make_agent(vllm_server.base_url, model=vllm_server.models[0], with_retriever=True,
                       budgets={"draft_max_tokens": 24, "tool_steps": 1, "summary_max_tokens": 24},
                       critic={"max_tokens": 96}, refine={"max_rounds": 1},
                       system_prompt=SHORT_PROMPT)  # the tiny model's context is 1024 tokens
    return agent


def test_a_turn_on_the_tiny_model_never_shows_an_unchecked_draft(tiny_agent, memory_store):
    result = tiny_agent.respond("p1", "s1", "我对青霉素过敏。这两天咽喉肿痛，吃什么药好？")

    assert result.outcome in ("answered", "refined", "fallback")
    assert result.usage.get("completion_tokens", 0) > 0 and result.usage.get("prompt_tokens", 0) > 0
    assert result.critic_verdicts, "the critic was not called"
    if result.outcome == "fallback":
        assert result.answer.startswith(FALLBACK_HEAD) and result.findings
    else:  # only possible if the critic passed a draft whose every sentence cites supporting evidence
        last = result.critic_verdicts[-1]
        assert last["parsed"] and last["verdict"] == "pass"
    # memory: the allergy from this message, and exactly one turn
    assert "青霉素类" in memory_store.profile("default", "p1").allergies
    assert [t.assistant_text for t in memory_store.turns("default", "p1", "s1")] == [result.answer]


def test_red_flag_on_the_tiny_model_is_referred_without_a_model_call(tiny_agent):
    result = tiny_agent.respond("p1", "s1", "我爸突然口角歪斜，一侧手脚没力气。")
    assert result.outcome == "referral" and "120" in result.answer and result.usage == {}


def test_agent_eval_stage_runs_on_the_tiny_model(vllm_server, tmp_path):
    from medq.agent.dialogue_eval import DialogueEvalStage
    from medq.agent.turn import MedicalAgent
    from medq.stage import StageContext
    from medq.tracking import StageTracker

    agent = functools.partial(MedicalAgent.from_config,
                              turn={"refine": {"max_rounds": 0}, "budgets": {"draft_max_tokens": 24},
                                    "critic": {"max_tokens": 96}},
                              tracing={"enabled": False})
    stage = DialogueEvalStage(agent=agent, inputs={"endpoint": "serve.endpoint"}, max_cases=3,
                              endpoint_overrides={"max_tokens": 24})
    out = tmp_path / "out"
    out.mkdir()
    tracker = StageTracker(None, None)
    ctx = StageContext("agent_eval", out, {"endpoint": vllm_server.endpoint_file(tmp_path / "svc")}, tracker, 0)
    artifacts = stage.run(ctx)

    assert set(artifacts) == {"metrics", "turns"} and (out / "dialogue_turns.jsonl").is_file()
    metrics = tracker.metrics
    assert metrics["dialogues"] == 3 and metrics["turns"] >= 3
    assert 0.0 <= metrics["safety_rate"] <= 1.0 and 0.0 <= metrics["critic_parse_rate"] <= 1.0
    assert metrics["latency_p95_s"] >= metrics["latency_p50_s"] > 0
