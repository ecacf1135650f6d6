"""The default install runs what it starts (issue 16, finding 3). `bash scripts/install.sh` (no --dev) gave a chat
app that could not log in: SQLAlchemy's asyncio mode needs `greenlet`, which only dev tools (playwright) pulled in,
and the page said "无法登录" like a wrong password.

- A real login through the chat app's auth endpoint (`python -m medq.ui check`, what CI runs right after the default
  install, and what the demo runs before it prints the login) while every Python process records what it imports;
  each imported module must come from medq's declared runtime requirements (their closure, without extras such as
  `dev`), so a package that is present here only because of `--dev` fails the test.
- The same check with `greenlet` blocked fails and names it.
- `install.sh --vllm` on a fresh clone also builds `.venv`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.api.conftest import REPO

AUDIT = Path(__file__).with_name("import_audit")


def runtime_closure() -> set[str]:
    """Canonical names of every distribution medq's runtime requirements (this checkout's pyproject.toml, not the
    installed metadata) pull in, transitively; extras only where a requirement asks for them."""
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    seen: dict[str, set[str]] = {"medq": set()}
    todo: list[tuple[str, frozenset[str]]] = [(r.name, frozenset(r.extras)) for r in map(Requirement, declared)
                                              if not r.marker or r.marker.evaluate({"extra": ""})]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in seen and extras <= seen[key]:
            continue
        seen.setdefault(key, set()).update(extras)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue   # declared but not installed here (a platform marker): nothing imported from it
        for line in requires:
            requirement = Requirement(line)
            environments = [{"extra": e} for e in (seen[key] or {""})]
            if requirement.marker and not any(requirement.marker.evaluate(env) for env in environments):
                continue
            todo.append((requirement.name, frozenset(requirement.extras)))
    return set(seen)


def test_chat_app_login_imports_only_declared_runtime_dependencies(tmp_path):
    audit = tmp_path / "imports"
    audit.mkdir()
    env = {**os.environ, "MEDQ_IMPORT_AUDIT": str(audit),
           "PYTHONPATH": os.pathsep.join([str(AUDIT), str(REPO)])}
    out = subprocess.run([sys.executable, "-m", "medq.ui", "check", "--home", str(tmp_path / "home")], env=env,
                         capture_output=True, text=True, timeout=400, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    imported = set()
    for path in audit.glob("*.txt"):
        imported.update(path.read_text().split())
    assert "chainlit" in imported and "aiosqlite" in imported and "greenlet" in imported, "the login path ran"
    allowed = runtime_closure()
    owners = packages_distributions()
    undeclared: dict[str, list[str]] = {}
    for module in sorted(imported):
        top = module.split(".")[0]
        if (top in sys.stdlib_module_names or top in sys.builtin_module_names or top.startswith("_sysconfigdata")
                or top in ("medq", "sitecustomize", "__main__", "__mp_main__")):
            continue
        if importlib.util.find_spec(top) is None:
            continue   # an optional `try: import x` that failed in the app as it would after the default install
        dists = {canonicalize_name(d) for d in owners.get(top, [])}
        if not dists & allowed:
            undeclared.setdefault(top, sorted(dists) or ["(no distribution)"])
    assert not undeclared, f"imported at run time but not a declared runtime dependency of medq: {undeclared}"


def test_check_fails_and_names_a_missing_runtime_dependency(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'greenlet':\n"
        "            raise ImportError(\"No module named 'greenlet'\")\n"
        "sys.meta_path.insert(0, _Block())\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO)])}
    out = subprocess.run([sys.executable, "-m", "medq.ui", "check", "--home", str(tmp_path / "home")], env=env,
                         capture_output=True, text=True, timeout=400, cwd=tmp_path)
    assert out.returncode == 1 and "login as 'check' failed" in out.stderr and "greenlet" in out.stderr, out.stderr


def test_install_vllm_also_builds_the_toolkit_venv_on_a_fresh_clone(tmp_path):
    """install.sh's own logic, on a copy of the script, with a stand-in Python that records what it is asked to do
    (the real installs take many minutes and the network)."""
    clone = tmp_path / "clone"
    (clone / "scripts").mkdir(parents=True)
    (clone / "scripts" / "install.sh").write_text((REPO / "scripts" / "install.sh").read_text())
    (clone / "scripts" / "install_vllm.sh").write_text('echo "vllm $*" >> "$(dirname "$0")/../calls"\n')
    log = clone / "calls"
    fake = tmp_path / "python3"
    fake.write_text(f'#!/usr/bin/env bash\necho "python $*" >> {log}\n'
                    'if [[ "$1 $2" == "-m venv" ]]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; fi\n')
    fake.chmod(0o755)
    run = subprocess.run(["bash", "scripts/install.sh", "--vllm"], cwd=clone, capture_output=True, text=True,
                         env={**os.environ, "PYTHON": str(fake)}, timeout=60)
    assert run.returncode == 0, run.stderr
    calls = log.read_text()
    assert "-m venv .venv" in calls and "pip install --quiet -c constraints.txt -e ." in calls, calls
    assert "vllm " in calls
    log.write_text("")   # a second run with .venv present: only vLLM's venv
    subprocess.run(["bash", "scripts/install.sh", "--vllm"], cwd=clone, check=True, capture_output=True,
                   env={**os.environ, "PYTHON": str(fake)}, timeout=60)
    assert "-m venv" not in log.read_text() and "vllm " in log.read_text()
