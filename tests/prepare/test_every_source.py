"""Every source and mode goes through the one batch pipeline: each writes what the per-record definition
(`tests/prepare/reference.py`) writes, byte for byte, whether its fast (pyarrow) or its careful reader reads it."""

from __future__ import annotations

import json

import pytest

from medq.prepare.batches import Untrusted
from medq.prepare.sources import CMedQA2Source, CsvSource, JsonlSource, SyntheticSource
from medq.prepare.synthetic import write_dialogue_csv, write_huatuo_jsonl

from tests.prepare.helpers import run_against_reference, write_csv


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    files = {"dialogue": write_dialogue_csv(root / "dialogue.gbk.csv", 200, seed=3, encoding="gbk", messy=True),
             "huatuo": write_huatuo_jsonl(root / "h.jsonl", 200, seed=1)}
    files["questions"] = write_csv(root / "q.csv", "question_id,content\n1,头痛三天了怎么办\n2,胃痛反酸烧心怎么办\n"
                                                   "1,孩子发烧三十九度要去医院吗\n3, 咳嗽有痰 \n")
    files["answers"] = write_csv(root / "a.csv", "ans_id,question_id,content\n1,1,多休息，必要时服用止痛药。\n\n"
                                                 "2,2,可能是慢性胃炎，建议做胃镜检查。\n3,3,\"先查血常规，\n必要时拍胸片\"\n"
                                                 "4,1,多休息，必要时服用止痛药。\n5,3,查血常规\n6,7,没有这个问题的回答\n")
    files["csv"] = write_csv(root / "g.csv", "grp,title,question,answer,dept,split\n"
                             "g1,头痛,头痛怎么办？,多休息，注意睡眠,内科,x\ng1,头痛怎么办,头痛怎么办？,多休息，注意睡眠啊,内科,x\n"
                             "g2,发烧了?,发烧了怎么办,\"多喝水，\r\n测体温\",儿科,\"y\"\"\"\n,,咳嗽怎么办呢,建议做胸片检查,,\n")
    files["bad_csv"] = write_csv(root / "b.csv", "question,answer\n头痛怎么办？,多休息，注意睡眠\n只有一列\n"
                                 "发烧了,多喝水,多余\n\n咳嗽怎么办,多喝水，观察体温\n")
    odd = tmp_path_factory.mktemp("odd") / "h2.jsonl"
    lines = files["huatuo"].read_text(encoding="utf-8").splitlines()
    extra = [json.dumps({"questions": "单个问题怎么办", "answers": "单个回答，多休息", "dept": None}, ensure_ascii=False),
             '{"questions": [], "answers": ["只有回答没有问题"]}',
             '{"questions": ["有问题吗", null], "answers": [null, 5, "好的好的好的"], "dept": "内科", "n": 1.5}',
             '{"questions": ["坏行', '[1, 2]', '{"answers": ["没有问题字段"]}', "  ",
             '{"questions": ["最后一个问题"], "answers": ["最后的回答内容"]}']
    odd.write_text("\n".join(lines[:50] + extra + lines[50:]) + "\n", encoding="utf-8")
    files["odd_jsonl"] = odd
    strings = root / "s.jsonl"
    strings.write_text("".join(json.dumps({"q": r["questions"][0], "a": r["answers"][-1], "id": i}, ensure_ascii=False)
                               + "\n" for i, r in enumerate(map(json.loads, lines))), encoding="utf-8")
    files["jsonl_strings"] = strings
    gbk = root / "hg.jsonl"
    gbk.write_bytes(files["huatuo"].read_text(encoding="utf-8").encode("gbk", errors="ignore"))
    files["gbk_jsonl"] = gbk
    return files


SOURCES = {
    "synthetic": lambda f, tmp: SyntheticSource(str(tmp / "syn"), n_questions=200, seed=4, messy=True),
    "dialogue_csv": lambda f, tmp: CsvSource(str(f["dialogue"]), ["title", "ask"], "answer", ["department"]),
    "csv_group_metadata_keys": lambda f, tmp: CsvSource(str(f["csv"]), ["title", "question"], "answer",
                                                        ["dept", "split"], group_column="grp"),
    "csv_bad_rows": lambda f, tmp: CsvSource(str(f["bad_csv"]), ["question"], "answer"),
    "cmedqa2_all": lambda f, tmp: CMedQA2Source(str(f["questions"]), str(f["answers"])),
    "cmedqa2_first": lambda f, tmp: CMedQA2Source(str(f["questions"]), str(f["answers"]), answers="first"),
    "huatuo_first_first": lambda f, tmp: JsonlSource(str(f["huatuo"])),
    "huatuo_all_all": lambda f, tmp: JsonlSource(str(f["huatuo"]), paraphrases="all", answers="all"),
    "huatuo_all_first": lambda f, tmp: JsonlSource(str(f["huatuo"]), paraphrases="all"),
    "huatuo_first_all": lambda f, tmp: JsonlSource(str(f["huatuo"]), answers="all"),
    "jsonl_odd_lines_metadata": lambda f, tmp: JsonlSource(str(f["odd_jsonl"]), metadata_fields=["dept", "n"],
                                                           answers="all"),
    "jsonl_gbk": lambda f, tmp: JsonlSource(str(f["gbk_jsonl"]), paraphrases="all"),
    "jsonl_strings": lambda f, tmp: JsonlSource(str(f["jsonl_strings"]), prompt_field="q", response_field="a"),
}


@pytest.mark.parametrize("settings", [{}, {"limit": 77}, {"profile": "minimal"}, {"batch_size": 29}],
                         ids=["full", "limit", "minimal", "small-batches"])
@pytest.mark.parametrize("kind", list(SOURCES))
def test_every_source_writes_what_the_per_record_definition_writes(tmp_path, raw, kind, settings):
    card = run_against_reference(tmp_path, lambda: SOURCES[kind](raw, tmp_path), seed=5, on_bad_record="skip",
                                 **settings)
    assert card["records_out"] > 0 and card["records_in"] == card["records_out"] + card["rejected_total"]


@pytest.mark.parametrize("kind", ["dialogue_csv", "cmedqa2_first", "huatuo_first_first", "huatuo_all_all",
                                  "jsonl_strings"])
def test_the_fast_readers_serve_plain_files(raw, tmp_path, kind):
    """The files above that hold nothing odd are read by pyarrow (the tests above then compare its bytes)."""
    source = SOURCES[kind](raw, tmp_path)
    if kind == "cmedqa2_first":  # the questions hold a repeated id: that one is read carefully
        with pytest.raises(Untrusted):
            list(source.batches(100))
        return
    assert sum(batch.num_rows for batch in source.batches(100)) >= 200


@pytest.mark.parametrize("data", [b"", b"a", b"a\n", b"ab\ncd\n", b"ab\ncd", b"\n\nx\n" * 3, b"long line\n" * 9 + b"z"])
def test_line_blocks_hold_whole_lines_whatever_the_block_size(tmp_path, data):
    from medq.prepare.sources import _line_blocks

    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    for size in (1, 2, 3, 7, 1 << 20):
        blocks = list(_line_blocks(path, size))
        assert b"".join(block for block, _ in blocks) == data
        assert all(block.endswith(b"\n") for block, _ in blocks[:-1])
        assert sum(lines for _, lines in blocks) == len(data.splitlines())


def test_question_ids_are_found_by_integer_search_or_by_hash():
    import pyarrow as pa

    from medq.prepare.sources import _IdLookup

    integers = _IdLookup(pa.array(["5", "3", "10", "7"]))
    assert integers.sorted is not None
    known, row = integers(pa.array(["3", "9", "10", "07", "7"]))
    assert known.tolist() == [True, False, True, False, True] and row[known].tolist() == [1, 2, 3]
    known, row = integers(pa.array(["3", "x", ""]))  # not all integers: the hash look-up
    assert known.tolist() == [True, False, False] and row[0] == 1
    names = _IdLookup(pa.array(["a", "3", "007"]))
    assert names.sorted is None
    known, row = names(pa.array(["007", "7", "a"]))
    assert known.tolist() == [True, False, True] and row[known].tolist() == [2, 0]


def _concatenated(batches):
    import pyarrow as pa

    batches = [b for b in batches if b.num_rows]
    return pa.Table.from_batches(batches).combine_chunks() if batches else None


@pytest.mark.parametrize("kind", ["synthetic", "dialogue_csv", "csv_group_metadata_keys", "csv_bad_rows",
                                  "huatuo_first_first", "huatuo_all_all", "jsonl_strings", "jsonl_odd_lines_metadata",
                                  "jsonl_gbk"])
@pytest.mark.parametrize("size", [1, 97, 4096])
def test_split_reads_are_the_whole_file_read(raw, tmp_path, kind, size):
    """The Ray engine's workers read byte ranges of a file (`split_plan`, `split_batches`): in split order they
    hold the rows, lines and rejects of the whole file read at once, or give up (`Untrusted`) where it does."""
    def whole():
        return _concatenated(SOURCES[kind](raw, tmp_path).batches(50))

    def split():
        source = SOURCES[kind](raw, tmp_path)
        plan = source.split_plan(size)
        batches, rows = [], 0
        for part in plan.splits:
            reader = source.split_batches(part, plan.context, 50)
            while True:
                try:
                    batches.append(next(reader))
                except StopIteration as done:
                    rows += done.value
                    break
        source.splits_read(plan, rows)
        return _concatenated(batches), len(plan.splits), source.rows_held

    try:
        expected = whole()
    except Untrusted:
        with pytest.raises(Untrusted):
            split()
        return
    got, splits, held = split()
    assert got.equals(expected)
    assert held > 0
    if size == 1:
        assert splits >= 3  # every row boundary is a cut


def test_a_cut_inside_a_quoted_value_is_noticed(tmp_path):
    """A stray quote in an unquoted field makes the quote count lie about where rows end; the range cut inside
    the quoted value that follows ends in an open quote, counts a line too many and gives up."""
    path = write_csv(tmp_path / "stray.csv", 'question,answer\n头"痛怎么办,多休息注意睡眠\n"发烧\n了",多喝水多休息\n'
                                             "咳嗽怎么办,多喝水观察体温\n")
    source = CsvSource(str(path), ["question"], "answer")
    plan = source.split_plan(1)
    assert len(plan.splits) >= 3
    cut_inside = [s for s in plan.splits if s.end == path.read_bytes().index("\n了".encode()) + 1]
    assert cut_inside  # the quote count put a cut inside "发烧\n了"
    with pytest.raises(Untrusted):
        for part in plan.splits:
            list(source.split_batches(part, plan.context, 50))
