"""Hybrid retrieval for medq: Chinese BM25 + dense vectors, fused, reranked, as numbered evidence."""

import logging as _logging
import os as _os

# Haystack sends usage telemetry unless told not to (medq keeps telemetry off), and logs every component run.
_os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
_logging.getLogger("haystack").setLevel(_logging.WARNING)
_logging.getLogger("opensearch").setLevel(_logging.WARNING)  # one INFO line per HTTP request otherwise

from medq.rag.citations import CitationChecker, CitationReport, number_evidence
from medq.rag.components import (
                                  BM25Retriever,
                                  EmbeddingRetriever,
                                  Evidence,
                                  EvidenceBuilder,
                                  WeightedRRFJoiner,
                                  weighted_rrf,
)
from medq.rag.embedders import BGEM3Embedder, CharNgramHashingEmbedder, FlagCrossEncoderRanker, QueryEmbedder
from medq.rag.eval_stage import RetrievalEvalStage
from medq.rag.index_stage import IndexStage
from medq.rag.pipeline import FusionSettings, RetrievalResult, RetrievePipeline
from medq.rag.query import ChatQueryRewriter, QueryRules, SynonymQueryRewriter
from medq.rag.store import EmbeddedDocumentStore
from medq.rag.tokenizer import ChineseBM25Tokenizer

__all__ = ["BGEM3Embedder", "BM25Retriever", "CharNgramHashingEmbedder", "ChatQueryRewriter", "ChineseBM25Tokenizer",
           "CitationChecker", "CitationReport", "EmbeddedDocumentStore", "EmbeddingRetriever", "Evidence",
           "EvidenceBuilder", "FlagCrossEncoderRanker", "FusionSettings", "IndexStage", "QueryEmbedder", "QueryRules",
           "RetrievalEvalStage", "RetrievalResult", "RetrievePipeline", "SynonymQueryRewriter", "WeightedRRFJoiner",
           "number_evidence", "weighted_rrf"]
