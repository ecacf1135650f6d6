import os

# One thread each: NumPy and torch fight over this machine's two cores (measured 9x slower with two).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# real model servers shared by every test package (at most one vLLM start per run): tests/fixtures/servers.py
pytest_plugins = ["tests.fixtures.servers", "tests.fixtures.training"]


# Markers by what a test needs (README "Tests"): `pytest -m "not vllm"` runs everything but the vLLM tests. A test
# gets the marker of every fixture it uses, directly or through another fixture; a test that picks its server at
# run time (request.getfixturevalue) carries the marker in its module (`pytestmark`).
DEPENDENCY_MARKERS = {"vllm_server": "vllm", "transformers_server": "transformers_serve",
                      "opensearch_url": "opensearch", "postgres_server": "postgres", "chromium": "browser"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & DEPENDENCY_MARKERS.keys():
            item.add_marker(DEPENDENCY_MARKERS[fixture])


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh directory to run medq from; everything it writes (artifacts, mlruns, outputs) lands here."""
    monkeypatch.delenv("MEDQ_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_medq(args, cwd, env=None, timeout=300):
    """`python -m medq ...` in a real subprocess, the way users run it."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MEDQ_HOME", None)
    return subprocess.run([sys.executable, "-m", "medq", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def mlflow_runs(root: Path, experiment: str):
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{root}/mlruns/mlflow.db")
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"no MLflow experiment {experiment!r} under {root}/mlruns"
    return client, client.search_runs([exp.experiment_id], max_results=1000)
