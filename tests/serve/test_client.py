"""The chat client against a real HTTP server: the scripted OpenAI-protocol replay server (tests/fixtures/
openai_replay.py), since a tiny random model cannot be made to emit a given tool call or a slow stream. vLLM itself:
tests/serve/test_vllm.py."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from medq.errors import ConfigError
from medq.serve import ChatClient, ChatEndpoint, ModelServerUnavailable
from medq.serve.launcher import free_port
from tests.fixtures.openai_replay import replay_fixture, spawn

TEXT = {"content": "头痛可能与睡眠不足有关。"}
TOOL_CALL = {"tool_calls": [{"name": "lookup_drug", "arguments": {"name": "布洛芬", "dose_mg": 200}}]}


replay_server = replay_fixture("module")


@pytest.fixture
def replay(replay_server):
    """The server's URL, its scripts and log emptied for each test."""
    replay_server.reset()
    yield replay_server.base_url
    replay_server.reset()


def endpoint(url: str, **kw) -> ChatEndpoint:
    return ChatEndpoint(**{"base_url": url, "model": "replay", "max_retries": 0, "timeout_s": 10, **kw})


def test_chat_text_then_tool_call(replay, replay_server):
    replay_server.script("draft", TEXT, TOOL_CALL)
    client = ChatClient(endpoint(replay))
    tools = [{"type": "function", "function": {"name": "lookup_drug", "parameters": {"type": "object"}}}]
    first = client.chat([{"role": "user", "content": "头痛"}], tools=tools)
    assert first.text == TEXT["content"] and first.tool_calls == [] and first.finish_reason == "stop"
    assert first.model == "replay" and first.usage["prompt_tokens"] == len("头痛")   # the server's count, passed on
    second = client.chat([{"role": "user", "content": "布洛芬"}], tools=tools)
    assert second.finish_reason == "tool_calls"
    assert [(c.name, c.arguments, c.id) for c in second.tool_calls] == [("lookup_drug", {"name": "布洛芬", "dose_mg": 200}, "call_0")]
    assert replay_server.requests[1]["body"]["tools"] == tools, "the tools travel in the request"


def test_stream_and_async(replay, replay_server):
    replay_server.script("draft", default=TEXT)
    client = ChatClient(endpoint(replay))
    counted: dict[str, int] = {}
    pieces = [p for p in client.stream([{"role": "user", "content": "头痛"}], usage=counted)]
    assert len(pieces) > 1 and "".join(pieces) == TEXT["content"]
    assert counted == {"prompt_tokens": 2, "completion_tokens": len(TEXT["content"]),
                       "total_tokens": 2 + len(TEXT["content"])}

    async def both():
        reply = await client.achat([{"role": "user", "content": "x"}])
        usage: dict[str, int] = {}
        streamed = [p async for p in client.astream([{"role": "user", "content": "x"}], usage=usage)]
        await client.aclose()
        return reply, streamed, usage

    reply, streamed, usage = asyncio.run(both())
    assert reply.text == TEXT["content"] and reply.model == "replay"
    assert "".join(streamed) == TEXT["content"] and usage["completion_tokens"] == len(TEXT["content"])
    assert [r["body"].get("stream", False) for r in replay_server.requests] == [True, False, True]


def test_request_carries_defaults_schema_and_thinking_switch(replay):
    client = ChatClient(endpoint(replay, temperature=0.3, max_tokens=7))
    body = client.request([{"role": "user", "content": "x"}], None, {"title": "Triage", "type": "object"},
                          {"top_k": 5})
    assert body["temperature"] == 0.3 and body["max_tokens"] == 7
    assert body["response_format"]["json_schema"]["name"] == "Triage"
    assert body["extra_body"] == {"chat_template_kwargs": {"enable_thinking": False}, "top_k": 5}


def test_unknown_model_is_one_line_error_naming_url(replay):
    from medq.errors import MedqError

    with pytest.raises(MedqError, match=r"refused the request \(HTTP 404\).*does not exist") as info:
        ChatClient(endpoint(replay, model="nope")).chat([{"role": "user", "content": "x"}])
    assert replay in str(info.value) and "\n" not in str(info.value)


def test_server_down_names_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelServerUnavailable, match="unreachable") as info:
        ChatClient(endpoint(url)).chat([{"role": "user", "content": "x"}])
    assert url in str(info.value)


def test_backend_killed_mid_stream(tmp_path):
    process = spawn(tmp_path, {"draft": {"default": {"content": "一" * 200, "chunk_delay": 0.05}}})
    url = process.base_url
    stream = ChatClient(endpoint(url)).stream([{"role": "user", "content": "x"}])
    try:
        assert next(stream) == "一"
        assert process.requests()[0]["body"]["stream"] is True, "the subprocess logs what it was sent"
        os.killpg(process.pid, signal.SIGKILL)
        with pytest.raises(ModelServerUnavailable) as info:
            for _ in stream:
                pass
        assert url in str(info.value)
    finally:
        process.stop()


def test_a_stream_that_stops_without_finish_reason_is_not_a_complete_reply(replay, replay_server):
    """A dying server may close the connection cleanly mid-reply: what came so far must not pass for the answer."""
    replay_server.script("draft", default={"content": "请立即", "hang_up": True})
    client = ChatClient(endpoint(replay))
    with pytest.raises(ModelServerUnavailable, match="closed the stream before the reply finished") as info:
        list(client.stream([{"role": "user", "content": "胸痛"}]))
    assert replay in str(info.value)

    async def consume():
        return [p async for p in client.astream([{"role": "user", "content": "胸痛"}])]

    with pytest.raises(ModelServerUnavailable, match="closed the stream before the reply finished"):
        asyncio.run(consume())


def test_model_server_down_reads_what_another_client_raised(replay, replay_server):
    """The API's fallback for errors raised by Haystack's own OpenAI client: the same reading as ChatClient's."""
    import openai

    from medq.serve.client import model_server_down

    def raised(base_url: str, model: str = "replay") -> BaseException:
        sdk = openai.OpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=5)
        try:
            sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
        except openai.APIError as exc:
            try:
                raise RuntimeError("generator failed") from exc   # wrapped, as a framework may
            except RuntimeError as wrapped:
                return wrapped
        raise AssertionError("the call did not fail")

    replay_server.script("draft", {"status": 503})
    assert model_server_down(raised(f"http://127.0.0.1:{free_port()}/v1")), "nothing listening"
    assert model_server_down(raised(replay)), "HTTP 503"
    assert not model_server_down(raised(replay, model="nope")), "a 404 about this request is no outage"
    assert not model_server_down(ValueError("unrelated"))


def test_remote_endpoint_needs_explicit_permission():
    with pytest.raises(ConfigError, match="allow_remote_endpoint: true"):
        ChatEndpoint(base_url="https://llm.hospital.example/v1")
    assert ChatEndpoint(base_url="https://llm.hospital.example/v1", allow_remote_endpoint=True)
    assert ChatEndpoint(base_url="http://[::1]:8000/v1") and ChatEndpoint(base_url="http://localhost:1/v1")


def test_haystack_generator_talks_to_the_same_endpoint(replay, replay_server):
    from haystack.dataclasses import ChatMessage

    replay_server.script("draft", TEXT, TOOL_CALL)
    generator = ChatClient(endpoint(replay)).haystack_generator()
    replies = generator.run([ChatMessage.from_user("头痛")])["replies"]
    assert replies[0].text == TEXT["content"]
    streamed = []   # streaming, tool call included: Haystack assembles it from the server-sent chunks
    call = ChatClient(endpoint(replay)).haystack_generator(streaming_callback=streamed.append).run(
        [ChatMessage.from_user("布洛芬")])["replies"][0].tool_calls[0]
    assert (call.tool_name, call.arguments) == ("lookup_drug", {"name": "布洛芬", "dose_mg": 200}) and streamed


def test_query_rewriter_uses_the_client(replay, replay_server, caplog):
    from medq.rag.query import ChatQueryRewriter

    replay_server.script("draft", default={"content": "头痛"})
    rewriter = ChatQueryRewriter(base_url=replay, model="replay", retries=0)
    assert rewriter.rewrite("头疼") == "头疼 头痛"
    down = ChatQueryRewriter(base_url=f"http://127.0.0.1:{free_port()}/v1", model="replay", retries=0)
    assert down.rewrite("头疼") == "头疼"  # retrieval must not fail because the optional rewriter did
    assert "searching with the original query" in caplog.text
