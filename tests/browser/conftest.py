"""Fixtures for the browser tests: the real app in a subprocess, Debian's Chromium, pages, screenshots and axe.

The app is set up the way a user does it (`flask db upgrade`, `flask seed-demo`, `python wsgi.py`) on a fresh
SQLite database in a temporary folder. Chromium is /usr/bin/chromium, launched by Playwright with a fresh profile;
without it the tests skip, or fail when REQUIRE_SERVICES=1.
"""

import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import require, require_chromium
from tests.servers import flask_command, running_server, server_env

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SOCKETIO_CLIENT = ROOT / "static" / "vendor" / "socket.io.min.js"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SERVER_START_TIMEOUT = 30  # seconds
ACTION_TIMEOUT = 10_000  # milliseconds, for every Playwright action and navigation


def require_playwright():
    require(
        importlib.util.find_spec("playwright") is not None,
        "Playwright",
        "install requirements-dev.txt (`make setup-test`)",
    )


def require_axe():
    require(AXE_SCRIPT.exists(), "axe-core", f"run `make vendor` (npm ci) to install {AXE_SCRIPT.relative_to(ROOT)}")
    return AXE_SCRIPT


def require_socketio_client():
    require(
        SOCKETIO_CLIENT.exists(),
        "The Socket.IO browser client",
        f"run `make vendor` to copy it into {SOCKETIO_CLIENT.relative_to(ROOT)}",
    )


@pytest.fixture(scope="session")
def live_folder(tmp_path_factory):
    """The live server's files: its database and its instance folder, where e-mails land in outbox/."""
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def live_server(live_folder):
    """The app served by `python wsgi.py` on a free port, with the demo data; yields its base URL."""
    require_chromium()  # nothing would use the server
    folder = live_folder
    env = server_env(folder / "instance", f"sqlite:///{folder / 'b.db'}", PYTHONUNBUFFERED=1)
    # One process, in-memory queues: the server must not depend on services the caller happens to have configured.
    for name in ("SOCKETIO_MESSAGE_QUEUE", "RATELIMIT_STORAGE_URI", "SECRET_KEY", "SERVER_NAME"):
        env.pop(name, None)
    try:
        flask_command("db", "upgrade", env=env)
        flask_command("seed-demo", env=env)
        with running_server(env, timeout=SERVER_START_TIMEOUT) as base_url:
            yield base_url
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, with a fresh temporary profile (Playwright's launch() makes one)."""
    executable = require_chromium()
    require_playwright()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a new browser context: `new_page()` is a desktop, `new_page(phone=True)` a 360 px phone;
    other keyword arguments go to Playwright's `browser.new_context()` (e.g. `timezone_id="America/Recife"`).

    Each page keeps `page.problems`: script errors, console errors and server errors (5xx) seen while it was open.
    """
    contexts = []

    def open_page(phone=False, locale="en-US", **options):
        size = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {"viewport": DESKTOP}
        context = browser.new_context(base_url=live_server, locale=locale, **size, **options)
        context.set_default_timeout(ACTION_TIMEOUT)
        context.set_default_navigation_timeout(ACTION_TIMEOUT)
        contexts.append(context)
        page = context.new_page()
        page.problems = []

        def on_console(message):
            if message.type == "error":
                page.problems.append(f"console error: {message.text}")

        def on_response(response):
            if response.status >= 500:
                page.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

        page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
        page.on("console", on_console)
        page.on("response", on_response)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A desktop page (1280x800, en-US) in its own browser context."""
    return new_page()


@pytest.fixture
def screenshot(request):
    """`screenshot(page, variant)` saves the whole page to build/screenshots/<test-name>-<variant>.png;
    `screenshot(page, variant, full_page=False)` only what the screen shows."""
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def save(page, variant, full_page=True):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{test_name}-{variant}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save


class Violations(list):
    """axe's violations; printing them lists each rule with the elements that break it."""

    def __str__(self):
        if not self:
            return "no axe violations"
        lines = [f"{len(self)} axe violation(s):"]
        for violation in self:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}  <{violation['helpUrl']}>")
            for node in violation["nodes"]:
                lines.append(f"    at {' '.join(map(str, node['target']))}")
                lines.append(f"       {node['html'][:200]}")
                for summary_line in (node.get("failureSummary") or "").splitlines():
                    lines.append(f"       {summary_line}")
        return "\n".join(lines)


_AXE_RUN = """async (tags) => {
  const results = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
  }));
}"""


@pytest.fixture(scope="session")
def axe_source():
    return require_axe().read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source):
    """`axe(page)` runs axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules on the page and returns the violations.

    axe is evaluated through the DevTools protocol, so the page's Content-Security-Policy stays as served.
    """

    def run(page):
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        return Violations(page.evaluate(_AXE_RUN, WCAG_TAGS))

    return run


def overflowing_elements(page, width):
    """The elements reaching beyond `width` CSS pixels, to explain a horizontal scroll bar."""
    return page.evaluate(
        """(width) => Array.from(document.querySelectorAll("body *"))
          .filter((el) => el.getBoundingClientRect().right > width + 0.5)
          .map((el) => {
            const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/).join(".") : "";
            const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (classes ? "." + classes : "");
            return name + " right=" + Math.round(el.getBoundingClientRect().right);
          })
          .slice(0, 20)""",
        width,
    )
