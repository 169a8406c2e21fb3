"""The dashboard at /ui, in a real browser: Debian's Chromium driven by Selenium (`.ci/run` installs both).

A gateway with a master key runs in front of fake_openai.py and of a local upstream that answers
every chat with a 500. The tests log in through the form (a wrong key is refused; /ui without a
session goes to the login page), run a scripted burst through the gateway (plain answers, streams,
a failover from the 500 upstream, a stream cut and continued, a budget refusal, an unknown model),
then check that the overview's numbers equal what the usage ledger (the SQLite file) and `/metrics`
say. They create a key through the Keys page, use its secret (shown once) for a real answer,
revoke it through the page and see the same secret refused; explain a prompt on the route
explainer and see the plan and an exclusion; check the session cookie's attributes, that the API
refuses a write without the CSRF header, and that logging out ends the session. Every page is
opened at a laptop's and a phone's size: no JavaScript error or CSP violation in the console, no
horizontal overflow at 390 px, and a screenshot of each under tests-python/output/dashboard/ (kept,
git-ignored) for people to look at.
"""

import base64
import http.cookies
import json
import math
import re
import shutil
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import HERE, MASTER_KEY, _running_gateway

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

OUTPUT = HERE / "output" / "dashboard"
PAGES = ["overview", "targets", "requests", "keys", "route"]
SIZES = {"desktop": (1366, 1000), "phone": (390, 844)}
PLAIN_REQUESTS = 55  # enough, with the rest of the burst, for a second page of requests (50 a page)


# ---------- A local upstream that fails every chat with a 500 ----------


class _FailingUpstream(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # the local provider's health probe: it is up
        self._send(200, {"object": "list", "data": [{"id": "broken-model", "object": "model"}]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._send(500, {"error": {"message": "upstream exploded", "type": "server_error", "code": None}})


@pytest.fixture(scope="module")
def failing_upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingUpstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def dashboard_gateway(fake_upstream, failing_upstream, tmp_path_factory):
    """Yields (root URL, path of the ledger's SQLite file)."""
    config = "\n".join(
        [
            f"auth: {{master_key: {MASTER_KEY}}}",
            "storage: sqlite:./ledger.db",
            "providers:",
            f'  fake: {{type: openai, base_url: "{fake_upstream}/v1", locality: cloud}}',
            f'  lokal: {{type: openai, base_url: "{fake_upstream}/v1", locality: local}}',
            f'  broken: {{type: openai, base_url: "{failing_upstream}/v1", locality: cloud}}',
            "models:",
            "  priced: {provider: fake, model: fake-small, price: {input: 2, output: 8}}",
            "  here: {provider: lokal, model: fake-small}",
            "  bad: {provider: broken, model: broken-model, price: {input: 1, output: 1}}",
            "  cutter: {provider: fake, model: fake-cut-after-3, price: {input: 2, output: 8}}",
            "  finisher: {provider: fake, model: fake-small, supports: [continuation], price: {input: 2, output: 8}}",
            "routes:",
            "  r: {targets: [bad, priced]}",
            "  c: {targets: [cutter, finisher]}",
            "  mixed: {targets: [priced, here]}",
            "resilience:",
            "  breaker: {failure_threshold: 1000, cooldown: 1s}",
            "",
        ]
    )
    workdir = tmp_path_factory.mktemp("dashboard")
    with _running_gateway(config, workdir, "the dashboard gateway") as url:
        yield url[: -len("/v1")], workdir / "ledger.db"


# ---------- HTTP helpers (no redirects followed, cookies by hand) ----------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _http(method, url, body=None, headers=None, form=None):
    """(status, headers, body bytes); never follows a redirect."""
    headers = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers.setdefault("content-type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _chat(root, model, key, stream=False, content="tell me about the weather today"):
    body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": content}]}
    status, _, _ = _http("POST", f"{root}/v1/chat/completions", body, {"authorization": f"Bearer {key}"})
    return status


def _metrics(root):
    """{(name, frozenset(labels)): value} from /metrics."""
    status, _, body = _http("GET", f"{root}/metrics", headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert status == 200, body[:300]
    samples = {}
    line_pattern = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
    label_pattern = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        match = line_pattern.match(line)
        if not match:
            continue
        labels = frozenset(label_pattern.findall(match.group(3) or ""))
        samples[(match.group(1), labels)] = float(match.group(4))
    return samples


def _metric_sum(samples, name, **where):
    return sum(
        value
        for (metric, labels), value in samples.items()
        if metric == name and all((key, wanted) in labels for key, wanted in where.items())
    )


# ---------- The ledger ----------


def _ledger_rows(database):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("SELECT * FROM usage ORDER BY id")]
    finally:
        connection.close()


def _wait_for_ledger(root, database, at_least):
    """Waits until the journal is committed and the row count holds still; returns the rows."""
    deadline = time.monotonic() + 30
    previous = -1
    while time.monotonic() < deadline:
        backlog = _metric_sum(_metrics(root), "multiprodigy_usage_journal_backlog_rows")
        rows = _ledger_rows(database) if database.exists() else []
        if backlog == 0 and len(rows) >= at_least and len(rows) == previous:
            return rows
        previous = len(rows)
        time.sleep(0.3)
    pytest.fail(f"the ledger did not settle with at least {at_least} rows within 30 s (has {previous})")


def _percentile_candidates(values, fraction):
    """The usual definitions of a percentile of `values`: nearest rank, linear interpolation, lower, upper."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return []
    position = (n - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    interpolated = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    nearest = ordered[max(0, math.ceil(fraction * n) - 1)]
    return [nearest, interpolated, ordered[low], ordered[high], ordered[min(n - 1, int(fraction * n))]]


def _close(a, b, relative=1e-6, absolute=1e-9):
    return a is not None and b is not None and abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))


def _path(row):
    if not row.get("path"):
        return []
    return json.loads(row["path"])


def _distinct_targets(steps):
    targets = []
    for step in steps:
        target = step.rsplit(":", 1)[0]
        if not step.startswith("…") and target not in targets:
            targets.append(target)
    return targets


# ---------- The browser ----------


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    assert chromium and chromedriver, "chromium and chromium-driver are not installed (`.ci/run` installs Debian's packages)"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (HERE / "output" / ".gitignore").write_text("# Test output (screenshots): kept for people to look at, never committed.\n*\n")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1366,1000", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver is named explicitly, so that Selenium Manager never tries to download one.
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _console_problems(driver):
    """The console's SEVERE entries since the last call (JavaScript errors, CSP violations, failed loads)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _assert_clean_console(driver, where):
    problems = _console_problems(driver)
    assert not problems, f"{where}: the console has errors: {json.dumps(problems, indent=1)}"


def _wait(driver, condition, timeout=15, message=""):
    # A live refresh or a navigation may replace an element between finding and reading it: look again.
    ignored = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=ignored).until(condition, message)


def _login(driver, root, key=MASTER_KEY):
    driver.delete_all_cookies()
    driver.get(f"{root}/ui/login")
    field = driver.find_element(By.ID, "key")
    field.clear()
    field.send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "form[action='/ui/login'] button[type=submit]").click()


def _logged_in(driver, root):
    _login(driver, root)
    _wait(driver, lambda d: d.current_url.rstrip("/").endswith("/ui") or "/ui/#" in d.current_url or d.current_url.endswith("/ui/"), message="login did not reach /ui/")
    _open(driver, root, "overview")


def _open(driver, root, page):
    """Opens a page of the dashboard and waits for its data to be shown."""
    if "/ui/" not in driver.current_url or "/ui/login" in driver.current_url:
        driver.get(f"{root}/ui/#{page}")
    else:
        driver.execute_script("window.location.hash = arguments[0]", page)
    _wait(driver, lambda d: d.execute_script("return document.body.dataset.loaded") == page, message=f"page {page} did not load")
    _wait(driver, lambda d: d.execute_script("return document.getElementById('error-banner').hidden"), message=f"page {page} shows an error")


def _refresh(driver):
    driver.execute_script("return window.mpDashboard.refresh()")


def _value(driver, testid):
    text = driver.find_element(By.CSS_SELECTOR, f"[data-testid='{testid}']").get_attribute("data-value")
    return float(text) if text not in (None, "") else None


_ROWS_SCRIPT = """
return Array.from(document.querySelectorAll(arguments[0])).map((tr) => ({
  data: Object.assign({}, tr.dataset),
  text: tr.innerText,
  cells: Object.fromEntries(Array.from(tr.querySelectorAll('[data-col]')).map((td) => [td.dataset.col, td.dataset.value])),
  testids: Object.fromEntries(Array.from(tr.querySelectorAll('[data-testid]')).map((node) => [node.dataset.testid, node.innerText])),
}));
"""


def _rows(driver, selector):
    """The rows `selector` matches, read in one script call (the live refresh replaces them every 5 s):
    [{"data": dataset, "text": innerText, "cells": {data-col: data-value}, "testids": {data-testid: innerText}}]."""
    return driver.execute_script(_ROWS_SCRIPT, selector)


def _screenshot(driver, name):
    """The whole page, beyond the window (Chromium's DevTools), else the window."""
    path = OUTPUT / f"{name}.png"
    try:
        metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width = driver.execute_script("return window.innerWidth")
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}},
        )
        path.write_bytes(base64.b64decode(shot["data"]))
    except Exception:  # noqa: BLE001 — a plain screenshot is still worth having
        driver.save_screenshot(str(path))


def _session_cookie(driver):
    cookie = driver.get_cookie("mp_session")
    assert cookie, f"no mp_session cookie in the browser: {driver.get_cookies()}"
    return cookie


def _api(root, cookie, path, method="GET", body=None, csrf=None):
    headers = {"cookie": f"mp_session={cookie['value']}"}
    if csrf:
        headers["x-csrf-token"] = csrf
    return _http(method, f"{root}{path}", body, headers)


# ---------- The tests, in order: they share the gateway, its traffic and the browser ----------


ASSETS = HERE.parent / "Sources" / "MultiProdigyServer" / "DashboardAssets"


def test_the_assets_are_small_and_fit_the_content_security_policy():
    """No inline script or style, no eval, no external URL; small enough to compile into the binary."""
    files = {name: (ASSETS / name).read_text() for name in ("login.html", "app.html", "app.js", "app.css")}
    assert sum(len(text.encode()) for text in files.values()) < 100_000
    for name in ("login.html", "app.html"):
        html = files[name]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"{name}: inline script"
        assert not re.search(r"\sstyle=|<style", html), f"{name}: inline style"
        assert not re.search(r"\son[a-z]+=", html), f"{name}: inline event handler"
    for name, text in files.items():
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text) and "url(http" not in text and "@import" not in text, f"{name}: external resource"
    script = files["app.js"]
    assert "eval(" not in script and "new Function" not in script and ".innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "setAttribute('style'" not in script


def test_without_a_master_key_there_is_no_dashboard(gateway):
    root = gateway[: -len("/v1")]
    status, _, body = _http("GET", f"{root}/ui")
    assert status == 404 and b"master_key" in body, (status, body)
    assert _http("GET", f"{root}/ui/login")[0] == 404
    assert _http("GET", f"{root}/ui/api/overview")[0] in (401, 404)


def test_ui_without_a_session_goes_to_login_and_a_wrong_key_is_refused(dashboard_gateway, browser):
    root, _ = dashboard_gateway
    status, headers, _ = _http("GET", f"{root}/ui")
    assert status in (302, 303) and headers["location"].endswith("/ui/login"), (status, dict(headers))
    status, headers, _ = _http("GET", f"{root}/ui/api/overview")
    assert status == 401, status

    browser.delete_all_cookies()
    browser.get(f"{root}/ui/")
    _wait(browser, lambda d: urllib.parse.urlsplit(d.current_url).path == "/ui/login", message="/ui without a session did not go to the login page")
    _screenshot(browser, "login-desktop")
    _assert_clean_console(browser, "login page")

    _login(browser, root, key="not-the-master-key")
    # The refused form comes back after the gateway's 500 ms wait, as a new page with the message.
    _wait(browser, lambda d: d.execute_script("const m = document.getElementById('login-message'); return m && m.textContent.trim()"),
          message="no refusal message")
    assert browser.get_cookie("mp_session") is None
    assert browser.find_element(By.ID, "key").is_displayed()
    # The refused login is a 401 document, which Chromium reports as a failed load; nothing else may be there.
    problems = [entry for entry in _console_problems(browser) if "401" not in entry["message"]]
    assert not problems, problems
    _screenshot(browser, "login-refused-desktop")


def test_login_sets_an_httponly_samesite_strict_cookie_and_the_api_wants_the_csrf_header(dashboard_gateway, browser):
    root, _ = dashboard_gateway
    # The form's double-submit token and the login cookie, as the browser gets them.
    status, headers, page = _http("GET", f"{root}/ui/login")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    token = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    jar = http.cookies.SimpleCookie()
    for header in headers.get_all("set-cookie") or []:
        jar.load(header)
    cookie_header = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
    status, headers, _ = _http("POST", f"{root}/ui/login", form={"key": MASTER_KEY, "csrf": token}, headers={"cookie": cookie_header})
    assert status == 303 and headers["location"].endswith("/ui/"), (status, dict(headers))
    session = next(header for header in headers.get_all("set-cookie") if header.startswith("mp_session="))
    attributes = [part.strip().lower() for part in session.split(";")]
    assert "httponly" in attributes, session
    assert "samesite=strict" in attributes, session
    assert "path=/ui" in attributes, session

    # In the browser too. (A late report of the previous test's refused login, a 401 document, is expected.)
    assert not [entry for entry in _console_problems(browser) if "/ui/login" not in entry["message"] or "401" not in entry["message"]]
    _logged_in(browser, root)
    cookie = _session_cookie(browser)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict", cookie
    assert browser.execute_script("return document.cookie").find("mp_session") == -1, "the session cookie is visible to scripts"
    csrf = browser.find_element(By.CSS_SELECTOR, "meta[name='csrf-token']").get_attribute("content")
    assert csrf and "{{" not in csrf

    # A write without the CSRF header, or with a wrong one, is refused; the same with it passes.
    status, _, body = _api(root, cookie, "/ui/api/keys", "POST", {"name": "no-csrf"})
    assert status == 403 and json.loads(body)["error"]["code"] == "csrf_failed", (status, body)
    status, _, body = _api(root, cookie, "/ui/api/keys", "POST", {"name": "no-csrf"}, csrf="forged")
    assert status == 403, (status, body)
    status, _, body = _api(root, cookie, "/ui/api/keys")
    assert status == 200 and "no-csrf" not in body.decode(), (status, body)
    _assert_clean_console(browser, "after login")


def _burst(root):
    """The scripted traffic; returns the statuses."""
    master = {"authorization": f"Bearer {MASTER_KEY}"}
    status, _, body = _http("POST", f"{root}/admin/keys", {"name": "team", "budget": "100usd/month"}, master)
    assert status == 201, body
    team = json.loads(body)["key"]
    status, _, body = _http("POST", f"{root}/admin/keys", {"name": "tiny", "budget": "0.000001usd/month"}, master)
    assert status == 201, body
    tiny = json.loads(body)["key"]
    statuses = []
    for index in range(PLAIN_REQUESTS):
        statuses.append(_chat(root, "priced", MASTER_KEY, stream=index % 5 == 0))
    for index in range(4):  # the first target answers 500: every one fails over to `priced`
        statuses.append(_chat(root, "r", team, stream=index % 2 == 1))
    statuses.append(_chat(root, "c", team, stream=True))  # cut after 3 chunks, continued on `finisher`
    statuses.append(_chat(root, "priced", tiny))  # spends the tiny budget
    statuses.append(_chat(root, "priced", tiny))  # refused: 429 budget_exceeded
    statuses.append(_chat(root, "no-such-model", team))  # 404
    assert statuses == [200] * (PLAIN_REQUESTS + 6) + [429, 404], statuses
    return statuses


def test_overview_numbers_equal_the_ledger_and_metrics_after_a_burst(dashboard_gateway, browser):
    root, database = dashboard_gateway
    _logged_in(browser, root)
    statuses = _burst(root)
    rows = _wait_for_ledger(root, database, at_least=statuses.count(200))
    metrics = _metrics(root)

    _open(browser, root, "overview")
    Select(browser.find_element(By.ID, "ov-window")).select_by_value("15m")
    _refresh(browser)
    _wait(browser, lambda d: _value(d, "total-requests") == len(rows), message=f"the overview never showed {len(rows)} requests")
    page = {testid: _value(browser, testid) for testid in (
        "total-requests", "requests-per-second", "total-errors", "error-rate", "latency-p50", "latency-p95",
        "ttft-p50", "ttft-p95", "total-tokens", "prompt-tokens", "completion-tokens", "total-cost",
        "total-failovers", "total-continuations", "since-start-requests", "since-start-failovers", "since-start-continuations")}
    _screenshot(browser, "overview-after-burst-desktop")

    # Against the ledger (every row is inside the last 15 minutes: the gateway is fresh).
    errors = [row for row in rows if row["status"] >= 400]
    assert page["total-requests"] == len(rows)
    assert page["total-errors"] == len(errors) >= 2, (page["total-errors"], [row["status"] for row in rows])
    assert _close(page["error-rate"], len(errors) / len(rows)), page["error-rate"]
    assert _close(page["requests-per-second"], len(rows) / 900, relative=1e-3), page["requests-per-second"]
    prompt = sum(row["prompt_tokens"] for row in rows)
    completion = sum(row["completion_tokens"] for row in rows)
    assert page["prompt-tokens"] == prompt and page["completion-tokens"] == completion
    assert page["total-tokens"] == prompt + completion
    cost = sum(row["cost_usd"] for row in rows)
    assert cost > 0 and _close(page["total-cost"], cost), (page["total-cost"], cost)
    latencies = [row["latency_seconds"] for row in rows]
    ttfts = [row["ttft_seconds"] for row in rows if row["ttft_seconds"] is not None]
    for testid, values, fraction in (("latency-p50", latencies, 0.5), ("latency-p95", latencies, 0.95), ("ttft-p50", ttfts, 0.5), ("ttft-p95", ttfts, 0.95)):
        candidates = _percentile_candidates(values, fraction)
        assert any(_close(page[testid], candidate, relative=1e-3) for candidate in candidates), (testid, page[testid], candidates)
    failover_rows = [row for row in rows if len(_distinct_targets(_path(row))) > 1]
    assert len(failover_rows) >= 4, [row.get("path") for row in rows]
    assert page["total-failovers"] == len(failover_rows), (page["total-failovers"], [row.get("path") for row in failover_rows])
    assert page["total-continuations"] >= 1, page["total-continuations"]

    # Against /metrics: the gateway is fresh, so its counters since start hold the same traffic as the window.
    assert page["total-requests"] == _metric_sum(metrics, "multiprodigy_requests_total"), "a request has no ledger row, or a row no count"
    assert page["total-failovers"] == _metric_sum(metrics, "multiprodigy_failovers_total")
    assert page["total-continuations"] == _metric_sum(metrics, "multiprodigy_continuations_total")
    assert page["total-tokens"] == _metric_sum(metrics, "multiprodigy_tokens_total")
    assert _close(page["total-cost"], _metric_sum(metrics, "multiprodigy_cost_usd_total"), relative=1e-4)
    assert page["total-errors"] == _metric_sum(metrics, "multiprodigy_requests_total", status="4xx") + _metric_sum(
        metrics, "multiprodigy_requests_total", status="5xx"
    )

    # The tables per route, model, provider and key: each row's requests, errors, tokens and cost.
    for dimension, column in (("route", "route"), ("model", "model"), ("provider", "provider"), ("key", "key_name")):
        shown = {row["data"]["name"]: row["cells"] for row in _rows(browser, f"[data-testid='by-{dimension}'] tbody tr[data-name]")}
        for name in {row[column] for row in rows if row[column]}:
            group = [row for row in rows if row[column] == name]
            assert name in shown, f"by {dimension}: {name} missing from {sorted(shown)}"
            assert float(shown[name]["requests"]) == len(group), (dimension, name, shown[name])
            assert float(shown[name]["errors"]) == sum(1 for row in group if row["status"] >= 400), (dimension, name, shown[name])
            assert float(shown[name]["tokens"]) == sum(row["prompt_tokens"] + row["completion_tokens"] for row in group)
            assert _close(float(shown[name]["cost_usd"]), sum(row["cost_usd"] for row in group), absolute=1e-12), (dimension, name)
    # Per route against the counters too (requests_total by its route label).
    by_route = {row["data"]["name"]: row["cells"] for row in _rows(browser, "[data-testid='by-route'] tbody tr[data-name]")}
    for route in ("r", "c", "priced"):
        assert float(by_route[route]["requests"]) == _metric_sum(metrics, "multiprodigy_requests_total", route=route), route

    # The longer windows hold the same traffic, in their own buckets.
    for window, buckets in (("24h", 48), ("7d", 42)):
        Select(browser.find_element(By.ID, "ov-window")).select_by_value(window)
        _wait(browser, lambda d: d.execute_script("return document.getElementById('overview-range').textContent").endswith(
            "30 min buckets" if window == "24h" else "4 h buckets"), message=f"window {window} not shown")
        assert _value(browser, "total-requests") == len(rows)
        assert _close(_value(browser, "requests-per-second"), len(rows) / (86400 if window == "24h" else 604800), relative=1e-3)
        points = browser.execute_script("return document.querySelectorAll('#chart-requests circle.dot1').length")
        assert points == buckets, (window, points)
    Select(browser.find_element(By.ID, "ov-window")).select_by_value("15m")
    _wait(browser, lambda d: d.execute_script("return document.getElementById('overview-range').textContent").endswith("30 s buckets"))

    # The filters: the key `tiny` alone.
    Select(browser.find_element(By.ID, "ov-key")).select_by_value("tiny")
    _wait(browser, lambda d: _value(d, "total-requests") == sum(1 for row in rows if row["key_name"] == "tiny"), message="the key filter did not apply")
    assert _value(browser, "total-errors") == 1
    Select(browser.find_element(By.ID, "ov-key")).select_by_value("")
    _wait(browser, lambda d: _value(d, "total-requests") == len(rows))
    # The charts: SVG with a title and an accessible name, one per question.
    charts = browser.execute_script(
        "return Array.from(document.querySelectorAll('.chart svg')).map((svg) => [svg.getAttribute('role'), "
        "svg.getAttribute('aria-label'), svg.querySelector('title') && svg.querySelector('title').textContent, "
        "svg.querySelectorAll('circle, rect').length])"
    )
    assert len(charts) == 3, charts
    assert all(role == "img" and label and title and marks > 0 for role, label, title, marks in charts), charts
    _assert_clean_console(browser, "overview")


def test_overview_shows_this_replicas_counters_since_start_as_metrics_has_them(dashboard_gateway, browser):
    """The contract's `since_start`: this replica's Prometheus counters (requests, failovers, continuations)."""
    root, _ = dashboard_gateway
    _logged_in(browser, root)
    _refresh(browser)
    metrics = _metrics(root)
    shown = {name: _value(browser, f"since-start-{name}") for name in ("requests", "failovers", "continuations")}
    assert shown == {
        "requests": _metric_sum(metrics, "multiprodigy_requests_total"),
        "failovers": _metric_sum(metrics, "multiprodigy_failovers_total"),
        "continuations": _metric_sum(metrics, "multiprodigy_continuations_total"),
    }, shown


def test_requests_page_shows_the_ledger_with_failover_paths_filters_and_paging(dashboard_gateway, browser):
    root, database = dashboard_gateway
    rows = _ledger_rows(database)
    _logged_in(browser, root)
    _open(browser, root, "requests")
    shown = _rows(browser, "#requests-table tbody tr[data-id]")
    assert len(shown) == 50, len(shown)
    assert int(shown[0]["data"]["id"]) == rows[-1]["id"], "the newest row first"
    text = "\n".join(row["text"] for row in _rows(browser, "#requests-table tbody tr[data-id]"))
    assert "✗" in text and "→" in text and "✓" in text, "no failover path shown"
    assert "429" in text and "404" in text
    assert "tell me about the weather" not in browser.page_source, "a prompt is shown"
    # Older, then Newer.
    browser.find_element(By.ID, "rq-older").click()
    ids = lambda: [int(row["data"]["id"]) for row in _rows(browser, "#requests-table tbody tr[data-id]")]  # noqa: E731
    _wait(browser, lambda d: ids() and ids()[0] < rows[-50]["id"], message="Older did not page")
    assert ids() == [row["id"] for row in reversed(rows[:-50])], ids()
    assert browser.find_element(By.ID, "rq-older").get_attribute("disabled") is not None, "an Older button past the oldest row"
    browser.find_element(By.ID, "rq-newer").click()
    _wait(browser, lambda d: ids() and ids()[0] == rows[-1]["id"], message="Newer did not page back")
    # Errors only.
    Select(browser.find_element(By.ID, "rq-status")).select_by_value("error")
    errors = [row for row in rows if row["status"] >= 400]
    _wait(browser, lambda d: len(ids()) == len(errors), message="the status filter did not apply")
    statuses = [int(row["testids"]["status"]) for row in _rows(browser, "#requests-table tbody tr[data-id]")]
    assert statuses and all(status >= 400 for status in statuses), statuses
    Select(browser.find_element(By.ID, "rq-status")).select_by_value("")
    # The route `r`: every row failed over from the 500 target.
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#rq-route option[value='r']"), message="the route filter has no `r`")
    Select(browser.find_element(By.ID, "rq-route")).select_by_value("r")
    r_rows = [row for row in rows if row["route"] == "r"]
    _wait(browser, lambda d: len(ids()) == len(r_rows), message="the route filter did not apply")
    paths = [row["testids"]["path"] for row in _rows(browser, "#requests-table tbody tr[data-id]")]
    assert all("✗" in path and "→" in path and path.endswith("✓") for path in paths), paths
    _screenshot(browser, "requests-failovers-desktop")
    Select(browser.find_element(By.ID, "rq-route")).select_by_value("")
    _assert_clean_console(browser, "requests")


def test_targets_page_shows_breakers_health_and_errors(dashboard_gateway, browser):
    root, _ = dashboard_gateway
    _logged_in(browser, root)
    _open(browser, root, "targets")
    rows = _rows(browser, "#targets-table tbody tr[data-target]")
    names = [row["data"]["target"] for row in rows]
    assert sorted(names) == ["bad", "cutter", "finisher", "here", "priced"], names
    for row in rows:
        assert row["testids"]["breaker"] in ("closed", "open", "half-open"), row
    broken = next(row for row in rows if row["data"]["target"] == "bad")
    assert "server" in broken["testids"]["errors"], broken["text"]
    cutter = next(row for row in rows if row["data"]["target"] == "cutter")
    assert "cut_" in cutter["testids"]["errors"], cutter["text"]
    _screenshot(browser, "targets-after-burst-desktop")
    _assert_clean_console(browser, "targets")


def test_a_key_created_on_the_page_works_once_shown_and_stops_when_revoked_there(dashboard_gateway, browser):
    root, _ = dashboard_gateway
    _logged_in(browser, root)
    _open(browser, root, "keys")
    browser.find_element(By.ID, "kf-name").send_keys("browser-key")
    browser.find_element(By.ID, "kf-budget").send_keys("5")
    Select(browser.find_element(By.ID, "kf-period")).select_by_value("month")
    browser.find_element(By.ID, "kf-rpm").send_keys("600")
    browser.find_element(By.ID, "kf-submit").click()
    secret_box = _wait(browser, EC.visibility_of_element_located((By.ID, "new-key")), message="no secret shown")
    assert "shown once" in secret_box.text
    secret = browser.find_element(By.CSS_SELECTOR, "[data-testid='new-key-secret']").text.strip()
    assert secret.startswith("mp-"), secret
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#keys-table tr[data-name='browser-key']"))
    row = browser.find_element(By.CSS_SELECTOR, "#keys-table tr[data-name='browser-key']")
    assert "$5" in row.find_element(By.CSS_SELECTOR, "[data-testid='budget']").text, row.text
    _screenshot(browser, "keys-secret-shown-once-desktop")

    # The secret works for a real answer, and its spend shows in its bar.
    assert _chat(root, "priced", secret) == 200
    # Shown once: gone after a reload.
    browser.refresh()
    _wait(browser, lambda d: d.execute_script("return document.body.dataset.loaded") == "keys")
    assert secret not in browser.page_source
    _wait(browser, lambda d: "of $5" in d.find_element(By.CSS_SELECTOR, "#keys-table tr[data-name='browser-key'] [data-testid='budget']").text)
    assert browser.find_element(By.ID, "new-key").is_displayed() is False

    # Revoke, confirmed.
    row = browser.find_element(By.CSS_SELECTOR, "#keys-table tr[data-name='browser-key']")
    row.find_element(By.CSS_SELECTOR, "button[data-action='revoke']").click()
    row.find_element(By.CSS_SELECTOR, "button[data-action='confirm-revoke']").click()
    _wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#keys-table tr[data-name='browser-key']"), message="the revoked key is still listed")
    assert _chat(root, "priced", secret) == 401
    # Among the revoked ones.
    browser.find_element(By.ID, "keys-all").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#keys-table tr[data-name='browser-key']"))
    assert "revoked" in browser.find_element(By.CSS_SELECTOR, "#keys-table tr[data-name='browser-key']").text
    browser.find_element(By.ID, "keys-all").click()
    _assert_clean_console(browser, "keys")


def test_route_explainer_shows_the_plan_and_the_exclusions(dashboard_gateway, browser):
    root, _ = dashboard_gateway
    _logged_in(browser, root)
    _open(browser, root, "route")
    _explain(browser, "mixed", "Email jane@example.com the summary of the meeting")
    plan = [tr.get_attribute("data-target") for tr in browser.find_elements(By.CSS_SELECTOR, "#route-plan tbody tr[data-target]")]
    excluded = browser.find_elements(By.CSS_SELECTOR, "#route-excluded tbody tr[data-target]")
    assert plan == ["here"], plan
    assert [tr.get_attribute("data-target") for tr in excluded] == ["priced"], [tr.text for tr in excluded]
    assert "private" in excluded[0].text, excluded[0].text
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid='plan-private']").text.startswith("yes")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid='plan-route']").text == "mixed"
    # The same as POST /v1/route answers.
    status, _, body = _http(
        "POST", f"{root}/v1/route",
        {"model": "mixed", "messages": [{"role": "user", "content": "Email jane@example.com the summary of the meeting"}]},
        {"authorization": f"Bearer {MASTER_KEY}"},
    )
    assert status == 200
    direct = json.loads(body)
    assert [entry["target"] for entry in direct["plan"]] == plan
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid='plan-prompt-tokens']").text == str(direct["prompt_tokens"])
    _screenshot(browser, "route-explain-desktop")

    # An override: the policy.
    Select(browser.find_element(By.ID, "re-policy")).select_by_value("latency")
    _explain(browser, "r", "What is the capital of France?")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid='plan-policy']").text == "latency"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#route-plan tbody tr[data-target]")) == 2
    Select(browser.find_element(By.ID, "re-policy")).select_by_value("")
    # The privacy override excludes the cloud targets of `r`: nothing left, and the page says what a request would get.
    Select(browser.find_element(By.ID, "re-privacy")).select_by_value("local")
    _explain(browser, "r", "What is the capital of France?")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#route-excluded tbody tr[data-target]")) == 2
    assert browser.find_element(By.ID, "route-error").is_displayed()
    Select(browser.find_element(By.ID, "re-privacy")).select_by_value("")
    _assert_clean_console(browser, "route explain")


def _explain(browser, route, prompt):
    Select(browser.find_element(By.ID, "re-route")).select_by_value(route)
    area = browser.find_element(By.ID, "re-prompt")
    area.clear()
    area.send_keys(prompt)
    browser.execute_script("document.getElementById('route-result').hidden = true")
    browser.find_element(By.ID, "re-submit").click()
    _wait(browser, EC.visibility_of_element_located((By.ID, "route-result")), message="no plan shown")


def test_every_page_at_laptop_and_phone_size_without_console_errors_or_overflow(dashboard_gateway, browser):
    root, _ = dashboard_gateway
    _logged_in(browser, root)
    _console_problems(browser)
    try:
        for size, (width, height) in SIZES.items():
            browser.set_window_size(width, height)
            for page in PAGES:
                _open(browser, root, page)
                if page == "route":
                    _explain(browser, "mixed", "Email jane@example.com the summary of the meeting")
                browser.execute_script("window.scrollTo(0, 0)")
                time.sleep(0.3)  # charts redraw after a resize
                _screenshot(browser, f"{page}-{size}")
                scroll_width, inner_width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
                assert scroll_width <= inner_width, f"{page} at {size} ({width} px): {scroll_width} px wide"
                _assert_clean_console(browser, f"{page} at {size}")
            # Keyboard: Tab reaches the links and buttons (and scrollable tables), and the focus is visible.
            browser.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
            focused = []
            for _ in range(5):
                ActionChains(browser).send_keys(Keys.TAB).perform()
                focused.append(browser.execute_script(
                    "const e = document.activeElement; return [e.tagName, e.textContent.trim(), getComputedStyle(e).outlineStyle]"))
            focused = [entry for entry in focused if entry[0] != "BODY"]
            assert len(focused) >= 3, focused
            assert all(outline != "none" for _, _, outline in focused), f"focus not visible: {focused}"
            assert any(text == "Overview" for _, text, _ in focused), focused
    finally:
        browser.set_window_size(*SIZES["desktop"])
    # Dark mode follows the system's setting.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        for page in ("overview", "requests"):
            _open(browser, root, page)
            time.sleep(0.3)
            background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(17, 20, 24)", background
            _screenshot(browser, f"{page}-dark-desktop")
        _assert_clean_console(browser, "dark mode")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    # The live refresh: the overview reloads by itself every 5 s.
    _open(browser, root, "overview")
    first = browser.find_element(By.ID, "overview-updated").get_attribute("data-ts")
    _wait(browser, lambda d: d.find_element(By.ID, "overview-updated").get_attribute("data-ts") != first, timeout=12, message="the overview did not refresh by itself")
    _assert_clean_console(browser, "live refresh")


def test_logout_ends_the_session(dashboard_gateway, browser):
    root, _ = dashboard_gateway
    _logged_in(browser, root)
    cookie = _session_cookie(browser)
    assert _api(root, cookie, "/ui/api/targets")[0] == 200
    browser.find_element(By.ID, "logout").click()
    _wait(browser, lambda d: urllib.parse.urlsplit(d.current_url).path == "/ui/login", message="logout did not go to the login page")
    assert _api(root, cookie, "/ui/api/targets")[0] == 401
    status, headers, _ = _http("GET", f"{root}/ui/", headers={"cookie": f"mp_session={cookie['value']}"})
    assert status in (302, 303) and headers["location"].endswith("/ui/login")
    browser.get(f"{root}/ui/#keys")
    _wait(browser, lambda d: urllib.parse.urlsplit(d.current_url).path == "/ui/login", message="/ui after logout did not go to the login page")
    _assert_clean_console(browser, "after logout")
