"""What every source yields: Arrow record batches of items, one row per record read (an example or a reject).

A source's `batches(batch_rows, on_bad_record, careful)` yields `pa.RecordBatch`es with the columns of
`ITEM_FIELDS` plus one `meta:KEY` column per metadata key (`string`: the value as text, written as a JSON string;
`binary`: the value already serialised as JSON). Rows come in the order of the files, so a reject names the file
and line it was read from, and `new_row` marks the first item of each data row the files hold (a JSONL line with
three paraphrases is one row, three items). The batch pipeline (`columnar.py`) takes nothing else from a source.

Readers have two ways to make the batches. The fast one is pyarrow's CSV or JSON reader; it gives up with
`Untrusted` when it cannot promise what the careful one would say (a row with the wrong number of fields, a blank
line that would shift line numbers, a value of another JSON type). The careful one reads row by row in Python, as
the readers always have, and names the file and line of every problem; `items_to_batches` turns its
`Example`/`Rejected` items into the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

ITEM_FIELDS = (
    pa.field("reason", pa.string()),    # null: an example; else the reader's reject reason
    pa.field("detail", pa.string()),    # the reject's detail (null for examples)
    pa.field("prompt", pa.string()),    # as read ("" when there is none)
    pa.field("response", pa.string()),
    pa.field("group", pa.string()),     # examples of one group land in one split (null for rejects)
    pa.field("file", pa.string()),      # file name, for "file:line"
    pa.field("line", pa.int64()),       # the line the row ends on
    pa.field("new_row", pa.bool_()),    # the first item of a data row of the files
)
META_PREFIX = "meta:"


class Untrusted(Exception):
    """The fast reader cannot vouch for the careful reader's rows, line numbers or rejects: read carefully."""


def item_schema(meta_keys: Iterable[str], meta_json: bool) -> pa.Schema:
    kind = pa.binary() if meta_json else pa.string()
    return pa.schema(list(ITEM_FIELDS) + [pa.field(META_PREFIX + key, kind) for key in meta_keys])


def meta_keys(schema: pa.Schema) -> list[tuple[str, bool]]:
    """(key, already JSON) of each metadata column, in order."""
    return [(name[len(META_PREFIX):], schema.field(name).type == pa.binary())
            for name in schema.names if name.startswith(META_PREFIX)]


class ItemBuilder:
    """Gathers items in Python (the careful readers) and hands them out as record batches of `batch_rows`."""

    def __init__(self, meta: Iterable[str], meta_json: bool, batch_rows: int):
        self.keys = list(dict.fromkeys(meta))
        self.meta_json = meta_json
        self.schema = item_schema(self.keys, meta_json)
        self.batch_rows = batch_rows
        self._columns: list[list[Any]] = [[] for _ in self.schema.names]
        self._last_where: str | None = None

    def add(self, item: Any) -> pa.RecordBatch | None:
        """An `Example` or `Rejected`; returns a batch when `batch_rows` items are gathered."""
        file, _, line = item.where.rpartition(":")
        new_row, self._last_where = item.where != self._last_where, item.where
        columns = self._columns
        metadata = getattr(item, "metadata", None)
        if metadata is None:  # a reject
            values = [item.reason, item.detail, item.prompt, item.response, None, file, int(line), new_row]
            values += [None] * len(self.keys)
        else:
            values = [None, None, item.prompt, item.response, item.group, file, int(line), new_row]
            if self.meta_json:
                values += [orjson.dumps(metadata.get(key)) for key in self.keys]
            else:
                values += [metadata.get(key) for key in self.keys]
        for column, value in zip(columns, values):
            column.append(value)
        return self.flush() if len(columns[0]) >= self.batch_rows else None

    def flush(self) -> pa.RecordBatch | None:
        if not self._columns[0]:
            return None
        batch = pa.RecordBatch.from_arrays([pa.array(c, f.type) for c, f in zip(self._columns, self.schema)],
                                           schema=self.schema)
        self._columns = [[] for _ in self.schema.names]
        return batch


def items_to_batches(items: Iterable[Any], meta: Iterable[str], meta_json: bool,
                     batch_rows: int) -> Iterator[pa.RecordBatch]:
    builder = ItemBuilder(meta, meta_json, batch_rows)
    for item in items:
        batch = builder.add(item)
        if batch is not None:
            yield batch
    batch = builder.flush()
    if batch is not None:
        yield batch


def item_batch(schema: pa.Schema, n: int, **columns: Any) -> pa.RecordBatch:
    """A batch of `n` items from the given columns; a column not given is all null (`new_row`: all true)."""
    arrays = []
    for f in schema:
        value = columns.get(f.name)
        if value is None:
            value = pa.array(np.ones(n, dtype=bool)) if f.name == "new_row" else pa.nulls(n, f.type)
        elif isinstance(value, (str, int)):
            value = pa.array([value] * n, f.type) if n else pa.array([], f.type)
        elif isinstance(value, np.ndarray):
            value = pa.array(value, f.type)
        elif isinstance(value, pa.ChunkedArray):
            value = value.combine_chunks()
        if value.type != f.type:
            value = value.cast(f.type)
        arrays.append(value)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# -- line accounting -----------------------------------------------------------------------------------------------

def physical_lines(path: Path, chunk: int = 8 << 20) -> tuple[int, bool]:
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


@dataclass(frozen=True)
class Split:
    """A byte range of a file that starts and ends at a row boundary, for a reader of its own (the Ray engine's):
    `first_line` lines come before `start`, `last_line` lines before `end` (as `physical_lines` counts them)."""

    index: int
    start: int
    end: int
    first_line: int
    last_line: int


def line_splits(path: Path, size: int, csv_quotes: bool = False, chunk: int = 8 << 20,
                ) -> tuple[list[Split], int, bool]:
    """The file cut into byte ranges of about `size` bytes, each ending just after a \\n (for a CSV file, a \\n
    outside quotes: an even number of `"` before it, which every RFC 4180 file has at a row's end; a reader of a
    range that was cut inside a quoted value sees the cut as an open quote and counts a line too many, so it
    cannot go unnoticed), and the file's lines and whether any \\r occurs (`physical_lines`), in one pass."""
    lf = cr = crlf = quotes = 0
    last = b""
    position, target, cuts = 0, size, [(0, 0)]
    with open(path, "rb") as handle:
        while data := handle.read(chunk):
            crlf += last == b"\r" and data[:1] == b"\n"  # a \r\n split between two chunks
            at = max(0, target - position)
            while at < len(data) and (cut := data.find(b"\n", at)) >= 0:
                if csv_quotes and (quotes + data.count(b'"', 0, cut)) % 2:
                    at = cut + 1  # inside a quoted value
                    continue
                head = data[:cut + 1]
                returns = head.count(b"\r")
                lines = lf + head.count(b"\n") + cr + returns - crlf - (head.count(b"\r\n") if returns else 0)
                cuts.append((position + cut + 1, lines))
                target = position + cut + 1 + size
                at = max(cut + 1, target - position)
            lf, returns = lf + data.count(b"\n"), data.count(b"\r")
            cr, crlf = cr + returns, crlf + (data.count(b"\r\n") if returns else 0)
            quotes += data.count(b'"') if csv_quotes else 0
            last = data[-1:]
            position += len(data)
    total = lf + cr - crlf + (0 if last in (b"\n", b"\r") else 1)
    if cuts[-1][0] == position and len(cuts) > 1:
        cuts.pop()  # the file ends with the last cut
    bounds = cuts + [(position, total)]
    return ([Split(i, start, end, first, last_line)
             for i, ((start, first), (end, last_line)) in enumerate(zip(bounds, bounds[1:]))], total, bool(cr))


def _utf8_parts(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets from 0, the bytes they index) of a string or binary column, or None for other layouts."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.type not in (pa.string(), pa.binary()):
        return None
    _, offsets, data = column.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[column.offset:column.offset + len(column) + 1].astype(np.int64)
    values = np.frombuffer(data, dtype=np.uint8) if data is not None and len(data) else np.zeros(0, np.uint8)
    return bounds - bounds[0], values[bounds[0]:bounds[-1]]


def newlines_in(column: pa.Array | pa.ChunkedArray, has_cr: bool) -> np.ndarray:
    """Line ends inside each value (\\n, \\r\\n, a lone \\r), as an int64 array: the positions of the
    line-end bytes in the column's one values buffer, counted per value by a binary search in the offsets."""
    parts = _utf8_parts(column)
    if parts is None:  # another layout: pyarrow's kernels
        lf = pc.count_substring(column, "\n")
        if has_cr:
            lone_cr = pc.subtract(pc.count_substring(column, "\r"), pc.count_substring(column, "\r\n"))
            lf = pc.add(lf, lone_cr)
        return np.asarray(lf.to_numpy(zero_copy_only=False), dtype=np.int64)
    bounds, data = parts
    ends = np.flatnonzero(data == 10)
    if has_cr:
        returns = np.flatnonzero(data == 13)
        if len(returns):
            # a \r is a line end of its own unless a \n of the same value follows it
            value_end = bounds[np.searchsorted(bounds, returns, side="right")]
            followed = np.zeros(len(returns), dtype=bool)
            inside = returns + 1 < value_end
            followed[inside] = data[returns[inside] + 1] == 10
            ends = np.sort(np.concatenate([ends, returns[~followed]]))
    return np.diff(np.searchsorted(ends, bounds)).astype(np.int64)


def starts_with_each(texts: pa.Array, prefixes: pa.Array) -> np.ndarray:
    """Whether each text starts with the prefix of its row (element-wise `str.startswith`: for UTF-8, a prefix of
    the bytes is a prefix of the text), compared byte by byte in NumPy."""
    (t_bounds, t_data), (p_bounds, p_data) = _utf8_parts(texts), _utf8_parts(prefixes)
    t_len, p_len = np.diff(t_bounds), np.diff(p_bounds)
    fits = p_len <= t_len
    rows = np.flatnonzero(fits & (p_len > 0))
    lengths = p_len[rows]
    row_of = np.repeat(rows, lengths)
    within = np.arange(len(row_of)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    differ = t_data[t_bounds[row_of] + within] != p_data[p_bounds[row_of] + within]
    return fits & (np.bincount(row_of[differ], minlength=len(t_len)) == 0)


def join_prompt_columns(columns: list[pa.Array], separator: str) -> pa.Array:
    """`join_prompt_parts` of each row of the columns (title, question, ...), column by column: each part
    stripped, a part dropped when the next one starts with it (its end punctuation aside) or it is empty."""
    stripped = [py_strip(column) for column in columns]
    kept = []
    for index, part in enumerate(stripped):
        trimmed = pc.utf8_rtrim(part, "？?。.!！")
        keep = pc.greater(pc.binary_length(trimmed), 0).to_numpy(zero_copy_only=False)
        if index + 1 < len(stripped):  # the last part's following part is "", which only "" starts
            keep &= ~starts_with_each(stripped[index + 1], trimmed)
        # each kept part with the separator before it, then the first separator cut off (pyarrow 25's
        # null_handling="skip" drops the rows whose parts are all null)
        kept.append(pc.if_else(pa.array(keep), pc.binary_join_element_wise(separator, part, ""), ""))
    joined = pc.binary_join_element_wise(*kept, "")
    return pc.utf8_slice_codeunits(joined, len(separator)) if separator else joined


# what Python's str.strip() removes (str.isspace()), the characters ISSPACE_RE2 spells out for RE2
PY_WHITESPACE = "".join(map(chr, [*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                                  0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))


def py_strip(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`str.strip()` of every value (what Python calls whitespace, which is more than Unicode's White_Space)."""
    return pc.utf8_trim(column, PY_WHITESPACE)
