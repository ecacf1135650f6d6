"""The column-at-a-time versions of per-row helpers say what the per-row ones say, on texts made of the
characters that matter to them (Python's whitespace, the end punctuation, line ends)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings, strategies as st

from medq.prepare.batches import join_prompt_columns, newlines_in, starts_with_each
from medq.prepare.sources import join_prompt_parts

PIECES = ["头", "痛", "？", "?", "。", ".", "!", "！", " ", "\u3000", "a", "\n", "\r", "\r\n", "头痛", "\x1c", "\x85"]
texts = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3).flatmap(lambda k: st.lists(st.tuples(*[texts] * k), min_size=1, max_size=30)),
       st.sampled_from(["\n", "", "，", "--"]))
def test_join_prompt_columns_is_join_prompt_parts(rows, separator):
    columns = [pa.array(list(column), pa.string()) for column in zip(*rows)]
    assert join_prompt_columns(columns, separator).to_pylist() == [join_prompt_parts(list(r), separator)
                                                                   for r in rows]


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=30), st.integers(0, 2), st.booleans())
def test_newlines_in_counts_what_pyarrows_kernels_count(values, skip, has_cr):
    column = pa.array(values, pa.string()).slice(min(skip, len(values) - 1))  # an offset into the buffers, too
    expected = pc.count_substring(column, "\n")
    if has_cr:
        expected = pc.add(expected, pc.subtract(pc.count_substring(column, "\r"), pc.count_substring(column, "\r\n")))
    assert newlines_in(column, has_cr).tolist() == expected.to_pylist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=30))
def test_starts_with_each_is_str_startswith(pairs):
    texts_, prefixes = zip(*pairs)
    assert starts_with_each(pa.array(texts_), pa.array(prefixes)).tolist() == [t.startswith(p) for t, p in pairs]


def test_py_whitespace_is_what_str_isspace_says():
    import sys

    from medq.prepare.batches import PY_WHITESPACE, py_strip

    assert PY_WHITESPACE == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    values = [" a b ", "\u3000头\x85", "\x1c\x1f", "", "\u200b x"]
    assert py_strip(pa.array(values)).to_pylist() == [v.strip() for v in values]
