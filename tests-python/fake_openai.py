#!/usr/bin/env python3
"""A tiny fake OpenAI upstream for the gateway's end-to-end tests (standard library only).

Usage: python3 fake_openai.py [PORT]   (0 or nothing: pick a free port)

Prints `PORT <n>` on stdout once it listens on 127.0.0.1, then serves:

- POST /v1/chat/completions: answers "You said: <last user message>" in OpenAI's wire format,
  as a `chat.completion` object or, with `"stream": true`, as server-sent events (a role chunk,
  content chunks, a finish chunk, an optional usage chunk when `stream_options.include_usage`
  is true, then `data: [DONE]`).
  Scripted like fake_native.py: when the conversation holds a tool result (`role: tool`), the
  answer is "It is <result> in Paris."; otherwise, when the request declares a function named
  `get_weather`, a call to it with arguments {"city": "Paris"} (`finish_reason: tool_calls`).
  With `response_format` of type `json_schema`, the answer is a JSON instance of the schema whose
  string fields hold the text answer (`json_object`: {"answer": <text>}).
  A trailing assistant message with `"continue_final_message": true` (vLLM's continuation, which
  the gateway sends to models that support `continuation`) is continued: the answer is what
  follows that prefix in the scripted answer.
  Fault mode: a model named `fake-cut-after-<N>` streams the role chunk and N content chunks, then
  drops the connection (no finish_reason, no `[DONE]`, no terminating chunk), as a crashed upstream.
- POST /v1/responses (and /responses): OpenAI's Responses API, answering the same "You said: <last
  user text>" (the `input` itself when it is a string, else the last `role: user` item's text or
  `input_text` parts) as a `response` object (`id` resp_..., `status: completed`, one assistant
  `message` item with an `output_text` part, `usage` with `input_tokens`, `input_tokens_details`
  (`cached_tokens`, `cache_write_tokens`), `output_tokens`, `output_tokens_details`
  (`reasoning_tokens`) and `total_tokens`) or, with `"stream": true`, as OpenAI's named events
  (`event: <type>` and `data:` with an increasing `sequence_number`): response.created,
  response.in_progress, response.output_item.added, response.content_part.added, one
  response.output_text.delta per word piece, response.output_text.done, response.content_part.done,
  response.output_item.done and response.completed (with `usage`). With `text.format` of type
  `json_schema` the text is a JSON instance of the schema, as for chat. `fake-cut-after-<N>` cuts a
  Responses stream the same way: N text deltas, then the connection drops (no response.completed).
  A body that is not a JSON object, or lacks `model` or `input`, gets a 400 in OpenAI's error shape.
  Function tools are scripted as on chat: when `input` holds a `function_call_output` item, the
  answer is "It is <output> in Paris."; otherwise, when `tools` offers the function `get_weather`,
  the one output item is a `function_call` (`id` fc_..., `call_id` call_..., `name`, `arguments`
  '{"city": "Paris"}'), streamed as OpenAI does: response.output_item.added (empty `arguments`),
  response.function_call_arguments.delta per fragment, response.function_call_arguments.done,
  response.output_item.done, response.completed.
- GET /v1/models: the one model it pretends to serve.
- GET /_last: the JSON body of the last chat-completions or Responses request it received (null
  before any).
- GET /__requests: every chat-completions and Responses request received, oldest first, as
  fake_native.py records them: a JSON array of {"method", "path", "headers" (names lower-cased),
  "body" (parsed JSON)}; DELETE /__requests forgets them.
"""

import json
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fake_native import schema_instance

_lock = threading.Lock()
_last_request = None
_requests = []

TOOL_NAME = "get_weather"
TOOL_ARGUMENTS = {"city": "Paris"}
_CUT_MODEL = re.compile(r"fake-cut-after-(\d+)")


def _last_user_text(messages):
    """The text of the last user message: a string content, or its text parts joined."""
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(
                part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
            )
        return ""
    return ""


def _tool_result(messages):
    """The content of the last `role: tool` message, or None."""
    result = None
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") == "tool":
            content = message.get("content")
            if isinstance(content, list):
                content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
            result = content if isinstance(content, str) else ""
    return result


def _declares_tool(body):
    return any(
        isinstance(tool, dict) and isinstance(tool.get("function"), dict) and tool["function"].get("name") == TOOL_NAME
        for tool in body.get("tools") or []
    )


def _answer_text(body, messages):
    """The scripted text answer (before any continuation prefix is removed)."""
    result = _tool_result(messages)
    text = f"It is {result} in Paris." if result is not None else "You said: " + _last_user_text(messages)
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        if response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema")
            return json.dumps(schema_instance(schema, text))
        if response_format.get("type") == "json_object":
            return json.dumps({"answer": text})
    return text


def _count_tokens(text):
    return max(1, len(text.split()))


def _error_body(message, code=None, param=None):
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def _input_text_parts(content):
    """The texts of a Responses content: itself when a string, else its text parts."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") in ("input_text", "text", "output_text")
        ]
    return []


def _responses_user_text(input_value):
    """The last user text of a Responses `input`: the input itself when it is a string, else the
    last `role: user` item's text."""
    if isinstance(input_value, str):
        return input_value
    for item in reversed(input_value if isinstance(input_value, list) else []):
        if isinstance(item, dict) and item.get("role") == "user":
            return "".join(_input_text_parts(item.get("content")))
    return ""


def _responses_prompt_tokens(body):
    """Words in `instructions` and every text of `input` (at least 1)."""
    texts = _input_text_parts(body.get("instructions"))
    input_value = body.get("input")
    if isinstance(input_value, str):
        texts.append(input_value)
    for item in input_value if isinstance(input_value, list) else []:
        if isinstance(item, dict):
            texts += _input_text_parts(item.get("content"))
    return _count_tokens(" ".join(texts))


def _responses_tool_output(input_value):
    """The `output` of the last `function_call_output` item of a Responses `input`, or None."""
    result = None
    for item in input_value if isinstance(input_value, list) else []:
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            output = item.get("output")
            if isinstance(output, list):
                output = "".join(_input_text_parts(output))
            result = output if isinstance(output, str) else ""
    return result


def _responses_declares_tool(body):
    """Whether a Responses body offers the function `get_weather` (Responses' function tools are
    flat: `{"type": "function", "name": …}`)."""
    return any(
        isinstance(tool, dict) and tool.get("type") == "function" and tool.get("name") == TOOL_NAME
        for tool in body.get("tools") or []
    )


def _responses_answer_text(body):
    """The scripted text answer: "It is <output> in Paris." after a `function_call_output`, else
    "You said: <last user text>"; a JSON instance of `text.format`'s schema when it asks for one."""
    tool_output = _responses_tool_output(body.get("input"))
    if tool_output is not None:
        text = f"It is {tool_output} in Paris."
    else:
        text = "You said: " + _responses_user_text(body.get("input"))
    text_options = body.get("text")
    response_format = text_options.get("format") if isinstance(text_options, dict) else None
    if isinstance(response_format, dict):
        if response_format.get("type") == "json_schema":
            return json.dumps(schema_instance(response_format.get("schema"), text))
        if response_format.get("type") == "json_object":
            return json.dumps({"answer": text})
    return text


def _responses_output_item(body):
    """The one completed output item a Responses body gets: a `function_call` to `get_weather`
    with {"city": "Paris"} when the body offers that tool and holds no `function_call_output` yet,
    else an assistant `message` with one `output_text` part."""
    if _responses_tool_output(body.get("input")) is None and _responses_declares_tool(body):
        return {
            "type": "function_call",
            "id": "fc_" + uuid.uuid4().hex,
            "call_id": "call_" + uuid.uuid4().hex[:24],
            "name": TOOL_NAME,
            "arguments": json.dumps(TOOL_ARGUMENTS),
            "status": "completed",
        }
    return {
        "type": "message",
        "id": "msg_" + uuid.uuid4().hex,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": _responses_answer_text(body), "annotations": []}],
    }


def _output_item_tokens(item):
    """The fake's token count of an output item: the words of its text or of its arguments."""
    if item["type"] == "function_call":
        return _count_tokens(item["arguments"])
    return _count_tokens(item["content"][0]["text"])


def _response_object(body, response_id, created, status, item, usage):
    """A Responses API `response` object; `output` (the one `item`) and `usage` only once it is
    completed."""
    completed = status == "completed"
    text_options = body.get("text") if isinstance(body.get("text"), dict) else {"format": {"type": "text"}}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body.get("model"),
        "output": [item] if completed else [],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": 1.0,
        "text": text_options,
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage if completed else None,
        "user": None,
        "metadata": body.get("metadata") or {},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1.0"

    def log_message(self, format, *args):  # keep the test output quiet
        pass

    # ----- helpers -----

    def _send_json(self, status, obj):
        data = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _write_chunk(self, data):
        """One HTTP/1.1 chunk (chunked transfer encoding), flushed at once."""
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()

    def _send_event(self, payload):
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        self._write_chunk(("data: " + text + "\n\n").encode("utf-8"))

    # ----- routes -----

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_last":
            with _lock:
                last = _last_request
            self._send_json(200, last)
        elif path == "/__requests":
            with _lock:
                recorded = list(_requests)
            self._send_json(200, recorded)
        elif path in ("/v1/models", "/models"):
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": "fake-small", "object": "model", "created": 1700000000, "owned_by": "fake"}],
                },
            )
        elif path in ("/health", "/"):
            self._send_json(200, {"status": "ok"})
        else:
            self._send_json(404, _error_body(f"Unknown path {path}", code="not_found"))

    def do_DELETE(self):
        if self.path.split("?", 1)[0] == "/__requests":
            with _lock:
                _requests.clear()
            self._send_json(200, {"cleared": True})
        else:
            self._send_json(404, _error_body(f"Unknown path {self.path}", code="not_found"))

    def do_POST(self):
        global _last_request
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        is_responses = path in ("/v1/responses", "/responses")
        if path not in ("/v1/chat/completions", "/chat/completions") and not is_responses:
            self._send_json(404, _error_body(f"Unknown path {path}", code="not_found"))
            return
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self._send_json(400, _error_body(f"We could not parse the JSON body of your request: {error}"))
            return
        with _lock:
            _last_request = body
            _requests.append(
                {
                    "method": "POST",
                    "path": path,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "body": body,
                }
            )
        if not isinstance(body, dict):
            self._send_json(400, _error_body("The body must be a JSON object."))
            return
        if is_responses:
            self._responses(body)
            return

        model = body.get("model", "")
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        prefill = None
        if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
            if body.get("continue_final_message") is True:
                prefill = messages[-1].get("content") or ""
                messages = messages[:-1]
        tool_call = None
        if _tool_result(messages) is None and _declares_tool(body):
            tool_call = {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": TOOL_NAME, "arguments": json.dumps(TOOL_ARGUMENTS)},
            }
        answer = _answer_text(body, messages)
        if prefill is not None and answer.startswith(prefill):
            answer = answer[len(prefill) :]
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        prompt_tokens = sum(
            _count_tokens(m.get("content")) for m in body.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("content"), str)
        ) or 1
        completion_tokens = _count_tokens(answer)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

        if body.get("stream") is True:
            options = body.get("stream_options") or {}
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            cut = _CUT_MODEL.fullmatch(model)
            self._stream(
                completion_id,
                created,
                model,
                answer,
                usage if include_usage else None,
                tool_call=tool_call,
                cut_after=int(cut.group(1)) if cut else None,
            )
            return

        message = {"role": "assistant", "content": answer, "refusal": None}
        if tool_call is not None:
            message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [tool_call]}

        self._send_json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": "tool_calls" if tool_call is not None else "stop",
                    }
                ],
                "usage": usage,
                "system_fingerprint": "fp_fake",
            },
        )

    def _stream(self, completion_id, created, model, answer, usage, tool_call=None, cut_after=None):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(delta, finish_reason=None):
            obj = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if usage is not None:
                obj["usage"] = None
            return obj

        # Split the answer into a few pieces, keeping the spaces so the pieces concatenate back.
        words = answer.split(" ")
        pieces = [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]

        if tool_call is not None:
            # OpenAI streams a tool call as its id and name first, then the arguments in fragments.
            arguments = tool_call["function"]["arguments"]
            start = {"index": 0, "id": tool_call["id"], "type": "function", "function": {"name": TOOL_NAME, "arguments": ""}}
            self._send_event(chunk({"role": "assistant", "content": None, "tool_calls": [start], "refusal": None}))
            for fragment in (arguments[:9], arguments[9:]):
                self._send_event(chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}))
            finish_reason = "tool_calls"
        else:
            self._send_event(chunk({"role": "assistant", "content": "", "refusal": None}))
            for count, piece in enumerate(pieces):
                if cut_after is not None and count == cut_after:
                    # A crashed upstream: the connection drops mid-answer, without even the
                    # terminating chunk.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._send_event(chunk({"content": piece}))
                time.sleep(0.005)
            finish_reason = "stop"
        self._send_event(chunk({}, finish_reason=finish_reason))
        if usage is not None:
            self._send_event(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [],
                    "usage": usage,
                }
            )
        self._send_event("[DONE]")
        self._write_chunk(b"")  # the terminating zero-length chunk


    # ----- the Responses API -----

    def _responses(self, body):
        for field in ("model", "input"):
            if body.get(field) in (None, ""):
                self._send_json(
                    400,
                    _error_body(f"Missing required parameter: '{field}'.", code="missing_required_parameter", param=field),
                )
                return
        model = body["model"] if isinstance(body["model"], str) else ""
        response_id = "resp_" + uuid.uuid4().hex
        created = int(time.time())
        item = _responses_output_item(body)
        prompt_tokens = _responses_prompt_tokens(body)
        completion_tokens = _output_item_tokens(item)
        usage = {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if body.get("stream") is not True:
            self._send_json(200, _response_object(body, response_id, created, "completed", item, usage))
            return
        cut = _CUT_MODEL.fullmatch(model)
        self._stream_response(body, response_id, created, item, usage, int(cut.group(1)) if cut else None)

    def _stream_response(self, body, response_id, created, item, usage, cut_after):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sequence = iter(range(1_000_000))

        def event(kind, **fields):
            data = {"type": kind, "sequence_number": next(sequence), **fields}
            self._write_chunk(f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode("utf-8"))

        def response(status):
            return _response_object(body, response_id, created, status, item, usage)

        def cut():
            # A crashed upstream: the connection drops mid-answer, without even the terminating
            # chunk.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        event("response.created", response=response("in_progress"))
        event("response.in_progress", response=response("in_progress"))
        if item["type"] == "function_call":
            # OpenAI announces the call with empty arguments, then streams them in fragments.
            where = {"item_id": item["id"], "output_index": 0}
            event("response.output_item.added", output_index=0, item={**item, "arguments": "", "status": "in_progress"})
            arguments = item["arguments"]
            for count, fragment in enumerate((arguments[:9], arguments[9:])):
                if cut_after is not None and count == cut_after:
                    cut()
                    return
                event("response.function_call_arguments.delta", **where, delta=fragment)
                time.sleep(0.005)
            event("response.function_call_arguments.done", **where, name=item["name"], arguments=arguments)
            event("response.output_item.done", output_index=0, item=item)
            event("response.completed", response=response("completed"))
            self._write_chunk(b"")  # the terminating zero-length chunk
            return

        answer = item["content"][0]["text"]
        where = {"item_id": item["id"], "output_index": 0, "content_index": 0}
        event("response.output_item.added", output_index=0, item={**item, "status": "in_progress", "content": []})
        event("response.content_part.added", **where, part={"type": "output_text", "annotations": [], "text": ""})
        words = answer.split(" ")
        pieces = [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]
        for count, piece in enumerate(pieces):
            if cut_after is not None and count == cut_after:
                cut()
                return
            event("response.output_text.delta", **where, delta=piece, logprobs=[])
            time.sleep(0.005)
        event("response.output_text.done", **where, text=answer, logprobs=[])
        event("response.content_part.done", **where, part=item["content"][0])
        event("response.output_item.done", output_index=0, item=item)
        event("response.completed", response=response("completed"))
        self._write_chunk(b"")  # the terminating zero-length chunk


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
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
