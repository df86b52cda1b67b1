"""A criterion's checklist in a city's assessment: marking items, linking evidence to them, the rule's progress,
the mentor's review item by item, prerequisites in the level projection, and dated evidence going stale (with the
notices it brings). The framework here is the tests' own, so the rules are tested apart from the shipped texts."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from community.assessment import services
from community.assessment.models import Evidence, ItemState, StaleNotice
from community.auth.models import User
from community.cities.models import City
from community.extensions import db
from community.framework import loader
from community.mentorship import services as mentorship
from tests.threads_helpers import bearer, notices, sign_in

DEADLINE = "2026-12-15"
ROLES = ("other_city", "pending", "member", "other_mentor", "mentor", "admin")


def texts(word):
    return {"en": word, "pt_BR": f"{word} (pt)", "es": f"{word} (es)"}


def item(code, n, kind="practice", fresh=None):
    data = {"id": f"{code}.{n}", "kind": kind, "text": texts(f"Item {n} of {code}")}
    if fresh:
        data["fresh_months"] = fresh
    return data


TEST_FRAMEWORK = {
    "version": "test-checklists",
    "title": texts("Test framework"),
    "practice_areas": [
        {
            "code": "DM",
            "name": texts("Data Management"),
            "criteria": [
                {
                    "code": "DM1",
                    "name": texts("Governance"),
                    "description": texts("d"),
                    "required": 2,
                    "checklist": [item("DM1", 1), item("DM1", 2), item("DM1", 3, "document", fresh=12)],
                },
                {
                    "code": "DM2",
                    "name": texts("Inventory"),
                    "description": texts("d"),
                    "required": 1,
                    "prerequisites": ["DM1"],
                    "checklist": [item("DM2", 1, "document"), item("DM2", 2), item("DM2", 3)],
                },
            ],
        }
    ],
}


@pytest.fixture
def people(app, make):
    with app.app_context():
        loader.load(TEST_FRAMEWORK)
        db.session.commit()
    recife = make.city()
    fortaleza = make.city("Fortaleza", "Ceará")
    cast = {
        "member": make.user(name="Beatriz Rocha", city=recife.slug),
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
    return cast


def page(rest=""):
    return f"/cities/recife/assessment{rest}"


def states(app, code="DM1"):
    """{item id: (met, review, comment)} of Recife's answer on `code`."""
    with app.app_context():
        rows = db.session.scalars(sa.select(ItemState)).all()
        return {
            row.item.code: (row.met, row.review, row.review_comment) for row in rows if row.item.criterion.code == code
        }


def mark(client, items, code="DM1"):
    return client.post(page(f"/{code}/checklist"), data={"items": items})


def add_link(client, code="DM1", as_of="2026-06-01", items=(), url="https://dados.recife.example.org/politica"):
    return client.post(
        page(f"/{code}/evidence"), data={"kind": "link", "url": url, "as_of": as_of, "items": list(items)}
    )


def in_place_and_submitted(app, people, code="DM1"):
    client = sign_in(app, people["member"])
    assert mark(client, [f"{code}.1", f"{code}.2"], code).status_code == 302
    assert add_link(client, code, items=[f"{code}.1"]).status_code == 302
    assert client.post(page(f"/{code}"), data={"status": "in_place", "notes": "", "version": 0}).status_code == 302
    assert client.post(page(f"/{code}/submit")).status_code == 302
    return client


# --- marking items and the rule ---------------------------------------------------------------------------------


def test_the_city_marks_items_and_the_page_shows_the_rule_and_suggests_in_place(app, people):
    client = sign_in(app, people["member"], "en")
    assert mark(client, ["DM1.1"]).status_code == 302
    text = client.get(page("/DM1")).get_data(as_text=True)
    assert "1 of 3 items met, 2 needed." in text
    assert "The rule is met" not in text
    assert mark(client, ["DM1.1", "DM1.3"]).status_code == 302
    assert states(app) == {"DM1.1": (True, None, ""), "DM1.3": (True, None, "")}
    text = client.get(page("/DM1")).get_data(as_text=True)
    assert "2 of 3 items met, 2 needed." in text
    assert "The rule is met: the city can now declare this criterion in place." in text
    assert "2 of 3, 2 needed" in client.get(page()).get_data(as_text=True), "the dashboard shows it too"
    assert mark(client, ["DM1.3"]).status_code == 302
    assert states(app)["DM1.1"][0] is False, "an item left unticked is no longer met"
    with app.app_context():
        answer = services.answer_for(services.find_assessment(db.session.get(City, 1)), "DM1")
        assert answer.status == "not_started", "the city still declares the criterion itself"


def test_an_item_of_another_criterion_or_an_unknown_one_is_refused_and_nothing_changes(app, people):
    client = sign_in(app, people["member"], "en")
    mark(client, ["DM1.1"])
    for wrong in (["DM2.1"], ["DM1.9"], ["DM1.1", "nonsense"]):
        response = mark(client, wrong)
        assert response.status_code == 422
        assert "not an item of this criterion" in response.get_data(as_text=True)
        assert states(app) == {"DM1.1": (True, None, "")}
    api = app.test_client().put(
        "/api/v1/cities/recife/assessment/DM1/checklist", json={"met": "DM1.1"}, headers=bearer(app, people["member"])
    )
    assert api.status_code == 200, "one code as text is a list of one"
    for bad in ({"met": 3}, {"met": ["DM2.2"]}, {"met": [["DM1.1"]]}):
        response = app.test_client().put(
            "/api/v1/cities/recife/assessment/DM1/checklist", json=bad, headers=bearer(app, people["member"])
        )
        assert response.status_code == 422 and "items" in response.get_json()["fields"]


@pytest.mark.parametrize("role", ROLES)
def test_only_the_citys_members_mark_items_and_link_evidence(app, people, role):
    member = sign_in(app, people["member"])
    add_link(member)
    with app.app_context():
        evidence_id = db.session.scalar(sa.select(Evidence.id))
    client = sign_in(app, people[role])
    marked = mark(client, ["DM1.1"])
    linked = client.post(page(f"/evidence/{evidence_id}/items"), data={"items": ["DM1.2"]})
    api = app.test_client().put(
        "/api/v1/cities/recife/assessment/DM1/checklist", json={"met": ["DM1.2"]}, headers=bearer(app, people[role])
    )
    if role == "member":
        assert marked.status_code == linked.status_code == 302 and api.status_code == 200
        return
    assert marked.status_code == linked.status_code == api.status_code == 403
    assert states(app) == {}
    with app.app_context():
        assert [i.code for i in db.session.get(Evidence, evidence_id).items] == []


def test_evidence_is_linked_to_the_items_it_supports(app, people):
    client = sign_in(app, people["member"], "en")
    assert add_link(client, items=["DM1.1", "DM1.3"]).status_code == 302
    with app.app_context():
        evidence = db.session.scalar(sa.select(Evidence))
        evidence_id = evidence.id
        assert [i.code for i in evidence.items] == ["DM1.1", "DM1.3"]
    assert "Supports: DM1.1, DM1.3" in client.get(page("/DM1")).get_data(as_text=True)
    assert client.post(page(f"/evidence/{evidence_id}/items"), data={"items": ["DM1.2"]}).status_code == 302
    refused = client.post(page(f"/evidence/{evidence_id}/items"), data={"items": ["DM2.1"]})
    assert refused.status_code == 422
    api = app.test_client().put(
        f"/api/v1/cities/recife/assessment/evidence/{evidence_id}/items",
        json={"items": ["DM1.1", "DM1.2"]},
        headers=bearer(app, people["member"]),
    )
    assert api.status_code == 200 and api.get_json()["items"] == ["DM1.1", "DM1.2"]
    assert (
        app.test_client()
        .put(
            "/api/v1/cities/recife/assessment/evidence/9999/items",
            json={"items": []},
            headers=bearer(app, people["member"]),
        )
        .status_code
        == 404
    )
    body = app.test_client().get("/api/v1/cities/recife/assessment", headers=bearer(app, people["member"]))
    dm1 = next(a for a in body.get_json()["answers"] if a["criterion"] == "DM1")
    assert dm1["evidence"][0]["items"] == ["DM1.1", "DM1.2"] and dm1["evidence"][0]["as_of"] == "2026-06-01"
    assert dm1["checklist"]["required"] == 2 and [i["id"] for i in dm1["checklist"]["items"]] == [
        "DM1.1",
        "DM1.2",
        "DM1.3",
    ]


# --- the mentor's review item by item ------------------------------------------------------------------------------


def review(client, verdict, comment="", items=None):
    data = {"verdict": verdict, "comment": comment}
    for code, (item_verdict, item_comment) in (items or {}).items():
        data[f"item-{code}-verdict"], data[f"item-{code}-comment"] = item_verdict, item_comment
    return client.post(page("/DM1/review"), data=data)


def test_the_mentor_reviews_item_by_item_and_the_city_sees_what_was_sent_back(app, people):
    member = in_place_and_submitted(app, people)
    mentor = sign_in(app, people["mentor"], "en")
    form = mentor.get(page("/DM1")).get_data(as_text=True)
    assert 'name="item-DM1.1-verdict"' in form and "the city says: met" in form
    response = review(
        mentor,
        "changes_requested",
        "Falta a ata.",
        {"DM1.1": ("met", ""), "DM1.2": ("needs_work", "A ata é de 2023; anexe a atual.")},
    )
    assert response.status_code == 302
    assert states(app) == {
        "DM1.1": (True, "met", ""),
        "DM1.2": (True, "needs_work", "A ata é de 2023; anexe a atual."),
    }
    city_page = sign_in(app, people["member"], "en").get(page("/DM1")).get_data(as_text=True)
    assert "The mentor sent 1 item back." in city_page
    assert "A ata é de 2023; anexe a atual." in city_page
    body = app.test_client().get("/api/v1/cities/recife/assessment", headers=bearer(app, people["member"]))
    dm1 = next(a for a in body.get_json()["answers"] if a["criterion"] == "DM1")
    assert [(i["id"], i["review"]) for i in dm1["checklist"]["items"]] == [
        ("DM1.1", "met"),
        ("DM1.2", "needs_work"),
        ("DM1.3", None),
    ]
    assert member is not None


@pytest.mark.parametrize(
    ("verdict", "items", "problem"),
    [
        ("changes_requested", {"DM1.2": ("needs_work", "")}, "Say what the city should change on this item."),
        ("changes_requested", {"DM1.2": ("maybe", "x")}, "Choose “met” or “needs work”."),
        ("accepted", {"DM1.2": ("needs_work", "Falta")}, "An item needs work: ask for changes rather than accepting."),
    ],
)
def test_a_bad_item_review_is_refused_and_nothing_is_stored(app, people, verdict, items, problem):
    in_place_and_submitted(app, people)
    mentor = sign_in(app, people["mentor"], "en")
    response = review(mentor, verdict, "Comentário", items)
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    assert all(review is None for _met, review, _comment in states(app).values())
    with app.app_context():
        answer = services.answer_for(services.find_assessment(db.session.get(City, 1)), "DM1")
        assert answer.review_state == "submitted" and answer.reviews == []


def test_the_api_takes_item_reviews_and_refuses_unknown_items(app, people):
    in_place_and_submitted(app, people)
    url = "/api/v1/cities/recife/assessment/DM1/review"
    headers = bearer(app, people["mentor"])
    unknown = app.test_client().post(
        url, json={"verdict": "accepted", "items": {"DM2.1": {"verdict": "met"}}}, headers=headers
    )
    assert unknown.status_code == 422 and "items.DM2.1" in unknown.get_json()["fields"]
    shape = app.test_client().post(url, json={"verdict": "accepted", "items": ["DM1.1"]}, headers=headers)
    assert shape.status_code == 422
    ok = app.test_client().post(
        url, json={"verdict": "accepted", "items": {"DM1.1": {"verdict": "met"}, "dm1.2": {"verdict": "met"}}},
        headers=headers,
    )  # fmt: skip
    assert ok.status_code == 200
    assert [i["review"] for i in ok.get_json()["checklist"]["items"]] == ["met", "met", None]
    member = app.test_client().post(url, json={"verdict": "accepted"}, headers=bearer(app, people["member"]))
    assert member.status_code == 403


# --- prerequisites -----------------------------------------------------------------------------------------------


def test_a_criterion_counts_only_once_its_prerequisites_are_in_place(app, people):
    client = sign_in(app, people["member"], "en")
    client.post(page("/DM2"), data={"status": "in_place", "notes": "", "version": 0})
    text = client.get(page("/DM2")).get_data(as_text=True)
    assert "This criterion counts only once these are in place:" in text and page("/DM1") in text
    body = app.test_client().get("/api/v1/cities/recife/assessment", headers=bearer(app, people["member"]))
    body = body.get_json()
    assert body["projected_level"]["self_reported"]["met"] == 0
    assert body["waiting_for_prerequisites"] == [{"criterion": "DM2", "waiting_on": ["DM1"]}]
    assert body["answers"][1]["prerequisites"] == ["DM1"]
    dashboard = client.get(page()).get_data(as_text=True)
    assert "In place, waiting for a prerequisite" in dashboard and "waits for DM1" in dashboard
    client.post(page("/DM1"), data={"status": "in_place", "notes": "", "version": 0})
    body = app.test_client().get("/api/v1/cities/recife/assessment", headers=bearer(app, people["member"]))
    assert body.get_json()["projected_level"]["self_reported"]["met"] == 2
    assert body.get_json()["waiting_for_prerequisites"] == []
    assert "counts only once" not in client.get(page("/DM2")).get_data(as_text=True)


def test_the_accepted_level_waits_for_the_prerequisite_to_be_accepted(app):
    with app.app_context():
        loader.load(TEST_FRAMEWORK)
        db.session.commit()
        from community.framework import services as framework

        criteria = framework.criteria_by_code(["DM1", "DM2"])
        dm1 = services.Answer(criterion=criteria["DM1"], status="in_place", review_state="submitted")
        dm2 = services.Answer(criterion=criteria["DM2"], status="in_place", review_state="accepted")
        result = services.progress([dm1, dm2])
        assert result.overall.in_place == 2 and result.overall.accepted == 0
        dm1.review_state = "accepted"
        assert services.progress([dm1, dm2]).overall.accepted == 2


# --- dated evidence ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("", "This field is required."),
        ("31/12/2025", "Not a valid date value."),
        ((date.today() + timedelta(days=2)).isoformat(), "The date the evidence shows cannot be in the future."),
    ],
)
def test_evidence_needs_the_date_it_shows(app, people, as_of, message):
    client = sign_in(app, people["member"], "en")
    response = add_link(client, as_of=as_of)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    api = app.test_client().post(
        "/api/v1/cities/recife/assessment/DM1/evidence",
        json={"url": "https://example.org/x", "as_of": as_of or None},
        headers=bearer(app, people["member"]),
    )
    assert api.status_code == 422 and "as_of" in api.get_json()["fields"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 0


def test_the_form_offers_today_as_the_date(app, people):
    text = sign_in(app, people["member"], "en").get(page("/DM1")).get_data(as_text=True)
    assert f'value="{date.today().isoformat()}"' in text


@pytest.mark.config(ASSESSMENT_DEADLINE=DEADLINE)
def test_evidence_older_than_an_items_freshness_rule_is_stale_at_the_deadline(app, people):
    client = sign_in(app, people["member"], "en")
    add_link(client, as_of="2025-12-15", items=["DM1.3"], url="https://example.org/fresh")  # exactly 12 months
    add_link(client, as_of="2025-12-14", items=["DM1.3"], url="https://example.org/old")
    add_link(client, as_of="2020-01-01", items=["DM1.1"], url="https://example.org/no-rule")
    text = client.get(page("/DM1")).get_data(as_text=True)
    assert text.count("Too old for DM1.3 at the deadline") == 1
    dashboard = client.get(page()).get_data(as_text=True)
    assert "Evidence too old for the deadline" in dashboard and "Item 3 of DM1" in dashboard
    body = app.test_client().get("/api/v1/cities/recife/assessment", headers=bearer(app, people["member"]))
    assert len(body.get_json()["stale_evidence"]) == 1
    stale = [e for e in body.get_json()["answers"][0]["evidence"] if e["stale_for"]]
    assert [e["url"] for e in stale] == ["https://example.org/old"]


@pytest.mark.config(ASSESSMENT_DEADLINE=DEADLINE, EVIDENCE_STALE_WARNING_DAYS=30)
def test_members_are_told_once_per_cycle_before_evidence_goes_stale(app, people, runner):
    client = sign_in(app, people["member"])
    add_link(client, as_of="2025-11-20", items=["DM1.3"])  # stale from 2026-11-21, before the deadline
    add_link(client, as_of="2026-06-01", items=["DM1.3"], url="https://example.org/recent")  # fine at the deadline
    colleague = people["member"]
    early = runner.invoke(args=["assessment", "stale-notices", "--today", "2026-10-21"])
    assert early.exit_code == 0 and "0 piece(s)" in early.output, "31 days before: not yet"
    due = runner.invoke(args=["assessment", "stale-notices", "--today", "2026-10-22"])
    assert "1 piece(s)" in due.output
    again = runner.invoke(args=["assessment", "stale-notices", "--today", "2026-11-30"])
    assert "0 piece(s)" in again.output, "one notice per evidence and cycle"
    assert notices(app, colleague) == [("evidence_stale", "/cities/recife/assessment/DM1#evidence")]
    assert notices(app, people["mentor"]) == [] and notices(app, people["pending"]) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StaleNotice.id))) == 1
    text = sign_in(app, colleague, "en").get("/notifications/").get_data(as_text=True)
    assert "dated 2025-11-20 is too old for the deadline from 2026-11-21" in text
