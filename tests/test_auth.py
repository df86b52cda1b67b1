"""Registration, sign-in and out, remember me, rate limits, password resets and changes, the profile."""

import re

import pytest
import sqlalchemy as sa

from community.auth import services
from community.auth.models import User
from community.extensions import db
from tests.conftest import PASSWORD, outbox


def register(client, **fields):
    data = {
        "email": "nova@recife.example.org",
        "display_name": "Nova Pessoa",
        "city": "",
        "password": PASSWORD,
        "password2": PASSWORD,
        "timezone": "America/Recife",
    }
    data.update(fields)
    return client.post("/register", data=data, headers={"Accept-Language": "en"})


def auth_login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def stored_user(app, email):
    with app.app_context():
        user = services.user_by_email(email)
        return (
            None
            if user is None
            else {c: getattr(user, c) for c in ("id", "city_id", "city_confirmed_at", "timezone", "role", "handle")}
        )


def confirmation_link(app):
    body = outbox(app)[-1].get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/confirm/\S+)", body).group(1)


def test_register_signs_in_once_the_address_is_confirmed_and_asks_to_join_the_city(app, client, make):
    recife = make.city()
    response = register(client, city=recife.slug)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/profile").status_code == 302, "not signed in before the address is confirmed"
    assert auth_login(client, "nova@recife.example.org").status_code == 400, "nor can sign in"
    assert client.get(confirmation_link(app)).status_code == 200
    assert client.get("/profile").status_code == 302, "opening the link changes nothing"
    assert client.post(confirmation_link(app), headers={"Accept-Language": "en"}).status_code == 302
    user = stored_user(app, "nova@recife.example.org")
    assert user["city_id"] == recife.id
    assert user["city_confirmed_at"] is None, "membership waits for an admin"
    assert user["timezone"] == "America/Recife"
    assert user["role"] == "participant"
    assert user["handle"] == "nova_pessoa"
    home = client.get("/", headers={"Accept-Language": "en"})
    assert b"Nova Pessoa" in home.data
    assert b"will confirm that you work for Recife" in home.data


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, b"Invalid email address"),
        ({"email": ""}, b"This field is required"),
        ({"display_name": ""}, b"This field is required"),
        ({"display_name": "x" * 81}, b"Field must be between 2 and 80 characters long"),
        ({"password": "short", "password2": "short"}, b"between 8 and 128 characters"),
        ({"password": "x" * 129, "password2": "x" * 129}, b"between 8 and 128 characters"),
        ({"password2": "something else"}, b"The passwords do not match"),
        ({"timezone": "Mars/Olympus"}, b"Choose a time zone from the list"),
        ({"city": "atlantis"}, b"Not a valid choice"),
    ],
)
def test_register_refuses_bad_input_and_keeps_what_was_typed(app, client, fields, message):
    response = register(client, **fields)
    assert response.status_code == 400
    assert message in response.data
    if fields.get("display_name", "Nova Pessoa"):
        assert b'value="Nova Pessoa"' in response.data or "display_name" in fields
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_register_with_a_taken_email_makes_no_account_whatever_its_case(app, client, make):
    make.user(email="nova@recife.example.org")
    response = register(client, email="Nova@Recife.Example.org")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_password_is_hashed_with_a_current_algorithm(app, make):
    user = make.user()
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.set_password("a new password")
        assert stored.password_hash.startswith("scrypt:")
        assert "a new password" not in stored.password_hash
        assert stored.check_password("a new password")


def test_sign_in_and_out(client, auth, make):
    user = make.user()
    response = auth.login(user)
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert client.get("/logout").status_code == 405, "signing out is a POST"
    assert auth.logout().status_code == 302
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [("ana@example.org", "wrong password"), ("nobody@example.org", PASSWORD), ("", PASSWORD), ("ana@example.org", "")],
)
def test_sign_in_refuses_wrong_credentials(client, auth, make, email, password):
    make.user(email="ana@example.org")
    response = client.post("/login", data={"email": email, "password": password}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert client.get("/profile").status_code == 302


def test_deactivated_user_cannot_sign_in(client, auth, make):
    user = make.user(active=False)
    assert auth.login(user).status_code == 400


def test_remember_me_sets_a_lasting_cookie(client, auth, make):
    user = make.user()
    response = auth.login(user, remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "Expires=" in remember[0]
    without = auth.logout() and auth.login(user)
    assert not [
        c
        for c in without.headers.getlist("Set-Cookie")
        if c.startswith("remember_token=") and "Expires=Thu, 01 Jan 1970" not in c
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/cities/", "/cities/"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/", "/"),
        ("/\\evil.example.com", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example.com", "/"),
    ],
)
def test_next_never_leaves_the_site(client, make, target, expected):
    user = make.user()
    response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_sign_in_is_limited_per_account_and_address(client, make):
    user = make.user()
    for _ in range(5):
        response = client.post(
            "/login", data={"email": user.email, "password": "wrong"}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
        )
        assert response.status_code == 400
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    owner = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.99"}
    )
    assert owner.status_code == 302, "failures from another address never lock the owner out"


def test_sign_in_is_limited_per_address(client, make):
    for n in range(20):
        response = client.post("/login", data={"email": f"guess{n}@example.org", "password": "wrong"})
        assert response.status_code == 400
    user = make.user()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429
    elsewhere = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert elsewhere.status_code == 302


def test_successful_sign_ins_do_not_count_towards_the_limit(client, auth, make):
    user = make.user()
    for _ in range(8):
        assert auth.login(user).status_code == 302
        auth.logout()


def reset_link(app):
    messages = outbox(app)
    assert messages, "a reset e-mail was written to the outbox"
    body = messages[-1].get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/reset/\S+)", body).group(1), messages[-1]


def test_password_reset_by_email_link_works_once(app, client, auth, make):
    user = make.user(locale="pt_BR")
    response = client.post("/reset", data={"email": user.email})
    assert response.status_code == 302
    path, message = reset_link(app)
    assert message["To"] == user.email
    assert "nova senha" in message["Subject"].lower(), "the e-mail speaks the user's language"
    assert client.get(path).status_code == 200
    bad = client.post(path, data={"password": "new password 1", "password2": "different"})
    assert bad.status_code == 400
    done = client.post(path, data={"password": "new password 1", "password2": "new password 1"})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert auth.login(user.email, "new password 1").status_code == 302
    auth.logout()
    again = client.post(path, data={"password": "new password 2", "password2": "new password 2"})
    assert again.status_code == 302 and again.headers["Location"] == "/reset", "the link is single-use"
    assert auth.login(user.email, "new password 2").status_code == 400


def test_password_reset_link_expires(app, client, make):
    user = make.user()
    client.post("/reset", data={"email": user.email})
    path, _message = reset_link(app)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.post(path, data={"password": "new password 1", "password2": "new password 1"})
    assert response.status_code == 302 and response.headers["Location"] == "/reset"
    with app.app_context():
        assert db.session.get(User, user.id).check_password(PASSWORD), "the password is unchanged"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 500])
def test_password_reset_refuses_a_forged_token(client, token):
    response = client.get(f"/reset/{token}")
    assert response.status_code == 302 and response.headers["Location"] == "/reset"


def test_password_reset_reveals_nothing_about_unknown_addresses(app, client, make):
    known = make.user()
    unknown = client.post("/reset", data={"email": "nobody@example.org"})
    assert unknown.status_code == 302
    assert outbox(app) == []
    known_response = client.post("/reset", data={"email": known.email})
    assert known_response.status_code == unknown.status_code
    assert known_response.headers["Location"] == unknown.headers["Location"]


def test_changing_the_password_signs_out_other_sessions(app, auth, make):
    user = make.user()
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD, "remember_me": "y"})
    assert other_device.get("/profile").status_code == 200
    auth.login(user)
    response = auth.client.post(
        "/profile/password",
        data={"current_password": PASSWORD, "password": "brand new secret", "password2": "brand new secret"},
    )
    assert response.status_code == 302
    assert auth.client.get("/profile").status_code == 200, "this session stays signed in"
    assert other_device.get("/profile").status_code == 302, "the other session and its remember cookie are refused"


def test_changing_the_password_needs_the_current_one(app, auth, make):
    user = make.user()
    auth.login(user)
    response = auth.client.post(
        "/profile/password",
        data={"current_password": "not it", "password": "brand new secret", "password2": "brand new secret"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert b"That is not your current password" in response.data
    with app.app_context():
        assert db.session.get(User, user.id).check_password(PASSWORD)


def profile_data(**fields):
    data = {
        "display_name": "Ana Souza",
        "handle": "ana_souza",
        "bio": "",
        "city": "",
        "locale": "",
        "timezone": "America/Sao_Paulo",
    }
    data.update(fields)
    return data


def test_profile_saves_name_bio_locale_and_time_zone(app, client, auth, make):
    user = make.user()
    auth.login(user)
    response = client.post(
        "/profile",
        data=profile_data(
            display_name="Ana S.",
            bio="Gerente de **dados** <script>alert(1)</script>",
            locale="es",
            timezone="America/Bogota",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert (stored.display_name, stored.locale, stored.timezone) == ("Ana S.", "es", "America/Bogota")
        assert "<strong>dados</strong>" in stored.bio_html and "<script" not in stored.bio_html
    page = client.get("/profile")
    assert '<html lang="es">' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Nowhere/Land"}, b"Choose a time zone from the list"),
        ({"locale": "fr"}, b"Not a valid choice"),
        ({"handle": "No Spaces!"}, b"lowercase letters"),
        ({"display_name": ""}, b"This field is required"),
        ({"bio": "x" * 2001}, b"2000"),
    ],
)
def test_profile_refuses_bad_input(app, client, auth, make, fields, message):
    user = make.user(locale="en")
    auth.login(user)
    response = client.post("/profile", data=profile_data(**fields))
    assert response.status_code == 400
    assert message in response.data
    with app.app_context():
        assert db.session.get(User, user.id).timezone is None, "nothing was saved"


def test_profile_refuses_a_handle_taken_by_someone_else(client, auth, make):
    make.user(name="Beatriz Rocha")
    user = make.user(locale="en")
    auth.login(user)
    response = client.post("/profile", data=profile_data(handle="beatriz_rocha"))
    assert response.status_code == 400
    assert b"This handle is taken" in response.data


def test_changing_city_in_the_profile_asks_again(app, client, auth, make):
    recife, fortaleza = make.city(), make.city("Fortaleza", "Ceará")
    user = make.user(city=recife.slug)
    auth.login(user)
    client.post("/profile", data=profile_data(city=fortaleza.slug))
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.city_id == fortaleza.id and stored.city_confirmed_at is None


def test_api_tokens_are_shown_once_and_can_be_revoked(app, client, auth, make):
    user = make.user()
    auth.login(user)
    response = client.post("/profile/tokens", data={"name": "dashboard"})
    assert response.status_code == 200
    token = re.search(rb"cmt_[\w-]+", response.data).group().decode()
    assert client.get("/profile/tokens").data.count(token.encode()) == 0, "shown only once"
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(sa.select(User).where(User.id == user.id)).api_tokens.select()
        token_id = db.session.scalars(token_id).one().id
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_nobody_revokes_another_users_token(app, client, auth, make):
    owner = make.user(name="Owner")
    with app.app_context():
        token, _plain = services.issue_api_token(db.session.get(User, owner.id), "mine")
        db.session.commit()
        token_id = token.id
    auth.login(make.user(name="Intruder"))
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 404
