"""Files are data: a pipeline YAML or index.json may only instantiate medq's own classes (medq/safe_instantiate.py).

The two attacks are the ones measured against the unguarded loader: `pathlib.Path.touch` created a file and
`urllib.request.urlopen` fetched a URL, both from inside `load_pipeline_yaml`. The URL is a real local HTTP server
that counts requests, so "nothing was fetched" is observed, not assumed.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest
import yaml

from medq.errors import MedqError
from medq.rag import CharNgramHashingEmbedder, EmbeddedDocumentStore, RetrievePipeline, SynonymQueryRewriter
from medq.rag.pipeline import open_index
from medq.rag.pipeline import load_pipeline_yaml
from medq.safe_instantiate import check_target, instantiate_from_file
from tests.rag.conftest import corpus_documents


@pytest.fixture
def saved_store(tmp_path):
    embedder = CharNgramHashingEmbedder(dim=32)
    store = EmbeddedDocumentStore(path=str(tmp_path / "store"))
    store.prepare(embedder.dim, embedder.fingerprint())
    store.write_documents(corpus_documents(embedder))
    store.save()
    return store, embedder


@pytest.fixture
def counting_server():
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"fetched")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _pipeline_with_rewriter(saved_store, rewriter: dict) -> str:
    store, embedder = saved_store
    text = RetrievePipeline(store, embedder, mode="bm25", top_k=3, candidates=10,
                            rewriters=[SynonymQueryRewriter({"拉肚子": ["腹泻"]})]).to_yaml()
    data = yaml.safe_load(text)
    data["components"]["rewrite"]["init_parameters"]["rewriters"] = [rewriter]
    return yaml.safe_dump(data, allow_unicode=True)


def test_a_pipeline_yaml_cannot_touch_files(saved_store, tmp_path):
    marker = tmp_path / "created-by-yaml"
    text = _pipeline_with_rewriter(saved_store, {"_target_": "pathlib.Path.touch",
                                                 "self": {"_target_": "pathlib.Path", "_args_": [str(marker)]}})
    with pytest.raises(Exception, match="pathlib.Path.touch' is not allowed") as raised:
        load_pipeline_yaml(text)
    assert "rewriters[0]" in str(raised.value)
    assert not marker.exists()


def test_a_pipeline_yaml_cannot_fetch_urls(saved_store, counting_server):
    url, hits = counting_server
    for target in ("urllib.request.urlopen", "medq.rag.query.urllib.request.urlopen"):  # the second: via a medq module
        text = _pipeline_with_rewriter(saved_store, {"_target_": target, "url": f"{url}/leak"})
        with pytest.raises(Exception, match="is not allowed"):
            load_pipeline_yaml(text)
    assert hits == []


def test_a_trusted_extra_target_is_allowed_by_name(saved_store, counting_server):
    url, hits = counting_server
    text = _pipeline_with_rewriter(saved_store, {"_target_": "urllib.request.urlopen", "url": f"{url}/ok"})
    # The guard, not the loader, refused it above: allowed by name, the same file loads and the fetch happens.
    load_pipeline_yaml(text, allowed_targets=["urllib.request.urlopen"])
    assert hits == ["/ok"]


def test_a_genuine_pipeline_yaml_still_loads(saved_store):
    store, embedder = saved_store
    pipeline = RetrievePipeline(store, embedder, mode="hybrid", top_k=3, candidates=10,
                                rewriters=[SynonymQueryRewriter({"拉肚子": ["腹泻"]})])
    loaded = load_pipeline_yaml(pipeline.to_yaml())
    outputs = loaded.run({"rewrite": {"query": "拉肚子怎么办"}, "evidence": {"top_k": 3}})
    assert [e.doc_id for e in outputs["evidence"]["evidence"]] == \
        [e.doc_id for e in pipeline.retrieve("拉肚子怎么办").evidence]


def test_index_json_targets_are_checked(saved_store, tmp_path):
    store, embedder = saved_store
    marker = tmp_path / "created-by-index-json"
    index_json = tmp_path / "index.json"
    index_json.write_text(json.dumps({
        "store": {"_target_": "pathlib.Path.touch", "self": {"_target_": "pathlib.Path", "_args_": [str(marker)]}},
        "embedder": embedder.spec(), "fingerprint": store.fingerprint(), "settings": store.describe()}))
    with pytest.raises(MedqError, match=r"index.json: store.*pathlib.Path.touch"):
        open_index(index_json)
    assert not marker.exists()
    index_json.write_text(json.dumps({"store": store.spec(), "embedder": embedder.spec(),
                                      "fingerprint": store.fingerprint(), "settings": store.describe()}))
    reopened, _, _ = open_index(index_json)
    assert reopened.count_documents() == store.count_documents()


@pytest.mark.parametrize("target", ["pathlib.Path.touch", "medq.rag.store.shutil.rmtree", "medq.errors",
                                    "medq.rag.store.content_hash", "builtins.eval", 42])
def test_only_medq_classes_pass(target):
    with pytest.raises(MedqError, match="is not allowed"):
        check_target(target, "test.yaml: x")


def test_nested_targets_are_checked_before_anything_is_built(tmp_path):
    marker = tmp_path / "nested"
    node = {"_target_": "medq.rag.SynonymQueryRewriter",
            "synonyms": {"a": [{"_target_": "pathlib.Path.touch",
                                "self": {"_target_": "pathlib.Path", "_args_": [str(marker)]}}]}}
    with pytest.raises(MedqError, match=r"synonyms\.a\[0\]"):
        instantiate_from_file(node, "test.yaml")
    assert not marker.exists()
    assert isinstance(instantiate_from_file({"_target_": "medq.rag.SynonymQueryRewriter", "synonyms": {"a": "b"}},
                                            "test.yaml"), SynonymQueryRewriter)
