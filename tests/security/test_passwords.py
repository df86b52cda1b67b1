"""Weak and common passwords are refused, with a translated reason, wherever one is chosen (ASVS 5.0 V6.2)."""

import re

import pytest
import sqlalchemy as sa

from community.auth.models import User
from community.extensions import db
from tests.conftest import PASSWORD, outbox

WEAK = ["12345678", "password1", "iloveyou2", "qwertyui", "abcdefgh", "87654321", "Password123!"]
MESSAGES = {
    "en": ("most used passwords", "too easy to guess"),
    "pt_BR": ("senhas mais usadas", "fácil de adivinhar"),
}


def refused_for_weakness(response, locale="en"):
    text = response.get_data(as_text=True)
    return response.status_code == 400 and any(message in text for message in MESSAGES[locale])


def register(client, password, locale="en", email="nova@recife.example.org"):
    data = {"email": email, "display_name": "Nova Pessoa", "city": "", "password": password, "password2": password,
            "timezone": "America/Recife"}  # fmt: skip
    return client.post("/register", data=data, headers={"Accept-Language": locale})


@pytest.mark.parametrize("password", WEAK)
def test_registration_refuses_weak_passwords_and_stores_nothing(app, client, password):
    assert refused_for_weakness(register(client, password))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_the_reason_is_translated(client):
    assert refused_for_weakness(register(client, "12345678", "pt_BR"), "pt_BR")
    assert refused_for_weakness(register(client, "abcdefgh", "pt_BR"), "pt_BR")


def test_a_password_made_of_the_owners_own_name_or_address_is_refused(client):
    assert refused_for_weakness(register(client, "novapessoa", email="novapessoa@recife.example.org"))


def test_long_unrelated_words_are_accepted(client):
    assert register(client, PASSWORD).status_code == 302


def test_a_password_change_refuses_weak_passwords(app, client, auth, make):
    user = make.user()
    auth.login(user)
    for password in ("12345678", "qwertyui"):
        response = client.post(
            "/profile/password", data={"current_password": PASSWORD, "password": password, "password2": password},
            headers={"Accept-Language": "en"},
        )  # fmt: skip
        assert refused_for_weakness(response)
    assert auth.login(user, PASSWORD)  # the old password still works
    with app.app_context():
        assert db.session.get(User, user.id).check_password(PASSWORD)


def test_a_reset_refuses_weak_passwords(app, client, make):
    user = make.user()
    client.post("/reset", data={"email": user.email})
    path = re.search(r"http://localhost(/reset/\S+)", outbox(app)[-1].get_content()).group(1)
    response = client.post(path, data={"password": "password1", "password2": "password1"},
                           headers={"Accept-Language": "en"})  # fmt: skip
    assert refused_for_weakness(response)
    with app.app_context():
        assert db.session.get(User, user.id).check_password(PASSWORD)
