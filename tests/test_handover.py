# ruff: noqa: F811
"""The handover dossier: a streamed ZIP with dossier.pdf (accents and quotes right, in the reader's language),
record.json and the evidence files; only the city's confirmed members, its mentors and admins may take it."""

import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from community.assessment import handover
from community.auth.models import User
from community.cities.models import City
from community.extensions import db
from community.mentorship import services as mentorship
from community.mentorship.models import Mentorship
from tests.test_assessment import PDF, page, people, ready, save, upload  # noqa: F401
from tests.threads_helpers import bearer, sign_in

PAGE = "/cities/recife/handover"
API = "/api/v1/cities/recife/handover"


def pdf_text(content):
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def open_zip(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    content = b"".join(response.response)
    assert int(response.headers["Content-Length"]) == len(content)
    return zipfile.ZipFile(io.BytesIO(content))


@pytest.fixture
def filled(app, people):
    member = sign_in(app, people["member"])
    ready(app, people, "DM1")
    assert save(member, "DM2", "in_progress", "Gestão de dados: “inventário” começou ¿cuándo? ñandu").status_code == 302
    assert upload(member, "DM2", PDF, "inventário de dados.pdf", "Relação atualizada").status_code == 302
    with app.app_context():
        m = db.session.scalar(sa.select(Mentorship))
        user = db.session.get(User, people["member"].id)
        mentorship.add_goal(
            user, m, {"criterion": "DM2", "title": "Publicar o inventário", "target_date": "2026-12-01"}
        )
        mentorship.log_meeting(
            user,
            m,
            {
                "held_on": "2026-11-20",
                "notes": "Reunião de alinhamento",
                "next_steps": [{"text": "Revisar a política de dados", "owner_id": user.id, "due_on": "2026-12-05"}],
            },
        )
        db.session.commit()
    return member


def test_the_dossier_holds_the_pdf_the_record_and_every_evidence_file(app, people, filled):
    archive = open_zip(filled.get(PAGE))
    names = archive.namelist()
    assert names[:2] == ["dossier.pdf", "record.json"]
    files = [name for name in names if name.startswith("evidence/")]
    assert len(files) == 1 and files[0].startswith("evidence/DM2/") and files[0].endswith("inventário de dados.pdf")
    assert archive.read(files[0]) == PDF
    record = json.loads(archive.read("record.json"))
    assert record["city"]["slug"] == "recife"
    assert len(record["criteria"]) == 43
    dm2 = next(c for c in record["criteria"] if c["code"] == "DM2")
    assert dm2["status"][0]["status"] == "in_progress"
    assert dm2["evidence"][0]["path"] == files[0]
    dm1 = next(c for c in record["criteria"] if c["code"] == "DM1")
    assert dm1["evidence"][0]["kind"] == "link"
    assert record["mentorships"][0]["goals"][0]["title"] == "Publicar o inventário"
    assert record["mentorships"][0]["meetings"][0]["next_steps"][0]["text"] == "Revisar a política de dados"
    assert record["cycles"][0]["cycle"] == "2026"
    text = pdf_text(archive.read("dossier.pdf"))
    # The member reads Portuguese; accents, ñ, ¿ and typographic quotes survive.
    assert "Dossiê de transição: Recife" in text
    assert "“inventário” começou ¿cuándo? ñandu" in text
    assert "Publicar o inventário" in text and "Revisar a política de dados" in text
    assert "Histórico de revisões" in text


def test_the_pdf_follows_the_readers_language(app, people, filled):
    with app.app_context():
        db.session.get(User, people["admin"].id).locale = "es"
        db.session.commit()
    archive = open_zip(sign_in(app, people["admin"]).get(PAGE))
    text = pdf_text(archive.read("dossier.pdf"))
    assert "Dosier de traspaso: Recife" in text and "Historial de revisiones" in text


def test_a_review_shows_in_the_history(app, people, filled):
    filled.post(page(rest="/DM1/submit"))
    mentor = sign_in(app, people["mentor"])
    assert (
        mentor.post(
            page(rest="/DM1/review"), data={"verdict": "changes_requested", "comment": "Falta a ata"}
        ).status_code
        == 302
    )
    record = json.loads(open_zip(mentor.get(PAGE)).read("record.json"))
    dm1 = next(c for c in record["criteria"] if c["code"] == "DM1")
    assert dm1["reviews"][0]["verdict"] == "changes_requested" and dm1["reviews"][0]["comment"] == "Falta a ata"


@pytest.mark.parametrize("role", ["member", "mentor", "admin"])
def test_members_mentors_and_admins_take_it_from_the_page_and_the_api(app, people, filled, role):
    open_zip(sign_in(app, people[role]).get(PAGE))
    response = app.test_client().get(API, headers=bearer(app, people[role]))
    open_zip(response)


@pytest.mark.parametrize("role", ["visitor", "other_city", "pending", "other_mentor"])
def test_nobody_else_may(app, people, filled, role):
    client = app.test_client() if role == "visitor" else sign_in(app, people[role])
    response = client.get(PAGE)
    assert response.status_code in (302, 403)
    if role == "visitor":
        assert "/login" in response.headers["Location"]
        assert app.test_client().get(API).status_code == 401
    else:
        api = app.test_client().get(API, headers=bearer(app, people[role]))
        assert api.status_code == 403 and api.get_json()["error"] == "forbidden"


def test_an_unknown_city_is_a_404(app, people):
    assert sign_in(app, people["admin"]).get("/cities/nowhere/handover").status_code == 404


def test_the_dossier_of_a_city_with_nothing_yet(app, people):
    archive = open_zip(sign_in(app, people["member"]).get(PAGE))
    assert [n for n in archive.namelist() if n.startswith("evidence/")] == []
    assert "Dossiê de transição" in pdf_text(archive.read("dossier.pdf"))


def test_a_criterion_section_is_one_function(app, people, filled, monkeypatch):
    def notes_length(answer):
        return handover.Part("notes_length", "Notes length", [{"line": str(len(answer.notes))}])

    monkeypatch.setattr(handover, "CRITERION_PARTS", [*handover.CRITERION_PARTS, notes_length])
    archive = open_zip(filled.get(PAGE))
    record = json.loads(archive.read("record.json"))
    assert "notes_length" in record["criteria"][0]
    assert "Notes length" in pdf_text(archive.read("dossier.pdf"))


def test_the_evidence_files_are_streamed_from_disk(app, people, filled):
    with app.test_request_context():
        stream = handover.archive(db.session.scalar(sa.select(City).where(City.slug == "recife")))
        chunks = list(stream)
    assert len(chunks) > 1


def test_each_criterion_lists_its_checklist_with_the_citys_marks(app, people, filled):
    from community.assessment import services

    with app.app_context():
        recife = db.session.scalar(sa.select(City).where(City.slug == "recife"))
        answer = services.answer_for(services.find_assessment(recife), "DM2")
        services.mark_items(db.session.get(User, people["member"].id), answer, ["DM2.1", "DM2.3"])
        db.session.commit()
    archive = open_zip(filled.get(PAGE))
    dm2 = next(c for c in json.loads(archive.read("record.json"))["criteria"] if c["code"] == "DM2")
    rule, *items = dm2["checklist"]
    assert rule["rule"]["met"] == 2 and rule["rule"]["total"] == len(items) >= 3
    assert [item["id"] for item in items if item["met"]] == ["DM2.1", "DM2.3"]
    assert {"checklist", "status", "reviews", "evidence"} <= {part["key"] for part in dm2["parts"]}
    text = " ".join(pdf_text(archive.read("dossier.pdf")).split())  # justified lines come out with wider spaces
    assert "2 de 5 itens cumpridos" in text
    assert "[x] DM2.1" in text and "[ ] DM2.2" in text and "[x] DM2.3" in text
