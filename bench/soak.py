#!/usr/bin/env python3
"""Soak test of the gateway (issue 21, item 4): a long mixed load against fake upstreams that fail.

`bench/soak.sh` runs the pieces of this file as separate steps:

    python3 bench/soak.py upstream --port-file FILE
        The fake OpenAI-compatible upstream on 127.0.0.1 (a free port, written to FILE). The first
        segment of a request's path picks its fault mix: `/good/v1/...` always answers,
        `/flaky/v1/...` fails on a share of its requests, `/broken/v1/...` fails on every one.
        `GET /__stats` answers what it served, fault by fault.

    python3 bench/soak.py config --upstream-port P --storage DB --out FILE [--marker N]
        Writes the gateway's YAML (three providers on the fake, a failover route, small limits).

    python3 bench/soak.py drive --gateway 127.0.0.1:PORT --pid PID --config FILE --minutes M --report FILE
        The load: workers, key churn, reloads every 30 s, bad requests, a sample every 10 s; a
        warm-up, a quiet spell (the baseline), the measured load, a quiet spell (the final figures).
        Writes what it saw to a JSON report.

    python3 bench/soak.py verdict --report FILE --storage DB --exit-code N --gateway-bin BIN
        After the gateway stopped: compares the ledger with the requests the driver made, and prints
        one PASS or FAIL line per check. Exits 0 only when every check passed.

Standard library only (Python 3.11). Everything listens on and talks to 127.0.0.1.
"""
import argparse
import collections
import http.client
import json
import os
import random
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time

# ---------------------------------------------------------------------------------------------
# Shared constants
# ---------------------------------------------------------------------------------------------

LOOPBACK = "127.0.0.1"
MASTER_KEY = "soak-master-key-0123456789abcdef"
ANSWER_TEXT = "The quick brown fox jumps over the lazy dog, twice."
ANSWER_PIECES = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog, ", "twice."]
assert "".join(ANSWER_PIECES) == ANSWER_TEXT

# The gateway's limits, written into its config. The fake's silences and stalls outlast them.
FIRST_BYTE_SECONDS = 1
FIRST_TOKEN_SECONDS = 1
STALL_SECONDS = 1
TOTAL_SECONDS = 20
HEAD_TIMEOUT_SECONDS = 2
BODY_TIMEOUT_SECONDS = 3
IDLE_TIMEOUT_SECONDS = 30
UPSTREAM_IDLE_TIMEOUT_SECONDS = 5
DRAIN_TIMEOUT_SECONDS = 10
MAX_REQUEST_BYTES = 1024 * 1024
# Consecutive failures that open a target's breaker: high enough that `flaky` (40 % faults) seldom
# opens and its faults keep reaching the gateway; `broken` opens and is probed after each cooldown.
BREAKER_FAILURES = 8

# The fake upstream.
FAKE_SILENCE_SECONDS = 3          # longer than first_byte and stall
FAKE_MAX_HOLD_SECONDS = 6         # a silent connection is closed by the fake after this at the latest
FLAKY_FAULT_SHARE = 0.4           # share of `/flaky/` requests that get a fault
FAULTS = [
    "429_retry_after",            # 429 with Retry-After: 1
    "429_plain",                  # 429 without Retry-After
    "500",
    "503",
    "reset",                      # connection reset before any byte (SO_LINGER 0)
    "silence",                    # nothing, then a close after FAKE_SILENCE_SECONDS
    "head_then_silence",          # the response head, then nothing
    "cut",                        # a stream closed mid-way, without [DONE] or the chunked end
    "stall",                      # a stream that stops mid-way for FAKE_SILENCE_SECONDS, then closes
    "malformed",                  # one `data: {not json` event in an otherwise good stream
    "no_done",                    # a whole stream without `data: [DONE]`
]

# The driver.
WORKERS = int(os.environ.get("SOAK_WORKERS", "8"))
WARMUP_SECONDS = int(os.environ.get("SOAK_WARMUP_SECONDS", "30"))
SETTLE_SECONDS = int(os.environ.get("SOAK_SETTLE_SECONDS", "20"))
SAMPLE_SECONDS = 10
RELOAD_SECONDS = 30
CHURN_SECONDS = 4
BAD_REQUEST_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 60      # an answer slower than this, or a silence this long, is BAD
KEEPALIVE_REUSE_SECONDS = 5       # a worker's connection idle longer than this is not reused
RESOURCE_TOLERANCE = 0.10         # RSS and fds after the load: at most 10 % above the baseline
MAX_LISTED_PROBLEMS = 25
REQUEST_ID_HEADER = "x-multiprodigy-request-id"

# What the workers ask for: (model, weight). `soak` fails over from faulty targets to a good one;
# `flaky` and `broken` alone give honest errors; `good` always answers.
MODEL_MIX = [("soak", 55), ("flaky", 15), ("broken", 10), ("good", 20)]
STREAM_SHARE = 0.5
INCLUDE_USAGE_SHARE = 0.5
MASTER_KEY_SHARE = 0.5
ABANDON_SHARE = 0.04              # requests whose client leaves after the head or the first event


# ---------------------------------------------------------------------------------------------
# The fake upstream
# ---------------------------------------------------------------------------------------------

SSE_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n\r\n")


def sse_event(payload):
    """One SSE event holding `payload` (a dict, or raw text such as `[DONE]`)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return ("data: " + text + "\n\n").encode()


def http_chunk(data):
    """`data` as one chunk of a chunked HTTP body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def chunk_event(model, delta, finish=None):
    """A `chat.completion.chunk` event with one choice."""
    return sse_event({"id": "chatcmpl-soak", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def usage_event(model):
    """The usage chunk of a stream that asked for `stream_options.include_usage`."""
    return sse_event({"id": "chatcmpl-soak", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                      "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": len(ANSWER_PIECES),
                                                "total_tokens": 12 + len(ANSWER_PIECES)}})


def stream_events(model, with_usage):
    """The events of a whole answer, without `[DONE]`."""
    events = [chunk_event(model, {"role": "assistant", "content": ""})]
    events += [chunk_event(model, {"content": piece}) for piece in ANSWER_PIECES]
    events.append(chunk_event(model, {}, "stop"))
    if with_usage:
        events.append(usage_event(model))
    return events


def completion_body(model):
    """A whole non-streaming `chat.completion`."""
    return json.dumps({"id": "chatcmpl-soak", "object": "chat.completion", "created": 1700000000, "model": model,
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER_TEXT},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 12, "completion_tokens": len(ANSWER_PIECES),
                                 "total_tokens": 12 + len(ANSWER_PIECES)}}).encode()


def json_response(status, reason, payload, extra_headers=b""):
    """A whole HTTP response with a JSON body and a Content-Length (the connection stays usable)."""
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n" % (status, reason) + extra_headers
            + b"content-length: %d\r\n\r\n" % len(payload) + payload)


class UpstreamRequest:
    """What the fake read of one request: its method, path and JSON body (or None)."""

    def __init__(self, method, path, body):
        self.method = method
        self.path = path
        self.body = body


def read_line(conn, buffer):
    """Reads up to the next CRLF; returns (line, rest) or (None, buffer) at EOF."""
    while b"\r\n" not in buffer:
        part = conn.recv(65536)
        if not part:
            return None, buffer
        buffer += part
    line, _, rest = buffer.partition(b"\r\n")
    return line, rest


def read_upstream_request(conn, buffer):
    """Reads one request from `conn` (Content-Length or chunked body); returns (request, rest) or (None, b"")."""
    while b"\r\n\r\n" not in buffer:
        part = conn.recv(65536)
        if not part:
            return None, b""
        buffer += part
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path = lines[0].split(" ")[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line, rest = read_line(conn, rest)
            if size_line is None:
                return None, b""
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                part = conn.recv(65536)
                if not part:
                    return None, b""
                rest += part
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                break
    else:
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            part = conn.recv(65536)
            if not part:
                return None, b""
            rest += part
        body, rest = rest[:length], rest[length:]
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return UpstreamRequest(method, path, parsed), rest


def hold_until_peer_closes(conn, seconds):
    """Says nothing for up to `seconds`, returning early when the gateway closes its side."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        readable, _, _ = select.select([conn], [], [], min(left, 0.5))
        if readable:
            try:
                if not conn.recv(65536):
                    return
            except OSError:
                return


class FakeUpstream:
    """An OpenAI-compatible chat-completions server whose path prefix picks the fault mix."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(512)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.stats = collections.Counter()
        self.random = random.Random(21)

    def count(self, name):
        with self.lock:
            self.stats[name] += 1

    def pick_fault(self, mix):
        """The fault for one request of `mix` (`good`, `flaky`, `broken`), or None to answer."""
        with self.lock:
            if mix == "broken" or (mix == "flaky" and self.random.random() < FLAKY_FAULT_SHARE):
                return self.random.choice(FAULTS)
            return None

    def serve_forever(self):
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(target=self.handle_connection, args=(conn,), daemon=True).start()

    def handle_connection(self, conn):
        """Serves requests on one connection until a fault closes it or the gateway does."""
        buffer = b""
        try:
            while True:
                request, buffer = read_upstream_request(conn, buffer)
                if request is None:
                    return
                if not self.answer(conn, request):
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def answer(self, conn, request):
        """Plays one request; returns whether the connection may serve another."""
        if request.method == "GET" and request.path == "/__stats":
            with self.lock:
                payload = json.dumps(dict(self.stats), sort_keys=True).encode()
            conn.sendall(json_response(200, b"OK", payload))
            return True
        mix = request.path.strip("/").split("/")[0]
        if mix not in ("good", "flaky", "broken") or not request.path.endswith("/chat/completions"):
            conn.sendall(json_response(404, b"Not Found", b'{"error":{"message":"no such path","type":"invalid_request_error"}}'))
            return True
        body = request.body if isinstance(request.body, dict) else {}
        model = str(body.get("model", "soak-up"))
        stream = bool(body.get("stream"))
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        fault = self.pick_fault(mix)
        self.count(f"{mix}:{fault or 'ok'}")
        if fault is None:
            if stream:
                events = stream_events(model, with_usage) + [sse_event("[DONE]")]
                conn.sendall(SSE_HEAD + b"".join(http_chunk(event) for event in events) + b"0\r\n\r\n")
            else:
                conn.sendall(json_response(200, b"OK", completion_body(model)))
            return True
        return self.play_fault(conn, fault, model, stream, with_usage)

    def play_fault(self, conn, fault, model, stream, with_usage):
        """Plays `fault`; returns whether the connection may serve another request."""
        error_body = b'{"error":{"message":"soak fake: %s","type":"server_error","code":null}}' % fault.encode()
        if fault == "429_retry_after":
            conn.sendall(json_response(429, b"Too Many Requests", error_body, b"retry-after: 1\r\n"))
            return True
        if fault == "429_plain":
            conn.sendall(json_response(429, b"Too Many Requests", error_body))
            return True
        if fault == "500":
            conn.sendall(json_response(500, b"Internal Server Error", error_body))
            return True
        if fault == "503":
            conn.sendall(json_response(503, b"Service Unavailable", error_body))
            return True
        if fault == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if fault == "silence":
            hold_until_peer_closes(conn, FAKE_SILENCE_SECONDS)
            return False
        if fault == "head_then_silence":
            conn.sendall(SSE_HEAD if stream else b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n")
            hold_until_peer_closes(conn, FAKE_MAX_HOLD_SECONDS)
            return False
        if not stream:
            # A whole answer cannot be cut into events: the other stream faults become a body cut short.
            body = completion_body(model)
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
                         + body[: len(body) // 2])
            if fault == "stall":
                hold_until_peer_closes(conn, FAKE_MAX_HOLD_SECONDS)
            return False
        events = stream_events(model, with_usage)
        cut_at = 1 + self.random_index(len(ANSWER_PIECES) - 1)
        if fault == "cut":
            conn.sendall(SSE_HEAD + b"".join(http_chunk(event) for event in events[:cut_at]))
            return False
        if fault == "stall":
            conn.sendall(SSE_HEAD + b"".join(http_chunk(event) for event in events[:cut_at]))
            hold_until_peer_closes(conn, FAKE_SILENCE_SECONDS)
            return False
        if fault == "malformed":
            events = events[:cut_at] + [b"data: {not json\n\n"] + events[cut_at:] + [sse_event("[DONE]")]
        # "no_done": the whole stream, properly ended, without [DONE].
        conn.sendall(SSE_HEAD + b"".join(http_chunk(event) for event in events) + b"0\r\n\r\n")
        return True

    def random_index(self, count):
        with self.lock:
            return self.random.randrange(count)


def run_upstream(args):
    """`upstream`: serves until killed; writes the port to --port-file once listening."""
    fake = FakeUpstream()
    with open(args.port_file + ".tmp", "w") as handle:
        handle.write(str(fake.port))
    os.replace(args.port_file + ".tmp", args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    fake.serve_forever()


# ---------------------------------------------------------------------------------------------
# The gateway's configuration
# ---------------------------------------------------------------------------------------------

def config_text(upstream_port, storage, marker):
    """The gateway's YAML. `marker` names a route that only a reload can make appear (`reload-N`)."""
    base = f"http://{LOOPBACK}:{upstream_port}"
    return f"""# Written by bench/soak.py: the soak's gateway, in front of the fake upstream on port {upstream_port}.
server:
  max_request_bytes: {MAX_REQUEST_BYTES}
  head_timeout: {HEAD_TIMEOUT_SECONDS}s
  body_timeout: {BODY_TIMEOUT_SECONDS}s
  idle_timeout: {IDLE_TIMEOUT_SECONDS}s
  drain_timeout: {DRAIN_TIMEOUT_SECONDS}s
  upstream_idle_timeout: {UPSTREAM_IDLE_TIMEOUT_SECONDS}s
auth:
  master_key: {MASTER_KEY}
storage: sqlite:{storage}
providers:
  good:   {{type: openai, base_url: "{base}/good/v1", locality: local}}
  flaky:  {{type: openai, base_url: "{base}/flaky/v1", locality: local}}
  broken: {{type: openai, base_url: "{base}/broken/v1", locality: local}}
models:
  good:   {{provider: good, model: soak-good}}
  flaky:  {{provider: flaky, model: soak-flaky}}
  broken: {{provider: broken, model: soak-broken}}
routes:
  soak: {{targets: [flaky, broken], fallback: [good]}}
  reload-{marker}: {{targets: [good]}}
privacy: {{detect_pii: true}}
resilience:
  timeouts: {{connect: 1s, first_byte: {FIRST_BYTE_SECONDS}s, first_token: {FIRST_TOKEN_SECONDS}s, stall: {STALL_SECONDS}s, total: {TOTAL_SECONDS}s}}
  retry: {{max_attempts_per_target: 2, max_retry_after: 2s}}
  breaker: {{failure_threshold: {BREAKER_FAILURES}, cooldown: {1 + marker % 2}s}}
"""


def write_config(path, upstream_port, storage, marker):
    """Writes the config in one rename, so a reload never reads half a file."""
    with open(path + ".tmp", "w") as handle:
        handle.write(config_text(upstream_port, storage, marker))
    os.replace(path + ".tmp", path)


def run_config(args):
    write_config(args.out, args.upstream_port, args.storage, args.marker)


# ---------------------------------------------------------------------------------------------
# The driver: classifying answers
# ---------------------------------------------------------------------------------------------

OK = "ok"                 # a complete answer with the right text
HONEST = "honest"         # an error the client can read: an error status with OpenAI's envelope, or an in-band error event
BAD = "bad"               # anything else: no answer, a timeout, a truncated stream, a body that is not JSON, a wrong text
ABANDONED = "abandoned"   # the client left on purpose


class Outcome:
    """What one request got: its class, a short detail, its status and the gateway's request id."""

    def __init__(self, kind, detail, status=None, request_id=None):
        self.kind = kind
        self.detail = detail
        self.status = status
        self.request_id = request_id


def error_envelope(body):
    """The error's `code` (or its type) when `body` is OpenAI's error envelope, else None."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    error = payload["error"]
    if not isinstance(error.get("message"), str):
        return None
    return str(error.get("code") or error.get("type") or "error")


def classify_whole(status, body, request_id):
    """A non-streaming answer: a `chat.completion` with the right text, or an honest error."""
    if status == 200:
        try:
            answer = json.loads(body)
            choice = answer["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return Outcome(BAD, f"200 whose body is not a chat.completion: {body[:120]!r}", status, request_id)
        if answer.get("object") != "chat.completion":
            return Outcome(BAD, f"200 with object {answer.get('object')!r}", status, request_id)
        if text != ANSWER_TEXT:
            return Outcome(BAD, f"200 with the wrong text {text!r}", status, request_id)
        return Outcome(OK, "whole", status, request_id)
    if status >= 400:
        code = error_envelope(body)
        if code is None:
            return Outcome(BAD, f"{status} without the error envelope: {body[:120]!r}", status, request_id)
        return Outcome(HONEST, f"{status} {code}", status, request_id)
    return Outcome(BAD, f"unexpected status {status}", status, request_id)


def classify_stream(response, started, request_id, abandon_after_first_event):
    """Reads an SSE answer to its end: [DONE] with the right text, or an in-band error, else BAD."""
    text = ""
    saw_usage = False
    in_band_error = None
    while True:
        if time.monotonic() - started > REQUEST_TIMEOUT_SECONDS:
            return Outcome(BAD, "stream slower than the client's limit", 200, request_id), saw_usage
        line = response.readline()
        if not line:
            if in_band_error is not None:
                return Outcome(HONEST, f"in-band {in_band_error}", 200, request_id), saw_usage
            return Outcome(BAD, f"stream ended without [DONE] or an error after {text!r}", 200, request_id), saw_usage
        line = line.rstrip(b"\r\n")
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            if in_band_error is not None:
                return Outcome(HONEST, f"in-band {in_band_error}", 200, request_id), saw_usage
            if text != ANSWER_TEXT:
                return Outcome(BAD, f"stream complete with the wrong text {text!r}", 200, request_id), saw_usage
            return Outcome(OK, "stream", 200, request_id), saw_usage
        try:
            event = json.loads(data)
        except ValueError:
            return Outcome(BAD, f"stream event that is not JSON: {data[:80]!r}", 200, request_id), saw_usage
        if not isinstance(event, dict):
            return Outcome(BAD, f"stream event that is not a JSON object: {data[:80]!r}", 200, request_id), saw_usage
        if abandon_after_first_event:
            return Outcome(ABANDONED, "after the first event", 200, request_id), saw_usage
        if isinstance(event, dict) and isinstance(event.get("error"), dict):
            in_band_error = str(event["error"].get("code") or event["error"].get("type") or "error")
            continue
        if event.get("usage"):
            saw_usage = True
        for choice in event.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                text += piece


# ---------------------------------------------------------------------------------------------
# The driver: shared tallies
# ---------------------------------------------------------------------------------------------

class Tally:
    """Everything the driver's threads count, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.kinds = collections.Counter()        # ok / honest / bad / abandoned
        self.details = collections.Counter()      # (source, kind, detail)
        self.problems = []                        # BAD answers and broken expectations, first few in full
        self.problem_count = 0
        self.ledgered_ids = set()                 # request ids the ledger must hold
        self.ledgered_without_id = 0              # requests the ledger must hold whose id the driver never saw
        self.unledgered_ids = set()               # request ids the ledger must not hold
        self.usage_missing = 0                    # include_usage streams answered without a usage chunk
        self.seconds = collections.defaultdict(list)  # the workers' request times, by class
        self.reloads = 0
        self.keys_created = 0
        self.keys_revoked = 0

    def record(self, source, outcome, ledgered, seconds=None):
        """Counts one request; `ledgered` says whether the gateway must have written a row for it.
        `seconds`: how long a worker's request took, for the latency summary."""
        with self.lock:
            self.kinds[outcome.kind] += 1
            if seconds is not None:
                self.seconds[outcome.kind].append(seconds)
            self.details[(source, outcome.kind, outcome.detail if outcome.kind != BAD else "see problems")] += 1
            if ledgered:
                if outcome.request_id:
                    self.ledgered_ids.add(outcome.request_id)
                else:
                    self.ledgered_without_id += 1
            elif outcome.request_id:
                self.unledgered_ids.add(outcome.request_id)
            if outcome.kind == BAD:
                self.note_problem_locked(f"{source}: {outcome.detail} (status {outcome.status}, id {outcome.request_id})")

    def note_problem(self, text):
        with self.lock:
            self.note_problem_locked(text)

    def note_problem_locked(self, text):
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(f"{time.strftime('%H:%M:%S')} {text}")

    def snapshot(self):
        with self.lock:
            return dict(self.kinds)


# ---------------------------------------------------------------------------------------------
# The driver: requests
# ---------------------------------------------------------------------------------------------

def chat_body(model, stream, include_usage, prompt="Say the pangram."):
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream}
    if stream and include_usage:
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body).encode()


def host_port(address):
    """("127.0.0.1", 4100) from "127.0.0.1:4100"."""
    host, port = address.rsplit(":", 1)
    return host, int(port)


def auth_headers(key):
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    return headers


class Client:
    """One keep-alive connection to the gateway, reopened when it was idle long or an answer was not a clean 200."""

    def __init__(self, address):
        self.host, self.port = host_port(address)
        self.conn = None
        self.last_used = 0.0

    def connection(self):
        if self.conn is None or time.monotonic() - self.last_used > KEEPALIVE_REUSE_SECONDS:
            self.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def chat(self, model, stream, include_usage, key, abandon=None):
        """Sends one chat completion and classifies its answer. `abandon`: None, "head" or "event"."""
        started = time.monotonic()
        conn = self.connection()
        clean = False
        try:
            conn.request("POST", "/v1/chat/completions", body=chat_body(model, stream, include_usage), headers=auth_headers(key))
            response = conn.getresponse()
            request_id = response.getheader(REQUEST_ID_HEADER)
            if abandon == "head":
                return Outcome(ABANDONED, "after the head", response.status, request_id), True
            is_stream = response.status == 200 and (response.getheader("content-type") or "").startswith("text/event-stream")
            if stream and is_stream:
                outcome, saw_usage = classify_stream(response, started, request_id, abandon == "event")
                if outcome.kind == ABANDONED:
                    return outcome, True
                response.read()
                clean = outcome.kind == OK
                return outcome, (saw_usage or not include_usage or outcome.kind != OK)
            body = response.read()
            if time.monotonic() - started > REQUEST_TIMEOUT_SECONDS:
                return Outcome(BAD, "answer slower than the client's limit", response.status, request_id), True
            outcome = classify_whole(response.status, body, request_id)
            clean = outcome.kind == OK and not response.will_close
            return outcome, True
        except (OSError, http.client.HTTPException) as error:
            return Outcome(BAD, f"no answer: {type(error).__name__}: {error}", None, None), True
        finally:
            self.last_used = time.monotonic()
            if not clean:
                self.close()


class RawExchange:
    """A request written byte by byte on a socket of its own, for requests no HTTP library sends."""

    def __init__(self, address, timeout):
        self.sock = socket.create_connection(host_port(address), timeout=timeout)
        self.deadline = time.monotonic() + timeout

    def send(self, data):
        self.sock.sendall(data)

    def readable(self):
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def read_answer(self):
        """Reads one response (head and a Content-Length body, or up to the close).

        Returns (status, headers, body, closed): `closed` says the connection ended after it.
        `status` is None when the connection closed with nothing."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.recv()
            if not chunk:
                return None, {}, data, True
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "-1"))
        while length < 0 or len(body) < length:
            chunk = self.recv()
            if not chunk:
                return status, headers, body, True
            body += chunk
        return status, headers, body[:length], False

    def recv(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer in time")
        self.sock.settimeout(left)
        try:
            return self.sock.recv(65536)
        except ConnectionResetError:
            return b""

    def closed_by_peer(self):
        """Waits (to the deadline) for the gateway to close; whether it did."""
        try:
            while True:
                if not self.recv():
                    return True
        except (TimeoutError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------

def fd_kinds(pid):
    """The open fds of `pid` by what they point at (`socket`, `pipe`, `anon_inode:[eventfd]`, a file's path),
    so that fds that stay open after the load can be told apart."""
    kinds = collections.Counter()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return {}
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        kinds[target.split(":[")[0] if target.startswith(("socket:", "pipe:")) else target] += 1
    return dict(sorted(kinds.items()))


class Soak:
    """The load, the churn, the reloads, the bad requests and the samples, with their phases."""

    def __init__(self, args):
        self.address = args.gateway
        self.pid = args.pid
        self.config_path = args.config
        self.upstream_port = args.upstream_port
        self.storage = args.storage
        self.minutes = args.minutes
        self.tally = Tally()
        self.random = random.Random(4)
        self.random_lock = threading.Lock()
        self.load_running = threading.Event()     # set while the load threads should work
        self.finished = threading.Event()         # set when everything should stop
        self.phase = "start"
        self.started = time.monotonic()
        self.samples = []
        self.worker_key = None
        self.reload_marker = 0
        self.gateway_died = False

    # -- helpers -----------------------------------------------------------------------------

    def chance(self, share):
        with self.random_lock:
            return self.random.random() < share

    def pick_model(self):
        with self.random_lock:
            return self.random.choices([name for name, _ in MODEL_MIX], [weight for _, weight in MODEL_MIX])[0]

    def gateway_alive(self):
        try:
            with open(f"/proc/{self.pid}/status") as handle:
                return "State:\tZ" not in handle.read()
        except OSError:
            return False

    def admin(self, method, path, payload=None, key=MASTER_KEY):
        """One admin call on a connection of its own: (status, parsed JSON or None)."""
        conn = http.client.HTTPConnection(*host_port(self.address), timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            conn.request(method, path, body=body, headers=auth_headers(key))
            response = conn.getresponse()
            text = response.read()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, None
        finally:
            conn.close()

    def expect(self, condition, text):
        """A behaviour the gateway promises; a broken promise is a problem of the verdict."""
        if not condition:
            self.tally.note_problem(f"expectation: {text}")

    # -- the workers ---------------------------------------------------------------------------

    def worker(self, index):
        client = Client(self.address)
        while not self.finished.is_set():
            if not self.load_running.wait(timeout=0.5):
                client.close()
                continue
            model = self.pick_model()
            stream = self.chance(STREAM_SHARE)
            include_usage = stream and self.chance(INCLUDE_USAGE_SHARE)
            key = MASTER_KEY if self.chance(MASTER_KEY_SHARE) else self.worker_key
            abandon = None
            if self.chance(ABANDON_SHARE):
                abandon = "event" if stream and self.chance(0.5) else "head"
            started = time.monotonic()
            try:
                outcome, usage_ok = client.chat(model, stream, include_usage, key, abandon)
            except Exception as error:  # a bug of the driver's: counted, so that it cannot pass unseen
                self.tally.note_problem(f"driver error in a worker: {type(error).__name__}: {error}")
                client.close()
                continue
            # Every request with a valid key to /v1/chat/completions has a ledger row, whatever its end
            # (one without an answer may have one too: it is BAD anyway).
            self.tally.record(f"worker:{model}:{'stream' if stream else 'whole'}", outcome,
                              ledgered=outcome.kind != BAD or outcome.request_id is not None,
                              seconds=time.monotonic() - started)
            if not usage_ok:
                with self.tally.lock:
                    self.tally.usage_missing += 1
        client.close()

    # -- key churn ----------------------------------------------------------------------------

    def churn(self):
        """Creates a key, uses it, revokes it, checks the revoked key is refused; every CHURN_SECONDS."""
        client = Client(self.address)
        round_number = 0
        while not self.finished.is_set():
            if not self.load_running.wait(timeout=0.5):
                continue
            round_number += 1
            name = f"soak-churn-{round_number}"
            payload = {"name": name}
            flavour = round_number % 3
            if flavour == 1:
                payload["routes"] = ["good"]
            elif flavour == 2:
                payload["rpm"] = 2
            try:
                status, created = self.admin("POST", "/admin/keys", payload)
                self.expect(status == 201 and isinstance(created, dict) and str(created.get("key", "")).startswith("mp-"),
                            f"POST /admin/keys {payload} answered {status} {created!r:.200}")
                if status != 201:
                    time.sleep(CHURN_SECONDS)
                    continue
                with self.tally.lock:
                    self.tally.keys_created += 1
                secret = created["key"]
                for use in range(3):
                    outcome, _ = client.chat("good", use == 1, False, secret)
                    self.tally.record("churn:use", outcome, ledgered=outcome.kind != BAD or outcome.request_id is not None)
                    if flavour == 2 and use == 2:
                        self.expect(outcome.status == 429 and outcome.detail.endswith("rate_limit_exceeded"),
                                    f"the third request of a key with rpm 2 got {outcome.status} {outcome.detail}")
                    elif flavour != 2 or use < 2:
                        self.expect(outcome.kind == OK, f"a live key's request to 'good' got {outcome.kind} {outcome.detail}")
                if flavour == 1:
                    outcome, _ = client.chat("soak", False, False, secret)
                    self.tally.record("churn:other-route", outcome, ledgered=outcome.kind != BAD or outcome.request_id is not None)
                    self.expect(outcome.status == 403 and outcome.detail.endswith("model_not_allowed"),
                                f"a key limited to 'good' asking for 'soak' got {outcome.status} {outcome.detail}")
                status, listed = self.admin("GET", "/admin/keys")
                self.expect(status == 200 and isinstance(listed, dict) and isinstance(listed.get("data"), list),
                            f"GET /admin/keys answered {status}")
                status, revoked = self.admin("DELETE", f"/admin/keys/{name}")
                self.expect(status == 200, f"DELETE /admin/keys/{name} answered {status} {revoked!r:.200}")
                if status == 200:
                    with self.tally.lock:
                        self.tally.keys_revoked += 1
                outcome, _ = client.chat("good", False, False, secret)
                self.tally.record("churn:revoked", outcome, ledgered=False)
                self.expect(outcome.status == 401 and outcome.detail.endswith("invalid_api_key"),
                            f"a revoked key's request got {outcome.status} {outcome.detail}")
            except (OSError, http.client.HTTPException) as error:
                self.tally.note_problem(f"churn: no answer to an admin call: {type(error).__name__}: {error}")
            except Exception as error:  # a bug of the driver's: counted, so that it cannot pass unseen
                self.tally.note_problem(f"driver error in the churn: {type(error).__name__}: {error}")
            client.close()
            self.finished.wait(CHURN_SECONDS)
        client.close()

    # -- reloads --------------------------------------------------------------------------------

    def reloader(self):
        """Every RELOAD_SECONDS: a new marker route in the file (and a SIGHUP every other time); checks it shows."""
        next_reload = time.monotonic() + RELOAD_SECONDS
        while not self.finished.wait(0.5):
            if not self.load_running.is_set() or time.monotonic() < next_reload:
                continue
            next_reload = time.monotonic() + RELOAD_SECONDS
            self.reload_marker += 1
            marker = self.reload_marker
            write_config(self.config_path, self.upstream_port, self.storage, marker)
            if marker % 2 == 0:
                try:
                    os.kill(self.pid, signal.SIGHUP)
                except OSError as error:
                    self.tally.note_problem(f"reload: SIGHUP failed: {error}")
            # The file is checked every second: the new route must show within a few.
            seen = False
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not seen:
                try:
                    status, models = self.admin("GET", "/v1/models")
                    names = [entry.get("id") for entry in (models or {}).get("data", [])]
                    seen = status == 200 and f"reload-{marker}" in names
                except (OSError, http.client.HTTPException):
                    pass
                if not seen:
                    time.sleep(0.5)
            self.expect(seen, f"reload {marker} ({'SIGHUP and file' if marker % 2 == 0 else 'file'}) did not show in /v1/models within 10 s")
            with self.tally.lock:
                self.tally.reloads += 1

    # -- bad requests ---------------------------------------------------------------------------

    def bad_requests(self):
        """One bad request every BAD_REQUEST_SECONDS, cycling through the kinds."""
        kinds = [
            self.bad_json, self.bad_model_type, self.bad_empty_messages, self.bad_unknown_model,
            self.bad_wrong_key, self.bad_no_key, self.bad_oversize_declared, self.bad_oversize_chunked,
            self.bad_wrong_method, self.bad_half_body, self.bad_half_body_close, self.bad_slow_head,
            self.bad_not_http, self.bad_smuggling,
        ]
        index = 0
        while not self.finished.is_set():
            if not self.load_running.wait(timeout=0.5):
                continue
            kind = kinds[index % len(kinds)]
            index += 1
            try:
                kind()
            except (OSError, http.client.HTTPException, ValueError) as error:
                self.tally.record(f"bad:{kind.__name__}", Outcome(BAD, f"{type(error).__name__}: {error}"), ledgered=False)
            except Exception as error:  # a bug of the driver's: counted, so that it cannot pass unseen
                self.tally.note_problem(f"driver error in {kind.__name__}: {type(error).__name__}: {error}")
            self.finished.wait(BAD_REQUEST_SECONDS)

    def raw_answer(self, source, data, expected_status, ledgered, timeout=10):
        """Sends `data` on a fresh socket and checks the answer: `expected_status` with the error envelope."""
        exchange = RawExchange(self.address, timeout)
        try:
            exchange.send(data)
            status, headers, body, _ = exchange.read_answer()
        finally:
            exchange.close()
        self.judge(source, status, headers, body, expected_status, ledgered)

    def judge(self, source, status, headers, body, expected_status, ledgered):
        request_id = headers.get(REQUEST_ID_HEADER)
        if status is None:
            outcome = Outcome(BAD, "closed without an answer", None, None)
        elif status != expected_status:
            outcome = Outcome(BAD, f"status {status} instead of {expected_status}: {body[:160]!r}", status, request_id)
        else:
            code = error_envelope(body)
            outcome = Outcome(HONEST, f"{status} {code}", status, request_id) if code else \
                Outcome(BAD, f"{status} without the error envelope: {body[:160]!r}", status, request_id)
        self.tally.record(source, outcome, ledgered=ledgered and status is not None)

    def request_bytes(self, method, path, body, key=MASTER_KEY, extra=""):
        auth = f"authorization: Bearer {key}\r\n" if key else ""
        head = (f"{method} {path} HTTP/1.1\r\nhost: {self.address}\r\ncontent-type: application/json\r\n{auth}{extra}"
                f"content-length: {len(body)}\r\n\r\n")
        return head.encode() + body

    def bad_json(self):
        self.raw_answer("bad:invalid_json", self.request_bytes("POST", "/v1/chat/completions", b'{"model": "good", "messages": ['),
                        400, ledgered=True)

    def bad_model_type(self):
        body = json.dumps({"model": 42, "messages": [{"role": "user", "content": "hi"}]}).encode()
        self.raw_answer("bad:model_number", self.request_bytes("POST", "/v1/chat/completions", body), 400, ledgered=True)

    def bad_empty_messages(self):
        body = json.dumps({"model": "good", "messages": []}).encode()
        self.raw_answer("bad:empty_messages", self.request_bytes("POST", "/v1/chat/completions", body), 400, ledgered=True)

    def bad_unknown_model(self):
        self.raw_answer("bad:unknown_model", self.request_bytes("POST", "/v1/chat/completions", chat_body("no-such-model", False, False)),
                        404, ledgered=True)

    def bad_wrong_key(self):
        self.raw_answer("bad:wrong_key", self.request_bytes("POST", "/v1/chat/completions", chat_body("good", False, False),
                                                           key="mp-notakey0000000000000000000000000000000000000"),
                        401, ledgered=False)

    def bad_no_key(self):
        self.raw_answer("bad:no_key", self.request_bytes("POST", "/v1/chat/completions", chat_body("good", True, False), key=None),
                        401, ledgered=False)

    def send_oversize(self, source, head, body_pieces):
        """Sends a head, then body pieces until the answer arrives; checks it is a 413."""
        exchange = RawExchange(self.address, 15)
        try:
            exchange.send(head)
            for piece in body_pieces:
                if exchange.readable():
                    break
                try:
                    exchange.send(piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
            status, headers, body, _ = exchange.read_answer()
        finally:
            exchange.close()
        self.judge(source, status, headers, body, 413, ledgered=True)

    def bad_oversize_declared(self):
        size = MAX_REQUEST_BYTES + MAX_REQUEST_BYTES // 2
        head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: {self.address}\r\ncontent-type: application/json\r\n"
                f"authorization: Bearer {MASTER_KEY}\r\ncontent-length: {size}\r\n\r\n").encode()
        self.send_oversize("bad:oversize_declared", head, [b" " * 65536] * (size // 65536) + [b" " * (size % 65536)])

    def bad_oversize_chunked(self):
        size = MAX_REQUEST_BYTES + MAX_REQUEST_BYTES // 2
        head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: {self.address}\r\ncontent-type: application/json\r\n"
                f"authorization: Bearer {MASTER_KEY}\r\ntransfer-encoding: chunked\r\n\r\n").encode()
        pieces = [http_chunk(b" " * 65536)] * (size // 65536 + 1) + [b"0\r\n\r\n"]
        self.send_oversize("bad:oversize_chunked", head, pieces)

    def bad_wrong_method(self):
        # Routed (the key is valid and the path is the chat endpoint's), so it has a ledger row.
        self.raw_answer("bad:wrong_method", self.request_bytes("GET", "/v1/chat/completions", b""), 405, ledgered=True)

    def bad_half_body(self):
        """Half a body, then nothing: 408 within body_timeout (plus the check's interval). Never routed, so no row."""
        body = chat_body("good", False, False)
        data = self.request_bytes("POST", "/v1/chat/completions", body)
        started = time.monotonic()
        self.raw_answer("bad:half_body", data[: len(data) - len(body) // 2], 408, ledgered=False, timeout=BODY_TIMEOUT_SECONDS + 5)
        self.expect(time.monotonic() - started < BODY_TIMEOUT_SECONDS + 3, "a half-sent body was not answered within body_timeout + 3 s")

    def bad_half_body_close(self):
        """Half a body, then the client leaves: nothing to answer, and the gateway must not mind."""
        body = chat_body("good", False, False)
        data = self.request_bytes("POST", "/v1/chat/completions", body)
        exchange = RawExchange(self.address, 5)
        exchange.send(data[: len(data) - len(body) // 2])
        time.sleep(0.2)
        exchange.close()
        self.tally.record("bad:half_body_close", Outcome(HONEST, "client left"), ledgered=False)

    def bad_slow_head(self):
        """Half a head, then nothing: 408 within head_timeout (plus the check's interval)."""
        started = time.monotonic()
        partial = f"POST /v1/chat/completions HTTP/1.1\r\nhost: {self.address}\r\n".encode()
        self.raw_answer("bad:slow_head", partial, 408, ledgered=False, timeout=HEAD_TIMEOUT_SECONDS + 5)
        self.expect(time.monotonic() - started < HEAD_TIMEOUT_SECONDS + 3, "a half-sent head was not answered within head_timeout + 3 s")

    def bad_not_http(self):
        self.raw_answer("bad:not_http", b"HELLO THERE\r\n\r\n", 400, ledgered=False)

    def bad_smuggling(self):
        body = chat_body("good", False, False)
        data = self.request_bytes("POST", "/v1/chat/completions", body, extra="transfer-encoding: chunked\r\n")
        self.raw_answer("bad:smuggling", data, 400, ledgered=False)

    # -- samples ---------------------------------------------------------------------------------

    def sample(self):
        """RSS, fds, threads of the gateway and the time /health takes; prints and keeps one line."""
        figures = {"t": round(time.monotonic() - self.started), "phase": self.phase}
        try:
            with open(f"/proc/{self.pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        figures["rss_kb"] = int(line.split()[1])
                    elif line.startswith("Threads:"):
                        figures["threads"] = int(line.split()[1])
            figures["fds"] = len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            figures["gone"] = True
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection(*host_port(self.address), timeout=REQUEST_TIMEOUT_SECONDS)
            conn.request("GET", "/health")
            health = conn.getresponse()
            health.read()
            conn.close()
            figures["health_ms"] = round((time.monotonic() - started) * 1000, 2)
            figures["health_status"] = health.status
        except (OSError, http.client.HTTPException) as error:
            figures["health_ms"] = None
            figures["health_error"] = f"{type(error).__name__}"
        figures.update(self.tally.snapshot())
        self.samples.append(figures)
        print("sample " + " ".join(f"{name}={value}" for name, value in figures.items()), flush=True)
        return figures

    def sampler(self):
        while not self.finished.wait(SAMPLE_SECONDS):
            figures = self.sample()
            if figures.get("gone") or not self.gateway_alive():
                self.gateway_died = True
                self.tally.note_problem("the gateway process is gone")
                self.finished.set()
                self.load_running.clear()

    # -- phases ----------------------------------------------------------------------------------

    def wait_for_health(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _ = self.admin("GET", "/health", key=None)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("the gateway did not answer /health within 30 s")

    def run_load(self, phase, seconds):
        """Runs every load thread for `seconds` (less if the gateway dies), then stops them."""
        self.phase = phase
        print(f"phase {phase}: {seconds} s of load", flush=True)
        self.load_running.set()
        self.finished.wait(seconds)
        self.load_running.clear()

    def settle(self, phase):
        """Lets the gateway go idle for SETTLE_SECONDS (load threads finish their request), then
        samples: the figures of `phase` (`baseline` or `after`), marked `measured` in their line."""
        self.phase = phase
        print(f"phase {phase}: {SETTLE_SECONDS} s without load", flush=True)
        self.finished.wait(SETTLE_SECONDS)
        self.phase = f"{phase}:measured"
        figures = self.sample()
        self.phase = phase
        figures["fd_kinds"] = fd_kinds(self.pid)
        print(f"fds of the gateway at the {phase} measure: {figures['fd_kinds']}", flush=True)
        return figures

    def run(self):
        self.wait_for_health()
        status, created = self.admin("POST", "/admin/keys", {"name": "soak-worker"})
        if status != 201:
            raise SystemExit(f"could not create the workers' key: {status} {created}")
        self.worker_key = created["key"]
        threads = [threading.Thread(target=self.worker, args=(index,), daemon=True) for index in range(WORKERS)]
        threads += [threading.Thread(target=target, daemon=True) for target in (self.churn, self.reloader, self.bad_requests)]
        sampler = threading.Thread(target=self.sampler, daemon=True)
        for thread in threads + [sampler]:
            thread.start()
        self.run_load("warmup", WARMUP_SECONDS)
        baseline = self.settle("baseline")
        counts_before = self.tally.snapshot()
        if not self.finished.is_set():
            self.run_load("load", int(self.minutes * 60))
        final = self.settle("after")
        self.finished.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 15)
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if stuck:
            self.tally.note_problem(f"driver threads still waiting for an answer at the end: {stuck}")
        return baseline, final, counts_before

    def upstream_stats(self):
        try:
            conn = http.client.HTTPConnection(LOOPBACK, self.upstream_port, timeout=10)
            conn.request("GET", "/__stats")
            stats = json.loads(conn.getresponse().read())
            conn.close()
            return stats
        except (OSError, ValueError, http.client.HTTPException) as error:
            return {"error": str(error)}


def percentiles(values):
    """p50, p99 and the longest of `values` (seconds), rounded to milliseconds."""
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(share):
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)

    return {"count": len(ordered), "p50": at(0.50), "p99": at(0.99), "max": round(ordered[-1], 3)}


def run_drive(args):
    soak = Soak(args)
    baseline, final, counts_before = soak.run()
    tally = soak.tally
    report = {
        "minutes": args.minutes,
        "workers": WORKERS,
        "kinds": dict(tally.kinds),
        "kinds_at_baseline": counts_before,
        "details": sorted([[source, kind, detail, count] for (source, kind, detail), count in tally.details.items()]),
        "problems": tally.problems,
        "problem_count": tally.problem_count,
        "ledgered_ids": sorted(tally.ledgered_ids),
        "ledgered_without_id": tally.ledgered_without_id,
        "unledgered_ids": sorted(tally.unledgered_ids),
        "usage_missing": tally.usage_missing,
        "latency": {kind: percentiles(values) for kind, values in tally.seconds.items()},
        "reloads": tally.reloads,
        "keys_created": tally.keys_created,
        "keys_revoked": tally.keys_revoked,
        "baseline": baseline,
        "final": final,
        "samples": soak.samples,
        "gateway_died": soak.gateway_died,
        "upstream": soak.upstream_stats(),
    }
    with open(args.report, "w") as handle:
        json.dump(report, handle, indent=1)
    print(f"driver done: {dict(tally.kinds)}; problems {tally.problem_count}; report {args.report}", flush=True)


# ---------------------------------------------------------------------------------------------
# The verdict
# ---------------------------------------------------------------------------------------------

def ledger_request_ids(storage, gateway_bin):
    """Every request id in the ledger, after replaying what the journal still holds. Also the journal lines found."""
    journal = storage + "-usage-journal"
    pending = 0
    if os.path.isdir(journal):
        for name in os.listdir(journal):
            if name.endswith(".jsonl"):
                with open(os.path.join(journal, name), "rb") as handle:
                    pending += sum(1 for _ in handle)
    if pending and gateway_bin:
        # `multiprodigy usage` replays the journal into the database before it reads it.
        subprocess.run([gateway_bin, "usage", "--storage", f"sqlite:{storage}", "--since", "30d", "--json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False)
    database = sqlite3.connect(storage)
    try:
        rows = database.execute("SELECT request_id, endpoint, status FROM usage").fetchall()
    finally:
        database.close()
    return rows, pending


def run_verdict(args):
    with open(args.report) as handle:
        report = json.load(handle)
    checks = []

    def check(name, passed, figures):
        checks.append(passed)
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {figures}")

    print()
    print("requests by class:", ", ".join(f"{kind} {count}" for kind, count in sorted(report["kinds"].items())))
    print("answers by source (BAD ones are listed under problems):")
    for source, kind, detail, count in report["details"]:
        print(f"  {count:7d}  {source:32s} {kind:9s} {detail}")
    print("fake upstream, requests by path and what they got:")
    for mix in ("good", "flaky", "broken"):
        served = sorted((name.split(":", 1)[1], count) for name, count in report["upstream"].items() if name.startswith(mix + ":"))
        print(f"  {mix:7s}", ", ".join(f"{fault} {count}" for fault, count in served))
    print("worker request times (s):", "; ".join(f"{kind} {figures}" for kind, figures in sorted(report["latency"].items())))
    print(f"keys created {report['keys_created']}, revoked {report['keys_revoked']}; reloads {report['reloads']}; "
          f"include_usage streams answered without usage: {report['usage_missing']}")
    if report["problems"]:
        print(f"problems ({report['problem_count']}, the first {len(report['problems'])}):")
        for problem in report["problems"]:
            print("  " + problem)
    print()

    # 1. No crash: alive through the run, and a clean exit on SIGTERM.
    check("no crash", not report["gateway_died"] and args.exit_code == 0,
          f"alive through the run: {'no' if report['gateway_died'] else 'yes'}; exit status on SIGTERM: {args.exit_code}")

    # 2. Every request got an answer or an honest error, and every promise held.
    bad = report["kinds"].get(BAD, 0)
    other = report["problem_count"] - bad
    check("every request answered or refused honestly", bad == 0 and other == 0,
          f"{bad} BAD answers, {other} broken expectations (out of {sum(report['kinds'].values())} requests)")

    # 3. The ledger: one row per request with a valid key to the chat endpoint, none for the others.
    rows, pending = ledger_request_ids(args.storage, args.gateway_bin)
    ledger_ids = collections.Counter(request_id for request_id, _, _ in rows)
    expected = set(report["ledgered_ids"])
    unexpected = set(report["unledgered_ids"])
    missing = sorted(expected - set(ledger_ids))
    refused_but_ledgered = sorted(unexpected & set(ledger_ids))
    duplicated = sorted(request_id for request_id, count in ledger_ids.items() if count > 1)
    unknown = sorted(set(ledger_ids) - expected - unexpected)
    expected_rows = len(expected) + report["ledgered_without_id"]
    passed = (len(rows) == expected_rows and not missing and not refused_but_ledgered and not duplicated
              and len(unknown) == report["ledgered_without_id"])
    check("ledger rows equal to the requests that passed the key check", passed,
          f"{len(rows)} rows (journal lines pending at exit: {pending}); expected {expected_rows} "
          f"({len(expected)} by request id, {report['ledgered_without_id']} whose id the client never saw); "
          f"missing {len(missing)} {missing[:5]}; rows of refused requests {len(refused_but_ledgered)} {refused_but_ledgered[:5]}; "
          f"duplicated {len(duplicated)}; rows of ids the client never saw {len(unknown)} {unknown[:5]}")

    # 4. Resources back near their warm baseline after the load.
    baseline, final = report["baseline"], report["final"]
    for name, unit, scale in (("rss_kb", "MB", 1024), ("fds", "", 1)):
        before, after = baseline.get(name), final.get(name)
        if before is None or after is None:
            check(f"{name} back within 10 % of the baseline", False, "not measured (the gateway was gone)")
            continue
        limit = before * (1 + RESOURCE_TOLERANCE)
        check(f"{name.replace('_kb', '')} back within 10 % of the baseline", after <= limit,
              f"baseline {before / scale:.1f}{unit}, {SETTLE_SECONDS} s after the load {after / scale:.1f}{unit} "
              f"({(after - before) / before * 100:+.1f} %), limit {limit / scale:.1f}{unit}")
    print(f"      threads: baseline {baseline.get('threads')}, after {final.get('threads')}; "
          f"/health: baseline {baseline.get('health_ms')} ms, after {final.get('health_ms')} ms, "
          f"worst during the run {max((s.get('health_ms') or 0) for s in report['samples']):.1f} ms")

    verdict = all(checks)
    print()
    print(f"VERDICT: {'PASS' if verdict else 'FAIL'} ({sum(checks)} of {len(checks)} checks passed)")
    sys.exit(0 if verdict else 1)


# ---------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    upstream = commands.add_parser("upstream", help="run the fake upstream")
    upstream.add_argument("--port-file", required=True)
    upstream.set_defaults(run=run_upstream)

    config = commands.add_parser("config", help="write the gateway's config")
    config.add_argument("--upstream-port", type=int, required=True)
    config.add_argument("--storage", required=True, help="path of the SQLite ledger")
    config.add_argument("--out", required=True)
    config.add_argument("--marker", type=int, default=0)
    config.set_defaults(run=run_config)

    drive = commands.add_parser("drive", help="run the load and write the report")
    drive.add_argument("--gateway", required=True, help="127.0.0.1:PORT")
    drive.add_argument("--pid", type=int, required=True)
    drive.add_argument("--config", required=True)
    drive.add_argument("--upstream-port", type=int, required=True)
    drive.add_argument("--storage", required=True)
    drive.add_argument("--minutes", type=float, default=10)
    drive.add_argument("--report", required=True)
    drive.set_defaults(run=run_drive)

    verdict = commands.add_parser("verdict", help="judge a finished run")
    verdict.add_argument("--report", required=True)
    verdict.add_argument("--storage", required=True)
    verdict.add_argument("--exit-code", type=int, required=True)
    verdict.add_argument("--gateway-bin", default="")
    verdict.set_defaults(run=run_verdict)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
