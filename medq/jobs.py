"""How each job of a `-m` sweep ended, so one failed job neither ends the sweep nor goes unnoticed.

Inside a sweep, `medq.cli.run_pipeline` does not exit on an error: the job's MLflow run is already marked FAILED
with the one-line cause (medq/tracking.py), the job returns a `JobFailure` (the Optuna sweeper tells the trial
FAILED), and the sweep goes on. When Hydra is done, `medq.cli.main` prints `summary_table` and exits 1 if any job
failed. Each job also leaves `job_status.json` in its own run folder, for launchers that run jobs elsewhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from medq.artifacts import write_json_atomic


@dataclass(frozen=True)
class JobFailure:
    """What a failed sweep job returns instead of an objective value."""

    cause: str

    def __float__(self) -> float:  # Optuna and other sweepers take float(return value)
        raise ValueError(f"job failed: {self.cause}")


@dataclass
class JobRecord:
    job: str
    overrides: str
    status: str          # ok | cached | failed
    detail: str          # the run folder, or the one-line cause


_JOBS: list[JobRecord] = []


def record_job(run_dir: Path, job: str, overrides: str, status: str, detail: str) -> JobRecord:
    record = JobRecord(job, overrides, status, detail)
    _JOBS.append(record)
    write_json_atomic(Path(run_dir) / "job_status.json", asdict(record))
    return record


def recorded_jobs() -> list[JobRecord]:
    return list(_JOBS)


def summary_table(jobs: list[JobRecord]) -> str:
    rows = [("job", "status", "overrides", "run folder / cause")] + [(j.job, j.status, j.overrides, j.detail)
                                                                     for j in jobs]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3] for row in rows]
    counts = {s: sum(j.status == s for j in jobs) for s in ("ok", "cached", "failed")}
    return "\n".join(lines + [f"{len(jobs)} jobs: {counts['ok']} ok, {counts['cached']} cached, "
                              f"{counts['failed']} failed"])
