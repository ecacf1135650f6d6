"""conf/ and recipes/ sit at the top level of the checkout; in a wheel they travel inside the package as
medq/conf and medq/recipes, where medq.config.config_dirs() finds them."""

from pathlib import Path

from setuptools import find_namespace_packages, find_packages, setup

ROOT = Path(__file__).parent


def data_packages(folder: str, package: str) -> dict[str, str]:
    dirs = [d for d in sorted((ROOT / folder).rglob("*")) if d.is_dir() and "__pycache__" not in d.parts]
    mapping = {package: folder}
    for d in dirs:
        relative = d.relative_to(ROOT / folder)
        mapping[".".join([package, *relative.parts])] = "/".join([folder, *relative.parts])
    return mapping


data_dirs = {**data_packages("conf", "medq.conf"), **data_packages("recipes", "medq.recipes")}
# Folders of data files inside medq/ (no __init__.py) are namespace packages to setuptools: each is listed as a package
# with its own globs, so setuptools neither warns that they are "absent from `packages`" nor drops them in a future
# release. tests/test_packaging.py builds the wheel and checks that it holds every tracked file under medq/.
medq_data = {
    "medq.agent": ["context.csv", "regional.csv"],
    "medq.agent.knowledge": ["*.csv"],                  # the knowledge base ships with the code that reads it
    "medq.agent.cases": ["*.jsonl"],                    # the team's audit, memory and dialogue suites
    "medq.agent.cases.blind": ["*.jsonl", "*.md"],      # the blind batches and their protocol
    "medq.agent.migrations": ["script.py.mako"],        # Alembic's template, for new revisions
    "medq.ui.migrations": ["script.py.mako"],
    "medq.prepare": ["synthetic_vocabulary.json"],      # the synthetic data's hand-written vocabulary
    "medq.ui.assets": ["*"],                            # the chat app's disclaimer and login fix
    "medq.evaluate.rubrics": ["*"],                     # the judge's versioned rubrics
    **{name: ["*"] for name in data_packages("medq/evaluate/demo_suites", "medq.evaluate.demo_suites")},
}
setup(
    # hydra_plugins/ is Hydra's namespace package for plugins (the medq_optuna sweeper)
    packages=find_packages(include=["medq", "medq.*"]) + find_namespace_packages(include=["hydra_plugins.*"])
    + [name for name in medq_data if name.count(".") > 1 and not (ROOT / name.replace(".", "/") / "__init__.py").exists()]
    + list(data_dirs),
    package_dir={"medq": "medq", **data_dirs},
    package_data={**{name: ["*.yaml", "*.json", "*.jinja"] for name in data_dirs}, **medq_data},
)
