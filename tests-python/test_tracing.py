"""OpenTelemetry traces, received by a real OTLP/HTTP receiver and decoded with the official
protobuf definitions (PyPI `opentelemetry-proto`).

The receiver is a small HTTP server on 127.0.0.1 accepting POST /v1/traces
(application/x-protobuf), as an OpenTelemetry Collector does. The fake upstream is in this file:
it answers `broken` with a 500, streams `good` as server-sent chat chunks with usage, cuts `cutter`
mid-answer (a chunked body closed before its end) and continues a prefilled answer on `finisher`;
it records the `traceparent` of every request it gets.

The gateway is stopped before the spans are read: its graceful shutdown exports every span still
in the exporter's batch, so the tests wait for nothing.
"""

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from conftest import _running_gateway

MASTER_KEY = "trace-test-master-key-canary-7f3a9c"
PROVIDER_KEY = "sk-trace-test-provider-key-canary-51d2e8"
PROMPT = "the prompt words zebra-quartz-lantern must stay out of spans"
ANSWER_WORDS = ["Answer-", "text-", "tangerine-", "obelisk"]
PROMPT_TOKENS = 17
COMPLETION_TOKENS = 5
CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN_ID = "00f067aa0ba902b7"
STREAM_TAIL_SECONDS = 0.5


class _Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def add(self, item):
        with self.lock:
            self.items.append(item)

    def all(self):
        with self.lock:
            return list(self.items)


def _serve(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def _chunk(text=None, finish=None, usage=None):
    chunk = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "upstream-model",
        "choices": [] if usage else [{"index": 0, "delta": {} if text is None else {"content": text}, "finish_reason": finish}],
    }
    if usage:
        chunk["usage"] = usage
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _make_upstream(log):
    class Upstream(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
            model = body.get("model")
            log.add({"model": model, "traceparent": self.headers.get("traceparent"), "body": body})
            if model == "fail-model":
                # An upstream that quotes the key it was sent: the span's status message is scrubbed.
                message = f"the fake is broken (key {self.headers.get('authorization', '')[len('Bearer '):]})"
                payload = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
                self.send_response(500)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()

            def send(data):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            send(_chunk(text=""))
            if model == "cut-model":
                for word in ANSWER_WORDS[:2]:
                    send(_chunk(text=word))
                # Cut: the chunked body ends without its last chunk.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            words = ANSWER_WORDS[2:] if model == "continue-model" else ANSWER_WORDS
            for word in words:
                send(_chunk(text=word))
            # The answer's end comes well after its commit: the request's span must wait for it.
            time.sleep(STREAM_TAIL_SECONDS)
            send(_chunk(finish="stop"))
            usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS, "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS}
            send(_chunk(usage=usage))
            send(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Upstream


def _make_receiver(exports):
    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path != "/v1/traces" or self.headers.get("content-type") != "application/x-protobuf":
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            request = ExportTraceServiceRequest()
            request.ParseFromString(raw)
            exports.add((raw, request))
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Receiver


def _attribute(value):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_attribute(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


class Span:
    def __init__(self, proto, resource):
        self.name = proto.name
        self.trace_id = proto.trace_id.hex()
        self.span_id = proto.span_id.hex()
        self.parent_id = proto.parent_span_id.hex()
        self.kind = proto.kind
        self.attributes = {item.key: _attribute(item.value) for item in proto.attributes}
        self.status_code = proto.status.code
        self.status_message = proto.status.message
        self.start = proto.start_time_unix_nano
        self.end = proto.end_time_unix_nano
        self.resource = resource

    def __repr__(self):
        return f"Span({self.name!r}, id={self.span_id}, parent={self.parent_id}, {self.attributes})"


def _spans(exports):
    spans = []
    for _, request in exports.all():
        for resource_spans in request.resource_spans:
            resource = {item.key: _attribute(item.value) for item in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                spans.extend(Span(span, resource) for span in scope_spans.spans)
    return spans


@pytest.fixture()
def harness(tmp_path):
    """(upstream URL, upstream log, receiver URL, exports, config builder); the servers stop after the test."""
    upstream_log, exports = _Recorder(), _Recorder()
    upstream = _serve(_make_upstream(upstream_log))
    receiver = _serve(_make_receiver(exports))
    upstream_url = f"http://127.0.0.1:{upstream.server_address[1]}"
    receiver_url = f"http://127.0.0.1:{receiver.server_address[1]}/v1/traces"

    def config(tracing):
        return "\n".join(
            [
                f"auth: {{master_key: {MASTER_KEY}}}",
                tracing,
                "providers:",
                f'  up: {{type: openai, base_url: "{upstream_url}/v1", api_key: "{PROVIDER_KEY}", locality: local}}',
                "models:",
                "  broken: {provider: up, model: fail-model}",
                "  good: {provider: up, model: good-model, price: {input: 2, output: 8}}",
                "  cutter: {provider: up, model: cut-model, price: {input: 2, output: 8}}",
                "  finisher: {provider: up, model: continue-model, supports: [continuation], price: {input: 2, output: 8}}",
                "routes:",
                "  fast: {policy: ordered, targets: [broken, good]}",
                "  continued: {policy: ordered, targets: [cutter, finisher]}",
                "resilience:",
                "  breaker: {failure_threshold: 1000, cooldown: 1s}",
                "",
            ]
        )

    try:
        yield upstream_url, upstream_log, receiver_url, exports, config
    finally:
        upstream.shutdown()
        receiver.shutdown()


def _stream(base, model, traceparent=None):
    headers = {"content-type": "application/json", "authorization": f"Bearer {MASTER_KEY}"}
    if traceparent:
        headers["traceparent"] = traceparent
        headers["tracestate"] = "vendor=abc"
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    request = urllib.request.Request(f"{base}/chat/completions", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return response.read().decode()


def _assert_nothing_secret_or_private(exports):
    for raw, _ in exports.all():
        for forbidden in [MASTER_KEY, PROVIDER_KEY, "zebra-quartz-lantern", *ANSWER_WORDS]:
            assert forbidden.encode() not in raw, f"{forbidden!r} is in a span export"


def test_a_streamed_request_that_fails_over_is_one_trace_under_the_clients_span(harness, tmp_path):
    upstream_url, upstream_log, receiver_url, exports, config = harness
    tracing = f'tracing: {{enabled: true, endpoint: "{receiver_url}", sample_ratio: 1.0, service_name: trace-test}}'
    with _running_gateway(config(tracing), tmp_path, "the traced gateway", expect_clean_exit=True) as base:
        text = _stream(base, "fast", traceparent=f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01")
        read_all = time.time_ns()
        assert "".join(ANSWER_WORDS) in "".join(
            json.loads(line[6:])["choices"][0]["delta"].get("content", "")
            for line in text.splitlines()
            if line.startswith("data: {") and json.loads(line[6:]).get("choices")
        )
    spans = _spans(exports)
    assert spans, "no span reached the receiver"
    assert {span.trace_id for span in spans} == {CLIENT_TRACE_ID}, spans
    assert all(span.resource.get("service.name") == "trace-test" for span in spans)

    [request] = [span for span in spans if span.parent_id == CLIENT_SPAN_ID]
    assert request.name == "chat fast"
    assert request.kind == 2  # SPAN_KIND_SERVER
    attributes = request.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "fast"
    assert attributes["gen_ai.response.model"] == "good"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.usage.input_tokens"] == PROMPT_TOKENS
    assert attributes["gen_ai.usage.output_tokens"] == COMPLETION_TOKENS
    assert attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert attributes["multiprodigy.route"] == "fast"
    assert attributes["multiprodigy.policy"] == "ordered"
    assert attributes["multiprodigy.cost_usd"] == pytest.approx((PROMPT_TOKENS * 2 + COMPLETION_TOKENS * 8) / 1e6)
    assert attributes["http.response.status_code"] == 200
    assert attributes["multiprodigy.attempts"] == 3

    children = [span for span in spans if span.parent_id == request.span_id]
    [plan] = [span for span in children if span.name == "plan"]
    assert plan.attributes["multiprodigy.plan.targets"] == ["broken", "good"]
    attempts = sorted((span for span in children if span.kind == 3), key=lambda span: span.attributes["multiprodigy.attempt"])
    assert [span.attributes["multiprodigy.target"] for span in attempts] == ["broken", "broken", "good"], attempts
    first, second, last = attempts
    # A 500 is retried once on the same target, then the request fails over.
    assert first.attributes["multiprodigy.attempt.outcome"] == "failure"
    assert first.attributes["multiprodigy.attempt.next"] == "retry"
    assert first.attributes["multiprodigy.retry.reason"] == "server"
    assert second.attributes["multiprodigy.attempt.next"] == "failover"
    assert second.attributes["multiprodigy.failover.reason"] == "server"
    assert second.attributes["http.response.status_code"] == 500
    assert second.attributes["error.type"] == "server"
    assert second.status_code == 2  # STATUS_CODE_ERROR
    # The upstream's error text (which may quote the prompt, here the provider key) stays out: kind and status only.
    assert second.status_message == "server (HTTP 500)", second.status_message
    assert last.name == "chat good-model"
    assert last.attributes["multiprodigy.attempt.outcome"] == "success"
    assert last.attributes["gen_ai.request.model"] == "good-model"
    assert last.attributes["gen_ai.provider.name"] == "openai"
    assert len(spans) == 5, spans
    # The attempt's span ends when its stream commits; the request's, with the stream's last byte.
    assert request.end - last.end >= STREAM_TAIL_SECONDS * 0.8e9
    # (after the last write, so at about the time the client has read it all)
    assert abs(request.end - read_all) < STREAM_TAIL_SECONDS * 0.5e9
    assert all(request.start <= span.start and span.end <= request.end for span in children)

    # Each upstream call carried the traceparent of its own attempt span, in the client's trace.
    calls = upstream_log.all()
    assert [call["model"] for call in calls] == ["fail-model", "fail-model", "good-model"]
    for call, attempt in zip(calls, attempts):
        version, trace_id, parent_id, flags = call["traceparent"].split("-")
        assert (version, trace_id, parent_id, flags) == ("00", CLIENT_TRACE_ID, attempt.span_id, "01")
    _assert_nothing_secret_or_private(exports)


def test_a_continued_stream_has_a_continuation_span_with_its_attempt(harness, tmp_path):
    upstream_url, upstream_log, receiver_url, exports, config = harness
    tracing = f'tracing: {{enabled: true, endpoint: "{receiver_url}"}}'
    with _running_gateway(config(tracing), tmp_path, "the traced gateway", expect_clean_exit=True) as base:
        _stream(base, "continued")
    spans = _spans(exports)
    [request] = [span for span in spans if span.name == "chat continued"]
    assert request.parent_id == ""
    assert request.attributes["multiprodigy.attempts"] == 2
    [continuation] = [span for span in spans if span.parent_id == request.span_id and span.name == "continue continued"]
    assert continuation.attributes["multiprodigy.continuation.cut_target"] == "cutter"
    assert continuation.attributes["multiprodigy.continuation.cut_reason"] == "connection"
    assert continuation.attributes["multiprodigy.continuation.outcome"] == "prefilled"
    [resumed] = [span for span in spans if span.parent_id == continuation.span_id]
    assert resumed.attributes["multiprodigy.target"] == "finisher"
    assert resumed.attributes["multiprodigy.attempt.outcome"] == "success"
    assert {span.trace_id for span in spans} == {request.trace_id}
    _assert_nothing_secret_or_private(exports)


def test_sample_ratio_zero_traces_nothing_unless_the_clients_trace_is_sampled(harness, tmp_path):
    upstream_url, upstream_log, receiver_url, exports, config = harness
    tracing = f'tracing: {{enabled: true, endpoint: "{receiver_url}", sample_ratio: 0}}'
    with _running_gateway(config(tracing), tmp_path, "the unsampled gateway", expect_clean_exit=True) as base:
        _stream(base, "fast")
        _stream(base, "fast", traceparent=f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-00")
        unsampled = len(upstream_log.all())
        # A client's sampled trace is followed (the sampler is parent-based).
        _stream(base, "fast", traceparent=f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01")
    spans = _spans(exports)
    assert spans and {span.trace_id for span in spans} == {CLIENT_TRACE_ID}, spans
    assert len([span for span in spans if span.parent_id == CLIENT_SPAN_ID]) == 1
    # The upstream still learns the (unsampled) trace of the requests that were not recorded.
    flags = [call["traceparent"].split("-")[3] for call in upstream_log.all()[:unsampled]]
    assert flags == ["00"] * unsampled


def test_with_tracing_off_nothing_is_exported_and_upstream_requests_carry_no_traceparent(harness, tmp_path):
    upstream_url, upstream_log, receiver_url, exports, config = harness
    # The endpoint is configured, but tracing is not enabled.
    tracing = f'tracing: {{endpoint: "{receiver_url}"}}'
    with _running_gateway(config(tracing), tmp_path, "the untraced gateway", expect_clean_exit=True) as base:
        _stream(base, "fast", traceparent=f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-01")
    assert exports.all() == []
    assert upstream_log.all() and all(call["traceparent"] is None for call in upstream_log.all())


def test_a_json_answer_has_its_usage_and_finish_reasons_on_the_request_span(harness, tmp_path):
    upstream_url, upstream_log, receiver_url, exports, config = harness
    tracing = f'tracing: {{enabled: true, endpoint: "{receiver_url}"}}'
    with _running_gateway(config(tracing), tmp_path, "the traced gateway", expect_clean_exit=True) as base:
        headers = {"content-type": "application/json", "authorization": f"Bearer {MASTER_KEY}"}
        body = {"model": "good", "messages": [{"role": "user", "content": PROMPT}]}
        request = urllib.request.Request(f"{base}/chat/completions", data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert answer["choices"][0]["message"]["content"] == "".join(ANSWER_WORDS)
    spans = _spans(exports)
    [request_span] = [span for span in spans if span.name == "chat good"]
    assert request_span.attributes["gen_ai.usage.input_tokens"] == PROMPT_TOKENS
    assert request_span.attributes["gen_ai.usage.output_tokens"] == COMPLETION_TOKENS
    assert request_span.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert request_span.attributes["gen_ai.response.model"] == "good"
    assert request_span.attributes["multiprodigy.attempts"] == 1
    [attempt] = [span for span in spans if span.parent_id == request_span.span_id and span.kind == 3]
    assert attempt.attributes["multiprodigy.attempt.outcome"] == "success"
    _assert_nothing_secret_or_private(exports)
