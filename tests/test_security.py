"""Security settings: response headers, no inline script, CSRF on every form, size limits, error pages that are
translated and leak nothing, production cookies and secrets, and the Socket.IO server's limits."""

import io
import re
from html.parser import HTMLParser
from importlib.metadata import version

import pytest
from flask import abort
from packaging.version import Version

from community import create_app
from community.auth import services
from community.auth.models import User
from community.core.permissions import admin_required, public
from community.extensions import db, limiter, socketio
from community.live import calendar
from community.live.models import LiveSession
from community.live.room import actions as room_actions
from community.live.room import chat as room_chat
from community.notifications import services as notification_services
from community.threads import services as thread_services
from config import ProductionConfig
from tests.conftest import PASSWORD
from tests.library_helpers import attach, write_case
from tests.live_helpers import schedule
from tests.test_i18n import forget_loaded_translations, html_lang, text_of, translated, use_fresh_catalogs

CSRF_MESSAGE = "Your form expired or was sent from elsewhere. Please reload the page and try again."
LANGS = [("pt-BR", "pt_BR"), ("en", "en")]


@pytest.fixture(autouse=True)
def fresh_catalogs(monkeypatch, tmp_path_factory):
    use_fresh_catalogs(monkeypatch, tmp_path_factory)
    yield
    forget_loaded_translations()


# --- helpers ----------------------------------------------------------------------------------------------------


class PageParser(HTMLParser):
    """Collects what the CSP and CSRF checks need from a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = []  # (attrs, inline text)
        self.forms = []  # {"method", "action", "inputs": {name: value}}
        self.inline_handlers = []
        self.style_attributes = []
        self.style_elements = 0
        self.javascript_urls = []
        self._script = None
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.inline_handlers.append((tag, name))
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.javascript_urls.append((tag, value))
        if "style" in attrs:
            self.style_attributes.append(tag)
        if tag == "style":
            self.style_elements += 1
        if tag == "script":
            self._script = [attrs, ""]
            self.scripts.append(self._script)
        if tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"), "inputs": {}}
            self.forms.append(self._form)
        if tag in ("input", "button", "select", "textarea") and self._form is not None and attrs.get("name"):
            self._form["inputs"].setdefault(attrs["name"], attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None
        if tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._script is not None:
            self._script[1] += data


def parse(response):
    parser = PageParser()
    parser.feed(response.get_data(as_text=True))
    parser.close()
    return parser


def csp_directives(response):
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_security_headers(response):
    csp = csp_directives(response)
    assert csp, "Content-Security-Policy is set"
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts, "script-src (or default-src) is set"
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert unsafe not in scripts, f"script-src allows {unsafe}"
    assert "'unsafe-inline'" not in csp.get("style-src", csp.get("default-src", []))
    assert csp.get("object-src") == ["'none'"]
    assert "base-uri" in csp
    assert csp.get("frame-ancestors") in (["'none'"], ["'self'"]) or response.headers.get("X-Frame-Options") in (
        "DENY",
        "SAMEORIGIN",
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }


def csrf_token_in(response):
    for form in parse(response).forms:
        if form["inputs"].get("csrf_token"):
            return form["inputs"]["csrf_token"]
    raise AssertionError("the page has a form with a csrf_token")


def sign_in_with_csrf(client, user):
    token = csrf_token_in(client.get("/login"))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "signed in with the form's token"


@pytest.fixture
def world(app, make, framework):
    """An admin, a participant waiting for a city, a city, a reset link and a thread: one of everything pages show."""
    city = make.city()
    admin = make.user(name="Alice Admin", role="admin", email="admin@example.org")
    waiting = make.user(name="Paula Participante", city=city.slug, confirmed=False, email="paula@example.org")
    with app.app_context():
        user = db.session.get(User, waiting.id)
        services.issue_api_token(db.session.get(User, admin.id), "dashboard")
        db.session.commit()
        # The admin writes both, so that every thread page (the edit forms too) opens for the admin.
        admin_user = db.session.get(User, admin.id)
        thread = thread_services.create_thread(admin_user, "Uma pergunta", "Como **fazer**?", "DM", ["DM2"], ["dados"])
        post = thread_services.add_post(thread, admin_user, "Assim, com @paula_participante.")
        values = {
            "slug": city.slug,
            "handle": waiting.handle,
            "token": services.password_reset_token(user),
            "confirmation_token": services.email_confirmation_token(user),
            "settings_token": notification_services.settings_token(waiting.id),
            "thread_id": thread.id,
            "post_id": post.id,
            "feed_token": calendar.calendar_feed(admin_user),
            "code": "DM2",
        }
    values["evidence_id"] = evidence_file(app, city.slug)
    mentor = make.user(name="Marta Mentora", role="mentor", email="marta@example.org")
    values["mentorship_id"] = mentorship_with_a_meeting(app, city.slug, admin.id, mentor.id)
    # The admin hosts a session that has ended, so its room, archive and host pages all open.
    values["session_id"] = schedule(app, admin.id)
    with app.app_context():
        live = db.session.get(LiveSession, values["session_id"])
        room_actions.start(live, live.host)
        room_chat.chat(live, live.host, "Bem-vindos!")
        room_actions.end(live, live.host)
    # A published case by the admin, with a file, so its page, edit form, revisions and download all open.
    values["case_slug"] = write_case(app, admin.id, publish_by=admin.id, city=city.slug)
    values["attachment_id"] = attach(app, values["case_slug"], admin.id)
    values["cycle"] = app.config["ASSESSMENT_CYCLE"]  # the current one: its past-cycle page sends to the dashboard
    values["record_token"] = activity_record(app, city.slug, admin.id)
    return {"admin": admin, "mentor": mentor, "waiting": waiting, "city": city, "values": values}


def activity_record(app, slug, admin_id):
    """A stored activity record, so that its public verification page opens."""
    from datetime import date

    from community.assessment.models import Criterion
    from community.assessment.records import ActivityRecord
    from community.cities.services import city_by_slug

    with app.app_context():
        record = ActivityRecord(
            token="k" * 32,
            city_id=city_by_slug(slug).id,
            criterion_id=db.session.scalar(db.select(Criterion.id).where(Criterion.code == "LC3")),
            period_start=date(2026, 1, 1),
            period_end=date(2026, 6, 30),
            language="pt_BR",
            record={"total_hours": 1.5, "people": [], "answers_accepted": [], "cases_published": []},
            sha256="0" * 64,
            issued_by_id=admin_id,
        )
        db.session.add(record)
        db.session.commit()
        return record.token


def mentorship_with_a_meeting(app, slug, admin_id, mentor_id):
    """An active mentorship of the city, with a goal and a meeting, so that every part of its page shows."""
    from community.cities.services import city_by_slug
    from community.mentorship import services as mentoring

    with app.test_request_context():
        admin, mentor = db.session.get(User, admin_id), db.session.get(User, mentor_id)
        mentorship = mentoring.assign(admin, mentor, city_by_slug(slug))
        mentoring.add_goal(admin, mentorship, {"criterion": "DM2", "title": "Inventário", "progress": 10})
        mentoring.log_meeting(
            admin,
            mentorship,
            {"held_on": "2026-11-20", "notes": "Pauta", "next_steps": [{"text": "Enviar", "owner_id": mentor.id}]},
        )
        mentoring.send_message(admin, mentorship, "Olá")
        db.session.commit()
        return mentorship.id


def evidence_file(app, slug):
    """A PDF the city keeps as evidence on DM2, stored as an upload; the admin may open it."""
    from werkzeug.datastructures import FileStorage

    from community.assessment import services as assessment_services
    from community.assessment.models import Evidence
    from community.cities.services import city_by_slug
    from community.core import uploads

    with app.app_context():
        assessment = assessment_services.open_assessment(city_by_slug(slug))
        answer = assessment_services.answer_for(assessment, "DM2")
        stored = uploads.store(FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "ata.pdf"), uploads.PDF, 1024 * 1024)
        evidence = Evidence(
            answer=answer,
            filename=stored.filename,
            stored_name=stored.stored_name,
            content_type=stored.content_type,
            size=stored.size,
        )
        db.session.add(evidence)
        db.session.commit()
        return evidence.id


def html_page_paths(app, values):
    """Every page a GET can reach (not the API, not static files), with example values for its arguments."""
    paths = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        missing = rule.arguments - set(values)
        assert not missing, f"{rule.rule}: add an example value for {sorted(missing)} to the `world` fixture"
        paths.append(adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments}))
    assert {"/", "/login", "/register", "/profile", "/admin/users/"} <= set(paths)
    return paths


def rendered_pages(app, world):
    """(label, response) for every page, seen by a visitor and by an admin, plus error and form-error pages."""
    visitor = app.test_client()
    admin = app.test_client()
    sign_in_with_csrf(admin, world["admin"])
    mentor = app.test_client()  # for the pages that are the mentors' own (their profile)
    sign_in_with_csrf(mentor, world["mentor"])
    pages = []
    for path in html_page_paths(app, world["values"]):
        for who, client in (("visitor", visitor), ("admin", admin)):
            response = client.get(path)
            if response.status_code == 302:
                continue  # a visitor sent to sign in, or a signed-in user sent home from /login
            if who == "admin" and response.status_code == 403:
                who, response = "mentor", mentor.get(path)
            assert response.status_code == 200, f"{who} {path}: {response.status_code}"
            if response.mimetype == "text/html":  # not the downloads (CSV, calendars, minutes)
                pages.append((f"{who} {path}", response))
    pages.append(("admin /admin/users/?pending=1", admin.get("/admin/users/?pending=1")))
    pages.append(("404 page", visitor.get("/no-such-page")))
    pages.append(
        (
            "login with errors",
            visitor.post("/login", data={"email": "x", "csrf_token": csrf_token_in(visitor.get("/login"))}),
        )
    )
    assert any(label.startswith("visitor /login") for label, _r in pages)
    assert any(label.startswith("admin /admin/users/") for label, _r in pages)
    return pages


# --- headers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/login", "/register", "/cities/", "/no-such-page", "/api/v1/cities", "/api/v1/openapi.json",
     "/api/v1/me", "/api/v1/nothing", "/static/css/app.css", "/static/js/app.js"],
)  # fmt: skip
def test_security_headers_on_pages_api_and_static_files(client, path):
    response = client.get(path)
    assert response.status_code in (200, 401, 404), path
    assert_security_headers(response)


def test_security_headers_on_the_pages_of_a_signed_in_admin(app, world):
    client = app.test_client()
    client.post("/login", data={"email": world["admin"].email, "password": PASSWORD})
    for path in ("/profile", "/profile/tokens", "/admin/users/", "/cities/new"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)


def test_the_csp_allows_the_socket_connection_to_this_site_only(client):
    csp = csp_directives(client.get("/"))
    assert csp["connect-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp.get("form-action") == ["'self'"]


# --- no inline script, CSRF in every form -----------------------------------------------------------------------


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_no_page_has_inline_script_or_style(app, world):
    problems = []
    for label, response in rendered_pages(app, world):
        page = parse(response)
        # Fragments (a post, the answers) are pieces that pages fetch and insert; only whole pages load scripts.
        assert page.scripts or "fragment" in label or "/answers" in label, f"{label}: the page loads its scripts"
        for attrs, body in page.scripts:
            if attrs.get("type") == "application/json" and not attrs.get("src"):
                continue  # data for a script (e.g. its translated words), never run
            if not attrs.get("src") or body.strip():
                problems.append(f"{label}: inline <script> {body.strip()[:60]!r}")
            elif not attrs["src"].startswith("/static/"):
                problems.append(f"{label}: script from elsewhere: {attrs['src']}")
        problems += [f"{label}: inline handler {tag} {name}" for tag, name in page.inline_handlers]
        problems += [f"{label}: javascript: URL on {tag}" for tag, _value in page.javascript_urls]
        problems += [f"{label}: style attribute on <{tag}>" for tag in page.style_attributes]
        if page.style_elements:
            problems.append(f"{label}: <style> element")
    assert not problems, "\n".join(problems)


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_every_post_form_carries_a_csrf_token(app, world):
    problems, post_forms = [], 0
    for label, response in rendered_pages(app, world):
        for form in parse(response).forms:
            if form["method"] != "post":
                assert "csrf_token" not in form["inputs"], f"{label}: a GET form would put the token in the URL"
                continue
            post_forms += 1
            if not form["inputs"].get("csrf_token"):
                problems.append(f"{label}: form posting to {form['action']!r} has no csrf_token")
    assert post_forms >= 10, "the walk reached the pages with forms"
    assert not problems, "\n".join(problems)


@pytest.mark.config(WTF_CSRF_ENABLED=True)
@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_a_form_post_without_the_csrf_token_is_refused_with_a_translated_page(app, client, make, accept, locale):
    user = make.user()
    for data in (
        {"email": user.email, "password": PASSWORD},
        {"email": user.email, "password": PASSWORD, "csrf_token": "forged"},
    ):
        response = client.post("/login", data=data, headers={"Accept-Language": accept})
        assert response.status_code == 400
        assert html_lang(response) == accept
        assert translated(locale, CSRF_MESSAGE) in text_of(response)
        assert_security_headers(response)
    assert client.get("/profile").status_code == 302, "not signed in"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_csrf_guards_signed_in_forms_too(app, client, make):
    user = make.user(locale="en")
    sign_in_with_csrf(client, user)
    assert client.post("/logout").status_code == 400
    assert client.get("/profile").status_code == 200, "still signed in"
    refused = client.post("/profile/tokens", data={"name": "sneaky"})
    assert refused.status_code == 400
    assert "Your form expired" in text_of(refused)
    assert client.post("/language", data={"locale": "es"}).status_code == 400
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"
    token = csrf_token_in(client.get("/profile"))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/profile").status_code == 302, "signed out with the token"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_the_page_exposes_the_csrf_token_to_scripts_in_a_meta_tag(client):
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match and match.group(1)


# --- request size -----------------------------------------------------------------------------------------------


def test_max_content_length_is_set(app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert isinstance(limit, int) and 0 < limit <= 50 * 1024 * 1024


def test_a_post_over_the_default_limit_is_413(app, client):
    body = b"a=" + b"x" * app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


@pytest.mark.config(MAX_CONTENT_LENGTH=1024)
@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_an_oversized_post_gives_a_translated_413_page(client, accept, locale):
    response = client.post(
        "/login", data={"email": "a@example.org", "password": "x" * 4096}, headers={"Accept-Language": accept}
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert html_lang(response) == accept
    assert translated(locale, "The file or form is too large.") in text_of(response)
    assert_security_headers(response)


@pytest.mark.config(MAX_CONTENT_LENGTH=1024)
def test_an_oversized_api_body_is_413_json(app, client, make):
    user = make.user()
    with app.app_context():
        _token, plain = services.issue_api_token(db.session.get(User, user.id), "t")
        db.session.commit()
    response = client.patch("/api/v1/me", json={"bio": "x" * 4096}, headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    with app.app_context():
        assert db.session.get(User, user.id).bio == ""


# --- error pages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_404_page_is_translated(client, accept, locale):
    response = client.get("/no-such-page", headers={"Accept-Language": accept})
    assert response.status_code == 404
    assert html_lang(response) == accept
    page = text_of(response)
    assert translated(locale, "We could not find that page.") in page
    assert translated(locale, "Go to the home page") in page


@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_403_page_is_translated(client, auth, make, accept, locale):
    auth.login(make.user())
    response = client.get("/admin/users/", headers={"Accept-Language": accept})
    assert response.status_code == 403
    assert html_lang(response) == accept
    assert translated(locale, "You do not have permission to do that.") in text_of(response)


@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_405_page_is_translated_and_names_the_allowed_methods(client, accept, locale):
    response = client.get("/logout", headers={"Accept-Language": accept})
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert html_lang(response) == accept
    assert translated(locale, "That action is not allowed here.") in text_of(response)


@pytest.mark.config(LOGIN_LIMIT_PER_ADDRESS="2 per minute")
@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_429_page_is_translated_and_says_when_to_retry(client, accept, locale):
    for n in range(2):
        response = client.post("/login", data={"email": f"guess{n}@example.org", "password": "wrong"})
        assert response.status_code == 400
    response = client.post(
        "/login", data={"email": "guess9@example.org", "password": "wrong"}, headers={"Accept-Language": accept}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert html_lang(response) == accept
    page = text_of(response)
    assert translated(locale, "Too many attempts. Please wait a moment and try again.") in page
    assert "per 1 minute" not in page, "the limit's English description is not shown"


def add_error_routes(app):
    """Routes under /api and on pages that end in 403, 429 and a server error; added before any request."""

    @admin_required
    def admin_only():
        return {"ok": True}

    @limiter.limit("1 per minute")
    @public
    def limited():
        return {"ok": True}

    @public
    def forbidden():
        abort(403)

    app.add_url_rule("/api/v1/test-admin-only", "test_admin_only", admin_only)
    app.add_url_rule("/api/v1/test-limited", "test_limited", limited)
    app.add_url_rule("/api/v1/test-forbidden", "test_forbidden", forbidden)


@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_errors_under_api_are_translated_json(app, client, auth, make, accept, locale):
    add_error_routes(app)
    headers = {"Accept-Language": accept}
    expected = {
        "/api/v1/cities/atlantis": (404, "not_found", "We could not find that page."),
        "/api/v1/nothing": (404, "not_found", "We could not find that page."),
        "/api/v1/me": (401, "unauthorized", "Please sign in to continue."),
        "/api/v1/test-forbidden": (403, "forbidden", "You do not have permission to do that."),
    }
    for path, (status, code, message) in expected.items():
        response = client.get(path, headers=headers)
        assert response.status_code == status, path
        assert response.get_json() == {"error": code, "message": translated(locale, message)}, path
    wrong_method = client.post("/api/v1/cities", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"] == "method_not_allowed"
    assert wrong_method.get_json()["message"] == translated(locale, "That action is not allowed here.")

    assert client.get("/api/v1/test-limited", headers=headers).status_code == 200
    limited = client.get("/api/v1/test-limited", headers=headers)
    assert limited.status_code == 429
    assert limited.get_json() == {
        "error": "rate_limited",
        "message": translated(locale, "Too many attempts. Please wait a moment and try again."),
    }
    assert int(limited.headers["Retry-After"]) > 0

    auth.login(make.user())
    forbidden = client.get("/api/v1/test-admin-only", headers=headers)
    assert forbidden.status_code == 403 and forbidden.get_json()["error"] == "forbidden"


def test_pages_asked_for_as_json_get_json_errors(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


@pytest.fixture
def crashing_app(tmp_path):
    """An app whose errors are handled as in production (not propagated to the test), with routes that crash."""
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'crash.db'}",
            "PROPAGATE_EXCEPTIONS": False,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
        },
    )

    @public
    def crash():
        raise RuntimeError("secret-marker: password=hunter2")

    app.add_url_rule("/crash", "crash", crash)
    app.add_url_rule("/api/v1/crash", "api_crash", crash)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("accept", "locale"), LANGS)
def test_a_500_shows_the_translated_error_page_and_no_traceback(crashing_app, caplog, accept, locale):
    response = crashing_app.test_client().get("/crash", headers={"Accept-Language": accept})
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert html_lang(response) == accept
    page = text_of(response)
    assert translated(locale, "Something went wrong on our side. Please try again later.") in page
    for leak in ("Traceback", "secret-marker", "hunter2", "RuntimeError", 'File "', "werkzeug"):
        assert leak not in page
    assert_security_headers(response)
    assert any("secret-marker" in str(r.exc_info[1]) for r in caplog.records if r.exc_info), "the error is logged"


def test_a_500_under_api_is_json_without_details(crashing_app):
    response = crashing_app.test_client().get("/api/v1/crash", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    body = response.get_json()
    assert body == {
        "error": "server_error",
        "message": translated("en", "Something went wrong on our side. Please try again later."),
    }
    assert "secret-marker" not in response.get_data(as_text=True)


def test_the_testing_app_is_not_in_debug_mode(app):
    assert not app.debug


# --- production configuration -----------------------------------------------------------------------------------


@pytest.fixture
def no_secret_in_environment(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)


@pytest.mark.usefixtures("no_secret_in_environment")
@pytest.mark.parametrize("overrides", [None, {"SECRET_KEY": ""}])
def test_production_refuses_to_start_without_a_secret_key(overrides):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set in production"):
        create_app("production", overrides)


@pytest.mark.usefixtures("no_secret_in_environment")
def test_production_does_not_invent_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError):
        create_app("production")
    assert not (tmp_path / "secret_key").exists()


@pytest.fixture
def production_app(tmp_path, no_secret_in_environment):
    app = create_app(
        "production",
        {
            "SECRET_KEY": "a-long-random-production-secret-for-the-tests-0123456789",
            "SITE_URL": "https://comunidade.example.org",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'production.db'}",
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "SOCKETIO_MESSAGE_QUEUE": None,
        },
    )
    with app.app_context():
        db.create_all()
        services.create_user("prod@example.org", "Prod User", PASSWORD)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def cookie_header(response, name):
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, f"{name} cookie is set"
    return headers[-1]


def test_production_cookies_are_secure_httponly_and_lax(production_app):
    config = production_app.config
    assert not config["DEBUG"] and not config["TESTING"]
    assert config["WTF_CSRF_ENABLED"]
    for prefix in ("SESSION", "REMEMBER"):
        assert config[f"{prefix}_COOKIE_SECURE"] is True
        assert config[f"{prefix}_COOKIE_HTTPONLY"] is True
        assert config[f"{prefix}_COOKIE_SAMESITE"] == "Lax"

    client = production_app.test_client()
    base = "https://comunidade.example.org"
    login_page = client.get("/login", base_url=base)
    assert login_page.status_code == 200
    token = csrf_token_in(login_page)
    response = client.post(
        "/login",
        base_url=base,
        data={"email": "prod@example.org", "password": PASSWORD, "remember_me": "y", "csrf_token": token},
        headers={"Referer": f"{base}/login"},
    )
    assert response.status_code == 302
    for name in ("__Host-session", "__Host-remember_token"):
        cookie = cookie_header(response, name)
        assert "; Secure" in cookie
        assert "; HttpOnly" in cookie
        assert "; SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_security_headers(response)


def test_production_refuses_a_cross_site_form_post(production_app):
    client = production_app.test_client()
    base = "https://comunidade.example.org"
    token = csrf_token_in(client.get("/login", base_url=base))
    response = client.post(
        "/login",
        base_url=base,
        data={"email": "prod@example.org", "password": PASSWORD, "csrf_token": token},
        headers={"Referer": "https://evil.example.com/"},
    )
    assert response.status_code == 400


# --- Socket.IO --------------------------------------------------------------------------------------------------


def assert_socketio_limits():
    eio = socketio.server.eio
    origins = eio.cors_allowed_origins
    assert origins != "*"
    assert origins is None or "*" not in origins
    assert 0 < eio.max_http_buffer_size <= 1024 * 1024


def handshake(app, origin=None):
    headers = {"Origin": origin} if origin else {}
    return app.test_client().get("/socket.io/?EIO=4&transport=polling", headers=headers)


def test_socketio_accepts_only_this_site_and_small_messages(app):
    assert_socketio_limits()
    assert handshake(app, "http://localhost").status_code == 200
    assert handshake(app, "https://evil.example.com").status_code == 400
    assert handshake(app, "null").status_code == 400


@pytest.mark.config(SOCKETIO_ALLOWED_ORIGINS=["https://partner.example.org"])
def test_socketio_accepts_configured_origins_only(app):
    assert socketio.server.eio.cors_allowed_origins == ["https://partner.example.org"]
    assert handshake(app, "https://partner.example.org").status_code == 200
    assert handshake(app, "https://evil.example.com").status_code == 400


def test_production_socketio_settings(production_app):
    assert_socketio_limits()
    assert "*" not in (production_app.config["SOCKETIO_ALLOWED_ORIGINS"] or [])


def test_socketio_libraries_have_the_security_fixes():
    assert Version(version("python-socketio")) >= Version("5.14")
    assert Version(version("python-engineio")) >= Version("4.12")
