"""`prepare.engine=ray`: pass 1 (reading and the per-row work, `BatchWork`) on the actors of a Ray cluster.

A pool of `prepare.ray.workers` actors (one CPU each, spread over the nodes) is started when the stage starts. A
source that can be cut into byte ranges of whole rows (`split_plan`: JSONL, CSV, the synthetic dialogue CSV) is read
by the actors themselves, a range each: the driver only scans the file once for the cuts and the line count before
each cut (`batches.line_splits`), so every row keeps its `file:line`. Each actor reads its range with the source's
fast reader, runs `BatchWork` on its batches and returns them; the driver takes the results in range order into the
same `BatchPipeline` as the local engine, decides the duplicates and writes. A source that cannot be cut (cMedQA2's
join and `answers: first` need the rows in order; a `limit`; the careful reader) is read by the driver and only
`BatchWork` runs on the actors. Either way the records, ids, splits, rejects and data card are the local engine's
(`tests/prepare/test_ray_engine.py` compares them on a two-node cluster).

Every node reads the source's files at the driver's path (a shared volume on a real cluster). At most `window`
results wait in the object store; an actor that finds it cannot vouch for its range raises `Untrusted`, and the
stage reads the source again carefully, as the local engine does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from medq.prepare.batches import Split, Untrusted
from medq.prepare.columnar import BatchWork, RecordRules


@dataclass
class RayOptions:
    address: str | None = None  # a running cluster (`ray start --head`), e.g. 127.0.0.1:6379; null: start one here
    workers: int = 2             # actors doing pass 1 (each holds one CPU)
    window: int = 8              # results waiting in the object store at most (ranges or batches)
    split_mb: float = 16         # MB of the source file per range an actor reads


class _Pass1:
    """One actor: the source's fast reader of a byte range and `BatchWork`."""

    def __init__(self, rules: RecordRules, source: Any, batch_rows: int):
        self.work, self.source, self.batch_rows = BatchWork(rules), source, batch_rows

    def ready(self) -> bool:
        return True

    def work_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return self.work(batch)

    def read_split(self, split: Split, context: Any) -> tuple[list[pa.RecordBatch], int]:
        """The processed batches of one range and the data rows it held."""
        done, batches = [], self.source.split_batches(split, context, self.batch_rows)
        while True:
            try:
                batch = next(batches)
            except StopIteration as end:
                return done, end.value
            if batch.num_rows:
                done.append(self.work(batch))


class RayPass1:
    """The actors of one stage run (`close` ends them)."""

    def __init__(self, rules: RecordRules, source: Any, batch_rows: int, options: RayOptions):
        import ray

        import medq

        self.ray, self.options = ray, options
        if not ray.is_initialized():
            # the workers import medq from where this process does (a checkout or the installed package)
            root = str(Path(medq.__file__).resolve().parents[1])
            ray.init(address=options.address, log_to_driver=False, include_dashboard=False,
                     runtime_env={"env_vars": {"PYTHONPATH": root}}, configure_logging=False)
        actor = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_Pass1)
        # started now, so their processes come up while the driver plans the ranges
        self.actors = [actor.remote(rules, source, batch_rows) for _ in range(max(1, options.workers))]

    def _ordered(self, calls: Iterator[Any]) -> Iterator[Any]:
        """Results of remote calls (`calls` yields a function of an actor), in order, `window` at a time."""
        pending: deque = deque()
        window = max(self.options.window, len(self.actors))
        try:
            for index, call in enumerate(calls):
                pending.append(call(self.actors[index % len(self.actors)]))
                if len(pending) >= window:
                    yield self._get(pending.popleft())
            while pending:
                yield self._get(pending.popleft())
        finally:
            for ref in pending:  # a range that gave up: the others are not needed
                try:
                    self.ray.cancel(ref)
                except Exception:  # noqa: BLE001 - a call that has finished cannot be cancelled
                    pass

    def _get(self, ref: Any) -> Any:
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, Untrusted):
                raise Untrusted from None
            if isinstance(cause, Exception):
                raise cause from None  # InputDataError and the like, as the local engine raises them
            raise

    def batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """`BatchWork` of each batch read here, in order."""
        yield from self._ordered(lambda actor, b=batch: actor.work_batch.remote(b) for batch in batches
                                 if batch.num_rows)

    def splits(self, source: Any, on_bytes: Any = None) -> Iterator[pa.RecordBatch]:
        """The processed batches of the source's ranges, read by the actors, in file order; the source's
        statistics are set when the last range is in."""
        plan = source.split_plan(max(1, int(self.options.split_mb * (1 << 20))))
        rows = 0
        for split, (done, held) in zip(plan.splits, self._ordered(
                lambda actor, s=split: actor.read_split.remote(s, plan.context) for split in plan.splits)):
            rows += held
            yield from done
            if on_bytes is not None:
                on_bytes(split.end - split.start)
        source.splits_read(plan, rows)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
