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

import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from medq.prepare.sources import CMedQA2Source, CsvTable


@dataclass
class JoinedAnswers:
    """Every answer row in file order, joined with its question (null when the id is unknown)."""

    answer_ids: pa.ChunkedArray
    question_ids: pa.ChunkedArray
    prompts: pa.ChunkedArray
    responses: pa.ChunkedArray
    lines: np.ndarray            # last line of each row in answers.csv, as the streaming reader reports it
    question_rows: pa.ChunkedArray  # row of each answer's question in questions.csv (null when unknown)
    question_table_ids: pa.ChunkedArray  # question ids of questions.csv, trimmed
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


def _read(table: CsvTable) -> tuple[pa.Table, np.ndarray] | None:
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
        return data, np.arange(2, data.num_rows + 2)
    # each row is one line plus its embedded newlines; like csv.reader's line_num, a row is named by its last line
    spans = np.ones(data.num_rows, dtype=np.int64)
    for name in header:
        spans += _newlines_in(data[name], has_cr).to_numpy(zero_copy_only=False)
    if 1 + int(spans.sum()) != lines:
        return None  # blank lines (skipped by both readers, counted only by one) would shift line numbers
    return data, spans.cumsum() + 1


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
    return JoinedAnswers(pc.utf8_trim_whitespace(a_table["ans_id"]), a_ids, prompts, a_table["content"], lines,
                         lookup, q_ids, source.answers.path.name, source.questions.path.name, stats)


def source_supports_columnar(source: Any) -> bool:
    return type(source) is CMedQA2Source and source.mode == "all"


# what Python's str.strip() removes (str.isspace()), spelled out for RE2: a text of only these is empty
_BLANK = r"^[\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*$"


def _json_bodies(values: list[str]) -> list[bytes]:
    """Each string JSON-escaped by orjson, without its quotes, from one call. Inside an escaped string every `"`
    follows a backslash, so `","` occurs only between elements."""
    import orjson

    return orjson.dumps(values)[2:-2].split(b'","') if values else []


def _blake2b_digests(column: pa.ChunkedArray | pa.Array) -> bytes:
    """blake2b (8-byte digest) of each value's UTF-8 bytes, concatenated: hashlib reads the values straight out of
    the Arrow buffers (no str objects, no encode)."""
    blake2b = hashlib.blake2b
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    digests: list[bytes] = []
    for chunk in chunks:
        if not len(chunk):
            continue
        _, offsets, values = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[chunk.offset:chunk.offset + len(chunk) + 1].tolist()
        data = memoryview(values if values is not None else b"")
        digests += [blake2b(data[start:end], digest_size=8).digest() for start, end in zip(bounds, bounds[1:])]
    return b"".join(digests)


def example_ids(prompts: pa.ChunkedArray, responses: pa.ChunkedArray) -> pa.Array:
    """The example id of each (prompt, response), as `RecordProcessor` computes it (blake2b of `prompt\0response`,
    16 hex digits), as a binary array."""
    joined = pc.binary_join_element_wise(prompts, responses, "\0")
    hexed = binascii.hexlify(_blake2b_digests(joined))
    count = len(hexed) // 16
    offsets = pa.py_buffer(np.arange(0, 16 * count + 1, 16, dtype=np.int32))
    return pa.Array.from_buffers(pa.binary(), count, [None, offsets, pa.py_buffer(hexed)])


def question_splits(question_ids: pa.ChunkedArray, seed: int, ratios: Any) -> np.ndarray:
    """`records.split_of(f"q{id}", seed, ratios)` for every question id at once, as indices into SPLIT_NAMES."""
    keys = pc.binary_join_element_wise(pa.scalar(f"{seed}:q"), question_ids, "")
    u = np.frombuffer(_blake2b_digests(keys), dtype="<u8").astype(np.float64) / 2**64  # as int / 2**64 rounds
    return np.where(u < ratios.train, 0, np.where(u < ratios.train + ratios.validation, 1, 2))


SPLIT_NAMES = ("train", "validation", "test")


def _json_body_column(column: pa.ChunkedArray) -> pa.Array:
    """The column JSON-escaped as orjson escapes strings (only `"`, `\\` and U+0000-U+001F change; other text,
    Unicode included, is its own UTF-8), as binary without quotes; only rows that need escaping go through Python."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    needs = pc.match_substring_regex(column, r'[\x00-\x1f"\\]')
    raw = column.cast(pa.binary())
    if not pc.any(needs).as_py():
        return raw
    escaped = _json_bodies(pc.filter(column, needs).to_pylist())
    return pc.replace_with_mask(raw, needs, pa.array(escaped, pa.binary()))


def write_minimal(joined: JoinedAnswers, system_prompt: str, seed: int, ratios: Any, write_block: Any,
                  reject: Any) -> int:
    """The minimal job over joined rows, column by column; writes what the streaming path writes, byte for byte.

    Each ChatML line is the bytes orjson writes for the record dict, assembled by pyarrow from orjson-escaped
    columns; Python still computes the example id (blake2b) per record and the split once per question.
    """
    import orjson

    n = len(joined.responses)
    unknown = pc.is_null(joined.prompts).to_numpy(zero_copy_only=False)
    # unknown rows give null here; filling the boolean result is cheap (filling the string column copied it all)
    blank_prompt = pc.fill_null(pc.match_substring_regex(joined.prompts, _BLANK), False).to_numpy(
        zero_copy_only=False)
    blank_response = pc.match_substring_regex(joined.responses, _BLANK).to_numpy(zero_copy_only=False)
    bad = unknown | blank_prompt | blank_response
    for row in np.flatnonzero(bad).tolist():  # few rows: the same rejects, in file order, as the streaming path
        where = f"{joined.answers_file}:{joined.lines[row]}"
        qid, prompt, response = (joined.question_ids[row].as_py(), joined.prompts[row].as_py(),
                                 joined.responses[row].as_py())
        if unknown[row]:
            reject("unknown_question_id", where, f"question_id {qid!r} is not in {joined.questions_file}", "", response)
        elif blank_prompt[row]:
            reject("empty_prompt", where, "", prompt, response)
        else:
            reject("empty_response", where, "", prompt, response)
    kept_rows = np.flatnonzero(~bad)
    if not len(kept_rows):
        return n
    # rows grouped by split, in file order within each: one `take` of the inputs (the rejected rows left out at
    # the same time) makes every split a contiguous slice of the assembled lines, written without a copy
    splits = question_splits(joined.question_table_ids, seed, ratios)[
        pc.fill_null(joined.question_rows, 0).to_numpy(zero_copy_only=False)[kept_rows]]
    order = np.argsort(splits, kind="stable")
    counts = np.bincount(splits, minlength=len(SPLIT_NAMES))
    rows = None if len(kept_rows) == n and counts.max() == n else pa.array(kept_rows[order])
    pick = (lambda column: column) if rows is None else (lambda column: pc.take(column, rows))
    prompts, responses = pick(joined.prompts), pick(joined.responses)
    lines = pa.array(joined.lines if rows is None else joined.lines[kept_rows[order]]).cast(pa.string())
    ids = example_ids(prompts, responses)
    system = (orjson.dumps({"role": "system", "content": system_prompt}) + b",") if system_prompt else b""
    pieces = [b'{"id":"', ids, b'","messages":[' + system + b'{"role":"user","content":"',
              _json_body_column(prompts), b'"},{"role":"assistant","content":"', _json_body_column(responses),
              b'"}],"metadata":{"question_id":"', _json_body_column(pick(joined.question_ids)),
              b'","answer_id":"', _json_body_column(pick(joined.answer_ids)),
              b'","source":"' + orjson.dumps(joined.answers_file)[1:-1] + b":",
              lines.cast(pa.binary()), b'"}}\n']
    records = pc.binary_join_element_wise(*[pa.scalar(x, pa.binary()) if isinstance(x, bytes) else x
                                            for x in pieces], pa.scalar(b"", pa.binary()))
    start = 0
    for index, count in enumerate(counts.tolist()):
        if count:
            write_block(SPLIT_NAMES[index], records.slice(start, count), count)
        start += count
    return n
