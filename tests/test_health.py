"""Health and readiness checks, and a translated 503 while the database cannot be reached."""

import pytest

from community import create_app
from tests.conftest import require_redis

# Nothing listens on port 1: connections are refused at once.
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/comunidade?connect_timeout=2"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_checks_redis_when_the_app_uses_it(app, client):
    app.config["SOCKETIO_MESSAGE_QUEUE"] = require_redis()
    assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_down(app, client):
    app.config["RATELIMIT_STORAGE_URI"] = UNREACHABLE_REDIS
    response = client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    body = response.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unavailable")


@pytest.fixture
def no_database(tmp_path):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": UNREACHABLE_DATABASE, "MAIL_OUTBOX": str(tmp_path)})


def test_readyz_is_503_when_the_database_is_down(no_database):
    response = no_database.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("unavailable")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The service is briefly unavailable. Please try again in a moment."),
        ("pt-BR", "O serviço está indisponível por alguns instantes. Tente de novo daqui a pouco."),
    ],
)
def test_pages_get_a_translated_503_with_retry_after_while_the_database_is_down(no_database, language, message):
    client = no_database.test_client()
    response = client.get("/threads/", headers={"Accept-Language": language})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert message in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_api_gets_a_json_503_while_the_database_is_down(no_database):
    response = no_database.test_client().get("/api/v1/threads", headers={"Accept-Language": "en"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"] == "unavailable"


def test_sign_in_keeps_working_while_the_rate_limit_store_is_down(make, tmp_path, app):
    person = make.user()
    down = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": UNREACHABLE_REDIS,
            "MAIL_OUTBOX": str(tmp_path),
        },
    )
    client = down.test_client()
    refused = client.post("/login", data={"email": person.email, "password": "wrong password"})
    assert refused.status_code == 400, "the form says the password is wrong, as usual"
    signed_in = client.post("/login", data={"email": person.email, "password": person.password})
    assert signed_in.status_code == 302
    assert client.get("/threads/").status_code == 200
