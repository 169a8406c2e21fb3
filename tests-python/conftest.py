"""Session fixtures: fake upstreams and MultiProdigy gateways in front of them.

- `fake_upstream`: fake_openai.py; `gateway`: a gateway with only that OpenAI-compatible provider.
- `native_fakes`: one fake_native.py per native protocol (gemini, ollama, anthropic, tei);
  `native_gateway`: a gateway with a provider of every type in front of them (see NATIVE_CONFIG).
  It is a separate gateway so that the tests of the OpenAI pass-through keep running on a build
  that does not know every provider type yet.
- `failover_gateway`: routes whose first target drops its streams mid-answer (FAILOVER_CONFIG).

The gateway binary comes from $MULTIPRODIGY_BIN, or <repo>/.build/debug/multiprodigy
(build it first with `swift build --product multiprodigy`).
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
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from fake_native import API_KEYS, PROTOCOLS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FAKE_SERVER = HERE / "fake_openai.py"
FAKE_NATIVE = HERE / "fake_native.py"
STARTUP_TIMEOUT = 60.0

# The native gateway's configuration: {gemini} etc. are the fakes' root URLs, {gemini_key} and
# {anthropic_key} the API keys the fakes accept. `small` gets Responses requests natively on the
# fake's own /v1/responses (the default for type openai); `small-chat`, on the same fake, through
# chat (`responses_api: translate`).
NATIVE_CONFIG = """\
providers:
  fake: {{type: openai, base_url: "{openai}/v1", locality: local}}
  fakechat: {{type: openai, base_url: "{openai}/v1", locality: local, options: {{responses_api: translate}}}}
  gem:  {{type: gemini, base_url: "{gemini}", api_key: "{gemini_key}", locality: cloud}}
  olla: {{type: ollama, base_url: "{ollama}", locality: local}}
  anth: {{type: anthropic, base_url: "{anthropic}", api_key: "{anthropic_key}", locality: cloud}}
  tei:  {{type: huggingface, base_url: "{tei}", locality: local}}
models:
  small:  {{provider: fake, model: fake-small}}
  small-chat: {{provider: fakechat, model: fake-small}}
  gem:    {{provider: gem, model: gemini-2.5-flash}}
  llama:  {{provider: olla, model: "llama3.2"}}
  claude: {{provider: anth, model: claude-sonnet-4-5}}
  bge:    {{provider: tei, model: BAAI/bge-small-en-v1.5}}
  nomic:  {{provider: olla, model: nomic-embed-text}}
routes:
  auto: {{policy: ordered, targets: [small]}}
  cloudfirst: {{policy: ordered, targets: [gem], fallback: [llama]}}
"""


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


@contextmanager
def _running_fake(arguments, label):
    """Runs a fake server (`python <arguments>`) until the block ends; yields its root URL,
    http://127.0.0.1:<port>. Its stderr goes to a temporary file, shown if it fails to start."""
    stderr_file = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
    )
    try:
        port = _read_port_line(process, timeout=STARTUP_TIMEOUT)
        if port is None:
            _stop(process)
            stderr_file.seek(0)
            stderr = stderr_file.read().decode("utf-8", "replace")
            pytest.fail(f"{label} did not start (exit code {process.returncode}):\n{stderr}")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)
        stderr_file.close()


@contextmanager
def _running_gateway(config_text, workdir, label, expect_clean_exit=False):
    """Runs the gateway on `config_text` until the block ends; yields http://127.0.0.1:<port>/v1
    once /health answers. A gateway that exits or stays silent at start-up fails the test with
    its stderr (a configuration error names the offending key). With `expect_clean_exit`, the
    gateway must also exit with 0 on SIGTERM, without a Swift runtime error in its stderr."""
    binary = Path(os.environ.get("MULTIPRODIGY_BIN") or REPO / ".build" / "debug" / "multiprodigy")
    if not binary.exists():
        pytest.fail(
            f"gateway binary {binary} not found: run `swift build --product multiprodigy` or set MULTIPRODIGY_BIN"
        )

    config = workdir / "gateway.yaml"
    config.write_text(config_text)
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
                pytest.fail(
                    f"{label} exited with code {process.returncode} at start-up; config:\n{config_text}\n"
                    f"stderr:\n{stderr_text()}"
                )
            try:
                with urllib.request.urlopen(f"{root}/health", timeout=2) as response:
                    if response.status == 200:
                        healthy = True
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        if not healthy:
            pytest.fail(f"{label} did not answer /health within {STARTUP_TIMEOUT:.0f} s; stderr:\n{stderr_text()}")
        yield f"{root}/v1"
        if expect_clean_exit:
            process.terminate()
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                code = None
            stderr = stderr_text()
            assert code == 0 and "Fatal error" not in stderr, f"{label} did not exit cleanly (code {code}):\n{stderr[-3000:]}"
    finally:
        _stop(process)
        stderr_file.close()


@pytest.fixture(scope="session")
def fake_upstream():
    """Starts fake_openai.py on a free port; yields its root URL, http://127.0.0.1:<port>."""
    with _running_fake([str(FAKE_SERVER), "0"], "fake_openai.py") as url:
        yield url


@pytest.fixture(scope="session")
def gateway(fake_upstream, tmp_path_factory):
    """Starts the gateway in front of the fake upstream; yields http://127.0.0.1:<port>/v1."""
    config = "\n".join(
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
    with _running_gateway(config, tmp_path_factory.mktemp("gateway"), "the gateway") as url:
        yield url


@pytest.fixture(scope="session")
def native_fakes():
    """Starts fake_native.py once per protocol; yields {"gemini": url, "ollama": url,
    "anthropic": url, "tei": url}, each a root URL http://127.0.0.1:<port>."""
    with ExitStack() as stack:
        yield {
            protocol: stack.enter_context(
                _running_fake([str(FAKE_NATIVE), protocol, "0"], f"fake_native.py {protocol}")
            )
            for protocol in PROTOCOLS
        }


@pytest.fixture(scope="session")
def native_gateway(fake_upstream, native_fakes, tmp_path_factory):
    """Starts a gateway with providers of every type (openai, gemini, ollama, anthropic,
    huggingface) in front of the fakes; yields http://127.0.0.1:<port>/v1."""
    keys = {"gemini_key": API_KEYS["gemini"], "anthropic_key": API_KEYS["anthropic"]}
    config = NATIVE_CONFIG.format(openai=fake_upstream, **native_fakes, **keys)
    label = "the native gateway (providers of types openai, gemini, ollama, anthropic, huggingface)"
    with _running_gateway(config, tmp_path_factory.mktemp("native-gateway"), label) as url:
        yield url


MASTER_KEY = "sdk-test-master-key"


@pytest.fixture(scope="session")
def keyed_gateway(fake_upstream, tmp_path_factory):
    """A gateway with a master key in front of the fake upstream, declared as a priced cloud model
    (2 USD per 1M prompt tokens, 8 per 1M answer tokens); yields (http://127.0.0.1:<port>/v1, root URL)."""
    config = "\n".join(
        [
            f"auth: {{master_key: {MASTER_KEY}}}",
            "providers:",
            f'  fake: {{type: openai, base_url: "{fake_upstream}/v1", locality: cloud}}',
            "models:",
            "  priced: {provider: fake, model: fake-priced, price: {input: 2, output: 8}}",
            "",
        ]
    )
    with _running_gateway(config, tmp_path_factory.mktemp("keyed-gateway"), "the keyed gateway") as url:
        yield url, url[: -len("/v1")]


# The failover gateway's configuration: {openai} is fake_openai.py's root URL, {anthropic} the
# Anthropic fake's and {anthropic_key} its key. `cutter` drops its streams after three content
# chunks (fake_openai.py's fault mode); `finisher` can continue them, `plain` cannot. `fake` asks
# through chat even for Responses requests (`responses_api: translate`), so that its streams can be
# continued; `native-cutter` (on `fakenative`, fake_openai.py's own /v1/responses) and
# `claude-cutter` (the Anthropic fake, cut after two text deltas) pass Responses and Messages
# streams through natively, which cannot be continued, even by `finisher` behind them. The breaker
# is kept closed so that every test reaches the cutter first.
FAILOVER_CONFIG = """\
providers:
  fake: {{type: openai, base_url: "{openai}/v1", locality: local, options: {{responses_api: translate}}}}
  fakenative: {{type: openai, base_url: "{openai}/v1", locality: local}}
  anth: {{type: anthropic, base_url: "{anthropic}", api_key: "{anthropic_key}", locality: local}}
models:
  cutter:   {{provider: fake, model: fake-cut-after-3}}
  finisher: {{provider: fake, model: fake-small, supports: [continuation]}}
  plain:    {{provider: fake, model: fake-small}}
  native-cutter: {{provider: fakenative, model: fake-cut-after-3}}
  claude-cutter: {{provider: anth, model: claude-sonnet-4-5-cut-after-2}}
routes:
  continued:   {{policy: ordered, targets: [cutter, finisher]}}
  uncontinued: {{policy: ordered, targets: [cutter, plain], resilience: {{splice: false}}}}
  spliced:     {{policy: ordered, targets: [cutter, plain]}}
  native-cut:  {{policy: ordered, targets: [native-cutter, finisher]}}
  claude-cut:  {{policy: ordered, targets: [claude-cutter, finisher]}}
resilience:
  breaker: {{failure_threshold: 1000, cooldown: 1s}}
"""


@pytest.fixture(scope="session")
def failover_gateway(fake_upstream, native_fakes, tmp_path_factory):
    """A gateway whose routes start on a target that cuts its streams mid-answer (FAILOVER_CONFIG);
    yields http://127.0.0.1:<port>/v1."""
    config = FAILOVER_CONFIG.format(
        openai=fake_upstream, anthropic=native_fakes["anthropic"], anthropic_key=API_KEYS["anthropic"]
    )
    with _running_gateway(config, tmp_path_factory.mktemp("failover-gateway"), "the failover gateway") as url:
        yield url


class UpstreamLog:
    """The chat requests one fake received (its GET /__requests: fake_openai.py and fake_native.py
    record them in the same shape), from a mark on."""

    def __init__(self, url, chat_paths):
        self.url = url
        self.chat_paths = chat_paths

    def all(self):
        with urllib.request.urlopen(f"{self.url}/__requests", timeout=10) as response:
            return json.loads(response.read())

    def mark(self):
        """A position to look for later requests from."""
        return len(self.all())

    def chats_since(self, mark):
        """The chat requests received after `mark`, oldest first."""
        return [
            request
            for request in self.all()[mark:]
            if request["method"] == "POST" and any(request["path"].startswith(path) for path in self.chat_paths)
        ]

    def last_chat_since(self, mark):
        chats = self.chats_since(mark)
        assert chats, f"{self.url} received no chat request"
        return chats[-1]


@pytest.fixture(scope="session")
def upstream_logs(fake_upstream, native_fakes):
    """{"openai": UpstreamLog, "openai-responses": …, "gemini": …, "anthropic": …}: what the fakes
    received: fake_openai.py's chat requests ("openai") and its native Responses requests
    ("openai-responses"), the Gemini fake's, and the Anthropic fake's Messages requests (native or
    translated alike)."""
    return {
        "openai": UpstreamLog(fake_upstream, ("/v1/chat/completions",)),
        "openai-responses": UpstreamLog(fake_upstream, ("/v1/responses",)),
        "gemini": UpstreamLog(native_fakes["gemini"], ("/v1beta/models/",)),
        "anthropic": UpstreamLog(native_fakes["anthropic"], ("/v1/messages",)),
    }
