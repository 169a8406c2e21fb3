"""End-to-end tests of the native provider adapters with the official `openai` Python SDK.

The gateway (fixture `native_gateway`) fronts one fake per native protocol (fixture `native_fakes`,
see fake_native.py): Gemini (`gem`), Ollama (`llama`, `nomic`), Anthropic (`claude`) and
Text Embeddings Inference (`bge`, provider type huggingface). The client speaks OpenAI only; the
tests check both what it gets back and what each fake received.
"""

import base64
import json
import struct

import openai
import pytest

import fake_native

try:  # openai < 3 depends on httpx; openai 3.x on its successor httpx2 (same API).
    import httpx
except ImportError:  # pragma: no cover - depends on the installed SDK
    import httpx2 as httpx

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
QUESTION = {"role": "user", "content": "What is the weather in Paris?"}

# The declared model of each chat protocol, as clients name it.
CHAT_MODELS = [
    pytest.param("gem", "gemini", id="gemini"),
    pytest.param("llama", "ollama", id="ollama"),
    pytest.param("claude", "anthropic", id="anthropic"),
]


class Recorded:
    """The requests one fake received (its GET /__requests), from a mark on."""

    def __init__(self, url):
        self.url = url

    def all(self):
        response = httpx.get(f"{self.url}/__requests", timeout=10)
        assert response.status_code == 200
        return response.json()

    def mark(self):
        """A position to look for later requests from."""
        return len(self.all())

    def since(self, mark, predicate):
        """The requests after `mark` for which `predicate(request)` holds."""
        return [request for request in self.all()[mark:] if predicate(request)]


# How each fake's chat requests look (as opposed to model listings and embeddings).
_CHAT_PATHS = {
    "gemini": (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
    ),
    "ollama": ("/api/chat",),
    "anthropic": ("/v1/messages",),
}


@pytest.fixture(scope="session")
def native_client(native_gateway):
    return openai.OpenAI(base_url=native_gateway, api_key="unused", max_retries=0, timeout=30)


@pytest.fixture(scope="session")
def recorded(native_fakes):
    """{protocol: Recorded} for every native fake."""
    return {protocol: Recorded(url) for protocol, url in native_fakes.items()}


def _last_chat_request(recorded, protocol, mark):
    calls = recorded[protocol].since(mark, lambda r: r["method"] == "POST" and r["path"] in _CHAT_PATHS[protocol])
    assert calls, f"the {protocol} fake received no chat request"
    return calls[-1]


# ----- what each fake must have received -----


def _check_first_turn_request(protocol, request):
    """The first turn declares the tool in the protocol's own shape, with the right credentials."""
    body = request["body"]
    # The SDK's call is not streamed, but the gateway asks for a stream and assembles the answer
    # (non_streaming: assembled, the default), so that a silent upstream shows within first_token.
    if protocol == "gemini":
        assert request["path"] == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
        assert (
            request["headers"].get("x-goog-api-key") == fake_native.API_KEYS["gemini"]
            or request["query"].get("key") == fake_native.API_KEYS["gemini"]
        )
        declarations = [d for tool in body["tools"] for d in tool.get("functionDeclarations", [])]
        assert [d["name"] for d in declarations] == ["get_weather"], body["tools"]
    elif protocol == "ollama":
        assert body["model"] == "llama3.2"
        assert body.get("stream", True) is True
        assert [tool["function"]["name"] for tool in body["tools"]] == ["get_weather"]
    else:
        assert request["headers"].get("x-api-key") == fake_native.API_KEYS["anthropic"]
        assert request["headers"].get("anthropic-version")
        assert body["model"] == "claude-sonnet-4-5"
        assert isinstance(body["max_tokens"], int)
        assert [tool["name"] for tool in body["tools"]] == ["get_weather"]
        assert body["tools"][0]["input_schema"] == WEATHER_TOOL["function"]["parameters"]


def _check_second_turn_request(protocol, request):
    """The second turn carries the tool call with object arguments and the tool's result."""
    body = request["body"]
    if protocol == "gemini":
        contents = body["contents"]
        calls = [(c["role"], p["functionCall"]) for c in contents for p in c["parts"] if "functionCall" in p]
        results = [
            (c.get("role"), p["functionResponse"]) for c in contents for p in c["parts"] if "functionResponse" in p
        ]
        assert len(calls) == 1, contents
        assert calls[0][0] == "model"
        assert calls[0][1]["name"] == "get_weather"
        assert calls[0][1]["args"] == {"city": "Paris"}
        assert len(results) == 1, contents
        role, result = results[0]
        assert role == "user"
        assert result["name"] == "get_weather"
        assert isinstance(result["response"], dict)
        assert "21C" in json.dumps(result["response"])
    elif protocol == "ollama":
        messages = body["messages"]
        assert (messages[0]["role"], messages[0]["content"]) == ("user", QUESTION["content"])
        assistant = messages[1]
        assert assistant["role"] == "assistant"
        assert len(assistant["tool_calls"]) == 1
        function = assistant["tool_calls"][0]["function"]
        assert function["name"] == "get_weather"
        assert function["arguments"] == {"city": "Paris"}  # an object, not a JSON string
        tool = messages[2]
        assert tool["role"] == "tool"
        assert tool["content"] == "21C"
        assert tool["tool_name"] == "get_weather"
    else:
        messages = body["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        uses = [block for block in messages[1]["content"] if block["type"] == "tool_use"]
        assert len(uses) == 1
        assert uses[0]["name"] == "get_weather"
        assert uses[0]["input"] == {"city": "Paris"}
        results = [block for block in messages[2]["content"] if block["type"] == "tool_result"]
        assert len(results) == 1
        assert results[0]["tool_use_id"] == uses[0]["id"]
        assert "21C" in json.dumps(results[0]["content"])


def _check_chat_request(protocol, request, streamed):
    """A call reaches the fake in the protocol's streaming form when `streamed` (every call the
    gateway makes by default, a non-streaming one included), else its non-streaming form; both
    carry the system prompt the protocol's way."""
    body = request["body"]
    if protocol == "gemini":
        action = "streamGenerateContent" if streamed else "generateContent"
        assert request["path"] == f"/v1beta/models/gemini-2.5-flash:{action}"
        if streamed:
            assert request["query"].get("alt") == "sse"
        assert "You are a test." in json.dumps(body["systemInstruction"])
        assert all(c.get("role", "user") in ("user", "model") for c in body["contents"])
    elif protocol == "ollama":
        assert body["model"] == "llama3.2"
        # Ollama streams unless told otherwise.
        assert body.get("stream", True) is streamed
        assert (body["messages"][0]["role"], body["messages"][0]["content"]) == ("system", "You are a test.")
    else:
        assert request["headers"].get("x-api-key") == fake_native.API_KEYS["anthropic"]
        assert request["headers"].get("anthropic-version")
        assert body["model"] == "claude-sonnet-4-5"
        assert body.get("stream", False) is streamed
        assert isinstance(body["max_tokens"], int)
        assert "You are a test." in json.dumps(body["system"])
        assert [m["role"] for m in body["messages"]] == ["user"]


# ----- chat -----


@pytest.mark.parametrize("model, protocol", CHAT_MODELS)
def test_plain_answer_with_usage(native_client, recorded, model, protocol):
    mark = recorded[protocol].mark()
    completion = native_client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "You are a test."}, {"role": "user", "content": "Say hello"}],
    )
    assert completion.model == model
    assert completion.object == "chat.completion"
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == fake_native.answer_text(protocol)
    assert not choice.message.tool_calls
    assert choice.finish_reason == "stop"
    usage = fake_native.USAGE[protocol]
    assert completion.usage.prompt_tokens == usage["prompt"]
    assert completion.usage.completion_tokens == usage["completion"]
    assert completion.usage.total_tokens == usage["prompt"] + usage["completion"]
    # Not streamed by the client; streamed upstream and assembled by the gateway.
    _check_chat_request(protocol, _last_chat_request(recorded, protocol, mark), streamed=True)


@pytest.mark.parametrize("model, protocol", CHAT_MODELS)
def test_tool_round_trip(native_client, recorded, model, protocol):
    # Turn 1: the model asks for the tool.
    mark = recorded[protocol].mark()
    first = native_client.chat.completions.create(model=model, messages=[QUESTION], tools=[WEATHER_TOOL])
    assert first.model == model
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None and len(choice.message.tool_calls) == 1, choice.message
    call = choice.message.tool_calls[0]
    assert isinstance(call.id, str) and call.id
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    _check_first_turn_request(protocol, _last_chat_request(recorded, protocol, mark))

    # Turn 2: the client runs the tool and sends its result back.
    mark = recorded[protocol].mark()
    assistant = {
        "role": "assistant",
        "content": choice.message.content,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
        ],
    }
    tool_result = {"role": "tool", "tool_call_id": call.id, "content": "21C"}
    second = native_client.chat.completions.create(
        model=model, messages=[QUESTION, assistant, tool_result], tools=[WEATHER_TOOL]
    )
    answer = second.choices[0]
    assert answer.finish_reason == "stop"
    assert not answer.message.tool_calls
    assert answer.message.content == fake_native.answer_text(protocol, "21C")  # "It is 21C in Paris."
    _check_second_turn_request(protocol, _last_chat_request(recorded, protocol, mark))


@pytest.mark.parametrize("model, protocol", CHAT_MODELS)
def test_streamed_answer_with_usage(native_client, recorded, model, protocol):
    mark = recorded[protocol].mark()
    stream = native_client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "You are a test."}, {"role": "user", "content": "Say hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len(chunks) >= 3, chunks
    for chunk in chunks:
        assert chunk.model == model, chunk
        assert chunk.object == "chat.completion.chunk"

    text = "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)
    assert text == fake_native.answer_text(protocol)

    choice_chunks = [chunk for chunk in chunks if chunk.choices]
    finish_reasons = [
        choice.finish_reason for chunk in choice_chunks for choice in chunk.choices if choice.finish_reason
    ]
    assert finish_reasons == ["stop"]
    assert choice_chunks[-1].choices[0].finish_reason == "stop"

    last = chunks[-1]
    assert last.choices == []
    usage = fake_native.USAGE[protocol]
    assert last.usage is not None
    assert last.usage.prompt_tokens == usage["prompt"]
    assert last.usage.completion_tokens == usage["completion"]
    assert last.usage.total_tokens == usage["prompt"] + usage["completion"]
    for chunk in chunks[:-1]:
        assert chunk.usage is None

    _check_chat_request(protocol, _last_chat_request(recorded, protocol, mark), streamed=True)


@pytest.mark.parametrize("model, protocol", CHAT_MODELS)
def test_streamed_tool_call(native_client, model, protocol):
    stream = native_client.chat.completions.create(model=model, messages=[QUESTION], tools=[WEATHER_TOOL], stream=True)
    chunks = list(stream)
    # Reassemble the tool calls from their deltas, by OpenAI index (Anthropic's block index counts
    # its text block too; the gateway must renumber).
    calls = {}
    for chunk in chunks:
        assert chunk.model == model
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] += delta.id or ""
                if delta.function is not None:
                    entry["name"] += delta.function.name or ""
                    entry["arguments"] += delta.function.arguments or ""
    assert list(calls) == [0], calls
    assert calls[0]["id"]
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
    finish_reasons = [choice.finish_reason for chunk in chunks for choice in chunk.choices if choice.finish_reason]
    assert finish_reasons == ["tool_calls"]


# ----- embeddings -----

EMBEDDING_MODELS = [
    pytest.param("bge", "tei", id="tei"),
    pytest.param("nomic", "ollama", id="ollama"),
]
TEXTS = ["hello", "the weather in Paris"]


def _check_embed_request(protocol, recorded, mark):
    if protocol == "tei":
        calls = recorded["tei"].since(mark, lambda r: r["path"] == "/embed")
        assert calls, "the TEI fake received no /embed request"
        assert calls[-1]["body"]["inputs"] == TEXTS
    else:
        calls = recorded["ollama"].since(mark, lambda r: r["path"] == "/api/embed")
        assert calls, "the Ollama fake received no /api/embed request"
        assert calls[-1]["body"]["model"] == "nomic-embed-text"
        assert calls[-1]["body"]["input"] == TEXTS


@pytest.mark.parametrize("model, protocol", EMBEDDING_MODELS)
def test_embeddings_as_floats(native_client, recorded, model, protocol):
    mark = recorded[protocol].mark()
    response = native_client.embeddings.create(model=model, input=TEXTS, encoding_format="float")
    assert response.object == "list"
    assert response.model == model
    assert [item.index for item in response.data] == [0, 1]
    for item, text in zip(response.data, TEXTS):
        assert item.object == "embedding"
        assert item.embedding == fake_native.embedding_vector(protocol, text)
    if protocol == "ollama":
        # Ollama reports the prompt's tokens (prompt_eval_count); TEI reports none.
        assert response.usage.prompt_tokens == sum(fake_native.count_words(text) for text in TEXTS)
    _check_embed_request(protocol, recorded, mark)


@pytest.mark.parametrize("model, protocol", EMBEDDING_MODELS)
def test_embeddings_as_base64(native_client, model, protocol):
    # Without encoding_format the SDK asks for base64 and decodes it into floats itself.
    decoded = native_client.embeddings.create(model=model, input=TEXTS)
    assert [item.embedding for item in decoded.data] == [fake_native.embedding_vector(protocol, t) for t in TEXTS]

    # Asked for explicitly, base64 comes back as is: little-endian float32s.
    raw = native_client.embeddings.create(model=model, input=TEXTS, encoding_format="base64")
    for item, text in zip(raw.data, TEXTS):
        assert isinstance(item.embedding, str)
        data = base64.b64decode(item.embedding)
        assert list(struct.unpack(f"<{len(data) // 4}f", data)) == fake_native.embedding_vector(protocol, text)


# ----- models -----


def test_models_list_includes_declared_and_discovered(native_client):
    ids = [model.id for model in native_client.models.list()]
    for name in ("auto", "small", "gem", "llama", "claude", "bge", "nomic"):
        assert name in ids, ids
    # Discovered from each provider's own listing (Gemini's `models/` prefix stripped).
    assert "gem/gemini-2.5-flash" in ids, ids
    assert "olla/qwen2.5:3b" in ids, ids
    assert "olla/llama3.2" in ids or "olla/llama3.2:latest" in ids, ids
    assert "anth/claude-sonnet-4-5-20250929" in ids, ids
    assert "tei/BAAI/bge-small-en-v1.5" in ids, ids
    assert len(ids) == len(set(ids)), ids


# ----- privacy routing: what reaches a cloud fake -----

SECRET_PROMPTS = [
    pytest.param("Please reply to jane.doe@example.com about the invoice.", "pii:email", id="email"),
    pytest.param("Charge card 4111 1111 1111 1111 for the order.", "pii:card", id="card"),
    pytest.param("Deploy with key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z please.", "pii:secret", id="api-key"),
]


def _cloud_chat_requests(recorded, mark):
    return recorded["gemini"].since(mark, lambda r: r["method"] == "POST" and r["path"] in _CHAT_PATHS["gemini"])


def test_an_ordinary_prompt_goes_to_the_cloud_target(native_client, recorded):
    mark = recorded["gemini"].mark()
    raw = native_client.chat.completions.with_raw_response.create(
        model="cloudfirst", messages=[{"role": "user", "content": "Say hello"}]
    )
    assert raw.parse().model == "gem"
    assert raw.headers["x-multiprodigy-route"] == "cloudfirst; policy=ordered; order=gem>llama"
    assert len(_cloud_chat_requests(recorded, mark)) == 1


@pytest.mark.parametrize("prompt, reason", SECRET_PROMPTS)
def test_personal_data_stays_on_the_local_target(native_client, recorded, prompt, reason):
    mark = recorded["gemini"].mark()
    raw = native_client.chat.completions.with_raw_response.create(
        model="cloudfirst", messages=[{"role": "user", "content": prompt}]
    )
    assert raw.parse().model == "llama"
    assert f"private={reason}" in raw.headers["x-multiprodigy-route"]
    stream = native_client.chat.completions.create(
        model="cloudfirst", messages=[{"role": "user", "content": prompt}], stream=True
    )
    assert {chunk.model for chunk in stream} == {"llama"}
    assert _cloud_chat_requests(recorded, mark) == []


def test_the_client_can_ask_to_stay_local(native_client, recorded):
    mark = recorded["gemini"].mark()
    by_body = native_client.chat.completions.create(
        model="cloudfirst",
        messages=[{"role": "user", "content": "Say hello"}],
        extra_body={"multiprodigy": {"privacy": "local"}},
    )
    assert by_body.model == "llama"
    by_header = native_client.chat.completions.create(
        model="cloudfirst",
        messages=[{"role": "user", "content": "Say hello"}],
        extra_headers={"x-multiprodigy-privacy": "local"},
    )
    assert by_header.model == "llama"
    assert _cloud_chat_requests(recorded, mark) == []
    with pytest.raises(openai.InternalServerError) as raised:
        native_client.chat.completions.create(
            model="gem", messages=[{"role": "user", "content": "Say hello"}], extra_headers={"x-multiprodigy-privacy": "local"}
        )
    assert raised.value.status_code == 503
    assert raised.value.code == "no_private_target"


def test_bad_routing_overrides_are_bad_requests(native_client):
    with pytest.raises(openai.BadRequestError) as raised:
        native_client.chat.completions.create(
            model="cloudfirst", messages=[{"role": "user", "content": "hi"}], extra_headers={"x-multiprodigy-policy": "fastest"}
        )
    assert raised.value.code == "invalid_value"
    with pytest.raises(openai.BadRequestError) as raised:
        native_client.chat.completions.create(
            model="cloudfirst", messages=[{"role": "user", "content": "hi"}], extra_body={"multiprodigy": {"max_cost": 1}}
        )
    assert raised.value.code == "unknown_parameter"
    assert raised.value.param == "multiprodigy.max_cost"


def test_route_endpoint_explains_without_calling_a_backend(native_gateway, recorded):
    marks = {protocol: recorded[protocol].mark() for protocol in ("gemini", "ollama")}
    response = httpx.post(
        f"{native_gateway}/route",
        json={"model": "cloudfirst", "messages": [{"role": "user", "content": "Mail bob@example.org the plan"}]},
        timeout=10,
    )
    assert response.status_code == 200
    plan = response.json()
    assert plan["private"] is True
    assert plan["private_reason"] == "pii:email"
    assert [entry["target"] for entry in plan["plan"]] == ["llama"]
    assert plan["excluded"] == [
        {"target": "gem", "provider": "gem", "cause": "privacy", "reason": "cloud target for a private request"}
    ]
    for protocol, mark in marks.items():
        assert recorded[protocol].since(mark, lambda r: r["method"] == "POST") == []
