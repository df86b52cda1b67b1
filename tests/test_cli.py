"""The command line: `flask seed-demo`, `flask users create`, `flask users token`, and their --help."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.cli import FlaskGroup

from community.assessment.models import Answer, Assessment, Evidence, Review
from community.auth import services
from community.auth.models import ApiToken, User
from community.cities.models import City
from community.commands import DEMO_CITIES, DEMO_PASSWORD, DEMO_PEOPLE
from community.extensions import db
from community.framework.models import Criterion, Framework, PracticeArea
from community.live.models import LiveSession, SessionEvent
from community.mentorship.models import Mentorship
from config import BASE_DIR


def flask(runner, app, *args):
    """Run `flask ARGS` against the test app, with the commands the `flask` executable offers (db included)."""
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False)
    return runner.invoke(cli, list(args), catch_exceptions=False)


def counts(app):
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (
                *(City, User, ApiToken, Framework, PracticeArea, Criterion, LiveSession, SessionEvent),
                *(Assessment, Answer, Evidence, Review, Mentorship),
            )
        }


def fails_with(result, *fragments):
    assert result.exit_code != 0, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def user_record(app, email):
    with app.app_context():
        user = services.user_by_email(email)
        if user is None:
            return None
        return {
            "display_name": user.display_name,
            "role": user.role,
            "city": user.city.slug if user.city else None,
            "confirmed": user.city_confirmed_at is not None,
            "locale": user.locale,
            "timezone": user.timezone,
            "active": user.active,
        }


# --- seed-demo ----------------------------------------------------------------------------------------------------


def test_seed_demo_loads_the_cohort(app, runner):
    result = flask(runner, app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output
    assert DEMO_PASSWORD in result.output, "the operator is told how to sign in"
    loaded = counts(app)
    assert loaded["City"] == len(DEMO_CITIES)
    assert loaded["User"] == len(DEMO_PEOPLE)
    assert loaded["Framework"] >= 1 and loaded["Criterion"] > 0
    for email, name, role, city_slug, locale, timezone in DEMO_PEOPLE:
        record = user_record(app, email)
        assert record["display_name"] == name and record["role"] == str(role)
        assert (record["locale"], record["timezone"]) == (locale, timezone)
        assert record["city"] == city_slug
        assert record["confirmed"] == (city_slug is not None), "demo participants are confirmed members"
    with app.app_context():
        sessions = db.session.scalars(sa.select(LiveSession).order_by(LiveSession.id)).all()
        assert [s.status for s in sessions] == ["scheduled"] * 5 + ["ended"], "upcoming sessions and a past one"
        assert sessions[-1].last_seq == loaded["SessionEvent"] > 5, "the past session has its record"
        assert sessions[-1].starts_at < sessions[0].starts_at
    assert loaded["Assessment"] == 5, "five cities are filling their assessment"
    assert loaded["Mentorship"] == 6, "the regional mentor accompanies five cities; Medellín asked the second mentor"
    assert loaded["Review"] > 0 and loaded["Evidence"] > 0
    client = app.test_client()
    client.post("/login", data={"email": "mentora@comunidade.example.org", "password": DEMO_PASSWORD})
    cohort = client.get("/assessment/cohort")
    assert cohort.status_code == 200 and "Mogi das Cruzes" in cohort.get_data(as_text=True)
    client.post("/login", data={"email": "ana@mogi.example.org", "password": DEMO_PASSWORD})
    assert client.get("/cities/mogi-das-cruzes/assessment").status_code == 200


def test_demo_accounts_can_sign_in(app, runner, client):
    flask(runner, app, "seed-demo")
    response = client.post("/login", data={"email": DEMO_PEOPLE[0][0], "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/users/").status_code == 200, "the demo admin is an admin"


def test_seed_demo_is_idempotent(app, runner):
    assert flask(runner, app, "seed-demo").exit_code == 0
    first = counts(app)
    second_run = flask(runner, app, "seed-demo")
    assert second_run.exit_code == 0, second_run.output
    assert counts(app) == first
    with app.app_context():
        slugs = db.session.scalars(sa.select(City.slug)).all()
        handles = db.session.scalars(sa.select(User.handle)).all()
    assert len(slugs) == len(set(slugs)) and not any(slug.endswith("-2") for slug in slugs), slugs
    assert not any(handle.endswith("2") for handle in handles), handles


def test_seed_demo_keeps_changes_and_fills_in_what_is_missing(app, runner):
    flask(runner, app, "seed-demo")
    email = DEMO_PEOPLE[2][0]
    with app.app_context():
        services.user_by_email(email).display_name = "Renamed By Hand"
        db.session.delete(services.user_by_email(DEMO_PEOPLE[6][0]))
        db.session.commit()
    assert flask(runner, app, "seed-demo").exit_code == 0
    assert user_record(app, email)["display_name"] == "Renamed By Hand", "existing accounts are left alone"
    assert user_record(app, DEMO_PEOPLE[6][0]) is not None, "a missing demo account is added back"
    assert counts(app)["User"] == len(DEMO_PEOPLE)


def test_seed_demo_if_empty_loads_once_then_does_nothing(app, runner):
    first = flask(runner, app, "seed-demo", "--if-empty")
    assert first.exit_code == 0 and "Demo data loaded" in first.output
    loaded = counts(app)
    with app.app_context():
        db.session.delete(services.user_by_email(DEMO_PEOPLE[6][0]))
        db.session.commit()
    second = flask(runner, app, "seed-demo", "--if-empty")
    assert second.exit_code == 0
    assert "already has data" in second.output and "Demo data loaded" not in second.output
    assert counts(app) == {**loaded, "User": loaded["User"] - 1}, "nothing was added the second time"


def test_seed_demo_if_empty_leaves_a_site_with_its_own_cities_alone(app, runner, make):
    make.city("Curitiba", "Paraná")
    result = flask(runner, app, "seed-demo", "--if-empty")
    assert result.exit_code == 0 and "already has data" in result.output
    assert counts(app)["City"] == 1 and counts(app)["User"] == 0


# --- users create -------------------------------------------------------------------------------------------------


def test_users_create_makes_an_account_that_can_sign_in(app, runner, client):
    result = flask(
        runner, app, "users", "create", "Nova@Example.org", "--name", "Nova Pessoa", "--password", "a good password"
    )
    assert result.exit_code == 0, result.output
    assert "Created nova@example.org" in result.output and "@nova_pessoa" in result.output
    record = user_record(app, "nova@example.org")
    assert record["display_name"] == "Nova Pessoa" and record["role"] == "participant"
    assert record["city"] is None and record["active"]
    with app.app_context():
        stored = services.user_by_email("nova@example.org")
        assert "a good password" not in stored.password_hash
    response = client.post("/login", data={"email": "nova@example.org", "password": "a good password"})
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["participant", "mentor", "admin"])
def test_users_create_sets_the_role(app, runner, role):
    result = flask(runner, app, "users", "create", f"{role}@example.org", "--name", "Some One", "--password",
                   "a good password", "--role", role)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert user_record(app, f"{role}@example.org")["role"] == role


def test_users_create_with_a_city_confirms_the_membership(app, runner, client, make):
    city = make.city()
    result = flask(runner, app, "users", "create", "ana@recife.example.org", "--name", "Ana Souza", "--password",
                   "a good password", "--city", city.slug)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Recife" in result.output
    record = user_record(app, "ana@recife.example.org")
    assert record["city"] == city.slug and record["confirmed"]
    assert "Ana Souza" in client.get(f"/cities/{city.slug}").get_data(as_text=True), "listed as a member"


def test_users_create_refuses_a_duplicate_email_whatever_its_case(app, runner, make):
    make.user(email="ana@example.org")
    result = flask(runner, app, "users", "create", "ANA@example.org", "--name", "Other Ana", "--password",
                   "a good password")  # fmt: skip
    fails_with(result, "already exists")
    assert counts(app)["User"] == 1


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--role", "superuser"], ["Invalid value for '--role'", "participant", "mentor", "admin"]),
        (["--role", "ADMIN"], ["Invalid value for '--role'"]),
        (["--password", "short"], ["between 8 and 128 characters"]),
        (["--password", "x" * 129], ["between 8 and 128 characters"]),
        (["--name", "A"], ["between 2 and 80 characters"]),
        (["--name", "x" * 81], ["between 2 and 80 characters"]),
        (["--city", "atlantis"], ["no city has the slug 'atlantis'"]),
    ],
    ids=["unknown-role", "role-case", "short-password", "long-password", "short-name", "long-name", "unknown-city"],
)
def test_users_create_refuses_bad_input_with_a_clear_message(app, runner, make, extra, fragments):
    make.city()
    args = {"--name": "Nova Pessoa", "--password": "a good password"}
    for option, value in zip(extra[::2], extra[1::2], strict=True):
        args[option] = value
    result = flask(runner, app, "users", "create", "nova@example.org", *[x for pair in args.items() for x in pair])
    fails_with(result, *fragments)
    assert user_record(app, "nova@example.org") is None, "nothing was created"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.org", "spaces in@example.org", "a" * 250 + "@x.org"])
def test_users_create_refuses_a_malformed_email(app, runner, email):
    result = flask(runner, app, "users", "create", email, "--name", "Nova Pessoa", "--password", "a good password")
    fails_with(result, "not a valid e-mail address")
    assert counts(app)["User"] == 0


@pytest.mark.parametrize("missing", ["--name", "--password"])
def test_users_create_needs_a_name_and_a_password(app, runner, missing):
    args = {"--name": "Nova Pessoa", "--password": "a good password"}
    del args[missing]
    result = flask(runner, app, "users", "create", "nova@example.org", *[x for pair in args.items() for x in pair])
    fails_with(result, f"Missing option '{missing}'")
    assert counts(app)["User"] == 0


# --- users token --------------------------------------------------------------------------------------------------


def test_users_token_prints_a_token_that_works_on_the_api(app, runner, make):
    user = make.user(email="ana@example.org")
    result = flask(runner, app, "users", "token", "ana@example.org", "--name", "dashboard")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith(ApiToken.PREFIX) and "\n" not in token, "only the token, easy to pipe"
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["id"] == user.id
    with app.app_context():
        stored = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
        assert stored.name == "dashboard"
        assert stored.token_hash != token


def test_users_token_gives_a_new_token_each_time(app, runner, make):
    make.user(email="ana@example.org")
    first = flask(runner, app, "users", "token", "Ana@Example.org").output.strip()
    second = flask(runner, app, "users", "token", "ana@example.org").output.strip()
    assert first != second
    client = app.test_client()
    for token in (first, second):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        names = db.session.scalars(sa.select(ApiToken.name)).all()
    assert names == ["command line", "command line"]


def test_users_token_for_an_unknown_email_fails(app, runner, make):
    make.user(email="ana@example.org")
    result = flask(runner, app, "users", "token", "nobody@example.org")
    fails_with(result, "no account has the e-mail nobody@example.org")
    assert counts(app)["ApiToken"] == 0


# --- help -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["seed-demo"], ["--if-empty", "demo"]),
        (["users", "create"], ["EMAIL", "--name", "--password", "--role", "--city", "participant|mentor|admin"]),
        (["users", "token"], ["EMAIL", "--name", "shown only this once"]),
        (["users"], ["create", "token"]),
        (["db", "upgrade"], ["Upgrade to a later version", "REVISION"]),
    ],
)
def test_help(app, runner, args, expected):
    result = flask(runner, app, *args, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:")
    for text in expected:
        assert text in result.output


def test_the_flask_executable_lists_the_commands(tmp_path):
    """`flask --help` through wsgi.py, as the README tells operators to run it."""
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "APP_ENV": "development",
    }
    flask_executable = Path(sys.executable).with_name("flask")
    result = subprocess.run(
        [str(flask_executable), "--help"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for command in ("seed-demo", "users", "db"):
        assert f"  {command}" in result.stdout, result.stdout
    assert not (tmp_path / "cli.db").exists(), "listing the commands touches no database"
