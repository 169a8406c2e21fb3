#!/usr/bin/env python3
"""Time to the fallback for each upstream fault, streaming and not, through a real gateway.

Starts fake OpenAI-compatible upstreams on loopback (one per fault, and healthy fallbacks), runs the
gateway with route `r<i>` = [the faulty target `m<i>`, a fallback] per fault and its JSON access log
on, sends one streaming and one non-streaming ("whole") request per fault, and prints a Markdown
table, one row per request:

- first byte: time to the answer's first content byte, whichever target sent it;
- fallback's first byte: time to the first content byte that came from a target other than the
  faulty one. For a stream the faulty target had started ("cut/stalls after 'Hello wor'"), it is
  the first content delta the client received after the faulty target's 'Hello wor' (the first one
  that takes the text past it), that is the continuation's or the splice's first byte; `-` when no
  other target was asked, `none` when one was asked but sent the client nothing (`?`: no access line);
- end: time to the answer's end ([DONE], an in-band error, or the whole body);
- attempts: the x-multiprodigy-attempts header (counted until the answer committed) / the access
  log's `attempts` (every upstream call, a continuation's or a splice's included);
- path: the access log's `path` (every attempt in order as target:outcome), found by the request id
  the gateway returns (x-multiprodigy-request-id, the access line's `request_id`);
- upstream calls: the calls the fake upstreams received for this request, faulty + fallback (and
  how many of the fallback's carried a prefill), counted by the fakes themselves;
- answered by: x-multiprodigy-model (for a stream, the target that started the answer);
- result: `complete` ('Hello world!' exactly once, finish_reason `stop`, and for a stream [DONE]),
  `in-band error <code>` (with its message), `HTTP <status>`, `other text` or `incomplete`.

    python3 bench/failover-times.py [path/to/multiprodigy]

Limits: connect, first_byte, first_token, stall 2 s, total 30 s (the rows whose upstream closes
after a silence: first_byte and first_token 10 s, so that the close comes first); breakers never
open, so each row stands alone. The fallback `good` does not declare `continuation`, so a stream
cut after its first words is finished by splicing; `noprefill` declares it but refuses a prefill
with a 400 (then it is asked again without one and spliced); `other` answers 'Goodbye world!', so
a splice on it diverges. Standard library only, loopback only; every wait is bounded.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROLE = {"role": "assistant", "content": ""}
EXPECTED = "Hello world!"
# What a faulty target that starts answering sends before it fails.
STARTED = "Hello wor"


def chunk(delta, finish=None, cid="c1"):
    body = {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": "up",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return ("data: " + json.dumps(body) + "\n\n").encode()


USAGE = ("data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "up", "choices": [],
                                "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}) + "\n\n").encode()
WHOLE = [chunk(ROLE), chunk({"content": "Hello "}), chunk({"content": "wor"}), chunk({"content": "ld!"}), chunk({}, "stop"), USAGE]
OTHER = [chunk(ROLE), chunk({"content": "Goodbye "}), chunk({"content": "world!"}), chunk({}, "stop"), USAGE]
HEAD_SSE = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
PREFILL_REFUSED = json.dumps({"error": {"message": "This model does not support assistant message prefill.",
                                        "type": "invalid_request_error", "param": "messages", "code": None}}).encode()
# Bounds: a fake upstream's socket reads, its connections, the client's reads, the log's wait.
SOCKET_TIMEOUT = 60
MAX_CONNECTIONS = 1000
SERVE_FOR = 1800
CLIENT_TIMEOUT = 45
MAX_LINES = 1000
LOG_WAIT = 10


def http_chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def read_request(conn):
    """The body of one request (content-length or chunked), None when the peer closed first."""
    data = b""
    for _ in range(1000):
        if b"\r\n\r\n" in data:
            break
        part = conn.recv(65536)
        if not part:
            return None
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    for _ in range(10000):
        if (b"\r\n0\r\n\r\n" in b"\r\n" + body) if chunked else len(body) >= length:
            break
        part = conn.recv(65536)
        if not part:
            break
        body += part
    if not chunked:
        return body
    decoded = b""
    for _ in range(10000):
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        decoded += rest[:size]
        body = rest[size + 2:]
    return decoded


def ends_with_prefill(body):
    try:
        messages = json.loads(body).get("messages") or []
    except ValueError:
        return False
    return bool(messages) and messages[-1].get("role") == "assistant"


def respond(conn, fault, state):
    """Plays `fault` on one connection."""
    body = read_request(conn)
    if body is None:
        return
    prefill = ends_with_prefill(body)
    with state["lock"]:
        state["requests"] += 1
        state["prefills"] += 1 if prefill else 0
    if fault == "healthy, refuses a prefill" and prefill:
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
                     + b"content-length: %d\r\n\r\n" % len(PREFILL_REFUSED) + PREFILL_REFUSED)
        return
    if fault.startswith("healthy"):
        conn.sendall(HEAD_SSE + b"".join(http_chunk(c) for c in WHOLE + [b"data: [DONE]\n\n"]) + b"0\r\n\r\n")
        return
    if fault == "answers 'Goodbye world!'":
        conn.sendall(HEAD_SSE + b"".join(http_chunk(c) for c in OTHER + [b"data: [DONE]\n\n"]) + b"0\r\n\r\n")
        return
    if fault.startswith("429") or fault == "500":
        status = b"429 Too Many Requests" if fault.startswith("429") else b"500 Internal Server Error"
        extra = b"retry-after: 1\r\n" if fault.endswith("Retry-After: 1") else b"retry-after: 60\r\n" if "60" in fault else b""
        payload = b'{"error":{"message":"busy","type":"server_error"}}'
        conn.sendall(b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n" + extra
                     + b"content-length: %d\r\n\r\n" % len(payload) + payload)
        return
    if fault == "reset before the head":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return
    if fault == "silent, no head":
        time.sleep(40)
        return
    if fault == "silent 3 s, then closes":
        time.sleep(3)
        return
    conn.sendall(HEAD_SSE)
    if fault == "head, then silent":
        time.sleep(40)
    elif fault == "head, then silent 3 s, then closes":
        time.sleep(3)
    elif fault == "first token after 5 s":
        time.sleep(5)
        for c in WHOLE:
            conn.sendall(http_chunk(c))
    elif fault.startswith("cut after 'Hello wor'"):
        for c in WHOLE[:3]:
            conn.sendall(http_chunk(c))
    elif fault == "stalls after 'Hello wor'":
        for c in WHOLE[:3]:
            conn.sendall(http_chunk(c))
        time.sleep(40)
    elif fault == "one malformed chunk":
        for c in WHOLE[:2] + [b"data: {not json\n\n"] + WHOLE[2:] + [b"data: [DONE]\n\n"]:
            conn.sendall(http_chunk(c))
        conn.sendall(b"0\r\n\r\n")
    elif fault == "no [DONE]":
        for c in WHOLE:
            conn.sendall(http_chunk(c))
        conn.sendall(b"0\r\n\r\n")


def serve(fault):
    """A fake upstream playing `fault` on every connection; returns its port and its call counts."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(1)
    state = {"requests": 0, "prefills": 0, "lock": threading.Lock()}

    def loop():
        deadline = time.monotonic() + SERVE_FOR
        accepted = 0
        while accepted < MAX_CONNECTIONS and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            accepted += 1
            conn.settimeout(SOCKET_TIMEOUT)

            def handle(conn=conn):
                try:
                    respond(conn, fault, state)
                except OSError:
                    pass
                finally:
                    conn.close()
            threading.Thread(target=handle, daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return listener.getsockname()[1], state


# (row, what the faulty target does, the fallback). The first 13 are issue 19's rows, in its order.
ROWS = [(fault, fault, "good") for fault in [
    "429 with Retry-After: 1", "429 with Retry-After: 60", "429 without Retry-After", "500", "reset before the head",
    "silent, no head", "silent 3 s, then closes", "head, then silent", "first token after 5 s", "cut after 'Hello wor'",
    "stalls after 'Hello wor'", "one malformed chunk", "no [DONE]", "head, then silent 3 s, then closes"]] + [
    ("cut after 'Hello wor', next target refuses the prefill with a 400", "cut after 'Hello wor'", "noprefill"),
    ("cut after 'Hello wor', next target diverges when asked again", "cut after 'Hello wor'", "other"),
]
# The fallbacks: model name -> (what its fake does, the model's extra keys).
FALLBACKS = {"good": ("healthy", ""),
             "noprefill": ("healthy, refuses a prefill", ", supports: [continuation]"),
             "other": ("answers 'Goodbye world!'", "")}


class AccessLog:
    """The gateway's JSON access lines (logger multiprodigy.access), by request id."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.lines = {}

    def read(self):
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        # Only whole lines; a partly written one is read on the next call.
        complete = data.rfind(b"\n") + 1
        self.offset += complete
        for raw in data[:complete].splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("logger") == "multiprodigy.access" and "request_id" in line:
                self.lines[line["request_id"]] = line

    def find(self, request_id):
        """The access line of `request_id`, waiting up to LOG_WAIT seconds for it; None if it never came."""
        if request_id is None:
            return None
        deadline = time.monotonic() + LOG_WAIT
        while True:
            self.read()
            if request_id in self.lines or time.monotonic() >= deadline:
                return self.lines.get(request_id)
            time.sleep(0.05)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/multiprodigy"
    fallbacks = {name: serve(fault) for name, (fault, _) in FALLBACKS.items()}
    faulty = [serve(fault) for _, fault, _ in ROWS]
    lines = ["providers:"]
    models = ["models:"]
    routes = ["routes:"]
    for name, (_, extra) in FALLBACKS.items():
        lines.append(f'  p_{name}: {{type: openai, base_url: "http://127.0.0.1:{fallbacks[name][0]}/v1", locality: local}}')
        models.append(f"  {name}: {{provider: p_{name}, model: up{extra}}}")
    for index, (row, fault, fallback) in enumerate(ROWS):
        lines.append(f'  p{index}: {{type: openai, base_url: "http://127.0.0.1:{faulty[index][0]}/v1", locality: local}}')
        models.append(f"  m{index}: {{provider: p{index}, model: up}}")
        # A silence that ends in a close shows only when first_byte and first_token are longer than the silence.
        longer = ", resilience: {timeouts: {first_byte: 10s, first_token: 10s}}" if fault.endswith("then closes") else ""
        routes.append(f"  r{index}: {{targets: [m{index}, {fallback}]{longer}}}")
    folder = tempfile.mkdtemp()
    gateway_port = socket.socket()
    gateway_port.bind(("127.0.0.1", 0))
    port = gateway_port.getsockname()[1]
    gateway_port.close()
    config = "\n".join(lines + models + routes) + (
        f"\nserver: {{listen: 127.0.0.1:{port}, log_format: json}}\nstorage: sqlite:{folder}/ledger.db\n"
        "resilience: {timeouts: {connect: 2s, first_byte: 2s, first_token: 2s, stall: 2s, total: 30s},\n"
        # Every row on its own: no breaker opened by the rows before it.
        "  breaker: {failure_threshold: 1000, cooldown: 1s}}\n")
    path = os.path.join(folder, "gateway.yaml")
    with open(path, "w") as handle:
        handle.write(config)
    log_path = os.path.join(folder, "gateway.log")
    log = open(log_path, "w")
    gateway = subprocess.Popen([binary, "serve", "--config", path, "--log-level", "warning", "--log-format", "json"],
                               stdout=log, stderr=log)
    access = AccessLog(log_path)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        print(f"gateway: {binary}; its log: {log_path}", file=sys.stderr)
        print("| fault | request | first byte | fallback's first byte | end | attempts (header / log) | path (access log) "
              "| upstream calls (faulty + fallback) | answered by | result |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for index, (row, fault, fallback) in enumerate(ROWS):
            for stream in (True, False):
                print(measure(port, index, row, fault, stream, faulty[index][1], fallbacks[fallback][1], access), flush=True)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
        log.close()


def counts(state):
    with state["lock"]:
        return state["requests"], state["prefills"]


def cell(text, limit=90):
    """`text` for a Markdown table cell: one line, no bare `|`, at most `limit` characters."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def measure(port, index, row, fault, stream, faulty_state, fallback_state, access):
    body = json.dumps({"model": f"r{index}", "messages": [{"role": "user", "content": "hi"}], "stream": stream}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=body,
                                     headers={"content-type": "application/json"})
    faulty_before, fallback_before = counts(faulty_state), counts(fallback_state)
    # What the faulty target sends the client before it fails: the text past it is another target's.
    started_text = STARTED if fault in ("cut after 'Hello wor'", "stalls after 'Hello wor'") else ""
    started = time.monotonic()
    first = fallback_first = None
    text = ""
    finish = None
    done = False
    error = None
    status = None
    attempts = model = request_id = "?"
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT) as reply:
            attempts = reply.headers.get("x-multiprodigy-attempts", "?")
            model = reply.headers.get("x-multiprodigy-model", "?")
            request_id = reply.headers.get("x-multiprodigy-request-id")
            if stream:
                for _ in range(MAX_LINES):
                    if time.monotonic() - started > 2 * CLIENT_TIMEOUT:
                        break
                    raw = reply.readline()
                    if not raw:
                        break
                    line = raw.decode().strip()
                    if not line.startswith("data: "):
                        continue
                    data = line[6:]
                    if data == "[DONE]":
                        done = True
                        break
                    event = json.loads(data)
                    if "error" in event:
                        error = event["error"]
                        break
                    for choice in event.get("choices", []):
                        finish = choice.get("finish_reason") or finish
                        content = choice.get("delta", {}).get("content")
                        if content:
                            now = time.monotonic() - started
                            if first is None:
                                first = now
                            text += content
                            if fallback_first is None and len(text) > len(started_text):
                                fallback_first = now
            else:
                answer = json.loads(reply.read())
                first = fallback_first = time.monotonic() - started
                text = answer["choices"][0]["message"]["content"] or ""
                finish = answer["choices"][0]["finish_reason"]
                done = True
    except urllib.error.HTTPError as failure:
        status = failure.code
        attempts = failure.headers.get("x-multiprodigy-attempts", "?")
        model = failure.headers.get("x-multiprodigy-model", "?")
        request_id = failure.headers.get("x-multiprodigy-request-id")
        try:
            error = json.loads(failure.read()).get("error")
        except ValueError:
            error = None
    end = time.monotonic() - started
    line = access.find(request_id)
    faulty_after, fallback_after = counts(faulty_state), counts(fallback_state)
    faulty_calls = faulty_after[0] - faulty_before[0]
    fallback_calls = fallback_after[0] - fallback_before[0]
    fallback_prefills = fallback_after[1] - fallback_before[1]
    calls = f"{faulty_calls} + {fallback_calls}" + (f" ({fallback_prefills} with prefill)" if fallback_prefills else "")
    if line is None:
        path, log_attempts = "(no access line)", "?"
    else:
        path = " → ".join(line.get("path") or []) or "(empty)"
        log_attempts = line.get("attempts", "?")
    # A fallback was asked when a step of the path names a target other than the faulty one.
    asked_fallback = line is not None and any(not step.startswith(f"m{index}:") for step in line.get("path") or [])
    if status is not None:
        result = f"HTTP {status}" + (f": {cell(error.get('message', ''), 60)}" if isinstance(error, dict) else "")
    elif error is not None:
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message", "") if isinstance(error, dict) else error
        result = f"in-band error `{code}` after {text!r}: {cell(message, 300)}"
    elif text == EXPECTED and finish == "stop" and done:
        result = "complete"
    elif done and finish == "stop":
        result = f"other text: {text!r}"
    else:
        result = f"incomplete: {text!r}, finish_reason {finish}, {'[DONE]' if done else 'no [DONE]'}"

    def seconds(value):
        return f"{value:.2f} s" if value is not None else ""
    if line is None:
        fallback_cell = "?"
    elif not asked_fallback:
        fallback_cell = "-"
    else:
        fallback_cell = seconds(fallback_first) if fallback_first is not None else "none"
    return (f"| {row} | {'stream' if stream else 'whole'} | {seconds(first)} | {fallback_cell} | {end:.2f} s "
            f"| {attempts} / {log_attempts} | {cell(path, 200)} | {calls} | {model} | {cell(result, 400)} |")


if __name__ == "__main__":
    main()
