"""The Litestar app: thin handlers over `Assistant` (agent + memory + model server), built once in the lifespan.

Run it with uvicorn (what `python -m medq.api serve` does):
    MEDQ_API_CONFIG=api.yaml uvicorn --factory medq.api.app:app_from_env --workers 4
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import anyio
import msgspec
from litestar import Controller, Litestar, Request, Response, delete, get, patch, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.response import ServerSentEvent
from litestar.stores.memory import MemoryStore

from medq.api import schemas as s
from medq.api.access_log import AccessLog
from medq.api.assistant import Assistant, Caller, TurnRequest
from medq.api.errors import EXCEPTION_HANDLERS, ApiError, check_json_body
from medq.api.settings import ApiSettings

EXEMPT = ["/healthz", "/readyz", "/metrics", "/schema"]
BEARER = [{"apiKey": []}]


# --- dependencies (resolved per request from what the lifespan built once) -------------------------------------

def provide_assistant(state: State) -> Assistant:
    return state.assistant


def provide_settings(state: State) -> ApiSettings:
    return state.settings


def provide_access_log(state: State) -> AccessLog:
    return state.access_log


_BEARER = re.compile(r"\s*bearer\s+(\S+)\s*", re.IGNORECASE)
_CALLER = "medq_caller"   # request.scope key: the authenticated caller (or None), resolved once per request


def api_key_of(request: Request) -> str:
    """The key of `Authorization: Bearer KEY` (any case, any spacing) or `X-API-Key: KEY`; "" if none."""
    match = _BEARER.fullmatch(request.headers.get("authorization", ""))
    if match:
        return match.group(1)
    return request.headers.get("x-api-key", "").strip()


def caller_of(request: Request) -> Caller | None:
    """Authenticate once per request: the rate limiter (which runs first) and the handlers share the answer."""
    if _CALLER not in request.scope:
        key = api_key_of(request)
        request.scope[_CALLER] = request.app.state.assistant.authenticate(key) if key else None  # type: ignore
    return request.scope[_CALLER]  # type: ignore[typeddict-item]


def provide_caller(request: Request) -> Caller:
    """The API key's caller (its key id and tenant); 401 without a valid key."""
    if not api_key_of(request):
        raise ApiError(401, "missing_api_key", "no API key: send `Authorization: Bearer <key>`",
                       headers={"WWW-Authenticate": "Bearer"})
    caller = caller_of(request)
    if caller is None:
        raise ApiError(401, "invalid_api_key", "the API key is not valid (unknown or revoked)",
                       headers={"WWW-Authenticate": "Bearer"})
    return caller


def rate_limit_identity(request: Request) -> str:
    """Rate limits count per authenticated key id, so spelling the same key differently (`bearer KEY`,
    `Bearer  KEY`, `X-API-Key: KEY`) shares one budget; calls without a valid key count per client address."""
    caller = caller_of(request)
    if caller is not None:
        return "key:" + caller.key_id
    return "addr:" + (request.client.host if request.client else "unknown")


def _resp(description: str) -> Any:
    from litestar.openapi.datastructures import ResponseSpec

    return ResponseSpec(data_container=s.ErrorBody, description=description)


# --- handlers ---------------------------------------------------------------------------------------------------

def _chunk(completion_id: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None,
           extension: Any = None) -> str:
    body: dict[str, Any] = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if extension is not None:
        body["medq"] = extension
    return json.dumps(body, ensure_ascii=False)


class ChatController(Controller):
    path = "/v1"
    tags = ["chat"]
    security = BEARER

    @get("/models", summary="Models: medq-agent and the served models (pass-through, still audited)")
    async def models(self, caller: Caller, assistant: Assistant) -> s.ModelList:
        names = await anyio.to_thread.run_sync(assistant.model_names)
        now = int(time.time())
        return s.ModelList(object="list", data=[s.ModelCard(id=n, object="model", created=now, owned_by="medq")
                                                for n in names])

    @post("/chat/completions", status_code=200, summary="OpenAI-compatible chat completion (stream or not)",
          responses={503: _resp("the model server (or another backend) is down: error.message names it"),
                     413: _resp("request body or user message too long"),
                     422: _resp("schema violation: error.field names the field"),
                     404: _resp("unknown model")})
    async def chat(self, request: Request, data: s.ChatCompletionRequest, caller: Caller, assistant: Assistant,
                   access_log: AccessLog) -> Response | ServerSentEvent:
        await check_json_body(request, s.ChatCompletionRequest)   # strict JSON types, application/json only
        turn = assistant.prepare_turn(caller, data)      # validates model/size; raises ApiError 404/413/422
        access_log.record(caller, "chat", turn.patient_id, session_id=turn.session_id)
        if not data.stream:
            outcome = await anyio.to_thread.run_sync(assistant.run_turn, turn, None)
            return Response(outcome.completion, media_type="application/json")
        await anyio.to_thread.run_sync(assistant.check_model_server, turn)   # 503 before any byte is sent
        return ServerSentEvent(_stream(assistant, turn))


async def _stream(assistant: Assistant, turn: TurnRequest) -> AsyncIterator[str]:
    """Progress events first (no text), then the audited answer in pieces, the extension, and [DONE]."""
    completion_id, created = "chatcmpl-" + uuid.uuid4().hex, int(time.time())
    send, receive = anyio.create_memory_object_stream[str](100)
    result: dict[str, Any] = {}

    def progress(stage: str) -> None:
        anyio.from_thread.run(send.send, stage)

    async def work() -> None:
        try:
            result["outcome"] = await anyio.to_thread.run_sync(assistant.run_turn, turn, progress)
        except ApiError as exc:
            result["error"] = {"code": exc.code, "message": exc.message}
        except Exception as exc:  # noqa: BLE001 - the stream is already open: report in-band, never leak text
            result["error"] = {"code": "internal_error", "message": f"internal error ({type(exc).__name__})"}
        finally:
            await send.aclose()

    model = turn.model
    async with anyio.create_task_group() as tg:
        tg.start_soon(work)
        yield _chunk(completion_id, created, model, {"role": "assistant", "content": ""},
                     extension={"progress": "received"})
        async with receive:
            async for stage in receive:
                yield _chunk(completion_id, created, model, {}, extension={"progress": stage})
    if "error" in result:
        yield json.dumps({"error": result["error"]}, ensure_ascii=False)
        yield "[DONE]"
        return
    outcome = result["outcome"]
    text = outcome.answer
    for start in range(0, len(text), 16):           # the audited answer, in small pieces for a typing effect
        yield _chunk(completion_id, created, model, {"content": text[start:start + 16]})
    yield _chunk(completion_id, created, model, {}, finish="stop",
                 extension=msgspec.to_builtins(outcome.extension))
    if turn.include_usage:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [], "usage": msgspec.to_builtins(outcome.usage)}
        yield json.dumps(body)
    yield "[DONE]"


class PatientController(Controller):
    path = "/v1/patients"
    tags = ["patients"]
    security = BEARER
    responses = {404: _resp("no such patient (or fact) for this API key's tenant")}

    @get("/{patient_id:str}/memory", sync_to_thread=True, summary="A patient's remembered facts")
    def memory(self, patient_id: str, caller: Caller, assistant: Assistant, access_log: AccessLog
               ) -> s.PatientMemory:
        result = assistant.memory(caller, patient_id)
        access_log.record(caller, "read_memory", patient_id)
        return result

    @patch("/{patient_id:str}/facts/{fact_id:str}",
           summary="Correct a remembered fact (recorded with who and when)",
           responses={409: _resp("the corrected value duplicates another fact")})
    async def correct_fact(self, request: Request, patient_id: str, fact_id: str, data: s.FactPatch,
                           caller: Caller, assistant: Assistant, access_log: AccessLog) -> s.FactOut:
        await check_json_body(request, s.FactPatch)
        fact = await anyio.to_thread.run_sync(assistant.correct_fact, caller, patient_id, fact_id, data)
        access_log.record(caller, "correct_fact", patient_id, fact_id=fact_id, changed_by=data.changed_by)
        return fact

    @delete("/{patient_id:str}/facts/{fact_id:str}", sync_to_thread=True, status_code=200,
            summary="Delete a wrongly remembered fact (recorded with who and when)")
    def delete_fact(self, patient_id: str, fact_id: str, caller: Caller, assistant: Assistant,
                    access_log: AccessLog, changed_by: str, role: str = "clinician") -> s.FactOut:
        fact = assistant.delete_fact(caller, patient_id, fact_id, changed_by, role)
        access_log.record(caller, "delete_fact", patient_id, fact_id=fact_id, changed_by=changed_by)
        return fact

    @get("/{patient_id:str}/sessions", sync_to_thread=True, summary="A patient's chat sessions")
    def sessions(self, patient_id: str, caller: Caller, assistant: Assistant, access_log: AccessLog
                 ) -> list[s.SessionOut]:
        result = assistant.sessions(caller, patient_id)
        access_log.record(caller, "read_sessions", patient_id)
        return result

    @delete("/{patient_id:str}", sync_to_thread=True, status_code=200,
            summary="Erase a patient: memory, sessions, traces, and the erasure subscribers' data (the chat app's "
                    "threads)",
            responses={502: _resp("an erasure subscriber failed (error.message names it); the API's own data is "
                                  "erased; repeating the DELETE is safe")})
    def erase(self, patient_id: str, caller: Caller, assistant: Assistant, access_log: AccessLog
              ) -> s.ErasureReport:
        try:
            report = assistant.erase(caller, patient_id)
        except ApiError as exc:
            if exc.code == "erasure_incomplete":   # the API's part is done: who asked is on record
                access_log.record(caller, "erase_patient", patient_id, incomplete=True)
            raise
        access_log.record(caller, "erase_patient", patient_id)
        return report


@get("/healthz", summary="The process is up", tags=["health"])
async def healthz() -> s.Health:
    return s.Health(status="ok")


@get("/readyz", summary="Model server, retrieval store and database reachable (503 names what is down)",
     tags=["health"], responses={503: _resp("a dependency is down")})
async def readyz(assistant: Assistant) -> Response:
    checks = await anyio.to_thread.run_sync(assistant.readiness)
    down = {name: err for name, err in checks.items() if err}
    if down:
        names = ", ".join(f"{n} ({e})" for n, e in down.items())
        return Response({"error": {"code": "not_ready", "message": f"down: {names}", "down": sorted(down)},
                         "checks": {n: e or "ok" for n, e in checks.items()}}, status_code=503)
    return Response({"status": "ready", "checks": {n: "ok" for n in checks}})


# --- the app ----------------------------------------------------------------------------------------------------

def create_app(settings: ApiSettings, assistant_factory=None) -> Litestar:  # noqa: ANN001
    """`assistant_factory(settings) -> Assistant` is called once, in the lifespan (default: Assistant.from_settings)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        factory = assistant_factory or Assistant.from_settings
        app.state.settings = settings
        app.state.assistant = await anyio.to_thread.run_sync(factory, settings)
        app.state.access_log = AccessLog(settings.access_log)
        try:
            yield
        finally:
            app.state.access_log.close()
            await anyio.to_thread.run_sync(app.state.assistant.close)

    limit = settings.rate_limit
    stores = {}
    if limit.store_url:
        from litestar.stores.redis import RedisStore

        stores["rate_limit"] = RedisStore.with_client(url=limit.store_url, namespace="medq_rate_limit")
    else:
        stores["rate_limit"] = MemoryStore()
    rate_limit = RateLimitConfig(rate_limit=(limit.per, limit.requests), exclude=EXEMPT,
                                 identifier_for_request=rate_limit_identity)
    prometheus = PrometheusConfig(app_name="medq_api", prefix="medq_api", group_path=True,
                                  exclude=["/metrics"])
    return Litestar(
        route_handlers=[ChatController, PatientController, healthz, readyz, PrometheusController],
        dependencies={"assistant": Provide(provide_assistant, sync_to_thread=False),
                      "settings": Provide(provide_settings, sync_to_thread=False),
                      "access_log": Provide(provide_access_log, sync_to_thread=False),
                      "caller": Provide(provide_caller, sync_to_thread=True)},
        lifespan=[lifespan],
        middleware=[rate_limit.middleware, prometheus.middleware],
        stores=stores,
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        openapi_config=OpenAPIConfig(
            title="medq API", version="1", path="/schema",
            description="OpenAI-compatible chat completions on the medq medical agent; patient memory; erasure. "
                        "See docs/api.md.",
            components=Components(security_schemes={"apiKey": SecurityScheme(type="http", scheme="bearer")})),
    )


def app_from_env() -> Litestar:
    """uvicorn factory: the settings YAML named by MEDQ_API_CONFIG (written by `python -m medq.api serve`)."""
    from medq.api.settings import load_settings

    return create_app(load_settings(os.environ["MEDQ_API_CONFIG"]))
