"""End-to-end tests of the gateway's OpenAI Responses API (`/v1/responses`) with the official
`openai` Python SDK.

A `type: openai` target gets Responses requests natively on its own /v1/responses; every other
target (and an openai one with `responses_api: translate`) through chat. Each test runs against
four kinds of target (fixture `native_gateway`): the OpenAI-compatible fake natively (`small`,
fake_openai.py's /v1/responses) and through chat (`small-chat`, its /v1/chat/completions), the
Gemini fake (`gem`) and the Anthropic fake (`claude`) (fake_native.py), both through chat. The tests
check what the SDK gets back and what the upstream received, on the path it should have taken.
"""

import json

import openai
import pydantic
import pytest
from openai.types.responses import Response, ResponseItemList, ResponseStreamEvent

from conftest import MASTER_KEY

try:  # openai < 3 depends on httpx; openai 3.x on its successor httpx2 (same API).
    import httpx
except ImportError:  # pragma: no cover - depends on the installed SDK
    import httpx2 as httpx

# The upstream_logs key of fake_openai.py's native /v1/responses requests.
NATIVE = "openai-responses"

# (gateway model, the upstream_logs key of the fake and path it reaches, the scripted answer to a
# plain question asked as QUESTION)
QUESTION = "hello responses"
TARGETS = [
    pytest.param("small", NATIVE, f"You said: {QUESTION}", id="openai-native"),
    pytest.param("small-chat", "openai", f"You said: {QUESTION}", id="openai-chat"),
    pytest.param("gem", "gemini", "Hello from gemini.", id="gemini"),
    pytest.param("claude", "anthropic", "Hello from anthropic.", id="anthropic"),
]

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
TOOL_OUTPUT = "sunny, 18 C"

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"reply": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["reply", "confidence"],
    "additionalProperties": False,
}


@pytest.fixture(scope="session")
def client(native_gateway):
    return openai.OpenAI(base_url=native_gateway, api_key="unused", max_retries=0, timeout=30)


def _input_items(body):
    """A native Responses body's `input` as items (a string input is one user message)."""
    value = body["input"]
    return [{"role": "user", "content": value}] if isinstance(value, str) else value


def _upstream_text(protocol, body):
    """The user texts of an upstream request, in its protocol's shape."""
    if protocol == NATIVE:
        texts = []
        for item in _input_items(body):
            if item.get("role") != "user":
                continue
            content = item["content"]
            if isinstance(content, str):
                texts.append(content)
            else:
                texts.extend(part.get("text", "") for part in content if part.get("type") == "input_text")
        return texts
    if protocol == "gemini":
        return [p.get("text", "") for c in body["contents"] if c.get("role", "user") == "user" for p in c["parts"]]
    texts = []
    for message in body["messages"]:
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            texts.append(content)
        else:
            texts.extend(block.get("text", "") for block in content if block.get("type") == "text")
    return texts


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_text_response(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    response = client.responses.create(model=model, input=QUESTION, instructions="Answer briefly.")

    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.model == model
    assert response.output_text == expected
    messages = [item for item in response.output if item.type == "message"]
    assert len(messages) == 1, response.output
    assert messages[0].role == "assistant"
    assert messages[0].status == "completed"
    assert [part.type for part in messages[0].content] == ["output_text"]
    assert messages[0].content[0].text == expected
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.instructions == "Answer briefly."

    chats = upstream_logs[protocol].chats_since(mark)
    assert len(chats) == 1, chats
    body = chats[0]["body"]
    assert QUESTION in _upstream_text(protocol, body)
    if protocol == NATIVE:
        # The client's own body, only `model` rewritten.
        assert body == {"model": "fake-small", "input": QUESTION, "instructions": "Answer briefly."}
    elif protocol == "openai":
        assert body["messages"][0] == {"role": "system", "content": "Answer briefly."}
    elif protocol == "gemini":
        assert body["systemInstruction"]["parts"][0]["text"] == "Answer briefly."
    else:
        system = body["system"]
        assert (system if isinstance(system, str) else system[0]["text"]) == "Answer briefly."


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_streamed_response(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    stream = client.responses.create(model=model, input=QUESTION, stream=True)
    events = list(stream)
    types = [event.type for event in events]

    assert types[:2] == ["response.created", "response.in_progress"], types
    assert types[-1] == "response.completed", types
    assert [event.sequence_number for event in events] == list(range(len(events)))
    # One message item, one text part, opened before and closed after the deltas.
    for name in (
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert types.count(name) == 1, (name, types)
    deltas = [i for i, name in enumerate(types) if name == "response.output_text.delta"]
    assert deltas, types
    assert types.index("response.content_part.added") < deltas[0]
    assert deltas[-1] < types.index("response.output_text.done") < types.index("response.content_part.done")
    assert types.index("response.content_part.done") < types.index("response.output_item.done")
    assert "response.failed" not in types

    created = events[0].response
    assert created.status == "in_progress"
    assert created.model == model
    assert "".join(events[i].delta for i in deltas) == expected
    done = events[types.index("response.output_text.done")]
    assert done.text == expected
    item_id = events[types.index("response.output_item.added")].item.id
    assert all(events[i].item_id == item_id for i in deltas)

    completed = events[-1].response
    assert completed.id == created.id
    assert completed.status == "completed"
    assert completed.output_text == expected
    assert completed.usage.input_tokens > 0
    assert completed.usage.output_tokens > 0
    assert completed.usage.total_tokens == completed.usage.input_tokens + completed.usage.output_tokens

    chats = upstream_logs[protocol].chats_since(mark)
    assert len(chats) == 1, chats
    if protocol == NATIVE:
        assert chats[0]["body"] == {"model": "fake-small", "input": QUESTION, "stream": True}


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_a_function_tool_round_trip_with_previous_response_id(client, upstream_logs, model, protocol, expected):
    log = upstream_logs[protocol]
    mark = log.mark()
    first = client.responses.create(model=model, input="What is the weather in Paris?", tools=[WEATHER_TOOL])

    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1, first.output
    call = calls[0]
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id
    assert first.status == "completed"

    second = client.responses.create(
        model=model,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": TOOL_OUTPUT}],
        tools=[WEATHER_TOOL],
    )
    assert second.output_text == f"It is {TOOL_OUTPUT} in Paris."
    assert not [item for item in second.output if item.type == "function_call"]

    # The second upstream call carries the whole conversation: the question (from the stored first
    # response), the model's call and the tool's output.
    chats = log.chats_since(mark)
    assert len(chats) == 2, chats
    body = chats[1]["body"]
    assert "What is the weather in Paris?" in _upstream_text(protocol, body)
    if protocol == NATIVE:
        # Natively, the stored conversation goes as `input`; the upstream never saw the gateway's
        # response id.
        assert chats[0]["body"] == {
            "model": "fake-small",
            "input": "What is the weather in Paris?",
            "tools": [WEATHER_TOOL],
        }
        assert "previous_response_id" not in body
        assert body["tools"] == [WEATHER_TOOL]
        items = _input_items(body)
        calls = [item for item in items if item.get("type") == "function_call"]
        assert [(c["call_id"], c["name"], json.loads(c["arguments"])) for c in calls] == [
            (call.call_id, "get_weather", {"city": "Paris"})
        ]
        # The client's item as sent: no id the upstream never issued.
        assert items[-1] == {"type": "function_call_output", "call_id": call.call_id, "output": TOOL_OUTPUT}
        assert items.index(calls[0]) < len(items) - 1
    elif protocol == "openai":
        assistant = [m for m in body["messages"] if m["role"] == "assistant"]
        assert [c["function"]["name"] for c in assistant[-1]["tool_calls"]] == ["get_weather"]
        tool = [m for m in body["messages"] if m["role"] == "tool"]
        assert tool == [{"role": "tool", "tool_call_id": assistant[-1]["tool_calls"][0]["id"], "content": TOOL_OUTPUT}]
        assert assistant[-1]["tool_calls"][0]["id"] == call.call_id
    elif protocol == "gemini":
        parts = [p for c in body["contents"] for p in c["parts"]]
        assert [p["functionCall"]["name"] for p in parts if "functionCall" in p] == ["get_weather"]
        assert [p["functionResponse"]["name"] for p in parts if "functionResponse" in p] == ["get_weather"]
    else:
        blocks = [b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]]
        uses = [b for b in blocks if b["type"] == "tool_use"]
        results = [b for b in blocks if b["type"] == "tool_result"]
        assert [b["name"] for b in uses] == ["get_weather"]
        assert [b["tool_use_id"] for b in results] == [uses[0]["id"]]

    # The answer says which response it continues, as OpenAI's does, whichever path it took (checked
    # last: a native answer is the upstream's, which never saw the gateway's previous_response_id).
    assert second.previous_response_id == first.id
    assert client.responses.retrieve(second.id).previous_response_id == first.id


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_json_schema_output(client, upstream_logs, model, protocol, expected):
    log = upstream_logs[protocol]
    mark = log.mark()
    text_format = {"format": {"type": "json_schema", "name": "answer", "schema": ANSWER_SCHEMA, "strict": True}}
    if protocol == "anthropic":
        # The gateway's Anthropic adapter refuses JSON-schema output (it does not translate it into
        # Anthropic's own structured output) before any upstream call.
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(model=model, input=QUESTION, text=text_format)
        assert caught.value.status_code == 400
        assert "json_schema" in caught.value.message
        assert log.chats_since(mark) == []
        return

    response = client.responses.create(model=model, input=QUESTION, text=text_format)
    assert response.text.format.type == "json_schema"
    assert response.text.format.name == "answer"
    answer = json.loads(response.output_text)
    assert answer == {"reply": expected, "confidence": 4.5}

    body = log.last_chat_since(mark)["body"]
    if protocol == NATIVE:
        assert body["text"] == text_format
        assert "response_format" not in body
    elif protocol == "openai":
        assert body["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA, "strict": True},
        }
    else:
        config = body["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert set(config["responseSchema"]["properties"]) == {"reply", "confidence"}


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_retrieve_then_delete_a_stored_response(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    response = client.responses.create(model=model, input=QUESTION)
    assert len(upstream_logs[protocol].chats_since(mark)) == 1

    retrieved = client.responses.retrieve(response.id)
    assert retrieved.id == response.id
    assert retrieved.status == "completed"
    assert retrieved.output_text == expected
    assert retrieved.usage.total_tokens == response.usage.total_tokens

    assert client.responses.delete(response.id) is None
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve(response.id)
    assert caught.value.status_code == 404
    assert caught.value.code == "response_not_found"
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response.id)


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_input_items_of_a_stored_response(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    response = client.responses.create(
        model=model,
        input=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
        ],
    )
    assert len(upstream_logs[protocol].chats_since(mark)) == 1
    page = client.responses.input_items.list(response.id)
    items = list(page)
    # Newest first by default.
    assert [item.role for item in items] == ["user", "assistant", "user"]
    assert items[0].content[0].type == "input_text"
    assert items[0].content[0].text == QUESTION
    assert items[2].content[0].text == "first question"
    assert all(item.type == "message" and item.id for item in items)

    ascending = list(client.responses.input_items.list(response.id, order="asc"))
    assert [item.id for item in ascending] == [item.id for item in reversed(items)]
    first_page = client.responses.input_items.list(response.id, order="asc", limit=2)
    assert [item.id for item in first_page.data] == [item.id for item in ascending[:2]]
    assert first_page.has_more is True
    # The SDK follows `after` to the next page.
    assert [item.id for item in first_page] == [item.id for item in ascending]


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_the_sdk_stream_helper_assembles_text_and_tool_calls(client, upstream_logs, model, protocol, expected):
    mark = upstream_logs[protocol].mark()
    # `responses.stream` rebuilds the response from the events and checks they fit together.
    with client.responses.stream(model=model, input=QUESTION) as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == expected
    assert final.output_text == expected
    assert final.status == "completed"

    with client.responses.stream(model=model, input="What is the weather in Paris?", tools=[WEATHER_TOOL]) as stream:
        events = list(stream)
        final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["get_weather"]
    assert json.loads(calls[0].arguments) == {"city": "Paris"}
    done = [event for event in events if event.type == "response.function_call_arguments.done"]
    assert [json.loads(event.arguments) for event in done] == [{"city": "Paris"}]
    assert len(upstream_logs[protocol].chats_since(mark)) == 2


def _sse_data(text):
    """The JSON `data` of each server-sent event in a stream body."""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line[len("data: ") :] for line in block.split("\n") if line.startswith("data: ")]
        if lines:
            yield json.loads("\n".join(lines))


@pytest.mark.parametrize("model,protocol,expected", TARGETS)
def test_the_wire_shapes_validate_against_the_sdk_types(native_gateway, upstream_logs, model, protocol, expected):
    # The SDK builds its objects without validating them, so a missing or mistyped field would go
    # unseen above; validating the raw JSON with the SDK's own pydantic types does not.
    mark = upstream_logs[protocol].mark()
    stream_event = pydantic.TypeAdapter(ResponseStreamEvent)
    for extra in ({"input": QUESTION}, {"input": "What is the weather in Paris?", "tools": [WEATHER_TOOL]}):
        body = {"model": model, **extra}
        answer = httpx.post(f"{native_gateway}/responses", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        response = Response.model_validate(answer.json())
        stored = httpx.get(f"{native_gateway}/responses/{response.id}", timeout=30)
        Response.model_validate(stored.json())
        items = httpx.get(f"{native_gateway}/responses/{response.id}/input_items", timeout=30)
        assert ResponseItemList.model_validate(items.json()).data
        streamed = httpx.post(f"{native_gateway}/responses", json={**body, "stream": True}, timeout=30)
        assert streamed.status_code == 200, streamed.text
        assert streamed.headers["content-type"].startswith("text/event-stream")
        events = [stream_event.validate_python(data) for data in _sse_data(streamed.text)]
        assert events[-1].type == "response.completed"
        assert [item.type for item in events[-1].response.output] == [item.type for item in response.output]
    assert len(upstream_logs[protocol].chats_since(mark)) == 4


def test_built_in_tools_and_members_the_gateway_does_not_know_reach_a_native_target_as_sent(client, upstream_logs):
    log = upstream_logs[NATIVE]
    mark = log.mark()
    response = client.responses.create(
        model="small",
        input=QUESTION,
        tools=[{"type": "web_search"}],
        include=["web_search_call.action.sources"],
        truncation="auto",
        extra_body={"a_future_member": {"kept": [1, 2.50, None]}},
    )
    assert response.output_text == f"You said: {QUESTION}"
    assert [request["body"] for request in log.chats_since(mark)] == [
        {
            "model": "fake-small",
            "input": QUESTION,
            "tools": [{"type": "web_search"}],
            "include": ["web_search_call.action.sources"],
            "truncation": "auto",
            "a_future_member": {"kept": [1, 2.50, None]},
        }
    ]


@pytest.mark.parametrize("model,protocol", [("small-chat", "openai"), ("gem", "gemini"), ("claude", "anthropic")])
def test_a_built_in_tool_is_refused_for_a_model_without_a_native_target(client, upstream_logs, model, protocol):
    # Only OpenAI runs web_search; a chat target would answer without it.
    mark = upstream_logs[protocol].mark()
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=model, input=QUESTION, tools=[{"type": "web_search"}])
    assert caught.value.status_code == 400
    assert caught.value.code == "unsupported_tool"
    assert "web_search" in caught.value.message
    assert upstream_logs[protocol].chats_since(mark) == []


def test_a_conversation_moves_between_a_translated_and_a_native_target(client, upstream_logs):
    # Started through chat on Gemini, continued natively: the native target gets the stored turns
    # as `input`; continued again through chat: the chat target gets all of them as messages.
    native, chat = upstream_logs[NATIVE], upstream_logs["openai"]
    first = client.responses.create(model="gem", input="first question")
    mark = native.mark()
    second = client.responses.create(model="small", input="second question", previous_response_id=first.id)
    assert second.output_text == "You said: second question"
    body = native.last_chat_since(mark)["body"]
    assert "previous_response_id" not in body
    items = _input_items(body)
    assert [(item.get("role"), _item_text(item)) for item in items] == [
        ("user", "first question"),
        ("assistant", "Hello from gemini."),
        ("user", "second question"),
    ]
    # Ids that the gateway gave the translated turn mean nothing to the native upstream.
    assert [item for item in items if "id" in item] == []
    mark = chat.mark()
    third = client.responses.create(model="small-chat", input="third question", previous_response_id=second.id)
    assert third.output_text == "You said: third question"
    messages = chat.last_chat_since(mark)["body"]["messages"]
    assert [(message["role"], _item_text(message)) for message in messages] == [
        ("user", "first question"),
        ("assistant", "Hello from gemini."),
        ("user", "second question"),
        ("assistant", "You said: second question"),
        ("user", "third question"),
    ]


def _item_text(item):
    """The text of a Responses message item or a chat message (a string, or its text parts)."""
    content = item.get("content")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="no-such-model", input=QUESTION)
    assert caught.value.status_code == 404
    assert caught.value.code == "model_not_found"


def test_unknown_previous_response_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="small", input=QUESTION, previous_response_id="resp_doesnotexist")
    assert caught.value.param == "previous_response_id"


def test_a_bad_key_is_an_authentication_error(keyed_gateway):
    url, _ = keyed_gateway
    with pytest.raises(openai.AuthenticationError) as caught:
        openai.OpenAI(base_url=url, api_key="not-a-key", max_retries=0).responses.create(model="priced", input="hi")
    assert caught.value.status_code == 401
    assert "not-a-key" not in str(caught.value.body)
    # The right key works, and a stored response is visible only to its key.
    owner = openai.OpenAI(base_url=url, api_key=MASTER_KEY, max_retries=0)
    response = owner.responses.create(model="priced", input="hi")
    assert response.output_text == "You said: hi"
    assert owner.responses.retrieve(response.id).id == response.id


# ----- a stream cut mid-answer (fixture failover_gateway, FAILOVER_CONFIG in conftest.py) -----

LONG_QUESTION = "tell me a long story please"
LONG_ANSWER = f"You said: {LONG_QUESTION}"
# fake-cut-after-3 sends three word pieces, then drops the connection.
CUT_PREFIX = "You said: tell "


@pytest.fixture(scope="session")
def failover_client(failover_gateway):
    return openai.OpenAI(base_url=failover_gateway, api_key="unused", max_retries=0, timeout=30)


def test_a_cut_stream_is_continued_by_the_next_target(failover_client, upstream_logs):
    log = upstream_logs["openai"]
    mark = log.mark()
    events = list(failover_client.responses.create(model="continued", input=LONG_QUESTION, stream=True))
    types = [event.type for event in events]

    assert types[-1] == "response.completed", types
    assert "response.failed" not in types
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert types.count("response.output_item.added") == 1, types
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == LONG_ANSWER
    assert events[-1].response.output_text == LONG_ANSWER
    # As on chat: the model is the target that started the answer.
    assert events[-1].response.model == "cutter"

    chats = log.chats_since(mark)
    assert [chat["body"]["model"] for chat in chats] == ["fake-cut-after-3", "fake-small"]
    continuation = chats[1]["body"]
    assert continuation["continue_final_message"] is True
    assert continuation["messages"][-1] == {"role": "assistant", "content": CUT_PREFIX}


def test_a_cut_stream_that_cannot_be_continued_ends_with_response_failed(failover_client, upstream_logs):
    log = upstream_logs["openai"]
    mark = log.mark()
    stream = failover_client.responses.create(model="uncontinued", input=LONG_QUESTION, stream=True)
    events = []
    # The SDK yields the `response.failed` event (it raises only on a top-level `error` member).
    for event in stream:
        events.append(event)
        assert len(events) < 200, "the stream did not end"
    types = [event.type for event in events]

    assert types[-1] == "response.failed", types
    assert "response.completed" not in types
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == CUT_PREFIX
    failed = events[-1].response
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.message
    # Only the cutting target was asked: `plain` cannot continue, and the route does not splice.
    assert [chat["body"]["model"] for chat in log.chats_since(mark)] == ["fake-cut-after-3"]


def test_a_cut_stream_whose_next_target_cannot_continue_is_spliced(failover_client, upstream_logs):
    # `plain` cannot continue a prefill: it is asked the request again, and its answer, which
    # repeats the text already sent, is withheld up to there, then relayed.
    log = upstream_logs["openai"]
    mark = log.mark()
    events = list(failover_client.responses.create(model="spliced", input=LONG_QUESTION, stream=True))
    types = [event.type for event in events]

    assert types[-1] == "response.completed", types
    assert "response.failed" not in types
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == LONG_ANSWER
    assert events[-1].response.output_text == LONG_ANSWER

    chats = log.chats_since(mark)
    assert [chat["body"]["model"] for chat in chats] == ["fake-cut-after-3", "fake-small"]
    restarted = chats[1]["body"]
    assert restarted["messages"][-1]["role"] == "user", "asked again, without a prefill"
    assert "continue_final_message" not in restarted


def test_a_cut_native_stream_ends_with_an_error_event_and_is_not_stored(failover_client, upstream_logs):
    # `native-cutter` passes the stream through from fake_openai.py's own /v1/responses; its events
    # are the upstream's, so a cut cannot be continued, not even by `finisher` behind it.
    native, chat = upstream_logs[NATIVE], upstream_logs["openai"]
    native_mark, chat_mark = native.mark(), chat.mark()
    stream = failover_client.responses.create(model="native-cut", input=LONG_QUESTION, stream=True)
    events = []
    # The pinned SDK yields the Responses `error` event (it raises only on a top-level `error`
    # member, which this event has not).
    for event in stream:
        events.append(event)
        assert len(events) < 200, "the stream did not end"
    types = [event.type for event in events]

    assert types[:2] == ["response.created", "response.in_progress"], types
    assert types[-1] == "error", types
    assert "response.completed" not in types
    assert "response.failed" not in types
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == CUT_PREFIX
    error = events[-1]
    assert error.code == "stream_interrupted"
    assert "incomplete" in error.message
    assert events[0].response.model == "native-cutter"

    assert [request["body"]["model"] for request in native.chats_since(native_mark)] == ["fake-cut-after-3"]
    assert chat.chats_since(chat_mark) == []
    # An answer that never completed is not stored.
    with pytest.raises(openai.NotFoundError):
        failover_client.responses.retrieve(events[0].response.id)

    # The SDK's stream helper sees the same events and has no final response to give.
    with failover_client.responses.stream(model="native-cut", input=LONG_QUESTION) as helper:
        seen = [event.type for event in helper]
        assert seen[-1] == "error", seen
        with pytest.raises(RuntimeError, match="response.completed"):
            helper.get_final_response()
