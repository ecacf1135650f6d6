"""A failing job inside a `-m` sweep: recorded (MLflow FAILED + cause, Optuna trial FAILED), the sweep goes on, the
process exits 1 after a summary table. Real subprocesses, real MLflow and Optuna SQLite stores."""

import re

import pytest

from .conftest import mlflow_runs, run_medq

pytestmark = pytest.mark.slow
SWEEP = ["-m", "+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=40"]
CAUSE = "prepare.limit must be a positive number of records, got -5"


def test_failed_job_is_recorded_and_the_sweep_goes_on(workdir):
    result = run_medq([*SWEEP, "prepare.limit=20,-5,30"], cwd=workdir)
    assert result.returncode == 1, result.stderr[-2000:]
    assert re.search(r"^1 +failed +.*prepare\.limit=-5 .*" + re.escape(CAUSE), result.stdout, re.M), result.stdout
    assert re.search(r"^2 +ok +.*prepare\.limit=30", result.stdout, re.M), "the job after the failure ran"
    assert "3 jobs: 2 ok, 0 cached, 1 failed" in result.stdout
    _, runs = mlflow_runs(workdir, "demo")
    parents = {r.data.tags["sweep_job"]: r for r in runs if "mlflow.parentRunId" not in r.data.tags}
    assert sorted(parents) == ["0", "1", "2"]
    assert parents["1"].info.status == "FAILED" and parents["1"].data.tags["error"] == CAUSE
    assert parents["0"].info.status == parents["2"].info.status == "FINISHED"

    again = run_medq([*SWEEP, "prepare.limit=20,30"], cwd=workdir)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "2 jobs: 0 ok, 2 cached, 0 failed" in again.stdout


def test_single_run_still_exits_1_with_one_line(workdir):
    result = run_medq(["+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=40", "prepare.limit=-5"],
                      cwd=workdir)
    assert result.returncode == 1 and f"medq: error: {CAUSE}" in result.stderr
    assert "jobs:" not in result.stdout


def test_optuna_trial_of_a_failed_job_is_failed_in_the_stored_study(workdir):
    import optuna

    result = run_medq([*SWEEP, "hydra/sweeper=medq_optuna", "objective=prepare.records_out",
                       "prepare.limit=choice(-5,30)", "hydra.sweeper.n_trials=5"], cwd=workdir)
    study = optuna.load_study(study_name="demo", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    states = [t.state for t in study.trials]
    assert len(states) == 5 and optuna.trial.TrialState.RUNNING not in states
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert failed and complete, states  # the seeded sampler draws both values in 5 trials
    assert all(t.params["prepare.limit"] == -5 and CAUSE in t.user_attrs["medq_error"] for t in failed)
    assert all(0 < t.value <= 30 for t in complete), "records_out of the 30-record jobs"
    assert result.returncode == 1 and f"{len(failed)} failed" in result.stdout
