"""`transformers serve` (the fallback backend, from .venv) on the tiny model: chat, streaming, parity by text."""

from __future__ import annotations

import pytest

from medq.serve import ChatClient

pytestmark = pytest.mark.timeout(1200)
QUESTION = [{"role": "user", "content": "孩子发烧38.5度，应该怎么处理？"}]


def test_chat_and_stream(transformers_server):
    client = ChatClient(transformers_server.endpoint())
    reply = client.chat(QUESTION)
    assert reply.text and reply.finish_reason in ("stop", "length")
    # transformers serve streams the blank lines after the (empty) think block that its non-streamed reply strips
    assert "".join(client.stream(QUESTION)).strip() == reply.text.strip()


def test_parity_by_text(transformers_server, tmp_path):
    from medq.stage import StageContext
    from medq.serve.parity import ParityCheck, ServeParityStage
    from medq.tracking import StageTracker

    tiny = transformers_server.tiny
    stage = ServeParityStage(inputs={}, checks=[ParityCheck("merged")], prompts=["孩子发烧38.5度，应该怎么处理？"],
                             max_new_tokens=12)
    (tmp_path / "out").mkdir()
    ctx = StageContext("serve_parity", tmp_path / "out", {"endpoint": transformers_server.endpoint_file(tmp_path),
                                                          "model": tiny.model, "template": tiny.template},
                       StageTracker(None, None), 0)
    stage.run(ctx)
