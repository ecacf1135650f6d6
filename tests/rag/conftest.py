"""Fixtures for the retrieval tests: a small Chinese medical corpus, both stores, a real OpenSearch node.

OpenSearch runs for real: the session fixture starts a single node with `scripts/opensearch.sh start` (which
fetches it from Maven Central the first time) unless one already answers at MEDQ_OPENSEARCH_URL, and stops it at
the end if it started it. Where it cannot be started, the OpenSearch cases fail in CI and, elsewhere, are skipped
with the script's own last lines as the reason, repeated as a warning in pytest's summary.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
import uuid
import warnings
from pathlib import Path

import pytest
from haystack import Document

from medq.rag import CharNgramHashingEmbedder, EmbeddedDocumentStore

REPO = Path(__file__).resolve().parents[2]
OPENSEARCH_URL = os.environ.get("MEDQ_OPENSEARCH_URL", "http://127.0.0.1:9200")

CORPUS = [
    ("d-cold", "头痛发烧流鼻涕，多半是普通感冒，注意休息多喝水，体温超过38.5度可以服用退烧药。", "呼吸科"),
    ("d-bp", "高血压患者需要长期规律服用降压药，不能自行停药，血压波动时及时复诊调整药物。", "心内科"),
    ("d-gastritis", "胃痛反酸烧心可能是慢性胃炎或胃溃疡，建议做胃镜检查，饮食规律，少吃辛辣。", "消化科"),
    ("d-hpv", "HPV阳性不等于宫颈癌，需要结合TCT检查结果，定期复查宫颈。", "妇科"),
    ("d-diabetes", "糖尿病患者要控制饮食，监测血糖，按医嘱使用胰岛素或口服降糖药。", "内分泌科"),
    ("d-insomnia", "长期失眠睡不着可以先调整作息，睡前不玩手机，必要时在医生指导下短期使用助眠药物。", "神经内科"),
    ("d-diarrhea", "腹泻拉肚子要注意补液防止脱水，清淡饮食，大便带血或持续高热要及时就医。", "消化科"),
    ("d-asthma", "哮喘发作时喘不上气，应立即使用沙丁胺醇气雾剂，症状不缓解要马上去急诊。", "呼吸科"),
    ("d-dog", "被狗咬伤后立即用肥皂水冲洗伤口十五分钟，尽快接种狂犬病疫苗。", "急诊科"),
    ("d-acne", "脸上长痘痘属于痤疮，保持面部清洁，避免用手挤压，严重时可外用维A酸。", "皮肤科"),
    ("d-headache-dept", "偏头痛的典型表现是一侧搏动性疼痛，伴恶心畏光，可服用布洛芬止痛。", "神经内科"),
    ("d-ct", "CT检查有少量辐射，孕妇需要提前告知医生。", "放射科"),
]


def corpus_documents(embedder=None) -> list[Document]:
    docs = [Document(id=i, content=c, meta={"department": d, "example_id": i}) for i, c, d in CORPUS]
    if embedder is not None:
        vectors = embedder.embed_documents([d.content for d in docs])
        docs = [Document(id=d.id, content=d.content, meta=d.meta, embedding=v.tolist()) for d, v in zip(docs, vectors)]
    return docs


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def opensearch_url():
    """The URL of a running OpenSearch node with the k-NN plugin; started here when none answers."""
    if _answers(OPENSEARCH_URL):
        yield OPENSEARCH_URL
        return
    if os.environ.get("MEDQ_OPENSEARCH_URL"):
        pytest.skip(f"MEDQ_OPENSEARCH_URL={OPENSEARCH_URL} does not answer")
    started = subprocess.run(["bash", str(REPO / "scripts" / "opensearch.sh"), "start"], capture_output=True,
                             text=True, timeout=900, check=False)
    if started.returncode != 0 or not _answers(OPENSEARCH_URL):
        tail = " | ".join((started.stdout + started.stderr).strip().splitlines()[-3:])
        reason = f"scripts/opensearch.sh start failed (exit {started.returncode}): {tail}"
        if os.environ.get("CI"):  # CI must exercise the real node: a start failure is a failure, not a skip
            pytest.fail(reason)
        # Outside CI a machine without Java/Maven may skip, but never quietly: the reason is a warning in the summary.
        warnings.warn(f"OpenSearch tests skipped: {reason}", pytest.PytestWarning, stacklevel=1)
        pytest.skip(reason)
    try:
        yield OPENSEARCH_URL
    finally:
        subprocess.run(["bash", str(REPO / "scripts" / "opensearch.sh"), "stop"], capture_output=True, timeout=120,
                       check=False)


@pytest.fixture
def embedder():
    return CharNgramHashingEmbedder(dim=64)


def make_store(kind: str, request, tmp_path):
    if kind == "embedded":
        return EmbeddedDocumentStore(path=str(tmp_path / "store"))
    from medq.rag.opensearch import OpenSearchStore

    url = request.getfixturevalue("opensearch_url")
    store = OpenSearchStore(url=url, index=f"medq-test-{uuid.uuid4().hex[:10]}")
    request.addfinalizer(store.delete_index)
    return store


@pytest.fixture(params=["embedded", "opensearch"])
def store_kind(request):
    return request.param


@pytest.fixture
def filled_store(store_kind, request, tmp_path, embedder):
    """The test corpus, embedded with the hashing embedder, in the store under test."""
    store = make_store(store_kind, request, tmp_path)
    store.prepare(embedder.dim, embedder.fingerprint())
    store.write_documents(corpus_documents(embedder))
    store.save()
    return store


@pytest.fixture
def empty_store(store_kind, request, tmp_path, embedder):
    store = make_store(store_kind, request, tmp_path)
    store.prepare(embedder.dim, embedder.fingerprint())
    return store
