"""How a recipe's stages are wired together, checked from the config alone before any stage runs.

Two rules, both raised as one-line `ConfigError`s naming the stage, the config key and the artifact:

1. Every `inputs` value ('stage.artifact') names an artifact that an EARLIER stage in `stages` declares in its
   class's `outputs` (or a model service, e.g. `serve.endpoint`). The runner would otherwise find a typo or a
   wrong order only when that stage starts, after hours of training.
2. Every stage but the last has at least one output that a later stage (or a model service around a later stage)
   reads, or that is a result in its own right: listed in its class's `final_outputs` (reports, metrics, a merged
   model, an index) or in the root key `final_outputs: [stage.artifact, ...]`. Work that nothing uses is a wiring
   mistake (e.g. a DPO adapter nobody merges while merge still reads the SFT adapter), not a result.

Inputs come from each node's `inputs` mapping and outputs from the class attributes
(`hydra.utils.get_object(target).outputs`), narrowed by the class's `outputs_for(node)` where what it writes depends
on its config (e.g. `prepare.profile=minimal` writes no corpus): nothing is instantiated, no file is touched.
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any, Mapping

from hydra.utils import get_object

from medq.errors import ConfigError


def _target(node: Any) -> Any:
    if not isinstance(node, Mapping) or "_target_" not in node:
        return None
    try:
        return get_object(str(node["_target_"]))
    except Exception:  # validate_pipeline_config reports unimportable targets
        return None


def _outputs(target: Any, node: Any) -> tuple[tuple[str, ...] | None, str]:
    """What the stage writes with this config, and why that is less than its class's `outputs` ("" if it is not)."""
    outputs = getattr(target, "outputs", None)
    narrow = getattr(target, "outputs_for", None)
    if outputs is None or narrow is None or not isinstance(node, Mapping):
        return outputs, ""
    return narrow(node)


def _declared_inputs(node: Mapping[str, Any], target: Any) -> dict[str, str] | None:
    """The node's `inputs`; None when the class has an `inputs` parameter left to its code default (unknown here)."""
    inputs = node.get("inputs")
    if isinstance(inputs, Mapping):
        return {str(k): str(v) for k, v in inputs.items()}
    try:
        takes_inputs = "inputs" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        takes_inputs = False
    return None if takes_inputs else {}


def _service_reads(node: Mapping[str, Any]) -> dict[str, str]:
    """A model service's artifact references: its `inputs` and the paths of its LoRA modules."""
    reads = {f"inputs.{k}": str(v) for k, v in (node.get("inputs") or {}).items()}
    for i, module in enumerate(node.get("lora_modules") or []):
        if isinstance(module, Mapping) and "path" in module:
            reads[f"lora_modules[{i}].path"] = str(module["path"])
    return reads


def _close(word: str, choices: list[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" Did you mean '{match[0]}'?" if match else ""


def check_wiring(config: Mapping[str, Any]) -> None:
    stages = [str(s) for s in (config.get("stages") or [])]
    position = {name: i for i, name in enumerate(stages)}
    targets = {name: _target(config.get(name)) for name in stages}
    narrowed = {name: _outputs(t, config.get(name)) for name, t in targets.items()}
    outputs = {name: written for name, (written, _) in narrowed.items()}
    services = {k: v for k, v in config.items()
                if k not in position and getattr(_target(v), "service", False) is True}
    # a service starts just before the first stage that names it, so what it reads must exist by then
    first_user: dict[str, int] = {}
    reads: list[tuple[str, str, int]] = []  # (config key, 'stage.artifact', index of the stage that needs it)
    unknown_readers: list[str] = []
    for index, name in enumerate(stages):
        declared = _declared_inputs(config[name], targets[name])
        if declared is None:
            unknown_readers.append(name)
            continue
        for local, ref in declared.items():
            reads.append((f"{name}.inputs.{local}", ref, index))
            producer = ref.partition(".")[0]
            if producer in services:
                first_user.setdefault(producer, index)
    for service, index in first_user.items():
        for key, ref in _service_reads(services[service]).items():
            if "." in ref and ref.partition(".")[0] in position:  # other lora paths: folders, models:/ URIs
                reads.append((f"{service}.{key}", ref, index))

    produced = {f"{s}.{a}" for s in stages for a in (outputs[s] or ())}
    for key, ref, index in reads:
        producer, dot, artifact = ref.partition(".")
        if not dot or not producer or not artifact:
            raise ConfigError(f"config key '{key}' = '{ref}' must name an earlier stage's artifact as 'stage.artifact' "
                              "(e.g. sft.adapter).")
        if producer in services:
            continue
        if producer not in position:
            known = stages + sorted(services)
            raise ConfigError(f"config key '{key}' = '{ref}': no stage '{producer}' runs in this pipeline and no model "
                              f"service has that name (stages: {', '.join(stages)}).{_close(producer, known)}")
        if position[producer] >= index:
            raise ConfigError(f"config key '{key}' = '{ref}': stage '{producer}' runs after the stage that reads it "
                              f"(stages: {', '.join(stages)}); reorder `stages`.")
        declared = outputs[producer]
        if declared is not None and artifact not in declared:
            why = narrowed[producer][1]
            if why and artifact in getattr(targets[producer], "outputs", ()):
                raise ConfigError(f"config key '{key}' = '{ref}': stage '{producer}' writes no '{artifact}' with this "
                                  f"config: {why}.")
            raise ConfigError(f"config key '{key}' = '{ref}': stage '{producer}' ({targets[producer].__name__}) writes "
                              f"no '{artifact}'.{_close(artifact, list(declared))} It writes: {', '.join(declared)}.")

    final = [str(f) for f in (config.get("final_outputs") or [])]
    for ref in final:
        if ref not in produced and ref.partition(".")[0] in position and outputs[ref.partition(".")[0]] is not None:
            raise ConfigError(f"config key 'final_outputs' names '{ref}', which no stage in this pipeline writes."
                              f"{_close(ref, sorted(produced))}")
    if unknown_readers:  # a stage reads its code's default inputs: what it reads is not known from the config
        return
    read_refs = {ref for _, ref, _ in reads}
    for index, name in enumerate(stages[:-1]):
        declared = outputs[name]
        if not declared:
            continue
        mine = [f"{name}.{a}" for a in declared]
        if any(ref in read_refs for ref in mine):
            continue
        results = set(getattr(targets[name], "final_outputs", ()) or ()) | {r.partition(".")[2] for r in final
                                                                          if r.partition(".")[0] == name}
        if results & set(declared):
            continue
        # the usual cause: a later stage still reads the same artifact of another stage (merge reads sft.adapter)
        instead = [f"{key} reads {ref}" for key, ref, at in reads
                   if at > index and ref.partition(".")[2] in declared and ref.partition(".")[0] != name]
        hint = f" ({'; '.join(instead)})" if instead else ""
        raise ConfigError(f"stage '{name}' writes {', '.join(mine)} but no later stage reads it{hint}: point a later "
                          f"stage's inputs at it, list it in final_outputs, or drop '{name}' from stages.")
