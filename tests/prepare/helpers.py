"""Run the prepare stage directly on files a test writes, with the project's default prepare config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from medq.config import config_dirs
from medq.prepare import PrepareStage
from medq.prepare.dedup import DedupRules, band_keys
from medq.stage import StageContext
from medq.tracking import StageTracker


def default_prepare_config() -> dict:
    config = OmegaConf.to_container(OmegaConf.load(config_dirs()[0] / "prepare" / "default.yaml"))
    config.pop("defaults")
    config.pop("_target_")
    config["progress"] = False
    return config


def prepare_stage(source, **overrides) -> PrepareStage:
    config = default_prepare_config()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    return PrepareStage(source=source, **config)


OUTPUTS = ("train", "validation", "test", "corpus", "preference_pairs", "rejects")


def output_digests(out: Path) -> dict[str, str]:
    import hashlib

    return {n: hashlib.sha256((out / f"{n}.jsonl").read_bytes()).hexdigest() for n in OUTPUTS
            if (out / f"{n}.jsonl").exists()}


def run_against_reference(tmp_path: Path, make_source, seed: int = 0, **overrides) -> dict:
    """The stage on `make_source()` and the one-record-at-a-time reference (`tests/prepare/reference.py`) on
    another `make_source()`: every output file and the data card (but its timing) must be the same."""
    from tests.prepare.reference import run_reference

    overrides.setdefault("save_hf_dataset", False)
    _, card = run_prepare(tmp_path / "engine", make_source(), seed=seed, **overrides)
    expected = run_reference(tmp_path / "reference", prepare_stage(make_source(), **overrides), seed=seed)
    assert output_digests(tmp_path / "engine") == output_digests(tmp_path / "reference")
    for volatile in ("seconds", "records_per_second"):
        card.pop(volatile)
    assert card == expected
    return card


def run_prepare(out_dir: Path, source, seed: int = 0, **overrides) -> tuple[dict, dict]:
    stage = prepare_stage(source, **overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = stage.run(StageContext("prepare", out_dir, {}, StageTracker(None, None), seed))
    card = json.loads((out_dir / "data_card.json").read_text(encoding="utf-8"))
    return artifacts, card


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def near_duplicate_reference(rules: DedupRules, signatures: np.ndarray,
                             skipped: frozenset[int] | set[int] = frozenset()) -> list[int | None]:
    """Banded LSH by its definition, one text at a time: candidates are ALL kept texts sharing a band key, the
    earliest that agrees in >= threshold x num_perm positions wins (its rank among kept texts); skipped rows
    (rejected earlier) get None and are not kept."""
    keys = band_keys(signatures, rules.bands)
    kept: list[int] = []
    verdicts: list[int | None] = []
    for i in range(len(signatures)):
        if i in skipped:
            verdicts.append(None)
            continue
        match = None
        for rank, j in enumerate(kept):
            if set(keys[i].tolist()) & set(keys[j].tolist()) and \
                    np.count_nonzero(signatures[i] == signatures[j]) >= rules.threshold * rules.num_perm:
                match = rank
                break
        verdicts.append(match)
        if match is None:
            kept.append(i)
    return verdicts
