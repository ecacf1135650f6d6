"""The `index` stage: prepare's retrieval corpus -> a searchable store (embedded or OpenSearch).

Upserts by document id: a document whose content hash is already in the store is skipped (not re-embedded),
a changed one is overwritten, one that left the corpus is deleted. Its artifact `index.json` says how to reopen
the store (`store`, `embedder` configs) and the corpus fingerprint later stages check, so a store changed by
another run is never silently searched.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from haystack import Document
from haystack.document_stores.types import DuplicatePolicy
from tqdm import tqdm

from medq.artifacts import write_json_atomic
from medq.errors import InputDataError, MedqError
from medq.jsonl import read_jsonl, row_error
from medq.rag.store import content_hash
from medq.stage import StageContext

log = logging.getLogger(__name__)


def read_corpus(path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, content, meta) rows of prepare's corpus.jsonl; a bad line names the file and line."""
    rows = []
    seen: set[str] = set()
    for line_no, record in read_jsonl(path, what="corpus records"):
        try:
            doc_id, content, meta = str(record["id"]), str(record["content"]), dict(record.get("metadata") or {})
        except (ValueError, KeyError, TypeError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else ""
            raise row_error(path, line_no, f"not a corpus record with id and content "
                            f"({type(exc).__name__}: {detail})") from None
        if doc_id in seen:
            raise row_error(path, line_no, f"duplicate document id {doc_id}")
        seen.add(doc_id)
        rows.append((doc_id, content, meta))
    if not rows:
        raise InputDataError(f"{path}: the corpus has no documents, so there is nothing to index "
                             "(did prepare reject every record? see its rejects.jsonl)")
    return rows


class IndexStage:
    outputs = ("index",)
    final_outputs = outputs  # the index is what the API and agent serve from

    def __init__(self, store: Any, embedder: Any | None = None, inputs: dict[str, str] | None = None,
                 batch_size: int = 256, progress: bool = True):
        self.store = store
        self.embedder = embedder
        self.inputs = dict(inputs or {"corpus": "prepare.corpus"})
        if "corpus" not in self.inputs:
            raise MedqError("index.inputs must name the corpus artifact, e.g. {corpus: prepare.corpus}")
        if batch_size <= 0:
            raise MedqError(f"index.batch_size must be positive, got {batch_size}")
        self.batch_size = batch_size
        self.progress = progress

    def run(self, ctx: StageContext) -> dict[str, str]:
        corpus_path = Path(ctx.inputs["corpus"])
        rows = read_corpus(corpus_path)
        fingerprint = self.embedder.fingerprint() if self.embedder is not None else None
        reembed = self.store.prepare(self.embedder.dim if self.embedder is not None else None, fingerprint)
        if reembed:
            log.info("index: the store's vectors come from another embedder; re-embedding every document")

        wanted = {doc_id: content_hash(content, meta) for doc_id, content, meta in rows}
        existing = self.store.content_hashes()
        changed = [(i, c, m) for i, c, m in rows if reembed or existing.get(i) != wanted[i]]
        removed = sorted(set(existing) - set(wanted))
        started = time.perf_counter()
        embed_seconds = 0.0
        with tqdm(total=len(changed), desc="index", unit="doc", disable=not self.progress, mininterval=0.5) as bar:
            for start in range(0, len(changed), self.batch_size):
                batch = changed[start:start + self.batch_size]
                vectors = None
                if self.embedder is not None:
                    t0 = time.perf_counter()
                    vectors = self.embedder.embed_documents([c for _, c, _ in batch])
                    embed_seconds += time.perf_counter() - t0
                documents = [Document(id=i, content=c, meta={**m, "content_hash": wanted[i]},
                                      embedding=vectors[n].tolist() if vectors is not None else None)
                             for n, (i, c, m) in enumerate(batch)]
                self.store.write_documents(documents, policy=DuplicatePolicy.OVERWRITE)
                bar.update(len(batch))
        if removed:
            self.store.delete_documents(removed)
        if self.embedder is not None:
            self.store.set_embedder_fingerprint(fingerprint)
        self.store.save()
        seconds = time.perf_counter() - started
        count = self.store.count_documents()
        if count != len(rows):
            raise RuntimeError(f"index holds {count} documents after upsert, the corpus has {len(rows)}")

        store_fingerprint = self.store.fingerprint()
        description = {
            "store": self.store.spec(),
            "embedder": self.embedder.spec() if self.embedder is not None else None,
            "embedder_fingerprint": fingerprint,
            "fingerprint": store_fingerprint,
            "documents": count,
            "written": len(changed),
            "unchanged": len(rows) - len(changed),
            "deleted": len(removed),
            "settings": self.store.describe(),
            "corpus": str(corpus_path),
        }
        write_json_atomic(ctx.output_dir / "index.json", description)
        metrics = {"documents": count, "written": len(changed), "unchanged": len(rows) - len(changed),
                   "deleted": len(removed), "seconds": round(seconds, 3),
                   "docs_per_second": round(len(changed) / seconds, 1) if changed and seconds > 0 else 0.0,
                   "embed_seconds": round(embed_seconds, 3)}
        ctx.tracker.log_metrics(metrics)
        ctx.tracker.log_params({"index_settings": description["settings"],
                                "embedder": fingerprint or "none"})
        ctx.tracker.log_artifact(ctx.output_dir / "index.json")
        log.info("index: %d documents (%d written, %d unchanged, %d deleted) in %.1fs", count, len(changed),
                 len(rows) - len(changed), len(removed), seconds)
        return {"index": "index.json"}
