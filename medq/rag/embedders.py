"""Text embedders and the cross-encoder reranker.

An embedder turns texts into L2-normalised float32 rows (`embed_documents`, `embed_queries`) and names itself
(`fingerprint`): the store records the fingerprint, so an index built with one embedder is never searched with
another's vectors.

- `CharNgramHashingEmbedder`: no model, no download; hashed character n-grams (a lexical vector). The honest
  baseline dense leg on a machine without Chinese model weights.
- `BGEM3Embedder`: BGE-M3 (or any XLM-R-style checkpoint) through FlagEmbedding, from a local path.
- `FlagCrossEncoderRanker`: a Haystack ranker over FlagEmbedding's `FlagReranker`; refuses checkpoints whose
  classification head is not in the weights (transformers would silently initialise it at random).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from haystack import Document, component, default_from_dict, default_to_dict

from medq.errors import MedqError
from medq.paths import ExistingDir

log = logging.getLogger(__name__)


class TextEmbedder(Protocol):
    dim: int

    def fingerprint(self) -> str: ...
    def embed_documents(self, texts: list[str]) -> np.ndarray: ...
    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


class CharNgramHashingEmbedder:
    """Character n-grams hashed into `dim` buckets with a sign bit, sublinear term frequency, L2-normalised."""

    def __init__(self, dim: int = 512, ngrams: list[int] | None = None):
        if dim <= 0:
            raise MedqError(f"embedder dim must be positive, got {dim}")
        self.dim = dim
        self.ngrams = list(ngrams or [1, 2, 3])

    def fingerprint(self) -> str:
        return f"char-ngram-hash:dim={self.dim}:n={','.join(map(str, self.ngrams))}"

    def spec(self) -> dict[str, Any]:
        return {"_target_": f"{__name__}.{type(self).__name__}", "dim": self.dim, "ngrams": self.ngrams}

    def _embed(self, texts: list[str]) -> np.ndarray:
        matrix = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            text = re.sub(r"\s+", "", text.lower())
            counts: dict[int, float] = {}
            for n in self.ngrams:
                for i in range(len(text) - n + 1):
                    h = int.from_bytes(hashlib.blake2b(text[i:i + n].encode(), digest_size=8).digest(), "little")
                    bucket, sign = h % self.dim, 1.0 if (h >> 63) & 1 else -1.0
                    counts[bucket] = counts.get(bucket, 0.0) + sign
            for bucket, value in counts.items():
                matrix[row, bucket] = np.sign(value) * (1.0 + np.log(abs(value))) if value else 0.0
        return _normalise(matrix)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts)


def _require_local_model(path: str, what: str) -> Path:
    model_dir = Path(path)
    if not (model_dir / "config.json").is_file():
        raise MedqError(f"{what} model path '{path}' is not a local model folder (no config.json): download the "
                        "model once (e.g. `huggingface-cli download BAAI/bge-m3 --local-dir ...`) and point the "
                        "config at that folder")
    return model_dir


# What decides the vectors: weights, config and tokenizer files (README.md and images do not).
MODEL_FILE_SUFFIXES = {".safetensors", ".bin", ".pt", ".json", ".model", ".txt"}


class BGEM3Embedder:
    """Dense BGE-M3 vectors via FlagEmbedding's `BGEM3FlagModel` (CPU by default; fp16 only on GPU)."""

    def __init__(self, model_path: ExistingDir, batch_size: int = 32, max_length: int = 512, device: str = "cpu",
                 use_fp16: bool = False, query_instruction: str | None = None, hash_cache: str | None = None):
        self.model_path = str(_require_local_model(model_path, "embedder"))
        self.hash_cache = hash_cache  # where file hashes are remembered (default ~/.cache/medq/file-hashes.json)
        self.batch_size, self.max_length, self.device = batch_size, max_length, device
        self.use_fp16 = use_fp16
        self.query_instruction = query_instruction
        self._model = None
        config = json.loads((Path(self.model_path) / "config.json").read_text(encoding="utf-8"))
        self.dim = int(config["hidden_size"])

    def fingerprint(self) -> str:
        """Names the vectors this model makes: the content hashes of its weights, config and tokenizer files (a
        fine-tuned checkpoint of the same shape differs), each hashed once per file change (medq/hash_cache.py)."""
        from medq.hash_cache import file_sha256

        files = sorted(p for p in Path(self.model_path).iterdir()
                       if p.is_file() and p.suffix in MODEL_FILE_SUFFIXES and not p.name.startswith("."))
        digest = hashlib.sha256()
        for file in files:
            digest.update(f"{file.name}:{file_sha256(file, self.hash_cache)}\n".encode())
        return f"bge-m3:{Path(self.model_path).name}:{digest.hexdigest()[:16]}:max_len={self.max_length}"

    def spec(self) -> dict[str, Any]:
        return {"_target_": f"{__name__}.{type(self).__name__}", "model_path": self.model_path,
                "batch_size": self.batch_size, "max_length": self.max_length, "device": self.device,
                "use_fp16": self.use_fp16, "query_instruction": self.query_instruction, "hash_cache": self.hash_cache}

    def _load(self):
        if self._model is None:
            from FlagEmbedding import BGEM3FlagModel

            self._model = BGEM3FlagModel(self.model_path, use_fp16=self.use_fp16, devices=self.device,
                                         batch_size=self.batch_size, query_max_length=self.max_length,
                                         passage_max_length=self.max_length, return_dense=True,
                                         return_sparse=False, return_colbert_vecs=False,
                                         query_instruction_for_retrieval=self.query_instruction)
        return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._load().encode_corpus(texts, batch_size=self.batch_size, max_length=self.max_length)
        return _normalise(np.asarray(out["dense_vecs"], dtype=np.float32).reshape(len(texts), -1))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._load().encode_queries(texts, batch_size=self.batch_size, max_length=self.max_length)
        return _normalise(np.asarray(out["dense_vecs"], dtype=np.float32).reshape(len(texts), -1))


@component
class QueryEmbedder:
    """Haystack text embedder over a medq `TextEmbedder`: text -> embedding."""

    def __init__(self, embedder: TextEmbedder):
        self.embedder = embedder

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, embedder=self.embedder.spec())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryEmbedder:
        from medq.safe_instantiate import instantiate_from_file

        data["init_parameters"]["embedder"] = instantiate_from_file(data["init_parameters"]["embedder"],
                                                                    "serialised pipeline: query_embedder.embedder")
        return default_from_dict(cls, data)

    @component.output_types(embedding=list[float])
    def run(self, text: str) -> dict[str, Any]:
        return {"embedding": self.embedder.embed_queries([text])[0].tolist()}

    @component.output_types(embedding=list[float])
    async def run_async(self, text: str) -> dict[str, Any]:
        import asyncio

        return await asyncio.to_thread(self.run, text)


def classification_head_keys(model_dir: Path) -> list[str]:
    """Names of the weights of a sequence-classification head stored in the checkpoint."""
    names: list[str] = []
    for file in sorted(model_dir.glob("*.safetensors")):
        from safetensors import safe_open

        with safe_open(str(file), framework="pt") as handle:
            names.extend(handle.keys())
    for file in sorted(model_dir.glob("pytorch_model*.bin")):
        import torch

        names.extend(torch.load(file, map_location="cpu", weights_only=True).keys())
    head = re.compile(r"^(classifier|score|classification_head|pre_classifier)\.|\.classifier\.")
    return [n for n in names if head.search(n)]


def check_reranker_model(path: str, what: str = "reranker") -> Path:
    model_dir = _require_local_model(path, what)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    architectures = config.get("architectures") or []
    if not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise MedqError(f"{what} model '{path}' is not a cross-encoder (config.json architectures = "
                        f"{architectures}): a ranker needs a trained *ForSequenceClassification head, e.g. "
                        "BAAI/bge-reranker-v2-m3")
    if not classification_head_keys(model_dir):
        raise MedqError(f"{what} model '{path}' has no trained classification head in its weights (no "
                        "classifier.* tensors): loading it would rank with a randomly initialised head; use a "
                        "trained cross-encoder such as BAAI/bge-reranker-v2-m3")
    return model_dir


@component
class FlagCrossEncoderRanker:
    """Reorders documents by a cross-encoder's (query, passage) score; keeps the top `top_k`."""

    def __init__(self, model_path: ExistingDir, top_k: int = 10, batch_size: int = 16, max_length: int = 512,
                 device: str = "cpu", use_fp16: bool = False):
        self.model_path = str(check_reranker_model(model_path))
        self.top_k, self.batch_size, self.max_length = top_k, batch_size, max_length
        self.device, self.use_fp16 = device, use_fp16
        self._model = None

    def warm_up(self) -> None:
        if self._model is None:
            from FlagEmbedding import FlagReranker

            self._model = FlagReranker(self.model_path, use_fp16=self.use_fp16, devices=self.device,
                                       batch_size=self.batch_size, max_length=self.max_length)

    def scores(self, query: str, passages: list[str]) -> list[float]:
        self.warm_up()
        if not passages:
            return []
        raw = self._model.compute_score([(query, p) for p in passages], batch_size=self.batch_size,
                                        max_length=self.max_length)
        return [float(s) for s in (raw if isinstance(raw, list) else [raw])]

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, Any]:
        scores = self.scores(query, [d.content or "" for d in documents])
        ranked = sorted(zip(documents, scores), key=lambda pair: -pair[1])
        out = []
        for doc, score in ranked[: top_k or self.top_k]:
            out.append(Document(id=doc.id, content=doc.content, meta={**doc.meta, "fused_score": doc.score},
                                score=score))
        return {"documents": out}

    @component.output_types(documents=list[Document])
    async def run_async(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, Any]:
        import asyncio

        return await asyncio.to_thread(self.run, query, documents, top_k)
