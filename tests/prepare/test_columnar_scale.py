"""prepare at scale: the chunked near-duplicate index and the columnar hashing decide exactly what the per-record
definitions decide (the pipeline's output bytes depend on both)."""

from __future__ import annotations

import hashlib

import numpy as np
import orjson
import pyarrow as pa
import pytest

from medq.prepare.columnar import SPLIT_NAMES, _EscapedColumn, _example_digests, question_splits
from medq.prepare.dedup import (DedupRules, NearDuplicateIndex, SpilledNearDuplicates, band_keys,
                                 near_duplicates_at_once)
from medq.prepare.stage import SplitRatios

from tests.prepare.helpers import near_duplicate_reference
from tests.prepare.reference import split_of


def _variants(base: str, rng: np.random.Generator, count: int) -> list[str]:
    pool = "的了是在有我他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天"
    texts = []
    for _ in range(count):
        chars = list(base)
        for _ in range(int(rng.integers(0, 5))):
            chars[int(rng.integers(len(chars)))] = pool[int(rng.integers(len(pool)))]
        texts.append("".join(chars))
    return texts


def test_near_duplicates_decided_in_chunks_match_the_one_at_a_time_definition():
    # two families of near-duplicates interleaved with unrelated texts, so candidates cross chunk boundaries and
    # also sit inside one chunk; some rows are "rejected earlier" (never offered to the index) as in the stage
    rng = np.random.default_rng(7)
    texts = _variants("医生您好，我最近总是头痛，还有点恶心，是不是偏头痛？建议先做头颅CT检查，排除器质性病变。", rng, 120)
    texts += _variants("孩子发烧三天了，体温三十九度，吃了退烧药还是反复，需要去医院查血常规吗？建议及时就医。", rng, 120)
    texts += [f"完全不同的问题{i}：胃痛反酸怎么办？第{i}号回答建议做胃镜检查并规律饮食。" for i in range(60)]
    order = rng.permutation(len(texts))
    texts = [texts[i] for i in order]
    rules = DedupRules(threshold=0.8, num_perm=32, bands=8)
    index = NearDuplicateIndex(rules)
    signatures = index.hasher.signatures(texts)
    skipped = set(rng.choice(len(texts), 30, replace=False).tolist())
    expected = near_duplicate_reference(rules, signatures, skipped)

    verdicts: list[int | None] = []
    for start in range(0, len(texts), 37):  # chunks as the stage sends them (prepare.batch_size)
        chunk = signatures[start:start + 37]
        index.begin_chunk(chunk, band_keys(chunk, rules.bands))
        verdicts += [None if start + row in skipped else index.add_row(row) for row in range(len(chunk))]
    assert verdicts == expected
    duplicates = sum(v is not None for v in expected)
    assert 50 < duplicates < len(texts) - 60, duplicates  # both decisions are well represented


@pytest.mark.parametrize("rules, max_pairs", [
    (DedupRules(threshold=0.8, num_perm=32, bands=8), 20_000_000),   # 28 combinations of 2 bands
    (DedupRules(threshold=0.5, num_perm=32, bands=8), 20_000_000),   # needs 1 shared band: single bands
    (DedupRules(threshold=0.8, num_perm=32, bands=16), 20_000_000),  # needs 10 of 16: groups on single bands
    (DedupRules(threshold=0.8, num_perm=32, bands=8), 0),            # too many pairs: the chunked index
], ids=["defaults", "loose", "many-bands", "fallback"])
def test_near_duplicates_decided_at_once_match_the_one_at_a_time_definition(rules, max_pairs):
    rng = np.random.default_rng(11)
    texts = _variants("医生您好，我最近总是头痛，还有点恶心，是不是偏头痛？建议先做头颅CT检查，排除器质性病变。", rng, 150)
    texts += _variants("孩子发烧三天了，体温三十九度，吃了退烧药还是反复，需要去医院查血常规吗？建议及时就医。", rng, 150)
    texts += [f"完全不同的问题{i}：胃痛反酸怎么办？第{i}号回答建议做胃镜检查并规律饮食。" for i in range(80)]
    texts = [texts[i] for i in rng.permutation(len(texts))]
    signatures = NearDuplicateIndex(rules).hasher.signatures(texts)
    reference = near_duplicate_reference(rules, signatures)
    kept = [row for row, verdict in enumerate(reference) if verdict is None]
    expected = [-1 if verdict is None else kept[verdict] for verdict in reference]  # rank -> row
    verdicts = near_duplicates_at_once(signatures, rules, max_pairs=max_pairs, batch=97)
    assert verdicts.tolist() == expected
    assert 50 < sum(v >= 0 for v in expected) < len(texts) - 80


@pytest.mark.parametrize("max_pairs", [20_000_000, 100])
def test_near_duplicate_partitions_done_in_any_order_decide_the_one_at_a_time_definition(tmp_path, max_pairs):
    """The shuffle's unit (`NearPartitions.pairs`, as the Ray engine's actors run it) in reverse partition order, with
    rows rejected earlier left out: the driver's decision in text order is the definition's; over the candidate
    budget a partition makes no pairs and the decision falls back to the chunked index."""
    rng = np.random.default_rng(5)
    texts = _variants("医生您好，我最近总是头痛，还有点恶心，是不是偏头痛？建议先做头颅CT检查，排除器质性病变。", rng, 150)
    texts += _variants("孩子发烧三天了，体温三十九度，吃了退烧药还是反复，需要去医院查血常规吗？建议及时就医。", rng, 150)
    texts += [f"完全不同的问题{i}：胃痛反酸怎么办？第{i}号回答建议做胃镜检查并规律饮食。" for i in range(80)]
    texts = [texts[i] for i in rng.permutation(len(texts))]
    rules = DedupRules(max_candidate_pairs=max_pairs)
    signatures = NearDuplicateIndex(rules).hasher.signatures(texts)
    skipped = set(rng.choice(len(texts), 40, replace=False).tolist())
    reference = near_duplicate_reference(rules, signatures, skipped)
    kept = [row for row, verdict in enumerate(reference) if verdict is None and row not in skipped]
    expected = [-1 if verdict is None else kept[verdict] for verdict in reference]
    active = np.ones(len(texts), dtype=bool)
    active[sorted(skipped)] = False

    spilled = SpilledNearDuplicates(rules, tmp_path, partitions=8)
    for start in range(0, len(texts), 53):
        spilled.add(signatures[start:start + 53])
    done = []

    def backwards(partitions, mask):
        for partition in reversed(range(partitions.partitions)):
            done.append(partitions.pairs(partition, mask))
            yield done[-1]

    assert spilled.decide(active, backwards).tolist() == expected
    assert 50 < sum(v >= 0 for v in expected) < len(texts) - 80
    if max_pairs == 100:  # one partition alone holds more candidates than that: counted, not paired
        assert any(pairs is None and candidates > 100 for candidates, pairs in done)
    else:
        assert len(done) == 8 and all(pairs is not None for _, pairs in done)


def test_columnar_ids_splits_and_escapes_equal_the_per_record_functions():
    prompts = ["头痛怎么办", "", "含\"引号\"与\\反斜杠\n换行", "emoji 🙂 and ｆｕｌｌ-width", "x" * 5000]
    responses = ["多休息", "空问题的回答", "", "\u3000全角空格\u3000", "y"]
    rows = np.array([0, 2, 3, 4])  # row 1 is left out: its digest stays 0
    digests = _example_digests(pa.array(prompts), pa.array(responses), np.arange(len(prompts)), rows)
    expected = [hashlib.blake2b(f"{prompts[r]}\0{responses[r]}".encode(), digest_size=8).hexdigest() for r in rows]
    assert [digests[r].tobytes().hex() for r in rows] == expected and digests[1] == 0

    ratios = SplitRatios(train=0.5, validation=0.25, test=0.25)
    question_ids = [str(i) for i in range(2000)] + ["Q-7", "问题", ""]
    splits = question_splits(pa.chunked_array([question_ids[:900], question_ids[900:]]), 3, ratios)
    assert [SPLIT_NAMES[s] for s in splits] == [split_of(f"q{q}", 3, ratios) for q in question_ids]
    assert set(splits.tolist()) == {0, 1, 2}
    # JSON escaping a block of rows at a time gives the bytes orjson writes inside the quotes
    texts = prompts + responses + ["\x1f\u2028\"\\/", "普通文本"]
    escaped = _EscapedColumn(pa.array(texts)).take(np.array([9, 2, 0, 2, 10]))
    assert escaped.to_pylist() == [orjson.dumps(texts[i])[1:-1] for i in (9, 2, 0, 2, 10)]


@pytest.mark.parametrize("data", [b"", b"a", b"a\n", b"a\r\nb", b"a\rb\r", b"\r\n\r\n", b"x\r\n" * 7 + b"y\r",
                                  b"\n\r\r\n\n\r" * 5])
def test_physical_lines_read_in_chunks_count_what_universal_newlines_count(tmp_path, data):
    from medq.prepare.columnar import _physical_lines

    path = tmp_path / "f.csv"
    path.write_bytes(data)
    # the old whole-file count: line ends (\n, \r\n, a lone \r), plus an unterminated last line (or an empty file)
    expected = len(data.decode().splitlines()) if data else 1
    for chunk in (1, 2, 3, 1 << 20):  # a \r\n split between two reads is one line end
        assert _physical_lines(path, chunk) == (expected, b"\r" in data)


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_exact_duplicates_found_out_of_core_are_the_later_copies(tmp_path, chunk):
    """`_later_copies` over ids on disk, a chunk of rows at a time and one partition at a time, marks exactly the
    eligible rows whose id an earlier eligible row has (a set of ids seen, row by row)."""
    from medq.prepare.columnar import _later_copies, _RowFile

    rng = np.random.default_rng(3)
    ids = rng.integers(0, 40, 500).astype(np.uint64) * np.uint64(0x0123456789ABCDEF)  # many repeats, all top bits
    codes = rng.choice(np.array([0, 0, 0, 6, 1, -1], dtype=np.int8), 500)
    stored = _RowFile(tmp_path / "ids", "<u8")
    stored.append(ids[:123])
    stored.append(ids[123:])
    stored.done()
    seen, expected = set(), []
    for row, (value, code) in enumerate(zip(ids.tolist(), codes.tolist())):
        if code in (0, 6):
            if value in seen:
                expected.append(row)
            seen.add(value)
    assert _later_copies(stored, codes, (0, 6), tmp_path / "parts", chunk=chunk).tolist() == expected
    assert expected and stored.take(np.array([5, 0, 499])).tolist() == ids[[5, 0, 499]].tolist()
