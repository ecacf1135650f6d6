"""Nothing read is silently dropped: duplicate cMedQA2 question ids and the paraphrases/answers JSONL `first`
mode leaves out become rejects with reasons; the conservation check counts the rows the files hold; contamination
finds short evaluation texts; near-duplicate buckets remember every kept text; one JSONL reader names file and line.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pyarrow.compute as pc
import pytest

from medq.errors import InputDataError
from medq.jsonl import BadLine, read_jsonl
from medq.prepare.dedup import ContaminationChecker, DedupRules, NearDuplicateIndex
from medq.prepare.sources import CMedQA2Source, Example, JsonlSource, Rejected

from tests.prepare.helpers import read_jsonl as read_rows
from tests.prepare.helpers import near_duplicate_reference, run_prepare, write_csv


def _cmedqa2_with_duplicate_id(tmp_path):
    q = write_csv(tmp_path / "questions.csv", "question_id,content\n1,头痛三天了怎么办\n2,胃痛反酸烧心怎么办\n"
                                              "1,孩子发烧三十九度要去医院吗\n")
    a = write_csv(tmp_path / "answers.csv", "ans_id,question_id,content\n1,1,多休息，必要时服用止痛药。\n"
                                            "2,2,可能是慢性胃炎，建议做胃镜检查。\n")
    return q, a


def test_cmedqa2_duplicate_question_id_is_a_reject_with_its_row(tmp_path):
    q, a = _cmedqa2_with_duplicate_id(tmp_path)
    source = CMedQA2Source(str(q), str(a))
    items = list(source.items())
    rejects = [i for i in items if isinstance(i, Rejected)]
    assert [(r.reason, r.where, r.prompt) for r in rejects] == [
        ("duplicate_question_id", "questions.csv:4", "孩子发烧三十九度要去医院吗")]
    assert [i.prompt for i in items if isinstance(i, Example)] == ["头痛三天了怎么办", "胃痛反酸烧心怎么办"]
    assert source.rows_held == 3  # two answers and the duplicate question row


def test_cmedqa2_duplicate_id_reaches_rejects_jsonl(tmp_path):
    q, a = _cmedqa2_with_duplicate_id(tmp_path)
    _, card = run_prepare(tmp_path / "out", CMedQA2Source(str(q), str(a)), seed=1)
    rejects = read_rows(tmp_path / "out" / "rejects.jsonl")
    assert [r["reason"] for r in rejects] == ["duplicate_question_id"]
    assert card["rejected"] == {"duplicate_question_id": 1} and card["records_out"] == 2


def test_jsonl_first_mode_rejects_the_other_paraphrases_and_answers(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({"questions": ["头痛怎么办", "头疼怎么缓解", "老是头痛吃什么药"],
                                "answers": ["注意休息。", "可以服用布洛芬。"]}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    items = list(JsonlSource(str(path)).items())
    assert [(type(i).__name__, getattr(i, "reason", None), i.prompt, i.response) for i in items] == [
        ("Rejected", "extra_paraphrase", "头疼怎么缓解", "注意休息。"),
        ("Rejected", "extra_paraphrase", "老是头痛吃什么药", "注意休息。"),
        ("Rejected", "extra_answer", "头痛怎么办", "可以服用布洛芬。"),
        ("Example", None, "头痛怎么办", "注意休息。")]
    everything = list(JsonlSource(str(path), paraphrases="all", answers="all").items())
    assert len(everything) == 6 and all(isinstance(i, Example) for i in everything)


def test_conservation_counts_rows_the_file_holds(tmp_path):
    """A source whose reader skips a row silently is caught, though its items alone add up."""
    q, a = _cmedqa2_with_duplicate_id(tmp_path)

    class SilentlySkipping(CMedQA2Source):
        def batches(self, *args, **kwargs):  # the reader leaves out its rejects (the duplicate question id)
            for batch in super().batches(*args, **kwargs):
                yield batch.filter(pc.is_null(batch["reason"]))

    with pytest.raises(RuntimeError, match="source files hold 3 data rows, only 2"):
        run_prepare(tmp_path / "out", SilentlySkipping(str(q), str(a)), seed=1)


def test_contamination_finds_an_eval_question_shorter_than_the_ngram():
    # Real-length CMMLU-style stems: 9 and 7 characters, under the default 13-gram.
    checker = ContaminationChecker(13, [("cmmlu", "高血压的诊断标准是"), ("cmmlu", "胰岛素由哪里分泌"), ("cmmlu", "A")])
    leaked = "患者问：高血压的诊断标准是什么？医生答：非同日三次测量收缩压不低于140毫米汞柱。"
    assert checker.find(leaked) == "cmmlu"
    assert checker.find("请问胰岛素 由哪里分泌的？") == "cmmlu", "whitespace is ignored, as for long texts"
    assert checker.find("头痛三天了怎么办？建议多休息。") is None
    assert checker.too_short == 1, "a one-letter option is not checked (it would match everything)"


def test_contamination_in_prepare_rejects_a_record_containing_a_short_eval_text(tmp_path):
    eval_csv = write_csv(tmp_path / "eval.csv", "Question\n高血压的诊断标准是\n")
    rows = write_csv(tmp_path / "rows.csv", "question,answer\n高血压的诊断标准是什么？,非同日三次测量收缩压不低于140。\n"
                                            "胃痛反酸烧心怎么办？,可能是慢性胃炎，建议做胃镜检查。\n")
    from medq.prepare.sources import CsvSource

    _, card = run_prepare(tmp_path / "out", CsvSource(str(rows), ["question"], "answer"), seed=0,
                          contamination={"eval_sets": [{"name": "cmmlu", "path": str(eval_csv),
                                                        "fields": ["Question"]}]})
    assert card["rejected"] == {"contaminated": 1}


def _variants(base: str, rng: np.random.Generator, edits: int) -> str:
    chars = list(base)
    pool = "的了是在有我他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天"
    for _ in range(edits):
        chars[int(rng.integers(len(chars)))] = pool[int(rng.integers(len(pool)))]
    return "".join(chars)


def test_near_duplicate_buckets_keep_every_owner():
    base = ("医生您好，我最近总是头痛，还有点恶心，是不是偏头痛？需要做什么检查？"
            "建议先做头颅CT检查，排除器质性病变，平时注意休息，避免熬夜和情绪激动。")
    rng = np.random.default_rng(0)
    texts = [_variants(base, rng, int(rng.integers(1, 12))) for _ in range(300)]
    rules = DedupRules(threshold=0.8, num_perm=32, bands=8)
    expected = near_duplicate_reference(rules, NearDuplicateIndex(rules).hasher.signatures(texts))
    assert NearDuplicateIndex(rules).add_batch(texts) == expected
    # The set is one where a first-owner bucket goes wrong: some duplicates' only shared bands are owned by an
    # earlier kept text that is not similar enough.
    assert sum(v is not None for v in expected) > 0 and sum(v is None for v in expected) > 1


def test_one_jsonl_reader_names_file_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes('{"a": 1}\n\n[1, 2]\n{"b": \n'.encode() + b'{"c": "\xff"}\n')
    with pytest.raises(InputDataError, match=r"x\.jsonl: line 3: expected a JSON object, found list"):
        list(read_jsonl(path))
    lenient = list(read_jsonl(path, lenient=True, lines=path.read_text(encoding="utf-8", errors="replace")
                              .splitlines(keepends=True)))
    assert [n for n, _ in lenient] == [1, 3, 4, 5]
    assert isinstance(lenient[1][1], BadLine) and "invalid JSON" in lenient[2][1].detail
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"a": 1}\n{"c": "\xff"}\n')
    with pytest.raises(InputDataError, match=r"latin\.jsonl: line 2: not UTF-8"):
        list(read_jsonl(latin))
    with pytest.raises(InputDataError, match="file not found"):
        list(read_jsonl(tmp_path / "missing.jsonl"))


@pytest.mark.parametrize("reader", ["index", "retrieval_eval", "sft"])
def test_stage_readers_use_it(tmp_path, reader):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "content": "x", "messages": [{"role": "user", "content": "q"}, '
                    '{"role": "assistant", "content": "a"}]}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"in\.jsonl: line 2: invalid JSON"):
        if reader == "index":
            from medq.rag.index_stage import read_corpus
            read_corpus(path)
        elif reader == "retrieval_eval":
            from medq.rag.eval_stage import read_test_queries
            read_test_queries(path, None)
        else:
            from medq.train.data import _read_jsonl
            _read_jsonl(path)


def test_rejects_counter_matches(tmp_path):
    q, a = _cmedqa2_with_duplicate_id(tmp_path)
    _, card = run_prepare(tmp_path / "out", CMedQA2Source(str(q), str(a)), seed=1)
    rejects = Counter(r["reason"] for r in read_rows(tmp_path / "out" / "rejects.jsonl"))
    assert dict(rejects) == card["rejected"]
