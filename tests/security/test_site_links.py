"""Links that leave the site come from SITE_URL, never from the request's Host header (ASVS 5.0 V3.3, V13.4)."""

import re
from pathlib import Path

import pytest

from community import create_app
from community.extensions import db
from community.notifications import services as notices
from tests.conftest import outbox

SITE = "https://comunidade.example.org"
EVIL = "http://evil.example.com"
FORGED = {"Host": "evil.example.com"}
ROOT = Path(__file__).resolve().parents[2]


def links_in(mail):
    return re.findall(r"https?://\S+", mail.get_body(("plain",)).get_content())


@pytest.mark.config(SITE_URL=SITE)
def test_a_reset_asked_with_a_forged_host_mails_a_link_to_the_real_site(app, client, make):
    user = make.user()
    response = client.post("/reset", data={"email": user.email}, headers=FORGED)
    assert response.status_code == 302
    [mail] = outbox(app)
    links = links_in(mail)
    assert links and all(link.startswith(f"{SITE}/reset/") for link in links)
    assert "evil.example.com" not in mail.get_body(("plain",)).get_content()


@pytest.mark.config(SITE_URL=SITE)
def test_notice_links_and_the_settings_link_come_from_site_url(app, make):
    ana, beatriz = make.user(name="Ana Souza"), make.user(name="Beatriz Rocha")
    with app.test_request_context("/", base_url=EVIL):
        notices.notify(ana.id, "reply", actor_id=beatriz.id, url="/cities/", data={"thread_id": 1, "title": "T"})
        db.session.commit()
    [mail] = outbox(app)
    links = links_in(mail)
    assert links and all(link.startswith(f"{SITE}/") for link in links)


@pytest.mark.config(SITE_URL=SITE)
def test_the_calendar_feed_address_and_the_api_urls_come_from_site_url(app, client, auth, make):
    user = make.user()
    auth.login(user)
    # The test client keeps cookies per host: hand the session cookie over by hand, as a browser tricked would.
    forged = {**FORGED, "Cookie": f"session={client.get_cookie('session').value}"}
    browser = app.test_client(use_cookies=False)
    page = browser.get("/sessions/calendar", headers=forged).get_data(as_text=True)
    assert re.search(rf"{SITE}/sessions/calendar/[\w.-]+\.ics", page)
    assert "evil.example.com" not in page
    me = browser.get("/api/v1/me", headers=forged).get_json()
    assert me["url"].startswith(f"{SITE}/")


def production(tmp_path, **overrides):
    settings = {
        "SECRET_KEY": "a-long-random-production-secret-for-the-tests-0123456789",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'production.db'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SOCKETIO_MESSAGE_QUEUE": None,
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    return create_app("production", {**settings, **overrides})


@pytest.mark.parametrize("site", [None, "", "comunidade.example.org"])
def test_production_refuses_to_start_without_site_url(tmp_path, monkeypatch, site):
    monkeypatch.delenv("SITE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SITE_URL must be set in production"):
        production(tmp_path, SITE_URL=site)


def test_production_answers_only_for_its_own_host(tmp_path):
    app = production(tmp_path, SITE_URL=SITE)
    assert app.config["TRUSTED_HOSTS"] == ["comunidade.example.org"]
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.get("/healthz", base_url=SITE).status_code == 200
    assert client.get("/healthz", base_url=EVIL).status_code == 400
    assert client.post("/reset", data={"email": "a@example.org"}, base_url=EVIL).status_code == 400


def test_nginx_closes_requests_for_unknown_hosts():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    default = re.search(r"server \{[^}]*default_server[^}]*\}", conf)
    assert default, "a default_server block catches unknown hosts"
    assert "return 444;" in default.group(0)
    assert "listen 443 ssl default_server;" in default.group(0)
