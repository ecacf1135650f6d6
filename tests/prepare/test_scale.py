"""prepare at scale: any batch size writes the bytes of the per-record definition; `profile=minimal` is the plain
join-and-write."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from medq.errors import ConfigError
from medq.prepare.sources import CMedQA2Source, CsvSource, SyntheticSource
from medq.prepare.synthetic import write_cmedqa2

from tests.prepare.helpers import read_jsonl, run_against_reference, run_prepare, write_csv

SPLITS = ("train", "validation", "test")
OUTPUTS = (*SPLITS, "corpus", "preference_pairs", "rejects")


def digests(out, names=OUTPUTS):
    return {n: hashlib.sha256((out / f"{n}.jsonl").read_bytes()).hexdigest() for n in names}


@pytest.mark.parametrize("batch_size", [37, 65536])
def test_any_batch_size_writes_the_bytes_of_the_per_record_definition(tmp_path, batch_size):
    # messy synthetic data: every reject reason of the pipeline occurs (duplicates, near duplicates, short answers,
    # PII), and an eval set makes some rows contaminated; small batches so duplicates cross batch boundaries
    source_dir = tmp_path / "synthetic"
    eval_path = write_csv(tmp_path / "eval.csv", ",Question,A,B,C,D,Answer\n0,孩子发烧39度，家里有大人吃的退烧药,A,B,C,D,A\n")
    card = run_against_reference(
        tmp_path, lambda: SyntheticSource(str(source_dir), n_questions=300, seed=4, messy=True), seed=5,
        batch_size=batch_size,
        contamination={"ngram": 8, "eval_sets": [{"name": "e", "path": str(eval_path), "fields": ["Question"]}]})
    assert sum(card["pii_scrubbed"].values()) > 0
    assert {"duplicate", "near_duplicate"} <= set(card["rejected"])
    rejects = read_jsonl(tmp_path / "engine" / "rejects.jsonl")
    lines = [int(r["where"].rsplit(":", 1)[1]) for r in rejects]
    assert lines == sorted(lines), "rejects are written in the order of the file"


def test_minimal_profile_joins_drops_empties_and_writes_chatml(tmp_path):
    questions = write_csv(tmp_path / "questions.csv", "question_id,content\n1,头痛三天了怎么办\n2,   \n3,咳嗽有痰\n")
    answers = write_csv(tmp_path / "answers.csv", "ans_id,question_id,content\n"
                        "10,1,<p>建议休息</p>\n11,1,\n12,2,多喝水\n13,3,头痛三天了怎么办\n14,3,查血常规\n14,3,查血常规\n")
    artifacts, card = run_prepare(tmp_path / "out", CMedQA2Source(str(questions), str(answers)), profile="minimal",
                                  save_hf_dataset=False)
    assert set(artifacts) == {*SPLITS, "rejects", "data_card", "data_card_md"}
    assert not (tmp_path / "out" / "corpus.jsonl").exists()
    records = [r for s in SPLITS for r in read_jsonl(tmp_path / "out" / f"{s}.jsonl")]
    # no cleaning and no dedup: the HTML stays, the repeated answer stays; only empty texts go
    assert sorted(r["messages"][-1]["content"] for r in records) == sorted(
        ["<p>建议休息</p>", "头痛三天了怎么办", "查血常规", "查血常规"])
    assert [m["role"] for m in records[0]["messages"]] == ["system", "user", "assistant"]
    rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
    assert [(r["reason"], r["where"]) for r in rejects] == [("empty_response", "answers.csv:3"),
                                                             ("empty_prompt", "answers.csv:4")]
    assert card["records_in"] == 6 == card["records_out"] + card["rejected_total"]
    assert card["profile"] == "minimal" and Counter(r["reason"] for r in rejects) == card["rejected"]


def test_minimal_profile_splits_like_the_full_one(tmp_path):
    questions, answers = write_cmedqa2(tmp_path / "raw", 200, seed=3)
    ids = {}
    for profile in ("full", "minimal"):
        run_prepare(tmp_path / profile, CMedQA2Source(str(questions), str(answers)), profile=profile,
                    save_hf_dataset=False, dedup={"near": False})
        ids[profile] = {s: {r["metadata"]["answer_id"] for r in read_jsonl(tmp_path / profile / f"{s}.jsonl")}
                        for s in SPLITS}
    # the generated text is clean, so both keep the same answers, and a question's split is decided the same way
    assert ids["full"] == ids["minimal"] and all(ids["full"][s] for s in SPLITS)


def test_bad_batch_settings_are_refused(tmp_path):
    path = write_csv(tmp_path / "d.csv", "q,a\n问题一二三,回答一二三四\n")
    with pytest.raises(ConfigError, match="prepare.batch_size must be >= 1"):
        run_prepare(tmp_path / "o", CsvSource(str(path), ["q"], "a"), batch_size=0)


QUESTIONS = ('question_id,content\n1,头痛三天了怎么办\n2,   \n3,"咳嗽有痰，\r\n夜里更重"\n4,胃痛反酸\n')
ANSWERS = ('ans_id,question_id,content\n10,1,<p>建议休息</p>\n11,1,\n12,2,多喝水\n'
           '13,3,"先查血常规，\n必要时拍胸片"\n14, 3 ,查血常规\n15,9,没有这个问题\n16,4,"少食多餐，""忌辛辣"""\n'
           '17,4,\u3000\x1c\n18,4,反斜杠\\和\x01控制字符\t制表\n')


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_minimal_profile_writes_what_the_per_record_definition_writes(tmp_path, encoding):
    questions = write_csv(tmp_path / "questions.csv", QUESTIONS, encoding)
    answers = write_csv(tmp_path / "answers.csv", ANSWERS, encoding)
    card = run_against_reference(tmp_path, lambda: CMedQA2Source(str(questions), str(answers)), profile="minimal")
    assert card["rejected"] == {"empty_prompt": 1, "empty_response": 2, "unknown_question_id": 1}
    rejects = read_jsonl(tmp_path / "engine" / "rejects.jsonl")
    # line numbers count the quoted newline inside answer 13: answer 15 is on line 8 of answers.csv
    assert [r["where"] for r in rejects] == ["answers.csv:3", "answers.csv:4", "answers.csv:8", "answers.csv:10"]
    kept = [r["messages"][-1]["content"] for s in SPLITS for r in read_jsonl(tmp_path / "engine" / f"{s}.jsonl")]
    assert "反斜杠\\和\x01控制字符\t制表" in kept and '少食多餐，"忌辛辣"' in kept


def test_minimal_profile_without_rejects_writes_what_the_per_record_definition_writes(tmp_path):
    questions = write_csv(tmp_path / "questions.csv", 'question_id,content\n1,头痛三天了怎么办\n2,"咳嗽，\n夜里更重"\n')
    answers = write_csv(tmp_path / "answers.csv", 'ans_id,question_id,content\n10,1,建议休息\n11,2,"查血常规，""必要时""拍片"\n'
                        '12,1,多喝水\n')
    card = run_against_reference(tmp_path, lambda: CMedQA2Source(str(questions), str(answers)), profile="minimal")
    assert card["records_out"] == 3 and card["rejected_total"] == 0


def test_minimal_falls_back_to_the_careful_reader_when_lines_would_shift(tmp_path):
    questions = write_csv(tmp_path / "questions.csv", QUESTIONS)
    answers = write_csv(tmp_path / "answers.csv", ANSWERS.replace("12,2,多喝水\n", "12,2,多喝水\n\n"))
    run_prepare(tmp_path / "out", CMedQA2Source(str(questions), str(answers)), profile="minimal", save_hf_dataset=False)
    rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
    assert [r["where"] for r in rejects] == ["answers.csv:3", "answers.csv:4", "answers.csv:9", "answers.csv:11"]
