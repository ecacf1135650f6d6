"""The one validator for the ids that name a tenant's patients and sessions (and tenants themselves), used by the
memory store, the API's chat and patient routes, `keys create` and the chat app's logins.

An id is 1 to 128 characters (a tenant: 64) of ASCII letters, digits and `_ . @ : -`, starting with a letter or a
digit, matched against the WHOLE string: no whitespace, no control characters, no trailing newline. (A regex
`^…$` searched the usual way accepts "p1\\n", because `$` also matches before a final newline: "p1\\n" became a
second patient whose allergies nobody had recorded.)
"""

from __future__ import annotations

import re

from medq.errors import MedqError

MAX_ID_CHARS = 128
MAX_TENANT_CHARS = 64
_FIRST, _REST = "A-Za-z0-9", "A-Za-z0-9_.@:-"
# The same rule as a JSON-Schema pattern, for the OpenAPI schema (validation itself is `check_id`'s fullmatch).
ID_PATTERN = rf"^[{_FIRST}][{_REST}]{{0,{MAX_ID_CHARS - 1}}}$"
_ID = re.compile(rf"[{_FIRST}][{_REST}]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InvalidId(MedqError, ValueError):
    """An id that breaks the rule above; the message names which id and why."""


def check_id(name: str, value: object, limit: int = MAX_ID_CHARS) -> str:
    """`value` unchanged if it is a valid id, else InvalidId naming `name` and the reason."""
    if not isinstance(value, str):
        raise InvalidId(f"{name} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidId(f"{name} is empty")
    if len(value) > limit:
        raise InvalidId(f"{name} has {len(value)} characters; at most {limit}")
    if _CONTROL.search(value):
        raise InvalidId(f"{name} {value!r} contains a control character (a newline, tab, …)")
    if not _ID.fullmatch(value):
        raise InvalidId(f"{name} {value!r} may only use ASCII letters, digits and _ . @ : - (starting with a letter "
                        f"or digit)")
    return value
