"""Fixtures for the turn tests: the real agent parts (memory store on SQLite, the shipped lexicon, extractor,
auditor, red-flag rules, tools, a real retrieve pipeline over a small embedded corpus) around a chat endpoint.

The endpoint is either the scripted OpenAI-protocol replay server (`tests/fixtures/openai_replay.py`: a real HTTP server; the
agent's client, Haystack's generator, parsing and tool-call code all run, only the model's words are scripted) or
the tiny model behind vLLM from the shared server fixture."""

from __future__ import annotations

import pytest
from haystack import Document

from tests.fixtures.openai_replay import replay_fixture

CORPUS = [
    ("d-sore-throat", "咽喉肿痛多为病毒感染引起，注意休息多喝水，可以用淡盐水漱口，发热超过38.5度可服用对乙酰氨基酚退热。"),
    ("d-penicillin", "青霉素过敏的患者禁用阿莫西林等青霉素类抗生素，细菌感染时可在医生指导下改用大环内酯类如阿奇霉素。"),
    ("d-cold", "普通感冒一般一周左右自愈，注意休息多喝水，鼻塞流涕可以对症处理。"),
    ("d-bp", "高血压患者需要长期规律服用降压药，不能自行停药，血压波动时及时复诊调整药物。"),
    ("d-gastritis", "胃痛反酸烧心可能是慢性胃炎或胃溃疡，建议做胃镜检查，饮食规律，少吃辛辣。"),
    ("d-weight", "成人体重指数BMI在18.5到23.9之间为正常，24到27.9为超重，28以上为肥胖，减重要控制饮食并增加运动。"),
]

# what a sensible model would write for the sore-throat question, citing [E#] from the retrieved evidence
SAFE_SORE_THROAT = "咽喉肿痛多为病毒感染引起，注意休息多喝水，可以用淡盐水漱口[E1, E2]。发热超过38.5度可服用对乙酰氨基酚退热[E1, E2]。"
AMOXICILLIN_DRAFT = "咽喉肿痛可以服用阿莫西林胶囊，每次0.5克，每日三次[E1]。"
PASS = {"content": '{"verdict": "pass", "problems": []}'}


scripted_server = replay_fixture("session")


@pytest.fixture
def scripted(scripted_server):
    scripted_server.reset()
    yield scripted_server
    scripted_server.reset()


@pytest.fixture(scope="session")
def lexicon():
    from medq.agent.knowledge import Lexicon

    return Lexicon.load()


@pytest.fixture(scope="session")
def retriever():
    from medq.rag import EmbeddedDocumentStore, RetrievePipeline

    store = EmbeddedDocumentStore()
    store.write_documents([Document(id=i, content=c, meta={"example_id": i}) for i, c in CORPUS])
    return RetrievePipeline(store, mode="bm25", top_k=3, candidates=10)


@pytest.fixture
def memory_store(tmp_path):
    from medq.agent.memory.store import EntityMemoryStore

    store = EntityMemoryStore(f"sqlite:///{tmp_path / 'memory.db'}")
    store.create_patient("default", "p1")
    yield store
    store.close()


@pytest.fixture
def make_agent(memory_store, lexicon, retriever):
    """make_agent(base_url, **settings overrides) -> MedicalAgent with every real part."""
    from medq.agent.auditor import ContraindicationAuditor
    from medq.agent.extraction import RuleBasedExtractor
    from medq.agent.red_flags import detect_red_flags
    from medq.agent.tools.bmi import bmi_tool
    from medq.agent.tools.drug_lookup import drug_lookup_tool
    from medq.agent.tracing import TracingSettings, TurnTracer
    from medq.agent.turn import MedicalAgent, TurnSettings
    from medq.config import as_dataclass
    from medq.serve.client import ChatClient, ChatEndpoint

    def make(base_url: str, model: str = "replay", tracer=None, with_retriever: bool = True,
             system_prompt: str | None = None, **settings):
        client = ChatClient(ChatEndpoint(base_url=base_url, model=model, max_retries=0, timeout_s=60))
        return MedicalAgent(client, memory_store, RuleBasedExtractor(lexicon), ContraindicationAuditor(lexicon),
                            detect_red_flags, retriever=retriever if with_retriever else None,
                            tools=[bmi_tool(), drug_lookup_tool(lexicon)],
                            settings=as_dataclass(TurnSettings, settings),
                            tracer=tracer or TurnTracer(settings=TracingSettings(enabled=False)),
                            **({"system_prompt": system_prompt} if system_prompt else {}))

    return make
