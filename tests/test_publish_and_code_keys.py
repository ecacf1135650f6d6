"""Cache keys from the stage's import closure; atomic, versioned publishing; the post-publish step."""

import json
import shutil
import sys
import threading
from pathlib import Path

import pytest

from medq.artifacts import atomic_path, publish_directory
from medq.code_hash import module_closure

from .test_runner import calls, make_config, run

TRAINING = ["medq.train.sft", "medq.train.dpo", "medq.train.base_model"]  # sft, dpo and base_model stages


def test_closure_of_the_real_stages_follows_imports_not_folders():
    closures = {m: module_closure([m]) for m in [*TRAINING, "medq.train.merge", "medq.evaluate.stage"]}
    for module in TRAINING:
        assert "medq.train.merge" not in closures[module], f"editing merge.py must not retrain ({module})"
    assert "medq.train.merge" in closures["medq.train.merge"]
    # evaluate imports the chat template, model loading and device from medq.model (some inside functions), and
    # nothing of training: editing sft.py must not re-evaluate
    assert {"medq.model.chat_template", "medq.model.loading", "medq.model.device"} <= set(closures["medq.evaluate.stage"])
    assert not [m for m in closures["medq.evaluate.stage"] if m.startswith("medq.train")]
    for closure in closures.values():
        assert not {"medq.runner", "medq.stage", "medq.cli", "medq.config", "medq.tracking"} & set(closure), \
            "the spine is not keyed"


def _package(root: Path) -> Path:
    """pkg_closure/{__init__,stages,helper,unrelated}.py: the stage imports helper inside run()."""
    package = root / "pkg_closure"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg_closure import unrelated  # re-exported, not used by the stage\n")
    source = (Path(__file__).parent / "stages.py").read_text()
    source = source.replace("    def run(self, ctx):\n", "    def run(self, ctx):\n        from pkg_closure.helper import SUFFIX  # noqa\n", 1)
    (package / "stages.py").write_text(source)
    (package / "helper.py").write_text("SUFFIX = ''\n")
    (package / "unrelated.py").write_text("X = 1\n")
    return package


def test_only_modules_the_stage_imports_invalidate_its_cache(tmp_path, monkeypatch):
    package = _package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = make_config(tmp_path, first={"_target_": "pkg_closure.stages.WriteTextStage"})
    try:
        outcomes = run(tmp_path, config, tracking=False)
        manifest = json.loads((outcomes["first"].output_dir / "manifest.json").read_text())
        assert set(manifest["code"]) == {"pkg_closure.stages", "pkg_closure.helper", "medq.artifacts"}, manifest["code"]
        (package / "unrelated.py").write_text("X = 2  # an edit the stage cannot see\n")
        (package / "__init__.py").write_text("# edited parent package\n")
        run(tmp_path, config, tracking=False)
        assert calls(tmp_path) == ["first", "second"], "an edit outside the stage's imports reran it"
        (package / "helper.py").write_text("SUFFIX = '!'  # imported inside run(): the stage uses it\n")
        run(tmp_path, config, tracking=False)
        assert calls(tmp_path) == ["first", "second", "first"], "a function-level import was not keyed"
    finally:
        for module in [m for m in sys.modules if m.startswith("pkg_closure")]:
            sys.modules.pop(module)


def test_published_stage_folder_is_a_link_to_an_immutable_version(tmp_path):
    config = make_config(tmp_path)
    first = run(tmp_path, config, tracking=False)["first"].output_dir
    assert first.is_symlink() and (first / "manifest.json").is_file()
    old_version = first.resolve()
    assert old_version.parent == tmp_path / "artifacts" / ".versions" / "first"
    run(tmp_path, {**config, "force": True}, tracking=False)
    assert first.resolve() != old_version and (first / "out.txt").read_text() == "hello"
    assert old_version.exists(), "the just-replaced version stays for readers that resolved the link before"


def test_replacing_a_folder_never_leaves_a_moment_without_it(tmp_path):
    target = tmp_path / "store"
    seen_missing = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            if not (target / "data.txt").is_file():
                seen_missing.append(1)

    staged = tmp_path / "first"
    staged.mkdir()
    (staged / "data.txt").write_text("0")
    publish_directory(staged, target)
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(1, 150):
            with atomic_path(target) as new:  # the generic helper takes the same route for folders
                new.mkdir()
                (new / "data.txt").write_text(str(i))
    finally:
        stop.set()
        thread.join()
    assert not seen_missing, f"the folder was missing {len(seen_missing)} times during replacement"
    assert (target / "data.txt").read_text() == "149"
    versions = [p for p in (tmp_path / ".store.versions").iterdir() if p.is_dir()]
    assert len(versions) == 150, "replaced versions stay for a grace period (readers may still walk them)"
    staged = tmp_path / "last"
    staged.mkdir()
    publish_directory(staged, target, grace_s=0)
    versions = [p for p in (tmp_path / ".store.versions").iterdir() if p.is_dir()]
    assert len(versions) == 2, "after the grace period only the current and the just-replaced version stay"


def test_after_publish_sees_the_published_folder_and_force_keeps_a_pinned_version(tmp_path):
    registry = tmp_path / "registry.txt"
    config = make_config(tmp_path, first={"_target_": "tests.stages.RegisteringStage", "registry_file": str(registry)})
    outcome = run(tmp_path, config, tracking=False)["first"]
    [registered] = registry.read_text().split()
    assert Path(registered) == outcome.output_dir.resolve(), "registered what the runner published, not a guess"
    assert (Path(registered) / "manifest.json").is_file()
    run(tmp_path, {**config, "force": True}, tracking=False)
    assert (Path(registered) / "out.txt").read_text() == "hello", "force must not delete a registered folder"
    assert len(registry.read_text().split()) == 2


def test_failed_after_publish_unpublishes_so_the_next_run_redoes_the_stage(tmp_path):
    registry = tmp_path / "registry.txt"
    config = make_config(tmp_path, first={"_target_": "tests.stages.RegisteringStage", "registry_file": str(registry),
                                          "fail_after_publish": True})
    with pytest.raises(RuntimeError, match="registry unreachable"):
        run(tmp_path, config, tracking=False)
    assert list((tmp_path / "artifacts" / "first").iterdir()) == []
    config["first"]["fail_after_publish"] = False
    run(tmp_path, config, tracking=False)
    assert calls(tmp_path) == ["first", "first", "second"]
    assert registry.read_text().strip()


def test_a_folder_published_before_versioning_is_adopted_then_replaced(tmp_path):
    target = tmp_path / "stage" / "abc"
    target.mkdir(parents=True)
    (target / "old.txt").write_text("old")
    staged = tmp_path / "new"
    staged.mkdir()
    (staged / "new.txt").write_text("new")
    version = publish_directory(staged, target, tmp_path / ".versions")
    assert target.is_symlink() and target.resolve() == version and (target / "new.txt").read_text() == "new"
    [legacy] = [p for p in (tmp_path / ".versions").iterdir() if p.is_dir() and p != version]
    assert (legacy / "old.txt").read_text() == "old", "the old folder is kept as the just-replaced version"


@pytest.mark.parametrize("pinned", [True, False])
def test_a_pinned_version_survives_later_replacements(tmp_path, pinned):
    from medq.artifacts import pin_version

    target = tmp_path / "model"
    versions = []
    for i in range(3):
        staged = tmp_path / f"s{i}"
        staged.mkdir()
        (staged / "weights").write_text(str(i))
        versions.append(publish_directory(staged, target, grace_s=0))
        if i == 0 and pinned:
            pin_version(target, "registered")  # what merge's after_publish does for a registry entry
    assert versions[0].exists() is pinned, "pinned: kept; unpinned and two generations old: deleted"
    assert versions[1].exists() and versions[2].exists()
