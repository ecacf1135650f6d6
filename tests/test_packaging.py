"""The wheel a hospital builds from this checkout (`pip wheel .`) holds every tracked file the code reads: the
knowledge base, the case suites, the demo evaluation suites, the judge's rubrics, the chat app's assets, conf/ and
recipes/. setuptools only ships data files of folders it is told about, so a folder added without a line in setup.py
would silently be missing from an installed (not editable) medq."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tracked(folder: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", folder], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


def test_the_wheel_holds_every_tracked_file_under_medq_conf_and_recipes(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    assert "absent from the `packages` configuration" not in build.stdout + build.stderr
    (wheel,) = tmp_path.glob("medq-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = tracked("medq") + [f"medq/{path}" for path in tracked("conf") + tracked("recipes")]
    assert len(expected) > 300
    missing = [path for path in expected if path not in shipped]
    assert missing == [], f"{len(missing)} tracked files are not in the wheel: {missing[:10]}"
