"""A real small stage that talks to the pipeline's model server through its `serve.endpoint` input."""

from __future__ import annotations

import json
import os

from medq.errors import MedqError
from medq.serve import ChatClient
from medq.serve.services import read_endpoint


class AskStage:
    def __init__(self, inputs: dict[str, str], log_file: str, question: str = "头痛怎么办", fail: bool = False):
        self.inputs, self.log_file, self.question, self.fail = inputs, log_file, question, fail

    def run(self, ctx):
        endpoint, record = read_endpoint(ctx.inputs["endpoint"], max_retries=0)
        reply = ChatClient(endpoint).chat([{"role": "user", "content": self.question}])
        alive = record["pid"] is not None and os.path.exists(f"/proc/{record['pid']}")
        with open(self.log_file, "a") as handle:
            handle.write(json.dumps({"stage": ctx.stage, "url": record["base_url"], "pid": record["pid"],
                                     "alive": alive, "reply": reply.text}, ensure_ascii=False) + "\n")
        if self.fail:
            raise MedqError("told to fail")
        (ctx.output_dir / "reply.txt").write_text(reply.text, encoding="utf-8")
        return {"reply": "reply.txt"}
