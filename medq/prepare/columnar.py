"""cMedQA2 (every answer) as one columnar pass: pyarrow reads and joins, and both profiles work column by column.

The streaming reader spends most of its time per row in Python (csv rows to dicts, Example objects, a generator
per file, per-record cleaning, hashing and serialising). Here pyarrow's CSV reader and hash join do the reading,
RE2 scans pick the few rows that cleaning or PII scrubbing may change, near duplicates are decided for all rows
at once, and the output lines are assembled by pyarrow from escaped columns (`write_minimal`, `write_full`). The
result is the same records, rejects and bytes as the streaming path (tests compare them); whenever the files are
not plain enough to promise that (a row with the wrong number of fields, a blank line that would shift line
numbers, an id that appears twice in questions.csv), `read_cmedqa2` returns None and the stage uses the
streaming reader, which names the file and line of the problem.
"""

from __future__ import annotations

import binascii
import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from medq.prepare.cleaning import ISSPACE_RE2, MAY_MATCH_PII_RE2, TextCleaner, scrub_pii
from medq.prepare.dedup import ContaminationChecker, MinHasher, near_duplicates_at_once
from medq.prepare.records import ANSWER_JSON, ASK_JSON
from medq.prepare.sources import CMedQA2Source, CsvTable


@dataclass
class JoinedAnswers:
    """Every answer row in file order, joined with its question (null when the id is unknown)."""

    answer_ids: pa.ChunkedArray
    question_ids: pa.ChunkedArray
    responses: pa.Array
    lines: np.ndarray            # last line of each row in answers.csv, as the streaming reader reports it
    question_rows: pa.ChunkedArray  # row of each answer's question in questions.csv (null when unknown)
    question_table_ids: pa.ChunkedArray  # question ids of questions.csv, trimmed
    question_texts: pa.Array             # the content column of questions.csv
    answers_file: str
    questions_file: str
    stats: dict[str, int]


def _physical_lines(path: Path, chunk: int = 8 << 20) -> tuple[int, bool]:
    """Lines as Python's universal-newline reading counts them (\\n, \\r\\n and a lone \\r each end one),
    and whether any \\r occurs at all; the file is read a chunk at a time."""
    lf = cr = crlf = 0
    last = b""
    with open(path, "rb") as handle:
        while data := handle.read(chunk):
            lf, returns = lf + data.count(b"\n"), data.count(b"\r")
            cr, crlf = cr + returns, crlf + (data.count(b"\r\n") if returns else 0)
            crlf += last == b"\r" and data[:1] == b"\n"  # a \r\n split between two chunks
            last = data[-1:]
    return lf + cr - crlf + (0 if last in (b"\n", b"\r") else 1), bool(cr)


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
    lines, has_cr = _physical_lines(table.path)
    if lines == 1 + data.num_rows:  # no newline inside any value, no blank line: row i is on line i + 2
        return data, np.arange(2, data.num_rows + 2)
    # each row is one line plus its embedded newlines; like csv.reader's line_num, a row is named by its last line
    spans = np.ones(data.num_rows, dtype=np.int64)
    for name in header:
        spans += _newlines_in(data[name], has_cr).to_numpy(zero_copy_only=False)
    if 1 + int(spans.sum()) != lines:
        return None  # blank lines (skipped by both readers, counted only by one) would shift line numbers
    return data, spans.cumsum() + 1


COLUMNAR_MAX_BYTES = 1 << 30  # larger files stream: memory stays bounded, and Arrow's string offsets stay 32-bit


def read_cmedqa2(source: CMedQA2Source) -> JoinedAnswers | None:
    if any(table.path.stat().st_size > COLUMNAR_MAX_BYTES for table in (source.questions, source.answers)):
        return None
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
    answered = pc.count_distinct(pc.filter(a_ids, pc.is_valid(lookup))).as_py()
    stats = {"questions": len(q_ids), "questions_without_answers": len(q_ids) - answered, "duplicate_question_ids": 0}
    pa.default_memory_pool().release_unused()  # the CSV reader's parse buffers, freed but still held
    # the texts as one array each (the full pass rewrites them whole); the table's chunks are let go
    return JoinedAnswers(pc.utf8_trim_whitespace(a_table["ans_id"]), a_ids, a_table["content"].combine_chunks(),
                         lines, lookup, q_ids, q_table["content"].combine_chunks(), source.answers.path.name,
                         source.questions.path.name, stats)


def source_supports_columnar(source: Any) -> bool:
    return type(source) is CMedQA2Source and source.mode == "all"


# what Python's str.strip() removes (str.isspace()), spelled out for RE2: a text of only these is empty
_BLANK = f"^{ISSPACE_RE2}*$"


def _json_bodies(values: list[str]) -> list[bytes]:
    """Each string JSON-escaped by orjson, without its quotes, from one call. Inside an escaped string every `"`
    follows a backslash, so `","` occurs only between elements."""
    import orjson

    return orjson.dumps(values)[2:-2].split(b'","') if values else []


def _blake2b_digests(column: pa.ChunkedArray | pa.Array) -> bytes:
    """blake2b (8-byte digest) of each value's UTF-8 bytes, concatenated: hashlib reads the values straight out of
    the Arrow buffers (no str objects, no encode). Each hash is a copy of one empty 8-byte hasher: copying is
    cheaper than parsing the constructor's arguments again, and gives the same digests."""
    empty = hashlib.blake2b(digest_size=8)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    digests: list[bytes] = []
    for chunk in chunks:
        if not len(chunk):
            continue
        _, offsets, values = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[chunk.offset:chunk.offset + len(chunk) + 1].tolist()
        data = memoryview(values if values is not None else b"")
        for start, end in zip(bounds, bounds[1:]):
            hasher = empty.copy()
            hasher.update(data[start:end])
            digests.append(hasher.digest())
    return b"".join(digests)


def _hex_ids(digests: bytes) -> pa.Array:
    """8-byte digests, concatenated, as a binary array of 16 hex digits each."""
    hexed = binascii.hexlify(digests)
    count = len(hexed) // 16
    offsets = pa.py_buffer(np.arange(0, 16 * count + 1, 16, dtype=np.int32))
    return pa.Array.from_buffers(pa.binary(), count, [None, offsets, pa.py_buffer(hexed)])


def _join(*pieces: Any) -> pa.Array:
    """Binary arrays and constant bytes, concatenated row by row."""
    return pc.binary_join_element_wise(*[pa.scalar(x, pa.binary()) if isinstance(x, bytes) else x for x in pieces],
                                       pa.scalar(b"", pa.binary()))


def _system_json(system_prompt: str) -> bytes:
    import orjson

    return (orjson.dumps({"role": "system", "content": system_prompt}) + b",") if system_prompt else b""


def chatml_lines(ids: pa.Array, prompts: pa.Array, responses: pa.Array, question_ids: pa.Array,
                 answer_ids: pa.Array, source: bytes, lines: pa.Array, system: bytes) -> pa.Array:
    """The record line of each row, as orjson writes the record dict (`RecordProcessor._render_pieces`), from
    JSON-escaped columns (`_EscapedColumn`), the line numbers, the escaped `file:` prefix of the source and the
    system message (`_system_json`)."""
    return _join(b'{"id":"', ids, b'","messages":[' + system + b'{"role":"user","content":"',
                 prompts, b'"},{"role":"assistant","content":"', responses, b'"}],"metadata":{"question_id":"',
                 question_ids, b'","answer_id":"', answer_ids, b'","source":"' + source, lines, b'"}}\n')


def question_splits(question_ids: pa.ChunkedArray, seed: int, ratios: Any) -> np.ndarray:
    """`records.split_of(f"q{id}", seed, ratios)` for every question id at once, as indices into SPLIT_NAMES."""
    keys = pc.binary_join_element_wise(pa.scalar(f"{seed}:q"), question_ids, "")
    u = np.frombuffer(_blake2b_digests(keys), dtype="<u8").astype(np.float64) / 2**64  # as int / 2**64 rounds
    return np.where(u < ratios.train, 0, np.where(u < ratios.train + ratios.validation, 1, 2))


SPLIT_NAMES = ("train", "validation", "test")


class _EscapedColumn:
    """A string column JSON-escaped as orjson escapes strings (only `"`, `\\` and U+0000-U+001F change; other
    text, Unicode included, is its own UTF-8), as binary without quotes, taken a block of rows at a time: the rows
    that need escaping are escaped once by orjson, and each block is the raw values with those replaced (no
    escaped copy of the whole column is held)."""

    def __init__(self, column: pa.Array):
        self.raw = column.cast(pa.binary())
        self.needs = pc.match_substring_regex(column, _NEEDS_ESCAPING).to_numpy(zero_copy_only=False)
        self.escaped = pa.array(_json_bodies(column.filter(pa.array(self.needs)).to_pylist()), pa.binary())
        self.position = np.cumsum(self.needs) - 1

    def take(self, rows: np.ndarray) -> pa.Array:
        values, needs = self.raw.take(pa.array(rows)), self.needs[rows]
        if not needs.any():
            return values
        return pc.replace_with_mask(values, pa.array(needs), self.escaped.take(pa.array(self.position[rows[needs]])))


_NEEDS_ESCAPING = r'[\x00-\x1f"\\]'


def write_minimal(joined: JoinedAnswers, rules: Any, pairs: Any, write_block: Callable, reject: Callable) -> int:
    """`prepare.profile=minimal` over joined rows: rows without a known question, or with a blank question or
    answer (as `str.strip()` sees blanks), are rejected; the rest are written as read, as the streaming path
    writes them, byte for byte. `rules` is a `records.RecordRules`, `pairs` the stage's (disabled) builder."""
    n = len(joined.responses)
    known = pc.is_valid(joined.question_rows).to_numpy(zero_copy_only=False)
    qrow = pc.fill_null(joined.question_rows, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    blank_prompt = pc.match_substring_regex(joined.question_texts, _BLANK).to_numpy(zero_copy_only=False)[qrow] & known
    blank_response = pc.match_substring_regex(joined.responses, _BLANK).to_numpy(zero_copy_only=False)
    bad = ~known | blank_prompt | blank_response
    for row in np.flatnonzero(bad).tolist():  # few rows: the same rejects, in file order, as the streaming path
        where = f"{joined.answers_file}:{joined.lines[row]}"
        response = joined.responses[row].as_py()
        if not known[row]:
            qid = joined.question_ids[row].as_py()
            reject("unknown_question_id", where, f"question_id {qid!r} is not in {joined.questions_file}", "", response)
        else:
            prompt = joined.question_texts[int(qrow[row])].as_py()
            reject("empty_prompt" if blank_prompt[row] else "empty_response", where, "", prompt, response)
    kept = np.flatnonzero(~bad)
    digests = _example_digests(joined.question_texts, joined.responses, qrow, kept)
    _Outputs(joined, rules, pairs, qrow, digests, joined.question_texts, joined.responses, kept).write(
        kept, write_block)
    return n


def _example_digests(questions: pa.Array, responses: pa.Array, qrow: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The example id digests (blake2b of `prompt\\0response`, 8 bytes as little-endian uint64) of `rows`, in a
    row-indexed array (zero elsewhere)."""
    digests = np.zeros(len(responses), dtype="<u8")
    for block in _in_blocks(rows):
        joined = pc.binary_join_element_wise(questions.take(pa.array(qrow[block])), responses.take(pa.array(block)),
                                             "\0")
        digests[block] = np.frombuffer(_blake2b_digests(joined), dtype="<u8")
    return digests


# -- the full profile ---------------------------------------------------------------------------------------------

_PROBLEMS = ("prompt_too_short", "prompt_too_long", "response_too_short", "response_too_long")
_BLOCK = 4096        # rows per block of assembled output lines: memory stays bounded whatever the input size
_MINHASH_ROWS = 128  # texts per MinHash call: the (num_perm x n-grams) work array stays in cache


def _rewrite(column: pa.Array, flagged: np.ndarray, function: Callable[[str], str]) -> pa.Array:
    """`function` applied to the flagged rows of a string column; the others are left as they are."""
    if not flagged.any():
        return column
    rows = np.flatnonzero(flagged)
    values = [function(text) for text in column.take(pa.array(rows)).to_pylist()]
    return pc.replace_with_mask(column, pa.array(flagged), pa.array(values, pa.string()))


def _clean_column(column: pa.Array, cleaner: TextCleaner, scrub: bool, weights: np.ndarray,
                  pii: Counter) -> pa.Array:
    """`cleaner.clean` and then `scrub_pii` of every value, as the per-record path does them; RE2 scans pick the
    rows either may change, and only those go through Python. A value's PII finds count `weights[row]` times (a
    question is scrubbed once per answer that joins to it)."""
    pattern = cleaner.may_change_pattern()
    flagged = (np.ones(len(column), dtype=bool) if pattern is None
               else pc.match_substring_regex(column, pattern).to_numpy(zero_copy_only=False))
    column = _rewrite(column, flagged, cleaner.clean)
    if scrub:
        flagged = pc.match_substring_regex(column, MAY_MATCH_PII_RE2).to_numpy(zero_copy_only=False)
        rows = iter(np.flatnonzero(flagged).tolist())

        def scrub_counted(text: str) -> str:
            found: Counter = Counter()
            text, weight = scrub_pii(text, found), int(weights[next(rows)])
            pii.update({kind: n * weight for kind, n in found.items() if weight})
            return text

        column = _rewrite(column, flagged, scrub_counted)
    return column


def _in_blocks(rows: np.ndarray, size: int = _BLOCK) -> Iterator[np.ndarray]:
    return (rows[start:start + size] for start in range(0, len(rows), size))


def _signatures(hasher: MinHasher, texts: pa.Array, lengths: np.ndarray) -> np.ndarray:
    """MinHash signatures of a block of texts (UTF-8 in an Arrow array), decoded to code points once per block."""
    parts = []
    if lengths.min() >= hasher.ngram:
        _, offsets, data = texts.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[texts.offset:texts.offset + len(texts) + 1]
        raw = memoryview(data)[bounds[0]:bounds[-1]]
        points = np.frombuffer(str(raw, "utf-8").encode("utf-32-le"), dtype=np.uint32)
        ends = np.cumsum(lengths)
        for start in range(0, len(lengths), _MINHASH_ROWS):
            stop = min(start + _MINHASH_ROWS, len(lengths))
            begin = ends[start - 1] if start else 0
            parts.append(hasher.codepoint_signatures(points[begin:ends[stop - 1]], lengths[start:stop]))
    else:  # texts shorter than an n-gram are padded, as the per-record path pads them
        values = texts.to_pylist()
        parts = [hasher.signatures(values[start:start + _MINHASH_ROWS])
                 for start in range(0, len(values), _MINHASH_ROWS)]
    return np.concatenate(parts)


def write_full(joined: JoinedAnswers, rules: Any, pairs: Any, write_block: Callable, reject: Callable,
               pii: Counter, phase: Callable[[str], None] = lambda name: None) -> int:
    """`prepare.profile=full` over joined cMedQA2 rows, column by column: the records, rejects, corpus, preference
    pairs and PII counts of the streaming path, byte for byte (tests compare them).

    Cleaning and PII scrubbing run in Python only for the rows an RE2 scan says they may change; lengths, exact
    duplicates (same example id), splits and ids are array operations; MinHash reads the code points of a block
    at a time, and near duplicates are decided for all rows at once (`near_duplicates_at_once`) in a second
    thread (NumPy releases the GIL) while this one prepares the output columns, which pyarrow then assembles into
    lines a block of rows at a time. `rules` is a `records.RecordRules`, `pairs` the stage's
    `PreferencePairBuilder` (its pair count is updated); `phase(name)` is told each step as it starts.
    """
    phase("cleaning")
    n = len(joined.responses)
    known = pc.is_valid(joined.question_rows).to_numpy(zero_copy_only=False)
    qrow = pc.fill_null(joined.question_rows, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    cleaner, scrub = TextCleaner(rules.cleaning), rules.cleaning.scrub_pii
    answers_per_question = np.bincount(qrow[known], minlength=len(joined.question_texts))
    questions = _clean_column(joined.question_texts, cleaner, scrub, answers_per_question, pii)
    responses = _clean_column(joined.responses, cleaner, scrub, known.astype(np.int64), pii)
    prompt_chars = pc.utf8_length(questions).to_numpy(zero_copy_only=False).astype(np.int64)[qrow]
    response_chars = pc.utf8_length(responses).to_numpy(zero_copy_only=False).astype(np.int64)
    f = rules.filters
    problem = np.select([prompt_chars < f.prompt_min_chars, prompt_chars > f.prompt_max_chars,
                         response_chars < f.response_min_chars, response_chars > f.response_max_chars],
                        [1, 2, 3, 4], 0) * known

    def texts(rows: np.ndarray, separator: str) -> pa.Array:
        return pc.binary_join_element_wise(questions.take(pa.array(qrow[rows])), responses.take(pa.array(rows)),
                                           separator)

    # example ids (blake2b of prompt\0response) of the rows that reach the duplicate checks
    phase("duplicates")
    eligible = np.flatnonzero(known & (problem == 0))
    digests = _example_digests(questions, responses, qrow, eligible)
    reason = np.where(known, 0, -1)            # 0: kept, -1: unknown id, 1-4: _PROBLEMS, 5 and up below
    reason[problem > 0] = problem[problem > 0]
    if rules.dedup.exact:  # a later record with the id of an earlier one is a duplicate
        first = np.zeros(len(eligible), dtype=bool)
        first[np.unique(digests[eligible], return_index=True)[1]] = True
        reason[eligible[~first]] = 5
    detail: dict[int, str] = {}
    candidates = eligible[reason[eligible] == 0]
    if rules.eval_texts:
        checker = ContaminationChecker(rules.contamination_ngram, rules.eval_texts, rules.contamination_min_chars)
        for rows in _in_blocks(candidates):
            for row, text in zip(rows.tolist(), texts(rows, "\n").to_pylist()):
                name = checker.find(text)
                if name is not None:
                    reason[row], detail[row] = 6, f"shares a {rules.contamination_ngram}-gram with eval set '{name}'"
        candidates = candidates[reason[candidates] == 0]

    def near_duplicates() -> np.ndarray:
        hasher = MinHasher(rules.dedup.num_perm, rules.dedup.ngram)
        lengths = prompt_chars + response_chars + 1
        signatures = np.zeros((len(candidates), rules.dedup.num_perm), dtype=np.uint32)
        for start in range(0, len(candidates), _BLOCK):
            rows = candidates[start:start + _BLOCK]
            signatures[start:start + len(rows)] = _signatures(hasher, texts(rows, "\n"), lengths[rows])
        return near_duplicates_at_once(signatures, rules.dedup)

    with ThreadPoolExecutor(1, thread_name_prefix="prepare-near-dedup") as pool:
        verdicts = pool.submit(near_duplicates) if rules.dedup.near else None
        outputs = _Outputs(joined, rules, pairs, qrow, digests, questions, responses, candidates)
        where = lambda row: f"{joined.answers_file}:{joined.lines[row]}"  # noqa: E731
        if verdicts is not None:
            verdicts = verdicts.result()
            for row, of in zip(candidates[verdicts >= 0].tolist(), candidates[verdicts[verdicts >= 0]].tolist()):
                reason[row], detail[row] = 7, f"near duplicate of {where(of)}"
    phase("writing")
    _write_rejects(joined, reason, detail, questions, responses, qrow, where, reject)
    outputs.write(np.flatnonzero(reason == 0), write_block)
    return n


def _write_rejects(joined: JoinedAnswers, reason: np.ndarray, detail: dict[int, str], questions: pa.Array,
                   responses: pa.Array, qrow: np.ndarray, where: Callable, reject: Callable) -> None:
    """Every rejected row, in file order, with the texts and details the streaming path gives it."""
    rows = np.flatnonzero(reason != 0)
    prompts = questions.take(pa.array(qrow[rows])).to_pylist()
    cleaned = responses.take(pa.array(rows)).to_pylist()
    for row, prompt, response in zip(rows.tolist(), prompts, cleaned):
        code = int(reason[row])
        if code == -1:  # the reader's reject: no prompt, the answer as read
            qid = joined.question_ids[row].as_py()
            reject("unknown_question_id", where(row), f"question_id {qid!r} is not in {joined.questions_file}", "",
                   joined.responses[row].as_py())
        elif code <= 4:
            reject(_PROBLEMS[code - 1], where(row), "", prompt, response)
        elif code == 5:
            reject("duplicate", where(row), "same (prompt, response) as an earlier record", prompt, response)
        else:
            reject("contaminated" if code == 6 else "near_duplicate", where(row), detail[row], prompt, response)


class _Outputs:
    """The splits, the corpus and the generic preference pairs of the kept rows. What does not depend on which
    rows are kept (escaped texts, splits, the generic reply of each candidate) is computed when it is made,
    while near duplicates are still being decided; `write` assembles the lines a block of rows at a time."""

    def __init__(self, joined: JoinedAnswers, rules: Any, pairs: Any, qrow: np.ndarray, digests: np.ndarray,
                 questions: pa.Array, responses: pa.Array, candidates: np.ndarray):
        import orjson

        self.joined, self.rules, self.pairs, self.qrow, self.digests = joined, rules, pairs, qrow, digests
        self.prompts, self.answers = _EscapedColumn(questions), _EscapedColumn(responses)
        self.question_ids = _EscapedColumn(joined.question_ids.combine_chunks())
        self.answer_ids = _EscapedColumn(joined.answer_ids.combine_chunks())
        self.line_numbers = pa.array(joined.lines).cast(pa.string()).cast(pa.binary())
        self.split = question_splits(joined.question_table_ids, rules.seed, rules.split)[qrow]
        self.source = orjson.dumps(joined.answers_file)[1:-1] + b":"
        # the generic reply of each training candidate (`preferences._pick`), and whether it differs from the answer
        self.reply = np.full(len(qrow), -1, dtype=np.int64)
        if pairs.rules.enabled:
            self.replies = pa.array(pairs.rules.generic_replies, pa.string())
            self.escaped_replies = _EscapedColumn(self.replies)
            for rows in _in_blocks(candidates[self.split[candidates] == 0]):
                keys = pc.binary_join_element_wise(pa.scalar(f"{pairs.seed}:".encode(), pa.binary()),
                                                   _hex_ids(digests[rows].tobytes()), b"")
                pick = np.frombuffer(_blake2b_digests(keys), dtype="<u8") % np.uint64(len(self.replies))
                same = pc.equal(responses.take(pa.array(rows)), self.replies.take(pa.array(pick)))
                self.reply[rows] = np.where(same.to_numpy(zero_copy_only=False), -1, pick.astype(np.int64))

    def _columns(self, rows: np.ndarray) -> dict[str, pa.Array]:
        return {"id": _hex_ids(self.digests[rows].tobytes()), "prompt": self.prompts.take(self.qrow[rows]),
                "response": self.answers.take(rows), "question_id": self.question_ids.take(rows),
                "answer_id": self.answer_ids.take(rows), "line": self.line_numbers.take(pa.array(rows))}

    def write(self, kept: np.ndarray, write_block: Callable) -> None:
        rules, split = self.rules, self.split
        system = _system_json(rules.system_prompt)
        for index, name in enumerate(SPLIT_NAMES):
            for rows in _in_blocks(kept[split[kept] == index]):
                c = self._columns(rows)
                write_block(name, chatml_lines(c["id"], c["prompt"], c["response"], c["question_id"],
                                               c["answer_id"], self.source, c["line"], system), len(rows))
        if rules.profile != "full":
            return
        names = pa.array([name.encode() for name in SPLIT_NAMES], pa.binary())
        for rows in _in_blocks(kept):  # the corpus in file order, every split
            c = self._columns(rows)
            content = ([b'"', c["response"], b'"'] if rules.corpus_content == "response" else
                       [ASK_JSON, c["prompt"], ANSWER_JSON, c["response"], b'"'])
            write_block("corpus", _join(
                b'{"id":"doc-', c["id"], b'","content":', *content, b',"metadata":{"question_id":"',
                c["question_id"], b'","answer_id":"', c["answer_id"], b'","source":"' + self.source, c["line"],
                b'","question":"', c["prompt"], b'","split":"', names.take(pa.array(split[rows])),
                b'","example_id":"', c["id"], b'"}}\n'), len(rows))
        pairs = self.pairs
        if not pairs.rules.enabled:
            return
        system = _system_json(pairs.system_prompt)
        rows = kept[(split[kept] == 0) & (self.reply[kept] >= 0)]  # one pair per training record, in file order
        if pairs.rules.max_pairs is not None:
            rows = rows[:max(0, pairs.rules.max_pairs - pairs.generic_pairs)]
        for block in _in_blocks(rows):
            c = self._columns(block)
            write_block("preference_pairs", _join(
                b'{"id":"pair-', c["id"], b'","kind":"generic","prompt":[' + system + b'{"role":"user","content":"',
                c["prompt"], b'"}],"chosen":[{"role":"assistant","content":"', c["response"],
                b'"}],"rejected":[{"role":"assistant","content":"', self.escaped_replies.take(
                    self.reply[block]), b'"}]}\n'), len(block))
            pairs.generic_pairs += len(block)
