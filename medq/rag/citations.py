"""Numbered evidence for the prompt, and a checker for the citations in an answer.

The generation layer shows the model `[E1] ...`, `[E2] ...` (`number_evidence`) and asks it to cite them. The
checker then verifies, sentence by sentence, that every cited id exists in the retrieved set, flags sentences
without a citation, and scores whether the cited passages support the sentence. The default support score is
lexical: the share of the sentence's character bigrams (and Latin words) found in the cited passages; `NliSupport`
(a local NLI cross-encoder's entailment probability), or any object with `score(sentence, passage) -> float in
[0, 1]`, can replace it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from medq.paths import ExistingDir
from medq.rag.components import Evidence
from medq.rag.tokenizer import ChineseBM25Tokenizer

_CITATION = re.compile(r"\[\s*(E\d+(?:\s*[,，、]\s*E\d+)*)\s*\]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


def number_evidence(evidence: Sequence[Evidence]) -> str:
    """The evidence block of a prompt: one `[E1] passage` line per item, in rank order."""
    return "\n".join(f"[{e.evidence_id}] {' '.join(e.content.split())}" for e in evidence)


class SupportScorer(Protocol):
    def score(self, sentence: str, passage: str) -> float: ...


class LexicalSupport:
    """Share of the sentence's bigrams/words that occur in the passage (0: nothing shared, 1: all)."""

    def __init__(self):
        self._tokens = ChineseBM25Tokenizer(use_words=False, use_bigrams=True, stopwords=False)

    def score(self, sentence: str, passage: str) -> float:
        wanted = set(self._tokens(sentence))
        if not wanted:
            return 0.0
        return len(wanted & set(self._tokens(passage))) / len(wanted)


class NliSupport:
    """Entailment probability from a local NLI cross-encoder: premise = the cited passage, hypothesis = the
    sentence. The model must carry a trained classification head with an entailment label."""

    def __init__(self, model_path: ExistingDir, entailment_label: str = "entailment", max_length: int = 512,
                 device: str = "cpu"):
        import json

        from medq.errors import MedqError
        from medq.rag.embedders import check_reranker_model

        self.model_dir = check_reranker_model(model_path, "NLI")
        config = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        labels = {int(i): str(name).lower() for i, name in (config.get("id2label") or {}).items()}
        matches = [i for i, name in labels.items() if name == entailment_label.lower()]
        if not matches:
            raise MedqError(f"NLI model '{model_path}' has no '{entailment_label}' label (its labels: "
                            f"{', '.join(labels.values()) or 'none'}): set entailment_label to the right one")
        self.entailment_index = matches[0]
        self.max_length, self.device = max_length, device
        self._model = self._tokenizer = None

    def score(self, sentence: str, passage: str) -> float:
        import torch

        if self._model is None:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
            self._model = AutoModelForSequenceClassification.from_pretrained(self.model_dir).to(self.device).eval()
        inputs = self._tokenizer(passage, sentence, truncation="only_first", max_length=self.max_length,
                                 return_tensors="pt").to(self.device)
        inputs.pop("token_type_ids", None)
        with torch.no_grad():
            probabilities = self._model(**inputs).logits[0].softmax(-1)
        return float(probabilities[self.entailment_index])


@dataclass
class SentenceCheck:
    sentence: str
    cited: list[str]
    unknown: list[str]
    support: float | None  # best support over the cited, existing passages; None when nothing valid is cited

    @property
    def supported(self) -> bool:
        return self.support is not None and self.support > 0


@dataclass
class CitationReport:
    sentences: list[SentenceCheck] = field(default_factory=list)
    min_support: float = 0.3

    @property
    def unknown_ids(self) -> list[str]:
        return sorted({i for s in self.sentences for i in s.unknown}, key=lambda i: int(i[1:]))

    @property
    def uncited_sentences(self) -> list[str]:
        return [s.sentence for s in self.sentences if not s.cited]

    def metrics(self) -> dict[str, float]:
        """citation_precision: cited ids that exist and support their sentence / all cited ids;
        citation_recall: sentences with a supporting citation / all sentences;
        hallucination_rate: sentences without a supporting citation / all sentences."""
        citations = [(s, cid) for s in self.sentences for cid in s.cited]
        good = [1 for s, cid in citations if cid not in s.unknown and s.support is not None
                and s.support >= self.min_support]
        n = len(self.sentences)
        backed = sum(1 for s in self.sentences if s.support is not None and s.support >= self.min_support)
        return {"sentences": float(n), "citations": float(len(citations)),
                "citation_precision": len(good) / len(citations) if citations else 0.0,
                "citation_recall": backed / n if n else 0.0,
                "hallucination_rate": (n - backed) / n if n else 0.0,
                "unknown_citations": float(sum(len(s.unknown) for s in self.sentences))}


class CitationChecker:
    def __init__(self, min_support: float = 0.3, scorer: Any | None = None, min_sentence_chars: int = 4):
        self.min_support = min_support
        self.scorer = scorer or LexicalSupport()
        self.min_sentence_chars = min_sentence_chars

    def sentences(self, answer: str) -> list[str]:
        parts = [p.strip() for p in _SENTENCE_END.split(answer)]
        return [p for p in parts if len(_CITATION.sub("", p).strip(" 。！？!?；;，,")) >= self.min_sentence_chars]

    def check(self, answer: str, evidence: Sequence[Evidence]) -> CitationReport:
        by_id = {e.evidence_id: e for e in evidence}
        report = CitationReport(min_support=self.min_support)
        for sentence in self.sentences(answer):
            cited: list[str] = []
            for group in _CITATION.findall(sentence):
                cited += [c.strip() for c in re.split(r"[,，、]", group) if c.strip() not in cited]
            unknown = [c for c in cited if c not in by_id]
            text = _CITATION.sub("", sentence).strip()
            valid = [by_id[c].content for c in cited if c in by_id]
            support = max((self.scorer.score(text, p) for p in valid), default=None)
            report.sentences.append(SentenceCheck(text, cited, unknown, support))
        return report
