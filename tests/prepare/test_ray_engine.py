"""prepare.engine=ray on a two-node local Ray cluster writes what the local engine writes: the same records, ids,
splits, rejects and data card."""

from __future__ import annotations

import json
import logging
import random

import pytest

from medq.prepare.sources import CMedQA2Source, JsonlSource, SyntheticSource
from medq.prepare.synthetic import write_huatuo_jsonl

from tests.prepare.helpers import output_digests, run_prepare, write_csv
from .test_columnar_full import messy_cmedqa2

pytestmark = pytest.mark.ray


@pytest.mark.parametrize("kind", ["synthetic", "cmedqa2_first", "cmedqa2_partitions", "huatuo_all", "jsonl_odd_lines",
                                  "jsonl_limit"])
def test_ray_engine_writes_what_the_local_engine_writes(tmp_path, ray_cluster, kind):
    """synthetic (a GBK dialogue CSV with quoted line ends) and huatuo_all are read by the actors, in ranges of about
    2 KB; cMedQA2 (its join over one partition, or over many small ones and chunks) and a `limit` by the driver; the
    odd JSONL's ranges give up and the driver reads it carefully."""
    import ray

    settings: dict = {}
    if kind == "synthetic":
        make = lambda: SyntheticSource(str(tmp_path / "syn"), n_questions=300, seed=4, messy=True)  # noqa: E731
    elif kind == "cmedqa2_first":
        questions, answers = messy_cmedqa2(tmp_path, n_questions=200)
        make = lambda: CMedQA2Source(str(questions), str(answers), answers="first")  # noqa: E731
    elif kind == "cmedqa2_partitions":
        questions, answers = messy_cmedqa2(tmp_path, n_questions=200)
        make = lambda: CMedQA2Source(str(questions), str(answers), join_partition_mb=0.001,  # noqa: E731
                                     join_chunk_rows=50)
    elif kind == "jsonl_odd_lines":
        path = write_huatuo_jsonl(tmp_path / "h.jsonl", 300, seed=2)
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(lines[:150] + ['{"questions": ["坏行', "", '{"answers": ["没有问题字段"]}']
                                  + lines[150:]) + "\n", encoding="utf-8")
        make = lambda: JsonlSource(str(path), answers="all")  # noqa: E731
        settings["on_bad_record"] = "skip"
    else:
        path = write_huatuo_jsonl(tmp_path / "h.jsonl", 300, seed=2)
        make = lambda: JsonlSource(str(path), paraphrases="all", answers="all")  # noqa: E731
        if kind == "jsonl_limit":
            settings["limit"] = 250
        else:
            settings["preferences"] = {"max_pairs": 100}  # the first 100, over the actors' pieces
    eval_path = write_csv(tmp_path / "eval.csv", "Question\n孩子发烧39度，家里有大人吃的退烧药\n")
    settings.update(seed=5, save_hf_dataset=False, batch_size=53,
                    contamination={"ngram": 8, "eval_sets": [{"name": "e", "path": str(eval_path), "fields": ["Question"]}]})
    _, local = run_prepare(tmp_path / "local", make(), **settings)
    _, remote = run_prepare(tmp_path / "ray", make(), engine="ray",
                            ray={"address": ray_cluster, "workers": 2, "window": 3, "split_mb": 0.002}, **settings)
    assert output_digests(tmp_path / "ray") == output_digests(tmp_path / "local")
    for card in (local, remote):
        for volatile in ("seconds", "records_per_second"):
            card.pop(volatile)
    assert (local.pop("engine"), remote.pop("engine")) == ("local", "ray")
    assert remote == local
    assert local["records_in"] > 200 and local["records_out"] > 0
    # the per-row work ran on both nodes' actors, not in this process
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    assert json.loads((tmp_path / "ray" / "data_card.json").read_text())["engine"] == "ray"


def _near_copies(path, copies: int, seed: int) -> None:
    """Append `copies` near copies of the file's lines (one character of the answer changed; some are copies of
    copies) and shuffle them in, so that most meet the text they duplicate in another range."""
    rng = random.Random(seed)
    lines = path.read_text(encoding="utf-8").splitlines()
    pool = list(lines)
    for _ in range(copies):
        record = json.loads(rng.choice(pool))
        answer = record["answers"][0]
        at = rng.randrange(len(answer))
        record["answers"][0] = answer[:at] + rng.choice("的了是在有") + answer[at + 1:]
        pool.append(json.dumps(record, ensure_ascii=False))
    rng.shuffle(pool)
    path.write_text("\n".join(pool) + "\n", encoding="utf-8")


@pytest.mark.parametrize("max_candidate_pairs", [20_000_000, 40])
def test_ray_engine_shuffles_near_duplicates_across_ranges_as_the_local_engine_decides(
        tmp_path, ray_cluster, caplog, max_candidate_pairs):
    """Many near duplicates, most in another ~2 KB range than the text they duplicate: the actors pair and verify
    the band-key partitions, the driver decides in text order, and the outputs are the local engine's. With few
    candidate pairs allowed both engines fall back to the chunked index, and still agree."""
    path = tmp_path / "h.jsonl"
    write_huatuo_jsonl(path, 200, seed=7)
    _near_copies(path, 250, seed=3)
    settings: dict = dict(seed=5, save_hf_dataset=False, batch_size=41,
                          dedup={"max_candidate_pairs": max_candidate_pairs})
    cards = {}
    for engine in ("local", "ray"):
        extra = {"ray": {"address": ray_cluster, "workers": 2, "window": 3, "split_mb": 0.002}} if engine == "ray" else {}
        with caplog.at_level(logging.INFO, logger="medq.prepare.dedup"):
            caplog.clear()
            _, cards[engine] = run_prepare(tmp_path / engine, JsonlSource(str(path), answers="all"), engine=engine,
                                           **extra, **settings)
        fell_back = "dedup.max_candidate_pairs" in caplog.text
        assert fell_back == (max_candidate_pairs < 1000), engine
    assert output_digests(tmp_path / "ray") == output_digests(tmp_path / "local")
    for card in cards.values():
        for volatile in ("seconds", "records_per_second", "engine"):
            card.pop(volatile)
    assert cards["ray"] == cards["local"]
    assert cards["local"]["rejected"]["near_duplicate"] > 150
