"""Evidence numbering and the citation checker."""

from __future__ import annotations

import pytest

from medq.rag.citations import CitationChecker, number_evidence
from medq.rag.components import Evidence

EVIDENCE = [
    Evidence("E1", "d-dog", "被狗咬伤后立即用肥皂水冲洗伤口十五分钟，尽快接种狂犬病疫苗。", 0.9, 1),
    Evidence("E2", "d-cold", "头痛发烧流鼻涕，多半是普通感冒，注意休息多喝水。", 0.5, 2),
]


def test_evidence_is_numbered_in_rank_order():
    assert number_evidence(EVIDENCE).splitlines() == [
        "[E1] 被狗咬伤后立即用肥皂水冲洗伤口十五分钟，尽快接种狂犬病疫苗。",
        "[E2] 头痛发烧流鼻涕，多半是普通感冒，注意休息多喝水。"]


def test_supported_cited_answer_scores_full_marks():
    answer = "被狗咬伤后要先用肥皂水冲洗伤口[E1]。然后尽快接种狂犬病疫苗[E1]。"
    report = CitationChecker().check(answer, EVIDENCE)
    assert report.unknown_ids == [] and report.uncited_sentences == []
    metrics = report.metrics()
    assert metrics["citation_precision"] == 1.0 and metrics["citation_recall"] == 1.0
    assert metrics["hallucination_rate"] == 0.0


def test_unknown_ids_uncited_sentences_and_unsupported_citations_are_flagged():
    answer = "被狗咬伤后要冲洗伤口[E1]。这种情况需要住院观察一周[E2]。还要注射破伤风抗毒素[E7]。平时多锻炼身体。"
    report = CitationChecker().check(answer, EVIDENCE)
    assert report.unknown_ids == ["E7"]
    assert report.uncited_sentences == ["平时多锻炼身体。"]
    supports = [s.support for s in report.sentences]
    assert supports[0] > 0.5 and supports[1] < 0.3 and supports[2] is None and supports[3] is None
    metrics = report.metrics()
    assert metrics["citations"] == 3 and metrics["citation_precision"] == pytest.approx(1 / 3)
    assert metrics["citation_recall"] == pytest.approx(1 / 4) and metrics["hallucination_rate"] == pytest.approx(3 / 4)


def test_grouped_citations_are_read():
    report = CitationChecker().check("发烧流鼻涕多半是感冒，被狗咬伤要打疫苗[E1, E2]。", EVIDENCE)
    assert report.sentences[0].cited == ["E1", "E2"] and report.sentences[0].support > 0.3
