"""The runner with real (small) stages and a real MLflow SQLite store: caching, force, resume, inputs, workers."""

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from medq.errors import MedqError
from medq.runner import Pipeline
from medq.tracking import MlflowTracker

from .conftest import mlflow_runs


def make_config(root: Path, **stage_overrides):
    counter = str(root / "calls.log")
    config = {
        "name": "unit",
        "seed": 1,
        "force": False,
        "stages": ["first", "second"],
        "paths": {"artifacts_dir": str(root / "artifacts")},
        "tracking": {"_target_": "medq.tracking.MlflowTracker", "tracking_uri": f"sqlite:///{root}/mlruns/mlflow.db",
                     "experiment": "unit", "artifact_location": str(root / "mlruns" / "artifacts")},
        "first": {"_target_": "tests.stages.WriteTextStage", "text": "hello", "counter_file": counter},
        "second": {"_target_": "tests.stages.UpperCaseStage", "counter_file": counter},
    }
    for stage, values in stage_overrides.items():
        config[stage].update(values)
    return config


def run(root: Path, config, tracking=True, frozen=None):
    tracker = MlflowTracker(config["tracking"]["tracking_uri"], "unit", config["tracking"]["artifact_location"],
                            enabled=tracking)
    return Pipeline(config, root / "run", tracker, {"recipe": "unit"}, frozen).run()


def calls(root: Path) -> list[str]:
    path = root / "calls.log"
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


def test_outputs_flow_between_stages_and_second_run_is_cached(tmp_path):
    config = make_config(tmp_path)
    outcomes = run(tmp_path, config)
    assert Path(outcomes["second"].artifacts["upper"]).read_text() == '{"upper": "HELLO"}'
    assert calls(tmp_path) == ["first", "second"]
    again = run(tmp_path, config)
    assert calls(tmp_path) == ["first", "second"], "nothing may run again when configs and inputs are unchanged"
    assert again["first"].cached and again["second"].cached
    assert again["second"].metrics == {"chars": 5.0}


def test_force_reruns_every_stage(tmp_path):
    config = make_config(tmp_path)
    run(tmp_path, config)
    run(tmp_path, {**config, "force": True})
    assert calls(tmp_path) == ["first", "second", "first", "second"]


def test_changed_config_reruns_that_stage_and_everything_downstream(tmp_path):
    run(tmp_path, make_config(tmp_path))
    outcomes = run(tmp_path, make_config(tmp_path, first={"text": "bye"}))
    assert calls(tmp_path) == ["first", "second", "first", "second"]
    assert '"BYE"' in Path(outcomes["second"].artifacts["upper"]).read_text()


def test_rendezvous_keys_are_not_part_of_the_cache_key_but_the_rest_of_the_layout_is(tmp_path):
    # a SLURM job resubmitted on other nodes meets at another endpoint under another id: nothing is retrained
    first = {"distributed": {"rdzv_endpoint": "node-a:29500", "rdzv_id": "1001", "rdzv_backend": "static",
                             "deepspeed": None}}
    run(tmp_path, make_config(tmp_path, first=first))
    moved = {"distributed": {"rdzv_endpoint": "node-b:29400", "rdzv_id": "2002", "rdzv_backend": "c10d",
                             "deepspeed": None}}
    assert run(tmp_path, make_config(tmp_path, first=moved))["first"].cached
    assert calls(tmp_path) == ["first", "second"]
    # a DeepSpeed config may change what training computes: that stage runs again (the next one too, unless the
    # output it reads comes out byte-identical, as this toy stage's does)
    zero = {"distributed": {**moved["distributed"], "deepspeed": {"zero_optimization": {"stage": 2}}}}
    assert not run(tmp_path, make_config(tmp_path, first=zero))["first"].cached
    assert calls(tmp_path) == ["first", "second", "first"]


def test_changed_external_input_file_invalidates_the_cache(tmp_path):
    source = tmp_path / "raw.txt"
    source.write_text("a")
    config = make_config(tmp_path, first={"source_file": str(source)})
    run(tmp_path, config)
    run(tmp_path, config)
    source.write_text("b")
    outcomes = run(tmp_path, config)
    assert calls(tmp_path) == ["first", "second", "first", "second"]
    assert Path(outcomes["second"].artifacts["upper"]).read_text() == '{"upper": "HELLOB"}'


def test_an_input_edited_while_its_stage_runs_is_never_served_from_the_cache(tmp_path, caplog):
    # the stage hashes raw.txt ("a"), then the file is edited ("edited") before the stage reads it: the result
    # belongs to no cache key, so it serves this run only; with "a" back, the stage runs again and reads "a"
    source, marker = tmp_path / "raw.txt", tmp_path / "edit-now"
    source.write_text("a")
    marker.touch()
    config = make_config(tmp_path, first={"source_file": str(source), "edit_source_while_exists": str(marker)})
    first = run(tmp_path, config)
    assert Path(first["first"].artifacts["text"]).read_text() == "helloedited"
    manifest = json.loads((first["first"].output_dir / "manifest.json").read_text())
    assert manifest["status"] == "changed_during_run" and manifest["changed_during_run"] == [str(source)]
    assert "changed while it ran" in caplog.text
    source.write_text("a")
    again = run(tmp_path, config)
    assert not again["first"].cached and Path(again["first"].artifacts["text"]).read_text() == "helloa"
    assert run(tmp_path, config)["first"].cached
    assert calls(tmp_path) == ["first", "second", "first", "second"]


def test_failed_pipeline_resumes_at_the_failed_stage(tmp_path):
    with pytest.raises(RuntimeError, match="told to fail"):
        run(tmp_path, make_config(tmp_path, second={"fail": True}))
    leftovers = [p.name for p in (tmp_path / "artifacts" / "second").iterdir()]
    assert leftovers == [], f"a failed stage must leave no partial output, found {leftovers}"
    run(tmp_path, make_config(tmp_path))
    assert calls(tmp_path) == ["first", "second", "second"], "stage 1 is reused, stage 2 runs again"


def test_scratch_dir_survives_failed_attempts_and_is_removed_after_success(tmp_path):
    switch = tmp_path / "fail-now"
    switch.touch()
    config = make_config(tmp_path, first={"fail_while_exists": str(switch)})
    for _ in range(2):
        with pytest.raises(RuntimeError):
            run(tmp_path, config, tracking=False)
    stage_dir = tmp_path / "artifacts" / "first"
    assert [p.name for p in stage_dir.iterdir()] == [p.name for p in stage_dir.glob(".*.scratch")], \
        "a failed attempt leaves only its scratch folder"
    switch.unlink()
    outcomes = run(tmp_path, config, tracking=False)
    attempts = [line.split("attempt=")[1] for line in (tmp_path / "calls.log").read_text().splitlines() if "attempt=" in line]
    assert attempts == ["1", "2", "3"], "each attempt sees what the previous one left in scratch"
    assert list(stage_dir.iterdir()) == [outcomes["first"].output_dir], "scratch is removed after success"


def test_missing_upstream_artifact_is_a_clear_error(tmp_path):
    config = make_config(tmp_path, second={"inputs": {"text": "first.nope"}})
    with pytest.raises(MedqError, match=r"stage 'second' needs input 'text' = 'first.nope'.*Available: first.text"):
        run(tmp_path, config, tracking=False)


def test_stage_runs_in_a_worker_process_from_the_frozen_config(tmp_path):
    config = make_config(tmp_path, first={"launcher": "subprocess"})
    frozen = tmp_path / "resolved_config.yaml"
    frozen.write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    outcomes = run(tmp_path, config, frozen=frozen)
    pids = [line.split("pid=")[1] for line in (tmp_path / "calls.log").read_text().splitlines() if "pid=" in line]
    import os

    assert pids and pids[0] != str(os.getpid()), "the stage must have run in another process"
    assert Path(outcomes["second"].artifacts["upper"]).read_text() == '{"upper": "HELLO"}'
    assert outcomes["first"].metrics == {"chars": 5.0}
    client, runs = mlflow_runs(tmp_path, "unit")
    first = [r for r in runs if r.info.run_name == "first"][0]
    assert first.data.metrics["chars"] == 5.0, "the worker logs into the stage's nested MLflow run"


def test_mlflow_gets_a_parent_run_with_nested_stage_runs(tmp_path):
    run(tmp_path, make_config(tmp_path))
    run(tmp_path, make_config(tmp_path))
    client, runs = mlflow_runs(tmp_path, "unit")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 2
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(c.info.run_name for c in children) == ["first", "second"]
        assert parent.data.params["first.text"] == "hello"
        assert parent.data.tags["recipe"] == "unit"
        assert parent.data.metrics["second.chars"] == 5.0
    cached = [r for r in runs if r.data.tags.get("cached") == "true"]
    assert len(cached) == 2 and all(r.data.tags["cached_from_run"] for r in cached)


def test_editing_a_stage_source_invalidates_its_cache(tmp_path, monkeypatch):
    import shutil
    import sys

    for name in ("pkg_stage", "pkg_other"):  # the second stage's code must not change under the test
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        shutil.copy(Path(__file__).parent / "stages.py", tmp_path / name / "stages.py")
    package = tmp_path / "pkg_stage"
    monkeypatch.syspath_prepend(str(tmp_path))
    config = make_config(tmp_path, first={"_target_": "pkg_stage.stages.WriteTextStage"},
                         second={"_target_": "pkg_other.stages.UpperCaseStage"})
    run(tmp_path, config, tracking=False)
    run(tmp_path, config, tracking=False)
    assert calls(tmp_path) == ["first", "second"]
    with open(package / "stages.py", "a") as handle:
        handle.write("\n# an edit\n")
    run(tmp_path, config, tracking=False)
    # first reruns; its output is byte-identical, so second (keyed on that content) stays cached
    assert calls(tmp_path) == ["first", "second", "first"]
    for module in ("pkg_stage", "pkg_stage.stages", "pkg_other", "pkg_other.stages"):
        sys.modules.pop(module, None)


def test_torchrun_launcher_starts_every_rank_from_the_frozen_config(tmp_path):
    config = make_config(tmp_path, first={"launcher": "torchrun", "num_processes": 2})
    frozen = tmp_path / "resolved_config.yaml"
    frozen.write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    outcomes = run(tmp_path, config, tracking=False, frozen=frozen)
    ranks = sorted(line.split("rank=")[1].split()[0] for line in (tmp_path / "calls.log").read_text().splitlines()
                   if line.startswith("first"))
    assert ranks == ["0", "1"], "torchrun started two ranks of the stage worker"
    assert Path(outcomes["second"].artifacts["upper"]).read_text() == '{"upper": "HELLO"}'
