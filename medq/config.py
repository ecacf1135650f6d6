"""Where medq's configs live, how recipes become a Hydra group, and validation of the composed config.

The class signatures of the `_target_`s are the schema: every key under a `_target_` node must be a parameter
of that callable (or a field of the dataclass a parameter is annotated with), so a typo fails before any work
starts, with the valid keys in the message.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping

from hydra.core.config_store import ConfigStore
from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue

from medq.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent
# The directory medq was started from, usable before Hydra's own `${hydra:runtime.cwd}` exists (sweep dirs).
if not OmegaConf.has_resolver("medq.cwd"):
    OmegaConf.register_new_resolver("medq.cwd", os.getcwd)
# A file shipped inside the medq package (e.g. the demo suites: ${medq.package:evaluate/demo_suites}).
if not OmegaConf.has_resolver("medq.package"):
    OmegaConf.register_new_resolver("medq.package", lambda relative="": str(_PACKAGE_DIR / relative))
HYDRA_KEYS = {"_target_", "_partial_", "_convert_", "_recursive_", "_args_"}
ROOT_KEYS = {"stages": "ordered list of stage names to run", "force": "rerun cached stages",
             "seed": "global seed", "paths": "folders", "tracking": "MLflow settings",
             "name": "pipeline name (MLflow experiment and run folder)",
             "objective": "'stage.metric' the run returns (what an Optuna sweep optimises)",
             "final_outputs": "'stage.artifact's that are results of the run although no later stage reads them",
             "distributed": "process layout of every training stage (conf/distributed/*.yaml)",
             "demo": "set by the tiny-model demo recipes: they check the pipeline, they do not train a model",
             "allow_demo_settings": "true: allow a real model (base_model=qwen3_*) on a demo recipe"}
# what a demo recipe run on a real model should be instead
REAL_MODEL_RECIPES = ("sft_qwen3_8b_cmedqa2", "sft_dpo_qwen3_8b_cmedqa2", "dpo_qwen32b")


def config_dirs() -> tuple[Path, Path]:
    """(conf dir, recipes dir): the source checkout's top-level folders, or the copies bundled in the wheel."""
    checkout = _PACKAGE_DIR.parent
    if (checkout / "conf" / "config.yaml").is_file() and (checkout / "recipes").is_dir():
        return checkout / "conf", checkout / "recipes"
    return _PACKAGE_DIR / "conf", _PACKAGE_DIR / "recipes"


def recipe_names() -> list[str]:
    return sorted(p.stem for p in config_dirs()[1].glob("*.yaml"))


def register_recipes() -> None:
    """Expose `recipes/NAME.yaml` as the Hydra group `recipe`, so `+recipe=NAME` selects it."""
    store = ConfigStore.instance()
    for path in sorted(config_dirs()[1].glob("*.yaml")):
        store.store(group="recipe", name=path.stem, node=OmegaConf.load(path), package="_global_",
                    provider="medq recipes")


def config_groups() -> list[str]:
    conf_dir = config_dirs()[0]
    groups = {p.parent.relative_to(conf_dir).as_posix() for p in conf_dir.rglob("*.yaml") if p.parent != conf_dir}
    return sorted(groups | {"recipe"})


def _suggest(key: str, valid: Iterable[str], path: str = "") -> str:
    valid = sorted(str(v) for v in valid)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f" Did you mean '{path + '.' if path else ''}{close[0]}'?" if close else ""
    return f"{hint} Valid keys{' under ' + repr(path) if path else ''}: {', '.join(valid)}."


def unknown_key_error(path: str, key: str, valid: Iterable[str]) -> ConfigError:
    full = f"{path}.{key}" if path else key
    return ConfigError(f"unknown config key '{full}'.{_suggest(key, valid, path)}")


def override_error(composed: DictConfig, overrides: Iterable[str], exc: Exception) -> ConfigError:
    """Hydra's refusal of command-line overrides as one line: an override of a key the composed config (`composed`,
    without those overrides) does not have is `unknown_key_error`, naming the key, its likely spelling and the valid
    ones; anything else is Hydra's own message on one line (its message spans several, with a traceback hint)."""
    for override in overrides:
        key = override.split("=", 1)[0].strip()
        if key.startswith("+") or "=" not in override:   # appending a new key is allowed; a bare word is not a key
            continue
        node: Any = composed
        parts = key.lstrip("~").split(".")
        for depth, part in enumerate(parts):
            if not isinstance(node, DictConfig):
                break
            if part not in node:
                return unknown_key_error(".".join(parts[:depth]), part, [str(k) for k in node.keys()])
            node = node._get_node(part)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and "HYDRA_FULL_ERROR" not in line]
    return ConfigError(" ".join(lines) or type(exc).__name__)


def _type_hints(target: Any) -> dict[str, Any]:
    func = target.__init__ if inspect.isclass(target) else target
    try:
        return typing.get_type_hints(func, include_extras=True)  # extras: the path checks of medq/paths.py
    except Exception:  # unresolvable forward references: fall back to key checks only
        return {}


def _check_type(path: str, annotation: Any, value: Any) -> None:
    import pydantic

    try:
        pydantic.TypeAdapter(annotation).validate_python(value)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "value_error":  # a medq validator (medq/paths.py): its message says what is wrong
            message = str(first["msg"]).removeprefix("Value error, ")
            # the item that failed, e.g. prepare.contamination.eval_sets[0].path, not the whole list
            where = path + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
            raise ConfigError(f"config key '{where}' = {first['input']!r}: {message}.") from None
        raise ConfigError(f"config key '{path}' = {value!r} is invalid: {first['msg']} (expected {annotation}).") from None
    except pydantic.PydanticSchemaGenerationError:
        pass


def _validate_dataclass(path: str, cls: type, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ConfigError(f"config key '{path}' must be a mapping with keys {', '.join(f.name for f in dataclasses.fields(cls))}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls, include_extras=True)
    for key, item in value.items():
        if key not in fields:
            raise unknown_key_error(path, key, fields)
        _validate_value(f"{path}.{key}", hints.get(key), item)
    # a dataclass's own cross-field checks (e.g. evaluate.cmmlu: every listed subject has its CSV) run here too
    if callable(getattr(cls, "validate", None)):
        as_dataclass(cls, value).validate()


def _dataclass_in(annotation: Any) -> type | None:
    if dataclasses.is_dataclass(annotation):
        return annotation
    for arg in typing.get_args(annotation):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def _validate_value(path: str, annotation: Any, value: Any) -> None:
    if isinstance(value, Mapping) and "_target_" in value:
        validate_target_node(path, value)
        return
    if isinstance(value, list) and any(isinstance(v, Mapping) and "_target_" in v for v in value):
        for i, item in enumerate(value):
            _validate_value(f"{path}[{i}]", None, item)
        return
    if annotation is None or annotation is Any:
        return
    dataclass = _dataclass_in(annotation)
    if dataclass is not None and isinstance(value, Mapping):
        _validate_dataclass(path, dataclass, value)
        return
    _check_type(path, annotation, value)


def validate_target_node(path: str, node: Mapping[str, Any]) -> None:
    target_name = node["_target_"]
    try:
        target = get_object(target_name)
    except Exception as exc:
        raise ConfigError(f"config key '{path}._target_' = '{target_name}' cannot be imported: {exc}") from None
    signature = inspect.signature(target)
    params = {n: p for n, p in signature.parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    hints = _type_hints(target)
    for key, value in node.items():
        if key in HYDRA_KEYS:
            continue
        if key not in params:
            if takes_kwargs:
                continue
            raise unknown_key_error(path, key, params)
        _validate_value(f"{path}.{key}", hints.get(key), value)
    if not node.get("_partial_", False):
        missing = [n for n, p in params.items() if p.default is p.empty and n not in node]
        if missing:
            raise ConfigError(f"config '{path}' ({target_name}) is missing required key(s): {', '.join(missing)}.")


def validate_pipeline_config(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """Resolve and validate the whole config; returns it as a plain container."""
    if isinstance(cfg, (DictConfig, ListConfig)):
        if isinstance(cfg, DictConfig):  # first: a demo recipe on a real model is the mistake, not its unset path
            check_demo_settings(OmegaConf.to_container(cfg, resolve=False))
        try:
            container = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        except MissingMandatoryValue as exc:
            raise ConfigError(f"config key '{exc.full_key}' must be set (e.g. {exc.full_key}=VALUE on the command line)") from None
        except Exception as exc:
            raise ConfigError(f"config cannot be resolved: {exc}".splitlines()[0]) from None
    else:
        container = dict(cfg)
    if isinstance(container.get("distributed"), Mapping):  # the root node: its typos named as 'distributed.<key>'
        from medq.stage import Distributed

        _validate_dataclass("distributed", Distributed, container["distributed"])
    inherit_distributed(container)
    stage_keys = {k for k, v in container.items() if k not in ROOT_KEYS and isinstance(v, Mapping) and "_target_" in v}
    for key in container:
        if key not in ROOT_KEYS and key not in stage_keys:
            raise unknown_key_error("", key, set(ROOT_KEYS) | stage_keys)
    stages = container.get("stages") or []
    if not isinstance(stages, list) or not all(isinstance(s, str) for s in stages):
        raise ConfigError("config key 'stages' must be a list of stage names.")
    for name in stages:
        if name not in stage_keys:
            raise ConfigError(f"stage '{name}' in 'stages' has no config with a _target_.{_suggest(name, stage_keys)}")
    for key in sorted(stage_keys):
        validate_target_node(key, container[key])
    check_demo_settings(container)
    if "tracking" in container and isinstance(container["tracking"], Mapping) and "_target_" in container["tracking"]:
        validate_target_node("tracking", container["tracking"])
    return container


def inherit_distributed(container: dict[str, Any]) -> None:
    """Fill each stage's `distributed` keys left null from the root `distributed` node.

    An OmegaConf interpolation (`sft.distributed: ${distributed}`) cannot do this: an override of one nested key
    (`sft.distributed.num_processes=2`) replaces the whole interpolated node with that one key, silently dropping
    the DeepSpeed config. So the stage node lists every key as null (conf/sft/default.yaml) and the root node fills
    what the stage does not set; the frozen config and the cache key see the merged values."""
    root = container.get("distributed")
    root = dict(root) if isinstance(root, Mapping) else {}
    for key, node in container.items():
        own = node.get("distributed") if isinstance(node, Mapping) and "_target_" in node else None
        if isinstance(own, Mapping):
            container[key] = {**node, "distributed": {**root, **{k: v for k, v in own.items() if v is not None}}}


def check_demo_settings(container: Mapping[str, Any]) -> None:
    """A demo recipe's settings (learning rate for a 0.3M-parameter model, 96 DPO pairs, fp32 merge with the
    weights copied into MLflow, synthetic data) are wrong for a real model: refuse the swap unless asked for."""
    base = container.get("base_model")
    if not container.get("demo") or not isinstance(base, Mapping) or base.get("source", "tiny") == "tiny":
        return
    if not container.get("allow_demo_settings"):
        raise ConfigError(f"recipe '{container.get('name')}' is a demo that checks the pipeline on the tiny model; "
                          f"its settings do not train a real model (base_model.source = {base.get('source')!r}). "
                          f"Use +recipe={' or +recipe='.join(REAL_MODEL_RECIPES)}, or set "
                          f"allow_demo_settings=true to run the demo's settings anyway.")


def as_dataclass(cls: type, value: Any) -> Any:
    """Build a dataclass, and the dataclasses in its fields and list fields, from the plain dict Hydra passes in."""
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, item in dict(value).items():
        hint = hints.get(key)
        element = next((a for a in (hint, *typing.get_args(hint)) if typing.get_origin(a) is list), None)
        element_type = typing.get_args(element)[0] if element is not None else None
        if isinstance(item, list) and dataclasses.is_dataclass(element_type):
            item = [as_dataclass(element_type, v) for v in item]
        elif dataclasses.is_dataclass(hint) and isinstance(item, Mapping):
            item = as_dataclass(hint, item)
        kwargs[key] = item
    return cls(**kwargs)
