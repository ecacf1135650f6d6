"""medq: config-first toolkit for building Chinese medical LLM assistants."""

import os

__version__ = "0.1.0"

# Hospital networks: no phoning home unless the user explicitly opts back in.
for _var, _value in {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
}.items():
    os.environ.setdefault(_var, _value)
