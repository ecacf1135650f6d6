"""What happens to a query before retrieval: validation, then optional rewriting.

Defined behaviour for bad queries (each has a test):
- empty or whitespace only: `MedqError` ("query is empty");
- longer than `max_chars`: `on_long="truncate"` keeps the first `max_chars` characters (a patient's story puts the
  complaint first) and marks the result truncated; `on_long="error"` refuses it;
- no Chinese character: `on_non_chinese="search"` searches anyway (drug names, "HPV", "CT" are real queries);
  `"error"` refuses it.

Rewriters turn colloquial complaints into the terms documents use: `SynonymQueryRewriter` (a deterministic map,
from config) and `ChatQueryRewriter` (any OpenAI-compatible chat endpoint). Both append, never replace, so the
patient's own words still match.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Literal

from haystack import component, default_from_dict, default_to_dict

from medq.errors import MedqError
from medq.rag.tokenizer import has_chinese

log = logging.getLogger(__name__)


@dataclass
class QueryRules:
    max_chars: int = 512
    on_long: Literal["truncate", "error"] = "truncate"
    on_non_chinese: Literal["search", "error"] = "search"


@dataclass(frozen=True)
class CheckedQuery:
    text: str
    truncated: bool
    chinese: bool


def check_query(query: Any, rules: QueryRules) -> CheckedQuery:
    if not isinstance(query, str):
        raise MedqError(f"query must be a string, got {type(query).__name__}")
    text = " ".join(query.split())
    if not text:
        raise MedqError("query is empty: pass the patient's question as text")
    truncated = False
    if len(text) > rules.max_chars:
        if rules.on_long == "error":
            raise MedqError(f"query is {len(text)} characters, over retrieve.query_rules.max_chars = "
                            f"{rules.max_chars}")
        text, truncated = text[: rules.max_chars], True
    chinese = has_chinese(text)
    if not chinese and rules.on_non_chinese == "error":
        raise MedqError(f"query has no Chinese characters ({text[:40]!r}): medq indexes Chinese text; set "
                        "retrieve.query_rules.on_non_chinese=search to search anyway")
    return CheckedQuery(text, truncated, chinese)


class SynonymQueryRewriter:
    """Colloquial -> standard terms: every map key found in the query appends its value(s)."""

    def __init__(self, synonyms: dict[str, list[str]] | None = None):
        self.synonyms = {k: ([v] if isinstance(v, str) else list(v)) for k, v in (synonyms or {}).items()}

    def spec(self) -> dict[str, Any]:
        return {"_target_": f"{__name__}.{type(self).__name__}", "synonyms": self.synonyms}

    def rewrite(self, query: str) -> str:
        extra = []
        for colloquial in sorted(self.synonyms, key=len, reverse=True):
            if colloquial in query:
                extra.extend(t for t in self.synonyms[colloquial] if t not in query and t not in extra)
        return f"{query} {' '.join(extra)}" if extra else query


class ChatQueryRewriter:
    """Asks an OpenAI-compatible chat endpoint (medq's one chat client, medq.serve.client) for standard medical
    terms and appends them.

    Failures (unreachable, timeout, bad reply) are retried by the client with backoff, then the original query is
    used and a warning logged: retrieval must not fail because the optional rewriter did. A non-loopback base_url
    needs allow_remote_endpoint: true (the patient's words would leave the machine).
    """

    def __init__(self, base_url: str, model: str, api_key_env: str | None = "OPENAI_API_KEY",
                 prompt: str = "把下面的患者描述改写成规范的医学术语（症状、疾病、检查），只输出术语，用空格分隔。",
                 timeout_s: float = 10.0, retries: int = 2, max_terms_chars: int = 64,
                 allow_remote_endpoint: bool = False):
        from medq.serve.client import ChatClient, ChatEndpoint

        self.base_url = base_url.rstrip("/")
        self.model, self.api_key_env, self.prompt = model, api_key_env, prompt
        self.timeout_s, self.retries, self.max_terms_chars = timeout_s, retries, max_terms_chars
        self.allow_remote_endpoint = allow_remote_endpoint
        # an unset key variable is fine for a local server: the client then sends a placeholder key
        key_env = api_key_env if api_key_env and os.environ.get(api_key_env) else None
        self.client = ChatClient(ChatEndpoint(base_url=self.base_url, model=model, api_key_env=key_env,
                                              timeout_s=timeout_s, max_retries=retries, temperature=0.0,
                                              max_tokens=64, enable_thinking=False,
                                              allow_remote_endpoint=allow_remote_endpoint))

    def spec(self) -> dict[str, Any]:
        return {"_target_": f"{__name__}.{type(self).__name__}", "base_url": self.base_url, "model": self.model,
                "api_key_env": self.api_key_env, "prompt": self.prompt, "timeout_s": self.timeout_s,
                "retries": self.retries, "max_terms_chars": self.max_terms_chars,
                "allow_remote_endpoint": self.allow_remote_endpoint}

    def rewrite(self, query: str) -> str:
        try:
            reply = self.client.chat([{"role": "system", "content": self.prompt}, {"role": "user", "content": query}])
        except MedqError as exc:
            log.warning("query rewriter at %s failed (%s); searching with the original query", self.base_url, exc)
            return query
        terms = " ".join(reply.text.split())[: self.max_terms_chars]
        return f"{query} {terms}" if terms else query


@component
class QueryRewriter:
    """Haystack component: query -> rewritten query (the rewriters applied in order)."""

    def __init__(self, rewriters: list[Any]):
        self.rewriters = list(rewriters)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, rewriters=[r.spec() for r in self.rewriters])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryRewriter:
        from medq.safe_instantiate import instantiate_from_file

        data["init_parameters"]["rewriters"] = [instantiate_from_file(r, f"serialised pipeline: rewriters[{i}]")
                                                for i, r in enumerate(data["init_parameters"]["rewriters"])]
        return default_from_dict(cls, data)

    @component.output_types(query=str)
    def run(self, query: str) -> dict[str, Any]:
        for rewriter in self.rewriters:
            query = rewriter.rewrite(query)
        return {"query": query}

    @component.output_types(query=str)
    async def run_async(self, query: str) -> dict[str, Any]:
        import asyncio

        return await asyncio.to_thread(self.run, query)
