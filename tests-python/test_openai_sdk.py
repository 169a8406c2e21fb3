"""End-to-end tests of the gateway with the official `openai` Python SDK.

The gateway (fixture `gateway`) fronts a fake OpenAI upstream (fixture `fake_upstream`, see
fake_openai.py) that answers "You said: <last user message>" and records the last request it got.
"""

import openai
import pytest

try:  # openai < 3 depends on httpx; openai 3.x on its successor httpx2 (same API).
    import httpx
except ImportError:  # pragma: no cover - depends on the installed SDK
    import httpx2 as httpx


@pytest.fixture(scope="session")
def upstream_last(fake_upstream):
    """Returns a function giving the last request body the fake upstream received."""
    def last():
        response = httpx.get(f"{fake_upstream}/_last", timeout=10)
        assert response.status_code == 200
        return response.json()

    return last


@pytest.fixture(scope="session")
def client(gateway):
    return openai.OpenAI(base_url=gateway, api_key="unused", max_retries=0, timeout=30)


def _error_envelope(response):
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    for key in ("message", "type", "param", "code"):
        assert key in error, error
    assert isinstance(error["message"], str) and error["message"], error
    return error


def test_chat_completion_through_route(client, upstream_last):
    completion = client.chat.completions.create(
        model="auto",
        messages=[
            {"role": "system", "content": "You are a test."},
            {"role": "user", "content": "hello gateway"},
        ],
        extra_body={"multiprodigy": {"policy": "ordered"}, "some_future_field": 1},
    )
    assert completion.model == "small"
    assert completion.object == "chat.completion"
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "You said: hello gateway"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens

    upstream_request = upstream_last()
    assert upstream_request["model"] == "fake-small"
    assert "multiprodigy" not in upstream_request
    assert upstream_request["some_future_field"] == 1
    assert upstream_request["messages"][-1] == {"role": "user", "content": "hello gateway"}


def test_chat_completion_with_raw_response_headers(client):
    raw = client.chat.completions.with_raw_response.create(
        model="small",
        messages=[{"role": "user", "content": "direct model"}],
    )
    assert raw.status_code == 200
    completion = raw.parse()
    assert completion.model == "small"
    assert completion.choices[0].message.content == "You said: direct model"


def test_streaming_with_usage(client, upstream_last):
    stream = client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len(chunks) >= 3, chunks

    for chunk in chunks:
        assert chunk.model == "small", chunk
        assert chunk.object == "chat.completion.chunk"

    text = "".join(
        choice.delta.content or "" for chunk in chunks for choice in chunk.choices if choice.delta is not None
    )
    assert text == "You said: stream me please"

    finish_reasons = [choice.finish_reason for chunk in chunks for choice in chunk.choices if choice.finish_reason]
    assert "stop" in finish_reasons

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    for chunk in chunks[:-1]:
        assert chunk.usage is None

    upstream_request = upstream_last()
    assert upstream_request["model"] == "fake-small"
    assert upstream_request["stream"] is True
    assert upstream_request["stream_options"] == {"include_usage": True}


def test_streaming_without_usage(client):
    stream = client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "no usage"}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)
    assert text == "You said: no usage"
    assert all(chunk.model == "small" for chunk in chunks)
    assert all(chunk.choices for chunk in chunks), "no usage-only chunk expected without include_usage"


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(
            model="no-such-model",
            messages=[{"role": "user", "content": "hi"}],
        )
    error = info.value
    assert error.status_code == 404
    assert error.code == "model_not_found"
    assert isinstance(error.body, dict)
    assert error.body.get("code") == "model_not_found"
    assert error.body.get("type") == "invalid_request_error"
    assert error.param == "model"


def test_empty_messages_is_bad_request(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="auto", messages=[])
    error = info.value
    assert error.status_code == 400
    assert error.type == "invalid_request_error"
    assert error.param == "messages"


def test_wrong_type_is_bad_request(client):
    # `temperature` given only through extra_body reaches the gateway exactly as written: a string.
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"temperature": "hot"},
        )
    error = info.value
    assert error.status_code == 400
    assert error.type == "invalid_request_error"
    assert error.param == "temperature"


def test_malformed_json_body_is_bad_request(gateway):
    response = httpx.post(
        f"{gateway}/chat/completions",
        content=b'{"model": "auto", "messages": [',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    error = _error_envelope(response)
    assert error["type"] == "invalid_request_error"


def test_unknown_model_raw_envelope(gateway):
    response = httpx.post(
        f"{gateway}/chat/completions",
        json={"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert response.status_code == 404
    error = _error_envelope(response)
    assert error["code"] == "model_not_found"
    assert error["type"] == "invalid_request_error"


def test_models_list(client):
    ids = [model.id for model in client.models.list()]
    assert "auto" in ids
    assert "small" in ids
    for model in client.models.list():
        assert model.object == "model"


def test_health_and_ready(gateway):
    root = gateway.rsplit("/v1", 1)[0]
    health = httpx.get(f"{root}/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    ready = httpx.get(f"{root}/ready", timeout=10)
    assert ready.status_code == 200
    assert "fake" in ready.json()["providers_enabled"]
