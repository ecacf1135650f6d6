"""One JSON error shape for every failure: {"error": {"code", "message", "field"?}} with a stable `code`.

Handlers stay thin: they raise ApiError (or a library exception) and this module maps it to the response.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

log = logging.getLogger("medq.api")

# Litestar/msgspec name the failing location as "... - at `$.messages[0].role`" or in `extra[*].key`.
_AT_PATH = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]*)`")
STATUS_CODES = {400: "invalid_request", 401: "invalid_api_key", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
                422: "invalid_request", 429: "rate_limited", 503: "model_server_unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    detail: dict[str, Any] = {"code": code, "message": message}
    if field:
        detail["field"] = field
    return Response({"error": detail}, status_code=status, headers=headers, media_type="application/json")


def _field_from_text(text: str) -> str | None:
    at = _AT_PATH.search(text)
    missing = _MISSING.search(text)
    path = at.group(1) if at else ""
    if missing:
        return f"{path}.{missing.group(1)}" if path else missing.group(1)
    return path or None


def _field_of(exc: HTTPException) -> str | None:
    texts = [str(exc.detail)]
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                texts.insert(0, str(item.get("message", "")))
                if item.get("key") and item["key"] != "data":
                    return str(item["key"])
    for text in texts:
        if found := _field_from_text(text):
            return found
    return "body"


def body_error(raw: bytes, target: Any) -> ApiError | None:
    """Decode a JSON body strictly (no "0.5" for a number, no "1" for a bool) against its request model: the 422
    naming the exact field (`metadata.session_id`, `temperature`), or None when it is valid."""
    try:
        msgspec.json.decode(raw or b"null", type=target, strict=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        return ApiError(422, "invalid_request", text, _field_from_text(text) or "body")
    except msgspec.DecodeError as exc:
        return ApiError(422, "invalid_request", f"the body is not valid JSON: {exc}", "body")
    return None


async def check_json_body(request: Request, target: Any) -> None:
    """What Litestar's lenient conversion lets through: a body sent as another media type, or values of the wrong
    JSON type that it would coerce. Called by the handlers that take a JSON body."""
    media_type = request.content_type[0]
    if media_type != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       f"send the body as Content-Type: application/json (got {media_type or 'none'})", "Content-Type")
    error = body_error(await request.body(), target)
    if error is not None:
        raise error


def _strict_body_field(request: Request, exc: HTTPException) -> ApiError | None:
    """Litestar names a body field by deleting every "data." from its path (`metadata.session_id` came out as
    `metasession_id`): re-decode the cached body against the handler's `data` model to name it exactly."""
    if not isinstance(exc.extra, list) or not any(isinstance(i, dict) and i.get("source") == "body" for i in exc.extra):
        return None
    try:
        from litestar.utils.scope.state import ScopeState

        raw = ScopeState.from_scope(request.scope).body
        target = request.route_handler.parsed_fn_signature.parameters["data"].annotation
    except Exception:  # noqa: BLE001 - no cached body or no typed data: keep Litestar's own answer
        return None
    return body_error(raw, target) if isinstance(raw, bytes) else None


def handle_api_error(_: Request, exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, ValidationException) and (exact := _strict_body_field(request, exc)) is not None:
        return handle_api_error(request, exact)
    if status == 400 or isinstance(exc, ValidationException):
        # Schema violations are 422 and name the field (OpenAI-style clients read error.param too).
        field = _field_of(exc)
        message = str(exc.detail)
        if isinstance(exc.extra, list) and exc.extra and isinstance(exc.extra[0], dict):
            message = f"{message}: {exc.extra[0].get('message', '')}".rstrip(": ")
        return error_response(422, "invalid_request", message, field)
    code = STATUS_CODES.get(status, "server_error" if status >= 500 else "client_error")
    headers = dict(exc.headers or {})
    reset = next((v for k, v in headers.items() if k.lower() == "ratelimit-reset"), None)
    if status == 429 and reset is not None:
        headers["Retry-After"] = str(reset)   # what OpenAI-style clients read to back off
    return error_response(status, code, str(exc.detail), headers=headers or None)


def handle_unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error: %s", type(exc).__name__)
    return error_response(500, "internal_error", f"internal error ({type(exc).__name__}); see the server log")


EXCEPTION_HANDLERS = {ApiError: handle_api_error, HTTPException: handle_http_exception, Exception: handle_unexpected}
