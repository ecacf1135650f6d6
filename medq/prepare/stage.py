"""The `prepare` stage: raw QA files -> cleaned ChatML splits, preference pairs, a retrieval corpus, a data card.

One streaming pass: read -> clean -> scrub PII -> length filters -> exact dedup -> (in batches) contamination
and near-duplicate checks -> split by a seeded hash of the question -> write. Every record read is written or
rejected with its reason, and the stage refuses to finish if the counts do not add up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from tqdm.auto import tqdm

from medq.artifacts import sha256_file, write_json_atomic, write_text_atomic
from medq.config import as_dataclass
from medq.errors import ConfigError
from medq.prepare.cleaning import CleaningRules, TextCleaner, scrub_pii
from medq.prepare.dedup import (ContaminationChecker, ContaminationRules, DedupRules, NearDuplicateIndex,
                                exact_key)
from medq.prepare.preferences import PreferencePairBuilder, PreferenceRules
from medq.prepare.sources import Example, OnBadRecord, Rejected
from medq.runner import StageContext

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")


@dataclass
class LengthFilters:
    prompt_min_chars: int = 4
    prompt_max_chars: int = 2000
    response_min_chars: int = 5
    response_max_chars: int = 4000


@dataclass
class SplitRatios:
    train: float = 0.9
    validation: float = 0.05
    test: float = 0.05


def split_of(group: str, seed: int, ratios: SplitRatios) -> str:
    digest = hashlib.blake2b(f"{seed}:{group}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "little") / 2**64
    if u < ratios.train:
        return "train"
    return "validation" if u < ratios.train + ratios.validation else "test"


def read_eval_texts(rules: ContaminationRules) -> list[tuple[str, str]]:
    """Texts of the configured evaluation sets (CSV or JSONL, with the named fields)."""
    import csv

    from medq.prepare.encoding import detect_encoding

    texts = []
    for eval_set in rules.eval_sets or []:
        path = Path(eval_set.path)
        encoding = detect_encoding(path)
        with open(path, encoding=encoding, newline="") as handle:
            if path.suffix in (".jsonl", ".json"):
                rows = [json.loads(line) for line in handle if line.strip()]
            else:
                rows = list(csv.DictReader(handle))
        for index, row in enumerate(rows):
            missing = [f for f in eval_set.fields if f not in row]
            if missing:
                raise ConfigError(f"{path}: row {index + 1} has no field(s) {', '.join(missing)} "
                                  f"(prepare.contamination.eval_sets '{eval_set.name}')")
            texts.extend((eval_set.name, str(row[f])) for f in eval_set.fields if row[f])
    return texts


class _JsonlWriters:
    def __init__(self, directory: Path, names: list[str]):
        self.paths = {n: directory / f"{n}.jsonl" for n in names}
        self.handles = {n: open(p, "wb", buffering=1 << 20) for n, p in self.paths.items()}
        self.counts = Counter()

    def write(self, name: str, record: dict[str, Any]) -> None:
        self.handles[name].write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        self.counts[name] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


class PrepareStage:
    outputs = ("train", "validation", "test", "corpus", "preference_pairs", "rejects", "hf_dataset", "data_card",
               "data_card_md")  # what run() may return (medq --help; checked by the runner)

    def __init__(self, source: Any, system_prompt: str, cleaning: CleaningRules | None = None,
                 filters: LengthFilters | None = None, dedup: DedupRules | None = None,
                 contamination: ContaminationRules | None = None, split: SplitRatios | None = None,
                 preferences: PreferenceRules | None = None,
                 corpus_content: Literal["response", "question_and_answer"] = "response",
                 limit: int | None = None, on_bad_record: OnBadRecord = "error", save_hf_dataset: bool = True,
                 batch_size: int = 256, progress: bool = True):
        self.source = source
        self.system_prompt = system_prompt
        self.cleaning = as_dataclass(CleaningRules, cleaning)
        self.filters = as_dataclass(LengthFilters, filters)
        self.dedup = as_dataclass(DedupRules, dedup)
        self.contamination = as_dataclass(ContaminationRules, contamination)
        self.split = as_dataclass(SplitRatios, split)
        self.preferences = as_dataclass(PreferenceRules, preferences)
        self.corpus_content = corpus_content
        self.limit = limit
        self.on_bad_record = on_bad_record
        self.save_hf_dataset = save_hf_dataset
        self.batch_size = batch_size
        self.progress = progress
        total = self.split.train + self.split.validation + self.split.test
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"prepare.split ratios must sum to 1, got {total:g}")
        if limit is not None and limit <= 0:
            raise ConfigError(f"prepare.limit must be a positive number of records, got {limit}")

    def external_inputs(self) -> list[Path]:
        return list(self.source.files()) + [Path(e.path) for e in self.contamination.eval_sets or []]

    # -- the pass over the data -------------------------------------------------------------------------

    def run(self, ctx: StageContext) -> dict[str, str]:
        started = time.time()
        out = ctx.output_dir
        cleaner = TextCleaner(self.cleaning)
        contamination = ContaminationChecker(self.contamination.ngram, read_eval_texts(self.contamination))
        near = NearDuplicateIndex(self.dedup) if self.dedup.near else None
        pairs = PreferencePairBuilder(self.preferences, self.system_prompt, ctx.seed)
        writers = _JsonlWriters(out, [*SPLITS, "corpus", "preference_pairs", "rejects"])
        rejected: Counter = Counter()
        pii: Counter = Counter()
        seen: set[bytes] = set()
        batch: list[tuple[Example, str, str]] = []
        near_kept_at: list[str] = []  # file:line of each example the near-dup index kept, to explain rejects
        records_in = 0

        def reject(reason: str, where: str, detail: str = "", prompt: str = "", response: str = "") -> None:
            rejected[reason] += 1
            writers.write("rejects", {"reason": reason, "where": where, "detail": detail,
                                      "prompt": prompt, "response": response})

        def flush() -> None:
            clean_batch = []
            for example, prompt, response in batch:
                owner = contamination.find(prompt + "\n" + response)
                if owner is not None:
                    reject("contaminated", example.where, f"shares a {contamination.ngram}-gram with eval set '{owner}'",
                           prompt, response)
                else:
                    clean_batch.append((example, prompt, response))
            verdicts = near.add_batch([p + "\n" + r for _, p, r in clean_batch]) if near else [None] * len(clean_batch)
            for (example, prompt, response), duplicate_of in zip(clean_batch, verdicts):
                if duplicate_of is not None:
                    reject("near_duplicate", example.where, f"near duplicate of {near_kept_at[duplicate_of]}",
                           prompt, response)
                else:
                    near_kept_at.append(example.where)
                    self._write_example(writers, pairs, example, prompt, response, ctx.seed)
            batch.clear()

        total_bytes = sum(p.stat().st_size for p in self.source.files())
        with tqdm(total=total_bytes, unit="B", unit_scale=True, desc="prepare", disable=not self.progress,
                  mininterval=0.5) as bar:
            try:
                for item in self.source.items(bar.update, self.on_bad_record):
                    if self.limit is not None and records_in >= self.limit:
                        break
                    records_in += 1
                    if isinstance(item, Rejected):
                        reject(item.reason, item.where, item.detail, item.prompt, item.response)
                        continue
                    prompt, response = cleaner.clean(item.prompt), cleaner.clean(item.response)
                    if self.cleaning.scrub_pii:
                        prompt, response = scrub_pii(prompt, pii), scrub_pii(response, pii)
                    reason = self._length_problem(prompt, response)
                    if reason:
                        reject(reason, item.where, "", prompt, response)
                        continue
                    if self.dedup.exact:
                        key = exact_key(prompt, response)
                        if key in seen:
                            reject("duplicate", item.where, "same (prompt, response) as an earlier record", prompt, response)
                            continue
                        seen.add(key)
                    batch.append((item, prompt, response))
                    if len(batch) >= self.batch_size:
                        flush()
                flush()
                for pair in pairs.safety_pairs():
                    writers.write("preference_pairs", pair)
            finally:
                writers.close()

        records_out = sum(writers.counts[s] for s in SPLITS)
        if records_in != records_out + sum(rejected.values()):
            raise RuntimeError(f"prepare lost records: read {records_in}, wrote {records_out}, "
                               f"rejected {sum(rejected.values())}")
        if records_out == 0:
            log.warning("prepare kept no records: every record was rejected (see rejects.jsonl)")
        artifacts = {s: f"{s}.jsonl" for s in SPLITS}
        artifacts.update(corpus="corpus.jsonl", preference_pairs="preference_pairs.jsonl", rejects="rejects.jsonl")
        if self.save_hf_dataset and records_out:
            self._save_hf_dataset(out, writers)
            artifacts["hf_dataset"] = "hf_dataset"
        seconds = time.time() - started
        card = self._data_card(writers, records_in, records_out, rejected, pii, pairs, seconds)
        write_json_atomic(out / "data_card.json", card)
        write_text_atomic(out / "data_card.md", render_data_card(card))
        artifacts.update(data_card="data_card.json", data_card_md="data_card.md")
        self._track(ctx, card, writers)
        log.info("prepare: %d records in, %d out, %d rejected (%s) in %.1fs", records_in, records_out,
                 sum(rejected.values()), dict(rejected), seconds)
        return artifacts

    def _length_problem(self, prompt: str, response: str) -> str | None:
        f = self.filters
        if len(prompt) < f.prompt_min_chars:
            return "prompt_too_short"
        if len(prompt) > f.prompt_max_chars:
            return "prompt_too_long"
        if len(response) < f.response_min_chars:
            return "response_too_short"
        if len(response) > f.response_max_chars:
            return "response_too_long"
        return None

    def _write_example(self, writers: _JsonlWriters, pairs: PreferencePairBuilder, example: Example,
                       prompt: str, response: str, seed: int) -> None:
        example_id = hashlib.blake2b(f"{prompt}\0{response}".encode(), digest_size=8).hexdigest()
        split = split_of(example.group, seed, self.split)
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        metadata = {**example.metadata, "source": example.where}
        writers.write(split, {"id": example_id, "messages": messages, "metadata": metadata})
        content = response if self.corpus_content == "response" else f"问：{prompt}\n答：{response}"
        writers.write("corpus", {"id": f"doc-{example_id}", "content": content,
                                 "metadata": {**metadata, "question": prompt, "split": split, "example_id": example_id}})
        if split == "train":
            pair = pairs.generic_pair(example_id, prompt, response)
            if pair is not None:
                writers.write("preference_pairs", pair)

    def _save_hf_dataset(self, out: Path, writers: _JsonlWriters) -> None:
        import datasets

        files = {s: str(writers.paths[s]) for s in SPLITS if writers.counts[s]}
        cache = out / ".hf_cache"
        try:
            dataset = datasets.load_dataset("json", data_files=files, cache_dir=str(cache))
            dataset.save_to_disk(str(out / "hf_dataset"))
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    def _data_card(self, writers: _JsonlWriters, records_in: int, records_out: int, rejected: Counter,
                   pii: Counter, pairs: PreferencePairBuilder, seconds: float) -> dict[str, Any]:
        pair_kinds = {"generic": pairs.generic_pairs, "safety": pairs.safety_pairs_written}
        return {
            "records_in": records_in,
            "records_out": records_out,
            "rejected_total": sum(rejected.values()),
            "rejected": dict(sorted(rejected.items())),
            "splits": {s: writers.counts[s] for s in SPLITS},
            "pii_scrubbed": dict(sorted(pii.items())),
            "preference_pairs": dict(pair_kinds),
            "corpus_documents": writers.counts["corpus"],
            "limit": self.limit,
            "source": {
                "type": type(self.source).__name__,
                "files": {str(p): {"encoding": self.source.encodings().get(str(p)), "bytes": p.stat().st_size,
                                   "sha256": sha256_file(p)} for p in self.source.files()},
                "stats": getattr(self.source, "stats", {}),
            },
            "outputs": {n: {"records": writers.counts[n], "sha256": sha256_file(p)} for n, p in writers.paths.items()},
            "seconds": round(seconds, 3),
            "records_per_second": round(records_in / seconds, 1) if seconds else None,
        }

    def _track(self, ctx: StageContext, card: dict[str, Any], writers: _JsonlWriters) -> None:
        tracker = ctx.tracker
        metrics = {"records_in": card["records_in"], "records_out": card["records_out"],
                   "rejected_total": card["rejected_total"], "corpus_documents": card["corpus_documents"],
                   "records_per_second": card["records_per_second"] or 0.0}
        metrics.update({f"rejected.{k}": v for k, v in card["rejected"].items()})
        metrics.update({f"pii.{k}": v for k, v in card["pii_scrubbed"].items()})
        metrics.update({f"split.{k}": v for k, v in card["splits"].items()})
        metrics.update({f"pairs.{k}": v for k, v in card["preference_pairs"].items()})
        tracker.log_metrics(metrics)
        tracker.set_tags({f"encoding.{Path(p).name}": f["encoding"] for p, f in card["source"]["files"].items()})
        for name in (*SPLITS, "preference_pairs", "corpus"):
            if writers.counts[name]:
                context = {"preference_pairs": "training", "corpus": "retrieval"}.get(name, name)
                tracker.log_dataset(writers.paths[name], name, context, card["outputs"][name]["sha256"])
        tracker.log_artifact(ctx.output_dir / "data_card.json")
        tracker.log_artifact(ctx.output_dir / "data_card.md")


def render_data_card(card: dict[str, Any]) -> str:
    lines = ["# Data card", "", f"- records in: {card['records_in']}", f"- records out: {card['records_out']}",
             f"- rejected: {card['rejected_total']}"]
    lines += [f"  - {reason}: {count}" for reason, count in card["rejected"].items()]
    lines += ["", "## Splits", ""] + [f"- {s}: {n}" for s, n in card["splits"].items()]
    lines += ["", "## PII scrubbed", ""] + ([f"- {k}: {n}" for k, n in card["pii_scrubbed"].items()] or ["- none found"])
    lines += ["", "## Preference pairs", ""] + [f"- {k}: {n}" for k, n in card["preference_pairs"].items()]
    lines += ["", "## Source files", "", "| file | encoding | bytes | sha256 |", "|---|---|---|---|"]
    lines += [f"| {p} | {f['encoding']} | {f['bytes']} | {f['sha256'][:16]}… |" for p, f in card["source"]["files"].items()]
    lines += ["", "## Outputs", "", "| output | records | sha256 |", "|---|---|---|"]
    lines += [f"| {n} | {o['records']} | {o['sha256'][:16]}… |" for n, o in card["outputs"].items()]
    return "\n".join(lines) + "\n"
