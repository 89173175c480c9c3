"""The web UI in a real headless Chromium against a real ``amlrun serve`` on 127.0.0.1: log in,
submit a published pipeline from its form and watch the run turn green, follow a reused
step to the run that produced it, read a log, compare two runs, and no HTML from a pipeline
name or description, a parameter or a log line ever runs. Screenshots go to one temporary
folder, printed at the end of the session (CI keeps it as an artifact)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import Browser, missing, start_chromium
from tests.helpers import amlrun
from tests.serve_ws import Server, token
from tests.ui_ws import HOSTILE, make_ui_workspace

STEPS = ["hello", "wait", "done"]
SCHEDULE = """
name: on-drop
display_name: drop watcher
trigger: {{type: data, path: ./drop, polling_interval: 1s}}
create_job: {{type: pipeline, job: "azureml:uitest", inputs: {{gate: "{gate}"}}}}
"""


@dataclass(frozen=True)
class UiServer:
    base: str
    token: str
    ws: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """``amlrun serve`` over a workspace with the UI pipeline published as ``uitest`` and a
    data-triggered schedule of it."""
    if reason := missing():
        pytest.skip(reason)
    ws = tmp_path_factory.mktemp("ui-ws")
    make_ui_workspace(ws)
    publish = ("pipeline", "publish", "pipeline.yml", "--name", "uitest", "--description", HOSTILE)
    amlrun(*publish, cwd=ws, check=True)
    (ws / "drop").mkdir()
    (ws / "schedule.yml").write_text(SCHEDULE.format(gate=ws / "gate-schedule"))
    amlrun("schedule", "create", "-f", "schedule.yml", cwd=ws, check=True)
    secret = token(ws, "ui", "admin")
    served = Server(ws)
    try:
        yield UiServer(served.url, secret, ws)
    finally:
        served.stop()


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="amlrun-ui-screenshots-"))
    yield folder
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"web UI screenshots: {folder}")


@pytest.fixture(scope="module")
def browser(server: UiServer, shots: Path, tmp_path_factory) -> Iterator[Browser]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield Browser(driver, server.base, shots)
    finally:
        driver.quit()


def _log_in(browser: Browser, token: str) -> None:
    """Log in through the form unless this browser's session is still valid."""
    browser.open("runs")
    browser.until("a page", lambda: browser.css("#login-form") or browser.css("#run-filters"))
    if browser.css("#login-form"):
        browser.css("#token")[0].send_keys(token)
        browser.css("#login-form button")[0].click()
    browser.until("the runs list", lambda: browser.css("#run-filters"))


def _submit_from_the_form(browser: Browser, gate: Path) -> str:
    """Submit ``uitest`` with ``gate`` through its form; the run's id from the page it opens."""
    browser.open("pipelines/uitest")
    field = browser.wait_css("#submit-form input[name=gate]")
    field.clear()
    field.send_keys(str(gate))
    browser.css("#submit-form button[type=submit]")[0].click()
    return browser.until(
        "the run page", lambda: browser.css("#run-id") and browser.css("#run-id")[0].text
    )


def _click_node(browser: Browser, step: str) -> None:
    browser.css(f'#graph g.node[data-step="{step}"] rect')[0].click()
    browser.until(f"the panel of {step}", lambda: browser.css("#step-name")[0].text == step)


def test_a_visitor_logs_in_with_a_token_and_a_wrong_token_is_refused(
    server: UiServer, browser: Browser
) -> None:
    browser.open("runs")
    browser.wait_css("#login-form")
    browser.shot("01-login-form")
    browser.css("#token")[0].send_keys("amlrun_not-a-token")
    browser.css("#login-form button")[0].click()
    browser.until("the refusal", lambda: browser.css("#login-error")[0].text)
    assert browser.css("#login-form"), "a wrong token must not get in"
    browser.css("#token")[0].clear()
    _log_in(browser, server.token)
    browser.shot("02-runs-after-login")
    cookies = {c["name"]: c for c in browser.driver.get_cookies()}
    assert cookies and all(server.token not in c["value"] for c in cookies.values())
    assert any(c.get("httpOnly") for c in cookies.values()), "the session cookie is HttpOnly"
    browser.css("#logout")[0].click()
    browser.wait_css("#login-form")
    status = browser.driver.execute_async_script(  # the session is over on the server too
        "fetch('/api/v1/session').then(r => arguments[0](r.status))"
    )
    assert status == 401


def test_a_live_run_turns_green_as_its_steps_finish(server: UiServer, browser: Browser) -> None:
    _log_in(browser, server.token)
    gate = server.ws / "gate-live"
    run_id = _submit_from_the_form(browser, gate)
    browser.until("wait running", lambda: browser.node_status("wait") == "running", timeout=60)
    assert browser.node_status("hello") == "ran"
    assert browser.node_status("done") in (None, "queued")
    browser.shot("03-live-run-waiting")
    gate.touch()
    browser.until(
        "every step ran", lambda: [browser.node_status(s) for s in STEPS] == ["ran"] * 3, 60
    )
    browser.until("the run succeeded", lambda: browser.css("#run-head .badge.succeeded"))
    browser.shot("04-live-run-green")
    boxes = {n.get_attribute("data-step"): n.rect["x"] for n in browser.css("#graph g.node")}
    assert boxes["hello"] < boxes["wait"] < boxes["done"], "laid out left to right"
    assert run_id in browser.driver.current_url


def test_a_reused_step_links_to_the_run_that_produced_it(
    server: UiServer, browser: Browser
) -> None:
    _log_in(browser, server.token)
    gate = server.ws / "gate-reuse"
    gate.touch()
    first = _submit_from_the_form(browser, gate)
    browser.until("the first run", lambda: browser.css("#run-head .badge.succeeded"), 60)
    second = _submit_from_the_form(browser, gate)
    assert second != first
    browser.until(
        "every step reused", lambda: [browser.node_status(s) for s in STEPS] == ["reused"] * 3
    )
    browser.shot("05-reused-run")
    # wait's key holds this test's gate, so the first run ran it (hello ran in an earlier test)
    mark = browser.css('#graph g.node[data-step="wait"] a.producer')[0]
    assert mark.get_attribute("data-run") == first
    mark.click()
    browser.until("the producing run", lambda: browser.css("#run-id")[0].text == first)
    browser.until("its graph", lambda: browser.node_status("wait") == "ran")
    browser.shot("06-producing-run")


def test_a_step_log_is_read_in_its_panel(server: UiServer, browser: Browser) -> None:
    _log_in(browser, server.token)
    gate = server.ws / "gate-log"
    gate.touch()
    _submit_from_the_form(browser, gate)
    browser.until("the run", lambda: browser.css("#run-head .badge.succeeded"), 60)
    _click_node(browser, "hello")
    log = browser.until(
        "the log", lambda: "hello from the UI test" in browser.css("#step-log")[0].text
    )
    assert log
    assert browser.css("#step-name")[0].text == "hello"
    assert browser.css("#step-key")[0].text.strip(), "the key is shown"
    browser.shot("07-step-log")
    _click_node(browser, "done")
    metric = browser.until("the metric", lambda: browser.css('tr[data-metric="accuracy"]'))
    assert metric[0].text.split() == ["accuracy", "0.875", "2", "3"]
    link = browser.css("#step-panel a.download")[0]
    fetched = browser.driver.execute_async_script(
        "fetch(arguments[0]).then(r => arguments[1](r.status), e => arguments[1](String(e)))",
        link.get_attribute("href"),
    )
    assert fetched == 200, "the output downloads with the session cookie"
    browser.shot("08-step-metrics")


def test_a_running_run_is_cancelled_from_its_page(server: UiServer, browser: Browser) -> None:
    _log_in(browser, server.token)
    _submit_from_the_form(browser, server.ws / "gate-never-opened")
    browser.until("wait running", lambda: browser.node_status("wait") == "running", timeout=60)
    browser.wait_css("#cancel-run").click()  # a POST carrying the session's CSRF token
    browser.until("the cancelled run", lambda: browser.css("#run-head .badge.cancelled"), 60)
    browser.shot("09-cancelled")


def test_a_state_change_without_the_csrf_token_is_refused(
    server: UiServer, browser: Browser
) -> None:
    """The session cookie alone does not let another page submit: the CSRF header must come."""
    _log_in(browser, server.token)
    status = browser.driver.execute_async_script(
        "fetch('/api/v1/pipelines/uitest/runs', {method: 'POST', body: '{}',"
        " headers: {'Content-Type': 'application/json'}}).then(r => arguments[0](r.status))"
    )
    assert status == 403


def test_no_html_from_a_name_a_parameter_or_a_log_line_runs(
    server: UiServer, browser: Browser
) -> None:
    _log_in(browser, server.token)
    gate = server.ws / "gate-xss"
    gate.touch()
    _submit_from_the_form(browser, gate)
    browser.until("the run", lambda: browser.css("#run-head .badge.succeeded"), 60)
    _click_node(browser, "hello")
    browser.until("the log", lambda: HOSTILE in browser.css("#step-log")[0].text)
    panel = browser.css("#step-panel")[0].text
    assert "<script>window.__xss=2</script>" in panel, "the parameter shows as text"
    assert HOSTILE in browser.css("#run-head")[0].text, "the pipeline name shows as text"
    browser.open("pipelines")
    browser.until("the description", lambda: HOSTILE in browser.css("main")[0].text)
    browser.shot("10-hostile-text")
    assert browser.driver.execute_script("return window.__xss") is None
    assert browser.console_errors() == [], "no script error, nothing blocked by the CSP"
    assert not browser.css("main img"), "no element was made from a name or a log line"


def test_two_runs_compare_step_by_step(server: UiServer, browser: Browser) -> None:
    _log_in(browser, server.token)
    runs = {}
    for name in ("a", "b"):
        gate = server.ws / f"gate-compare-{name}"
        gate.touch()
        runs[name] = _submit_from_the_form(browser, gate)
        browser.until("the run", lambda: browser.css("#run-head .badge.succeeded"), 60)
    browser.open(f"compare?a={runs['a']}&b={runs['b']}")
    browser.until("the comparison", lambda: len(browser.css("#compare-result tbody tr")) == 3)
    rows = {r.get_attribute("data-step"): r for r in browser.css("#compare-result tbody tr")}
    assert "gate:" in rows["wait"].text and "changed" in rows["wait"].get_attribute("class")
    assert "hello" in rows and "changed" not in rows["hello"].get_attribute("class")
    browser.shot("11-compare")


def test_the_runs_list_filters_by_pipeline_and_status(server: UiServer, browser: Browser) -> None:
    _log_in(browser, server.token)
    gate = server.ws / "gate-filter"
    gate.touch()
    _submit_from_the_form(browser, gate)
    browser.until("the run", lambda: browser.css("#run-head .badge.succeeded"), 60)

    def shown(what: str) -> set[str]:
        return {r.get_attribute(f"data-{what}") for r in browser.css("main tbody tr[data-run]")}

    browser.open("runs?status=failed")
    browser.until("the empty list", lambda: browser.css("#no-runs"))
    browser.open("runs?pipeline=uitest")
    browser.until("the pipeline's runs", lambda: shown("pipeline") == {"uitest"})
    browser.open("runs?status=succeeded")
    browser.until("the succeeded runs", lambda: shown("status") == {"succeeded"})
    browser.shot("12-runs-filtered")


def test_a_schedule_shows_its_firings_and_links_to_their_runs(
    server: UiServer, browser: Browser
) -> None:
    _log_in(browser, server.token)
    (server.ws / "gate-schedule").touch()
    (server.ws / "drop" / "new.csv").write_text("x,1\n")  # the data trigger fires
    browser.open("schedules")
    row = browser.wait_css('tr[data-schedule="on-drop"]')
    assert "drop watcher" in row.text and f"data {server.ws / 'drop'} (every 1s)" in row.text
    assert "on change" in row.text

    def fired_and_done():  # the page refreshes itself
        done = browser.css('tr[data-schedule="on-drop"] li[data-tick] .badge.succeeded')
        return done and browser.css('tr[data-schedule="on-drop"] li[data-tick] a')

    run_link = browser.until("a finished firing", fired_and_done, timeout=90)[0]
    browser.shot("13-schedules")
    run_id = run_link.text
    run_link.click()
    browser.until("the fired run", lambda: browser.css("#run-id")[0].text == run_id)
