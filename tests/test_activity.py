# ruff: noqa: F811
"""Community activity as evidence: for LC3 and CI1 only (looked up by code), the city attaches a PDF the platform
compiles (sessions attended with hours, answers accepted, cases published) with a public verification page."""

import hashlib
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from community.assessment.models import Criterion, Evidence
from community.assessment.records import ActivityRecord
from community.auth.models import User
from community.core.models import utcnow
from community.extensions import db
from community.live.models import Attendance, LiveSession
from tests.library_helpers import write_case
from tests.live_helpers import schedule
from tests.test_assessment import people  # noqa: F401
from tests.threads_helpers import answer, ask, bearer, sign_in

TODAY = date.today()
PERIOD = {"start": (TODAY - timedelta(days=60)).isoformat(), "end": TODAY.isoformat()}


def pdf_text(content):
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def active(app, people):
    """Recife's member came to a 90-minute session 10 days ago (and to one of two years ago), had an answer
    accepted, and the city has a published case."""
    recent = schedule(app, people["mentor"].id, title="Oficina de avaliação: “causa e efeito”")
    old = schedule(app, people["mentor"].id, title="Sessão antiga")
    with app.app_context():
        for session_id, days in ((recent, 10), (old, 700)):
            live = db.session.get(LiveSession, session_id)
            live.starts_at = utcnow() - timedelta(days=days)
            live.ends_at = live.starts_at + timedelta(minutes=90)
            live.status = "ended"
            db.session.add(Attendance(session_id=session_id, user_id=people["member"].id))
        db.session.commit()
    thread_id, _client = ask(app, people["other_city"], title="Como medir a ação?")
    member = sign_in(app, people["member"])
    post_id = answer(member, thread_id, "Com um grupo de comparação.")
    asker = sign_in(app, people["other_city"])
    assert asker.post(f"/threads/posts/{post_id}/accept").status_code in (302, 200)
    write_case(app, people["member"].id, publish_by=people["mentor"].id, title="Painel de saúde de Recife")
    return member


def attach(client, code="LC3", **period):
    return client.post(f"/cities/recife/assessment/{code}/activity", data={**PERIOD, **period})


def test_the_record_is_compiled_attached_and_verifiable(app, people, active):
    response = attach(active)
    assert response.status_code == 302 and response.headers["Location"].endswith("#evidence")
    with app.app_context():
        record = db.session.scalar(sa.select(ActivityRecord))
        evidence = db.session.get(Evidence, record.evidence_id)
        assert evidence.filename.endswith(".pdf") and evidence.content_type == "application/pdf"
        content = (Path(app.config["UPLOAD_FOLDER"]) / evidence.stored_name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == record.sha256
        assert record.record["total_hours"] == 1.5
        assert [s["title"] for s in record.record["sessions"]] == ["Oficina de avaliação: “causa e efeito”"]
        assert record.record["answers_accepted"][0]["thread"] == "Como medir a ação?"
        assert record.record["cases_published"][0]["title"] == "Painel de saúde de Recife"
        token = record.token
    text = pdf_text(content)
    assert "Registro de atividade na comunidade: Recife" in text
    assert "Oficina de avaliação: “causa e efeito”" in text
    assert "1.50" in text and "Como medir a ação?" in text and "Painel de saúde de Recife" in text
    assert f"/verify/{token}" in text.replace("\n", "")
    assert len(token) >= 32
    # Anyone holding the address sees it, signed in or not.
    page = app.test_client().get(f"/verify/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Recife" in html and record_hash(app) in html
    assert app.test_client().get(f"/verify/{token[:-1]}x").status_code == 404
    assert app.test_client().get("/verify/short").status_code == 404
    # It is an ordinary evidence file, downloadable by the city.
    download = active.get(f"/cities/recife/assessment/evidence/{evidence.id}")
    assert download.status_code == 200 and download.data == content


def record_hash(app):
    with app.app_context():
        return db.session.scalar(sa.select(ActivityRecord.sha256))


def test_the_api_attaches_one_too(app, people, active):
    response = app.test_client().post(
        "/api/v1/cities/recife/assessment/CI1/activity", json=PERIOD, headers=bearer(app, people["member"])
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["evidence"]["kind"] == "file" and "/verify/" in body["verification_url"]


def test_the_action_shows_only_where_it_is_offered(app, people, active):
    assert 'id="activity"' in active.get("/cities/recife/assessment/LC3").get_data(as_text=True)
    assert 'id="activity"' not in active.get("/cities/recife/assessment/DM1").get_data(as_text=True)
    refused = attach(
        active,
        "DM1",
    )
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ActivityRecord.id))) == 0


@pytest.mark.config(ACTIVITY_EVIDENCE_CRITERIA=("LC3", "CI1"))
def test_a_framework_without_the_criterion_offers_nothing(app, people):
    with app.app_context():
        criterion = db.session.scalar(sa.select(Criterion).where(Criterion.code == "LC3"))
        criterion.retired = True
        db.session.commit()
    member = sign_in(app, people["member"])
    assert member.get("/cities/recife/assessment/LC3").status_code == 404
    response = app.test_client().post(
        "/api/v1/cities/recife/assessment/LC3/activity", json=PERIOD, headers=bearer(app, people["member"])
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "", "end": ""}, "start"),
        ({"start": TODAY.isoformat(), "end": (TODAY - timedelta(days=1)).isoformat()}, "end"),
        ({"end": (TODAY + timedelta(days=3)).isoformat()}, "end"),
        ({"start": "2000-01-01"}, "start"),
    ],
)
def test_bad_periods_are_refused_and_nothing_stored(app, people, active, period, field):
    response = app.test_client().post(
        "/api/v1/cities/recife/assessment/LC3/activity",
        json={**PERIOD, **period},
        headers=bearer(app, people["member"]),
    )
    assert response.status_code == 422 and field in response.get_json()["fields"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ActivityRecord.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 0
    assert not list(Path(app.config["UPLOAD_FOLDER"]).glob("*"))


def test_a_non_training_criterion_is_refused_by_the_api(app, people, active):
    response = app.test_client().post(
        "/api/v1/cities/recife/assessment/DM1/activity", json=PERIOD, headers=bearer(app, people["member"])
    )
    assert response.status_code == 422 and "criterion" in response.get_json()["fields"]


@pytest.mark.parametrize("role", ["other_city", "pending", "mentor", "admin"])
def test_only_the_citys_members_attach(app, people, active, role):
    response = app.test_client().post(
        "/api/v1/cities/recife/assessment/LC3/activity", json=PERIOD, headers=bearer(app, people[role])
    )
    assert response.status_code == 403
    assert attach(sign_in(app, people[role])).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ActivityRecord.id))) == 0


def test_the_pdf_is_in_the_readers_language(app, people, active):
    with app.app_context():
        db.session.get(User, people["member"].id).locale = "es"
        db.session.commit()
    attach(active)
    with app.app_context():
        evidence = db.session.scalar(sa.select(Evidence).where(Evidence.filename.like("activity-%")))
        text = pdf_text((Path(app.config["UPLOAD_FOLDER"]) / evidence.stored_name).read_bytes())
    assert "Registro de actividad en la comunidad: Recife" in text
    assert re.search(r"Sesiones en vivo", text)
