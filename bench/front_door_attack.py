#!/usr/bin/env python3
"""The two front-door attacks of issue 14, against a running gateway, with its memory and
descriptors read from /proc before, during and after.

  200 connections send half a request head, then nothing;
  20 connections send a head without a key declaring 8,388,000 bytes, 8,000,000 of them, then nothing.

While they hold on, it times normal authenticated chat requests. Loopback only.

Usage: python3 bench/front_door_attack.py PORT PID MASTER_KEY [MODEL]
The gateway should have a master key and short limits to watch them work, such as
server: {head_timeout: 2s, body_timeout: 2s}.
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.request

port, pid, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
model = sys.argv[4] if len(sys.argv) > 4 else "small"


def rss_mb():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


def fds():
    return len(os.listdir(f"/proc/{pid}/fd"))


def chat_ms():
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions", data=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {key}"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as reply:
        reply.read()
    return (time.perf_counter() - start) * 1000


def report(label):
    print(f"{label:>7}: RSS {rss_mb():6.1f} MiB, {fds():4d} fds", flush=True)


for _ in range(20):
    chat_ms()
quiet = sorted(chat_ms() for _ in range(30))
report("before")
print(f"         chat requests: median {quiet[len(quiet) // 2]:.2f} ms, max {quiet[-1]:.2f} ms", flush=True)

half_heads = []
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: appl")
    half_heads.append(s)

body = b"x" * 8_000_000


def upload(s):
    try:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 8388000\r\n\r\n" + body)
    except OSError:
        pass


uploads = []
threads = []
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", port))
    uploads.append(s)
    thread = threading.Thread(target=upload, args=(s,), daemon=True)
    thread.start()
    threads.append(thread)

peak_rss, peak_fds, times = 0.0, 0, []
start = time.monotonic()
while time.monotonic() - start < 1.0:
    times.append(chat_ms())
    peak_rss, peak_fds = max(peak_rss, rss_mb()), max(peak_fds, fds())
report("during")
print(f"         peak RSS {peak_rss:.1f} MiB, peak {peak_fds} fds; {len(times)} chat requests, "
      f"median {sorted(times)[len(times) // 2]:.2f} ms, max {max(times):.2f} ms", flush=True)


def closed(s):
    s.setblocking(False)
    try:
        data = s.recv(65536)
        while data:
            data = s.recv(65536)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True


deadline = time.monotonic() + 15
pending = half_heads + uploads
while pending and time.monotonic() < deadline:
    pending = [s for s in pending if not closed(s)]
    peak_rss, peak_fds = max(peak_rss, rss_mb()), max(peak_fds, fds())
    time.sleep(0.05)
print(f"         all attacking connections closed by the gateway after {time.monotonic() - start:.1f} s"
      if not pending else f"         {len(pending)} still open after 15 s", flush=True)
time.sleep(0.5)
report("after")
for s in half_heads + uploads:
    s.close()
