"""The library: each field's validation, drafting and publishing with their permissions, drafts' visibility,
facets and their counts, sorting, bookmarks and useful marks, exports, uploads and the demo data."""

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from community.extensions import db
from community.library.models import CaseAttachment, CaseRevision, CaseStudy
from tests.library_helpers import EXECUTABLE, PDF, PNG, attach, case_fields, case_state, docx_bytes, write_case
from tests.live_helpers import schedule
from tests.threads_helpers import ask, bearer, cast, sign_in

API = "/api/v1"


@pytest.fixture
def people(make, framework):
    """Two people of Recife, one of Fortaleza, one whose city is not confirmed yet, a mentor and an admin."""
    found = cast(make)
    found["unconfirmed"] = make.user(name="Nina Nova", city="recife", confirmed=False)
    return found


@pytest.fixture
def api(app):
    return app.test_client()


def case_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(CaseStudy.id)))


def create_api(api, headers, status=201, **overrides):
    response = api.post(f"{API}/cases", json=case_fields(**overrides), headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


# --- each field's validation -----------------------------------------------------------------------------------

TOO_LONG = "x" * 20_001
BAD_FIELDS = [
    ("title", {"title": ""}),
    ("title", {"title": "t" * 201}),
    ("title", {"title": 12}),
    ("summary", {"summary": "  "}),
    ("summary", {"summary": "s" * 501}),
    ("problem", {"problem": ""}),
    ("approach", {"approach": ""}),
    ("results", {"results": ""}),
    ("problem", {"problem": TOO_LONG}),
    ("data_used", {"data_used": TOO_LONG}),
    ("tools", {"tools": TOO_LONG}),
    ("team", {"team": TOO_LONG}),
    ("contact", {"contact": "c" * 301}),
    ("city", {"city": "atlantis"}),
    ("city", {"city": None}),
    ("started_on", {"started_on": None}),
    ("started_on", {"started_on": "01/02/2024"}),
    ("started_on", {"started_on": "2999-01-01", "ended_on": "2999-02-01"}),
    ("ended_on", {"ended_on": "2024-01-01"}),
    ("ended_on", {"ended_on": None, "ongoing": False}),
    ("ended_on", {"ongoing": True}),
    ("ongoing", {"ongoing": "yes"}),
    ("practice_areas", {"practice_areas": []}),
    ("practice_areas", {"practice_areas": ["XX"]}),
    ("practice_areas", {"practice_areas": "DM"}),  # a text is read as codes: accepted
    ("criteria", {"criteria": ["DM99"]}),
    ("criteria", {"criteria": [7]}),
    ("sdgs", {"sdgs": [18]}),
    ("sdgs", {"sdgs": [0]}),
    ("sdgs", {"sdgs": ["abc"]}),
    ("sdgs", {"sdgs": [True]}),
    ("evaluation", {"evaluation": "experimental"}),
    ("language", {"language": "fr"}),
    ("language", {"language": None}),
    ("metrics", {"metrics": "lots"}),
    ("metrics", {"metrics": [{"name": "Linhas", "baseline": 1, "unit": "%"}]}),
    ("metrics", {"metrics": [{"name": "Linhas", "baseline": "muito", "result": 2}]}),
    ("metrics", {"metrics": [{"name": "", "result": 2}]}),
    ("metrics", {"metrics": [{"name": "Linhas", "result": 2, "date": "ontem"}]}),
    ("metrics", {"metrics": [{"name": "Linhas", "result": float("inf")}]}),
    ("metrics", {"metrics": [{"name": "Linhas", "result": 2, "unit": "u" * 41}]}),
    ("metrics", {"metrics": [{"name": f"m{n}", "result": n} for n in range(21)]}),
    ("links", {"links": [{"url": "javascript:alert(1)"}]}),
    ("links", {"links": [{"url": "ftp://example.org/x"}]}),
    ("links", {"links": [{"url": "https://example.org", "title": "t" * 201}]}),
    ("links", {"links": 5}),
    ("links", {"links": [{"url": f"https://example.org/{n}"} for n in range(21)]}),
]


@pytest.mark.parametrize(("field", "overrides"), BAD_FIELDS, ids=[f"{f}-{n}" for n, (f, _o) in enumerate(BAD_FIELDS)])
def test_each_field_is_validated_by_the_api_with_a_422_naming_it(app, api, people, field, overrides):
    headers = bearer(app, people["asker"])
    response = api.post(f"{API}/cases", json=case_fields(**overrides), headers=headers)
    if overrides == {"practice_areas": "DM"}:
        assert response.status_code == 201, "a comma-separated text of codes is accepted"
        return
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid"
    assert field in body["fields"], body
    assert case_count(app) == 0, "nothing is stored"


def test_a_field_the_case_does_not_have_is_refused(app, api, people):
    response = api.post(f"{API}/cases", json={**case_fields(), "secret": 1}, headers=bearer(app, people["asker"]))
    assert response.status_code == 422
    assert "secret" in response.get_json()["fields"]


def test_a_body_that_is_not_json_is_refused(app, api, people):
    headers = bearer(app, people["asker"])
    assert api.post(f"{API}/cases", data="title=x", headers=headers).status_code == 415
    response = api.post(f"{API}/cases", data="[1]", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_messages_are_translated(app, api, people):
    headers = {**bearer(app, people["asker"]), "Accept-Language": "pt-BR"}
    response = api.post(f"{API}/cases", json=case_fields(title=""), headers=headers)
    assert response.get_json()["fields"]["title"] == "Dê um título ao caso."


def test_the_api_creates_a_draft_with_every_field(app, api, people):
    body = create_api(api, bearer(app, people["asker"]), problem="**Grave** <script>alert(1)</script>", sdgs=["11", 16])
    assert body["status"] == "draft"
    assert body["city"]["slug"] == "recife" and body["city"]["country"] == "BR"
    assert body["practice_areas"] == ["DM"] and body["criteria"] == ["DM1", "DM2"] and body["sdgs"] == [11, 16]
    assert body["evaluation"] == "descriptive" and body["language"] == "pt_BR"
    assert body["started_on"] == "2024-02-01" and body["ended_on"] == "2025-03-31" and body["ongoing"] is False
    assert body["metrics"] == [
        {"name": "Linhas revisadas", "baseline": 20.0, "result": 90.0, "unit": "%", "date": "2025-03-31"}
    ]
    assert body["links"] == [{"url": "https://dados.recife.example.org/inventario", "title": "Inventário"}]
    assert "<strong>Grave</strong>" in body["problem_html"] and "<script" not in body["problem_html"]
    assert body["revision_count"] == 1
    assert body["url"].endswith(f"/library/{body['slug']}")


def test_numbers_with_a_decimal_comma_and_an_ongoing_case_are_accepted(app, api, people):
    metrics = [{"name": "Tempo", "baseline": "12,5", "result": "9", "unit": "dias", "date": ""}]
    body = create_api(api, bearer(app, people["asker"]), metrics=metrics, ongoing=True, ended_on=None)
    assert body["metrics"][0]["baseline"] == 12.5 and body["metrics"][0]["date"] is None
    assert body["ongoing"] is True and body["ended_on"] is None


def test_slugs_are_unique(app, api, people):
    headers = bearer(app, people["asker"])
    first, second = create_api(api, headers), create_api(api, headers)
    assert first["slug"] != second["slug"]
    assert create_api(api, headers, title="New")["slug"] == "new-case", "the library's own paths stay free"


# --- who may write, publish and read ------------------------------------------------------------------------


def test_who_may_write_a_draft_through_the_api(app, api, people):
    assert api.post(f"{API}/cases", json=case_fields()).status_code == 401
    refused = api.post(f"{API}/cases", json=case_fields(), headers=bearer(app, people["unconfirmed"]))
    assert refused.status_code == 403
    other = api.post(f"{API}/cases", json=case_fields(), headers=bearer(app, people["other_city"]))
    assert other.status_code == 403, "a participant writes for their own city only"
    assert case_count(app) == 0
    create_api(api, bearer(app, people["asker"]))
    create_api(api, bearer(app, people["mentor"]), city="fortaleza")
    create_api(api, bearer(app, people["admin"]), city="fortaleza")
    assert case_count(app) == 3


def test_the_form_writes_a_draft_for_the_members_city(app, people):
    client = sign_in(app, people["asker"], "en")
    page = client.get("/library/new")
    assert page.status_code == 200
    assert b'value="recife"' in page.data
    data = {key: value for key, value in case_fields().items() if key not in ("metrics", "links", "criteria")}
    data.update(
        {
            "criteria": ["DM1", "DM2"],
            "practice_areas": ["DM"],
            "sdgs": ["16"],
            "metrics-0-name": "Linhas",
            "metrics-0-baseline": "20",
            "metrics-0-result": "90",
            "metrics-0-unit": "%",
            "metrics-0-date": "2025-03-31",
            "metrics-1-name": "",
            "links-0-url": "https://example.org/r",
            "links-0-title": "Relatório",
        }
    )
    data.pop("ongoing")
    response = client.post("/library/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    slug = response.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        case = db.session.scalar(sa.select(CaseStudy).where(CaseStudy.slug == slug))
        assert case.status == "draft" and case.city.slug == "recife"
        assert [(m.name, m.baseline, m.result) for m in case.metrics] == [("Linhas", 20, 90)]
        assert [link.title for link in case.links] == ["Relatório"]
        assert case.sdgs == [16]


def test_the_form_shows_every_refused_field_with_a_400_and_keeps_nothing(app, people):
    client = sign_in(app, people["asker"], "en")
    response = client.post("/library/new", data={"city": "recife", "language": "pt_BR", "started_on": "soon"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    for message in ("Give the case a title.", "Sum the case up in a few sentences.", "Fill in this field.",
                    "Give the date as YYYY-MM-DD", "Choose at least one practice area."):  # fmt: skip
        assert message in text
    assert case_count(app) == 0


def test_the_form_is_refused_to_people_who_may_not_write(app, client, people):
    assert client.get("/library/new").status_code == 302
    assert sign_in(app, people["unconfirmed"]).get("/library/new").status_code == 403
    data = case_fields()
    data.pop("metrics"), data.pop("links"), data.pop("ongoing")
    response = sign_in(app, people["other_city"]).post("/library/new", data=data)
    assert response.status_code == 403, "a participant cannot write for another city"
    assert case_count(app) == 0


def test_drafts_are_seen_only_by_their_city_mentors_and_admins(app, client, people):
    slug = write_case(app, people["asker"].id)
    expected = {"colleague": 200, "asker": 200, "other_city": 404, "unconfirmed": 404, "mentor": 200, "admin": 200}
    assert client.get(f"/library/{slug}").status_code == 404
    assert client.get(f"{API}/cases/{slug}").status_code == 404
    assert client.get(f"/library/{slug}/revisions").status_code == 404
    for who, status in expected.items():
        person = sign_in(app, people[who])
        assert person.get(f"/library/{slug}").status_code == status, who
        assert person.get(f"{API}/cases/{slug}").status_code == status, who
    assert slug not in client.get("/library/").get_data(as_text=True)
    assert client.get(f"{API}/cases?status=draft").get_json()["total"] == 0
    assert sign_in(app, people["colleague"]).get(f"{API}/cases?status=draft").get_json()["total"] == 1
    assert sign_in(app, people["other_city"]).get(f"{API}/cases?status=draft").get_json()["total"] == 0
    assert sign_in(app, people["mentor"]).get(f"{API}/cases?status=draft").get_json()["total"] == 1


def test_publishing_is_for_mentors_and_admins(app, client, people):
    slug = write_case(app, people["asker"].id)
    assert client.post(f"/library/{slug}/publish").status_code == 302  # to sign in
    assert sign_in(app, people["asker"]).post(f"/library/{slug}/publish").status_code == 403
    assert sign_in(app, people["other_city"]).post(f"/library/{slug}/publish").status_code == 403
    api = app.test_client()
    assert api.post(f"{API}/cases/{slug}/publish", headers=bearer(app, people["asker"])).status_code == 403
    assert case_state(app, slug)[0] == "draft"

    response = api.post(f"{API}/cases/{slug}/publish", headers=bearer(app, people["mentor"]))
    assert response.status_code == 200 and response.get_json()["status"] == "published"
    assert response.get_json()["published_at"]
    again = api.post(f"{API}/cases/{slug}/publish", headers=bearer(app, people["admin"]))
    assert again.status_code == 409
    assert client.get(f"/library/{slug}").status_code == 200, "published cases are public"
    assert client.get(f"{API}/cases/{slug}").status_code == 200
    assert case_state(app, slug)[:2] == ("published", 2)


def test_publishing_from_the_page_and_back_to_draft(app, client, people):
    slug = write_case(app, people["asker"].id)
    mentor = sign_in(app, people["mentor"], "en")
    page = mentor.get(f"/library/{slug}").get_data(as_text=True)
    assert f"/library/{slug}/publish" in page
    response = mentor.post(f"/library/{slug}/publish", follow_redirects=True)
    assert "everyone can read it now" in response.get_data(as_text=True)
    assert client.get(f"/library/{slug}").status_code == 200
    assert sign_in(app, people["asker"]).post(f"/library/{slug}/unpublish").status_code == 403
    admin = sign_in(app, people["admin"])
    assert admin.post(f"/library/{slug}/unpublish").status_code == 302
    assert client.get(f"/library/{slug}").status_code == 404
    with app.app_context():
        actions = db.session.scalars(sa.select(CaseRevision.action).order_by(CaseRevision.number)).all()
    assert actions == ["created", "published", "unpublished"]


def test_every_edit_is_a_revision_and_only_the_city_and_staff_edit(app, client, people):
    slug = write_case(app, people["asker"].id, publish_by=people["mentor"].id)
    assert client.get(f"/library/{slug}/edit").status_code == 302
    assert sign_in(app, people["other_city"]).get(f"/library/{slug}/edit").status_code == 403
    assert sign_in(app, people["unconfirmed"]).get(f"/library/{slug}/edit").status_code == 403
    colleague = sign_in(app, people["colleague"], "en")
    form = colleague.get(f"/library/{slug}/edit")
    assert form.status_code == 200 and "Inventário de dados" in form.get_data(as_text=True)
    data = {key: value for key, value in case_fields().items() if key not in ("metrics", "links")}
    data.pop("ongoing")
    data.update({"title": "Inventário de dados revisto", "metrics-0-name": "Linhas", "metrics-0-result": "95"})
    response = colleague.post(f"/library/{slug}/edit", data=data)
    assert response.status_code == 302
    assert case_state(app, slug)[1] == 3
    assert colleague.post(f"/library/{slug}/edit", data=data).status_code == 302
    assert case_state(app, slug)[1] == 3, "a save that changes nothing adds no revision"
    refused = colleague.post(f"/library/{slug}/edit", data={**data, "summary": ""})
    assert refused.status_code == 400
    with app.app_context():
        case = db.session.scalar(sa.select(CaseStudy).where(CaseStudy.slug == slug))
        assert case.title == "Inventário de dados revisto" and case.summary, "a refused edit changes nothing"
        revision = db.session.scalar(sa.select(CaseRevision).where(CaseRevision.number == 3))
        assert set(revision.changed) == {"title", "metrics", "links"}
        assert revision.snapshot["title"] == "Inventário de dados revisto"
    history = client.get(f"/library/{slug}/revisions").get_data(as_text=True)
    assert "Revision 3" in history or "Revisão 3" in history
    moved = colleague.post(f"/library/{slug}/edit", data={**data, "city": "fortaleza"})
    assert moved.status_code == 403, "a member cannot move the case to another city"
    mentor = sign_in(app, people["mentor"])
    assert mentor.post(f"/library/{slug}/edit", data={**data, "city": "fortaleza"}).status_code == 302


# --- browsing: facets, counts, sorting ---------------------------------------------------------------------------


@pytest.fixture
def shelf(app, make, people):
    """Four published cases: two Brazilian (PA 2023, DM 2024), one Colombian in Spanish (PA, 2024) and one
    Brazilian draft that no visitor counts."""
    medellin = make.city("Medellín", "Antioquia", "CO")
    mentor, admin = people["mentor"].id, people["admin"].id
    return {
        "recife": write_case(app, admin, mentor, title="Painel de metas", practice_areas=["PA"], criteria=["PA2"],
                             started_on="2023-05-01", sdgs=[16, 11]),
        "fortaleza": write_case(app, admin, mentor, city="fortaleza", title="Inventário", sdgs=[16]),
        "medellin": write_case(app, admin, mentor, city=medellin.slug, title="Evaluación de empleo", language="es",
                               practice_areas=["PA"], criteria=["PA2"], evaluation="quasi_experimental"),
        "draft": write_case(app, admin, None, title="Rascunho"),
    }  # fmt: skip


def facet(body, name):
    return {item["value"]: item["count"] for item in body["facets"][name]}


def test_the_api_filters_by_facets_and_counts_each_facet_without_its_own_filter(app, client, shelf):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    everything = client.get(f"{API}/cases").get_json()
    assert everything["total"] == 3
    assert facet(everything, "country") == {"BR": 2, "CO": 1}
    assert facet(everything, "practice_area") == {"PA": 2, "DM": 1}
    assert facet(everything, "sdg") == {16: 3, 11: 1}
    assert facet(everything, "language") == {"pt_BR": 2, "es": 1}
    assert facet(everything, "year") == {2023: 1, 2024: 2}
    assert facet(everything, "evaluation") == {"descriptive": 2, "quasi_experimental": 1}
    assert facet(everything, "city") == {"recife": 1, "fortaleza": 1, "medellin": 1}
    assert facet(everything, "state") == {"Pernambuco": 1, "Ceará": 1, "Antioquia": 1}

    both = client.get(f"{API}/cases?country=BR&practice_area=PA").get_json()
    assert [item["slug"] for item in both["items"]] == [shelf["recife"]]
    assert facet(both, "country") == {"BR": 1, "CO": 1}, "the country facet counts with PA chosen, not BR"
    assert facet(both, "practice_area") == {"PA": 1, "DM": 1}, "the area facet counts with BR chosen, not PA"
    assert facet(both, "criterion") == {"PA2": 1}
    labels = {item["value"]: item["label"] for item in both["facets"]["practice_area"]}
    assert labels["PA"] == "Performance and Analytics"

    for query, total in [("criterion=PA2", 2), ("sdg=11", 1), ("evaluation=quasi_experimental", 1),
                         ("language=es", 1), ("year=2023", 1), ("state=Cear%C3%A1", 1), ("city=medellin", 1),
                         ("country=AR", 0)]:  # fmt: skip
        assert client.get(f"{API}/cases?{query}").get_json()["total"] == total, query


@pytest.mark.parametrize(
    "query",
    ["sdg=18", "sdg=x", "sdg=%C2%B2", "year=20x4", "evaluation=rct", "language=fr", "sort=oldest", "status=all"],
)
def test_the_api_refuses_malformed_facets(client, shelf, query):
    response = client.get(f"{API}/cases?{query}")
    assert response.status_code == 422
    assert query.split("=")[0] in response.get_json()["fields"]


def test_the_library_page_lists_facets_with_live_counts_and_filters_by_two(app, client, shelf):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/library/").get_data(as_text=True)
    assert "Painel de metas" in page and "Evaluación de empleo" in page and "Rascunho" not in page
    assert "3 case studies" in page
    assert 'href="/library/?country=BR"' in page
    filtered = client.get("/library/?country=BR&area=PA").get_data(as_text=True)
    assert "Painel de metas" in filtered and "Evaluación de empleo" not in filtered and "Inventário" not in filtered
    assert "1 case study" in filtered
    assert 'aria-current="true"' in filtered
    odd = client.get("/library/?sdg=abc&year=99999&sort=sideways&area=ZZ")
    assert odd.status_code == 200, "odd values on the page are dropped or find nothing, never a 500"


def test_sorting_by_most_useful(app, client, people, shelf):
    for who in ("asker", "colleague", "other_city"):
        assert sign_in(app, people[who]).post(f"/library/{shelf['fortaleza']}/useful").status_code == 302
    sign_in(app, people["asker"]).post(f"/library/{shelf['medellin']}/useful")
    useful = [item["slug"] for item in client.get(f"{API}/cases?sort=useful").get_json()["items"]]
    assert useful[:2] == [shelf["fortaleza"], shelf["medellin"]]
    newest = [item["slug"] for item in client.get(f"{API}/cases").get_json()["items"]]
    assert newest[0] == shelf["medellin"], "newest published first"


def test_bookmarks_and_useful_marks(app, client, people, shelf):
    slug = shelf["recife"]
    assert client.post(f"/library/{slug}/bookmark").status_code == 302
    assert client.post(f"/library/{slug}/useful").headers["Location"].startswith("/login")
    reader = sign_in(app, people["other_city"], "en")
    reader.post(f"/library/{slug}/bookmark")
    reader.post(f"/library/{slug}/useful")
    assert case_state(app, slug)[2] == 1
    assert reader.get(f"{API}/cases?status=bookmarked").get_json()["total"] == 1
    assert "Remove the bookmark" in reader.get(f"/library/{slug}").get_data(as_text=True)
    reader.post(f"/library/{slug}/useful")
    reader.post(f"/library/{slug}/bookmark")
    assert case_state(app, slug)[2] == 0
    assert reader.get(f"{API}/cases?status=bookmarked").get_json()["total"] == 0
    admin = sign_in(app, people["admin"], "en")
    response = admin.post(f"/library/{shelf['draft']}/useful", follow_redirects=True)
    assert "Only published case studies" in response.get_data(as_text=True)
    assert case_state(app, shelf["draft"])[2] == 0


def test_a_case_links_the_threads_and_sessions_on_its_criteria(app, client, people, shelf):
    thread_id, _client = ask(app, people["asker"], title="Como fazem as reuniões de metas?", practice_area="PA",
                             criteria=["PA2"])  # fmt: skip
    other_id, _client = ask(app, people["asker"], title="Outra coisa", criteria=["DM1"])
    session_id = schedule(app, people["mentor"].id, title="Plantão de metas", criteria=["PA2"])
    page = client.get(f"/library/{shelf['recife']}").get_data(as_text=True)
    assert f"/threads/{thread_id}" in page and f"/threads/{other_id}" not in page
    assert f"/sessions/{session_id}" in page


# --- open data -------------------------------------------------------------------------------------------------------


def test_exports_follow_the_filter_and_neutralise_formulas(app, client, people, shelf):
    mentor, admin = people["mentor"].id, people["admin"].id
    for title in ('=HYPERLINK("http://evil.example")', "+1+2", "-3", "@SUM(A1)"):
        write_case(app, admin, mentor, title=title, summary="=cmd|' /C calc'!A0")
    response = client.get("/library/export.csv?country=BR")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 6 and all(row["country"] == "BR" for row in rows)
    dangerous = [row for row in rows if row["title"][1:2] in "=+-@" and row["title"].startswith("'")]
    assert len(dangerous) == 4
    assert all(not row["title"].startswith(("=", "+", "-", "@")) for row in rows)
    assert all(not row["summary"].startswith("=") for row in rows)
    assert "Rascunho" not in response.get_data(as_text=True), "drafts stay out of the open data"

    data = client.get("/library/export.json?language=es")
    assert data.mimetype == "application/json"
    items = json.loads(data.get_data(as_text=True))["items"]
    assert [item["slug"] for item in items] == [shelf["medellin"]]
    assert items[0]["metrics"] and items[0]["approach"] and items[0]["city"]["country"] == "CO"


# --- uploads ------------------------------------------------------------------------------------------------------


def upload(client, slug, content, name):
    return client.post(
        f"/library/{slug}/attachments", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def stored_files(app):
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_an_attachment_is_stored_outside_static_and_sent_as_a_download(app, client, people, shelf):
    slug = shelf["recife"]
    admin = sign_in(app, people["admin"])
    response = upload(admin, slug, PDF, "relatório final.pdf")
    assert response.status_code == 302
    assert upload(admin, slug, docx_bytes(), "plano.docx").status_code == 302
    assert upload(admin, slug, PNG, "painel.PNG").status_code == 302
    files = stored_files(app)
    assert len(files) == 3 and not any("relat" in name for name in files), "stored under generated names"
    assert "static" not in app.config["UPLOAD_FOLDER"]
    with app.app_context():
        attachment = db.session.scalar(sa.select(CaseAttachment).order_by(CaseAttachment.id))
        attachment_id = attachment.id
        assert attachment.content_type == "application/pdf" and attachment.original_name == "relatório final.pdf"
    download = client.get(f"/library/{slug}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/library/{shelf['fortaleza']}/attachments/{attachment_id}").status_code == 404
    for name in stored_files(app):
        (Path(app.config["UPLOAD_FOLDER"]) / name).unlink()
    assert client.get(f"/library/{slug}/attachments/{attachment_id}").status_code == 404, "a lost file is a 404"


def test_uploads_that_are_too_big_or_disguised_are_refused_and_nothing_is_kept(app, people, shelf):
    app.config["LIBRARY_ATTACHMENT_MAX_BYTES"] = 1024
    slug = shelf["recife"]
    admin = sign_in(app, people["admin"], "en")
    too_big = upload(admin, slug, PDF + b"0" * 2048, "grande.pdf")
    assert too_big.status_code == 413
    assert "The file is too large: at most 0 MB." in too_big.get_data(as_text=True)
    for content, name in [(EXECUTABLE, "relatorio.pdf"), (PNG, "relatorio.pdf"), (PDF, "foto.png"),
                          (b"just some text", "notas.docx"), (b"<html><script>x</script>", "pagina.pdf")]:  # fmt: skip
        response = upload(admin, slug, content, name)
        assert response.status_code == 415, name
        extension = name.rsplit(".", 1)[1].upper()
        assert f"The file&#39;s content is not a {extension} file, whatever its name says." in response.get_data(
            as_text=True
        )
    assert upload(admin, slug, b"", "vazio.pdf").status_code == 400
    assert admin.post(f"/library/{slug}/attachments", data={}).status_code == 400
    assert stored_files(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CaseAttachment.id))) == 0


def test_only_those_who_edit_upload_or_remove_and_only_readers_download(app, client, people):
    slug = write_case(app, people["asker"].id)
    attachment_id = attach(app, slug, people["asker"].id)
    assert upload(client, slug, PDF, "a.pdf").status_code == 302  # to sign in
    assert upload(sign_in(app, people["other_city"]), slug, PDF, "a.pdf").status_code == 404, "a draft is hidden"
    assert client.get(f"/library/{slug}/attachments/{attachment_id}").status_code == 404, "a draft's files too"
    assert sign_in(app, people["colleague"]).get(f"/library/{slug}/attachments/{attachment_id}").status_code == 200
    slug2 = write_case(app, people["asker"].id, publish_by=people["mentor"].id, title="Outro caso")
    assert upload(sign_in(app, people["other_city"]), slug2, PDF, "a.pdf").status_code == 403
    remover = sign_in(app, people["other_city"])
    assert remover.post(f"/library/{slug}/attachments/{attachment_id}/delete").status_code == 404
    colleague = sign_in(app, people["colleague"])
    assert colleague.post(f"/library/{slug}/attachments/{attachment_id}/delete").status_code == 302
    assert stored_files(app) == []


# --- the demo data ------------------------------------------------------------------------------------------------


def test_the_demo_data_carries_example_cases_from_the_cohort(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    body = client.get(f"{API}/cases?per_page=100").get_json()
    assert body["total"] >= 8
    assert all(item["example"] for item in body["items"])
    cities = {item["city"]["slug"] for item in body["items"]}
    assert {"fortaleza", "recife", "novo-hamburgo", "mogi-das-cruzes"} <= cities
    assert len({item["city"]["country"] for item in body["items"]} - {"BR"}) >= 2
    assert {item["language"] for item in body["items"]} == {"pt_BR", "es"}
    search = client.get(f"{API}/search?q=evaluacion&kind=case").get_json()
    assert search["total"] >= 1, "published demo cases are in the search"
