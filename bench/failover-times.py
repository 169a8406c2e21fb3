#!/usr/bin/env python3
"""Time to the fallback for each upstream fault, streaming and not, through a real gateway.

Starts fake OpenAI-compatible upstreams on loopback (one per fault, and one healthy fallback),
runs the gateway with route `r` = [the faulty target, the fallback], sends one streaming and one
non-streaming request per fault, and prints a Markdown table: the time to the answer's first
content byte, the time to its end, the attempts the gateway reports (x-multiprodigy-attempts,
counted until the answer committed), the target that answered, and whether the answer was complete.

    python3 bench/failover-times.py [path/to/multiprodigy]

Limits: first_byte 2s, first_token 2s, stall 2s, total 30s (the silence-then-close row: first_byte
and first_token 10s, so that the close comes first); breakers never open, so each row stands alone.
The fallback does not declare `continuation`, so a stream cut after its first words is finished by
splicing. A stream's attempts are those until it committed (a continuation's are not in the header).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROLE = {"role": "assistant", "content": ""}


def chunk(delta, finish=None, cid="c1"):
    body = {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": "up",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return ("data: " + json.dumps(body) + "\n\n").encode()


USAGE = ("data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "up", "choices": [],
                                "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}) + "\n\n").encode()
WHOLE = [chunk(ROLE), chunk({"content": "Hello "}), chunk({"content": "wor"}), chunk({"content": "ld!"}), chunk({}, "stop"), USAGE]
HEAD_SSE = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def http_chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            return None
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        part = conn.recv(65536)
        if not part:
            break
        body += part
    return body


def respond(conn, fault, state):
    """Plays `fault` on one connection."""
    body = read_request(conn)
    if body is None:
        return
    state["requests"] += 1
    n = state["requests"]
    if fault == "healthy":
        conn.sendall(HEAD_SSE + b"".join(http_chunk(c) for c in WHOLE + [b"data: [DONE]\n\n"]) + b"0\r\n\r\n")
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
    elif fault == "first token after 5 s":
        time.sleep(5)
        for c in WHOLE:
            conn.sendall(http_chunk(c))
    elif fault == "cut after 'Hello wor'":
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
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    state = {"requests": 0}

    def loop():
        while True:
            conn, _ = listener.accept()

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


FAULTS = ["429 with Retry-After: 1", "429 with Retry-After: 60", "429 without Retry-After", "500", "reset before the head", "silent, no head",
          "silent 3 s, then closes", "head, then silent", "first token after 5 s", "cut after 'Hello wor'",
          "stalls after 'Hello wor'", "one malformed chunk", "no [DONE]"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/multiprodigy"
    fallback_port, fallback_state = serve("healthy")
    ports = {fault: serve(fault) for fault in FAULTS}
    lines = ["providers:",
             f'  fallback: {{type: openai, base_url: "http://127.0.0.1:{fallback_port}/v1", locality: local}}']
    models = ["models:", "  good: {provider: fallback, model: up}"]
    routes = ["routes:"]
    for index, fault in enumerate(FAULTS):
        lines.append(f'  p{index}: {{type: openai, base_url: "http://127.0.0.1:{ports[fault][0]}/v1", locality: local}}')
        models.append(f"  m{index}: {{provider: p{index}, model: up}}")
        # A silence that ends in a close shows only when first_byte is longer than the silence.
        longer = ", resilience: {timeouts: {first_byte: 10s, first_token: 10s}}" if "then closes" in fault else ""
        routes.append(f"  r{index}: {{targets: [m{index}, good]{longer}}}")
    folder = tempfile.mkdtemp()
    gateway_port = socket.socket()
    gateway_port.bind(("127.0.0.1", 0))
    port = gateway_port.getsockname()[1]
    gateway_port.close()
    config = "\n".join(lines + models + routes) + (
        f"\nserver: {{listen: 127.0.0.1:{port}}}\nstorage: sqlite:{folder}/ledger.db\n"
        "resilience: {timeouts: {connect: 2s, first_byte: 2s, first_token: 2s, stall: 2s, total: 30s},\n"
        # Every row on its own: no breaker opened by the rows before it.
        "  breaker: {failure_threshold: 1000, cooldown: 1s}}\n")
    path = os.path.join(folder, "gateway.yaml")
    with open(path, "w") as handle:
        handle.write(config)
    log = open(os.path.join(folder, "gateway.log"), "w")
    gateway = subprocess.Popen([binary, "serve", "--config", path, "--log-level", "warning"], stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        print("| fault | request | first content byte | end | attempts | answered by | complete |")
        print("|---|---|---|---|---|---|---|")
        for index, fault in enumerate(FAULTS):
            for stream in (True, False):
                print(measure(port, index, fault, stream), flush=True)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)


def measure(port, index, fault, stream):
    body = json.dumps({"model": f"r{index}", "messages": [{"role": "user", "content": "hi"}], "stream": stream}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=body,
                                     headers={"content-type": "application/json"})
    started = time.monotonic()
    first = None
    text = ""
    complete = False
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            attempts = reply.headers.get("x-multiprodigy-attempts", "?")
            model = reply.headers.get("x-multiprodigy-model", "?")
            if stream:
                for raw in reply:
                    line = raw.decode().strip()
                    if not line.startswith("data: "):
                        continue
                    data = line[6:]
                    if data == "[DONE]":
                        complete = True
                        break
                    event = json.loads(data)
                    if "error" in event:
                        break
                    for choice in event.get("choices", []):
                        content = choice.get("delta", {}).get("content")
                        if content:
                            if first is None:
                                first = time.monotonic() - started
                            text += content
            else:
                answer = json.loads(reply.read())
                first = time.monotonic() - started
                text = answer["choices"][0]["message"]["content"]
                complete = answer["choices"][0]["finish_reason"] == "stop"
    except urllib.error.HTTPError as error:
        return f"| {fault} | {'stream' if stream else 'whole'} | | {time.monotonic() - started:.2f} s | | HTTP {error.code} | no |"
    end = time.monotonic() - started
    whole = complete and text == "Hello world!"
    return (f"| {fault} | {'stream' if stream else 'whole'} | {first:.2f} s | {end:.2f} s | {attempts} | {model} | "
            f"{'yes' if whole else 'no: ' + repr(text)} |")


if __name__ == "__main__":
    main()
