"""prepare.profile=full on cMedQA2 runs as one columnar pass: it must write what the per-record streaming path
writes, byte for byte, on messy data where every reject reason, PII kind and cleaning rule occurs."""

from __future__ import annotations

import csv
import hashlib

import pytest

from medq.prepare.columnar import write_full
from medq.prepare.sources import CMedQA2Source, SyntheticSource

from tests.prepare.helpers import read_jsonl, run_prepare, write_csv

OUTPUTS = ("train", "validation", "test", "corpus", "preference_pairs", "rejects")


class StreamingCMedQA2(CMedQA2Source):
    """The same reader, without the columnar pass (which serves CMedQA2Source itself only)."""


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


def _both(tmp_path, monkeypatch, questions, answers, **settings):
    import medq.prepare.stage as stage

    passes = []
    monkeypatch.setattr(stage, "write_full", lambda *args: passes.append(1) or write_full(*args))
    cards = {}
    for name, reader in (("columnar", CMedQA2Source), ("streaming", StreamingCMedQA2)):
        _, cards[name] = run_prepare(tmp_path / name, reader(str(questions), str(answers)), seed=5,
                                     save_hf_dataset=False, **settings)
    assert passes == [1], "the columnar pass served CMedQA2Source and only it"
    for card in cards.values():
        for volatile in ("seconds", "records_per_second", "source"):
            card.pop(volatile)
    return cards


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
    questions, answers = messy_cmedqa2(tmp_path, encoding=encoding)
    leaked = read_csv_rows(answers, encoding)[7][2][:30]  # an evaluation question copied from the training data
    eval_path = write_csv(tmp_path / "eval.csv", f"Question\n{leaked}\n孩子发烧39度，家里有大人吃的退烧药\n头痛\n")
    settings = {**settings, "contamination": {"ngram": 8, "eval_sets": [
        {"name": "e", "path": str(eval_path), "fields": ["Question"]}]}}
    cards = _both(tmp_path, monkeypatch, questions, answers, **settings)
    assert _digests(tmp_path / "columnar") == _digests(tmp_path / "streaming")
    assert cards["columnar"] == cards["streaming"]
    card = cards["columnar"]
    assert card["records_out"] > 100 and "unknown_question_id" in card["rejected"]
    if not settings.get("cleaning"):
        near = {"near_duplicate"} if settings.get("dedup", {}).get("near", True) else set()
        assert {"duplicate", "response_too_short", "contaminated"} | near <= set(card["rejected"])
        assert card["pii_scrubbed"].get("phone", 0) > 0 and card["pii_scrubbed"].get("id_card", 0) > 0
    rejects = read_jsonl(tmp_path / "columnar" / "rejects.jsonl")
    lines = [int(r["where"].rsplit(":", 1)[1]) for r in rejects]
    assert lines == sorted(lines)


def test_files_over_the_columnar_limit_stream_with_the_same_output(tmp_path, monkeypatch):
    import medq.prepare.columnar as columnar
    import medq.prepare.stage as stage

    questions, answers = messy_cmedqa2(tmp_path, n_questions=60)
    passes = []
    monkeypatch.setattr(stage, "write_full", lambda *args: passes.append(1) or write_full(*args))
    run_prepare(tmp_path / "columnar", CMedQA2Source(str(questions), str(answers)), save_hf_dataset=False)
    monkeypatch.setattr(columnar, "COLUMNAR_MAX_BYTES", answers.stat().st_size - 1)
    run_prepare(tmp_path / "streamed", CMedQA2Source(str(questions), str(answers)), save_hf_dataset=False)
    assert passes == [1], "the answers file over the limit was streamed"
    assert _digests(tmp_path / "columnar") == _digests(tmp_path / "streamed")
