#!/usr/bin/env python3
"""Fake native LLM upstreams for the gateway's end-to-end tests (standard library only).

Usage: python3 fake_native.py PROTOCOL [PORT]   (PROTOCOL: gemini, ollama, anthropic or tei;
PORT 0 or nothing: pick a free port)

One process speaks one protocol, in its real wire format (see PROTOCOLS.md sections 2, 3, 4.4, 5).
It prints `PORT <n>` on stdout once it listens on 127.0.0.1.

Scripted answers, the same for every chat protocol:

- the conversation already holds a tool result (Gemini `functionResponse`, Ollama `role: tool`,
  Anthropic `tool_result`): the text "It is <result> in Paris.";
- otherwise, when the request declares a tool named `get_weather`: a call to `get_weather` with
  arguments {"city": "Paris"};
- otherwise the text "Hello from <protocol>.".

Gemini asked for JSON (`generationConfig.responseMimeType: application/json`) answers a JSON text
instead: an instance of `responseSchema` whose strings hold that answer (`schema_instance`), or
{"answer": <text>} without a schema.

Fault mode (Anthropic): a model named `<model>-cut-after-<N>` (e.g. `claude-sonnet-4-5-cut-after-2`)
answers as `<model>`, but its stream sends N text deltas and then drops the connection (no
content_block_stop, message_delta or message_stop), as a crashed upstream.

Token counts are fixed per protocol (USAGE below) so that tests can check how the gateway maps them.
The cloud fakes accept only the API keys in API_KEYS, answering a wrong or missing key the way the
real services do.
Embeddings are deterministic: `embedding_vector(protocol, text)`, 4 numbers derived from the text's
length, each exactly representable as a 32-bit float.

Every request except the control endpoints is recorded. Control endpoints, on every protocol:

- GET /__requests: the recorded requests, oldest first, as a JSON array of
  {"method", "path", "query", "headers", "body"} (`query` maps each parameter to its first value,
  header names are lower-cased, `body` is the parsed JSON body, or the raw text when it is not JSON,
  or null when empty);
- DELETE /__requests: forgets them.

The fakes check requests the way the real servers do where the gateway is likely to get it wrong
(the model name, Gemini's camelCase keys and roles, Ollama's string contents and object arguments,
Anthropic's required `max_tokens`, its headers and its rejection of unknown fields) and answer with
the real servers' error shapes.
"""

import json
import random
import re
import socket
import string
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

PROTOCOLS = ("gemini", "ollama", "anthropic", "tei")

# The only API keys the cloud fakes accept (the others need none).
API_KEYS = {"gemini": "test-gemini-key", "anthropic": "test-anthropic-key"}

TOOL_NAME = "get_weather"
TOOL_ARGUMENTS = {"city": "Paris"}

# Fixed token counts, in each protocol's own vocabulary.
USAGE = {
    "gemini": {"prompt": 9, "completion": 5},
    "ollama": {"prompt": 10, "completion": 6},
    "anthropic": {"prompt": 12, "completion": 7},
}

# The models each fake serves, by the names clients use, with what they can do.
GEMINI_MODELS = {
    "gemini-2.5-flash": {"displayName": "Gemini 2.5 Flash", "methods": ["generateContent", "countTokens"]},
    "gemini-2.5-pro": {"displayName": "Gemini 2.5 Pro", "methods": ["generateContent", "countTokens"]},
    "gemini-embedding-001": {"displayName": "Gemini Embedding 001", "methods": ["embedContent"]},
}
OLLAMA_MODELS = {
    # name → family, parameter size, capabilities
    "llama3.2:latest": ("llama", "3.2B", ["completion", "tools"]),
    "qwen2.5:3b": ("qwen2", "3.1B", ["completion", "tools"]),
    "nomic-embed-text:latest": ("nomic-bert", "137M", ["embedding"]),
}
ANTHROPIC_MODELS = {
    # id → display name, creation date; aliases resolve to these ids
    "claude-sonnet-4-5-20250929": ("Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    "claude-haiku-4-5-20251001": ("Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
}
ANTHROPIC_ALIASES = {
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
}
TEI_MODEL = "BAAI/bge-small-en-v1.5"

_EMBEDDING_BIAS = {"tei": 1.0, "ollama": 2.0, "gemini": 3.0}


def embedding_vector(protocol, text):
    """The fake's embedding of `text`: [n/2, n/4, -n/8, bias] with n the text's length in characters
    and a bias telling the protocols apart. Every value is exact in float32."""
    n = len(text)
    return [n / 2, n / 4, -n / 8, _EMBEDDING_BIAS[protocol]]


def count_words(text):
    """The fake's token count of a text: its whitespace-separated words (at least 1)."""
    return max(1, len(text.split()))


def count_message_tokens(body):
    """The Anthropic fake's token count of a Messages body: the words of `system` and of every
    message's text (a string content, or its `text` blocks)."""

    def texts(content):
        if isinstance(content, str):
            return [content]
        if isinstance(content, list):
            return [block.get("text", "") for block in content if isinstance(block, dict) and block.get("type") == "text"]
        return []

    words = texts(body.get("system"))
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            words += texts(message.get("content"))
    return count_words(" ".join(words))


def answer_text(protocol, tool_result=None):
    """The scripted text answer: the tool result when there is one, else a greeting."""
    if tool_result is not None:
        return f"It is {tool_result} in Paris."
    return f"Hello from {protocol}."


def schema_instance(schema, text):
    """A value satisfying a simple JSON Schema (type names in any case, as Gemini's are upper-case):
    every string holds `text`."""
    if not isinstance(schema, dict):
        return text
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "string")
    kind = str(kind or "").lower()
    if kind == "object" or "properties" in schema:
        return {name: schema_instance(sub, text) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [schema_instance(schema.get("items"), text)]
    if kind == "integer":
        return 42
    if kind == "number":
        return 4.5
    if kind == "boolean":
        return True
    return text


def _pieces(text):
    """Splits a text into word pieces that concatenate back to it (spaces kept)."""
    words = text.split(" ")
    return [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]


def _compact(obj):
    return json.dumps(obj, separators=(",", ":"))


class BadRequest(Exception):
    """A request the real server would reject; `body` is the protocol's error body."""

    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


# ----------------------------------------------------------------------------------------------
# The shared HTTP plumbing
# ----------------------------------------------------------------------------------------------


class Recorder:
    """The requests a fake received, in arrival order, shared by the handler threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = []

    def add(self, entry):
        with self._lock:
            self._requests.append(entry)

    def all(self):
        with self._lock:
            return list(self._requests)

    def clear(self):
        with self._lock:
            self._requests.clear()


RECORDER = Recorder()


class BaseHandler(BaseHTTPRequestHandler):
    """Reads, records and routes requests; subclasses implement one protocol in `route`."""

    protocol_version = "HTTP/1.1"
    protocol = ""

    def log_message(self, format, *args):  # keep the test output quiet
        pass

    # ----- reading -----

    def _read_body(self):
        """The request body, whether sent with Content-Length or chunked."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers end with an empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # ----- writing -----

    def send_json(self, status, obj, headers=None):
        data = _compact(obj).encode("utf-8")
        self.send_bytes(status, data, "application/json", headers)

    def send_bytes(self, status, data, content_type, headers=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_stream(self, content_type, headers=None):
        """Sends a 200 head for a chunked streaming body."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data):
        """One HTTP/1.1 chunk, flushed at once, with a short pause so pieces arrive apart."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()
        time.sleep(0.005)

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ----- dispatch -----

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method):
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        raw = self._read_body()

        if path == "/__requests":
            if method == "DELETE":
                RECORDER.clear()
                self.send_json(200, {"cleared": True})
            else:
                self.send_json(200, RECORDER.all())
            return

        text = raw.decode("utf-8", "replace")
        body = None
        parsed_ok = True
        if raw:
            try:
                body = json.loads(text)
            except json.JSONDecodeError:
                body = text
                parsed_ok = False
        RECORDER.add(
            {
                "method": method,
                "path": path,
                "query": query,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": body,
            }
        )
        try:
            self.route(method, path, query, body if parsed_ok else _INVALID_JSON)
        except BadRequest as error:
            self.send_json(error.status, error.body)
        except Exception as error:  # a bug in the fake: say so rather than drop the connection
            traceback.print_exc()
            self.send_json(500, {"error": f"fake_native.py {self.protocol} crashed: {error!r}"})

    def route(self, method, path, query, body):
        raise NotImplementedError


# Marks a body that was sent but is not JSON.
_INVALID_JSON = object()


# ----------------------------------------------------------------------------------------------
# Gemini (PROTOCOLS.md section 2)
# ----------------------------------------------------------------------------------------------


def _gemini_error(status, code_name, message):
    return BadRequest(status, {"error": {"code": status, "message": message, "status": code_name}})


def _gemini_invalid(message):
    return _gemini_error(400, "INVALID_ARGUMENT", message)


def _with_snake_case(*names):
    """Each camelCase field name and its snake_case form: Google's JSON parser accepts both."""
    return {form for name in names for form in (name, re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name))}


def _gemini_field(obj, name):
    """A field of a Gemini JSON object by its camelCase name, or by its snake_case form."""
    return obj.get(name, obj.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)))


_GEMINI_REQUEST_FIELDS = _with_snake_case(
    "contents", "systemInstruction", "generationConfig", "tools", "toolConfig", "safetySettings",
    "cachedContent", "model", "labels", "serviceTier",
)  # fmt: skip
_GEMINI_PART_DATA = _with_snake_case(
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult"
)
_GEMINI_PART_METADATA = _with_snake_case(
    "thought", "thoughtSignature", "videoMetadata", "mediaResolution", "partMetadata"
)


class GeminiHandler(BaseHandler):
    """`/v1beta/models/{model}:generateContent`, `:streamGenerateContent` (SSE with `alt=sse`, else a
    JSON array), `:embedContent`, `:batchEmbedContents`, `GET /v1beta/models[/{model}]`.
    Authentication: `x-goog-api-key` or `?key=`, with API_KEYS["gemini"]."""

    protocol = "gemini"

    def route(self, method, path, query, body):
        key = self.headers.get("x-goog-api-key") or query.get("key")
        if not key:
            raise _gemini_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        if key != API_KEYS["gemini"]:
            # Gemini reports a bad key as a 400, not a 401.
            error = _gemini_invalid("API key not valid. Please pass a valid API key.")
            error.body["error"]["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ]
            raise error
        if method == "GET" and path == "/v1beta/models":
            self.send_json(200, {"models": [self._model_resource(name) for name in GEMINI_MODELS]})
            return
        match = re.fullmatch(r"/v1beta/models/([^/:]+)(?::(\w+))?", path)
        if not match:
            raise _gemini_error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")
        model, action = match.group(1), match.group(2)
        if method == "GET" and action is None:
            if model not in GEMINI_MODELS:
                raise _gemini_error(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta.")
            self.send_json(200, self._model_resource(model))
            return
        if method != "POST" or action is None:
            raise _gemini_error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")

        method_name = {"streamGenerateContent": "generateContent", "batchEmbedContents": "embedContent"}.get(
            action, action
        )
        if model not in GEMINI_MODELS or method_name not in GEMINI_MODELS[model]["methods"]:
            raise _gemini_error(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for {method_name}. "
                "Call ListModels to see the list of available models and their supported methods.",
            )
        if body is _INVALID_JSON or not isinstance(body, dict):
            raise _gemini_invalid("Invalid JSON payload received.")

        if action == "generateContent":
            self.send_json(200, self._generate(model, body, final=True)[-1])
        elif action == "streamGenerateContent":
            chunks = self._generate(model, body, final=False)
            if query.get("alt") == "sse":
                self.start_stream("text/event-stream")
                for chunk in chunks:
                    # Google ends lines with CRLF; there is no [DONE].
                    self.write_chunk("data: " + _compact(chunk) + "\r\n\r\n")
                self.end_stream()
            else:
                self.send_json(200, chunks)
        elif action == "embedContent":
            self.send_json(200, {"embedding": {"values": self._embed_one(model, body)}})
        elif action == "batchEmbedContents":
            requests = body.get("requests")
            if not isinstance(requests, list) or not requests:
                raise _gemini_invalid("* BatchEmbedContentsRequest.requests: contents is not specified")
            self.send_json(200, {"embeddings": [{"values": self._embed_one(model, request)} for request in requests]})
        else:
            raise _gemini_error(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")

    @staticmethod
    def _model_resource(name):
        info = GEMINI_MODELS[name]
        return {
            "name": f"models/{name}",
            "version": "001",
            "displayName": info["displayName"],
            "description": f"Fake {info['displayName']}",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": info["methods"],
        }

    def _embed_one(self, model, request):
        if not isinstance(request, dict):
            raise _gemini_invalid("Invalid JSON payload received.")
        named = request.get("model")
        if named is not None and named != f"models/{model}":
            raise _gemini_invalid(f"Model {named} does not match the batch model models/{model}.")
        content = request.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list) or not parts:
            raise _gemini_invalid("* EmbedContentRequest.content: contents is not specified")
        text = "".join(part.get("text", "") for part in parts if isinstance(part, dict))
        return embedding_vector("gemini", text)

    def _validate(self, body):
        """Rejects what the real API rejects: unknown fields, roles other than user/model, parts
        without exactly one data field, non-object `args`/`response`. Returns (contents, names of
        the declared functions)."""
        for key in body:
            if key not in _GEMINI_REQUEST_FIELDS:
                raise _gemini_invalid(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise _gemini_invalid("* GenerateContentRequest.contents: contents is not specified")
        for index, content in enumerate(contents):
            if not isinstance(content, dict):
                raise _gemini_invalid(f"Invalid value at 'contents[{index}]'.")
            if content.get("role", "user") not in ("user", "model"):
                raise _gemini_invalid("Please use a valid role: user, model.")
            parts = content.get("parts")
            if not isinstance(parts, list) or not parts:
                raise _gemini_invalid(f"* GenerateContentRequest.contents[{index}].parts: must not be empty.")
            for part_index, part in enumerate(parts):
                where = f"contents[{index}].parts[{part_index}]"
                if not isinstance(part, dict):
                    raise _gemini_invalid(f"Invalid value at '{where}'.")
                for key in part:
                    if key not in _GEMINI_PART_DATA and key not in _GEMINI_PART_METADATA:
                        raise _gemini_invalid(f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}'.")
                if len([key for key in part if key in _GEMINI_PART_DATA]) != 1:
                    raise _gemini_invalid(f"* GenerateContentRequest.{where}.data: required oneof field 'data'")
                call = _gemini_field(part, "functionCall")
                if call is not None and not (
                    isinstance(call, dict) and call.get("name") and isinstance(call.get("args", {}), dict)
                ):
                    raise _gemini_invalid(f"Invalid value at '{where}.function_call.args' (google.protobuf.Struct)")
                response = _gemini_field(part, "functionResponse")
                if response is not None and not (
                    isinstance(response, dict) and response.get("name") and isinstance(response.get("response"), dict)
                ):
                    raise _gemini_invalid(
                        f"Invalid value at '{where}.function_response.response' (google.protobuf.Struct)"
                    )
        tools = body.get("tools") or []
        if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
            raise _gemini_invalid("Invalid value at 'tools'.")
        declared = [
            declaration.get("name")
            for tool in tools
            for declaration in _gemini_field(tool, "functionDeclarations") or []
            if isinstance(declaration, dict)
        ]
        return contents, declared

    def _generate(self, model, body, final):
        """The answer as a list of GenerateContentResponse objects: several stream chunks (running
        usage, `finishReason` on the last), or, with `final`, one whole response."""
        contents, declared = self._validate(body)
        tool_result = None
        for content in contents:
            for part in content["parts"]:
                response = _gemini_field(part, "functionResponse")
                if response is not None:
                    tool_result = _result_text(response["response"])
        prompt = USAGE["gemini"]["prompt"]
        completion = USAGE["gemini"]["completion"]
        response_id = uuid.uuid4().hex[:22]

        def response(parts, finished):
            # Usage is a running total: stream chunks before the last carry the prompt count only.
            candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
            usage = {"promptTokenCount": prompt}
            if finished:
                candidate["finishReason"] = "STOP"
                usage["candidatesTokenCount"] = completion
            usage["totalTokenCount"] = sum(usage.values())
            usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
            return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": response_id}

        if tool_result is None and TOOL_NAME in declared:
            # A function call arrives whole, with no id (the Developer API usually sends none) and a
            # thought signature the client may echo; a tool-calling turn still ends with STOP.
            part = {
                "functionCall": {"name": TOOL_NAME, "args": dict(TOOL_ARGUMENTS)},
                "thoughtSignature": "ZmFrZS1zaWduYXR1cmU=",
            }
            return [response([part], finished=True)]
        text = answer_text("gemini", tool_result)
        config = _gemini_field(body, "generationConfig") or {}
        if isinstance(config, dict) and _gemini_field(config, "responseMimeType") == "application/json":
            schema = _gemini_field(config, "responseSchema")
            text = _compact(schema_instance(schema, text) if schema is not None else {"answer": text})
        if final:
            return [response([{"text": text}], finished=True)]
        pieces = _pieces(text)
        middle = len(pieces) // 2 or 1
        first, rest = "".join(pieces[:middle]), "".join(pieces[middle:])
        return [response([{"text": first}], finished=False), response([{"text": rest}], finished=True)]


def _result_text(response):
    """The text of a Gemini `functionResponse.response`: its `output` (or `result`, `content`)
    string, or the whole object as JSON."""
    for key in ("output", "result", "content"):
        if isinstance(response.get(key), str):
            return response[key]
    return _compact(response)


# ----------------------------------------------------------------------------------------------
# Ollama (PROTOCOLS.md section 3)
# ----------------------------------------------------------------------------------------------


def _ollama_model(name):
    """The installed model a request names (a missing tag means `latest`), or None."""
    if not isinstance(name, str) or not name:
        return None
    full = name if ":" in name else name + ":latest"
    return full if full in OLLAMA_MODELS else None


def _ollama_time():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class OllamaHandler(BaseHandler):
    """`POST /api/chat` (NDJSON stream unless `"stream": false`), `POST /api/embed`,
    `POST /api/embeddings` (deprecated), `GET /api/tags`, `POST /api/show`, `GET /api/version`."""

    protocol = "ollama"

    def route(self, method, path, query, body):
        if method == "GET" and path == "/":
            self.send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")
        elif method == "GET" and path == "/api/version":
            self.send_json(200, {"version": "0.12.3"})
        elif method == "GET" and path == "/api/tags":
            self.send_json(200, {"models": [self._tag(name) for name in OLLAMA_MODELS]})
        elif method == "POST" and path in ("/api/chat", "/api/embed", "/api/embeddings", "/api/show"):
            if body is None:
                raise BadRequest(400, {"error": "missing request body"})
            if body is _INVALID_JSON or not isinstance(body, dict):
                raise BadRequest(400, {"error": "invalid character in request body"})
            name = body.get("model")
            model = _ollama_model(name)
            if model is None:
                raise BadRequest(404, {"error": f"model '{name}' not found"})
            if path == "/api/chat":
                self._chat(name, model, body)
            elif path == "/api/embed":
                self._embed(name, body)
            elif path == "/api/embeddings":
                prompt = body.get("prompt")
                self.send_json(
                    200, {"embedding": embedding_vector("ollama", prompt if isinstance(prompt, str) else "")}
                )
            else:
                family, size, capabilities = OLLAMA_MODELS[model]
                self.send_json(
                    200,
                    {
                        "details": self._tag(model)["details"],
                        "capabilities": capabilities,
                        "model_info": {f"{family}.context_length": 8192},
                    },
                )
        else:
            # Ollama's router answers unknown routes with a plain-text 404.
            self.send_bytes(404, b"404 page not found", "text/plain")

    @staticmethod
    def _tag(name):
        family, size, _ = OLLAMA_MODELS[name]
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-05-04T17:37:44.706015396-07:00",
            "size": 2019393189,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": family,
                "families": [family],
                "parameter_size": size,
                "quantization_level": "Q4_K_M",
            },
        }

    def _embed(self, name, body):
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(text, str) for text in inputs):
            raise BadRequest(400, {"error": "invalid input type"})
        self.send_json(
            200,
            {
                "model": name,
                "embeddings": [embedding_vector("ollama", text) for text in inputs],
                "total_duration": 14143917,
                "load_duration": 1019500,
                "prompt_eval_count": sum(count_words(text) for text in inputs),
            },
        )

    @staticmethod
    def _validate(messages):
        """Rejects what Go's JSON decoding of api.ChatRequest rejects: non-string `content`,
        string `arguments`, with Go's error text."""

        def unmarshal_error(value, field, go_type):
            kind = {str: "string", list: "array", dict: "object"}.get(type(value), "value")
            return BadRequest(
                400, {"error": f"json: cannot unmarshal {kind} into Go struct field {field} of type {go_type}"}
            )

        if not isinstance(messages, list):
            raise unmarshal_error(messages, "ChatRequest.messages", "[]api.Message")
        for message in messages:
            if not isinstance(message, dict):
                raise unmarshal_error(message, "ChatRequest.messages", "api.Message")
            content = message.get("content")
            if content is not None and not isinstance(content, str):
                raise unmarshal_error(content, "Message.messages.content", "string")
            if message.get("role") not in ("system", "user", "assistant", "tool"):
                raise BadRequest(400, {"error": f"invalid role: {message.get('role')}"})
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                    raise unmarshal_error(call, "Message.messages.tool_calls", "api.ToolCall")
                arguments = function.get("arguments", {})
                if not isinstance(arguments, dict):
                    raise unmarshal_error(
                        arguments,
                        "ToolCallFunction.messages.tool_calls.function.arguments",
                        "api.ToolCallFunctionArguments",
                    )

    def _chat(self, name, model, body):
        if "embedding" in OLLAMA_MODELS[model][2] and "completion" not in OLLAMA_MODELS[model][2]:
            raise BadRequest(400, {"error": f'"{name}" does not support chat'})
        messages = body.get("messages")
        self._validate(messages)
        tools = body.get("tools") or []
        if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
            raise BadRequest(
                400, {"error": "json: cannot unmarshal into Go struct field ChatRequest.tools of type api.Tool"}
            )
        declared = [tool["function"].get("name") for tool in tools if isinstance(tool.get("function"), dict)]
        tool_result = None
        for message in messages:
            if message.get("role") == "tool":
                tool_result = message.get("content", "")
        prompt = USAGE["ollama"]["prompt"]
        completion = USAGE["ollama"]["completion"]
        final = {
            "done_reason": "stop",
            "done": True,
            "total_duration": 3244883583,
            "load_duration": 2969184542,
            "prompt_eval_count": prompt,
            "prompt_eval_duration": 141656333,
            "eval_count": completion,
            "eval_duration": 133293625,
        }
        tool_calls, text = None, ""
        if tool_result is None and TOOL_NAME in declared:
            call_id = "call_" + "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
            tool_calls = [
                {"id": call_id, "function": {"index": 0, "name": TOOL_NAME, "arguments": dict(TOOL_ARGUMENTS)}}
            ]
        else:
            text = answer_text("ollama", tool_result)

        # `stream` defaults to true: a client that does not send `"stream": false` gets NDJSON.
        if body.get("stream", True) is False:
            message = {"role": "assistant", "content": text}
            if tool_calls:
                message["tool_calls"] = tool_calls
            self.send_json(200, {"model": name, "created_at": _ollama_time(), "message": message, **final})
            return

        self.start_stream("application/x-ndjson")

        def line(obj):
            self.write_chunk(_compact(obj) + "\n")

        if tool_calls:
            # Tool calls arrive complete in one line.
            line(
                {
                    "model": name,
                    "created_at": _ollama_time(),
                    "message": {"role": "assistant", "content": "", "tool_calls": tool_calls},
                    "done": False,
                }
            )
        else:
            for piece in _pieces(text):
                line(
                    {
                        "model": name,
                        "created_at": _ollama_time(),
                        "message": {"role": "assistant", "content": piece},
                        "done": False,
                    }
                )
        line({"model": name, "created_at": _ollama_time(), "message": {"role": "assistant", "content": ""}, **final})
        self.end_stream()


# ----------------------------------------------------------------------------------------------
# Anthropic (PROTOCOLS.md section 5)
# ----------------------------------------------------------------------------------------------


def _anthropic_error(status, kind, message):
    return BadRequest(
        status,
        {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_" + uuid.uuid4().hex[:24]},
    )


def _anthropic_invalid(message):
    return _anthropic_error(400, "invalid_request_error", message)


_ANTHROPIC_REQUEST_FIELDS = {
    "model", "max_tokens", "messages", "system", "stop_sequences", "stream", "temperature", "top_p",
    "top_k", "tools", "tool_choice", "metadata", "thinking", "service_tier", "container",
    "mcp_servers", "context_management", "output_config", "output_format", "cache_control",
    "inference_geo",
}  # fmt: skip
_ANTHROPIC_BLOCK_TYPES = {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}


# `<model>-cut-after-<N>`: the Anthropic fake's fault mode (see the module's doc).
_ANTHROPIC_CUT_MODEL = re.compile(r"(.+)-cut-after-(\d+)")


def _anthropic_model(name):
    """(the model id `name` resolves to, or None when it is unknown; the N of its
    `-cut-after-<N>` suffix, or None)."""
    cut = _ANTHROPIC_CUT_MODEL.fullmatch(name) if isinstance(name, str) else None
    if cut:
        name = cut.group(1)
    model_id = ANTHROPIC_ALIASES.get(name, name)
    return (model_id if model_id in ANTHROPIC_MODELS else None), (int(cut.group(2)) if cut else None)


class AnthropicHandler(BaseHandler):
    """`POST /v1/messages` (SSE with `event:` lines when `"stream": true`), `POST
    /v1/messages/count_tokens` ({"input_tokens": N}, N the words of `system` and of the messages'
    texts: `count_message_tokens`), `GET /v1/models[/{id}]`.
    Requires `x-api-key` (or a bearer token) with API_KEYS["anthropic"], and `anthropic-version`.
    A `<model>-cut-after-<N>` model's stream drops the connection after N text deltas.
    Every request's headers are recorded (GET /__requests), so a test can check the
    `anthropic-version` and `anthropic-beta` the gateway passed on."""

    protocol = "anthropic"

    def route(self, method, path, query, body):
        key = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
        if not key:
            raise _anthropic_error(401, "authentication_error", "x-api-key header is required")
        if key != API_KEYS["anthropic"]:
            raise _anthropic_error(401, "authentication_error", "invalid x-api-key")
        if not self.headers.get("anthropic-version"):
            raise _anthropic_invalid("anthropic-version: header is required")
        if method == "GET" and path == "/v1/models":
            data = [self._model_resource(model_id) for model_id in ANTHROPIC_MODELS]
            self.send_json(200, {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]})
        elif method == "GET" and path.startswith("/v1/models/"):
            name = path.removeprefix("/v1/models/")
            model_id = ANTHROPIC_ALIASES.get(name, name)
            if model_id not in ANTHROPIC_MODELS:
                raise _anthropic_error(404, "not_found_error", f"model: {name}")
            self.send_json(200, self._model_resource(model_id))
        elif method == "POST" and path == "/v1/messages":
            self._messages(body)
        elif method == "POST" and path == "/v1/messages/count_tokens":
            self._count_tokens(body)
        else:
            raise _anthropic_error(404, "not_found_error", "Not found")

    @staticmethod
    def _model_resource(model_id):
        display_name, created_at = ANTHROPIC_MODELS[model_id]
        return {"type": "model", "id": model_id, "display_name": display_name, "created_at": created_at}

    @staticmethod
    def _validate(body):
        """Rejects what the Messages API rejects; returns (model id, tool result or None, declared tools)."""
        if body is _INVALID_JSON or not isinstance(body, dict):
            raise _anthropic_invalid("There was an issue with the JSON body of your request.")
        for key in body:
            if key not in _ANTHROPIC_REQUEST_FIELDS:
                raise _anthropic_invalid(f"{key}: Extra inputs are not permitted")
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                raise _anthropic_invalid(f"{key}: Field required")
        if not isinstance(body["max_tokens"], int) or isinstance(body["max_tokens"], bool) or body["max_tokens"] < 1:
            raise _anthropic_invalid("max_tokens: Input should be a valid integer greater than or equal to 1")
        temperature = body.get("temperature")
        if temperature is not None and not (isinstance(temperature, (int, float)) and 0 <= temperature <= 1):
            raise _anthropic_invalid("temperature: Input should be less than or equal to 1")
        system = body.get("system")
        if (
            system is not None
            and not isinstance(system, str)
            and not (
                isinstance(system, list)
                and all(isinstance(block, dict) and block.get("type") == "text" for block in system)
            )
        ):
            raise _anthropic_invalid("system: Input should be a valid string or a list of text blocks")
        model_id, _ = _anthropic_model(body["model"])
        if model_id is None:
            raise _anthropic_error(404, "not_found_error", f"model: {body['model']}")

        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            raise _anthropic_invalid("messages: at least one message is required")
        tool_result = None
        previous_tool_uses = set()
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                raise _anthropic_invalid(f"messages.{index}.role: Input should be 'user' or 'assistant'")
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            if not isinstance(blocks, list):
                raise _anthropic_invalid(f"messages.{index}.content: Input should be a valid list")
            tool_uses = set()
            for block_index, block in enumerate(blocks):
                where = f"messages.{index}.content.{block_index}"
                kind = block.get("type") if isinstance(block, dict) else None
                if kind not in _ANTHROPIC_BLOCK_TYPES:
                    raise _anthropic_invalid(
                        f"{where}: Input tag '{kind}' found using 'type' does not match any of the expected tags",
                    )
                if kind == "tool_use":
                    if (
                        message["role"] != "assistant"
                        or not block.get("id")
                        or not isinstance(block.get("input"), dict)
                    ):
                        raise _anthropic_invalid(f"{where}.input: Input should be a valid dictionary")
                    tool_uses.add(block["id"])
                elif kind == "tool_result":
                    tool_use_id = block.get("tool_use_id")
                    if message["role"] != "user" or tool_use_id not in previous_tool_uses:
                        raise _anthropic_invalid(
                            f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {tool_use_id}. Each "
                            "`tool_result` block must have a corresponding `tool_use` block in the previous message."
                        )
                    result = block.get("content", "")
                    if isinstance(result, list):
                        result = "".join(part.get("text", "") for part in result if isinstance(part, dict))
                    tool_result = result
            previous_tool_uses = tool_uses
        declared = []
        for tool in body.get("tools") or []:
            if not isinstance(tool, dict) or not tool.get("name"):
                raise _anthropic_invalid("tools.0.custom.name: Field required")
            if tool.get("type", "custom") == "custom" and not isinstance(tool.get("input_schema"), dict):
                raise _anthropic_invalid("tools.0.custom.input_schema: Field required")
            declared.append(tool["name"])
        return model_id, tool_result, declared

    def _count_tokens(self, body):
        """Counts like the real endpoint takes requests: a Messages body without `max_tokens`."""
        if body is _INVALID_JSON or not isinstance(body, dict):
            raise _anthropic_invalid("There was an issue with the JSON body of your request.")
        for key in body:
            if key not in _ANTHROPIC_REQUEST_FIELDS:
                raise _anthropic_invalid(f"{key}: Extra inputs are not permitted")
        for key in ("model", "messages"):
            if key not in body:
                raise _anthropic_invalid(f"{key}: Field required")
        if _anthropic_model(body["model"])[0] is None:
            raise _anthropic_error(404, "not_found_error", f"model: {body['model']}")
        if not isinstance(body["messages"], list) or not body["messages"]:
            raise _anthropic_invalid("messages: at least one message is required")
        self.send_json(200, {"input_tokens": count_message_tokens(body)})

    def _messages(self, body):
        model_id, tool_result, declared = self._validate(body)
        cut_after = _anthropic_model(body["model"])[1]
        message_id = "msg_" + uuid.uuid4().hex[:24]
        prompt = USAGE["anthropic"]["prompt"]
        completion = USAGE["anthropic"]["completion"]
        if tool_result is None and TOOL_NAME in declared:
            # Claude usually says something before calling a tool: a text block, then tool_use.
            tool_id = "toolu_" + uuid.uuid4().hex[:24]
            blocks = [
                {"type": "text", "text": "Let me check the weather."},
                {"type": "tool_use", "id": tool_id, "name": TOOL_NAME, "input": dict(TOOL_ARGUMENTS)},
            ]
            stop_reason = "tool_use"
        else:
            blocks = [{"type": "text", "text": answer_text("anthropic", tool_result)}]
            stop_reason = "end_turn"
        headers = {"request-id": "req_" + uuid.uuid4().hex[:24]}

        if body.get("stream") is not True:
            self.send_json(
                200,
                {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model_id,
                    "content": blocks,
                    "stop_reason": stop_reason,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": prompt,
                        "output_tokens": completion,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "service_tier": "standard",
                    },
                },
                headers,
            )
            return

        self.start_stream("text/event-stream; charset=utf-8", headers)

        def event(name, data):
            self.write_chunk(f"event: {name}\ndata: {_compact(data)}\n\n")

        event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model_id,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": prompt,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 1,
                        "service_tier": "standard",
                    },
                },
            },
        )
        text_deltas = 0
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
                if index == 0:
                    event("ping", {"type": "ping"})
                for piece in _pieces(block["text"]):
                    if cut_after is not None and text_deltas == cut_after:
                        # A crashed upstream: the connection drops mid-answer, without even the
                        # terminating chunk.
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    text_deltas += 1
                    event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                    )
            else:
                # The block-start `input: {}` is a placeholder; the arguments come as JSON fragments
                # split mid-token.
                event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
                    },
                )
                arguments = json.dumps(block["input"])
                for fragment in ("", arguments[:11], arguments[11:]):
                    event(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": fragment},
                        },
                    )
            event("content_block_stop", {"type": "content_block_stop", "index": index})
        # message_delta's usage is cumulative: the final output count, not an increment.
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": completion},
            },
        )
        event("message_stop", {"type": "message_stop"})
        self.end_stream()


# ----------------------------------------------------------------------------------------------
# Text Embeddings Inference (PROTOCOLS.md section 4.4)
# ----------------------------------------------------------------------------------------------


class TEIHandler(BaseHandler):
    """`POST /embed` (a bare array of vectors), `GET /info`, `GET /health`."""

    protocol = "tei"

    def route(self, method, path, query, body):
        if method == "GET" and path == "/health":
            self.send_bytes(200, b"", None)
        elif method == "GET" and path == "/info":
            self.send_json(
                200,
                {
                    "model_id": TEI_MODEL,
                    "model_sha": None,
                    "model_dtype": "float16",
                    "model_type": {"embedding": {"pooling": "cls"}},
                    "max_concurrent_requests": 512,
                    "max_input_length": 512,
                    "max_batch_tokens": 16384,
                    "max_batch_requests": None,
                    "max_client_batch_size": 32,
                    "auto_truncate": False,
                    "tokenization_workers": 2,
                    "version": "1.8.0",
                    "sha": None,
                    "docker_label": None,
                },
            )
        elif method == "POST" and path == "/embed":
            if body is _INVALID_JSON or not isinstance(body, dict):
                raise BadRequest(
                    422,
                    {"error": "Failed to deserialize the JSON body into the target type", "error_type": "validation"},
                )
            inputs = body.get("inputs")
            if isinstance(inputs, str):
                inputs = [inputs]
            if not isinstance(inputs, list) or not inputs:
                raise BadRequest(400, {"error": "`inputs` cannot be empty", "error_type": "empty"})
            vectors = []
            for item in inputs:
                if isinstance(item, str):
                    vectors.append(embedding_vector("tei", item))
                elif isinstance(item, list) and all(isinstance(token, int) for token in item):
                    # Token ids: embed as if each id were one character.
                    vectors.append(embedding_vector("tei", "x" * len(item)))
                else:
                    raise BadRequest(
                        422, {"error": "inputs must be strings or arrays of token ids", "error_type": "validation"}
                    )
            self.send_json(200, vectors)
        else:
            self.send_bytes(404, b"", None)


HANDLERS = {"gemini": GeminiHandler, "ollama": OllamaHandler, "anthropic": AnthropicHandler, "tei": TEIHandler}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in HANDLERS:
        print(f"usage: {sys.argv[0]} {{{','.join(PROTOCOLS)}}} [PORT]", file=sys.stderr)
        sys.exit(2)
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), HANDLERS[sys.argv[1]])
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
