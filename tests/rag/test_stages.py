"""The index and retrieval_eval stages through the real runner, with a real MLflow SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medq.config import validate_pipeline_config
from medq.errors import MedqError
from medq.runner import Pipeline
from medq.tracking import MlflowTracker

from ..conftest import mlflow_runs
from .conftest import CORPUS

SYNONYMS = {"拉肚子": ["腹泻"]}


class CorpusStage:
    """Stands in for prepare: writes corpus.jsonl and test.jsonl from a file of rows the test controls."""

    def __init__(self, rows_file: str):
        self.rows_file = rows_file

    def external_inputs(self):
        return [Path(self.rows_file)]

    def run(self, ctx):
        rows = json.loads(Path(self.rows_file).read_text(encoding="utf-8"))
        with open(ctx.output_dir / "corpus.jsonl", "w", encoding="utf-8") as corpus, \
                open(ctx.output_dir / "test.jsonl", "w", encoding="utf-8") as test:
            for row in rows:
                corpus.write(json.dumps({"id": f"doc-{row['id']}", "content": row["answer"],
                                         "metadata": {"example_id": row["id"], "department": row["dept"]}},
                                        ensure_ascii=False) + "\n")
                if row.get("test"):
                    test.write(json.dumps({"id": row["id"], "messages": [
                        {"role": "user", "content": row["question"]},
                        {"role": "assistant", "content": row["answer"]}]}, ensure_ascii=False) + "\n")
        return {"corpus": "corpus.jsonl", "test": "test.jsonl"}


QUESTIONS = {
    "d-cold": "头痛发烧还流鼻涕是感冒吗", "d-bp": "血压高降压药能停吗", "d-gastritis": "胃痛反酸烧心怎么回事",
    "d-hpv": "查出HPV阳性是不是宫颈癌", "d-diabetes": "糖尿病怎么控制血糖", "d-insomnia": "失眠睡不着怎么办",
    "d-diarrhea": "拉肚子怎么办", "d-asthma": "哮喘发作喘不上气怎么办", "d-dog": "被狗咬伤了怎么处理",
    "d-acne": "脸上长痘痘怎么办",
}


def write_rows(path: Path, drop: tuple[str, ...] = (), change: dict[str, str] | None = None) -> Path:
    rows = []
    for doc_id, content, dept in CORPUS:
        if doc_id in drop:
            continue
        rows.append({"id": doc_id, "answer": (change or {}).get(doc_id, content), "dept": dept,
                     "question": QUESTIONS.get(doc_id, ""), "test": doc_id in QUESTIONS})
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def make_config(root: Path, rows_file: Path, store: dict | None = None, **eval_overrides) -> dict:
    config = {
        "name": "rag", "seed": 1, "force": False, "stages": ["prepare", "index", "retrieval_eval"],
        "paths": {"artifacts_dir": str(root / "artifacts")},
        "tracking": {"_target_": "medq.tracking.MlflowTracker", "tracking_uri": f"sqlite:///{root}/mlruns/mlflow.db",
                     "experiment": "rag", "artifact_location": str(root / "mlruns" / "artifacts")},
        "prepare": {"_target_": "tests.rag.test_stages.CorpusStage", "rows_file": str(rows_file)},
        "index": {"_target_": "medq.rag.IndexStage", "inputs": {"corpus": "prepare.corpus"}, "batch_size": 4,
                  "progress": False,
                  "store": store or {"_target_": "medq.rag.EmbeddedDocumentStore", "path": str(root / "store")},
                  "embedder": {"_target_": "medq.rag.CharNgramHashingEmbedder", "dim": 64}},
        "retrieval_eval": {"_target_": "medq.rag.RetrievalEvalStage",
                           "inputs": {"index": "index.index", "test": "prepare.test"},
                           "modes": ["bm25", "dense", "hybrid"], "candidates": 10, "max_queries": None,
                           "fusion": {"bm25": 1.0, "dense": 0.1, "k": 10},
                           "rewriters": [{"_target_": "medq.rag.SynonymQueryRewriter", "synonyms": SYNONYMS}],
                           **eval_overrides},
    }
    return validate_pipeline_config(config)


def run(root: Path, config: dict):
    tracker = MlflowTracker(config["tracking"]["tracking_uri"], "rag", config["tracking"]["artifact_location"])
    return Pipeline(config, root / "run", tracker, {"recipe": "rag-test"}).run()


def test_index_and_eval_stages_log_metrics_and_plot_to_mlflow(tmp_path):
    outcomes = run(tmp_path, make_config(tmp_path, write_rows(tmp_path / "rows.json")))
    index = json.loads(Path(outcomes["index"].artifacts["index"]).read_text(encoding="utf-8"))
    assert index["documents"] == len(CORPUS) and index["written"] == len(CORPUS)
    assert index["settings"]["tokenizer"]["use_bigrams"] and index["embedder_fingerprint"].startswith("char-ngram")
    assert outcomes["index"].metrics["docs_per_second"] > 0
    metrics = outcomes["retrieval_eval"].metrics
    for leg in ("bm25", "dense", "hybrid", "bm25_rewrite", "dense_rewrite", "hybrid_rewrite"):
        for name in ("recall_at_1", "recall_at_5", "recall_at_10", "mrr_at_10", "ndcg_at_10"):
            assert 0.0 <= metrics[f"{leg}.{name}"] <= 1.0
        assert metrics[f"{leg}.recall_at_1"] <= metrics[f"{leg}.recall_at_5"] <= metrics[f"{leg}.recall_at_10"]
    assert metrics["queries"] == len(QUESTIONS)
    assert metrics["bm25.recall_at_1"] >= 0.7, "on its own tiny corpus BM25 must find most answers first"
    plot = Path(outcomes["retrieval_eval"].artifacts["recall_plot"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    client, runs = mlflow_runs(tmp_path, "rag")
    by_name = {r.info.run_name: r for r in runs}
    assert by_name["index"].data.metrics["documents"] == len(CORPUS)
    assert by_name["retrieval_eval"].data.metrics["hybrid.mrr_at_10"] == pytest.approx(metrics["hybrid.mrr_at_10"])
    files = {a.path for a in client.list_artifacts(by_name["retrieval_eval"].info.run_id)}
    assert {"recall_at_k.png", "retrieval_metrics.json"} <= files
    # the query set is named on the run, so runs on different splits or cuts are not compared by mistake
    tags = by_name["retrieval_eval"].data.tags
    assert (tags["query_set.split"], tags["query_set.n"]) == ("test", str(len(QUESTIONS)))
    assert tags["query_set.source"] == "prepare.test" and len(tags["query_set.sha256"]) == 16


def test_reindexing_upserts_only_changed_documents_and_deletes_removed_ones(tmp_path):
    rows = tmp_path / "rows.json"
    run(tmp_path, make_config(tmp_path, write_rows(rows)))
    write_rows(rows, drop=("d-ct",), change={"d-acne": "痤疮要保持面部清洁，不要挤压。"})
    outcomes = run(tmp_path, make_config(tmp_path, rows))
    metrics = outcomes["index"].metrics
    assert (metrics["written"], metrics["unchanged"], metrics["deleted"]) == (1, len(CORPUS) - 2, 1)
    assert metrics["documents"] == len(CORPUS) - 1


def test_a_sweep_over_one_store_never_clobbers_an_earlier_job(tmp_path):
    """Two jobs index different corpora into the same store home (a sweep); rerunning the first still searches its
    own corpus, and the second job's index was an incremental upsert from the first one's version."""
    config = make_config(tmp_path, write_rows(tmp_path / "rows.json"))
    first = run(tmp_path, config)
    other = tmp_path / "other"
    other.mkdir()
    second = run(other, make_config(other, write_rows(other / "rows.json", drop=("d-ct",)),
                                    store={"_target_": "medq.rag.EmbeddedDocumentStore", "path": str(tmp_path / "store")}))
    first_index = json.loads(Path(first["index"].artifacts["index"]).read_text(encoding="utf-8"))
    second_index = json.loads(Path(second["index"].artifacts["index"]).read_text(encoding="utf-8"))
    assert first_index["store"]["path"] != second_index["store"]["path"]
    assert {Path(i["store"]["path"]).parent for i in (first_index, second_index)} == {tmp_path / "store" / "versions"}
    assert (second_index["written"], second_index["deleted"]) == (0, 1), "copy-on-write from the first version"
    rerun = run(tmp_path, {**config, "retrieval_eval": {**config["retrieval_eval"], "candidates": 20}})
    assert not rerun["retrieval_eval"].cached and rerun["index"].cached
    assert rerun["retrieval_eval"].metrics["bm25.recall_at_10"] == first["retrieval_eval"].metrics["bm25.recall_at_10"]
    # the first version is untouched: same documents, the deleted one still there
    from medq.rag.pipeline import open_index
    store, _, _ = open_index(Path(first["index"].artifacts["index"]))
    assert store.count_documents() == len(CORPUS)


def test_an_unversioned_store_changed_behind_the_index_stage_is_refused(tmp_path):
    store = {"_target_": "medq.rag.EmbeddedDocumentStore", "path": str(tmp_path / "store"), "versioned": False}
    config = make_config(tmp_path, write_rows(tmp_path / "rows.json"), store=store)
    run(tmp_path, config)
    other = tmp_path / "other"
    other.mkdir()
    run(other, make_config(other, write_rows(other / "rows.json", drop=("d-ct",)), store=store))
    with pytest.raises(MedqError, match="changed since the index stage ran"):
        run(tmp_path, {**config, "force": False, "stages": ["prepare", "index", "retrieval_eval"],
                       "retrieval_eval": {**config["retrieval_eval"], "candidates": 20}})


def test_empty_corpus_is_a_clear_error(tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text("[]", encoding="utf-8")
    with pytest.raises(MedqError, match=r"corpus.jsonl: the corpus has no documents"):
        run(tmp_path, make_config(tmp_path, rows))


def test_stage_config_is_validated_by_its_signature(tmp_path):
    rows = write_rows(tmp_path / "rows.json")
    with pytest.raises(MedqError, match="retrieval_eval.modes"):
        make_config(tmp_path, rows, modes=["bm25", "splade"])
    with pytest.raises(MedqError, match="unknown config key 'retrieval_eval.fusion.weight'"):
        make_config(tmp_path, rows, fusion={"weight": 1.0})
    with pytest.raises(MedqError, match="retrieval_eval.query.on_long"):
        make_config(tmp_path, rows, query={"on_long": "chop"})


@pytest.mark.slow
def test_opensearch_index_stage_upserts_into_the_cluster(tmp_path, opensearch_url):
    import uuid

    from medq.rag.opensearch import OpenSearchStore

    name = f"medq-stage-{uuid.uuid4().hex[:8]}"
    store = {"_target_": "medq.rag.opensearch.OpenSearchStore", "url": opensearch_url, "index": name}
    rows = tmp_path / "rows.json"
    try:
        first = run(tmp_path, make_config(tmp_path, write_rows(rows), store=store))
        write_rows(rows, drop=("d-ct",))
        second = run(tmp_path, make_config(tmp_path, rows, store=store))
        assert (second["index"].metrics["written"], second["index"].metrics["deleted"]) == (0, 1)
        assert first["retrieval_eval"].metrics["bm25.recall_at_1"] >= 0.7
    finally:
        OpenSearchStore(url=opensearch_url, index=name).delete_index()


@pytest.mark.slow
def test_demo_rag_recipe_runs_end_to_end_and_retrieve_config_builds_the_pipeline(workdir):
    import hydra.utils
    from omegaconf import OmegaConf

    from ..conftest import run_medq

    result = run_medq(["+recipe=demo_rag", "prepare.source.n_questions=150", "retrieval_eval.max_queries=20",
                       "prepare.progress=false", "index.progress=false"], cwd=workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    index_json = next((workdir / "artifacts" / "index").glob("*/index.json"))
    assert json.loads(index_json.read_text(encoding="utf-8"))["documents"] > 100
    _, runs = mlflow_runs(workdir, "demo_rag")
    evals = [r for r in runs if r.info.run_name == "retrieval_eval"]
    assert evals and evals[0].data.metrics["queries"] > 0 and "hybrid.recall_at_10" in evals[0].data.metrics
    frozen = OmegaConf.load(next((workdir / "outputs" / "runs" / "demo_rag").glob("*/resolved_config.yaml")))
    build = hydra.utils.instantiate(frozen.retrieve, _convert_="all")
    pipeline = build(index=str(index_json))
    evidence = pipeline.retrieve("最近总是胃痛反酸怎么办").evidence
    assert [e.evidence_id for e in evidence] == ["E1", "E2", "E3", "E4", "E5"]
    assert all(e.doc_id.startswith("doc-") and e.meta["example_id"] for e in evidence)


def test_index_without_embedder_measures_bm25_only(tmp_path):
    config = make_config(tmp_path, write_rows(tmp_path / "rows.json"), rewriters=[])
    config["index"]["embedder"] = None
    outcomes = run(tmp_path, config)
    metrics = outcomes["retrieval_eval"].metrics
    assert "bm25.recall_at_10" in metrics and not any(k.startswith(("dense.", "hybrid.")) for k in metrics)
    index = json.loads(Path(outcomes["index"].artifacts["index"]).read_text(encoding="utf-8"))
    assert index["embedder"] is None and index["settings"]["embedding_dim"] is None
