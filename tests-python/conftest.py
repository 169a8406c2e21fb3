"""Session fixtures: a fake OpenAI upstream and a MultiProdigy gateway in front of it.

The gateway binary comes from $MULTIPRODIGY_BIN, or <repo>/.build/debug/multiprodigy
(build it first with `swift build --product multiprodigy`).
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FAKE_SERVER = HERE / "fake_openai.py"
STARTUP_TIMEOUT = 60.0


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _read_port_line(process, timeout):
    """Reads the fake's `PORT <n>` line, giving up after `timeout` seconds."""
    result = {}

    def reader():
        line = process.stdout.readline()
        result["line"] = line

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    line = (result.get("line") or b"").decode("utf-8", "replace").strip()
    if not line.startswith("PORT "):
        return None
    return int(line.split()[1])


@pytest.fixture(scope="session")
def fake_upstream():
    """Starts fake_openai.py on a free port; yields its root URL, http://127.0.0.1:<port>."""
    process = subprocess.Popen(
        [sys.executable, str(FAKE_SERVER), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        port = _read_port_line(process, timeout=STARTUP_TIMEOUT)
        if port is None:
            _stop(process)
            stderr = process.stderr.read().decode("utf-8", "replace")
            pytest.fail(f"fake_openai.py did not start (exit code {process.returncode}):\n{stderr}")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def gateway(fake_upstream, tmp_path_factory):
    """Starts the gateway in front of the fake upstream; yields http://127.0.0.1:<port>/v1."""
    binary = Path(os.environ.get("MULTIPRODIGY_BIN") or REPO / ".build" / "debug" / "multiprodigy")
    if not binary.exists():
        pytest.fail(f"gateway binary {binary} not found: run `swift build --product multiprodigy` or set MULTIPRODIGY_BIN")

    workdir = tmp_path_factory.mktemp("gateway")
    config = workdir / "gateway.yaml"
    config.write_text(
        "\n".join(
            [
                "providers:",
                f'  fake: {{type: openai, base_url: "{fake_upstream}/v1", locality: local}}',
                "models:",
                "  small: {provider: fake, model: fake-small}",
                "routes:",
                "  auto: {policy: ordered, targets: [small]}",
                "",
            ]
        )
    )
    port = _free_port()
    stderr_file = tempfile.TemporaryFile(dir=workdir)
    env = dict(os.environ)
    env.pop("MULTIPRODIGY_MASTER_KEY", None)
    process = subprocess.Popen(
        [str(binary), "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=str(workdir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr_file,
        env=env,
    )

    def stderr_text():
        stderr_file.seek(0)
        return stderr_file.read().decode("utf-8", "replace")

    try:
        root = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        healthy = False
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the gateway exited with code {process.returncode} at start-up; stderr:\n{stderr_text()}")
            try:
                with urllib.request.urlopen(f"{root}/health", timeout=2) as response:
                    if response.status == 200:
                        healthy = True
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        if not healthy:
            pytest.fail(f"the gateway did not answer /health within {STARTUP_TIMEOUT:.0f} s; stderr:\n{stderr_text()}")
        yield f"{root}/v1"
    finally:
        _stop(process)
        stderr_file.close()
