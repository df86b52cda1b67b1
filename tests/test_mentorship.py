"""Mentoring: mentor profiles, suggestions ranked on a city's gaps, requests and decisions with who may make them,
capacity, what happens inside a mentorship (goals, meetings, next steps, messages), its privacy, and the homes."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from community.assessment import services as assessment
from community.auth.models import User
from community.cities.models import City
from community.extensions import db
from community.mentorship import services
from community.mentorship.models import Mentorship
from tests.conftest import sends_to_login
from tests.threads_helpers import bearer, notices, sign_in

LACKING = ("DM2", "PA2")


def profile(app, person, strengths, languages=("pt_BR",), capacity=3, accepting=True):
    with app.app_context():
        services.save_profile(
            db.session.get(User, person.id),
            {
                "bio": f"Mentor of {person.handle}",
                "strengths": list(strengths),
                "languages": list(languages),
                "timezone": "America/Sao_Paulo",
                "capacity": capacity,
                "accepting": accepting,
            },
        )
        db.session.commit()


def in_place_except(app, city_id, lacking):
    """The city's assessment with every criterion in place but `lacking`."""
    with app.app_context():
        answers = assessment.answers(assessment.open_assessment(db.session.get(City, city_id)))
        for answer in answers:
            answer.status = "not_started" if answer.criterion.code in lacking else "in_place"
        db.session.commit()


@pytest.fixture
def people(app, make, framework):
    recife = make.city()
    fortaleza = make.city("Fortaleza", "Ceará")
    cast = {
        "member": make.user(name="Beatriz Rocha", city=recife.slug),
        "colleague": make.user(name="Rafael Recife", city=recife.slug),
        "other_city": make.user(name="Carlos Lima", city=fortaleza.slug),
        "data": make.user(name="Helena Duarte", role="mentor"),
        "spanish": make.user(name="Lucía Mentora", role="mentor"),
        "generalist": make.user(name="Gustavo Geral", role="mentor"),
        "full": make.user(name="Fábio Cheio", role="mentor"),
        "resting": make.user(name="Rita Pausa", role="mentor"),
        "admin": make.user(name="Equipe", role="admin"),
    }
    profile(app, cast["data"], LACKING)
    profile(app, cast["spanish"], LACKING, languages=("es",))
    profile(app, cast["generalist"], ("OD1",))
    profile(app, cast["full"], LACKING, capacity=1)
    profile(app, cast["resting"], LACKING, accepting=False)
    with app.app_context():
        services.assign(
            db.session.get(User, cast["admin"].id),
            db.session.get(User, cast["full"].id),
            db.session.get(City, fortaleza.id),
        )
        db.session.commit()
    in_place_except(app, recife.id, LACKING)
    in_place_except(app, fortaleza.id, ("OD1",))
    cast["recife"], cast["fortaleza"] = recife, fortaleza
    return cast


def ask(app, people, mentor="data", who="member", message="Precisamos de ajuda com DM2."):
    client = sign_in(app, people[who])
    response = client.post("/mentorships/", data={"mentor_id": people[mentor].id, "city": "recife", "message": message})
    return client, response


def mentorship_of(app, mentor_id, city_id):
    with app.app_context():
        row = db.session.scalar(
            sa.select(Mentorship)
            .where(Mentorship.mentor_id == mentor_id, Mentorship.city_id == city_id)
            .order_by(Mentorship.id.desc())
        )
        if row is None:
            return None
        return {"id": row.id, "status": row.status, "events": [(e.action, e.actor_id) for e in row.events]}


def active(app, people, mentor="data"):
    ask(app, people, mentor)
    found = mentorship_of(app, people[mentor].id, people["recife"].id)
    assert sign_in(app, people[mentor]).post(f"/mentorships/{found['id']}/accept").status_code == 302
    return found["id"]


# --- suggestions -------------------------------------------------------------------------------------------------


def test_a_city_lacking_dm2_and_pa2_gets_the_mentor_strong_in_those_first_with_reasons(app, people):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        ranked, lacking = services.suggestions(db.session.get(City, people["recife"].id))
        assert lacking == ["DM2", "PA2"]
        names = [item.mentor.display_name for item in ranked]
        assert names == ["Helena Duarte", "Lucía Mentora", "Gustavo Geral"]  # full and resting are left out
        first = ranked[0]
        assert first.covered == ["DM2", "PA2"] and first.languages == ["pt_BR"]
        assert [str(reason) for reason in first.reasons] == [
            "Strong in DM2, PA2, which the city still lacks (2 of 2)",
            "Speaks Português (Brasil)",
            "3 of 3 places free",
        ]
        assert ranked[0].score > ranked[1].score > ranked[2].score
    page = sign_in(app, people["member"], "en").get("/cities/recife/mentoring").get_data(as_text=True)
    assert page.index("Helena Duarte") < page.index("Lucía Mentora") < page.index("Gustavo Geral")
    assert "Strong in DM2, PA2, which the city still lacks (2 of 2)" in page
    assert "Fábio Cheio" not in page and "Rita Pausa" not in page
    assert "Fortaleza" in page.split("Cities that already have these in place", 1)[1]


def test_the_api_ranks_mentors_for_a_city_with_id_score_and_reasons(app, people):
    client = app.test_client()
    body = client.get("/api/v1/mentors?city=recife", headers=bearer(app, people["member"])).get_json()
    assert body["lacking"] == ["DM2", "PA2"]
    assert [item["id"] for item in body["items"]] == [people[name].id for name in ("data", "spanish", "generalist")]
    assert body["items"][0]["score"] > body["items"][1]["score"]
    assert body["items"][0]["reasons"][0].startswith("Strong in DM2, PA2")
    assert client.get("/api/v1/mentors?city=recife", headers=bearer(app, people["other_city"])).status_code == 403
    assert client.get("/api/v1/mentors?city=nowhere", headers=bearer(app, people["member"])).status_code == 404
    listing = client.get("/api/v1/mentors", headers=bearer(app, people["other_city"])).get_json()
    assert listing["total"] == 5


def test_a_mentor_already_with_the_city_is_not_suggested_again(app, people):
    ask(app, people)
    with app.app_context():
        ranked, _lacking = services.suggestions(db.session.get(City, people["recife"].id))
        assert "Helena Duarte" not in [item.mentor.display_name for item in ranked]


# --- profiles ----------------------------------------------------------------------------------------------------


def test_a_mentor_keeps_a_profile_through_the_api_and_bad_input_is_refused(app, people):
    client = app.test_client()
    headers = bearer(app, people["generalist"])
    good = {"bio": "Dados **abertos**", "strengths": ["od1", "OD2"], "languages": ["pt_BR", "es"],
            "timezone": "America/Recife", "capacity": 4, "accepting": True}  # fmt: skip
    response = client.put("/api/v1/mentors/me", json=good, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["strengths"] == ["OD1", "OD2"] and response.get_json()["capacity"] == 4
    bad = client.put(
        "/api/v1/mentors/me",
        json={"strengths": ["XX9"], "languages": [], "timezone": "Mars/Base", "capacity": -1, "accepting": "yes"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"strengths", "languages", "timezone", "capacity", "accepting"}
    partial = client.put("/api/v1/mentors/me", json={"accepting": False}, headers=headers)
    assert partial.get_json()["accepting"] is False and partial.get_json()["capacity"] == 4
    refused = client.put("/api/v1/mentors/me", json=good, headers=bearer(app, people["member"]))
    assert refused.status_code == 403


def test_the_profile_page_saves_and_only_mentors_open_it(app, people):
    client = sign_in(app, people["generalist"], "en")
    assert client.get("/mentors/me").status_code == 200
    response = client.post(
        "/mentors/me",
        data={"bio": "Oi", "strengths": ["DM1"], "languages": ["es"], "timezone": "America/Bogota", "capacity": 2,
              "accepting": "y"},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        saved = services.profile_of(people["generalist"].id)
        assert ([c.code for c in saved.strengths], saved.languages, saved.capacity) == (["DM1"], ["es"], 2)
    bad = client.post("/mentors/me", data={"languages": [], "timezone": "America/Bogota", "capacity": 99})
    assert bad.status_code == 422
    assert sign_in(app, people["member"]).get("/mentors/me").status_code == 403
    assert "Helena Duarte" in sign_in(app, people["member"]).get("/mentors/").get_data(as_text=True)


# --- requests and decisions --------------------------------------------------------------------------------------


def test_a_member_asks_and_the_mentor_accepts_with_a_message(app, people):
    _client, response = ask(app, people)
    assert response.status_code == 302
    found = mentorship_of(app, people["data"].id, people["recife"].id)
    assert found["status"] == "requested"
    assert notices(app, people["data"]) == [("mentorship_requested", f"/mentorships/{found['id']}")]
    mentor = sign_in(app, people["data"])
    assert mentor.post(f"/mentorships/{found['id']}/accept", data={"message": "Com prazer!"}).status_code == 302
    found = mentorship_of(app, people["data"].id, people["recife"].id)
    assert found["status"] == "active"
    assert found["events"] == [("requested", people["member"].id), ("accepted", people["data"].id)]
    assert ("mentorship_accepted", f"/mentorships/{found['id']}") in notices(app, people["colleague"])
    page = sign_in(app, people["member"], "en").get(f"/mentorships/{found['id']}").get_data(as_text=True)
    assert "Beatriz Rocha asked for the mentorship" in page and "Helena Duarte accepted" in page
    assert "Com prazer!" in page
    # The mentor now reads and reviews the city's assessment.
    assert mentor.get("/cities/recife/assessment").status_code == 200


def test_declining_and_who_may_decide(app, people):
    ask(app, people)
    found = mentorship_of(app, people["data"].id, people["recife"].id)
    for role in ("member", "spanish", "other_city"):
        assert sign_in(app, people[role]).post(f"/mentorships/{found['id']}/decline").status_code == 403
    response = sign_in(app, people["data"], "en").post(
        f"/mentorships/{found['id']}/decline", data={"message": "Estou sem agenda."}, follow_redirects=True
    )
    assert "Declined." in response.get_data(as_text=True)
    assert mentorship_of(app, people["data"].id, people["recife"].id)["status"] == "declined"
    again = sign_in(app, people["data"], "en").post(f"/mentorships/{found['id']}/accept", follow_redirects=True)
    assert "This request has already been answered." in again.get_data(as_text=True)
    assert ("mentorship_declined", f"/mentorships/{found['id']}") in notices(app, people["member"])


def test_only_the_citys_members_ask_and_never_twice(app, people):
    _client, response = ask(app, people, who="other_city")
    assert response.status_code == 403
    assert mentorship_of(app, people["data"].id, people["recife"].id) is None
    ask(app, people)
    client = sign_in(app, people["member"], "en")
    again = client.post("/mentorships/", data={"mentor_id": people["data"].id, "city": "recife"}, follow_redirects=True)
    assert "Helena Duarte already mentors this city or has its request." in again.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(Mentorship.id)).where(Mentorship.city_id == people["recife"].id))
            == 1
        )
    api = app.test_client().post(
        "/api/v1/mentorships",
        json={"mentor_id": people["data"].id, "city": "recife"},
        headers=bearer(app, people["member"]),
    )
    assert api.status_code == 409 and api.get_json()["error"] == "open"


def test_a_mentor_at_capacity_is_not_asked_nor_accepts_without_an_admin(app, people):
    headers = bearer(app, people["member"])
    client = app.test_client()
    full = client.post("/api/v1/mentorships", json={"mentor_id": people["full"].id, "city": "recife"}, headers=headers)
    assert full.status_code == 409 and full.get_json()["error"] == "at_capacity"
    resting = client.post(
        "/api/v1/mentorships", json={"mentor_id": people["resting"].id, "city": "recife"}, headers=headers
    )
    assert resting.status_code == 409 and resting.get_json()["error"] == "not_accepting"
    # A request made while there was room cannot be accepted once the mentor is full.
    profile(app, people["data"], LACKING, capacity=1)
    first = client.post("/api/v1/mentorships", json={"mentor_id": people["data"].id, "city": "recife"}, headers=headers)
    assert first.status_code == 201
    with app.app_context():
        admin, mentor = db.session.get(User, people["admin"].id), db.session.get(User, people["data"].id)
        services.assign(admin, mentor, db.session.get(City, people["fortaleza"].id))
        db.session.commit()
    mentor_client = app.test_client()
    accepted = mentor_client.post(
        f"/api/v1/mentorships/{first.get_json()['id']}/accept", headers=bearer(app, people["data"])
    )
    assert accepted.status_code == 409 and accepted.get_json()["error"] == "at_capacity"
    by_admin = mentor_client.post(
        f"/api/v1/mentorships/{first.get_json()['id']}/accept",
        json={"message": "Exceção"},
        headers=bearer(app, people["admin"]),
    )
    assert by_admin.status_code == 200 and by_admin.get_json()["status"] == "active"


def test_an_admin_assigns_directly_but_never_twice_at_once(app, people):
    admin = sign_in(app, people["admin"], "en")
    assert admin.post("/cities/recife/mentors", data={"mentor": people["full"].id}).status_code == 302
    assert mentorship_of(app, people["full"].id, people["recife"].id)["status"] == "active"  # past its capacity
    with app.app_context():
        from community.core.errors import Conflict

        with pytest.raises(Conflict):
            services.assign(
                db.session.get(User, people["admin"].id),
                db.session.get(User, people["full"].id),
                db.session.get(City, people["recife"].id),
            )
    assert (
        sign_in(app, people["data"]).post("/cities/recife/mentors", data={"mentor": people["data"].id}).status_code
        == 403
    )


def test_members_or_the_mentor_end_a_mentorship_and_the_mentor_loses_access(app, people):
    mentorship_id = active(app, people)
    assert sign_in(app, people["other_city"]).post(f"/mentorships/{mentorship_id}/close").status_code == 403
    assert sign_in(app, people["colleague"]).post(f"/mentorships/{mentorship_id}/close").status_code == 302
    assert mentorship_of(app, people["data"].id, people["recife"].id)["status"] == "closed"
    assert sign_in(app, people["data"]).get("/cities/recife/assessment").status_code == 403


# --- inside a mentorship -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ("visitor", "other_city", "spanish", "member", "colleague", "data", "admin"))
def test_a_mentorships_notes_and_messages_are_private(app, people, role):
    mentorship_id = active(app, people)
    member = sign_in(app, people["member"])
    member.post(f"/mentorships/{mentorship_id}/messages", data={"body": "Segredo da equipe"})
    member.post(f"/mentorships/{mentorship_id}/meetings", data={"held_on": "2026-11-20", "notes": "Nota privada"})
    client = app.test_client() if role == "visitor" else sign_in(app, people[role])
    path = f"/mentorships/{mentorship_id}"
    response = client.get(path)
    api = client.get(f"/api/v1{path}")
    if role == "visitor":
        assert sends_to_login(response, path) and api.status_code == 401
    elif role in ("member", "colleague", "data", "admin"):
        assert "Segredo da equipe" in response.get_data(as_text=True) and "Nota privada" in response.get_data(
            as_text=True
        )
        assert api.get_json()["messages"][0]["body"] == "Segredo da equipe"
    else:
        assert response.status_code == 403 and api.status_code == 403
        assert "Segredo" not in response.get_data(as_text=True)
    # Nothing that lists mentorships leaks them to others.
    if role in ("other_city", "spanish"):
        assert "Segredo" not in client.get("/mentorships/").get_data(as_text=True)
        assert client.post(f"{path}/messages", data={"body": "intrusão"}).status_code == 403


def test_goals_meetings_next_steps_and_messages(app, people):
    mentorship_id = active(app, people)
    member = sign_in(app, people["member"], "en")
    base = f"/mentorships/{mentorship_id}"
    goal = {"criterion": "DM2", "title": "Política de dados aprovada", "target_date": "2026-12-10", "progress": 20}
    assert member.post(f"{base}/goals", data=goal).status_code == 302
    bad_goal = member.post(
        f"{base}/goals", data={"criterion": "XX1", "title": "", "progress": 150}, follow_redirects=True
    )
    text = bad_goal.get_data(as_text=True)
    assert "Choose the criterion this goal is about." in text and "Give the goal a title" in text
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = member.post(
        f"{base}/meetings",
        data={
            "held_on": date.today().isoformat(),
            "notes": "Revisamos o **inventário**.",
            "steps-0-text": "Enviar a portaria",
            "steps-0-owner_id": str(people["member"].id),
            "steps-0-due_on": yesterday,
            "steps-1-text": "Comentar a minuta",
            "steps-1-owner_id": str(people["data"].id),
            "steps-1-due_on": "",
        },
    )
    assert response.status_code == 302
    refused = member.post(
        f"{base}/meetings",
        data={"held_on": "2026-11-20", "steps-0-text": "Algo", "steps-0-owner_id": str(people["other_city"].id)},
        follow_redirects=True,
    )
    assert "owner must be the mentor or a member of the city." in refused.get_data(as_text=True)
    no_date = member.post(f"{base}/meetings", data={"held_on": "amanhã"}, follow_redirects=True)
    assert "Give a date as YYYY-MM-DD." in no_date.get_data(as_text=True)
    document = member.get(f"/api/v1{base}").get_json()
    assert len(document["meetings"]) == 1 and len(document["meetings"][0]["next_steps"]) == 2
    assert document["goals"][0]["criterion"] == "DM2" and document["goals"][0]["progress"] == 20
    page = member.get(base).get_data(as_text=True)
    assert "Overdue" in page and "<strong>inventário</strong>" in page
    # The mentor's home shows the overdue step; the city's home the goal and the mentor.
    mentor = sign_in(app, people["data"], "en")
    home = mentor.get("/").get_data(as_text=True)
    assert "The cities you accompany" in home and "1 next step overdue: Enviar a portaria" in home
    step_id = document["meetings"][0]["next_steps"][0]["id"]
    assert member.post(f"{base}/steps/{step_id}", data={"done": "1"}).status_code == 302
    assert "next step overdue" not in mentor.get("/").get_data(as_text=True)
    city_home = member.get("/").get_data(as_text=True)
    assert "Your mentor: Helena Duarte" in city_home and "Política de dados aprovada" in city_home
    goal_id = document["goals"][0]["id"]
    assert mentor.post(f"{base}/goals/{goal_id}", data={"progress": "80"}).status_code == 302
    assert member.post(f"{base}/goals/{goal_id}", data={"progress": "abc"}).status_code == 302
    assert member.get(f"/api/v1{base}").get_json()["goals"][0]["progress"] == 80
    member.post(f"{base}/messages", data={"body": "Enviamos a portaria."})
    assert ("mentorship_message", base) in notices(app, people["data"])
    assert ("mentorship_message", base) in notices(app, people["colleague"])
    assert ("mentorship_message", base) not in notices(app, people["member"])


def test_the_api_adds_goals_and_meetings_and_refuses_bad_input(app, people):
    mentorship_id = active(app, people)
    headers = bearer(app, people["data"])
    client = app.test_client()
    base = f"/api/v1/mentorships/{mentorship_id}"
    goal = client.post(
        f"{base}/goals", json={"criterion": "PA2", "title": "Reunião mensal", "progress": 10}, headers=headers
    )
    assert goal.status_code == 201 and goal.get_json()["criterion"] == "PA2"
    bad = client.post(f"{base}/goals", json={"criterion": "PA2", "title": "x", "target_date": "31/12"}, headers=headers)
    assert bad.status_code == 422 and "target_date" in bad.get_json()["fields"]
    meeting = client.post(
        f"{base}/meetings",
        json={
            "held_on": "2026-12-02",
            "notes": "Pauta",
            "next_steps": [{"text": "Rever metas", "owner_id": people["member"].id, "due_on": "2026-12-09"}],
        },
        headers=headers,
    )
    assert meeting.status_code == 201 and meeting.get_json()["next_steps"][0]["owner"] == "Beatriz Rocha"
    assert client.post(f"{base}/meetings", json={"notes": "sem data"}, headers=headers).status_code == 422
    outsider = client.post(
        f"{base}/goals", json={"criterion": "PA2", "title": "x"}, headers=bearer(app, people["spanish"])
    )
    assert outsider.status_code == 403


def test_nothing_happens_inside_a_mentorship_that_is_not_active(app, people):
    ask(app, people)
    found = mentorship_of(app, people["data"].id, people["recife"].id)
    headers = bearer(app, people["member"])
    response = app.test_client().post(
        f"/api/v1/mentorships/{found['id']}/goals", json={"criterion": "DM2", "title": "x"}, headers=headers
    )
    assert response.status_code == 409 and response.get_json()["error"] == "not_active"


def test_sessions_held_together_are_linked(app, people):
    from tests.live_helpers import register, schedule

    mentorship_id = active(app, people)
    session_id = schedule(app, people["data"].id, title="Plantão de dados")
    register(app, session_id, people["member"].id)
    page = sign_in(app, people["member"], "en").get(f"/mentorships/{mentorship_id}").get_data(as_text=True)
    assert "Live sessions together" in page and "Plantão de dados" in page


def test_the_mentoring_page_suggests_case_studies_about_what_the_city_lacks(app, people):
    from tests.library_helpers import write_case

    slug = write_case(app, people["admin"].id, publish_by=people["admin"].id, city="fortaleza", criteria=["PA2"])
    page = sign_in(app, people["member"], "en").get("/cities/recife/mentoring").get_data(as_text=True)
    assert "Case studies about these criteria" in page and f'href="/library/{slug}"' in page
