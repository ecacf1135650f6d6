"""The layers of docs/architecture.md, checked against the code's own imports (module level and inside functions).

A package may import its own modules and packages of lower layers only; packages of one layer do not import each
other (the foundation excepted). No two modules import each other, directly or round a longer circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "medq"

# lowest first; the name is the first part below `medq` (a subpackage or a top-level module)
LAYERS: list[set[str]] = [
    {"errors", "paths", "ids", "jsonl", "artifacts", "hash_cache", "safe_instantiate", "logs", "tracking", "config",
     "stage", "code_hash", "jobs", "wiring", "help"},                      # foundation: contracts and mechanisms
    {"model"},                                                    # chat template, loading, device, tiny model
    {"prepare", "serve"},                                         # data; launching and talking to model servers
    {"train", "rag"},                                             # training stages; retrieval (asks serve to rewrite)
    {"agent"},                                                    # the medical agent: memory, auditor, the turn
    {"evaluate", "api", "ui"},                                    # measuring everything; the API; the chat app
    {"apps"},                                                     # processes started together (the assistant demo)
    {"runner", "stage_worker", "cli", "__main__", "__init__"},    # orchestration
]
SHARED = LAYERS[0] | LAYERS[-1]   # the foundation's and orchestration's modules may import each other
NEVER = {("serve", "train"), ("evaluate", "train"), ("rag", "train"), ("agent", "train"), ("api", "train"),
         ("api", "ui"), ("ui", "api"), ("ui", "agent")}


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(kept + ([base] if base else []))
                # `from medq.x import y` imports module medq.x.y where y is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            graph[name] |= {t for t in targets if t.split(".")[0] == "medq" and t != name and t in modules}
    return graph


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def layer(name: str) -> int:
    for index, members in enumerate(LAYERS):
        if name in members:
            return index
    raise AssertionError(f"medq.{name} is in no layer of tests/test_architecture.py: add it (and to "
                         f"docs/architecture.md)")


GRAPH = import_graph()


def test_every_package_has_a_layer():
    for module in GRAPH:
        layer(part(module))


def wrong_imports(graph: dict[str, set[str]], importer: str) -> list[str]:
    source = part(importer)
    wrong = []
    for target in sorted(graph[importer]):
        dest = part(target)
        if dest == source or dest == "__init__":
            continue
        if (source, dest) in NEVER:
            wrong.append(f"{target} (never: {source} -> {dest})")
        elif layer(dest) > layer(source) or (layer(dest) == layer(source) and source not in SHARED):
            wrong.append(f"{target} (layer {layer(dest)} from layer {layer(source)})")
    return wrong


@pytest.mark.parametrize("importer", sorted(GRAPH))
def test_imports_point_down(importer):
    wrong = wrong_imports(GRAPH, importer)
    assert not wrong, f"{importer} imports upward or sideways: {wrong}"


def test_only_orchestration_imports_the_runner():
    importers = sorted(m for m, targets in GRAPH.items() if "medq.runner" in targets)
    assert set(importers) <= {"medq.cli", "medq.stage_worker"}, importers


def test_no_import_circles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:            # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not circles, f"import circles: {circles}"


def test_the_checker_sees_planted_upward_and_sideways_imports(tmp_path):
    """Imports inside functions and relative imports count, or the layer test would prove nothing."""
    root = tmp_path / "medq"
    for folder in ("serve", "train", "api", "ui"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "train" / "sft.py").write_text("X = 1\n")
    (root / "ui" / "app.py").write_text("Y = 1\n")
    (root / "serve" / "parity.py").write_text("def load():\n    from medq.train.sft import X\n    return X\n")
    (root / "api" / "demo.py").write_text("from ..ui import app\n")
    graph = import_graph(root)
    assert wrong_imports(graph, "medq.serve.parity") == ["medq.train.sft (never: serve -> train)"]
    assert wrong_imports(graph, "medq.api.demo") == ["medq.ui.app (never: api -> ui)"]
