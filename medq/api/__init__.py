"""The Litestar API: OpenAI-compatible chat completions on the medical agent, patient memory, keys and tenants.

Imports run one way: api -> agent -> serve/rag. The Chainlit app (medq.ui) talks to this API over HTTP only.
"""
