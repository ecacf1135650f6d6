"""BGE-M3 embedder and cross-encoder reranker on tiny random-init XLM-R models the tests build locally.

No hub access here (HF_HUB_OFFLINE=1): the models are built and saved by the tests, then loaded through the same
FlagEmbedding code path a real BGE-M3 / bge-reranker checkpoint takes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medq.errors import MedqError

from .conftest import CORPUS, corpus_documents

pytestmark = pytest.mark.slow


def _tokenizer(directory: Path):
    from transformers import BertTokenizerFast

    chars = sorted({ch for _, content, _ in CORPUS for ch in content} | set("我头痛胃怎么办了"))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *"abcdefghijklmnopqrstuvwxyz0123456789"]
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, tokenize_chinese_chars=True)
    return tokenizer, len(vocab)


def _config(vocab_size: int, **extra):
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=160, pad_token_id=0, bos_token_id=2,
                            eos_token_id=3, **extra)


def build_encoder(directory: Path) -> Path:
    import torch
    from transformers import XLMRobertaModel

    torch.manual_seed(0)
    tokenizer, vocab_size = _tokenizer(directory)
    XLMRobertaModel(_config(vocab_size)).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_cross_encoder(directory: Path) -> Path:
    import torch
    from transformers import XLMRobertaForSequenceClassification

    torch.manual_seed(1)
    tokenizer, vocab_size = _tokenizer(directory)
    model = XLMRobertaForSequenceClassification(_config(vocab_size, num_labels=1, initializer_range=0.5))
    with torch.no_grad():  # a head with weight enough to separate passages clearly (random init is near 0)
        model.classifier.out_proj.weight.normal_(0.0, 5.0)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"encoder": build_encoder(root / "tiny-bge-m3"), "cross": build_cross_encoder(root / "tiny-reranker")}


def test_bge_m3_embedder_gives_normalised_deterministic_vectors(models):
    from medq.rag import BGEM3Embedder

    embedder = BGEM3Embedder(str(models["encoder"]), batch_size=4, max_length=64)
    texts = [content for _, content, _ in CORPUS[:5]]
    first = embedder.embed_documents(texts)
    assert first.shape == (5, 32) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.allclose(first, BGEM3Embedder(str(models["encoder"]), max_length=64).embed_documents(texts), atol=1e-5)
    assert not np.allclose(first[0], first[1]), "different texts must get different vectors"
    assert embedder.embed_queries(["头痛"]).shape == (1, 32)


def test_bge_m3_embedder_drives_the_dense_leg(models, tmp_path):
    from medq.rag import BGEM3Embedder, EmbeddedDocumentStore, RetrievePipeline

    embedder = BGEM3Embedder(str(models["encoder"]), batch_size=8, max_length=64)
    store = EmbeddedDocumentStore(str(tmp_path / "store"))
    store.prepare(embedder.dim, embedder.fingerprint())
    store.write_documents(corpus_documents(embedder))
    target = CORPUS[3][1]
    result = RetrievePipeline(store, embedder, mode="dense", top_k=3, candidates=10).retrieve(target)
    assert result.evidence[0].doc_id == CORPUS[3][0], "a passage's own text is its nearest neighbour"


def test_reranker_orders_by_the_cross_encoder_score(models):
    from FlagEmbedding import FlagReranker
    from haystack import Document

    from medq.rag import FlagCrossEncoderRanker

    ranker = FlagCrossEncoderRanker(str(models["cross"]), top_k=4, max_length=64)
    docs = [Document(id=i, content=c, score=1.0) for i, c, _ in CORPUS[:6]]
    ranked = ranker.run(query="胃痛怎么办", documents=docs)["documents"]
    # each pair scored on its own by FlagEmbedding's reranker: no batching, no padding
    reference = FlagReranker(str(models["cross"]), devices="cpu", max_length=64)
    expected = [float(reference.compute_score([("胃痛怎么办", d.content)])[0]) for d in docs]
    assert max(expected) - min(expected) > 0.05, "the scores must separate the passages for the order to mean anything"
    order = [docs[i].id for i in np.argsort(-np.array(expected), kind="stable")[:4]]
    assert [d.id for d in ranked] == order
    assert [d.score for d in ranked] == pytest.approx(sorted(expected, reverse=True)[:4], abs=1e-4)


def test_reranker_in_the_pipeline_keeps_evidence_ids(models, tmp_path):
    from medq.rag import CharNgramHashingEmbedder, EmbeddedDocumentStore, FlagCrossEncoderRanker, RetrievePipeline

    embedder = CharNgramHashingEmbedder(dim=64)
    store = EmbeddedDocumentStore(str(tmp_path / "store"))
    store.write_documents(corpus_documents(embedder))
    ranker = FlagCrossEncoderRanker(str(models["cross"]), top_k=3, max_length=64)
    result = RetrievePipeline(store, embedder, top_k=3, candidates=10, ranker=ranker).retrieve("胃痛反酸")
    assert [e.evidence_id for e in result.evidence] == ["E1", "E2", "E3"]
    assert all("fused_score" in e.meta for e in result.evidence)


def test_reranker_refuses_a_model_without_a_classification_head(models, tmp_path):
    from medq.rag import FlagCrossEncoderRanker

    with pytest.raises(MedqError, match="is not a cross-encoder"):
        FlagCrossEncoderRanker(str(models["encoder"]))
    # A config that claims a classification head while the weights have none: transformers would initialise a
    # random head silently; medq refuses.
    disguised = tmp_path / "disguised"
    build_encoder(disguised)
    config = json.loads((disguised / "config.json").read_text())
    config["architectures"] = ["XLMRobertaForSequenceClassification"]
    (disguised / "config.json").write_text(json.dumps(config))
    with pytest.raises(MedqError, match="no trained classification head"):
        FlagCrossEncoderRanker(str(disguised))


def test_model_paths_must_be_local_folders(tmp_path):
    from medq.rag import BGEM3Embedder

    with pytest.raises(MedqError, match="not a local model folder"):
        BGEM3Embedder("BAAI/bge-m3")


def test_retrieval_eval_measures_the_rerank_leg(models, tmp_path):
    import hydra.utils

    from medq.rag import RetrievalEvalStage
    from medq.runner import Pipeline
    from medq.tracking import MlflowTracker

    from .test_stages import make_config, write_rows

    ranker = {"_target_": "medq.rag.FlagCrossEncoderRanker", "model_path": str(models["cross"]), "max_length": 64}
    config = make_config(tmp_path, write_rows(tmp_path / "rows.json"), ranker=ranker, rewriters=[])
    assert isinstance(hydra.utils.instantiate(config["retrieval_eval"], _convert_="all"), RetrievalEvalStage)
    tracker = MlflowTracker(config["tracking"]["tracking_uri"], "rag", config["tracking"]["artifact_location"])
    outcomes = Pipeline(config, tmp_path / "run", tracker).run()
    metrics = outcomes["retrieval_eval"].metrics
    legs = {"bm25", "dense", "hybrid", "hybrid_rerank"}
    assert {f"{leg}.recall_at_10" for leg in legs} <= set(metrics)
    assert not any(name.endswith("_rewrite.recall_at_10") for name in metrics)
    # recall@10 of the rerank leg equals hybrid's by construction (the same 10 candidates, reordered); what can be
    # wrong is the order. Recompute it independently: hybrid's candidates, each (query, passage) scored on its own
    # by FlagEmbedding's reranker, sorted; the rank metrics must be the stage's.
    from FlagEmbedding import FlagReranker

    from medq.rag import FusionSettings, RetrievePipeline
    from medq.rag.eval_stage import rank_metrics
    from medq.rag.pipeline import open_index

    from .test_stages import QUESTIONS

    store, embedder, _ = open_index(Path(outcomes["index"].artifacts["index"]))
    hybrid = RetrievePipeline(store, embedder, mode="hybrid", top_k=10, candidates=10,
                              fusion=FusionSettings(**config["retrieval_eval"]["fusion"]))
    reference = FlagReranker(str(models["cross"]), devices="cpu", max_length=64)
    ranks = []
    for query_id, text in QUESTIONS.items():
        candidates = hybrid.retrieve(text).evidence
        scores = np.array([float(reference.compute_score([(text, e.content)])[0]) for e in candidates])
        reordered = [candidates[i] for i in np.argsort(-scores, kind="stable")]
        ranks.append(next((r for r, e in enumerate(reordered, 1) if e.meta["example_id"] == query_id), None))
    expected = rank_metrics(ranks, (1, 2, 3, 5, 10))
    for name in ("recall_at_1", "recall_at_3", "mrr_at_10", "ndcg_at_10"):
        assert metrics[f"hybrid_rerank.{name}"] == pytest.approx(expected[name], abs=1e-6), name
    assert metrics["hybrid_rerank.recall_at_10"] == metrics["hybrid.recall_at_10"]


def test_nli_support_scores_entailment_and_refuses_a_model_without_the_label(models, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, XLMRobertaForSequenceClassification

    from medq.rag.citations import CitationChecker, NliSupport
    from medq.rag.components import Evidence

    nli_dir = tmp_path / "tiny-nli"
    tokenizer, vocab_size = _tokenizer(nli_dir)
    torch.manual_seed(2)
    labels = {0: "contradiction", 1: "neutral", 2: "entailment"}
    XLMRobertaForSequenceClassification(_config(vocab_size, num_labels=3, id2label=labels,
                                                label2id={v: k for k, v in labels.items()})).save_pretrained(nli_dir)
    tokenizer.save_pretrained(nli_dir)
    nli = NliSupport(str(nli_dir), max_length=64)
    passage, sentence = CORPUS[0][1], "感冒要多喝水"
    score = nli.score(sentence, passage)
    model = AutoModelForSequenceClassification.from_pretrained(nli_dir).eval()
    pair = AutoTokenizer.from_pretrained(nli_dir)(passage, sentence, truncation="only_first", max_length=64,
                                                  return_tensors="pt")
    pair.pop("token_type_ids", None)
    with torch.no_grad():
        expected = model(**pair).logits[0].softmax(-1)[2].item()
    assert 0.0 < score < 1.0 and score == pytest.approx(expected, abs=1e-5)
    report = CitationChecker(scorer=nli).check("感冒要多喝水[E1]。", [Evidence("E1", "d", passage, 1.0, 1)])
    assert report.sentences[0].support == pytest.approx(score, abs=1e-5)
    with pytest.raises(MedqError, match="has no 'entails' label"):
        NliSupport(str(nli_dir), entailment_label="entails")
    with pytest.raises(MedqError, match="NLI model .* is not a cross-encoder"):
        NliSupport(str(models["encoder"]))
