"""The one chat client every medq stage and layer uses to talk to a model server (OpenAI protocol).

Built on the `openai` SDK (timeouts, retries with backoff, streaming, async) and, for Haystack's `Agent`, on
Haystack's `OpenAIChatGenerator` with the same settings. What it adds is medq's policy:
- patient text stays on this machine: a non-loopback `base_url` is refused unless the endpoint's config says
  `allow_remote_endpoint: true`;
- a backend that is down, or dies mid-request, is one `ModelServerUnavailable` naming the URL, never a traceback
  from the HTTP stack;
- the endpoint's generation defaults (temperature, max_tokens, Qwen3's `enable_thinking`) apply to every call.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterator, Mapping, Sequence
from urllib.parse import urlparse

from medq.errors import ConfigError, MedqError

# Parameters the OpenAI chat API takes at the top level; everything else a server understands (vLLM's top_k,
# repetition_penalty, return_tokens_as_token_ids, ...) travels in the request body's extras.
_OPENAI_PARAMS = {"temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "n",
                  "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "logit_bias", "user",
                  "tool_choice", "parallel_tool_calls", "stream_options"}


class ModelServerUnavailable(MedqError):
    """The model server cannot be reached, timed out, or dropped the connection mid-request."""


class ContextLengthExceeded(MedqError):
    """The model server refused a request whose prompt plus completion budget exceeds its context (`max_model_len`):
    a property of the request (too much dialogue, evidence or budget), not an outage."""


# how OpenAI-protocol servers word it: vLLM ("This model's maximum context length is 1024 tokens. However, you
# requested 1100 tokens …", "… longer than the maximum model length"), OpenAI ("context_length_exceeded")
_CONTEXT_WORDS = re.compile(r"maximum context length|context[ _]length|maximum model length|max_model_len|"
                            r"prompt is too long|too many tokens", re.IGNORECASE)


@dataclass
class ChatEndpoint:
    """Where a model is served and how to call it (a config node: `serve.endpoint`, `agent.model`, ...)."""

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "medq"
    api_key: str | None = None            # literal key; prefer api_key_env so no secret lands in a config file
    api_key_env: str | None = None        # name of the environment variable holding the key
    timeout_s: float = 60.0
    max_retries: int = 2                  # the SDK retries connection errors, 408/429/5xx with backoff
    allow_remote_endpoint: bool = False   # true: patient text may leave this machine (e.g. a hospital's cluster)
    temperature: float | None = 0.0
    top_p: float | None = None
    max_tokens: int | None = 512
    seed: int | None = None
    enable_thinking: bool | None = False  # Qwen3 chat template switch, sent as chat_template_kwargs
    extra_body: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parsed = urlparse(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"endpoint base_url = {self.base_url!r} is not an http(s) URL "
                              "(e.g. http://127.0.0.1:8000/v1)")
        if not self.allow_remote_endpoint and not is_loopback(parsed.hostname):
            raise ConfigError(f"endpoint base_url = {self.base_url!r} is not on this machine and patient text would "
                              "leave it: set allow_remote_endpoint: true in the endpoint's config to allow that")

    def resolved_api_key(self) -> str:
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ConfigError(f"endpoint api_key_env = {self.api_key_env!r}: that environment variable is not set")
            return key
        return "EMPTY"  # local servers without --api-key accept any key; the SDK insists on one

    def default_params(self) -> dict[str, Any]:
        params = {k: getattr(self, k) for k in ("temperature", "top_p", "max_tokens", "seed")
                  if getattr(self, k) is not None}
        if self.enable_thinking is not None:
            params["enable_thinking"] = self.enable_thinking
        return params


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str                    # as the model wrote it; `arguments` is {} when it is not a JSON object


@dataclass(frozen=True)
class ChatReply:
    text: str
    tool_calls: list[ToolCall]
    finish_reason: str | None
    usage: dict[str, int]
    model: str
    logprobs: list[dict[str, Any]] | None = None  # per generated token: token, logprob, top_logprobs (if asked)


def as_endpoint(endpoint: ChatEndpoint | Mapping[str, Any]) -> ChatEndpoint:
    return endpoint if isinstance(endpoint, ChatEndpoint) else ChatEndpoint(**dict(endpoint))


class ChatClient:
    """`chat` / `stream` (sync), `achat` / `astream` (async) against one `ChatEndpoint`."""

    def __init__(self, endpoint: ChatEndpoint | Mapping[str, Any]):
        self.endpoint = as_endpoint(endpoint)
        self._sync: Any = None
        self._async: Any = None

    # -- request building -------------------------------------------------------------------------------------
    def request(self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None,
                json_schema: Mapping[str, Any] | None, params: Mapping[str, Any]) -> dict[str, Any]:
        merged = {**self.endpoint.default_params(), **params}
        extra = dict(self.endpoint.extra_body)
        thinking = merged.pop("enable_thinking", None)
        if thinking is not None:
            extra["chat_template_kwargs"] = {**extra.get("chat_template_kwargs", {}), "enable_thinking": thinking}
        body: dict[str, Any] = {"model": merged.pop("model", self.endpoint.model), "messages": list(messages)}
        for key, value in merged.items():
            if key in _OPENAI_PARAMS:
                body[key] = value
            else:
                extra[key] = value
        if tools:
            body["tools"] = list(tools)
        if json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": str(json_schema.get("title", "reply")),
                                                       "schema": dict(json_schema), "strict": True}}
        if extra:
            body["extra_body"] = extra
        return body

    def _clients(self) -> tuple[Any, Any]:
        import openai

        if self._sync is None:
            kwargs = dict(base_url=self.endpoint.base_url, api_key=self.endpoint.resolved_api_key(),
                          timeout=self.endpoint.timeout_s, max_retries=self.endpoint.max_retries)
            self._sync, self._async = openai.OpenAI(**kwargs), openai.AsyncOpenAI(**kwargs)
        return self._sync, self._async

    def error_for(self, exc: BaseException) -> MedqError:
        """The medq error for an exception of the openai SDK (also raised by Haystack's generator on this endpoint):
        ModelServerUnavailable (down, timed out, 502-504), ContextLengthExceeded, or MedqError (refused)."""
        return self._error(exc)

    def _error(self, exc: BaseException) -> MedqError:
        return _medq_error(exc, self.endpoint.base_url)

    @contextmanager
    def _talking(self) -> Iterator[None]:
        """Around every call: the HTTP stack's and the SDK's errors become medq's (`error_for`)."""
        try:
            yield
        except _transport_errors() as exc:
            raise self._error(exc) from None

    # -- calls --------------------------------------------------------------------------------------------------
    def chat(self, messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Mapping[str, Any]] | None = None,
             json_schema: Mapping[str, Any] | None = None, **params: Any) -> ChatReply:
        sync, _ = self._clients()
        with self._talking():
            return _reply(sync.chat.completions.create(**self.request(messages, tools, json_schema, params)))

    def stream(self, messages: Sequence[Mapping[str, Any]], usage: dict[str, int] | None = None,
               **params: Any) -> Iterator[str]:
        """Yields the reply's text as it is generated; `usage` as for `astream`."""
        sync, _ = self._clients()
        reply = _Streamed(self.endpoint.base_url, usage)
        with self._talking():
            for chunk in sync.chat.completions.create(**self.request(messages, None, None, reply.params(params)),
                                                      stream=True):
                if text := reply.read(chunk):
                    yield text
        reply.check_finished()

    async def achat(self, messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Mapping[str, Any]] | None = None,
                    json_schema: Mapping[str, Any] | None = None, **params: Any) -> ChatReply:
        _, client = self._clients()
        with self._talking():
            return _reply(await client.chat.completions.create(**self.request(messages, tools, json_schema, params)))

    async def astream(self, messages: Sequence[Mapping[str, Any]], usage: dict[str, int] | None = None,
                      **params: Any) -> AsyncIterator[str]:
        """Yields the reply's text as it is generated. Pass a dict as `usage` to have the server's token counts
        (prompt/completion tokens, sent after the last chunk: `stream_options.include_usage`) written into it."""
        _, client = self._clients()
        reply = _Streamed(self.endpoint.base_url, usage)
        with self._talking():
            async for chunk in await client.chat.completions.create(
                    **self.request(messages, None, None, reply.params(params)), stream=True):
                if text := reply.read(chunk):
                    yield text
        reply.check_finished()

    async def aclose(self) -> None:
        """Close the async HTTP pool inside its event loop (before `asyncio.run` ends)."""
        if self._async is not None:
            await self._async.close()
            self._sync, self._async = None, None

    def models(self) -> list[str]:
        """The model names the server serves (base model and LoRA modules)."""
        sync, _ = self._clients()
        with self._talking():
            return [m.id for m in sync.models.list()]

    def haystack_generator(self, **kwargs: Any) -> Any:
        """Haystack `OpenAIChatGenerator` on this endpoint, with its defaults, timeout and retries (for `Agent`).
        Keyword arguments go to the generator (e.g. tools=[...]); generation_kwargs merge over the defaults."""
        from haystack.components.generators.chat import OpenAIChatGenerator
        from haystack.utils import Secret

        body = self.request([], None, None, kwargs.pop("generation_kwargs", {}))
        body.pop("model"), body.pop("messages")
        # an env-var secret keeps the generator serialisable (to_dict); a literal key cannot be
        key = (Secret.from_env_var(self.endpoint.api_key_env) if self.endpoint.api_key_env and not self.endpoint.api_key
               else Secret.from_token(self.endpoint.resolved_api_key()))
        return OpenAIChatGenerator(api_key=key,
                                   model=self.endpoint.model, api_base_url=self.endpoint.base_url,
                                   generation_kwargs=body, timeout=self.endpoint.timeout_s,
                                   max_retries=self.endpoint.max_retries, **kwargs)


class _Streamed:
    """One streamed reply, read chunk by chunk (sync and async alike): its text, whether the server finished it,
    and the server's token counts written into `usage` when one is given."""

    def __init__(self, base_url: str, usage: dict[str, int] | None):
        self.base_url, self.usage, self.finished = base_url, usage, False

    def params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The call's parameters: the token counts are asked for where they are wanted."""
        return {**params, "stream_options": {"include_usage": True}} if self.usage is not None else dict(params)

    def read(self, chunk: Any) -> str:
        if chunk.choices and getattr(chunk.choices[0], "finish_reason", None) is not None:
            self.finished = True
        if self.usage is not None and getattr(chunk, "usage", None) is not None:
            self.usage.update({k: v for k, v in chunk.usage.model_dump().items() if isinstance(v, int)})
        return (chunk.choices[0].delta.content or "") if chunk.choices else ""

    def check_finished(self) -> None:
        # a server that dies mid-stream may close the connection cleanly: the reply then just stops, with no
        # finish_reason, which must not pass for a complete answer
        if not self.finished:
            raise ModelServerUnavailable(f"model server at {self.base_url} closed the stream before the reply "
                                         "finished (no finish_reason): the server died or was stopped")


def is_model_server_error(exc: BaseException) -> bool:
    """Whether an exception (of the openai SDK, or of the HTTP stack under it, also when Haystack's generator raised
    it) came from talking to the model server: `ChatClient.error_for` turns it into medq's error."""
    return isinstance(exc, _transport_errors())


def model_server_down(exc: BaseException) -> bool:
    """Whether an exception, or one it was raised from or during, means the model server is down or timed out: what
    `ChatClient.error_for` makes a ModelServerUnavailable, for code that did not call the model through ChatClient."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if is_model_server_error(current) and isinstance(_medq_error(current, ""), ModelServerUnavailable):
            return True
        current = current.__cause__ or current.__context__
    return False


def _medq_error(exc: BaseException, url: str) -> MedqError:
    """The one reading of a model server's failure: down, timed out or 502-504 -> ModelServerUnavailable; a prompt
    over the context -> ContextLengthExceeded; any other refusal (a 4xx about this request) -> MedqError."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        detail = _one_line(_status_detail(exc))
        if exc.status_code in (502, 503, 504):
            return ModelServerUnavailable(f"model server at {url} is unavailable (HTTP {exc.status_code}): {detail}")
        if exc.status_code in (400, 413, 422) and _CONTEXT_WORDS.search(detail):
            return ContextLengthExceeded(f"model server at {url} refused the request: the prompt does not fit "
                                         f"the model's context (HTTP {exc.status_code}): {detail}")
        return MedqError(f"model server at {url} refused the request (HTTP {exc.status_code}): {detail}")
    kind = "timed out" if isinstance(exc, openai.APITimeoutError) else "is unreachable or closed the connection"
    cause = exc.__cause__ or exc
    return ModelServerUnavailable(f"model server at {url} {kind}: {_one_line(str(cause) or type(cause).__name__)}")


def _transport_errors() -> tuple[type[BaseException], ...]:
    """What a dead or unreachable server raises: the SDK's errors, and the HTTP stack's own when a stream breaks."""
    import openai

    errors: list[type[BaseException]] = [openai.APIError, ConnectionError]
    for module in ("httpx", "httpx2"):
        try:
            errors.append(__import__(module).TransportError)
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def _status_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        error = body.get("error")
        message = error.get("message") if isinstance(error, Mapping) else body.get("message")
        if message:
            return str(message)
    return str(getattr(exc, "message", exc))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


def _reply(response: Any) -> ChatReply:
    # getattr throughout: OpenAI-compatible servers differ in which optional fields they send
    choice = response.choices[0]
    calls = []
    for call in getattr(choice.message, "tool_calls", None) or []:
        raw = call.function.arguments or ""
        try:
            arguments = json.loads(raw) if raw else {}
        except ValueError:
            arguments = {}
        calls.append(ToolCall(call.id, call.function.name, arguments if isinstance(arguments, dict) else {}, raw))
    usage = getattr(response, "usage", None)
    usage = usage.model_dump() if usage is not None else {}
    logprobs = None
    choice_logprobs = getattr(choice, "logprobs", None)
    if choice_logprobs is not None and getattr(choice_logprobs, "content", None) is not None:
        logprobs = [item.model_dump() for item in choice_logprobs.content]
    return ChatReply(getattr(choice.message, "content", None) or "", calls, getattr(choice, "finish_reason", None),
                     {k: v for k, v in usage.items() if isinstance(v, int)}, str(getattr(response, "model", "") or ""),
                     logprobs)
