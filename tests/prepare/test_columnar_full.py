"""prepare.profile=full on cMedQA2 through the batch pipeline: it must write what the per-record definition
(`tests/prepare/reference.py`, the streaming engine it replaced) writes, byte for byte, on messy data where every
reject reason, PII kind and cleaning rule occurs."""

from __future__ import annotations

import csv
import hashlib

import pytest

from medq.prepare.batches import Untrusted
from medq.prepare.sources import CMedQA2Source, CsvTable, SyntheticSource

from tests.prepare.helpers import read_jsonl, run_against_reference, run_prepare, write_csv

OUTPUTS = ("train", "validation", "test", "corpus", "preference_pairs", "rejects")


def messy_cmedqa2(tmp_path, n_questions=400, encoding="utf-8"):
    """questions.csv / answers.csv from the project's messy synthetic dialogues (HTML, full-width characters,
    odd whitespace, PII, repeated and near-repeated answers), plus an answer to an unknown question and texts
    that need JSON escaping or trimming."""
    source = SyntheticSource(str(tmp_path / "synthetic"), n_questions=n_questions, seed=4, messy=True)
    question_ids: dict[str, int] = {}
    answers = []
    for item in source.items():
        qid = question_ids.setdefault(item.prompt, len(question_ids) + 1)
        answers.append((len(answers) + 1, qid, item.response))
    answers += [(len(answers) + 1, 99999, "没有这个问题的回答"), (len(answers) + 2, 1, '含"引号"与\\反斜杠\x01'),
                (len(answers) + 3, 2, "  \u3000前后空白\t"), (len(answers) + 4, 3, "电话13812345678，身份证110101199003071234")]
    questions_path, answers_path = tmp_path / "questions.csv", tmp_path / "answers.csv"
    with open(questions_path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("question_id", "content"))
        writer.writerows((qid, text) for text, qid in question_ids.items())
    with open(answers_path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if encoding == "gbk" else "\n")
        writer.writerow(("ans_id", "question_id", "content"))
        writer.writerows(answers)
    return questions_path, answers_path


def read_csv_rows(path, encoding):
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def _digests(out):
    return {n: hashlib.sha256((out / f"{n}.jsonl").read_bytes()).hexdigest() for n in OUTPUTS}


def _both(tmp_path, questions, answers, **settings):
    card = run_against_reference(tmp_path, lambda: CMedQA2Source(str(questions), str(answers)), seed=5, **settings)
    return {"columnar": card}


@pytest.mark.parametrize("settings, encoding", [
    ({}, "utf-8"),
    ({"cleaning": {"to_simplified": True}}, "gbk"),  # every text through OpenCC; GBK files with \r\n line ends
    ({"corpus_content": "question_and_answer", "preferences": {"max_pairs": 40},
      "dedup": {"threshold": 0.6, "num_perm": 64, "bands": 16, "ngram": 3}}, "utf-8"),
    ({"cleaning": {"full_width": "all", "scrub_pii": False}, "dedup": {"exact": False, "ngram": 40},
      "filters": {"prompt_min_chars": 1, "response_min_chars": 1}}, "utf-8"),
    ({"system_prompt": "", "preferences": {"enabled": False}, "dedup": {"near": False}}, "utf-8"),
], ids=["defaults", "opencc-gbk-crlf", "qa-corpus-max-pairs-loose-lsh", "no-pii-no-exact-long-ngrams",
        "no-system-prompt-no-pairs-no-near-dedup"])
def test_columnar_full_pass_writes_what_the_streaming_path_writes(tmp_path, monkeypatch, settings, encoding):
    from medq.prepare import columnar

    monkeypatch.setattr(columnar, "SPILL_ROWS", 61)  # pass 2 over several spill files
    questions, answers = messy_cmedqa2(tmp_path, encoding=encoding)
    leaked = read_csv_rows(answers, encoding)[7][2][:30]  # an evaluation question copied from the training data
    eval_path = write_csv(tmp_path / "eval.csv", f"Question\n{leaked}\n孩子发烧39度，家里有大人吃的退烧药\n头痛\n")
    settings = {**settings, "contamination": {"ngram": 8, "eval_sets": [
        {"name": "e", "path": str(eval_path), "fields": ["Question"]}]}}
    card = _both(tmp_path, questions, answers, **settings)["columnar"]
    assert card["records_out"] > 100 and "unknown_question_id" in card["rejected"]
    if not settings.get("cleaning"):
        near = {"near_duplicate"} if settings.get("dedup", {}).get("near", True) else set()
        assert {"duplicate", "response_too_short", "contaminated"} | near <= set(card["rejected"])
        assert card["pii_scrubbed"].get("phone", 0) > 0 and card["pii_scrubbed"].get("id_card", 0) > 0
    rejects = read_jsonl(tmp_path / "engine" / "rejects.jsonl")
    lines = [int(r["where"].rsplit(":", 1)[1]) for r in rejects]
    assert lines == sorted(lines)


def test_the_careful_reader_writes_what_the_fast_reader_writes(tmp_path, monkeypatch):
    questions, answers = messy_cmedqa2(tmp_path, n_questions=60)
    run_prepare(tmp_path / "fast", CMedQA2Source(str(questions), str(answers)), save_hf_dataset=False)

    def untrusted(self, batch_rows):
        raise Untrusted
        yield

    monkeypatch.setattr(CsvTable, "arrow_batches", untrusted)
    run_prepare(tmp_path / "careful", CMedQA2Source(str(questions), str(answers)), save_hf_dataset=False)
    assert _digests(tmp_path / "fast") == _digests(tmp_path / "careful")
