"""MLflow tracking: one parent run per pipeline, one nested run per stage.

Stages only see `StageTracker`; with tracking disabled the same calls still record metrics for the manifest.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from medq.errors import MedqError

log = logging.getLogger(__name__)
_MAX_PARAM_CHARS = 6000
_DATASET_DIGEST_CHARS = 36  # MLflow's SQL schema limit


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}; lists of scalars stay values, lists of mappings get indices."""
    flat: dict[str, Any] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and any(isinstance(v, (Mapping, list)) for v in value):
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}.{index}"))
    else:
        flat[prefix] = value
    return flat


class StageTracker:
    """What a stage may log. Metrics are also kept so cached reruns can report them again."""

    def __init__(self, client: Any | None, run_id: str | None):
        self._client = client
        self.run_id = run_id
        self.metrics: dict[str, float] = {}

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        clean = {k: float(v) for k, v in metrics.items() if v is not None}
        if step is None:
            self.metrics.update(clean)
        if self._client is not None:
            import mlflow

            mlflow.log_metrics(clean, step=step, run_id=self.run_id)

    def log_params(self, params: Mapping[str, Any]) -> None:
        if self._client is not None:
            import mlflow

            flat = {k: str(v)[:_MAX_PARAM_CHARS] for k, v in flatten(dict(params)).items()}
            mlflow.log_params(flat, run_id=self.run_id)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self._client is not None:

            for key, value in tags.items():
                self._client.set_tag(self.run_id, key, str(value))

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        if self._client is not None:
            path = Path(path)
            if path.is_dir():
                self._client.log_artifacts(self.run_id, str(path), artifact_path)
            else:
                self._client.log_artifact(self.run_id, str(path), artifact_path)

    @contextmanager
    def child_run(self, name: str, tags: Mapping[str, Any] | None = None) -> Iterator["StageTracker"]:
        """A run nested under this one (e.g. one per compared variant); ends FAILED if the block raises."""
        if self._client is None:
            yield StageTracker(None, None)
            return
        experiment = self._client.get_run(self.run_id).info.experiment_id
        run = self._client.create_run(experiment, run_name=name,
                                      tags={"mlflow.parentRunId": self.run_id, **{k: str(v) for k, v in (tags or {}).items()}})
        status = "FAILED"
        try:
            yield StageTracker(self._client, run.info.run_id)
            status = "FINISHED"
        finally:
            self._client.set_terminated(run.info.run_id, status)

    def log_dataset(self, path: Path, name: str, context: str, digest: str) -> None:
        """`mlflow.log_input` for a dataset split, identified by its content hash."""
        if self._client is None:
            return
        import warnings

        import mlflow
        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset

        with warnings.catch_warnings():  # MLflow registers two sources for local paths and warns about it
            warnings.simplefilter("ignore")
            source = resolve_dataset_source(Path(path).resolve().as_uri())
        dataset = MetaDataset(source=source, name=name, digest=digest[:_DATASET_DIGEST_CHARS])
        with _active_run(self.run_id):
            mlflow.log_input(dataset, context=context, tags={"sha256": digest})


@contextmanager
def _record_failure(client: Any, run_id: str) -> Iterator[None]:
    """On an error, tag the run with its one-line cause; `mlflow.start_run` then ends it as FAILED."""
    try:
        yield
    except BaseException as exc:
        cause = str(exc) if isinstance(exc, MedqError) else f"{type(exc).__name__}: {exc}"
        try:
            client.set_tag(run_id, "error", (cause.splitlines() or [type(exc).__name__])[0][:5000])
        except Exception:  # the tracking store itself may be what failed
            log.debug("could not record the error on MLflow run %s", run_id)
        raise


@contextmanager
def _active_run(run_id: str) -> Iterator[None]:
    import mlflow

    active = mlflow.active_run()
    if active is not None and active.info.run_id == run_id:
        yield
        return
    with mlflow.start_run(run_id=run_id, nested=active is not None):
        yield


class MlflowTracker:
    """Configured from `conf/tracking/*.yaml`; any MLflow tracking URI works (SQLite file, team server)."""

    def __init__(self, tracking_uri: str, experiment: str, artifact_location: str | None = None,
                 enabled: bool = True):
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.artifact_location = artifact_location
        self.enabled = enabled
        self._client = None
        self._parent_id: str | None = None

    def ui_command(self) -> str:
        """The command that opens this store in the MLflow UI, with an absolute path so it works from any folder."""
        uri = self.tracking_uri
        if uri.startswith("sqlite:///"):
            uri = "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
        elif "://" not in uri:
            uri = str(Path(uri).resolve())
        return f"mlflow ui --backend-store-uri {uri}"

    def _connect(self) -> Any:
        import mlflow
        from mlflow.tracking import MlflowClient

        if self.tracking_uri.startswith("sqlite:///"):
            Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        client = MlflowClient(self.tracking_uri)
        try:
            experiment = client.get_experiment_by_name(self.experiment)
            if experiment is None:
                client.create_experiment(self.experiment, artifact_location=self.artifact_location)
        except Exception as exc:
            raise MedqError(f"MLflow tracking store {self.tracking_uri} is not usable: {exc}".splitlines()[0]) from None
        mlflow.set_experiment(self.experiment)
        return client

    @contextmanager
    def pipeline_run(self, run_name: str, params: Mapping[str, Any], tags: Mapping[str, Any]) -> Iterator[StageTracker]:
        if not self.enabled:
            yield StageTracker(None, None)
            return
        import mlflow

        self._client = self._connect()
        with mlflow.start_run(run_name=run_name, tags={k: str(v) for k, v in tags.items()}) as run:
            self._parent_id = run.info.run_id
            tracker = StageTracker(self._client, run.info.run_id)
            tracker.log_params(params)
            log.info("MLflow run %s in experiment '%s' (%s)", run.info.run_id, self.experiment, self.tracking_uri)
            try:
                with _record_failure(self._client, run.info.run_id):
                    yield tracker
            finally:
                self._parent_id = None

    @contextmanager
    def stage_run(self, stage: str, tags: Mapping[str, Any]) -> Iterator[StageTracker]:
        if not self.enabled or self._client is None:
            yield StageTracker(None, None)
            return
        import mlflow

        with mlflow.start_run(run_name=stage, nested=True, tags={k: str(v) for k, v in tags.items()}) as run:
            with _record_failure(self._client, run.info.run_id):
                yield StageTracker(self._client, run.info.run_id)

    def stage_env(self, stage_run_id: str | None) -> dict[str, str]:
        """Environment for a stage launched as a subprocess, so it logs into its own nested run."""
        if not self.enabled or stage_run_id is None:
            return {}
        return {"MLFLOW_TRACKING_URI": self.tracking_uri, "MLFLOW_RUN_ID": stage_run_id,
                "MLFLOW_EXPERIMENT_NAME": self.experiment}

