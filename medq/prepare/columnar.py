"""`prepare.profile=minimal` on cMedQA2 as one columnar pass: pyarrow reads and joins, Python only serialises.

The streaming reader spends most of its time per row in Python (csv rows to dicts, Example objects, a generator
per file). For the minimal job (join, drop empties, ChatML) pyarrow's CSV reader and hash join do that part in
C; what stays per record is the example id, the split and one `orjson.dumps`. The result is the same records,
rejects and bytes as the streaming path (tests compare them); whenever the files are not plain enough to
promise that (a row with the wrong number of fields, a blank line that would shift line numbers, an id that
appears twice in questions.csv), `read_cmedqa2` returns None and the stage uses the streaming reader, which
names the file and line of the problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from medq.prepare.sources import CMedQA2Source, CsvTable


@dataclass
class JoinedAnswers:
    """Every answer row in file order, joined with its question (None when the id is unknown)."""

    answer_ids: list[str]
    question_ids: list[str]
    prompts: list[str | None]
    responses: list[str]
    lines: list[int]             # last line of each row in answers.csv, as the streaming reader reports it
    answers_file: str
    questions_file: str
    stats: dict[str, int]


def _physical_lines(data: bytes) -> tuple[int, bool]:
    """Lines as Python's universal-newline reading counts them (\\n, \\r\\n and a lone \\r each end one),
    and whether any \\r occurs at all."""
    lf, cr = data.count(b"\n"), data.count(b"\r")
    lone_cr = cr - data.count(b"\r\n") if cr else 0
    return lf + lone_cr + (0 if data.endswith((b"\n", b"\r")) else 1), bool(cr)


def _newlines_in(column: pa.ChunkedArray, has_cr: bool) -> pa.Array:
    lf = pc.count_substring(column, "\n")
    if not has_cr:
        return lf
    lone_cr = pc.subtract(pc.count_substring(column, "\r"), pc.count_substring(column, "\r\n"))
    return pc.add(lf, lone_cr)


def _read(table: CsvTable) -> tuple[pa.Table, list[int]] | None:
    """The table as strings and the line each row ends on; None when line numbers could not be trusted."""
    try:
        data = pa_csv.read_csv(
            table.path,
            read_options=pa_csv.ReadOptions(encoding=table.encoding.replace("utf-8-sig", "utf-8")),
            parse_options=pa_csv.ParseOptions(delimiter=table.delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types={}, strings_can_be_null=False,
                                                  quoted_strings_can_be_null=False, auto_dict_encode=False))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None  # wrong field counts and the like: the streaming reader reports them by line
    header = [name.strip() for name in data.column_names]
    if any("\n" in name or "\r" in name for name in header) or data.num_rows == 0:
        return None
    data = data.rename_columns(header)
    if any(c not in header for c in table.required):
        return None
    data = data.cast(pa.schema([pa.field(name, pa.string()) for name in header]))
    lines, has_cr = _physical_lines(table.path.read_bytes())
    if lines == 1 + data.num_rows:  # no newline inside any value, no blank line: row i is on line i + 2
        return data, list(range(2, data.num_rows + 2))
    # each row is one line plus its embedded newlines; like csv.reader's line_num, a row is named by its last line
    spans = np.ones(data.num_rows, dtype=np.int64)
    for name in header:
        spans += _newlines_in(data[name], has_cr).to_numpy(zero_copy_only=False)
    if 1 + int(spans.sum()) != lines:
        return None  # blank lines (skipped by both readers, counted only by one) would shift line numbers
    return data, (spans.cumsum() + 1).tolist()


def read_cmedqa2(source: CMedQA2Source) -> JoinedAnswers | None:
    questions = _read(source.questions)
    answers = _read(source.answers)
    if questions is None or answers is None:
        return None
    q_table, _ = questions
    a_table, lines = answers
    q_ids = pc.utf8_trim_whitespace(q_table["question_id"])
    if pc.count_distinct(q_ids).as_py() != len(q_ids):
        return None  # the streaming reader decides what a repeated question id means
    a_ids = pc.utf8_trim_whitespace(a_table["question_id"])
    lookup = pc.index_in(a_ids, value_set=q_ids.combine_chunks())
    prompts = pc.take(q_table["content"], lookup)  # null where the id is unknown
    answered = pc.count_distinct(pc.filter(a_ids, pc.is_valid(lookup))).as_py()
    stats = {"questions": len(q_ids), "questions_without_answers": len(q_ids) - answered, "duplicate_question_ids": 0}
    return JoinedAnswers(pc.utf8_trim_whitespace(a_table["ans_id"]).to_pylist(), a_ids.to_pylist(),
                         prompts.to_pylist(), a_table["content"].to_pylist(), lines, source.answers.path.name,
                         source.questions.path.name, stats)


def source_supports_columnar(source: Any) -> bool:
    return type(source) is CMedQA2Source and source.mode == "all"


def write_minimal(joined: JoinedAnswers, system_prompt: str, seed: int, ratios: Any, write_line: Any,
                  reject: Any) -> int:
    """The minimal job's per-record loop over joined rows; writes what the streaming path writes, byte for byte."""
    import orjson

    from medq.prepare.records import split_of

    dumps, newline, blake2b = orjson.dumps, orjson.OPT_APPEND_NEWLINE, hashlib.blake2b
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    split_of_question: dict[str, str] = {}
    for answer_id, qid, prompt, response, line in zip(joined.answer_ids, joined.question_ids, joined.prompts,
                                                      joined.responses, joined.lines):
        where = f"{joined.answers_file}:{line}"
        if prompt is None:
            reject("unknown_question_id", where, f"question_id {qid!r} is not in {joined.questions_file}", "", response)
            continue
        if not prompt.strip():
            reject("empty_prompt", where, "", prompt, response)
            continue
        if not response.strip():
            reject("empty_response", where, "", prompt, response)
            continue
        split = split_of_question.get(qid)
        if split is None:
            split = split_of_question[qid] = split_of(f"q{qid}", seed, ratios)
        messages = [*system, {"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
        example_id = blake2b(f"{prompt}\0{response}".encode(), digest_size=8).hexdigest()  # as records.py
        write_line(split, dumps({"id": example_id, "messages": messages,
                                 "metadata": {"question_id": qid, "answer_id": answer_id, "source": where}},
                                option=newline))
    return len(joined.answer_ids)
