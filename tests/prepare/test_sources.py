"""Readers and decoding on files the tests write: GBK with GBK-only characters, BOM, GB18030, quoting."""

import pytest

from medq.errors import InputDataError
from medq.prepare.encoding import detect_encoding
from medq.prepare.sources import CMedQA2Source, CsvSource, Example, JsonlSource, Rejected, SyntheticSource
from medq.prepare.synthetic import write_cmedqa2, write_huatuo_jsonl

from tests.prepare.helpers import write_csv

DIALOGUE_HEADER = "department,title,ask,answer\n"


def examples(source, **kwargs):
    return [i for i in source.items(**kwargs) if isinstance(i, Example)]


def test_gbk_file_with_gbk_only_characters_is_detected_as_gbk_not_gb2312(tmp_path):
    text = DIALOGUE_HEADER + "内科,头晕,医生您好，我头晕怎么办？,建议测量血压。王喆医生\n"
    with pytest.raises(UnicodeEncodeError):
        "喆".encode("gb2312")
    path = write_csv(tmp_path / "d.csv", text, "gbk")
    assert detect_encoding(path) == "gbk"
    rows = examples(CsvSource(str(path), ["title", "ask"], "answer", ["department"]))
    assert rows[0].response.endswith("王喆医生") and rows[0].metadata == {"department": "内科"}


def test_utf8_bom_and_gb18030_are_detected(tmp_path):
    bom = write_csv(tmp_path / "bom.csv", "\ufeffquestion,answer\n头痛怎么办,多休息\n")
    assert detect_encoding(bom) == "utf-8-sig"
    rows = examples(CsvSource(str(bom), ["question"], "answer"))
    assert rows[0].prompt == "头痛怎么办", "the BOM must not end up in the first column name or value"
    # U+20000 (CJK extension B) exists in GB18030 but not in GBK
    gb18030 = write_csv(tmp_path / "g.csv", "question,answer\n𠀀字怎么读,这是一个生僻字\n", "gb18030")
    assert detect_encoding(gb18030) == "gb18030"
    assert examples(CsvSource(str(gb18030), ["question"], "answer"))[0].prompt.startswith("𠀀")


def test_declared_gb2312_is_refused(tmp_path):
    path = write_csv(tmp_path / "d.csv", "question,answer\n问,答\n", "gbk")
    with pytest.raises(InputDataError, match="gb2312"):
        detect_encoding(path, "gb2312")


def test_quoted_fields_keep_embedded_newlines_and_title_is_joined(tmp_path):
    text = DIALOGUE_HEADER + '消化科,胃部不适,"胃痛三天了\n吃饭后加重","可能是胃炎。\n建议做胃镜。"\n消化科,腹泻,腹泻怎么办,多喝水补液\n'
    rows = examples(CsvSource(str(write_csv(tmp_path / "d.csv", text)), ["title", "ask"], "answer"))
    assert len(rows) == 2
    assert rows[0].prompt == "胃部不适\n胃痛三天了\n吃饭后加重" and rows[0].response == "可能是胃炎。\n建议做胃镜。"
    assert rows[1].prompt == "腹泻怎么办", "a title that the question repeats is not doubled"
    assert rows[1].where.endswith(":5"), "location is the CSV line the record ends on"


def test_cmedqa2_join_all_answers_and_first_answer(tmp_path):
    questions, answers = write_cmedqa2(tmp_path, 50, seed=3)
    all_rows = examples(CMedQA2Source(str(questions), str(answers), answers="all"))
    answer_lines = sum(1 for _ in open(answers, encoding="utf-8")) - 1
    assert len(all_rows) == answer_lines
    assert all(r.group == f"q{r.metadata['question_id']}" for r in all_rows)
    first = CMedQA2Source(str(questions), str(answers), answers="first")
    items = list(first.items())
    kept = [i for i in items if isinstance(i, Example)]
    extra = [i for i in items if isinstance(i, Rejected)]
    assert len(kept) == 50 and len(kept) + len(extra) == answer_lines
    assert {r.reason for r in extra} == {"extra_answer"}


def test_cmedqa2_answer_for_unknown_question_is_rejected_with_reason(tmp_path):
    q = write_csv(tmp_path / "questions.csv", "question_id,content\n1,头痛怎么办\n2,没人回答的问题\n")
    a = write_csv(tmp_path / "answers.csv", "ans_id,question_id,content\n1,1,多休息\n2,9,孤立的回答\n")
    source = CMedQA2Source(str(q), str(a))
    items = list(source.items())
    assert [type(i).__name__ for i in items] == ["Example", "Rejected"]
    assert items[1].reason == "unknown_question_id" and items[1].where == "answers.csv:3"
    assert source.stats["questions_without_answers"] == 1


def test_huatuo_jsonl_first_or_all_paraphrases(tmp_path):
    path = write_huatuo_jsonl(tmp_path / "h.jsonl", 20, seed=1)
    first = examples(JsonlSource(str(path)))
    assert len(first) == 20
    everything = examples(JsonlSource(str(path), paraphrases="all", answers="all"))
    assert len(everything) > 40
    groups = {}
    for row in everything:
        groups.setdefault(row.group, set()).add(row.prompt)
    assert all(len(p) >= 2 for p in groups.values()), "paraphrases of one question share a group (and a split)"


def test_generic_jsonl_field_map(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"q": "咳嗽怎么办", "a": "多喝水", "dept": "呼吸科"}\n\n{"q": "发烧", "a": "测体温"}\n', encoding="utf-8")
    rows = examples(JsonlSource(str(path), prompt_field="q", response_field="a", metadata_fields=["dept"]))
    assert [(r.prompt, r.response, r.metadata["dept"]) for r in rows] == [("咳嗽怎么办", "多喝水", "呼吸科"), ("发烧", "测体温", None)]


def test_synthetic_source_writes_a_gbk_csv_once(tmp_path):
    source = SyntheticSource(str(tmp_path), n_questions=50, seed=2)
    path = source.files()[0]
    assert detect_encoding(path) == "gbk"
    mtime = path.stat().st_mtime_ns
    SyntheticSource(str(tmp_path), n_questions=50, seed=2)
    assert path.stat().st_mtime_ns == mtime
