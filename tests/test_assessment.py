"""A city's self-assessment: the level arithmetic, editing (and refusing stale edits), evidence and uploads, the
review flow with its notifications, the permission matrix, the dashboard, the cohort and the exports."""

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from community.assessment import services
from community.assessment.models import Answer, Assessment, Evidence, Review
from community.auth.models import User
from community.cities.models import City
from community.extensions import db
from community.framework.models import Criterion
from community.mentorship import services as mentorship
from tests.conftest import sends_to_login
from tests.threads_helpers import bearer, notices, sign_in

AS_OF = "2026-01-15"  # the date evidence shows, as the form sends it
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100
CSV_TEXT = "indicador;valor\nleitos;120\nfila média (dias);4,5\n".encode()

ROLES = ("visitor", "other_city", "pending", "member", "other_mentor", "mentor", "admin")
READERS = {"member", "mentor", "admin"}


@pytest.fixture
def people(app, make, framework):
    recife = make.city()
    fortaleza = make.city("Fortaleza", "Ceará")
    cast = {
        "member": make.user(name="Beatriz Rocha", city=recife.slug),
        "colleague": make.user(name="Rafael Recife", city=recife.slug),
        "pending": make.user(name="Paulo Pendente", city=recife.slug, confirmed=False),
        "other_city": make.user(name="Carlos Lima", city=fortaleza.slug),
        "mentor": make.user(name="Helena Duarte", role="mentor"),
        "other_mentor": make.user(name="Marcos Mentor", role="mentor"),
        "admin": make.user(name="Equipe", role="admin"),
    }
    with app.app_context():
        admin = db.session.get(User, cast["admin"].id)
        mentorship.assign(admin, db.session.get(User, cast["mentor"].id), db.session.get(City, recife.id))
        mentorship.assign(admin, db.session.get(User, cast["other_mentor"].id), db.session.get(City, fortaleza.id))
        db.session.commit()
    cast["recife"], cast["fortaleza"] = recife, fortaleza
    return cast


def client_for(app, people, role):
    return app.test_client() if role == "visitor" else sign_in(app, people[role])


def page(slug="recife", rest=""):
    return f"/cities/{slug}/assessment{rest}"


def save(client, code, status, notes="", version=None, slug="recife"):
    if version is None:
        row = answer_row(client.application, code, slug)
        version = row.version if row else 0
    return client.post(page(slug, f"/{code}"), data={"status": status, "notes": notes, "version": version})


def answer_row(app, code, slug="recife"):
    with app.app_context():
        row = db.session.scalar(
            sa.select(Answer)
            .join(Answer.assessment)
            .join(Assessment.city)
            .join(Answer.criterion)
            .where(City.slug == slug, Criterion.code == code)
        )
        if row is None:
            return None
        db.session.expunge(row)
        return row


def evidence_rows(app, code, slug="recife"):
    with app.app_context():
        return db.session.execute(
            sa.select(Evidence.filename, Evidence.url)
            .join(Evidence.answer)
            .join(Answer.criterion)
            .join(Answer.assessment)
            .join(Assessment.city)
            .where(Criterion.code == code, City.slug == slug)
            .order_by(Evidence.id)
        ).all()


def upload(client, code, content, name, description="", slug="recife"):
    return client.post(
        page(slug, f"/{code}/evidence"),
        data={"kind": "file", "as_of": AS_OF, "file": (io.BytesIO(content), name), "description": description},
        content_type="multipart/form-data",
    )


def ready(app, people, code, client=None):
    """Put `code` in place with a link as evidence, signed in as the member."""
    client = client or sign_in(app, people["member"])
    assert save(client, code, "in_place", "Temos isso.").status_code == 302
    response = client.post(
        page(rest=f"/{code}/evidence"), data={"kind": "link", "as_of": AS_OF, "url": "https://dados.recife.pe.gov.br"}
    )
    assert response.status_code == 302
    return client


def submit(app, people, code):
    client = ready(app, people, code)
    assert client.post(page(rest=f"/{code}/submit")).status_code == 302
    assert answer_row(app, code).review_state == "submitted"
    return client


def uploaded_files(app):
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


# --- levels ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("met", "total", "level"),
    [
        (0, 43, None),
        (21, 43, None),  # 48.8%
        (22, 43, "silver"),  # 51.2%: the first count at or above 51%
        (29, 43, "silver"),  # 67.4%
        (30, 43, "gold"),  # 69.8%
        (36, 43, "gold"),  # 83.7%
        (37, 43, "platinum"),  # 86.0%
        (43, 43, "platinum"),
        (50, 100, None),
        (51, 100, "silver"),  # exactly at the threshold counts
        (67, 100, "silver"),
        (68, 100, "gold"),
        (84, 100, "gold"),
        (85, 100, "platinum"),
        (0, 0, None),
    ],
)
def test_the_level_is_the_highest_threshold_reached_with_whole_number_arithmetic(app, met, total, level):
    with app.app_context():
        assert services.level_for(met, total) == level


def test_the_next_level_says_how_many_criteria_are_missing(app):
    with app.app_context():
        assert services.next_level(0, 43) == ("silver", 22)
        assert services.next_level(21, 43) == ("silver", 1)
        assert services.next_level(22, 43) == ("gold", 8)  # 68% of 43 is 29.24: 30 criteria
        assert services.next_level(30, 43) == ("platinum", 7)  # 85% of 43 is 36.55: 37
        assert services.next_level(37, 43) is None


@pytest.mark.config(CERTIFICATION_LEVELS={"silver": 40, "gold": 60, "platinum": 80})
def test_the_thresholds_are_configuration(app):
    with app.app_context():
        assert services.level_for(4, 10) == "silver"
        assert services.level_for(6, 10) == "gold"
        assert services.level_for(8, 10) == "platinum"
        assert services.level_for(3, 10) is None


# --- who may read and write --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_members_mentors_of_the_city_and_admins_read_the_assessment(app, people, role):
    client = client_for(app, people, role)
    for path in (page(), page(rest="/DM2"), page(rest="/export.csv"), page(rest="/export.json")):
        response = client.get(path)
        if role == "visitor":
            assert sends_to_login(response, path), path
        elif role in READERS:
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
    api = client.get("/api/v1/cities/recife/assessment")
    assert api.status_code == {"visitor": 401}.get(role, 200 if role in READERS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_citys_confirmed_members_write_its_assessment(app, people, role):
    client = client_for(app, people, role)
    response = client.post(page(rest="/DM2"), data={"status": "in_place", "notes": "x", "version": 0})
    link = client.post(page(rest="/DM2/evidence"), data={"kind": "link", "as_of": AS_OF, "url": "https://example.org"})
    submitted = client.post(page(rest="/DM2/submit"))
    if role == "member":
        assert response.status_code == 302 and link.status_code == 302 and submitted.status_code == 302
        return
    for result in (response, link, submitted):
        assert result.status_code == (302 if role == "visitor" else 403)
    assert answer_row(app, "DM2") is None or answer_row(app, "DM2").status == "not_started"
    assert evidence_rows(app, "DM2") == []


@pytest.mark.parametrize("role", ("other_city", "pending", "member", "other_mentor", "mentor", "admin"))
def test_the_api_write_matrix(app, people, role):
    headers = bearer(app, people[role])
    response = app.test_client().put(
        "/api/v1/cities/recife/assessment/DM2", json={"status": "in_progress"}, headers=headers
    )
    assert response.status_code == (200 if role == "member" else 403)
    if role != "member":
        assert response.get_json()["error"] == "forbidden"


def test_a_visitor_gets_401_from_the_api(app, people):
    client = app.test_client()
    assert client.get("/api/v1/cities/recife/assessment").status_code == 401
    assert client.put("/api/v1/cities/recife/assessment/DM2", json={"status": "in_place"}).status_code == 401


# --- editing -----------------------------------------------------------------------------------------------------


def test_a_member_saves_status_and_notes_and_the_version_rises(app, people):
    client = sign_in(app, people["member"])
    assert client.get(page()).status_code == 200
    response = save(client, "DM2", "in_progress", "Inventário em **planilha**. <script>alert(1)</script>")
    assert response.status_code == 302
    row = answer_row(app, "DM2")
    assert row.status == "in_progress" and row.version == 1
    assert "<strong>planilha</strong>" in row.notes_html and "<script" not in row.notes_html
    html = client.get(page(rest="/DM2")).get_data(as_text=True)
    assert "Inventário em" in html and "<script>alert(1)" not in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": ""}, "status"),
        ({"status": "in_place", "notes": "x" * (services.NOTES_MAX + 1)}, "notes"),
    ],
)
def test_bad_answers_are_refused_with_a_message_and_nothing_changes(app, people, data, field):
    client = sign_in(app, people["member"])
    save(client, "DM2", "in_progress", "Antes")
    response = client.post(page(rest="/DM2"), data={"version": 1, **data})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    row = answer_row(app, "DM2")
    assert (row.status, row.notes, row.version) == ("in_progress", "Antes", 1)


def test_an_unknown_criterion_is_a_404(app, people):
    client = sign_in(app, people["member"])
    assert client.get(page(rest="/DM99")).status_code == 404
    assert client.get(page(rest="/../etc")).status_code == 404
    assert client.post(page(rest="/ZZ1"), data={"status": "in_place"}).status_code == 404
    assert client.get(page("nowhere")).status_code == 404


def test_a_stale_edit_is_refused_and_the_other_persons_work_is_kept(app, people):
    first = sign_in(app, people["member"])
    second = sign_in(app, people["colleague"])
    second.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    first.get(page(rest="/DM2"))
    assert save(first, "DM2", "in_place", "Beatriz: o inventário está publicado.", version=0).status_code == 302
    response = save(second, "DM2", "in_progress", "Rafael: ainda falta.", version=0)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Beatriz Rocha saved this criterion after you opened it" in html
    assert "Rafael: ainda falta." in html  # what they typed is still in the form
    row = answer_row(app, "DM2")
    assert (row.status, row.notes, row.version) == ("in_place", "Beatriz: o inventário está publicado.", 1)
    # Saving again from the refreshed form is a deliberate choice and goes through.
    assert save(second, "DM2", "in_progress", "Rafael: ainda falta.", version=1).status_code == 302
    assert answer_row(app, "DM2").notes == "Rafael: ainda falta."


def test_edits_of_different_criteria_at_once_do_not_touch_each_other(app, people):
    first = sign_in(app, people["member"])
    second = sign_in(app, people["colleague"])
    first.get(page())
    assert save(first, "DM1", "in_place", "A", version=0).status_code == 302
    assert save(second, "DM2", "in_progress", "B", version=0).status_code == 302
    assert (answer_row(app, "DM1").notes, answer_row(app, "DM2").notes) == ("A", "B")


def test_the_api_refuses_a_stale_version_with_409_and_bad_input_with_422(app, people):
    headers = bearer(app, people["member"])
    client = app.test_client()
    url = "/api/v1/cities/recife/assessment/DM2"
    ok = client.put(url, json={"status": "in_progress", "notes": "n", "version": 0}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["version"] == 1
    stale = client.put(url, json={"status": "in_place", "version": 0}, headers=headers)
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale"
    bad = client.put(url, json={"status": "finished", "notes": 5}, headers=headers)
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"status", "notes"}
    assert client.put(url, json={"status": "in_place", "version": "one"}, headers=headers).status_code == 422
    assert client.put(url, data="status=in_place", headers=headers).status_code in (400, 415)
    assert (
        client.put("/api/v1/cities/recife/assessment/XX9", json={"status": "in_place"}, headers=headers).status_code
        == 404
    )
    row = answer_row(app, "DM2")
    assert (row.status, row.version) == ("in_progress", 1)


def test_two_people_opening_the_assessment_first_share_one(app, people):
    with app.app_context():
        city = db.session.get(City, people["recife"].id)
        first = services.open_assessment(city)
        second = services.open_assessment(city)
        db.session.commit()
        assert first.id == second.id
        assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 43


# --- evidence and uploads ----------------------------------------------------------------------------------------


def test_links_need_a_web_address(app, people):
    client = sign_in(app, people["member"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for bad in ("javascript:alert(1)", "dados.gov.br", "ftp://x.org/a", ""):
        response = client.post(page(rest="/DM2/evidence"), data={"kind": "link", "as_of": AS_OF, "url": bad})
        assert response.status_code == 422, bad
    assert "Give a full web address" in response.get_data(
        as_text=True
    ) or "This field is required" in response.get_data(as_text=True)
    assert evidence_rows(app, "DM2") == []
    ok = client.post(
        page(rest="/DM2/evidence"), data={"kind": "link", "as_of": AS_OF, "url": "https://dados.recife.pe.gov.br/"}
    )
    assert ok.status_code == 302
    assert evidence_rows(app, "DM2") == [(None, "https://dados.recife.pe.gov.br/")]


def test_a_pdf_is_stored_outside_static_under_a_generated_name_and_sent_as_an_attachment(app, people):
    client = sign_in(app, people["member"])
    response = upload(client, "DM2", PDF, "Inventário de dados.pdf", "O inventário aprovado")
    assert response.status_code == 302
    [stored] = uploaded_files(app)
    assert len(stored) == 32 and stored.isalnum()
    assert "static" not in app.config["UPLOAD_FOLDER"].split("/")
    with app.app_context():
        evidence = db.session.scalar(sa.select(Evidence))
        assert (evidence.filename, evidence.content_type, evidence.size) == (
            "Inventário de dados.pdf",
            "application/pdf",
            len(PDF),
        )
        evidence_id = evidence.id
    download = client.get(page(rest=f"/evidence/{evidence_id}"))
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("role", ROLES)
def test_only_readers_of_the_assessment_download_its_files(app, people, role):
    upload(sign_in(app, people["member"]), "DM2", PDF, "a.pdf")
    with app.app_context():
        evidence_id = db.session.scalar(sa.select(Evidence.id))
    path = page(rest=f"/evidence/{evidence_id}")
    response = client_for(app, people, role).get(path)
    if role == "visitor":
        assert sends_to_login(response, path)
    else:
        assert response.status_code == (200 if role in READERS else 403)
    # Another city's address does not reach this file.
    assert client_for(app, people, "admin").get(page("fortaleza", f"/evidence/{evidence_id}")).status_code == 404


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (EXE, "relatorio.pdf"),  # a program dressed as a PDF
        (PNG, "relatorio.pdf"),  # an image is not a PDF
        (PDF, "foto.png"),
        (b"\x00\x01binary\x00" * 20, "dados.csv"),
        (PDF, "script.exe"),
        (PDF, "sem-extensao"),
        (b"", "vazio.pdf"),
    ],
)
def test_a_file_whose_content_does_not_match_an_accepted_type_is_refused(app, people, content, name):
    client = sign_in(app, people["member"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    save(client, "DM2", "in_progress", "Antes")
    response = upload(client, "DM2", content, name)
    assert response.status_code == (400 if content == b"" else 415)
    assert 'class="error"' in response.get_data(as_text=True)
    assert evidence_rows(app, "DM2") == []
    assert uploaded_files(app) == []
    row = answer_row(app, "DM2")
    assert (row.status, row.notes, row.version) == ("in_progress", "Antes", 1)


def test_the_refusal_says_what_is_wrong_in_the_users_language(app, people):
    client = sign_in(app, people["member"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt-BR"
    html = upload(client, "DM2", EXE, "relatorio.pdf").get_data(as_text=True)
    assert "não é um arquivo PDF" in html


@pytest.mark.config(EVIDENCE_MAX_BYTES=1024)
def test_a_file_over_the_limit_gets_413_and_leaves_nothing(app, people):
    client = sign_in(app, people["member"])
    response = upload(client, "DM2", PDF + b"0" * 2048, "grande.pdf")
    assert response.status_code == 413
    assert evidence_rows(app, "DM2") == [] and uploaded_files(app) == []
    api = app.test_client().post(
        "/api/v1/cities/recife/assessment/DM2/evidence",
        data={"as_of": AS_OF, "file": (io.BytesIO(PDF + b"0" * 2048), "grande.pdf")},
        content_type="multipart/form-data",
        headers=bearer(app, people["member"]),
    )
    assert api.status_code == 413 and api.get_json()["error"] == "too_large"
    assert uploaded_files(app) == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("/home/ana/.hidden.pdf", "hidden.pdf"),
        ("rel\x00atorio.pdf", "relatorio.pdf"),
    ],
)
def test_path_parts_in_a_file_name_are_dropped(app, people, sent, kept):
    client = sign_in(app, people["member"])
    assert upload(client, "DM2", PDF, sent).status_code == 302
    assert evidence_rows(app, "DM2") == [(kept, None)]
    [stored] = uploaded_files(app)
    assert (Path(app.config["UPLOAD_FOLDER"]) / stored).read_bytes() == PDF


def test_a_file_name_keeps_only_its_last_part(app):
    from community.core.uploads import clean_filename

    assert clean_filename("..\\..\\windows\\system.ini.pdf") == "system.ini.pdf"
    assert clean_filename("C:\\Users\\ana\\relatório final.pdf") == "relatório final.pdf"
    assert clean_filename("../../.env") == "env"
    assert clean_filename("a" * 300 + ".pdf") == "a" * 196 + ".pdf"


def test_office_documents_spreadsheets_csv_and_images_are_accepted(app, people):
    import zipfile

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    client = sign_in(app, people["member"])
    for content, name in ((docx.getvalue(), "plano.docx"), (CSV_TEXT, "indicadores.csv"), (PNG, "painel.png")):
        assert upload(client, "DM2", content, name).status_code == 302, name
    assert sorted(name for name, _url in evidence_rows(app, "DM2")) == ["indicadores.csv", "painel.png", "plano.docx"]


def test_the_api_takes_a_multipart_file_or_a_link(app, people):
    headers = bearer(app, people["member"])
    client = app.test_client()
    url = "/api/v1/cities/recife/assessment/OD1/evidence"
    response = client.post(
        url,
        data={"as_of": AS_OF, "file": (io.BytesIO(PDF), "portal.pdf"), "description": "Portal"},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (
        body["kind"] == "file"
        and body["filename"] == "portal.pdf"
        and body["url"].endswith(f"/cities/recife/assessment/evidence/{body['id']}")
    )
    link = client.post(
        url, json={"as_of": AS_OF, "url": "https://dados.recife.pe.gov.br", "description": "Portal"}, headers=headers
    )
    assert link.status_code == 201 and link.get_json()["kind"] == "link"
    bad = client.post(
        url,
        data={"as_of": AS_OF, "file": (io.BytesIO(EXE), "x.pdf")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert bad.status_code == 415 and "file" in bad.get_json()["fields"]
    missing = client.post(
        url, data={"as_of": AS_OF, "description": "nada"}, content_type="multipart/form-data", headers=headers
    )
    assert missing.status_code == 400
    assert len(evidence_rows(app, "OD1")) == 2


def test_removing_evidence_deletes_its_file(app, people):
    client = sign_in(app, people["member"])
    upload(client, "DM2", PDF, "a.pdf")
    with app.app_context():
        evidence_id = db.session.scalar(sa.select(Evidence.id))
    assert sign_in(app, people["mentor"]).post(page(rest=f"/evidence/{evidence_id}/delete")).status_code == 403
    assert uploaded_files(app)
    assert client.post(page(rest=f"/evidence/{evidence_id}/delete")).status_code == 302
    assert evidence_rows(app, "DM2") == [] and uploaded_files(app) == []


# --- submitting and reviewing ------------------------------------------------------------------------------------


def test_a_criterion_goes_to_review_only_in_place_with_evidence(app, people):
    client = sign_in(app, people["member"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    save(client, "DM2", "in_progress")
    client.post(page(rest="/DM2/submit"))
    assert "Mark it as in place first." in client.get(page(rest="/DM2")).get_data(as_text=True)
    save(client, "DM2", "in_place")
    client.post(page(rest="/DM2/submit"))
    assert answer_row(app, "DM2").review_state == "draft"
    assert notices(app, people["mentor"]) == []
    client.post(
        page(rest="/DM2/evidence"), data={"kind": "link", "as_of": AS_OF, "url": "https://example.org/inventario"}
    )
    assert client.post(page(rest="/DM2/submit")).status_code == 302
    assert answer_row(app, "DM2").review_state == "submitted"
    assert notices(app, people["mentor"]) == [("review_requested", "/cities/recife/assessment/DM2")]
    assert notices(app, people["other_mentor"]) == []


def test_submitting_a_practice_area_sends_the_ready_criteria_and_names_the_rest(app, people):
    client = ready(app, people, "DM1")
    ready(app, people, "DM3", client)
    save(client, "DM2", "in_progress")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    dashboard = client.get(page()).get_data(as_text=True)
    assert dashboard.count("ready criteria for review") == 1 and "Submit 2 ready criteria for review" in dashboard
    response = client.post(page(rest="/areas/DM/submit"), follow_redirects=True)
    assert "Sent for review: DM1, DM3." in response.get_data(as_text=True)
    states = {code: answer_row(app, code).review_state for code in ("DM1", "DM2", "DM3", "DM4")}
    assert states == {"DM1": "submitted", "DM2": "draft", "DM3": "submitted", "DM4": "draft"}
    nothing = client.post(page(rest="/areas/EVAL/submit"), follow_redirects=True)
    assert "None of these criteria is ready" in nothing.get_data(as_text=True)
    assert client.post(page(rest="/areas/XX/submit")).status_code == 404


def test_the_assigned_mentor_accepts_and_the_city_is_told(app, people):
    submit(app, people, "DM2")
    mentor = sign_in(app, people["mentor"])
    html = mentor.get(page(rest="/DM2")).get_data(as_text=True)
    assert 'name="verdict"' in html
    response = mentor.post(page(rest="/DM2/review"), data={"verdict": "accepted", "comment": "Muito bom."})
    assert response.status_code == 302
    assert answer_row(app, "DM2").review_state == "accepted"
    url = "/cities/recife/assessment/DM2"
    assert notices(app, people["member"]) == [("review_accepted", url)]
    assert notices(app, people["colleague"]) == [("review_accepted", url)]
    assert notices(app, people["pending"]) == []


def test_changes_requested_need_a_comment_and_the_history_keeps_every_review(app, people):
    client = submit(app, people, "DM2")
    mentor = sign_in(app, people["mentor"])
    mentor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = mentor.post(page(rest="/DM2/review"), data={"verdict": "changes_requested", "comment": " "})
    assert refused.status_code == 422 and "Say what the city should change." in refused.get_data(as_text=True)
    assert answer_row(app, "DM2").review_state == "submitted"
    assert (
        mentor.post(
            page(rest="/DM2/review"), data={"verdict": "changes_requested", "comment": "Falta a ata da reunião."}
        ).status_code
        == 302
    )
    assert notices(app, people["member"])[-1][0] == "review_changes_requested"
    assert client.post(page(rest="/DM2/submit")).status_code == 302
    assert mentor.post(page(rest="/DM2/review"), data={"verdict": "accepted", "comment": ""}).status_code == 302
    html = client.get(page(rest="/DM2")).get_data(as_text=True)
    assert "Falta a ata da reunião." in html
    with app.app_context():
        assert db.session.scalars(sa.select(Review.verdict).order_by(Review.id)).all() == [
            "changes_requested",
            "accepted",
        ]


def test_a_review_out_of_turn_is_a_conflict(app, people):
    ready(app, people, "DM2")
    mentor = sign_in(app, people["mentor"])
    assert mentor.post(page(rest="/DM2/review"), data={"verdict": "accepted"}).status_code == 409
    headers = bearer(app, people["mentor"])
    api = app.test_client().post(
        "/api/v1/cities/recife/assessment/DM2/review", json={"verdict": "accepted"}, headers=headers
    )
    assert api.status_code == 409 and api.get_json()["error"] == "not_submitted"
    assert answer_row(app, "DM2").review_state == "draft"


@pytest.mark.parametrize("role", ("other_city", "member", "other_mentor", "mentor", "admin"))
def test_only_the_citys_mentors_and_admins_review(app, people, role):
    submit(app, people, "DM2")
    response = sign_in(app, people[role]).post(page(rest="/DM2/review"), data={"verdict": "accepted"})
    assert response.status_code == (302 if role in ("mentor", "admin") else 403)
    assert answer_row(app, "DM2").review_state == ("accepted" if role in ("mentor", "admin") else "submitted")


def test_the_api_review_flow(app, people):
    member, mentor = bearer(app, people["member"]), bearer(app, people["mentor"])
    client = app.test_client()
    base = "/api/v1/cities/recife/assessment/PA2"
    client.put(base, json={"status": "in_place", "notes": "Painel semanal"}, headers=member)
    not_ready = client.post(base + "/submit", headers=member)
    assert not_ready.status_code == 422 and "evidence" in not_ready.get_json()["fields"]["criterion"]
    client.post(base + "/evidence", json={"as_of": AS_OF, "url": "https://painel.recife.pe.gov.br"}, headers=member)
    assert client.post(base + "/submit", headers=member).get_json()["review_state"] == "submitted"
    assert client.post(base + "/review", json={"verdict": "maybe"}, headers=mentor).status_code == 422
    assert client.post(base + "/review", json={"verdict": "accepted"}, headers=member).status_code == 403
    done = client.post(base + "/review", json={"verdict": "accepted", "comment": "Ok"}, headers=mentor)
    assert done.status_code == 200
    assert done.get_json()["review_state"] == "accepted"
    assert done.get_json()["latest_review"]["verdict"] == "accepted"
    document = client.get("/api/v1/cities/recife/assessment", headers=member).get_json()
    assert document["projected_level"]["self_reported"]["met"] == 1
    assert document["projected_level"]["accepted"] == {
        "met": 1,
        "total": 43,
        "level": None,
        "next_level": "silver",
        "criteria_to_next_level": 21,
    }
    pa2 = next(item for item in document["answers"] if item["criterion"] == "PA2")
    assert pa2["evidence"][0]["url"] == "https://painel.recife.pe.gov.br"


def test_leaving_in_place_or_removing_evidence_withdraws_an_acceptance(app, people):
    client = submit(app, people, "DM2")
    sign_in(app, people["mentor"]).post(page(rest="/DM2/review"), data={"verdict": "accepted"})
    save(client, "DM2", "in_progress")
    assert answer_row(app, "DM2").review_state == "draft"
    submit(app, people, "DM1")
    sign_in(app, people["mentor"]).post(page(rest="/DM1/review"), data={"verdict": "accepted"})
    with app.app_context():
        evidence_id = db.session.scalars(
            sa.select(Evidence.id).join(Evidence.answer).join(Answer.criterion).where(Criterion.code == "DM1")
        ).first()
    client.post(page(rest=f"/evidence/{evidence_id}/delete"))
    assert answer_row(app, "DM1").review_state == "draft"


# --- the dashboard, the cohort and the exports -------------------------------------------------------------------


def test_the_dashboard_shows_levels_progress_and_what_lifts_the_city(app, people):
    client = sign_in(app, people["member"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with app.app_context():
        assessment = services.open_assessment(db.session.get(City, people["recife"].id))
        rows = services.answers(assessment)
        for answer in rows[:22]:
            answer.status = "in_place"
        rows[22].status = "in_progress"
        db.session.commit()
        in_progress_code = rows[22].criterion.code
    html = client.get(page()).get_data(as_text=True)
    assert "22 of 43 criteria in place (51%)" in html
    assert "Silver" in html and "8 more for Gold" in html
    assert "What would lift the city to Gold" in html
    lift_section = html.split("What would lift the city to Gold", 1)[1]
    assert lift_section.index(in_progress_code) < lift_section.index("Not started")
    assert "0 of 43 criteria in place (0%)" in html  # nothing accepted yet
    data = json.loads(html.split('id="progress-data">', 1)[1].split("</script>", 1)[0])
    assert data["labels"] == ["DM", "LC", "OD", "PA", "BF", "RDC", "CI", "EVAL"]
    assert sum(sum(series["data"]) for series in data["series"]) == 43
    assert "days left" in html or "Today is the last day" in html or "The deadline has passed" in html


@pytest.mark.config(ASSESSMENT_DEADLINE="2099-12-15")
def test_days_left_to_the_configured_deadline(app, people):
    html = sign_in(app, people["member"], "en").get(page()).get_data(as_text=True)
    with app.app_context():
        left = services.days_left(services.current_deadline())
    assert f"{left} days left" in html


def test_the_cohort_shows_the_mentors_cities_their_gaps_and_the_reviews_waiting(app, people):
    submit(app, people, "DM2")
    mentor = sign_in(app, people["mentor"], "en")
    html = mentor.get("/assessment/cohort").get_data(as_text=True)
    assert "Recife" in html and "Fortaleza" not in html.split("Cities by criterion", 1)[1]
    assert 'href="/cities/recife/assessment/DM2"' in html
    assert "Reviews waiting" in html and "heat-waiting" in html
    assert "The criteria most cities lack" in html
    other = sign_in(app, people["other_mentor"], "en").get("/assessment/cohort").get_data(as_text=True)
    assert "Nothing is waiting for your review." in other
    admin = sign_in(app, people["admin"], "en").get("/assessment/cohort").get_data(as_text=True)
    assert "Recife" in admin and "Fortaleza" in admin
    assert sign_in(app, people["member"]).get("/assessment/cohort").status_code == 403
    assert sends_to_login(app.test_client().get("/assessment/cohort"), "/assessment/cohort")


def test_the_menu_leads_members_to_their_city_and_mentors_to_the_cohort(app, people):
    assert 'href="/cities/recife/assessment"' in sign_in(app, people["member"]).get("/").get_data(as_text=True)
    assert 'href="/assessment/cohort"' in sign_in(app, people["mentor"]).get("/").get_data(as_text=True)
    pending = sign_in(app, people["pending"]).get("/").get_data(as_text=True)
    assert "/assessment" not in pending


def test_the_csv_export_is_spreadsheet_safe_and_complete(app, people):
    client = submit(app, people, "DM2")
    save(client, "DM1", "in_progress", '=HYPERLINK("http://evil")')
    sign_in(app, people["mentor"]).post(
        page(rest="/DM2/review"), data={"verdict": "changes_requested", "comment": "@falta"}
    )
    response = client.get(page(rest="/export.csv"))
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == services.EXPORT_HEADER
    assert len(rows) == 44
    by_code = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_code["DM1"]["notes"] == '\'=HYPERLINK("http://evil")'
    assert by_code["DM2"]["latest_verdict"] == "changes_requested"
    assert by_code["DM2"]["latest_comment"] == "'@falta"
    assert "https://dados.recife.pe.gov.br" in by_code["DM2"]["evidence"]


def test_the_json_export_holds_answers_evidence_and_every_review(app, people):
    submit(app, people, "DM2")
    mentor = sign_in(app, people["mentor"])
    mentor.post(page(rest="/DM2/review"), data={"verdict": "changes_requested", "comment": "Mais"})
    response = sign_in(app, people["member"]).get(page(rest="/export.json"))
    assert response.headers["Content-Disposition"].startswith("attachment;")
    document = response.get_json()
    assert document["city"]["slug"] == "recife" and len(document["answers"]) == 43
    dm2 = next(item for item in document["answers"] if item["criterion"] == "DM2")
    assert dm2["reviews"][0]["comment"] == "Mais" and dm2["evidence"][0]["kind"] == "link"


# --- mentors of a city -------------------------------------------------------------------------------------------


def test_an_admin_assigns_and_ends_a_mentorship_which_opens_and_closes_the_assessment(app, people):
    newcomer_client = sign_in(app, people["other_mentor"])
    assert newcomer_client.get(page()).status_code == 403
    admin = sign_in(app, people["admin"], "en")
    assert admin.post("/cities/recife/mentors", data={"mentor": people["other_mentor"].id}).status_code == 302
    assert newcomer_client.get(page()).status_code == 200
    again = admin.post("/cities/recife/mentors", data={"mentor": people["other_mentor"].id}, follow_redirects=True)
    assert "Choose a mentor from the list." in again.get_data(as_text=True)
    assert admin.post("/cities/recife/mentors", data={"mentor": people["member"].id}).status_code == 302
    assert (
        sign_in(app, people["mentor"]).post("/cities/recife/mentors", data={"mentor": people["mentor"].id}).status_code
        == 403
    )
    with app.app_context():
        from community.mentorship.models import Mentorship

        mentorship_id = db.session.scalar(
            sa.select(Mentorship.id).where(
                Mentorship.mentor_id == people["other_mentor"].id, Mentorship.city_id == people["recife"].id
            )
        )
    assert sign_in(app, people["mentor"]).post(f"/mentorships/{mentorship_id}/close").status_code == 403
    assert admin.post(f"/mentorships/{mentorship_id}/close").status_code == 302
    assert newcomer_client.get(page()).status_code == 403


# --- the framework's texts ---------------------------------------------------------------------------------------


def test_an_admin_edits_a_criterions_texts_in_every_language(app, people):
    path = "/framework/DM2/edit"
    for role in ("member", "mentor"):
        assert sign_in(app, people[role]).get(path).status_code == 403
    assert sends_to_login(app.test_client().get(path), path)
    admin = sign_in(app, people["admin"], "en")
    form = admin.get(path).get_data(as_text=True)
    assert 'name="name_pt_BR"' in form and 'name="guidance_es"' in form
    data = {
        f"{field}_{lang}": f"{field} {lang}"
        for field in ("name", "description", "guidance")
        for lang in ("en", "pt_BR", "es")
    }
    refused = admin.post(path, data={**data, "name_es": ""})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM2")).names["es"] != "name es"
    assert admin.post(path, data=data).status_code == 302
    with app.app_context():
        criterion = db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM2"))
        assert criterion.names == {"en": "name en", "pt_BR": "name pt_BR", "es": "name es"}
        assert criterion.guidance["es"] == "guidance es"
    assert "name pt_BR" in sign_in(app, people["member"], "pt-BR").get("/framework/DM2").get_data(as_text=True)
    area_form = admin.get("/framework/DM/edit").get_data(as_text=True)
    assert 'name="guidance_en"' not in area_form
    assert admin.get("/framework/XX9/edit").status_code == 404


def test_two_saves_racing_from_the_same_version_cannot_both_win(app, people):
    """Each save is one conditional UPDATE, so of two saves started from version 0 exactly one is stored."""
    import threading

    from community.core.errors import Conflict

    with app.app_context():
        services.open_assessment(db.session.get(City, people["recife"].id))
        db.session.commit()
    barrier = threading.Barrier(2)
    outcomes = {}

    def save_as(role, notes):
        with app.test_request_context():
            user = db.session.get(User, people[role].id)
            city = db.session.get(City, people["recife"].id)
            answer = services.answer_for(services.find_assessment(city), "DM2")
            barrier.wait()
            try:
                services.update_answer(user, answer, "in_place", notes, seen_version=0)
                db.session.commit()
                outcomes[role] = "saved"
            except Conflict:
                db.session.rollback()
                outcomes[role] = "refused"
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=save_as, args=("member", "Beatriz")),
        threading.Thread(target=save_as, args=("colleague", "Rafael")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["refused", "saved"]
    winner = next(role for role, outcome in outcomes.items() if outcome == "saved")
    row = answer_row(app, "DM2")
    assert row.version == 1 and row.notes == {"member": "Beatriz", "colleague": "Rafael"}[winner]


WRITES = [
    ("post", "/DM2", {"status": "in_place", "notes": "x", "version": 0}),
    ("post", "/DM2/evidence", {"kind": "link", "as_of": AS_OF, "url": "https://example.org"}),
    ("post", "/DM1/submit", {}),
    ("post", "/areas/DM/submit", {}),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_write_route_refuses_all_but_the_citys_members(app, people, role):
    ready(app, people, "DM1")
    with app.app_context():
        before = (
            db.session.scalar(sa.select(sa.func.max(Answer.version))),
            db.session.scalar(sa.select(sa.func.count(Evidence.id))),
            db.session.scalar(sa.select(sa.func.count(Answer.id)).where(Answer.review_state == "submitted")),
        )
    client = client_for(app, people, role)
    for method, rest, data in WRITES:
        response = getattr(client, method)(page(rest=rest), data=data)
        if role == "member":
            assert response.status_code in (302, 200), rest
        elif role == "visitor":
            assert response.status_code == 302 and "/login" in response.headers["Location"], rest
        else:
            assert response.status_code == 403, (rest, response.status_code)
    if role != "member":
        with app.app_context():
            after = (
                db.session.scalar(sa.select(sa.func.max(Answer.version))),
                db.session.scalar(sa.select(sa.func.count(Evidence.id))),
                db.session.scalar(sa.select(sa.func.count(Answer.id)).where(Answer.review_state == "submitted")),
            )
        assert after == before


def test_a_city_with_an_assessment_is_not_removed_from_the_directory(app, people, make):
    niteroi = make.city("Niterói", "Rio de Janeiro")
    with app.app_context():
        services.open_assessment(db.session.get(City, niteroi.id))
        db.session.commit()
    admin = sign_in(app, people["admin"], "en")
    response = admin.post(f"/cities/{niteroi.slug}/delete", follow_redirects=True)
    assert "Niterói still has records linked to it, such as an assessment; it was kept." in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(City, niteroi.id) is not None
        assert services.find_assessment(db.session.get(City, niteroi.id)) is not None
