"""Instantiating `_target_` configs that were read from a file (a pipeline YAML, an `index.json`), not composed by
the user's own Hydra config.

Hydra imports and calls whatever a `_target_` names; its blocklist stops `os.system` and friends, but a file whose
rewriter is `_target_: pathlib.Path.touch` creates files and `urllib.request.urlopen` fetches URLs. A file is data,
so every `_target_` in it must be one of medq's own classes, or a name the caller's config allows explicitly
(`allowed_targets`). The check runs on the text before anything is imported (importing a module can run code), and
again on the object the name resolves to, so `medq.rag.query.urllib.request.urlopen` (an attribute chain through a
medq module) is refused too.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
from typing import Any, Iterable, Iterator, Mapping

from medq.errors import MedqError

# Extra allowed targets for the nested `from_dict` calls that run inside Haystack's `Pipeline.loads`, where no
# argument can be passed through; set by `allow_targets`.
_EXTRA: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("medq_allowed_targets", default=frozenset())


@contextlib.contextmanager
def allow_targets(names: Iterable[str] | None) -> Iterator[None]:
    """Within the block, `instantiate_from_file` also accepts these exact `_target_` names."""
    token = _EXTRA.set(_EXTRA.get() | frozenset(names or ()))
    try:
        yield
    finally:
        _EXTRA.reset(token)


def _is_medq_class(target: str) -> bool:
    from hydra.utils import get_object

    try:
        obj = get_object(target)
    except Exception:
        return False
    module = getattr(obj, "__module__", "") or ""
    return inspect.isclass(obj) and (module == "medq" or module.startswith("medq."))


def check_target(target: Any, where: str, allowed: Iterable[str] = ()) -> None:
    """Refuse a `_target_` that is neither a medq class nor explicitly allowed; `where` names the file and key."""
    extra = _EXTRA.get() | frozenset(allowed)
    if isinstance(target, str) and target in extra:
        return
    if isinstance(target, str) and target.startswith("medq.") and _is_medq_class(target):
        return
    raise MedqError(f"{where}: _target_ {target!r} is not allowed: a file may only name medq's own classes "
                    "(add trusted extras to the stage's allowed_targets config)")


def check_targets(node: Any, where: str, allowed: Iterable[str] = (), path: str = "") -> None:
    """Check every `_target_` in a nested dict/list config."""
    if isinstance(node, Mapping):
        if "_target_" in node:
            check_target(node["_target_"], f"{where}: {path or '<root>'}", allowed)
        for key, value in node.items():
            check_targets(value, where, allowed, f"{path}.{key}" if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            check_targets(value, where, allowed, f"{path}[{i}]")


def instantiate_from_file(node: Any, where: str, allowed: Iterable[str] = ()) -> Any:
    """`hydra.utils.instantiate(node)` after every `_target_` in it passed `check_target`."""
    import hydra.utils

    allowed = tuple(allowed)
    check_targets(node, where, allowed)
    return hydra.utils.instantiate(node, _convert_="all")
