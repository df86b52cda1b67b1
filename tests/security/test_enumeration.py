"""Registering or resetting answers alike whether the address has an account or not (ASVS 5.0 V6.3.8, V2.4.1)."""

import re

import pytest
import sqlalchemy as sa

from community.auth.models import User
from community.extensions import db
from tests.conftest import PASSWORD, outbox

EN = {"Accept-Language": "en"}


def registration(email):
    return {
        "email": email,
        "display_name": "Nova Pessoa",
        "city": "",
        "password": PASSWORD,
        "password2": PASSWORD,
        "timezone": "America/Recife",
    }


def answer(client, path, data):
    """What the visitor sees: the response's status and place, then the page it leads to, the address blanked."""
    response = client.post(path, data=data, headers=EN)
    page = client.get(response.headers.get("Location", path), headers=EN).get_data(as_text=True)
    page = re.sub(r"(csrf_token|csrf-token)\"[^>]*>", "", page).replace(data["email"], "EMAIL")
    return response.status_code, response.headers.get("Location"), page


def test_registering_a_taken_address_answers_like_a_new_one_and_tells_its_owner(app, make):
    owner = make.user(email="ana@mogi.example.org", locale="en")
    taken = answer(app.test_client(), "/register", registration(owner.email))
    new = answer(app.test_client(), "/register", registration("nova@recife.example.org"))
    assert taken == new
    assert taken[:2] == (302, "/login")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == owner.email)) == 1
    to_owner, to_new = (m for m in outbox(app) if m["To"] in (owner.email, "nova@recife.example.org"))
    assert to_owner["To"] == owner.email and "tried" in to_owner["Subject"]
    assert "/reset" in to_owner.get_content() and "/confirm/" not in to_owner.get_content()
    assert to_new["To"] == "nova@recife.example.org" and "/confirm/" in to_new.get_content()


def test_resetting_answers_alike_for_known_and_unknown_addresses(app, make):
    owner = make.user()
    known = answer(app.test_client(), "/reset", {"email": owner.email})
    unknown = answer(app.test_client(), "/reset", {"email": "nobody@example.org"})
    assert known == unknown and known[0] == 302


def test_a_confirmation_link_is_for_one_address_and_cannot_be_forged(app, client):
    client.post("/register", data=registration("nova@recife.example.org"))
    link = re.search(r"http://localhost(/confirm/\S+)", outbox(app)[-1].get_content()).group(1)
    assert client.post(link[:-3] + "abc").status_code == 302
    assert client.get("/profile").status_code == 302, "a forged link signs nobody in"
    assert client.post(link).status_code == 302
    assert client.get("/profile").status_code == 200


@pytest.mark.config(SENSITIVE_FORM_LIMIT="3 per hour")
@pytest.mark.parametrize("path", ["/register", "/reset"])
def test_every_attempt_counts_toward_the_limit(client, make, path):
    owner = make.user()
    for data in ({"email": "not an address"}, registration(owner.email), registration("x@example.org")):
        assert client.post(path, data=data, headers=EN).status_code in (302, 400)
    refused = client.post(path, data=registration("y@example.org"), headers=EN)
    assert refused.status_code == 429 and b"Too many attempts" in refused.data
