"""Which source files a stage's result depends on: the static import closure of its modules.

A stage's cache key includes the hashes of exactly the modules its code can run: the module defining the stage
class, the modules of every `_target_` in its config, and, transitively, every module they import from `medq` (or
from the stage's own top-level package, for stages defined outside medq). Imports are read with `ast`, so imports
inside functions (how training stages defer torch) count too. Left out on purpose:

- the spine (`medq.runner`, `medq.stage`, `medq.cli`, `medq.config`, `medq.tracking`): it orchestrates, it does not compute a
  stage's outputs, so editing the runner never retrains a model;
- package `__init__` files reached only as parents (`medq.train.sft` does not depend on `medq/train/__init__.py`,
  which re-exports merge, dpo, ...); a package imported by name (`from medq.rag import X`) does count, with what it
  imports.

Editing `medq/train/merge.py` therefore invalidates `merge` only, and editing `medq/model/chat_template.py`
invalidates every stage that imports it (sft, dpo, merge, evaluate, ...).
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

from medq.artifacts import sha256_file

SPINE = frozenset({"medq.runner", "medq.stage", "medq.cli", "medq.config", "medq.tracking"})


def _package_root(top: str) -> Path | None:
    """The folder of a top-level package (or the file of a top-level module), without importing anything new."""
    module = sys.modules.get(top)
    if module is not None and getattr(module, "__file__", None):
        path = Path(module.__file__).resolve()
        return path.parent if path.name == "__init__.py" else path
    import importlib.util

    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return None
    origin = Path(spec.origin).resolve()
    return origin.parent if origin.name == "__init__.py" else origin


def module_file(name: str) -> Path | None:
    """`a.b.c` -> <root of a>/b/c.py or <root of a>/b/c/__init__.py, if it exists."""
    top, *rest = name.split(".")
    root = _package_root(top)
    if root is None:
        return None
    if root.is_file():
        return root if not rest else None
    base = root.joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=4096)
def _imports_of(path: Path, mtime_ns: int, size: int, module: str) -> tuple[str, ...]:
    """Every module named by an import statement anywhere in the file (function bodies included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            # `from pkg import name`: name may be a submodule (then that module is what is used) or an attribute
            # of pkg (then pkg itself is used)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append(submodule if alias.name != "*" and module_file(submodule) is not None else base)
    return tuple(found)


def module_closure(roots: Iterable[str], follow: Iterable[str] = ("medq",)) -> dict[str, Path]:
    """{module name: file} reachable from `roots` through imports of modules under the `follow` top-level names."""
    follow = set(follow)
    seen: dict[str, Path] = {}
    todo = [r for r in roots]
    while todo:
        name = todo.pop()
        if name in seen or name in SPINE or name.split(".")[0] not in follow:
            continue
        path = module_file(name)
        if path is None:
            continue
        seen[name] = path
        stat = path.stat()
        todo.extend(_imports_of(path, stat.st_mtime_ns, stat.st_size, name))
    return dict(sorted(seen.items()))


def _target_modules(config: Any) -> Iterable[str]:
    """Modules defining the `_target_`s anywhere in a stage's config (sources, stores, embedders ...)."""
    if isinstance(config, Mapping):
        target = config.get("_target_")
        if isinstance(target, str):
            try:
                from hydra.utils import get_object

                obj = get_object(target)
                yield getattr(obj, "__module__", None) or target.rpartition(".")[0]
            except Exception:
                yield target.rpartition(".")[0]
        for value in config.values():
            yield from _target_modules(value)
    elif isinstance(config, list):
        for value in config:
            yield from _target_modules(value)


def stage_code_files(stage: Any, stage_config: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """{module: source file} of the stage's import closure."""
    own = type(stage).__module__
    roots = [own, *(_target_modules(stage_config or {}))]
    follow = {"medq", own.split(".")[0]}
    return module_closure(roots, follow)

