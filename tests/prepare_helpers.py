"""Run the prepare stage directly on files a test writes, with the project's default prepare config."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from medq.config import config_dirs
from medq.prepare import PrepareStage
from medq.runner import StageContext
from medq.tracking import StageTracker


def default_prepare_config() -> dict:
    config = OmegaConf.to_container(OmegaConf.load(config_dirs()[0] / "prepare" / "default.yaml"))
    config.pop("defaults")
    config.pop("_target_")
    config["progress"] = False
    return config


def run_prepare(out_dir: Path, source, seed: int = 0, **overrides) -> tuple[dict, dict]:
    config = default_prepare_config()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    stage = PrepareStage(source=source, **config)
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = stage.run(StageContext("prepare", out_dir, {}, StageTracker(None, None), seed))
    card = json.loads((out_dir / "data_card.json").read_text(encoding="utf-8"))
    return artifacts, card


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
