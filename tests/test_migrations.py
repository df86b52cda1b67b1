"""Migrations: `flask db upgrade` builds the whole schema from nothing, matches the models exactly, and goes back down.

These tests make their own databases (a SQLite file, a throwaway PostgreSQL database) so the suite's tables are
never touched.
"""

import json
import logging
import secrets
from datetime import date, datetime

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask.cli import FlaskGroup

from community import create_app
from community.extensions import db
from community.search.schema import ENGINE_TABLE_PREFIX
from config import BASE_DIR
from config import _database_url as normalise_database_url
from tests.conftest import PASSWORD, require_postgres

MIGRATIONS = BASE_DIR / "migrations"


@pytest.fixture(autouse=True)
def preserve_logging():
    """migrations/env.py calls logging.config.fileConfig, which disables every logger it does not name and adds a
    handler to the root logger; put everything back so later tests still see the app's log records."""
    manager = logging.Logger.manager
    loggers = [logging.root] + [lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    saved = {lg: (lg.disabled, lg.level, list(lg.handlers), lg.propagate) for lg in loggers}
    yield
    for lg in [lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)]:
        if lg not in saved:
            lg.disabled = False  # a logger created while migrating must not stay disabled either
    for lg, (disabled, level, handlers, propagate) in saved.items():
        lg.disabled, lg.level, lg.handlers, lg.propagate = disabled, level, handlers, propagate


def make_app(url, tmp_path):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "MAIL_OUTBOX": str(tmp_path / "outbox")})


def flask(app, *args):
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False)
    result = app.test_cli_runner().invoke(cli, list(args))
    assert result.exit_code == 0, f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"
    return result


def script_heads():
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_heads()


def table_names(app):
    """The tables, without the full-text engine's own (SQLite's FTS5 table and its shadow tables)."""
    with app.app_context():
        names = set(sa.inspect(db.engine).get_table_names())
    return {name for name in names if not name.startswith(ENGINE_TABLE_PREFIX)}


def engine_table_names(app):
    with app.app_context():
        return {name for name in sa.inspect(db.engine).get_table_names() if name.startswith(ENGINE_TABLE_PREFIX)}


def not_an_engine_table(name, type_, _parent_names):
    return not (type_ == "table" and name.startswith(ENGINE_TABLE_PREFIX))


def current_heads(app):
    with app.app_context(), db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def schema_diff(app):
    """What `flask db migrate` would write: the differences between the models and the migrated database."""
    with app.app_context(), db.engine.connect() as connection:
        opts = {"compare_type": True, "compare_server_default": True, "include_name": not_an_engine_table}
        context = MigrationContext.configure(connection, opts=opts)
        return compare_metadata(context, db.metadata)


def assert_schema_matches_the_models(app):
    expected = set(db.metadata.tables)
    with app.app_context():
        # A pooled SQLite connection opened before the migration may still answer with the old schema.
        db.engine.dispose()
    assert table_names(app) == expected | {"alembic_version"}
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for name, table in db.metadata.tables.items():
            columns = {c["name"]: c for c in inspector.get_columns(name)}
            assert set(columns) == set(table.columns.keys()), name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, f"{name}.{column.name} nullability"
            indexes = {ix["name"] for ix in inspector.get_indexes(name)}
            assert {ix.name for ix in table.indexes} <= indexes, name
            foreign_keys = {fk["referred_table"] for fk in inspector.get_foreign_keys(name)}
            assert {fk.column.table.name for fk in table.foreign_keys} == foreign_keys, name


def test_there_is_one_head():
    heads = script_heads()
    assert len(heads) == 1, f"the migrations have branched: {heads}; run `flask db merge heads`"


def test_upgrade_builds_every_table_on_an_empty_sqlite_file(tmp_path):
    path = tmp_path / "empty.db"
    app = make_app(f"sqlite:///{path}", tmp_path)
    assert table_names(app) == set()
    flask(app, "db", "upgrade")
    assert path.exists()
    assert_schema_matches_the_models(app)
    assert "search_fts" in engine_table_names(app), "the migration made the full-text table"
    assert current_heads(app) == set(script_heads())
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_a_migrated_sqlite_database_runs_the_app(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path)
    flask(app, "db", "upgrade")
    flask(app, "seed-demo")
    flask(app, "users", "create", "nova@example.org", "--name", "Nova Pessoa", "--password", PASSWORD)
    client = app.test_client()
    assert client.post("/login", data={"email": "nova@example.org", "password": PASSWORD}).status_code == 302
    assert client.get("/api/v1/me").get_json()["email"] == "nova@example.org"
    assert client.get("/api/v1/cities").get_json()["total"] > 0
    with app.app_context():
        db.engine.dispose()


def test_upgrade_twice_changes_nothing(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'twice.db'}", tmp_path)
    flask(app, "db", "upgrade")
    before = table_names(app)
    flask(app, "db", "upgrade")
    assert table_names(app) == before
    assert current_heads(app) == set(script_heads())
    with app.app_context():
        db.engine.dispose()


def test_downgrade_to_base_and_up_again_on_sqlite(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'roundtrip.db'}", tmp_path)
    flask(app, "db", "upgrade")
    flask(app, "seed-demo")
    flask(app, "db", "downgrade", "base")
    assert table_names(app) <= {"alembic_version"}, "every table is dropped"
    assert engine_table_names(app) == set(), "the full-text table is dropped too"
    assert current_heads(app) == set()
    flask(app, "db", "upgrade")
    assert_schema_matches_the_models(app)
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_every_revision_steps_down_and_up_on_sqlite(tmp_path):
    """Each migration's downgrade undoes its upgrade, one step at a time."""
    app = make_app(f"sqlite:///{tmp_path / 'steps.db'}", tmp_path)
    flask(app, "db", "upgrade")
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    assert revisions
    for _revision in revisions:
        flask(app, "db", "downgrade")  # one step: the default revision is -1
    assert current_heads(app) == set()
    for _revision in revisions:
        flask(app, "db", "upgrade", "+1")
    assert current_heads(app) == set(script_heads())
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def throwaway_postgres_database():
    """A new, empty PostgreSQL database next to the suite's, dropped afterwards."""
    url = require_postgres()
    name = f"comunidade_migrations_{secrets.token_hex(6)}"
    admin_url = sa.engine.make_url(normalise_database_url(url))
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_upgrade_from_empty_on_postgresql_matches_the_models(throwaway_postgres_database, tmp_path):
    app = make_app(throwaway_postgres_database, tmp_path)
    try:
        assert table_names(app) == set()
        flask(app, "db", "upgrade")
        assert_schema_matches_the_models(app)
        assert current_heads(app) == set(script_heads())
        diff = schema_diff(app)
        assert diff == [], f"the models and the migrations disagree; `flask db migrate` would write: {diff}"

        flask(app, "seed-demo")
        client = app.test_client()
        signed_in = client.post("/login", data={"email": "admin@comunidade.example.org", "password": "comunidade-demo"})
        assert signed_in.status_code == 302

        flask(app, "db", "downgrade", "base")
        assert table_names(app) <= {"alembic_version"}
        flask(app, "db", "upgrade")
        assert schema_diff(app) == []
    finally:
        with app.app_context():
            db.engine.dispose()


# --- moving a 2025 site onto the 2022 standard -------------------------------------------------------------------

OLD_FRAMEWORK = BASE_DIR / "tests" / "data" / "framework-2025.json"
BEFORE_THE_STANDARD = "57ddef30f278"
MAPPING = json.loads((BASE_DIR / "community" / "framework" / "data" / "codes-2025.json").read_text())["moves"]
NO_COUNTERPART = sorted(code for code, move in MAPPING.items() if move["to"] is None)


class OldSite:
    """Rows written straight into a database migrated to just before the standard, as that version stored them:
    every column the test does not name gets a plain value of its type."""

    def __init__(self, connection):
        self.connection = connection
        self.meta = sa.MetaData()
        self.meta.reflect(connection)

    def add(self, table_name, **values):
        table = self.meta.tables[table_name]
        for column in table.columns:
            if column.name in values or column.nullable or column.server_default is not None:
                continue
            if column.primary_key and isinstance(column.type, sa.Integer):
                continue
            values[column.name] = self._plain(column)
        result = self.connection.execute(table.insert().values(**values))
        return result.inserted_primary_key[0] if result.inserted_primary_key else None

    @staticmethod
    def _plain(column):
        kind = column.type
        if isinstance(kind, sa.Boolean):
            return False
        if isinstance(kind, sa.Integer):
            return 0
        if isinstance(kind, sa.DateTime):
            return datetime(2025, 3, 1, 12, 0)
        if isinstance(kind, sa.Date):
            return date(2025, 3, 1)
        if isinstance(kind, sa.JSON):
            return {}
        return f"x{secrets.token_hex(4)}"[: getattr(kind, "length", None) or 20]


def build_a_2025_site(url):
    """A site on the 2025 framework where a city answered every one of its 43 criteria, with evidence and a
    review on each, and where threads, cases, sessions, mentor strengths and goals name every code."""
    engine = sa.create_engine(url)
    old = json.loads(OLD_FRAMEWORK.read_text())
    ids = {}
    with engine.begin() as connection:
        site = OldSite(connection)
        site.add("frameworks", version=old["version"], titles={"en": "2025"}, loaded_at=datetime(2025, 1, 1))
        for a_pos, (area_code, area_name, area_criteria) in enumerate(old["areas"], start=1):
            area_id = site.add("practice_areas", code=area_code, position=a_pos, names={"en": area_name})
            for c_pos, (code, name) in enumerate(area_criteria, start=1):
                ids[code] = site.add(
                    "criteria", code=code, practice_area_id=area_id, position=c_pos,
                    names={"en": name, "pt_BR": name, "es": name}, descriptions={"en": name}, retired=False,
                )  # fmt: skip
        city = site.add("cities", name="Recife", slug="recife", state="PE", country="BR")
        other = site.add("cities", name="Fortaleza", slug="fortaleza", state="CE", country="BR")
        member = site.add("users", email="membro@recife.example.org", display_name="Membro", city_id=city,
                          role="participant", active=True)  # fmt: skip
        mentor = site.add("users", email="mentora@example.org", display_name="Mentora", role="mentor", active=True)
        assessment = site.add("assessments", city_id=city, cycle="2026", framework_version="2025")
        second = site.add("assessments", city_id=other, cycle="2026", framework_version="2025")
        profile = site.add("mentor_profiles", user_id=mentor)
        mentorship = site.add("mentorships", mentor_id=mentor, city_id=city, status="active")
        thread = site.add("threads", title="Uma pergunta", author_id=member, practice_area_id=1)
        case = site.add("case_studies", city_id=city, author_id=member, title="Um caso", slug="um-caso",
                        evaluation="none", status="draft", language="pt_BR")  # fmt: skip
        session = site.add("live_sessions", host_id=mentor, title="Uma sessão", status="scheduled", capacity=10,
                           starts_at=datetime(2026, 5, 1, 12), ends_at=datetime(2026, 5, 1, 13))  # fmt: skip
        statuses = ["in_place", "in_progress", "not_started"]
        for n, (code, criterion_id) in enumerate(sorted(ids.items())):
            answer = site.add(
                "assessment_answers", assessment_id=assessment, criterion_id=criterion_id,
                status=statuses[n % 3], notes=f"Notas de {code}", notes_html=f"<p>Notas de {code}</p>",
                review_state="accepted" if n % 3 == 0 else "draft", version=1,
            )  # fmt: skip
            site.add("assessment_evidence", answer_id=answer, url=f"https://recife.example.org/{code}",
                     description=code, created_at=datetime(2025, 6, 1, 9))  # fmt: skip
            site.add("assessment_reviews", answer_id=answer, reviewer_id=mentor, verdict="accepted",
                     comment=f"Bom trabalho em {code}")  # fmt: skip
            site.add("thread_criteria", thread_id=thread, criterion_id=criterion_id)
            site.add("case_study_criteria", case_id=case, criterion_id=criterion_id)
            site.add("live_session_criteria", session_id=session, criterion_id=criterion_id)
            site.add("mentor_strengths", profile_id=profile, criterion_id=criterion_id)
            site.add("mentorship_goals", mentorship_id=mentorship, criterion_id=criterion_id, title=f"Meta {code}")
        # The second city answered only DM3 (in place, accepted) of the two that became DM4.
        site.add("assessment_answers", assessment_id=second, criterion_id=ids["DM3"], status="in_place",
                 notes="", notes_html="", review_state="accepted", version=2)  # fmt: skip
    engine.dispose()
    return ids


def check_the_move(app, output):
    from community.assessment import services as assessment
    from community.assessment.models import Answer, Assessment, Evidence, Review
    from community.cities.models import City
    from community.framework.models import ChecklistItem, Criterion
    from community.library.models import case_criteria
    from community.live.models import session_criteria
    from community.mentorship.models import MentorshipGoal, mentor_strengths
    from community.threads.models import thread_criteria

    for code, move in MAPPING.items():
        expected = (
            f"  {code} -> {move['to']}:" if move["to"] else f"  {code} -> no counterpart: archived as {code}-2025"
        )
        assert expected in output, f"the migration says what became of {code}"
    with app.app_context():
        current = db.session.scalars(sa.select(Criterion).where(Criterion.retired.is_(False))).all()
        assert len(current) == 43 and {c.code for c in current} >= {"DM9", "LC7", "RDC8", "EVAL4"}
        assert db.session.scalar(sa.select(sa.func.count(ChecklistItem.id))) > 43 * 2, "the checklists came too"
        archived = db.session.scalars(sa.select(Criterion).where(Criterion.retired.is_(True))).all()
        assert sorted(c.code for c in archived) == sorted(f"{code}-2025" for code in NO_COUNTERPART)
        recife = db.session.scalar(sa.select(City).where(City.slug == "recife"))
        mine = db.session.scalar(sa.select(Assessment).where(Assessment.city_id == recife.id))
        # Nothing lost: 43 answers' evidence and reviews are all still the city's.
        evidence = db.session.scalars(sa.select(Evidence).join(Evidence.answer).where(Answer.assessment_id == mine.id))
        evidence = evidence.all()
        assert sorted(e.description for e in evidence) == sorted(MAPPING)
        assert all(e.as_of is not None and str(e.as_of) == "2025-06-01" for e in evidence), "dated when added"
        reviews = db.session.scalars(sa.select(Review).join(Review.answer).where(Answer.assessment_id == mine.id))
        assert len(reviews.all()) == 43
        by_code = {e.description: e for e in evidence}
        for code, move in MAPPING.items():
            filed = by_code[code].answer.criterion.code
            assert filed == (move["to"] or f"{code}-2025"), code
            assert by_code[code].former_code == (code if move["to"] else None)
        # DM3 and DM4 became DM4: one answer with both histories, the less advanced status, both notes.
        dm4 = assessment.answer_for(mine, "DM4")
        assert sorted(e.former_code for e in dm4.evidence) == ["DM3", "DM4"]
        assert sorted(r.former_code for r in dm4.reviews) == ["DM3", "DM4"]
        assert "Notas de DM3" in dm4.notes and "Notas de DM4" in dm4.notes and "DM4 (2025)" in dm4.notes
        # DM3 was not started, DM4 in place and accepted: the one answer counts only what both earned.
        assert dm4.status == "not_started" and dm4.review_state == "draft"
        answers_now = db.session.scalars(sa.select(Answer).where(Answer.assessment_id == mine.id)).all()
        assert len(answers_now) == len({move["to"] or f"{code}-2025" for code, move in MAPPING.items()})
        # The second city answered only DM3: its answer moved whole, still accepted.
        fortaleza = db.session.scalar(sa.select(City).where(City.slug == "fortaleza"))
        theirs = assessment.answer_for(assessment.find_assessment(fortaleza, "2026"), "DM4")
        assert theirs.status == "in_place" and theirs.review_state == "accepted"
        # Archived answers are kept, with their evidence, and readable.
        eval3 = assessment.answer_for(mine, "EVAL3-2025")
        assert eval3.criterion.retired and eval3.notes == "Notas de EVAL3" and len(eval3.evidence) == 1
        assert [a.criterion.code for a in assessment.archived_answers(mine)] == sorted(
            f"{code}-2025" for code in NO_COUNTERPART
        )
        # Links, strengths and goals follow their criterion (two old codes on one new one: one link).
        for table in (thread_criteria, case_criteria, session_criteria, mentor_strengths):
            codes = db.session.scalars(sa.select(Criterion.code).join(table, table.c.criterion_id == Criterion.id))
            codes = sorted(codes)
            assert codes == sorted({move["to"] or f"{code}-2025" for code, move in MAPPING.items()}), table.name
        goals = db.session.scalars(sa.select(MentorshipGoal)).all()
        assert len(goals) == 43
        assert {g.title for g in goals if g.criterion.code == "DM8"} == {"Meta CI2", "Meta CI3"}


def move_a_2025_site(url, tmp_path):
    app = make_app(url, tmp_path)
    flask(app, "db", "upgrade", BEFORE_THE_STANDARD)
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    build_a_2025_site(url)
    result = flask(app, "db", "upgrade")
    check_the_move(app, result.output)
    return app


def test_a_2025_site_moves_to_the_standard_on_sqlite(tmp_path):
    app = move_a_2025_site(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    assert schema_diff(app) == []
    with app.app_context():
        from community.assessment import services as assessment
        from community.auth import services as accounts
        from community.cities.models import City
        from community.mentorship import services as mentoring

        recife = db.session.scalar(sa.select(City).where(City.slug == "recife"))
        accounts.create_user("nova@recife.example.org", "Nova", PASSWORD, city=recife, confirm_city=True)
        admin = accounts.create_user("admin@example.org", "Admin", PASSWORD, role="admin")
        mentor = accounts.create_user("outra@example.org", "Outra Mentora", PASSWORD, role="mentor")
        accounts.create_user("fora@example.org", "De Fora", PASSWORD)
        db.session.flush()
        mentoring.assign(admin, mentor, recife)
        db.session.commit()
        assert assessment.open_assessment(recife) is not None
        db.session.commit()
    for email, status in (
        ("nova@recife.example.org", 200),
        ("outra@example.org", 200),
        ("fora@example.org", 403),
    ):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        page = client.get("/cities/recife/assessment/EVAL3-2025", headers={"Accept-Language": "en"})
        assert page.status_code == status, email
        if status == 200:
            text = page.get_data(as_text=True)
            assert "Notas de EVAL3" in text and "retired from the framework" in text
            dashboard = client.get("/cities/recife/assessment", headers={"Accept-Language": "en"})
            assert "Archived criteria" in dashboard.get_data(as_text=True)
    member = app.test_client()
    member.post("/login", data={"email": "nova@recife.example.org", "password": PASSWORD})
    refused = member.post(
        "/cities/recife/assessment/EVAL3-2025", data={"status": "in_place", "notes": "", "version": 1}
    )
    assert refused.status_code == 422, "an archived criterion is kept to be read, not changed"
    flask(app, "db", "downgrade", BEFORE_THE_STANDARD)
    flask(app, "db", "upgrade")
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


@pytest.mark.postgres
def test_a_2025_site_moves_to_the_standard_on_postgresql(throwaway_postgres_database, tmp_path):
    app = move_a_2025_site(throwaway_postgres_database, tmp_path)
    try:
        assert schema_diff(app) == []
    finally:
        with app.app_context():
            db.engine.dispose()


BEFORE_ONE_REPORT_PER_PERSON = "a3c9e1f27b45"


def report_twice_then_upgrade(url, tmp_path):
    """A site whose people reported posts more than once before the rule; the upgrade keeps one report each."""
    app = make_app(url, tmp_path)
    flask(app, "db", "upgrade", BEFORE_ONE_REPORT_PER_PERSON)
    flask(app, "seed-demo")
    with app.app_context():
        post_a, post_b = db.session.scalars(sa.text("SELECT id FROM posts ORDER BY id LIMIT 2")).all()
        ana, carlos = db.session.scalars(sa.text("SELECT id FROM users ORDER BY id LIMIT 2")).all()
        rows = [
            (post_a, ana, "primeira, resolvida", True),
            (post_a, ana, "segunda, aberta", False),
            (post_a, ana, "terceira, aberta", False),
            (post_a, carlos, "outra pessoa", False),
            (post_b, ana, "primeira, resolvida", True),
            (post_b, ana, "segunda, resolvida", True),
        ]
        for post_id, user_id, reason, resolved in rows:
            db.session.execute(
                sa.text(
                    "INSERT INTO flags (post_id, user_id, reason, created_at, resolved_at, resolved_by_id) "
                    "VALUES (:post_id, :user_id, :reason, :now, :resolved_at, :resolved_by)"
                ),
                {
                    "post_id": post_id,
                    "user_id": user_id,
                    "reason": reason,
                    "now": datetime(2026, 11, 1),
                    "resolved_at": datetime(2026, 11, 2) if resolved else None,
                    "resolved_by": carlos if resolved else None,
                },
            )
        db.session.commit()
        db.engine.dispose()
    flask(app, "db", "upgrade")
    with app.app_context():
        kept = db.session.execute(sa.text("SELECT post_id, user_id, reason FROM flags ORDER BY id")).all()
        assert [tuple(row) for row in kept] == [
            (post_a, ana, "segunda, aberta"),
            (post_a, carlos, "outra pessoa"),
            (post_b, ana, "primeira, resolvida"),
        ], "the open report is kept over a resolved one, else the oldest"
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.text("INSERT INTO flags (post_id, user_id, reason, created_at) VALUES (:p, :u, 'de novo', :now)"),
                {"p": post_a, "u": carlos, "now": datetime(2026, 12, 1)},
            )
        db.session.rollback()
    assert schema_diff(app) == []
    flask(app, "db", "downgrade", BEFORE_ONE_REPORT_PER_PERSON)
    flask(app, "db", "upgrade")
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_reports_made_twice_are_kept_once_on_sqlite(tmp_path):
    report_twice_then_upgrade(f"sqlite:///{tmp_path / 'reports.db'}", tmp_path)


@pytest.mark.postgres
def test_reports_made_twice_are_kept_once_on_postgresql(throwaway_postgres_database, tmp_path):
    report_twice_then_upgrade(throwaway_postgres_database, tmp_path)


# --- the search index after an upgrade ---------------------------------------------------------------------------

BEFORE_SEARCH = "49fe2ad70701"


def upgrade_a_site_from_before_search(url, tmp_path):
    """A site with a question, an answer and a session from before search: the upgrade indexes them all."""
    app = make_app(url, tmp_path)
    flask(app, "db", "upgrade", BEFORE_SEARCH)
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
        db.engine.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        site = OldSite(connection)
        area = site.add("practice_areas", code="DM", position=1, names={"en": "Data Management"}, descriptions={})
        asker = site.add("users", email="ana@example.org", display_name="Ana", role="participant", active=True)
        mentor = site.add("users", email="mentora@example.org", display_name="Mentora", role="mentor", active=True)
        thread = site.add("threads", title="Inventário de mananciais", author_id=asker, practice_area_id=area,
                          visibility="public", language="pt_BR")  # fmt: skip
        question = site.add("posts", thread_id=thread, author_id=asker, kind="question", body="Como começar?",
                            body_html="<p>Como começar?</p>", hidden=False)  # fmt: skip
        connection.execute(sa.text("UPDATE threads SET question_id = :q WHERE id = :t"), {"q": question, "t": thread})
        site.add("posts", thread_id=thread, author_id=mentor, kind="answer", body="Pelos aquíferos.",
                 body_html="<p>Pelos aquíferos.</p>", hidden=False)  # fmt: skip
        site.add("live_sessions", host_id=mentor, title="Plantão de saneamento", agenda="Pauta",
                 agenda_html="<p>Pauta sobre esgoto</p>", status="scheduled", capacity=10, language="pt_BR",
                 starts_at=datetime(2026, 5, 1, 12), ends_at=datetime(2026, 5, 1, 13))  # fmt: skip
    engine.dispose()
    result = flask(app, "db", "upgrade")
    client = app.test_client()
    for query, kind in (("mananciais", "thread"), ("aquiferos", "post"), ("saneamento", "session")):
        items = client.get("/api/v1/search", query_string={"q": query}).get_json()["items"]
        assert [item["kind"] for item in items if item["kind"] == kind] == [kind], (query, result.output)
    checked = app.test_cli_runner().invoke(FlaskGroup(create_app=lambda: app, load_dotenv=False), ["search", "check"])
    assert checked.exit_code == 0, checked.output
    return app


def test_an_upgrade_fills_the_search_index_on_sqlite(tmp_path):
    app = upgrade_a_site_from_before_search(f"sqlite:///{tmp_path / 'before-search.db'}", tmp_path)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.postgres
def test_an_upgrade_fills_the_search_index_on_postgresql(throwaway_postgres_database, tmp_path):
    app = upgrade_a_site_from_before_search(throwaway_postgres_database, tmp_path)
    with app.app_context():
        db.engine.dispose()


# --- SQLite enforces foreign keys --------------------------------------------------------------------------------

BEFORE_FOREIGN_KEYS = "c07b66a8a2d7"


def test_orphan_rows_of_an_old_sqlite_site_are_reported_before_enforcement_and_kept(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'orphans.db'}", tmp_path)
    flask(app, "db", "upgrade", BEFORE_FOREIGN_KEYS)
    flask(app, "seed-demo")
    with app.app_context():
        db.engine.dispose()
    # Written as a site without enforcement wrote them: a vote and a report on posts deleted since.
    raw = sa.create_engine(f"sqlite:///{tmp_path / 'orphans.db'}")
    with raw.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.commit()
        user = connection.exec_driver_sql("SELECT id FROM users ORDER BY id LIMIT 1").scalar()
        when = datetime(2026, 1, 1)
        connection.execute(
            sa.text("INSERT INTO votes (post_id, user_id, created_at) VALUES (9001, :user, :when)"),
            {"user": user, "when": when},
        )
        connection.execute(
            sa.text("INSERT INTO flags (post_id, user_id, reason, created_at) VALUES (9002, :user, 'spam', :when)"),
            {"user": user, "when": when},
        )
        connection.commit()
    raw.dispose()
    result = flask(app, "db", "upgrade")
    assert "Rows that name a row that is gone" in result.output
    assert "  flags: 1 row(s) naming a missing posts" in result.output
    assert "  votes: 1 row(s) naming a missing posts" in result.output
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM votes WHERE post_id = 9001")) == 1, "kept"
        assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1, "the app's connections enforce them"
        db.session.remove()
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False)
    listed = app.test_cli_runner().invoke(cli, ["check-orphans"])
    assert listed.exit_code == 1
    assert "votes rowid" in listed.output and "names a missing posts" in listed.output
    assert "2 row(s) name a row that is gone." in listed.output
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM votes WHERE post_id = 9001"))
        db.session.execute(sa.text("DELETE FROM flags WHERE post_id = 9002"))
        db.session.commit()
        db.session.remove()
    clean = app.test_cli_runner().invoke(cli, ["check-orphans"])
    assert clean.exit_code == 0 and "No row names a row that is gone." in clean.output
    with app.app_context():
        db.engine.dispose()


def test_a_clean_site_upgrades_without_an_orphan_report(tmp_path):
    tables = ("posts", "votes", "search_documents", "assessment_evidence")
    app = make_app(f"sqlite:///{tmp_path / 'clean.db'}", tmp_path)
    flask(app, "db", "upgrade", BEFORE_FOREIGN_KEYS)
    flask(app, "seed-demo")
    with app.app_context():
        counts = {name: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in tables}
        db.engine.dispose()
    result = flask(app, "db", "upgrade")
    assert "Rows that name a row that is gone" not in result.output
    flask(app, "db", "downgrade", "base")
    flask(app, "db", "upgrade")
    flask(app, "seed-demo")
    with app.app_context():
        again = {name: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in tables}
        assert again == counts
        db.engine.dispose()


def test_a_migration_that_rebuilds_a_table_on_sqlite_deletes_nothing_that_points_at_it(tmp_path):
    """Batch mode rebuilds `users` to drop a column; with foreign keys on, dropping the old copy would take every
    follow, vote and notification of every person with it (ON DELETE CASCADE). Migrations run with them off."""
    tables = ("subscriptions", "notifications", "votes", "users")
    app = make_app(f"sqlite:///{tmp_path / 'rebuild.db'}", tmp_path)
    flask(app, "db", "upgrade")
    flask(app, "seed-demo")
    with app.app_context():
        before = {name: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in tables}
        db.engine.dispose()
    assert before["subscriptions"] > 0
    flask(app, "db", "downgrade", "8c1f4e2a9b73")  # before e-mail confirmation: users loses a column
    flask(app, "db", "upgrade")
    with app.app_context():
        after = {name: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in tables}
        db.engine.dispose()
    assert after == before
