"""Small real stages for runner tests: they write files, count their executions, and can be told to fail."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace


class WriteTextStage:
    def __init__(self, text: str, counter_file: str, fail: bool = False, launcher: str | None = None,
                 source_file: str | None = None, fail_while_exists: str | None = None, num_processes: int = 1,
                 distributed: dict | None = None, edit_source_while_exists: str | None = None):
        # the runner's torchrun layout
        self.distributed = SimpleNamespace(**{"num_processes": num_processes, **(distributed or {})})
        self.fail_while_exists = Path(fail_while_exists) if fail_while_exists else None
        # a user who edits the stage's input file while the stage runs (once: the marker file is removed)
        self.edit_source_while_exists = Path(edit_source_while_exists) if edit_source_while_exists else None
        self.text = text
        self.counter_file = Path(counter_file)
        self.fail = fail
        self.launcher = launcher
        self.source_file = source_file

    def external_inputs(self):
        return [Path(self.source_file)] if self.source_file else []

    def run(self, ctx):
        self.counter_file.parent.mkdir(parents=True, exist_ok=True)
        ctx.scratch_dir.mkdir(exist_ok=True)
        attempts = ctx.scratch_dir / "attempts"
        attempts.write_text(str(int(attempts.read_text()) + 1 if attempts.exists() else 1))
        with open(self.counter_file, "a") as handle:
            handle.write(f"{ctx.stage} pid={os.getpid()} rank={os.environ.get('RANK', '-')} "
                         f"attempt={attempts.read_text()}\n")
        if self.fail or (self.fail_while_exists and self.fail_while_exists.exists()):
            raise RuntimeError("told to fail")
        if self.edit_source_while_exists and self.edit_source_while_exists.exists():
            self.edit_source_while_exists.unlink()
            Path(self.source_file).write_text("edited")
        extra = Path(self.source_file).read_text() if self.source_file else ""
        (ctx.output_dir / "out.txt").write_text(self.text + extra)
        ctx.tracker.log_metrics({"chars": len(self.text + extra)})
        return {"text": "out.txt"}


class UpperCaseStage:
    """Reads an earlier stage's artifact through `inputs`."""

    def __init__(self, counter_file: str, inputs: dict[str, str] | None = None, fail: bool = False):
        self.counter_file = Path(counter_file)
        self.inputs = inputs or {"text": "first.text"}
        self.fail = fail

    def run(self, ctx):
        with open(self.counter_file, "a") as handle:
            handle.write(f"{ctx.stage}\n")
        if self.fail:
            raise RuntimeError("told to fail")
        text = ctx.inputs["text"].read_text()
        (ctx.output_dir / "upper.json").write_text(json.dumps({"upper": text.upper()}))
        ctx.tracker.log_metrics({"chars": len(text)})
        return {"upper": "upper.json"}


class RegisteringStage(WriteTextStage):
    """Has a post-publish step that records the folder it was given (as a model registry would), or fails."""

    def __init__(self, registry_file: str, fail_after_publish: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.registry_file = Path(registry_file)
        self.fail_after_publish = fail_after_publish

    def after_publish(self, ctx, output_dir):
        if self.fail_after_publish:
            raise RuntimeError("registry unreachable")
        from medq.artifacts import pin_version

        version = pin_version(output_dir, "registered by the test")
        with open(self.registry_file, "a") as handle:
            handle.write(f"{version}\n")
