"""The access log: who (API key id, tenant) read or changed which patient's data, when. One JSON line per event.

Patient ids are identifiers the tenant chose, not patient text, so they are logged; message text never is.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger("medq.api.access")


class AccessLog:
    def __init__(self, path: str | None = None):
        self._file = None
        self._lock = threading.Lock()
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # append-only, line-buffered: several workers may share the file (each line is one short write)
            self._file = open(path, "a", encoding="utf-8", buffering=1)

    def record(self, caller: Any, action: str, patient_id: str, **details: Any) -> None:
        entry = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "key_id": caller.key_id,
                 "tenant": caller.tenant, "action": action, "patient_id": patient_id, **details}
        line = json.dumps(entry, ensure_ascii=False)
        log.info(line)
        if self._file is not None:
            with self._lock:
                self._file.write(line + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
