"""What people do in a real browser: join, change language, sign out, stay connected, and pages that pass axe.

Every step saves a screenshot under build/screenshots/ so a person can look at the pages in each language and size.
"""

import email
import email.policy
import re

import pytest

from tests.browser.conftest import PHONE, overflowing_elements, require_socketio_client

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "comunidade-demo"
PARTICIPANT = "ana@mogi.example.org"
ADMIN = "admin@comunidade.example.org"
MENTOR = "mentora@comunidade.example.org"

# locale code -> (the switcher button's name, <html lang>)
LANGUAGES = {"en": ("English", "en"), "pt_BR": ("Português (Brasil)", "pt-BR")}


def visit(page, path):
    """Open `path` and check the server answered it (a failing page has no switcher, no form, nothing to find)."""
    response = page.goto(path)
    assert response is not None, f"no response for {path}"
    assert response.status < 400, f"GET {path} answered {response.status}"
    return response


def submit(page, button, what):
    """Click a link or submit button; check the page it leads to (after redirects) was served without an error."""
    with page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    assert response is not None and response.status < 400, f"{what}: {response.url} answered {response.status}"
    return response


def sign_in(page, email, password=DEMO_PASSWORD):
    """Sign in through the form; by field ids, so it works whatever the page's language."""
    visit(page, "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    submit(page, page.locator("main form input[type=submit]"), f"signing in as {email}")
    expect(page.locator(".site-header form[action$='/logout']")).to_be_visible()


def set_language(page, locale):
    """Choose a language with the switcher at the top of the page, as a visitor does."""
    button_name, html_lang = LANGUAGES[locale]
    switcher = page.locator("form.language-switcher")
    button = switcher.get_by_role("button", name=button_name, exact=True)
    if button.get_attribute("aria-current") != "true":
        submit(page, button, f"choosing {button_name}")
    expect(page.locator("html")).to_have_attribute("lang", html_lang)
    expect(switcher.get_by_role("button", name=button_name, exact=True)).to_have_attribute("aria-current", "true")


def assert_no_problems(page):
    assert not page.problems, "the page reported problems:\n" + "\n".join(page.problems)


def latest_link(live_folder, path):
    """The link to `path` in the newest e-mail the live server wrote."""
    mails = sorted((live_folder / "instance" / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    text = email.message_from_bytes(mails[-1].read_bytes(), policy=email.policy.default).get_content()
    return re.search(rf"https?://\S+{path}\S+", text).group(0)


def test_new_visitor_joins_switches_to_portuguese_and_signs_out(new_page, screenshot, live_folder):
    page = new_page(timezone_id="America/Recife")
    visit(page, "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cities learning from cities")
    screenshot(page, "1-home")

    submit(page, page.get_by_role("banner").get_by_role("link", name="Join", exact=True), "following Join")
    expect(page).to_have_url(re.compile(r"/register$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    expect(page.get_by_label("Time zone")).to_have_value("America/Recife")  # preset from the browser's own zone
    screenshot(page, "2-register")

    page.get_by_label("Your name").fill("Joana Navegadora")
    page.get_by_label("E-mail").fill("joana@recife.example.org")
    page.get_by_label("City hall").select_option(label="Recife, Pernambuco")
    page.get_by_label("Password", exact=True).fill("a long browser password")
    page.get_by_label("Repeat the password").fill("a long browser password")
    screenshot(page, "3-register-filled")
    submit(page, page.get_by_role("button", name="Create account", exact=True), "registering")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flashes")).to_contain_text("We have sent a message to joana@recife.example.org")
    screenshot(page, "3b-confirm-your-address")
    visit(page, latest_link(live_folder, "/confirm/"))
    submit(page, page.get_by_role("button", name="Confirm and sign in", exact=True), "confirming the address")

    expect(page).to_have_url(re.compile(r"/$"))
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="Joana Navegadora")).to_be_visible()
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator(".flashes")).to_contain_text("Welcome to Comunidade, Joana Navegadora!")
    expect(page.get_by_role("heading", name="Hello, Joana Navegadora")).to_be_visible()
    screenshot(page, "4-signed-in")

    set_language(page, "pt_BR")
    screenshot(page, "5-portuguese")
    # Found by where it posts, not by its words, so the journey goes on while the translations are being filled.
    sign_out = page.locator(".site-header form[action$='/logout'] button")
    sign_out_label = sign_out.inner_text().strip()
    submit(page, sign_out, "signing out")

    expect(page.locator(".site-header form[action$='/logout']")).to_have_count(0)
    expect(page.get_by_role("banner").locator("a[href$='/register']")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")  # the choice outlives the session
    screenshot(page, "6-signed-out")

    # Reported together, so one run names every problem. The words themselves come from translations/pt_BR,
    # filled by hand and compiled by `make translations`.
    failures = [f"the page reported: {problem}" for problem in page.problems]
    if sign_out_label != "Sair":
        failures.append(f"in Portuguese the sign-out button reads {sign_out_label!r}, expected 'Sair'")
    figures = page.locator(".figures").inner_text()
    if "cidades" not in figures:
        failures.append(f"in Portuguese the home page figures read {figures!r}, expected '… cidades …'")
    if len(failures) > len(page.problems):
        failures.append(
            "translate the entries in translations/pt_BR/LC_MESSAGES/messages.po (`make messages` first if the "
            "strings changed) and run `make translations`"
        )
    assert not failures, "\n".join(failures)


def test_signed_in_page_opens_a_socket(page, screenshot):
    require_socketio_client()
    sign_in(page, PARTICIPANT)
    visit(page, "/profile")
    script = page.request.get("/static/vendor/socket.io.min.js")
    assert script.ok, f"the Socket.IO client at /static/vendor/socket.io.min.js answered {script.status}"
    expect(page.locator("body")).to_have_attribute("data-socket", "connected", timeout=15_000)
    transport = page.evaluate("() => window.comunidade.socket.io.engine.transport.name")
    assert transport == "websocket", f"Socket.IO stayed on {transport!r} instead of upgrading to a WebSocket"
    screenshot(page, "profile")
    assert_no_problems(page)


def test_signing_out_ends_the_socket_in_every_tab(page, screenshot):
    require_socketio_client()
    sign_in(page, "carlos@fortaleza.example.org")
    visit(page, "/profile")
    expect(page.locator("body")).to_have_attribute("data-socket", "connected", timeout=15_000)

    other_tab = page.context.new_page()
    visit(other_tab, "/")
    submit(other_tab, other_tab.locator(".site-header form[action$='/logout'] button"), "signing out")
    expect(other_tab.locator(".site-header form[action$='/logout']")).to_have_count(0)

    expect(page.locator("body")).to_have_attribute("data-socket", "disconnected")
    page.wait_for_timeout(500)  # long enough for a broken close to reach the console
    screenshot(page, "first-tab")
    assert_no_problems(page)


@pytest.mark.parametrize("path", ["/", "/cities/", "/login"], ids=["home", "cities", "login"])
def test_first_tab_focuses_the_skip_link(page, screenshot, path):
    visit(page, path)
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_class("skip-link")
    expect(focused).to_have_attribute("href", "#content")
    expect(focused).to_be_in_viewport()
    screenshot(page, "focused")
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()


def test_axe_helper_reports_violations(page, axe):
    """Guards the accessibility tests against passing because axe checked nothing."""
    visit(page, "/")
    page.evaluate("""() => {
        const image = document.createElement("img");
        image.src = "/static/favicon.svg";
        document.querySelector("main").append(image);
    }""")
    violations = axe(page)
    assert "image-alt" in [violation["id"] for violation in violations], violations
    assert "image-alt" in str(violations)


PAGES = {
    # name: (path, who signs in)
    "home": ("/", None),
    "cities": ("/cities/", None),
    "city": ("/cities/recife", None),
    "login": ("/login", None),
    "register": ("/register", None),
    "profile": ("/profile", PARTICIPANT),
    "people": ("/admin/users/", ADMIN),
    "questions": ("/threads/", None),
    "thread": ("/threads/1", PARTICIPANT),
    "ask": ("/threads/new", PARTICIPANT),
    "framework": ("/framework/", None),
    "criterion": ("/framework/DM2", None),
    "notifications": ("/notifications/", PARTICIPANT),
    "moderation": ("/threads/moderation", ADMIN),
    # Session 5 is an upcoming demo session Ana registered for; session 6 has ended and has its record.
    "sessions": ("/sessions/", None),
    "session": ("/sessions/5", PARTICIPANT),
    "schedule": ("/sessions/new", MENTOR),
    "registrants": ("/sessions/5/registrants", MENTOR),
    "calendar": ("/sessions/calendar", PARTICIPANT),
    "record": ("/sessions/6/archive", PARTICIPANT),
    # Mogi das Cruzes is Ana's city; the demo mentor accompanies it and sent PA3 back with a comment.
    "assessment": ("/cities/mogi-das-cruzes/assessment", PARTICIPANT),
    "assessment criterion": ("/cities/mogi-das-cruzes/assessment/PA3", PARTICIPANT),
    "review": ("/cities/mogi-das-cruzes/assessment/DM4", MENTOR),
    "cohort": ("/assessment/cohort", MENTOR),
    "framework texts": ("/framework/DM2/edit", ADMIN),
    # The regional mentor's first mentorship is Mogi das Cruzes's, with goals, meetings and a message.
    "mentoring": ("/cities/mogi-das-cruzes/mentoring", PARTICIPANT),
    "mentorship": ("/mentorships/1", PARTICIPANT),
    "mentors": ("/mentors/", PARTICIPANT),
    "mentor profile": ("/mentors/me", MENTOR),
    "mentor home": ("/", MENTOR),
    "library": ("/library/", None),
    "case": ("/library/reunioes-mensais-de-desempenho-com-o-prefeito", None),
    "write-case": ("/library/new", PARTICIPANT),
    "search": ("/search/?q=dados", None),
}


def open_in(page, name, locale):
    path, account = PAGES[name]
    if account:
        sign_in(page, account)
    visit(page, path)
    set_language(page, locale)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_page_passes_axe(page, axe, screenshot, name, locale):
    open_in(page, name, locale)
    screenshot(page, "desktop")
    violations = axe(page)
    assert not violations, f"{PAGES[name][0]} in {locale}: {violations}"
    assert_no_problems(page)


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize(
    "name", ["home", "register", "cities", "people", "questions", "thread", "ask", "sessions", "session", "schedule",
             "record", "assessment", "assessment criterion", "review", "cohort", "mentoring", "mentorship",
             "mentor profile", "mentor home", "library", "case", "write-case", "search"]
)  # fmt: skip
def test_page_fits_a_phone(new_page, axe, screenshot, name, locale):
    page = new_page(phone=True)
    open_in(page, name, locale)
    screenshot(page, "phone")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (
        f"{PAGES[name][0]} in {locale} scrolls sideways on a phone ({width} px wide); "
        f"too wide: {overflowing_elements(page, PHONE['width'])}"
    )
    violations = axe(page)
    assert not violations, f"{PAGES[name][0]} in {locale} on a phone: {violations}"
    assert_no_problems(page)
