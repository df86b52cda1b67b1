"""Production cookies carry the __Host- prefix, HSTS covers subdomains, and the notification-settings link in an
e-mail expires (ASVS 5.0 V3.3.1, V3.4.1, V7.2)."""

import re
import time

import pytest

from tests.conftest import PASSWORD
from tests.test_notifications import add, mails_to, people  # noqa: F401 (a fixture)
from tests.test_security import (  # noqa: F401 (fixtures)
    cookie_header,
    csrf_token_in,
    no_secret_in_environment,
    production_app,
)

BASE = "https://comunidade.example.org"


def test_production_cookies_use_the_host_prefix_and_hsts_covers_subdomains(production_app):  # noqa: F811
    client = production_app.test_client()
    token = csrf_token_in(client.get("/login", base_url=BASE))
    response = client.post(
        "/login",
        base_url=BASE,
        data={"email": "prod@example.org", "password": PASSWORD, "remember_me": "y", "csrf_token": token},
        headers={"Referer": f"{BASE}/login"},
    )
    assert response.status_code == 302
    for name in ("__Host-session", "__Host-remember_token"):
        cookie = cookie_header(response, name)
        assert "; Secure" in cookie and "; Path=/" in cookie and "Domain=" not in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert client.get("/profile", base_url=BASE).status_code == 200, "the prefixed cookie signs the browser in"


@pytest.mark.config(SETTINGS_LINK_MAX_AGE=0)
def test_the_notification_settings_link_expires(app, people):  # noqa: F811
    ana, beatriz, _carlos = people
    add(app, ana, actor=beatriz)
    [mail] = mails_to(app, ana)
    link = re.search(r"http://localhost(/notifications/settings/\S+)", mail.get_content()).group(1)
    time.sleep(1.1)
    assert app.test_client().get(link).status_code == 404


def test_a_fresh_notification_settings_link_works(app, people):  # noqa: F811
    ana, beatriz, _carlos = people
    add(app, ana, actor=beatriz)
    [mail] = mails_to(app, ana)
    link = re.search(r"http://localhost(/notifications/settings/\S+)", mail.get_content()).group(1)
    assert app.test_client().get(link).status_code == 200
