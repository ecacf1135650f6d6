"""Start a model server as a subprocess in its own process group, wait on its health endpoint, stop it by group.

No server is written here: the command is vLLM's own OpenAI server or `transformers serve`. Own process group
(a new session) so that stopping it reaches every child (vLLM's engine core, its workers) and so that a Ctrl-C in
the terminal reaches medq only, which then stops the group deliberately.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping, Sequence

from medq.errors import MedqError

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port_free(host: str, port: int, key: str) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            raise MedqError(f"port {port} on {host} is already in use: set {key} to another port, or 0 to pick a "
                            "free one") from None


def log_tail(path: Path, lines: int = 6, chars: int = 600) -> str:
    """The last lines of a log as one line (for a one-line error)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    kept = [" ".join(line.split()) for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-chars:] or "(log is empty)"


class ServerProcess:
    """One running server: `start()` then `wait_healthy()`; `stop()` ends its whole process group."""

    def __init__(self, name: str, command: Sequence[str], env: Mapping[str, str], log_path: Path, health_url: str,
                 startup_timeout_s: float, cwd: Path | None = None):
        self.name, self.command, self.env = name, list(command), dict(env)
        self.log_path, self.health_url, self.startup_timeout_s, self.cwd = Path(log_path), health_url, startup_timeout_s, cwd
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log.info("starting %s: %s (log: %s)", self.name, " ".join(self.command), self.log_path)
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(self.command, stdout=log_file, stderr=subprocess.STDOUT, env=self.env,
                                            cwd=self.cwd, start_new_session=True)

    def wait_healthy(self) -> float:
        """Seconds until healthy; on exit or timeout: stop, then a one-line MedqError with the log's tail."""
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < self.startup_timeout_s:
            code = self.process.poll()
            if code is not None:
                raise MedqError(f"{self.name} exited with code {code} before it was healthy: "
                                f"{log_tail(self.log_path)} (full log: {self.log_path})")
            try:
                with urllib.request.urlopen(self.health_url, timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise MedqError(f"{self.name} was not healthy at {self.health_url} within {self.startup_timeout_s:g} s "
                        f"(startup_timeout_s): {log_tail(self.log_path)} (full log: {self.log_path})")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM to the process group, SIGKILL to what is left after `grace_s`."""
        if self.process is None or self.process.returncode is not None and not process_group_alive(self.process.pid):
            return  # never started, or already stopped
        pgid = self.process.pid  # start_new_session: the group id is the leader's pid
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and process_group_alive(pgid):
                self.process.poll()  # reap the leader so the group can empty
                time.sleep(0.2)
            if not process_group_alive(pgid):
                break
        self.process.wait(timeout=5)
        log.info("stopped %s (process group %d)", self.name, pgid)


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc"):
        return True
    # a zombie (exited, unreaped) member still counts for killpg: the group is gone once only zombies remain
    return any(_pgid_of(pid) == pgid for pid in _pids())


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()] if os.path.isdir("/proc") else []


def _pgid_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[2]) if fields[0] != "Z" else None
