"""The draft and critic requests of a turn fit the served model's context, counted by the real tokenizer.

The demo (recipes/assistant_demo.yaml: the tiny Qwen3 with a 2,048-token byte-level BPE trained on the prepared
data, served with max_model_len 1024) sometimes got a 400 context_length_exceeded: the retrieved evidence and the
patient profile had no budget, and the token estimate assumed Qwen's ~1 token per Chinese character. Here the
demo's own agent.turn settings build the prompts of a turn at the edge of every budget (long retrieved passages, a
long profile, a full dialogue, a summary and a message at their limits) and the tiny tokenizer, built the project's
way at the demo's vocabulary size, counts them with its chat template. Without the evidence budget (the same turn
with evidence_tokens unlimited) the same prompt is over the context: that half keeps the test honest.
No model server: only the prompts are built, the way `MedicalAgent` builds them.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from omegaconf import OmegaConf

from tests.agent.turn_helpers import CORPUS, lexicon  # noqa: F401
from tests.conftest import REPO

RECIPE = OmegaConf.load(REPO / "recipes" / "assistant_demo.yaml")
MAX_MODEL_LEN = int(RECIPE.serve.max_model_len)
TURN = OmegaConf.to_container(RECIPE.agent.turn, resolve=True)
QUESTION = "这两天咽喉肿痛，有点发热，吃什么药好？"


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory, prepared):
    """The tiny base model's tokenizer (medq/model/tiny.py via the base_model stage) at the demo's vocabulary."""
    from transformers import AutoTokenizer

    from tests.fixtures.training import build_base

    vocab = int(OmegaConf.load(REPO / "conf" / "base_model" / "tiny.yaml").tiny.vocab_size)
    base = build_base(tmp_path_factory.mktemp("tiny_2048"), prepared, vocab_size=vocab)
    return AutoTokenizer.from_pretrained(base["model"])


@pytest.fixture(scope="module")
def long_passages(prepared):
    """Documents of ~600 characters, each several corpus passages run together (a small index of long texts)."""
    contents = [json.loads(line)["content"] for line in prepared["corpus"].read_text(encoding="utf-8").splitlines()]
    docs, current = [], ""
    for text in contents:
        current += text
        if len(current) >= 600:
            docs.append(current)
            current = ""
    # the question's words lead every document, so BM25 ranks them all
    return [f"咽喉肿痛发热怎么办？{d}" for d in docs[:6]]


def agent_with(turn: dict, passages: list[str], lexicon):  # noqa: F811
    from haystack import Document

    from medq.agent.auditor import ContraindicationAuditor
    from medq.agent.extraction import RuleBasedExtractor
    from medq.agent.red_flags import detect_red_flags
    from medq.agent.tracing import TracingSettings, TurnTracer
    from medq.agent.turn import MedicalAgent, TurnSettings
    from medq.config import as_dataclass
    from medq.rag import EmbeddedDocumentStore, RetrievePipeline
    from medq.serve.client import ChatClient, ChatEndpoint

    store = EmbeddedDocumentStore()
    store.write_documents([Document(id=f"long-{i}", content=c) for i, c in enumerate(passages)])
    retriever = RetrievePipeline(store, mode="bm25", top_k=int(RECIPE.retrieve.top_k), candidates=10)
    client = ChatClient(ChatEndpoint(base_url="http://127.0.0.1:9/v1", model="unused", max_retries=0))
    return MedicalAgent(client, None, RuleBasedExtractor(lexicon), ContraindicationAuditor(lexicon), detect_red_flags,
                        retriever=retriever, settings=as_dataclass(TurnSettings, turn),
                        tracer=TurnTracer(settings=TracingSettings(enabled=False)))


def tokens_of(tokenizer, text: str, n: int) -> str:
    """A text of `n` real tokens (what a model reply of `max_tokens` can be)."""
    return tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)[:n])


def prompt_tokens(tokenizer, messages: list[dict]) -> int:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, enable_thinking=False)
    return len(ids if isinstance(ids, list) else ids["input_ids"])


def turn_at_its_limits(agent, tokenizer, passages):
    """The draft and critic messages of a turn with every budgeted part full; text outside the tokenizer's
    training data (the helpers' corpus) where the patient or the model writes, the dearest case per character."""
    from medq.agent.memory.records import TurnRecord
    from medq.agent.facts import PatientProfile
    from medq.agent.turn import profile_in_budget
    from medq.rag.citations import number_evidence

    budgets = agent.settings.budgets
    outside = "".join(c for _, c in CORPUS) * 4
    message = (QUESTION + outside)[: budgets.max_message_chars]
    turns = [TurnRecord("s1", i, f"m{i}", outside[i * 40:i * 40 + 60], outside[i * 30:i * 30 + 90], "")
             for i in range(12)]
    memory = SimpleNamespace(summary=SimpleNamespace(text=tokens_of(tokenizer, outside, budgets.summary_max_tokens)),
                             recent_turns=turns)
    profile = PatientProfile(allergies=["青霉素类", "头孢类", "磺胺类", "阿司匹林", "布洛芬", "花粉"],
                             conditions=["高血压", "糖尿病", "慢性肾病", "哮喘", "胃溃疡", "痛风", "甲状腺功能减退"],
                             medications=["氨氯地平", "二甲双胍", "沙丁胺醇", "奥美拉唑", "别嘌醇"], age=67, sex="female")
    evidence = agent._retrieve(message)
    profile_block, _ = profile_in_budget(profile, budgets.profile_tokens, budgets.estimate)
    draft = [{"role": m.role.value, "content": m.text}
             for m in agent._messages(memory, message, number_evidence(evidence), profile_block)]
    critic = agent.critic.messages(message, tokens_of(tokenizer, outside, budgets.draft_max_tokens),
                                   number_evidence(evidence), profile_block)
    return evidence, draft, critic


def test_a_turn_with_long_evidence_fits_the_tiny_model_s_context(tiny_tokenizer, long_passages, lexicon):  # noqa: F811
    from medq.rag.citations import CitationChecker

    agent = agent_with(TURN, long_passages, lexicon)
    budgets = agent.settings.budgets
    evidence, draft, critic = turn_at_its_limits(agent, tiny_tokenizer, long_passages)

    assert prompt_tokens(tiny_tokenizer, draft) <= MAX_MODEL_LEN - budgets.draft_max_tokens
    assert prompt_tokens(tiny_tokenizer, critic) <= MAX_MODEL_LEN - agent.settings.critic.max_tokens
    # the evidence the model saw: E1 cut to the budget (the passages are far longer), marked and reported as cut;
    # the citation check reads exactly that text
    assert evidence and evidence[0].evidence_id == "E1" and evidence[-1].content.endswith("……")
    assert all(e.content in draft[-1]["content"] for e in evidence)
    assert evidence[-1].meta["cut_from_chars"] > len(evidence[-1].content)
    kept = re.sub(r"[。！？；!?;，、\s…]", "", evidence[0].content)[-30:]
    report = CitationChecker().check(f"{kept}[E1]。", evidence)
    assert report.sentences[0].cited == ["E1"] and report.sentences[0].support >= 0.9
    # the most urgent facts stay in the prompt; the note says how many were left out
    assert "年龄：67岁" in draft[0]["content"] and "过敏：青霉素类" in draft[0]["content"]
    assert "项记录未列出" in draft[0]["content"]

    # the same turn without an evidence budget (before agent.turn.budgets.evidence_tokens): over the context
    unbudgeted = {**TURN, "budgets": {**TURN["budgets"], "evidence_tokens": 10 ** 6}}
    _, draft, _ = turn_at_its_limits(agent_with(unbudgeted, long_passages, lexicon), tiny_tokenizer, long_passages)
    assert prompt_tokens(tiny_tokenizer, draft) > MAX_MODEL_LEN - budgets.draft_max_tokens


def test_evidence_is_kept_in_rank_order_cut_or_left_out():
    from medq.agent.summary import TokenEstimate
    from medq.agent.turn import MIN_EVIDENCE_TOKENS, evidence_in_budget
    from medq.rag.citations import number_evidence
    from medq.rag.components import Evidence

    estimate = TokenEstimate()
    items = [Evidence(f"E{i}", f"d{i}", c, 1.0 / i, i) for i, (_, c) in enumerate(CORPUS[:3], start=1)]
    whole = estimate(number_evidence(items))
    assert evidence_in_budget(items, whole, estimate).evidence == items     # everything fits: nothing changes

    two = estimate(number_evidence(items[:2]))
    fitted = evidence_in_budget(items, two + 30, estimate)   # E3 cut to the room left
    assert [e.evidence_id for e in fitted.evidence] == ["E1", "E2", "E3"] and list(fitted.cut) == ["E3"]
    assert fitted.evidence[2].content.endswith("……") and fitted.evidence[2].content[:-2] in items[2].content
    assert estimate(number_evidence(fitted.evidence)) <= two + 30 and fitted.left_out == []

    fitted = evidence_in_budget(items, two + MIN_EVIDENCE_TOKENS - 5, estimate)   # too little room: left out
    assert fitted.evidence == items[:2] and fitted.left_out == ["E3"] and not fitted.cut
    fitted = evidence_in_budget(items, 40, estimate)          # E1 itself is cut, E2 and E3 left out
    assert [e.evidence_id for e in fitted.evidence] == ["E1"] and fitted.left_out == ["E2", "E3"]
    assert evidence_in_budget(items, 0, estimate).evidence == []
