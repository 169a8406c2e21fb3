"""Cost, virtual keys, budgets, rate limits and metrics, seen through the official `openai` SDK."""

import json
import urllib.request

import openai
import pytest

from conftest import MASTER_KEY

PRICE_IN, PRICE_OUT = 2.0, 8.0


def _admin(root, method, path, body=None):
    request = urllib.request.Request(
        f"{root}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {MASTER_KEY}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _create_key(root, **settings):
    status, body = _admin(root, "POST", "/admin/keys", settings)
    assert status == 201, body
    assert body["key"].startswith("mp-")
    return body["key"]


def _expected_cost(usage):
    return (usage.prompt_tokens * PRICE_IN + usage.completion_tokens * PRICE_OUT) / 1_000_000


def test_a_completion_carries_its_cost_in_usage_and_a_header(keyed_gateway):
    url, _ = keyed_gateway
    client = openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="priced", messages=[{"role": "user", "content": "what does this cost"}]
    )
    completion = raw.parse()
    cost = completion.usage.model_extra["cost_usd"]
    assert cost == pytest.approx(_expected_cost(completion.usage), abs=1e-8)
    assert float(raw.headers["x-multiprodigy-cost-usd"]) == pytest.approx(cost, abs=1e-8)
    assert float(raw.headers["x-multiprodigy-overhead-ms"]) >= 0


def test_a_stream_reports_its_cost_in_the_final_usage_chunk_only_when_asked(keyed_gateway):
    url, _ = keyed_gateway
    client = openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="priced",
            messages=[{"role": "user", "content": "stream it"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage = chunks[-1].usage
    assert chunks[-1].choices == []
    assert usage.model_extra["cost_usd"] == pytest.approx(_expected_cost(usage), abs=1e-8)
    # Not asked: the gateway still asked upstream for usage (to price the answer) but sends none.
    plain = list(
        client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "stream it"}], stream=True)
    )
    assert all(chunk.usage is None for chunk in plain)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in plain if chunk.choices) == "You said: stream it"


def test_a_virtual_key_works_until_revoked(keyed_gateway):
    url, root = keyed_gateway
    secret = _create_key(root, name="sdk-team")
    client = openai.OpenAI(base_url=url, api_key=secret, max_retries=0)
    assert client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "hi"}]).choices
    status, listed = _admin(root, "GET", "/admin/keys")
    assert status == 200 and secret not in json.dumps(listed)
    assert _admin(root, "DELETE", "/admin/keys/sdk-team")[0] == 200
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "hi"}])
    assert "revoked" in caught.value.message
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url, api_key="not-a-key", max_retries=0).models.list()


def test_a_spent_budget_is_a_rate_limit_error_the_sdk_does_not_retry(keyed_gateway):
    url, root = keyed_gateway
    secret = _create_key(root, name="sdk-budget", budget="0.000001usd")
    # The SDK would retry a 429 twice; x-should-retry: false stops it, so the upstream sees one call.
    client = openai.OpenAI(base_url=url, api_key=secret, max_retries=2)
    client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "spend it all"}])
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "one more"}])
    assert caught.value.code == "budget_exceeded"
    assert caught.value.response.headers["x-should-retry"] == "false"


def test_requests_per_minute_are_a_rate_limit_error_with_retry_after(keyed_gateway):
    url, root = keyed_gateway
    secret = _create_key(root, name="sdk-rpm", rpm=1)
    client = openai.OpenAI(base_url=url, api_key=secret, max_retries=0)
    client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "first"}])
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "second"}])
    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after"]) > 0


def test_a_key_limited_to_some_routes_gets_a_permission_error_elsewhere(keyed_gateway):
    url, root = keyed_gateway
    secret = _create_key(root, name="sdk-routes", routes=["priced"])
    client = openai.OpenAI(base_url=url, api_key=secret, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="fake/other", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_allowed"


def test_metrics_count_the_traffic(keyed_gateway):
    url, root = keyed_gateway
    client = openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0)
    client.chat.completions.create(model="priced", messages=[{"role": "user", "content": "count me"}])
    with urllib.request.urlopen(f"{root}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'multiprodigy_requests_total{api="chat",route="priced",provider="fake",model="fake-priced",status="2xx"}' in text
    assert "multiprodigy_cost_usd_total" in text and 'key="master"' in text
    assert "count me" not in text
