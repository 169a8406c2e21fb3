"""End-to-end tests of the gateway's Anthropic Messages API (`/v1/messages`) with the official
`anthropic` Python SDK.

The gateway serves the Messages API through its chat path, so each test runs against three kinds
of target (fixture `native_gateway`): the OpenAI-compatible fake (`small`, fake_openai.py), the
Gemini fake (`gem`) and the Anthropic fake (`claude`) (fake_native.py). The SDK is pointed at the
gateway's root URL (it appends /v1/messages itself).
"""

import base64
import struct
import zlib

import json

import anthropic
import pydantic
import pytest
from anthropic.types import Message, MessageTokensCount, RawMessageStreamEvent

from conftest import MASTER_KEY

try:  # the SDKs of this generation depend on httpx2 (httpx's successor, same API)
    import httpx
except ImportError:  # pragma: no cover - depends on the installed SDK
    import httpx2 as httpx

QUESTION = "hello messages"
TARGETS = [
    pytest.param("small", "openai", f"You said: {QUESTION}", id="openai"),
    pytest.param("gem", "gemini", "Hello from gemini.", id="gemini"),
    pytest.param("claude", "anthropic", "Hello from anthropic.", id="anthropic"),
]

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TOOL_OUTPUT = "sunny, 18 C"


def _png_1x1():
    """A valid 1×1 red PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG_BASE64 = base64.b64encode(_png_1x1()).decode()


def _root(v1_url):
    return v1_url[: -len("/v1")]


@pytest.fixture(scope="session")
def client(native_gateway):
    return anthropic.Anthropic(base_url=_root(native_gateway), api_key="unused", max_retries=0, timeout=30)


def _user(text):
    return {"role": "user", "content": text}


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_text_message(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    message = client.messages.create(model=model, max_tokens=256, messages=[_user(QUESTION)])

    assert message.type == "message"
    assert message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.model == model
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == expected
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0
    assert upstream_logs[protocol].chats_since(mark)


def test_structured_output_reaches_an_openai_compatible_upstream_as_a_json_schema(client, upstream_logs):
    """output_config.format (the SDK's structured output) becomes chat's response_format."""
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    mark = upstream_logs["openai"].mark()
    message = client.messages.create(
        model="small",
        max_tokens=256,
        messages=[_user("Name a city as JSON.")],
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    assert message.type == "message"
    body = upstream_logs["openai"].last_chat_since(mark)["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == schema


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_system_prompt_reaches_the_upstream(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    message = client.messages.create(
        model=model, max_tokens=256, system="You are terse.", messages=[_user(QUESTION)], stop_sequences=["STOP"]
    )
    assert message.content[0].text == expected

    body = upstream_logs[protocol].last_chat_since(mark)["body"]
    if protocol == "openai":
        assert body["messages"][0] == {"role": "system", "content": "You are terse."}
        assert body["messages"][-1] == {"role": "user", "content": QUESTION}
        assert body["max_completion_tokens"] == 256
        assert body["stop"] == ["STOP"]
    elif protocol == "gemini":
        assert body["systemInstruction"]["parts"] == [{"text": "You are terse."}]
        assert body["generationConfig"]["maxOutputTokens"] == 256
        assert body["generationConfig"]["stopSequences"] == ["STOP"]
    else:
        system = body["system"]
        assert (system if isinstance(system, str) else system[0]["text"]) == "You are terse."
        assert body["max_tokens"] == 256
        assert body["stop_sequences"] == ["STOP"]


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_an_image_block_with_base64_data(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    message = client.messages.create(
        model=model,
        max_tokens=256,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_BASE64}},
                    {"type": "text", "text": QUESTION},
                ],
            }
        ],
    )
    assert message.content[0].text == expected

    body = upstream_logs[protocol].last_chat_since(mark)["body"]
    if protocol == "openai":
        parts = body["messages"][-1]["content"]
        assert parts[0]["type"] == "image_url"
        assert parts[0]["image_url"]["url"] == f"data:image/png;base64,{PNG_BASE64}"
        assert parts[1] == {"type": "text", "text": QUESTION}
    elif protocol == "gemini":
        parts = body["contents"][-1]["parts"]
        assert parts[0]["inlineData"] == {"mimeType": "image/png", "data": PNG_BASE64}
        assert parts[1] == {"text": QUESTION}
    else:
        blocks = body["messages"][-1]["content"]
        assert blocks[0]["type"] == "image"
        assert blocks[0]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG_BASE64}
        assert blocks[1]["type"] == "text" and blocks[1]["text"] == QUESTION


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_tool_round_trip(client, upstream_logs, model, protocol, expected):
    log = upstream_logs[protocol]
    mark = log.mark()
    question = _user("What is the weather in Paris?")
    first = client.messages.create(model=model, max_tokens=256, messages=[question], tools=[WEATHER_TOOL])

    assert first.stop_reason == "tool_use"
    uses = [block for block in first.content if block.type == "tool_use"]
    assert len(uses) == 1, first.content
    use = uses[0]
    assert use.name == "get_weather"
    assert use.input == {"city": "Paris"}
    assert use.id
    # The tool call comes last; a text block before it (Claude says something first) is kept.
    assert first.content[-1].type == "tool_use"
    if protocol == "anthropic":
        assert [block.type for block in first.content] == ["text", "tool_use"]
        assert first.content[0].text == "Let me check the weather."

    second = client.messages.create(
        model=model,
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[
            question,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": TOOL_OUTPUT}]},
        ],
    )
    assert second.stop_reason == "end_turn"
    assert [block.type for block in second.content] == ["text"]
    assert second.content[0].text == f"It is {TOOL_OUTPUT} in Paris."

    chats = log.chats_since(mark)
    assert len(chats) == 2, chats
    body = chats[1]["body"]
    if protocol == "openai":
        assistant = [m for m in body["messages"] if m["role"] == "assistant"][-1]
        assert assistant["tool_calls"][0]["id"] == use.id
        assert assistant["tool_calls"][0]["function"]["name"] == "get_weather"
        tool = [m for m in body["messages"] if m["role"] == "tool"]
        assert tool == [{"role": "tool", "tool_call_id": use.id, "content": TOOL_OUTPUT}]
    elif protocol == "gemini":
        parts = [p for c in body["contents"] for p in c["parts"]]
        assert [p["functionCall"]["args"] for p in parts if "functionCall" in p] == [{"city": "Paris"}]
        assert [p["functionResponse"]["name"] for p in parts if "functionResponse" in p] == ["get_weather"]
    else:
        blocks = [b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]]
        assert [b["id"] for b in blocks if b["type"] == "tool_use"] == [use.id]
        assert [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"] == [use.id]


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_streamed_message(client, model, protocol, expected):
    with client.messages.stream(model=model, max_tokens=256, messages=[_user(QUESTION)]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) >= 1
    assert "".join(pieces) == expected
    assert final.id.startswith("msg_")
    assert final.model == model
    assert [block.type for block in final.content] == ["text"]
    assert final.content[0].text == expected
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_the_stream_events_follow_anthropics_order(client, model, protocol, expected):
    events = list(client.messages.create(model=model, max_tokens=256, messages=[_user(QUESTION)], stream=True))
    types = [event.type for event in events]
    assert types[0] == "message_start", types
    assert types[-2:] == ["message_delta", "message_stop"], types
    assert types[1] == "content_block_start"
    assert types[-3] == "content_block_stop"
    assert set(types[2:-3]) == {"content_block_delta"}, types
    assert events[0].message.usage.input_tokens > 0
    assert events[-2].delta.stop_reason == "end_turn"
    assert events[-2].usage.output_tokens > 0
    assert "".join(event.delta.text for event in events[2:-3]) == expected


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_count_tokens(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    counted = client.messages.count_tokens(
        model=model, system="You are terse.", messages=[_user(QUESTION)], tools=[WEATHER_TOOL]
    )
    assert counted.input_tokens > 0
    shorter = client.messages.count_tokens(model=model, messages=[_user("hi")])
    assert 0 < shorter.input_tokens < counted.input_tokens
    # The gateway estimates; it asks no upstream.
    assert upstream_logs[protocol].chats_since(mark) == []


def _sse(text):
    """(event name, JSON data) of each server-sent event in a stream body."""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        names = [line[len("event: ") :] for line in lines if line.startswith("event: ")]
        data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
        if data:
            yield (names[0] if names else None), json.loads("\n".join(data))


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_the_wire_shapes_validate_against_the_sdk_types(native_gateway, model, protocol, expected):
    # The SDK builds its objects without validating them, so a missing or mistyped field would go
    # unseen above; validating the raw JSON with the SDK's own pydantic types does not.
    stream_event = pydantic.TypeAdapter(RawMessageStreamEvent)
    question = {"role": "user", "content": "What is the weather in Paris?"}
    for extra in ({}, {"tools": [WEATHER_TOOL]}):
        body = {"model": model, "max_tokens": 256, "messages": [question], **extra}
        answer = httpx.post(f"{native_gateway}/messages", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        Message.model_validate(answer.json())
        streamed = httpx.post(f"{native_gateway}/messages", json={**body, "stream": True}, timeout=30)
        assert streamed.status_code == 200, streamed.text
        assert streamed.headers["content-type"].startswith("text/event-stream")
        events = list(_sse(streamed.text))
        for name, data in events:
            # Every event's name matches its type; `ping` is outside the SDK's event union (it skips them).
            assert name == data["type"], (name, data)
            if name != "ping":
                stream_event.validate_python(data)
        assert events[-1][0] == "message_stop"
    counted = httpx.post(f"{native_gateway}/messages/count_tokens", json={"model": model, "messages": [question]})
    MessageTokensCount.model_validate(counted.json())


def test_unknown_model_is_not_found(client):
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(model="no-such-model", max_tokens=16, messages=[_user(QUESTION)])
    assert caught.value.status_code == 404
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="no-such-model", messages=[_user(QUESTION)])


def test_a_missing_max_tokens_is_an_invalid_request(native_gateway):
    # The SDK requires max_tokens; a raw request shows the gateway refuses it as Anthropic does.
    response = httpx.post(
        f"{native_gateway}/messages", json={"model": "small", "messages": [_user(QUESTION)]}, timeout=30
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"


# ----- keys (fixture keyed_gateway: a master key in front of fake_openai.py's `priced` model) -----


def test_the_key_as_x_api_key(keyed_gateway):
    url, root = keyed_gateway
    message = anthropic.Anthropic(base_url=root, api_key=MASTER_KEY, max_retries=0).messages.create(
        model="priced", max_tokens=64, messages=[_user("keyed")]
    )
    assert message.content[0].text == "You said: keyed"


def test_the_key_as_a_bearer_auth_token(keyed_gateway):
    url, root = keyed_gateway
    client = anthropic.Anthropic(base_url=root, auth_token=MASTER_KEY, max_retries=0)
    message = client.messages.create(model="priced", max_tokens=64, messages=[_user("bearer")])
    assert message.content[0].text == "You said: bearer"
    assert client.messages.count_tokens(model="priced", messages=[_user("bearer")]).input_tokens > 0


def test_a_bad_key_is_an_authentication_error(keyed_gateway):
    url, root = keyed_gateway
    for client in (
        anthropic.Anthropic(base_url=root, api_key="not-a-key", max_retries=0),
        anthropic.Anthropic(base_url=root, auth_token="not-a-key", max_retries=0),
    ):
        with pytest.raises(anthropic.AuthenticationError) as caught:
            client.messages.create(model="priced", max_tokens=64, messages=[_user("hi")])
        assert caught.value.status_code == 401
        assert caught.value.body["type"] == "error"
        assert caught.value.body["error"]["type"] == "authentication_error"
        assert "not-a-key" not in str(caught.value.body)
        with pytest.raises(anthropic.AuthenticationError):
            client.messages.count_tokens(model="priced", messages=[_user("hi")])


# ----- a stream cut mid-answer (fixture failover_gateway, FAILOVER_CONFIG in conftest.py) -----

LONG_QUESTION = "tell me a long story please"
LONG_ANSWER = f"You said: {LONG_QUESTION}"
# fake-cut-after-3 sends three word pieces, then drops the connection.
CUT_PREFIX = "You said: tell "


@pytest.fixture(scope="session")
def failover_client(failover_gateway):
    return anthropic.Anthropic(base_url=_root(failover_gateway), api_key="unused", max_retries=0, timeout=30)


def test_a_cut_stream_is_continued_by_the_next_target(failover_client, upstream_logs):
    log = upstream_logs["openai"]
    mark = log.mark()
    with failover_client.messages.stream(model="continued", max_tokens=256, messages=[_user(LONG_QUESTION)]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text == LONG_ANSWER
    assert final.content[0].text == LONG_ANSWER
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0

    chats = log.chats_since(mark)
    assert [chat["body"]["model"] for chat in chats] == ["fake-cut-after-3", "fake-small"]
    continuation = chats[1]["body"]
    assert continuation["continue_final_message"] is True
    assert continuation["messages"][-1] == {"role": "assistant", "content": CUT_PREFIX}


def test_a_cut_stream_that_cannot_be_continued_raises_during_iteration(failover_client, upstream_logs):
    log = upstream_logs["openai"]
    mark = log.mark()
    events = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        with failover_client.messages.stream(
            model="uncontinued", max_tokens=256, messages=[_user(LONG_QUESTION)]
        ) as stream:
            for event in stream:
                events.append(event)
                assert len(events) < 200, "the stream did not end"
    types = [event.type for event in events]

    # The SDK raises on the `error` event: the text so far was seen, never a message_stop.
    assert types[0] == "message_start", types
    assert "message_stop" not in types
    assert "message_delta" not in types
    assert "".join(event.delta.text for event in events if event.type == "content_block_delta") == CUT_PREFIX
    body = caught.value.body
    assert body["type"] == "error"
    assert body["error"]["type"] in ("api_error", "overloaded_error")
    assert body["error"]["message"]
    assert [chat["body"]["model"] for chat in log.chats_since(mark)] == ["fake-cut-after-3"]


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_streamed_tool_call(client, model, protocol, expected):
    # The SDK assembles the tool's input from the input_json_delta fragments.
    with client.messages.stream(
        model=model, max_tokens=256, messages=[_user("What is the weather in Paris?")], tools=[WEATHER_TOOL]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    uses = [block for block in final.content if block.type == "tool_use"]
    assert len(uses) == 1, final.content
    assert uses[0].name == "get_weather"
    assert uses[0].input == {"city": "Paris"}
    assert any(event.type == "input_json" for event in events)
