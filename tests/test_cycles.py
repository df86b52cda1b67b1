# ruff: noqa: F811
"""Certification cycles: starting one (page and CLI) carries answers and evidence forward "to confirm", the
mentor's acceptance does not carry, bad input changes nothing, past cycles are read-only on pages and API, and the
dashboard compares cycles."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from community.assessment import cycles, services
from community.assessment.models import Answer, Assessment, Criterion, Evidence
from community.assessment.records import CarriedAnswer, Cycle
from community.auth.models import User
from community.extensions import db
from tests.test_assessment import PDF, answer_row, page, people, ready, save, upload  # noqa: F401
from tests.threads_helpers import bearer, sign_in


def accept(app, people, code):
    client = sign_in(app, people["mentor"])
    client.post(f"/cities/recife/assessment/{code}/submit")
    member = sign_in(app, people["member"])
    member.post(f"/cities/recife/assessment/{code}/submit")
    response = client.post(page(rest=f"/{code}/review"), data={"verdict": "accepted", "comment": "Ótimo"})
    assert response.status_code == 302


def row_in(app, code, cycle="2027"):
    with app.app_context():
        row = db.session.scalar(
            sa.select(Answer)
            .join(Answer.assessment)
            .join(Answer.criterion)
            .where(Assessment.cycle == cycle, Criterion.code == code)
        )
        db.session.expunge(row)
        return row


def save_now(client, code, status, notes=""):
    version = row_in(client.application, code).version
    return save(client, code, status, notes, version=version)


def counts(app):
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Cycle, Assessment, Answer, Evidence, CarriedAnswer)
        )


def start(runner, name="2027", deadline="2099-12-15"):
    return runner.invoke(args=["assessment", "new-cycle", name, "--deadline", deadline])


@pytest.fixture
def carried(app, people, runner):
    """Recife with DM1 accepted (a link), DM2 in progress with a file, then the 2027 cycle started."""
    ready(app, people, "DM1")
    accept(app, people, "DM1")
    member = sign_in(app, people["member"])
    assert save(member, "DM2", "in_progress", "Inventário começou").status_code == 302
    assert upload(member, "DM2", PDF, "inventário.pdf").status_code == 302
    result = start(runner)
    assert result.exit_code == 0, result.output
    return member


def test_the_cli_carries_answers_and_evidence_forward_to_confirm(app, people, carried):
    with app.app_context():
        assert services.current_cycle() == "2027"
        assert services.current_deadline().isoformat() == "2099-12-15"
        assert {c.name for c in db.session.scalars(sa.select(Cycle))} == {"2026", "2027"}
    dm1, dm2 = answer_row(app, "DM1"), answer_row(app, "DM2")
    with app.app_context():
        new_dm1 = db.session.scalar(
            sa.select(Answer)
            .join(Answer.assessment)
            .join(Answer.criterion)
            .where(Assessment.cycle == "2027", Criterion.code == "DM1")
        )
        new_dm2 = db.session.scalar(
            sa.select(Answer)
            .join(Answer.assessment)
            .join(Answer.criterion)
            .where(Assessment.cycle == "2027", Criterion.code == "DM2")
        )
        # Status, notes and evidence carry; the acceptance does not.
        assert new_dm1.status == "in_place" and new_dm1.review_state == "draft"
        assert db.session.get(CarriedAnswer, new_dm1.id).previous_review_state == "accepted"
        assert new_dm2.status == "in_progress" and new_dm2.notes == "Inventário começou"
        assert [e.filename for e in new_dm2.evidence] == ["inventário.pdf"]
        old_file = db.session.scalar(sa.select(Evidence).where(Evidence.answer_id == dm2.id))
        new_file = new_dm2.evidence[0]
        assert new_file.stored_name != old_file.stored_name
        folder = Path(app.config["UPLOAD_FOLDER"])
        assert (folder / new_file.stored_name).read_bytes() == PDF
        assert db.session.get(CarriedAnswer, new_dm2.id).to_confirm
        assert dm1.review_state == "accepted"  # the past cycle keeps its review


def test_the_city_confirms_or_updates_a_carried_answer(app, people, carried):
    page_html = carried.get(page(rest="/DM1")).get_data(as_text=True)
    assert "/DM1/confirm" in page_html and "Confirmar como está" in page_html
    assert 'id="to-confirm"' in carried.get(page()).get_data(as_text=True)
    response = carried.post(page(rest="/DM1/confirm"))
    assert response.status_code == 302
    again = carried.post(page(rest="/DM1/confirm"), follow_redirects=True)
    assert "já foi confirmado" in again.get_data(as_text=True)
    # Updating counts as confirming.
    assert save_now(carried, "DM2", "in_place", "Publicado").status_code == 302
    with app.app_context():
        rows = db.session.scalars(sa.select(CarriedAnswer)).all()
        assert all(not row.to_confirm for row in rows)
    # The acceptance must be earned again: it goes back to review.
    assert carried.post(page(rest="/DM1/submit")).status_code == 302
    assert row_in(app, "DM1").review_state == "submitted"


def test_confirm_is_for_members_of_carried_answers_only(app, people, carried):
    mentor = sign_in(app, people["mentor"])
    assert mentor.post(page(rest="/DM1/confirm")).status_code == 403
    assert sign_in(app, people["other_city"]).post(page(rest="/DM1/confirm")).status_code == 403
    api = carried.post(page(rest="/DM3/confirm").replace("/cities", "/api/v1/cities"))
    assert api.status_code == 409 and api.get_json()["error"] == "not_carried"
    ok = carried.post("/api/v1/cities/recife/assessment/DM1/confirm")
    assert ok.status_code == 200 and ok.get_json()["to_confirm"] is False


@pytest.mark.parametrize(
    ("name", "deadline", "field"),
    [
        ("2026", "2099-01-01", "already exists"),
        ("banana", "2099-01-01", "by its year"),
        ("2027; drop", "2099-01-01", "by its year"),
        ("2025", "2099-01-01", "comes after"),
        ("2028", "2020-01-01", "in the future"),
        ("2028", "15/12/2028", "YYYY-MM-DD"),
        ("2028", "", "YYYY-MM-DD"),
    ],
)
def test_bad_cycles_are_refused_and_nothing_is_half_made(app, people, runner, name, deadline, field):
    ready(app, people, "DM1")
    before = counts(app)
    result = start(runner, name, deadline)
    assert result.exit_code != 0
    assert field in result.output
    assert counts(app) == before


def test_a_cycle_started_twice_is_refused(app, people, runner):
    ready(app, people, "DM1")
    assert start(runner).exit_code == 0
    before = counts(app)
    result = start(runner)
    assert result.exit_code != 0 and "already exists" in result.output
    assert counts(app) == before


def test_a_failure_midway_leaves_nothing_behind(app, people, runner, monkeypatch):
    ready(app, people, "DM1")
    member = sign_in(app, people["member"])
    assert upload(member, "DM2", PDF, "a.pdf").status_code == 302
    files_before = sorted(Path(app.config["UPLOAD_FOLDER"]).iterdir())
    before = counts(app)

    def broken(evidence, answer):
        raise RuntimeError("disk full")

    original = cycles._copy_evidence
    calls = []

    def copy_then_break(evidence, answer):
        calls.append(1)
        if len(calls) > 1:
            broken(evidence, answer)
        return original(evidence, answer)

    monkeypatch.setattr(cycles, "_copy_evidence", copy_then_break)
    result = start(runner)
    assert result.exit_code != 0
    assert counts(app) == before
    assert sorted(Path(app.config["UPLOAD_FOLDER"]).iterdir()) == files_before
    with app.app_context():
        assert services.current_cycle() == "2026"


def test_the_admin_page_starts_a_cycle_and_others_may_not(app, people):
    admin = sign_in(app, people["admin"])
    page_html = admin.get("/admin/cycles").get_data(as_text=True)
    assert "2026" in page_html
    bad = admin.post("/admin/cycles", data={"name": "2027", "deadline": "2001-01-01"})
    assert bad.status_code == 422 and "no futuro" in bad.get_data(as_text=True)
    for role in ("member", "mentor"):
        assert (
            sign_in(app, people[role])
            .post("/admin/cycles", data={"name": "2027", "deadline": "2099-01-01"})
            .status_code
            == 403
        )
    ok = admin.post("/admin/cycles", data={"name": "2027", "deadline": "2099-01-01"}, follow_redirects=True)
    assert ok.status_code == 200 and "2027" in ok.get_data(as_text=True)
    with app.app_context():
        assert services.current_cycle() == "2027"


def test_the_refusal_is_translated(app, people):
    admin = sign_in(app, people["admin"])
    bad = admin.post("/admin/cycles", data={"name": "banana", "deadline": "2099-01-01"})
    assert bad.status_code == 422 and "pelo ano" in bad.get_data(as_text=True)
    with app.app_context():
        db.session.get(User, people["admin"].id).locale = "es"
        db.session.commit()
    bad = admin.post("/admin/cycles", data={"name": "2027", "deadline": "2001-01-01"})
    assert bad.status_code == 422 and "en el futuro" in bad.get_data(as_text=True)


def test_past_cycles_are_read_only_on_pages_and_api(app, people, carried):
    with app.app_context():
        old = db.session.scalar(
            sa.select(Evidence)
            .join(Evidence.answer)
            .join(Answer.assessment)
            .where(Assessment.cycle == "2026", Evidence.stored_name.is_not(None))
        )
        old_id = old.id
    refused = carried.post(page(rest="/DM1"), data={"status": "in_place", "notes": "x", "cycle": "2026"})
    assert refused.status_code == 409 and "encerrado" in refused.get_data(as_text=True)
    api = carried.put("/api/v1/cities/recife/assessment/DM1?cycle=2026", json={"status": "in_place", "notes": "x"})
    assert api.status_code == 409 and api.get_json()["error"] == "past_cycle"
    body = carried.put("/api/v1/cities/recife/assessment/DM1", json={"status": "in_place", "cycle": "2026"})
    assert body.status_code == 409
    gone = carried.post(page(rest=f"/evidence/{old_id}/delete"))
    assert gone.status_code == 409
    with app.app_context():
        assert db.session.get(Evidence, old_id) is not None
    # The past cycle is still there to read, files included.
    past = carried.get("/cities/recife/cycles/2026")
    assert past.status_code == 200 and "encerrado" in past.get_data(as_text=True)
    assert carried.get(f"/cities/recife/cycles/2026/evidence/{old_id}").status_code == 200
    data = carried.get("/api/v1/cities/recife/cycles/2026").get_json()
    assert data["read_only"] is True and data["cycle"] == "2026"
    assert carried.get("/cities/recife/cycles/1999").status_code == 404
    # The current cycle still takes writes naming it.
    ok = carried.put("/api/v1/cities/recife/assessment/DM3?cycle=2027", json={"status": "in_progress"})
    assert ok.status_code == 200


def test_the_dashboard_links_past_cycles_and_compares_them(app, people, carried):
    dashboard = carried.get(page()).get_data(as_text=True)
    assert "/cities/recife/cycles/2026" in dashboard
    assert save_now(carried, "DM2", "in_place", "Feito").status_code == 302
    comparison = carried.get("/cities/recife/cycles").get_data(as_text=True)
    assert "De 2026 para 2027" in comparison and "DM2" in comparison
    data = carried.get("/api/v1/cities/recife/cycles").get_json()
    assert [item["cycle"] for item in data["items"]] == ["2026", "2027"]
    moved = {c["criterion"]: c for c in data["changes"][0]["criteria"]}
    assert moved["DM2"]["status_before"] == "in_progress" and moved["DM2"]["status_after"] == "in_place"
    assert moved["DM1"]["accepted_before"] is True and moved["DM1"]["accepted_after"] is False


@pytest.mark.parametrize("role", ["visitor", "other_city", "pending", "other_mentor"])
def test_only_readers_see_cycles(app, people, carried, role):
    client = app.test_client() if role == "visitor" else sign_in(app, people[role])
    for path in ("/cities/recife/cycles", "/cities/recife/cycles/2026"):
        assert client.get(path).status_code in (302, 403)
    assert client.get("/api/v1/cities/recife/cycles").status_code in (401, 403)


def test_with_a_token(app, people, carried):
    headers = bearer(app, people["member"])
    response = app.test_client().get("/api/v1/cities/recife/cycles", headers=headers)
    assert response.status_code == 200


def test_a_site_with_no_assessment_yet_starts_a_cycle(app, runner, framework):
    result = start(runner)
    assert result.exit_code == 0, result.output
    assert "0 cities carried forward" in result.output
    with app.app_context():
        assert services.current_cycle() == "2027"
        assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0
