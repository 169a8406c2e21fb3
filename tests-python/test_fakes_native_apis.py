"""Tests of the fakes themselves, with the official SDKs pointed straight at them (no gateway): the
Responses API of fake_openai.py and the token counting and cut streams of fake_native.py's Anthropic fake, so
that tests passing these APIs through the gateway can trust what the fakes answer.
"""

import json

import anthropic
import openai
import pydantic
import pytest
from openai.types.responses import Response, ResponseStreamEvent

from fake_native import API_KEYS

try:  # openai < 3 depends on httpx; openai 3.x on its successor httpx2 (same API).
    import httpx
except ImportError:  # pragma: no cover - depends on the installed SDK
    import httpx2 as httpx


def _sse_events(text):
    """(event name, data) of each SSE event of a body."""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        names = [line[len("event: ") :] for line in lines if line.startswith("event: ")]
        data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
        if data:
            yield (names[0] if names else None), json.loads("\n".join(data))


@pytest.fixture
def openai_client(fake_upstream):
    return openai.OpenAI(base_url=f"{fake_upstream}/v1", api_key="unused", max_retries=0)


def test_the_openai_fake_answers_a_responses_request(openai_client, fake_upstream):
    response = openai_client.responses.create(model="fake-small", input="hello fake")
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.output_text == "You said: hello fake"
    assert response.usage.input_tokens == 2
    assert response.usage.output_tokens == 4
    assert response.usage.total_tokens == 6
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 0
    logged = httpx.get(f"{fake_upstream}/__requests", timeout=10).json()
    assert logged[-1]["path"] == "/v1/responses"
    assert logged[-1]["body"]["input"] == "hello fake"


def test_the_openai_fake_streams_a_response_in_openais_event_sequence(fake_upstream):
    body = {"model": "fake-small", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi there"}]}]}
    streamed = httpx.post(f"{fake_upstream}/v1/responses", json={**body, "stream": True}, timeout=30)
    assert streamed.status_code == 200
    events = list(_sse_events(streamed.text))
    adapter = pydantic.TypeAdapter(ResponseStreamEvent)
    for name, data in events:
        assert name == data["type"]
        adapter.validate_python(data)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    names = [name for name, _ in events]
    deltas = [data["delta"] for name, data in events if name == "response.output_text.delta"]
    assert names == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * len(deltas),
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert "".join(deltas) == "You said: hi there"
    completed = Response.model_validate(events[-1][1]["response"])
    assert completed.output_text == "You said: hi there"
    assert completed.usage.total_tokens == completed.usage.input_tokens + completed.usage.output_tokens


def test_the_openai_fake_cuts_a_responses_stream_for_fake_cut_after(fake_upstream):
    # The connection drops mid-body: the client sees an incomplete chunked body.
    with httpx.stream(
        "POST", f"{fake_upstream}/v1/responses", json={"model": "fake-cut-after-2", "input": "a b c d", "stream": True}, timeout=30
    ) as response:
        text = ""
        try:
            for chunk in response.iter_text():
                text += chunk
        except httpx.HTTPError:
            pass
    names = [name for name, _ in _sse_events(text)]
    assert names.count("response.output_text.delta") == 2
    assert "response.completed" not in names


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_the_openai_fake_scripts_a_responses_function_call_round_trip(openai_client, fake_upstream):
    # Validated from the raw JSON: the SDK builds its objects without validating them.
    body = {"model": "fake-small", "input": "What is the weather in Paris?", "tools": [WEATHER_TOOL]}
    answer = httpx.post(f"{fake_upstream}/v1/responses", json=body, timeout=30)
    assert answer.status_code == 200
    first = Response.model_validate(answer.json())
    assert [item.type for item in first.output] == ["function_call"]
    call = first.output[0]
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id.startswith("call_")
    assert call.id.startswith("fc_")
    assert call.status == "completed"

    second = openai_client.responses.create(
        model="fake-small",
        tools=[WEATHER_TOOL],
        input=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert [item.type for item in second.output] == ["message"]
    assert second.output_text == "It is sunny in Paris."


def test_the_openai_fake_streams_a_responses_function_call_in_openais_event_sequence(fake_upstream):
    body = {"model": "fake-small", "input": "What is the weather in Paris?", "tools": [WEATHER_TOOL], "stream": True}
    streamed = httpx.post(f"{fake_upstream}/v1/responses", json=body, timeout=30)
    assert streamed.status_code == 200
    events = list(_sse_events(streamed.text))
    adapter = pydantic.TypeAdapter(ResponseStreamEvent)
    for name, data in events:
        assert name == data["type"]
        adapter.validate_python(data)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    names = [name for name, _ in events]
    fragments = [data["delta"] for name, data in events if name == "response.function_call_arguments.delta"]
    assert len(fragments) >= 2
    assert names == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        *["response.function_call_arguments.delta"] * len(fragments),
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[2][1]["item"]
    assert added["type"] == "function_call" and added["arguments"] == "" and added["status"] == "in_progress"
    done = events[names.index("response.function_call_arguments.done")][1]
    assert json.loads("".join(fragments)) == json.loads(done["arguments"]) == {"city": "Paris"}
    assert done["item_id"] == added["id"]
    completed = Response.model_validate(events[-1][1]["response"])
    assert [(item.type, item.call_id, item.name) for item in completed.output] == [
        ("function_call", added["call_id"], "get_weather")
    ]
    # The SDK's stream helper rebuilds the same call from these events.
    client = openai.OpenAI(base_url=f"{fake_upstream}/v1", api_key="unused", max_retries=0)
    question = "What is the weather in Paris?"
    with client.responses.stream(model="fake-small", input=question, tools=[WEATHER_TOOL]) as stream:
        list(stream)
        final = stream.get_final_response()
    assert [json.loads(item.arguments) for item in final.output] == [{"city": "Paris"}]


@pytest.mark.parametrize("body,param", [({"input": "x"}, "model"), ({"model": "fake-small"}, "input")])
def test_the_openai_fake_refuses_a_responses_request_without_model_or_input(openai_client, body, param):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.post("/responses", body=body, cast_to=Response)
    assert caught.value.body["param"] == param
    assert caught.value.body["type"] == "invalid_request_error"


def test_the_anthropic_fake_counts_tokens_and_records_the_beta_header(native_fakes):
    url = native_fakes["anthropic"]
    client = anthropic.Anthropic(base_url=url, api_key=API_KEYS["anthropic"], max_retries=0)
    counted = client.messages.count_tokens(
        model="claude-sonnet-4-5",
        system="Be brief.",
        messages=[{"role": "user", "content": [{"type": "text", "text": "one two three"}]}],
        extra_headers={"anthropic-beta": "token-counting-2024-11-01"},
    )
    assert counted.input_tokens == 5
    logged = httpx.get(f"{url}/__requests", timeout=10).json()
    assert logged[-1]["path"] == "/v1/messages/count_tokens"
    assert logged[-1]["headers"]["anthropic-beta"] == "token-counting-2024-11-01"
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="claude-nope", messages=[{"role": "user", "content": "hi"}])


def test_the_anthropic_fake_cuts_a_stream_for_cut_after(native_fakes):
    url = native_fakes["anthropic"]
    headers = {"x-api-key": API_KEYS["anthropic"], "anthropic-version": "2023-06-01"}
    body = {
        "model": "claude-sonnet-4-5-cut-after-2",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    with httpx.stream("POST", f"{url}/v1/messages", json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        text = ""
        try:
            for chunk in response.iter_text():
                text += chunk
        except httpx.HTTPError:
            pass
    events = list(_sse_events(text))
    names = [name for name, _ in events]
    assert names.count("content_block_delta") == 2
    assert "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta") == "Hello from "
    assert "message_stop" not in names and "content_block_stop" not in names
    # Without a stream, the same model answers whole, as the model it names.
    answer = httpx.post(f"{url}/v1/messages", json={**body, "stream": False}, headers=headers, timeout=30).json()
    assert answer["content"][0]["text"] == "Hello from anthropic."
    assert answer["model"] == "claude-sonnet-4-5-20250929"
