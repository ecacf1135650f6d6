"""Rate limits count per authenticated key id (issue 16, finding 5): the limiter used to key on the raw header, so
`bearer KEY`, `Bearer  KEY` or `X-API-Key: KEY` each got a fresh budget (149 of 150 variants served while limited)."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.api.conftest import start_api

LIMIT = 4


def variants(key: str) -> list[dict[str, str]]:
    # (HTTP clients strip or refuse leading/trailing whitespace in a header value; inside it is fair game)
    spellings = [f"{scheme}{space}{key}" for scheme, space in
                 itertools.product(("Bearer", "bearer", "BEARER", "BeArEr"), (" ", "  ", "\t", " \t "))]
    return [{"Authorization": s} for s in spellings] + [{"X-API-Key": key}, {"x-api-key": key},
                                                        {"Authorization": "Basic abc", "X-API-Key": key}]


@pytest.fixture(scope="module")
def limited(model_server, tmp_path_factory):
    server = start_api(tmp_path_factory.mktemp("limited"), model_server.base_url,
                       f"api.rate_limit.requests={LIMIT}", "api.rate_limit.per=hour")
    yield server
    server.stop()


def test_every_spelling_of_a_key_is_authenticated(limited):
    for headers in variants(limited.keys["tenant-b"])[:LIMIT]:
        response = httpx.get(limited.base_url + "/v1/models", headers=headers, timeout=30)
        assert response.status_code == 200, (headers, response.text)


def test_spelling_the_same_key_differently_shares_one_budget(limited):
    key = limited.keys["tenant-a"]
    statuses = [httpx.get(limited.base_url + "/v1/models", headers=h, timeout=30).status_code
                for h in variants(key)]
    assert statuses[:LIMIT] == [200] * LIMIT
    assert statuses[LIMIT:] == [429] * (len(statuses) - LIMIT), statuses
    # invalid keys do not get budgets of their own either: they count against the caller's address
    bad = [httpx.get(limited.base_url + "/v1/models", headers={"Authorization": f"Bearer mq-bad-{i}"},
                     timeout=30).status_code for i in range(LIMIT + 3)]
    assert bad.count(401) <= LIMIT and bad[-1] == 429, bad
