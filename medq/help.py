"""`python -m medq --help`: what a newcomer needs to choose a run — every stage with the artifacts it reads and
writes, every recipe with its stages, the config groups — instead of Hydra's dump of the whole default config."""

from __future__ import annotations

import warnings
from typing import Any

from omegaconf import OmegaConf

from medq.config import config_dirs, config_groups, recipe_names

USAGE = """\
medq — config-first toolkit for Chinese medical LLM assistants.

Usage:
  python -m medq +recipe=NAME [key=value ...]          run a recipe (recipes/NAME.yaml)
  python -m medq -m +recipe=NAME a=1,2 b=x,y           multirun sweep: one MLflow run per job, a summary at the end
  python -m medq +recipe=NAME --validate               check config, paths and stage wiring; run nothing
  python -m medq +recipe=NAME --cfg job                validate, print the composed config, run nothing
  python -m medq +recipe=NAME force=true               rerun stages even when their outputs are cached
  python -m medq --hydra-help                          Hydra's own flags
"""


def _compose(recipe: str) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dirs()[0]), version_base="1.3"):
            cfg = compose("config", overrides=[f"+recipe={recipe}"])
        return OmegaConf.to_container(cfg, resolve=False)
    finally:
        GlobalHydra.instance().clear()


def stage_interface(node: dict[str, Any]) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """(target, {input: "stage.artifact"}, output names) of a stage config node, without running anything."""
    import hydra.utils

    target = str(node["_target_"])
    inputs = node.get("inputs")
    cls: Any = None
    try:
        cls = hydra.utils.get_object(target)
        if not isinstance(inputs, dict):  # the class's defaults: build it without building its components
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                inputs = getattr(hydra.utils.instantiate(node, _recursive_=False, _convert_="all"), "inputs", None)
    except Exception:
        pass
    return target, dict(inputs or {}), tuple(getattr(cls, "outputs", ()) or ())


def render_help() -> str:
    stages: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {}
    recipes: dict[str, list[str]] = {}
    for recipe in recipe_names():
        try:
            config = _compose(recipe)
        except Exception as exc:  # a broken recipe must not hide the others
            recipes[recipe] = [f"(cannot compose: {str(exc).splitlines()[0]})"]
            continue
        recipes[recipe] = list(config.get("stages") or [])
        for name in recipes[recipe]:
            if name not in stages and isinstance(config.get(name), dict) and "_target_" in config[name]:
                stages[name] = stage_interface(config[name])
    lines = [USAGE, "Stages (reads: input <- stage.artifact; writes: artifacts other stages can read):"]
    width = max((len(n) for n in stages), default=0)
    for name, (target, inputs, outputs) in stages.items():
        lines.append(f"  {name:<{width}}  {target}")
        reads = ", ".join(f"{k} <- {v}" for k, v in inputs.items()) or "external files only"
        lines.append(f"  {'':<{width}}    reads:  {reads}")
        lines.append(f"  {'':<{width}}    writes: {', '.join(outputs) or '(not declared)'}")
    lines += ["", "Recipes (+recipe=NAME):"]
    width = max((len(n) for n in recipes), default=0)
    lines += [f"  {name:<{width}}  {' -> '.join(s) or '(no stages)'}" for name, s in recipes.items()]
    conf_dir = config_dirs()[0]
    lines += ["", "Config groups (group=option):"]
    for group in config_groups():
        if group.startswith("hydra"):
            continue
        options = recipe_names() if group == "recipe" else sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
        lines.append(f"{group}: {', '.join(options)}")
    lines += ["", "Any key can be overridden with key=value; `--cfg job` shows them all. Docs: README.md, docs/."]
    return "\n".join(lines)
