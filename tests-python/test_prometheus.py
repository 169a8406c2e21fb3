"""The Grafana board and the alert rules, checked by a real Prometheus.

A real `prometheus` (Debian's package; `.ci/run` installs it) scrapes a gateway every second while
a scripted burst goes through it: plain and streamed answers, a failover from a dead target, a
stream cut and continued, a budget refusal and an unknown model. Then every query of every panel of
deploy/grafana/multiprodigy.json, and every alert rule of deploy/prometheus/alerts.yaml (its
expression and the quantity its threshold applies to), is evaluated through Prometheus' HTTP API:
each must evaluate without error and return data.
"""

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import MASTER_KEY, REPO, _free_port, _running_gateway, _stop

BOARD = REPO / "deploy" / "grafana" / "multiprodigy.json"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yaml"


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _post(url, body, headers):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def scraped_gateway(fake_upstream, tmp_path_factory):
    """A gateway with a dead target before a priced one, a cutting target before one that
    continues, and a master key; a Prometheus scraping it every second. Yields (gateway root,
    Prometheus root)."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed (`.ci/run` installs Debian's package)"
    config = "\n".join(
        [
            f"auth: {{master_key: {MASTER_KEY}}}",
            "providers:",
            f'  fake: {{type: openai, base_url: "{fake_upstream}/v1", locality: cloud}}',
            '  dead: {type: openai, base_url: "http://127.0.0.1:1/v1", locality: local}',
            "models:",
            "  priced: {provider: fake, model: fake-small, price: {input: 2, output: 8}}",
            "  gone: {provider: dead, model: nothing}",
            "  cutter: {provider: fake, model: fake-cut-after-3, price: {input: 2, output: 8}}",
            "  finisher: {provider: fake, model: fake-small, supports: [continuation], price: {input: 2, output: 8}}",
            "routes:",
            "  r: {targets: [gone, priced]}",
            "  c: {targets: [cutter, finisher]}",
            "",
        ]
    )
    workdir = tmp_path_factory.mktemp("prometheus")
    with _running_gateway(config, workdir, "the scraped gateway") as url:
        root = url[: -len("/v1")]
        port = _free_port()
        prometheus_config = workdir / "prometheus.yml"
        prometheus_config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{ALERTS}']\n"
            "scrape_configs:\n"
            "  - job_name: multiprodigy\n"
            f"    static_configs: [{{targets: ['{root[len('http://'):]}']}}]\n"
        )
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={prometheus_config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        prometheus = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"{prometheus}/-/ready", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert process.poll() is None, "prometheus exited at start-up"
                time.sleep(0.2)
            else:
                pytest.fail("prometheus did not get ready within 30 s")
            yield root, prometheus
        finally:
            _stop(process)


def _query(prometheus, expr):
    answer = _get(f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert answer["status"] == "success", (expr, answer)
    return answer["data"]["result"]


def _burst(root):
    master = {"authorization": f"Bearer {MASTER_KEY}"}
    team = json.loads(_post(f"{root}/admin/keys", {"name": "team", "budget": "100usd/month"}, master)[1])["key"]
    tiny = json.loads(_post(f"{root}/admin/keys", {"name": "tiny", "budget": "0.000001usd/month"}, master)[1])["key"]
    as_team = {"authorization": f"Bearer {team}"}
    chat = lambda model, stream=False: {"model": model, "stream": stream, "messages": [{"role": "user", "content": "tell me about the weather today"}]}
    statuses = []
    for index in range(6):
        statuses.append(_post(f"{root}/v1/chat/completions", chat("r", stream=index % 2 == 1), as_team)[0])
    statuses.append(_post(f"{root}/v1/chat/completions", chat("c", stream=True), as_team)[0])
    # The tiny budget is spent by its first answer: the next request is refused.
    for _ in range(2):
        statuses.append(_post(f"{root}/v1/chat/completions", chat("priced"), {"authorization": f"Bearer {tiny}"})[0])
    statuses.append(_post(f"{root}/v1/chat/completions", chat("no-such-model"), as_team)[0])
    assert statuses == [200] * 8 + [429, 404], statuses


def test_every_panel_and_alert_rule_evaluates_and_has_data_after_a_burst(scraped_gateway):
    root, prometheus = scraped_gateway
    _burst(root)
    # Until a scrape has seen the whole burst, then long enough for rates over two scrapes after it.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = _query(prometheus, "sum(multiprodigy_requests_total)")
        if seen and float(seen[0]["value"][1]) >= 10:
            break
        time.sleep(0.5)
    else:
        pytest.fail("prometheus did not see the burst within 30 s")
    time.sleep(3)

    board = json.loads(BOARD.read_text())
    assert any(variable["name"] == "datasource" and variable["type"] == "datasource" for variable in board["templating"]["list"])
    queries = []
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$__range", "5m").replace("$route", ".*")
            queries.append((panel["title"], expr))
    assert len(queries) >= 18
    empty = [(title, expr) for title, expr in queries if not _query(prometheus, expr)]
    assert not empty, f"panel queries without data: {empty}"

    # Every rule loaded, evaluated without error, and the quantity it watches has data.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        groups = _get(f"{prometheus}/api/v1/rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if rules and all(rule.get("lastEvaluation", "").startswith("20") for rule in rules):
            break
        time.sleep(0.5)
    assert len(rules) == 6, rules
    for rule in rules:
        assert rule["health"] == "ok", rule
        assert not rule.get("lastError"), rule
        _query(prometheus, rule["query"])  # the full expression evaluates
        assert _query(prometheus, rule["annotations"]["query"]), f"{rule['name']}: no data for {rule['annotations']['query']}"
    # The exhausted budget fires (pending for its `for:`), the others stay quiet after a healthy burst.
    budget = next(rule for rule in rules if rule["name"] == "MultiProdigyBudgetNearExhaustion")
    assert [alert["labels"]["key"] for alert in budget["alerts"]] == ["tiny"], budget["alerts"]
    errors = next(rule for rule in rules if rule["name"] == "MultiProdigyHighErrorRatio")
    assert errors["alerts"] == [], errors["alerts"]
