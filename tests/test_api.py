"""The JSON API: authentication by cookie or bearer token, CSRF on cookie writes, PATCH /me, errors, OpenAPI."""

import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

from community.auth import services
from community.auth.models import ApiToken, User
from community.extensions import db
from tests.conftest import PASSWORD
from tests.test_i18n import forget_loaded_translations, translated, use_fresh_catalogs

ME = "/api/v1/me"


@pytest.fixture(autouse=True)
def fresh_catalogs(monkeypatch, tmp_path_factory):
    use_fresh_catalogs(monkeypatch, tmp_path_factory)
    yield
    forget_loaded_translations()


def issue_token(app, user_id, name="tests"):
    with app.app_context():
        _token, plain = services.issue_api_token(db.session.get(User, user_id), name)
        db.session.commit()
        return plain


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def stored(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        return {c: getattr(user, c) for c in ("display_name", "locale", "timezone", "bio", "bio_html", "role", "email")}


def csrf_token_in(html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "the page carries a csrf_token input"
    return match.group(1)


def sign_in_with_csrf(client, user):
    """Sign in through the form with CSRF on; return the session's CSRF token."""
    token = csrf_token_in(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return csrf_token_in(client.get("/profile").get_data(as_text=True))


def assert_json_error(response, status, code):
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


# --- GET /api/v1/me -------------------------------------------------------------------------------------------


def test_me_with_the_session_cookie(client, auth, make):
    city = make.city()
    user = make.user(email="ana@recife.example.org", city=city.slug, locale="es", timezone="America/Recife")
    auth.login(user)
    response = client.get(ME)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == user.id
    assert body["email"] == "ana@recife.example.org"
    assert body["handle"] == user.handle
    assert body["display_name"] == "Ana Souza"
    assert body["role"] == "participant"
    assert body["city"] == city.slug
    assert body["locale"] == "es"
    assert body["timezone"] == "America/Recife"
    assert body["url"] == f"http://localhost/people/{user.handle}"
    assert "password_hash" not in body and "session_token" not in body


def test_me_with_a_bearer_token(app, make):
    user = make.user(email="token@example.org")
    token = issue_token(app, user.id)
    assert token.startswith(ApiToken.PREFIX)
    client = app.test_client()
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["email"] == "token@example.org"
    assert response.headers.getlist("Set-Cookie") == [], "a token request starts no session"
    assert client.get(ME).status_code == 401, "the token is needed on every request"
    assert client.get(ME, headers={"Authorization": f"bearer {token}"}).status_code == 200, "the scheme ignores case"


def test_me_shows_a_requested_city_until_it_is_confirmed(client, auth, make):
    city = make.city()
    user = make.user(city=city.slug, confirmed=False)
    auth.login(user)
    body = client.get(ME).get_json()
    assert body["city"] is None
    assert body["requested_city"] == city.slug


def test_me_without_authentication_is_401_json(client):
    body = assert_json_error(client.get(ME), 401, "unauthorized")
    assert set(body) == {"error", "message"}


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Token cmt_abc", "", "Bearer"],
    ids=["basic", "other-scheme", "empty", "bearer-without-token"],
)
def test_me_with_a_non_bearer_or_empty_authorization_is_401(client, header):
    response = client.get(ME, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"] in {"unauthorized", "invalid_token"}


@pytest.mark.parametrize("token", ["cmt_not-a-real-token", "garbage", "cmt_", "x" * 500])
def test_me_with_an_invalid_token_is_401_invalid_token(client, make, token):
    make.user()
    assert_json_error(client.get(ME, headers=bearer(token)), 401, "invalid_token")


def test_a_revoked_token_is_refused(app, make):
    user = make.user()
    plain = issue_token(app, user.id)
    client = app.test_client()
    assert client.get(ME, headers=bearer(plain)).status_code == 200
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == user.id))
        services.revoke_api_token(token)
        db.session.commit()
    assert_json_error(client.get(ME, headers=bearer(plain)), 401, "invalid_token")


def test_a_deactivated_users_token_is_refused(app, make):
    user = make.user()
    plain = issue_token(app, user.id)
    client = app.test_client()
    assert client.get(ME, headers=bearer(plain)).status_code == 200
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    response = client.get(ME, headers=bearer(plain))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_a_token_belongs_to_its_user_only(app, make):
    ana = make.user(email="ana@example.org")
    bia = make.user(email="bia@example.org", name="Beatriz Rocha")
    client = app.test_client()
    assert client.get(ME, headers=bearer(issue_token(app, ana.id))).get_json()["email"] == "ana@example.org"
    assert client.get(ME, headers=bearer(issue_token(app, bia.id))).get_json()["email"] == "bia@example.org"


def test_only_a_digest_of_the_token_is_stored(app, make):
    user = make.user()
    plain = issue_token(app, user.id)
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == user.id))
        assert token.token_hash != plain and plain not in token.token_hash
        assert token.token_hash == ApiToken.digest(plain)
        assert plain.startswith(token.hint)


def test_a_bearer_token_does_not_open_html_pages(app, make):
    user = make.user()
    plain = issue_token(app, user.id)
    response = app.test_client().get("/profile", headers=bearer(plain))
    assert response.status_code == 302, "tokens are for /api only; pages need the session"
    assert "/login" in response.headers["Location"]


# --- PATCH /api/v1/me -----------------------------------------------------------------------------------------


def test_patch_me_with_a_bearer_token_needs_no_csrf(app, make):
    user = make.user()
    plain = issue_token(app, user.id)
    response = app.test_client().patch(
        ME,
        json={"display_name": "  Ana S.  ", "locale": "en", "timezone": "Asia/Tokyo", "bio": "Dados **abertos**"},
        headers=bearer(plain),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["display_name"], body["locale"], body["timezone"]) == ("Ana S.", "en", "Asia/Tokyo")
    saved = stored(app, user.id)
    assert saved["display_name"] == "Ana S.", "the name is stored trimmed"
    assert (saved["locale"], saved["timezone"]) == ("en", "Asia/Tokyo")
    assert saved["bio"] == "Dados **abertos**"
    assert "<strong>abertos</strong>" in saved["bio_html"]


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_patch_me_with_a_bearer_token_needs_no_csrf_even_with_csrf_on(app, make):
    user = make.user()
    plain = issue_token(app, user.id)
    response = app.test_client().patch(ME, json={"display_name": "Ana Token"}, headers=bearer(plain))
    assert response.status_code == 200
    assert stored(app, user.id)["display_name"] == "Ana Token"


def test_patch_me_clears_the_locale_with_null(app, make):
    user = make.user(locale="es")
    response = app.test_client().patch(ME, json={"locale": None}, headers=bearer(issue_token(app, user.id)))
    assert response.status_code == 200
    assert stored(app, user.id)["locale"] is None


def test_patch_me_bio_html_is_sanitised(app, make):
    user = make.user()
    response = app.test_client().patch(
        ME,
        json={"bio": "<script>alert(1)</script><img src=x onerror=alert(1)>"},
        headers=bearer(issue_token(app, user.id)),
    )
    assert response.status_code == 200
    html = stored(app, user.id)["bio_html"]
    assert "<script" not in html and "onerror" not in html


def test_patch_me_with_an_empty_object_changes_nothing(app, make):
    user = make.user()
    before = stored(app, user.id)
    response = app.test_client().patch(ME, json={}, headers=bearer(issue_token(app, user.id)))
    assert response.status_code == 200
    assert stored(app, user.id) == before


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_patch_me_with_the_cookie_needs_the_csrf_header(app, client, make):
    user = make.user()
    token = sign_in_with_csrf(client, user)
    assert client.get(ME).status_code == 200, "reads need no CSRF token"

    missing = client.patch(ME, json={"display_name": "No Token"})
    assert_json_error(missing, 400, "csrf_failed")
    wrong = client.patch(ME, json={"display_name": "Wrong Token"}, headers={"X-CSRFToken": "not-the-token"})
    assert_json_error(wrong, 400, "csrf_failed")
    assert stored(app, user.id)["display_name"] == "Ana Souza"

    ok = client.patch(ME, json={"display_name": "With Token"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert stored(app, user.id)["display_name"] == "With Token"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_patch_me_csrf_token_from_generate_csrf_works(app, client, make):
    from flask_wtf.csrf import generate_csrf

    user = make.user()
    sign_in_with_csrf(client, user)
    # A token generated in a request carrying the same session cookie is valid for that session.
    session_cookie = client.get_cookie("session")
    with app.test_request_context(headers={"Cookie": f"session={session_cookie.value}"}):
        token = generate_csrf()
    response = client.patch(ME, json={"bio": "Hello"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert stored(app, user.id)["bio"] == "Hello"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_csrf_token_from_another_session_is_refused(app, client, make):
    user = make.user()
    sign_in_with_csrf(client, user)
    other = app.test_client()
    foreign_token = csrf_token_in(other.get("/login").get_data(as_text=True))
    response = client.patch(ME, json={"bio": "Hijacked"}, headers={"X-CSRFToken": foreign_token})
    assert_json_error(response, 400, "csrf_failed")
    assert stored(app, user.id)["bio"] == ""


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_patch_me_without_authentication_is_401_not_csrf(client):
    assert_json_error(client.patch(ME, json={"bio": "x"}), 401, "unauthorized")
    assert_json_error(client.patch(ME, json={"bio": "x"}, headers=bearer("cmt_forged")), 401, "invalid_token")


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"display_name": 5}, {"display_name"}),
        ({"display_name": None}, {"display_name"}),
        ({"display_name": ["Ana"]}, {"display_name"}),
        ({"display_name": "x" * 81}, {"display_name"}),
        ({"display_name": "x"}, {"display_name"}),
        ({"display_name": "    "}, {"display_name"}),
        ({"locale": "fr"}, {"locale"}),
        ({"locale": "pt-BR"}, {"locale"}),
        ({"locale": 1}, {"locale"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"timezone": "Brazil/East"}, {"timezone"}),
        ({"timezone": 3}, {"timezone"}),
        ({"timezone": None}, {"timezone"}),
        ({"bio": 42}, {"bio"}),
        ({"bio": "x" * 2001}, {"bio"}),
        ({"role": "admin"}, {"role"}),
        ({"email": "new@example.org", "active": False}, {"email", "active"}),
        ({"display_name": "Valid Name", "timezone": "Nowhere/Land"}, {"timezone"}),
        ({"display_name": 1, "locale": "xx", "timezone": "x", "bio": 1, "id": 7},
         {"display_name", "locale", "timezone", "bio", "id"}),
    ],
)  # fmt: skip
def test_patch_me_refuses_bad_fields_with_422_and_stores_nothing(app, make, payload, fields):
    user = make.user(locale="pt_BR", timezone="America/Sao_Paulo")
    before = stored(app, user.id)
    response = app.test_client().patch(ME, json=payload, headers=bearer(issue_token(app, user.id)))
    body = assert_json_error(response, 422, "invalid")
    assert set(body["fields"]) == fields
    assert all(isinstance(message, str) and message for message in body["fields"].values())
    assert stored(app, user.id) == before, "nothing is stored when any field is refused"


def test_patch_me_accepts_the_longest_allowed_values(app, make):
    user = make.user()
    response = app.test_client().patch(
        ME, json={"display_name": "x" * 80, "bio": "y" * 2000}, headers=bearer(issue_token(app, user.id))
    )
    assert response.status_code == 200
    saved = stored(app, user.id)
    assert saved["display_name"] == "x" * 80 and len(saved["bio"]) == 2000


@pytest.mark.parametrize(("accept", "locale"), [("pt-BR", "pt_BR"), ("es", "es"), ("en", "en")])
def test_patch_me_messages_follow_the_language(app, make, accept, locale):
    user = make.user()
    token = issue_token(app, user.id)
    headers = {**bearer(token), "Accept-Language": accept}
    response = app.test_client().patch(ME, json={"locale": "fr", "role": "admin"}, headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] == translated(locale, "Some fields are not valid.")
    assert body["fields"] == {
        "locale": translated(locale, "Use one of: %(choices)s.", choices="pt_BR, es, en"),
        "role": translated(locale, "This field cannot be changed here."),
    }
    unsupported = app.test_client().patch(ME, data="x", content_type="text/plain", headers=headers)
    expected = translated(locale, "Send a JSON object with the header Content-Type: application/json.")
    assert unsupported.get_json()["message"] == expected


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "display_name=Ana", "content_type": "application/x-www-form-urlencoded"}, 415,
         "unsupported_media_type"),
        ({"data": '{"display_name": "Ana"}', "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": "{"}, 415, "unsupported_media_type"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
        ({"data": "", "content_type": "application/json"}, 400, "bad_request"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "bad_request"),
        ({"data": '"a string"', "content_type": "application/json"}, 400, "bad_request"),
        ({"data": "null", "content_type": "application/json"}, 400, "bad_request"),
    ],
    ids=["form", "text-plain", "no-content-type", "broken-json", "empty", "array", "string", "null"],
)  # fmt: skip
def test_patch_me_refuses_bodies_that_are_not_a_json_object(app, make, kwargs, status, code):
    user = make.user()
    before = stored(app, user.id)
    response = app.test_client().patch(ME, headers=bearer(issue_token(app, user.id)), **kwargs)
    assert_json_error(response, status, code)
    assert stored(app, user.id) == before


# --- errors under /api ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/cities/atlantis", "/api/v2/me", "/api/"])
def test_api_404_is_json(client, path):
    response = client.get(path, headers={"Accept": "text/html"})
    assert_json_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/api/v1/cities"), ("delete", "/api/v1/me"), ("put", "/api/v1/me"), ("post", ME)]
)
def test_api_405_is_json_and_names_the_allowed_methods(client, method, path):
    response = getattr(client, method)(path, json={})
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_api_errors_carry_the_json_content_type_and_security_headers(client):
    response = client.get("/api/v1/nothing-here")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_api_bad_page_arguments_are_400_json(client):
    for query in ("page=0", "page=x", "per_page=-1", "per_page=abc"):
        assert_json_error(client.get(f"/api/v1/cities?{query}"), 400, "bad_request")


# --- the city endpoints ---------------------------------------------------------------------------------------


def test_cities_are_listed_and_paginated(client, make):
    for name in ("Recife", "Fortaleza", "Niterói"):
        make.city(name)
    body = client.get("/api/v1/cities?per_page=2").get_json()
    assert body["total"] == 3 and body["pages"] == 2 and body["page"] == 1
    assert [c["name"] for c in body["items"]] == ["Fortaleza", "Niterói"]
    second = client.get("/api/v1/cities?per_page=2&page=2").get_json()
    assert [c["name"] for c in second["items"]] == ["Recife"]
    assert client.get("/api/v1/cities?per_page=1000").get_json()["total"] == 3, "page size is capped, not refused"


def test_city_detail_counts_confirmed_members(client, make):
    city = make.city()
    make.user(city=city.slug)
    make.user(name="Waiting Person", city=city.slug, confirmed=False)
    body = client.get(f"/api/v1/cities/{city.slug}").get_json()
    assert body["slug"] == city.slug and body["members"] == 1


# --- OpenAPI -----------------------------------------------------------------------------------------------------


def test_openapi_document_is_valid_and_lists_the_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    spec = response.get_json()
    validate_spec(spec)  # raises on an invalid document
    assert spec["openapi"].startswith("3.")
    assert {"/me", "/cities", "/cities/{slug}"} <= set(spec["paths"])
    assert set(spec["paths"]["/me"]) >= {"get", "patch"}
    assert spec["servers"][0]["url"] == "http://localhost/api/v1"
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "cookie"}


def test_openapi_is_public(client):
    assert client.get("/api/v1/openapi.json", headers=bearer("cmt_forged")).status_code == 200


def _schema(spec, schema):
    """Resolve a local $ref (one level is enough for this document)."""
    if "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return _schema(spec, node)
    return schema


def _response_schema(spec, path, method, status):
    response = _schema(spec, spec["paths"][path][method]["responses"][status])
    return _schema(spec, response["content"]["application/json"]["schema"])


def assert_matches(spec, schema, instance):
    """The instance validates against the schema, and every key it has is documented."""
    schema = dict(_schema(spec, schema), components=spec["components"])
    OAS30Validator(schema).validate(instance)
    undocumented = set(instance) - set(schema["properties"])
    assert not undocumented, f"fields returned but not documented in the OpenAPI schema: {sorted(undocumented)}"


def test_responses_match_the_documented_schemas(app, client, make):
    spec = client.get("/api/v1/openapi.json").get_json()
    city = make.city()
    user = make.user(city=city.slug, locale="es", timezone="America/Recife")
    token = issue_token(app, user.id)

    me = client.get(ME, headers=bearer(token)).get_json()
    assert_matches(spec, _response_schema(spec, "/me", "get", "200"), me)

    cities = client.get("/api/v1/cities").get_json()
    page_schema = _response_schema(spec, "/cities", "get", "200")
    OAS30Validator(page_schema).validate(cities)
    assert set(cities) == set(page_schema["properties"])
    for item in cities["items"]:
        assert_matches(spec, page_schema["properties"]["items"]["items"], item)

    one = client.get(f"/api/v1/cities/{city.slug}").get_json()
    assert_matches(spec, _response_schema(spec, "/cities/{slug}", "get", "200"), one)

    error = client.get("/api/v1/cities/atlantis").get_json()
    assert_matches(spec, spec["components"]["schemas"]["Error"], error)
    invalid = client.patch(ME, json={"locale": "fr"}, headers=bearer(token)).get_json()
    assert_matches(spec, spec["components"]["schemas"]["Error"], invalid)


def test_every_object_with_a_page_carries_its_url(app, client, make):
    city = make.city()
    user = make.user(city=city.slug)
    token = issue_token(app, user.id)
    objects = [
        client.get(ME, headers=bearer(token)).get_json(),
        client.get(f"/api/v1/cities/{city.slug}").get_json(),
        *client.get("/api/v1/cities").get_json()["items"],
    ]
    assert len(objects) == 3
    for obj in objects:
        assert obj["url"].startswith("http://localhost/"), obj
        page = app.test_client().get(obj["url"])
        assert page.status_code == 200, obj["url"]
        assert page.mimetype == "text/html"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "url" in spec["components"]["schemas"]["User"]["properties"]
    assert "url" in _response_schema(spec, "/cities/{slug}", "get", "200")["properties"]
