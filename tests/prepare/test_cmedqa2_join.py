"""cMedQA2's out-of-core join (`medq/prepare/join.py`): over many small partitions and chunks of a messy input it
yields the batches of the join that holds the questions (one partition, nothing spilled) and the careful reader's
items (a dict of the questions, answers in file order), and the stage writes what the per-record definition
(`tests/prepare/reference.py`) writes."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa
import pytest

from medq.errors import ConfigError
from medq.prepare.batches import Untrusted
from medq.prepare.join import partition_of
from medq.prepare.sources import CMedQA2Source, batches_to_items

from tests.prepare.helpers import run_against_reference
from .test_columnar_full import messy_cmedqa2

# about 300 partitions of a 30 KB questions file, 7 answers per chunk
MANY_PARTITIONS = {"join_partition_mb": 0.0001, "join_chunk_rows": 7}


def with_loose_ends(tmp_path, encoding="utf-8", repeat_a_question=False):
    """The messy files, plus questions no answer names, answers to unknown ids and ids that differ from known ones
    only in whitespace or leading zeros (the join strips, as `str.strip()` does, and compares strings)."""
    questions, answers = messy_cmedqa2(tmp_path, n_questions=300, encoding=encoding)
    with open(questions, "a", encoding=encoding, newline="") as handle:
        rows = [(5001, "没有回答的问题一"), (" 5002 ", "没有回答的问题二，前后有空白的编号"), ("q-7", "编号不是数字的问题")]
        if repeat_a_question:
            rows.append((5001, "重复编号的问题"))
        csv.writer(handle, lineterminator="\n").writerows(rows)
    with open(answers, "a", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\r\n" if encoding == "gbk" else "\n").writerows(
            [(9001, "0001", "前导零的编号不是1号问题"), (9002, " q-7", "编号不是数字的问题的回答，编号前有空格"),
             (9003, "88888", "未知问题的回答"), (9004, "q-7", "同一问题的第二个回答"), (9005, 3, "三号问题的又一个回答")])
    return questions, answers


def _table(source, batch_rows, work_dir=None):
    return pa.Table.from_batches(list(source.batches(batch_rows, work_dir=work_dir)))


@pytest.mark.parametrize("mode", ["all", "first"])
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_many_partitions_yield_what_one_partition_and_the_careful_reader_yield(tmp_path, mode, encoding):
    questions, answers = with_loose_ends(tmp_path, encoding)
    whole = CMedQA2Source(str(questions), str(answers), answers=mode, join_chunk_rows=1 << 20)
    expected = _table(whole, 29)
    assert {"unknown_question_id"} | ({"extra_answer"} if mode == "first" else set()) <= set(
        expected["reason"].drop_null().to_pylist())
    assert whole.stats["questions_without_answers"] >= 2
    careful = CMedQA2Source(str(questions), str(answers), answers=mode)
    assert list(batches_to_items([expected])) == list(careful._careful_items())
    assert (whole.stats, whole.rows_held) == (careful.stats, careful.rows_held)
    work = tmp_path / "work"
    work.mkdir()
    held = CMedQA2Source(str(questions), str(answers), answers=mode).batches(29, work_dir=work)
    next(held)
    assert not list(work.iterdir()), "questions that fit one partition are held, nothing is spilled"
    held.close()
    spilling = CMedQA2Source(str(questions), str(answers), answers=mode, **MANY_PARTITIONS).batches(29, work_dir=work)
    next(spilling)
    assert len(list(next(work.iterdir()).glob("questions/*.arrow"))) == 0, "partitions are removed once joined"
    assert (next(work.iterdir()) / "answers.arrow").is_file(), "the answers are spilled and read back"
    spilling.close()
    assert not list(work.iterdir()), "a reader stopped early removes its spill folder"
    for settings in (MANY_PARTITIONS, {"join_partition_mb": 0.0001, "join_chunk_rows": 1},
                     {"join_partition_mb": 0.002, "join_chunk_rows": 100}, {"join_chunk_rows": 10_000}):
        source = CMedQA2Source(str(questions), str(answers), answers=mode, **settings)
        assert _table(source, 29, work).equals(expected), settings
        assert (source.stats, source.rows_held) == (whole.stats, whole.rows_held)
        assert not list(work.iterdir()), "the join's spill folder is removed"


@pytest.mark.parametrize("settings", [{}, {"limit": 101}, {"profile": "minimal"}, {"batch_size": 37}],
                         ids=["full", "limit", "minimal", "small-batches"])
@pytest.mark.parametrize("mode", ["all", "first"])
def test_the_out_of_core_join_writes_what_the_per_record_definition_writes(tmp_path, monkeypatch, mode, settings):
    from medq.prepare import columnar

    monkeypatch.setattr(columnar, "SPILL_ROWS", 61)
    questions, answers = with_loose_ends(tmp_path)
    card = run_against_reference(
        tmp_path, lambda: CMedQA2Source(str(questions), str(answers), answers=mode, **MANY_PARTITIONS), seed=5, **settings)
    assert card["records_out"] > 0
    if "limit" not in settings:
        assert "unknown_question_id" in card["rejected"] and card["source"]["stats"]["questions_without_answers"] >= 2
    leftovers = [p for p in (tmp_path / "engine").rglob("*") if p.name.startswith(".")]
    assert not leftovers, "the stage's work folder (and the join's in it) is removed"


def test_a_repeated_question_id_makes_the_careful_reader_read_it(tmp_path):
    questions, answers = with_loose_ends(tmp_path, repeat_a_question=True)
    with pytest.raises(Untrusted):
        list(CMedQA2Source(str(questions), str(answers), **MANY_PARTITIONS).batches(50))
    card = run_against_reference(tmp_path, lambda: CMedQA2Source(str(questions), str(answers), **MANY_PARTITIONS), seed=5)
    assert card["rejected"]["duplicate_question_id"] == 1


def test_partitions_depend_on_the_id_alone(tmp_path):
    ids = pa.array(["1", "2", "", "q-7", "0001", "头痛", "1", None, "2"] * 50)
    parts = partition_of(ids, 13)
    assert parts.min() >= 0 and parts.max() < 13 and len(set(parts.tolist())) > 3
    # the same string, the same partition, whatever its place in which (sliced) array
    for start in (0, 1, 5, 17):
        assert partition_of(ids.slice(start, 40), 13).tolist() == parts[start:start + 40].tolist()
    by_id = {}
    for value, part in zip(ids.to_pylist(), parts.tolist()):
        assert by_id.setdefault(value, part) == part
    numbers = partition_of(pa.array([str(i) for i in range(100_000)]), 64)
    counts = np.bincount(numbers, minlength=64)
    assert counts.min() > 0.8 * counts.mean() and counts.max() < 1.2 * counts.mean(), "ids spread evenly"
    assert not partition_of(ids, 1).any()


@pytest.mark.parametrize("key, value", [("join_partition_mb", 0), ("join_partition_mb", -1), ("join_chunk_rows", 0)])
def test_join_settings_must_be_positive(tmp_path, key, value):
    questions, answers = messy_cmedqa2(tmp_path, n_questions=20)
    with pytest.raises(ConfigError, match=f"prepare.source.{key} must be"):
        CMedQA2Source(str(questions), str(answers), **{key: value})


def test_partition_files_come_back_in_order_and_are_removed_once_read(tmp_path):
    from medq.prepare.join import ANSWER_IDS, PartitionFiles

    files = PartitionFiles(tmp_path / "p", 3, ANSWER_IDS)
    rows = np.arange(100, dtype=np.int64)
    ids = pa.array([str(i % 7) for i in rows])
    for start in range(0, 100, 9):
        part = rows[start:start + 9] % 3
        files.scatter(part, [pa.array(rows[start:start + 9]), ids.slice(start, 9)])
    files.close()
    pieces = list(files.pieces(1, 10))
    assert len(pieces) > 1 and all(p.num_rows >= 10 for p in pieces[:-1]) and all(p.num_rows for p in pieces)
    assert pa.concat_tables(pieces)["row"].to_pylist() == [r for r in range(100) if r % 3 == 1]
    whole = files.read(2)
    assert whole["row"].to_pylist() == [r for r in range(100) if r % 3 == 2]
    assert whole["qid"].to_pylist() == [str(r % 7) for r in range(100) if r % 3 == 2]
    assert files.read(0).num_rows == 34 and files.read(0).num_rows == 0, "a file read is gone"
    assert not list((tmp_path / "p").iterdir())
