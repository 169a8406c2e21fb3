"""End-to-end tests of the gateway's Anthropic Messages API (`/v1/messages`) with the official
`anthropic` Python SDK.

A `type: anthropic` target gets Messages requests natively (the client's body, only `model`
rewritten, and its `anthropic-version` and `anthropic-beta` headers); every other target through
chat. Each test runs against three kinds of target (fixture `native_gateway`): the
OpenAI-compatible fake (`small`, fake_openai.py) and the Gemini fake (`gem`) through chat, and the
Anthropic fake (`claude`, fake_native.py) natively. The SDK is pointed at the gateway's root URL (it
appends /v1/messages itself); what it sent is recorded (`_last_sent_body`) so that a test can check
that Anthropic received exactly that.
"""

import base64
import json
import struct
import zlib

import anthropic
import pydantic
import pytest
from anthropic.types import Message, MessageTokensCount, RawMessageStreamEvent

from conftest import MASTER_KEY
from fake_native import API_KEYS

try:  # the SDKs of this generation depend on httpx2 (httpx's successor, same API)
    import httpx
except ImportError:  # pragma: no cover - depends on the installed SDK
    import httpx2 as httpx

# The Anthropic model behind `claude` (NATIVE_CONFIG in conftest.py): the `model` a native body gets.
CLAUDE_UPSTREAM_MODEL = "claude-sonnet-4-5"

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


# The requests `client` sent, oldest last (an httpx request hook appends them).
_SENT = []


@pytest.fixture(scope="session")
def client(native_gateway):
    recorder = httpx.Client(event_hooks={"request": [_SENT.append]}, timeout=30)
    return anthropic.Anthropic(
        base_url=_root(native_gateway), api_key="unused", max_retries=0, timeout=30, http_client=recorder
    )


def _last_sent():
    """The last request `client` sent."""
    assert _SENT, "the client sent nothing"
    return _SENT[-1]


def _last_sent_body():
    """The JSON body of the last request `client` sent."""
    return json.loads(_last_sent().content)


def _assert_anthropics_own(message):
    """Checks that a message is Anthropic's answer passed through: its usage keeps `service_tier`,
    which the fake sends and the gateway's chat-to-Messages rendering never writes."""
    assert message.usage.service_tier == "standard", message.usage


def _as_sent_to_claude(sent):
    """What a native Anthropic target must receive for a body the client sent: the same, with the
    upstream model name."""
    return {**sent, "model": CLAUDE_UPSTREAM_MODEL}


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
    chats = upstream_logs[protocol].chats_since(mark)
    assert len(chats) == 1, chats
    if protocol == "anthropic":
        _assert_anthropics_own(message)
        assert chats[0]["path"] == "/v1/messages"
        assert chats[0]["body"] == _as_sent_to_claude(_last_sent_body())
        # The fake's own usage, passed through.
        assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 7)


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
        _assert_anthropics_own(message)
        assert body == {
            "model": CLAUDE_UPSTREAM_MODEL,
            "max_tokens": 256,
            "system": "You are terse.",
            "messages": [{"role": "user", "content": QUESTION}],
            "stop_sequences": ["STOP"],
        }


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
        _assert_anthropics_own(message)
        assert body == _as_sent_to_claude(_last_sent_body())
        blocks = body["messages"][-1]["content"]
        assert blocks[0]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG_BASE64}


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
        _assert_anthropics_own(first)
        _assert_anthropics_own(second)
        assert body == _as_sent_to_claude(_last_sent_body())
        blocks = [b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]]
        assert [b["id"] for b in blocks if b["type"] == "tool_use"] == [use.id]
        assert [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"] == [use.id]


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_streamed_message(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
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
    chats = upstream_logs[protocol].chats_since(mark)
    assert len(chats) == 1, chats
    if protocol == "anthropic":
        assert chats[0]["body"] == _as_sent_to_claude(_last_sent_body())
        assert chats[0]["body"]["stream"] is True
        _assert_anthropics_own(final)
        assert (final.usage.input_tokens, final.usage.output_tokens) == (12, 7)


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
    counted = client.messages.with_raw_response.count_tokens(
        model=model, system="You are terse.", messages=[_user(QUESTION)], tools=[WEATHER_TOOL]
    )
    sent = _last_sent_body()
    answer = counted.http_response.json()
    assert counted.parse().input_tokens == answer["input_tokens"] > 0
    shorter = client.messages.count_tokens(model=model, messages=[_user("hi")])
    assert 0 < shorter.input_tokens < answer["input_tokens"]
    recorded = upstream_logs[protocol].all()[mark:]
    if protocol == "anthropic":
        # Anthropic's own count (the fake counts the words of system and messages: 3 + 2), asked
        # with the client's body.
        assert counted.http_response.headers["x-multiprodigy-token-count"] == "upstream"
        assert answer == {"input_tokens": 5}
        assert shorter.input_tokens == 1
        counts = [request for request in recorded if request["path"] == "/v1/messages/count_tokens"]
        assert [request["body"] for request in counts[:1]] == [_as_sent_to_claude(sent)]
        assert len(counts) == 2
    else:
        # The gateway estimates; it asks no upstream.
        assert counted.http_response.headers["x-multiprodigy-token-count"] == "estimated"
        assert answer["estimated"] is True
        assert upstream_logs[protocol].chats_since(mark) == []


THINKING_HISTORY = [
    _user("What is 2 + 2?"),
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Two and two make four.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
            {"type": "text", "text": "4"},
        ],
    },
    _user(QUESTION),
]


def test_anthropic_gets_the_clients_body_and_beta_header_as_sent(client, upstream_logs):
    # What translating through chat would lose: top_k, cache_control, the thinking block and its
    # signature, the beta header.
    log = upstream_logs["anthropic"]
    mark = log.mark()
    message = client.beta.messages.create(
        model="claude",
        max_tokens=2048,
        system=[{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        messages=THINKING_HISTORY,
        thinking={"type": "enabled", "budget_tokens": 1024},
        metadata={"user_id": "user-1234"},
        # The pinned SDK has no `top_k` parameter any more; the API still takes it.
        extra_body={"top_k": 5},
        betas=["interleaved-thinking-2025-05-14"],
    )
    assert message.content[0].text == "Hello from anthropic."
    assert message.model == "claude"
    assert message.usage.service_tier == "standard"

    sent = _last_sent()
    assert sent.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    chats = log.chats_since(mark)
    assert len(chats) == 1, chats
    received = chats[0]
    assert received["body"] == _as_sent_to_claude(json.loads(sent.content))
    assert received["body"]["top_k"] == 5
    assert received["body"]["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert received["body"]["messages"][1]["content"][0]["signature"] == "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"
    assert received["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert received["headers"]["anthropic-version"] == sent.headers["anthropic-version"]
    # The provider's key goes upstream, never the client's.
    assert received["headers"]["x-api-key"] == API_KEYS["anthropic"]
    assert "authorization" not in received["headers"]


def test_the_beta_header_and_thinking_blocks_reach_anthropic_when_streaming(client, upstream_logs):
    log = upstream_logs["anthropic"]
    mark = log.mark()
    with client.messages.stream(
        model="claude",
        max_tokens=2048,
        messages=THINKING_HISTORY,
        thinking={"type": "enabled", "budget_tokens": 1024},
        extra_body={"top_k": 5},
        extra_headers={"anthropic-beta": "fine-grained-tool-streaming-2025-05-14"},
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello from anthropic."
    assert final.usage.service_tier == "standard"
    received = log.last_chat_since(mark)
    assert received["body"] == _as_sent_to_claude(_last_sent_body())
    assert received["body"]["stream"] is True
    assert received["headers"]["anthropic-beta"] == "fine-grained-tool-streaming-2025-05-14"


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


def test_a_cut_stream_whose_next_target_cannot_continue_is_spliced(failover_client, upstream_logs):
    # `plain` cannot continue a prefill: asked the request again, its answer is withheld until it
    # has repeated the text already sent, and the rest completes the message.
    log = upstream_logs["openai"]
    mark = log.mark()
    with failover_client.messages.stream(model="spliced", max_tokens=256, messages=[_user(LONG_QUESTION)]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text == LONG_ANSWER
    assert final.content[0].text == LONG_ANSWER
    assert final.stop_reason == "end_turn"
    chats = log.chats_since(mark)
    assert [chat["body"]["model"] for chat in chats] == ["fake-cut-after-3", "fake-small"]
    assert chats[1]["body"]["messages"][-1]["role"] == "user", "asked again, without a prefill"


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


def test_a_cut_native_anthropic_stream_raises_during_iteration(failover_client, upstream_logs):
    # `claude-cutter` passes the Anthropic fake's stream through; it drops the connection after two
    # text deltas. Its events are Anthropic's own, so it cannot be continued, not even by
    # `finisher` behind it: it ends with Anthropic's `error` event, on which the SDK raises.
    anthropic_log, chat_log = upstream_logs["anthropic"], upstream_logs["openai"]
    anthropic_mark, chat_mark = anthropic_log.mark(), chat_log.mark()
    events = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        with failover_client.messages.stream(
            model="claude-cut", max_tokens=256, messages=[_user(LONG_QUESTION)]
        ) as stream:
            for event in stream:
                events.append(event)
                assert len(events) < 200, "the stream did not end"
    types = [event.type for event in events]

    assert types[0] == "message_start", types
    assert events[0].message.model == "claude-cutter"
    assert "message_stop" not in types
    assert "message_delta" not in types
    assert "".join(event.delta.text for event in events if event.type == "content_block_delta") == "Hello from "
    body = caught.value.body
    assert body["type"] == "error"
    assert body["error"]["type"] == "api_error"
    assert "incomplete" in body["error"]["message"]
    assert [chat["body"]["model"] for chat in anthropic_log.chats_since(anthropic_mark)] == [
        "claude-sonnet-4-5-cut-after-2"
    ]
    assert chat_log.chats_since(chat_mark) == []
