"""Loaded by every Python process that has this folder on PYTHONPATH (tests/ui/test_runtime_deps.py): appends the
name of each module the process imports (an `import` audit event, so nothing is lost when the process is killed) to
$MEDQ_IMPORT_AUDIT/<pid>.txt, each top-level package once."""

import os
import sys

_folder = os.environ.get("MEDQ_IMPORT_AUDIT")
if _folder:
    _seen = {name.split(".")[0] for name in sys.modules}   # the interpreter's own start (site, .pth hooks)

    def _on_import(event: str, args: tuple) -> None:
        if event != "import" or not args or not isinstance(args[0], str):
            return
        top = args[0].split(".")[0]
        if top in _seen:
            return
        _seen.add(top)
        with open(os.path.join(_folder, f"{os.getpid()}.txt"), "a") as out:
            out.write(top + "\n")

    sys.addaudithook(_on_import)
