"""`prepare.engine=ray`: pass 1's per-row work (`BatchWork`) as Ray Data `map_batches` on a Ray cluster.

The source's batches are read here, in the driver, as the local engine reads them, and put in Ray's object store a
window at a time; a Ray Data dataset over each window runs `BatchWork` in a pool of actors on the cluster's nodes,
and the results come back in order (`preserve_order`), into the same `BatchPipeline` as the local engine's. The
decisions across rows and the writes then run in the driver, as in the local engine, so the records, ids, splits and
rejects are the same (`tests/prepare/test_ray_engine.py` compares them on a two-node cluster).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from medq.prepare.columnar import BatchWork, RecordRules


@dataclass
class RayOptions:
    address: str | None = None  # a running cluster (`ray start --head`), e.g. 127.0.0.1:6379; null: start one here
    workers: int = 2             # actors running the per-row work (each holds one CPU)
    window: int = 8              # batches in the object store at a time (memory: window x batch_size rows)


class _RayWork:
    """`BatchWork` as a Ray Data callable class: a table in, a table out."""

    def __init__(self, rules: RecordRules):
        self.work = BatchWork(rules)

    def __call__(self, table: pa.Table) -> pa.Table:
        return pa.Table.from_batches([self.work(table)])


def processed_batches(batches: Iterator[pa.RecordBatch], rules: RecordRules,
                      options: RayOptions) -> Iterator[pa.RecordBatch]:
    """`BatchWork(rules)` of each batch, in order, computed on the cluster."""
    import ray

    import medq

    if not ray.is_initialized():
        # the workers import medq from where this process does (a checkout or the installed package)
        root = str(Path(medq.__file__).resolve().parents[1])
        ray.init(address=options.address, log_to_driver=False, include_dashboard=False,
                 runtime_env={"env_vars": {"PYTHONPATH": root}}, configure_logging=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    window: list[Any] = []

    def run(refs: list[Any]) -> Iterator[pa.RecordBatch]:
        dataset = ray.data.from_arrow_refs(refs).map_batches(
            _RayWork, fn_constructor_args=(rules,), batch_size=None, batch_format="pyarrow",
            concurrency=options.workers, zero_copy_batch=True)
        for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield from table.combine_chunks().to_batches()

    for batch in batches:
        if batch.num_rows:
            window.append(ray.put(pa.Table.from_batches([batch])))
        if len(window) >= options.window:
            yield from run(window)
            window = []
    if window:
        yield from run(window)
