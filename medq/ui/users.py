"""The chat app's password login: a JSON file {username: "scrypt$<salt hex>$<hash hex>"}; no clear passwords."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def load_users(path: str) -> dict[str, str]:
    if not path or not Path(path).is_file():
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def add_user(path: str | Path, username: str, password: str) -> None:
    """The username is the patient id the API remembers facts under, so it follows the one id rule."""
    from medq.ids import check_id

    check_id("username", username)
    path = Path(path)
    users = load_users(str(path))
    users[username] = hash_password(password)
    _write(path, users)


def remove_user(path: str | Path, username: str) -> int:
    """The login of an erased patient (its username is the patient id): 1 if it was there, else 0."""
    path = Path(path)
    users = load_users(str(path))
    if users.pop(username, None) is None:
        return 0
    _write(path, users)
    return 1


def _write(path: Path, users: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(users, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
