# ruff: noqa: F811
"""The plan to the next level: criteria quickest first by the cohort's median days from "in progress" to accepted,
who can help on each, and the chosen ones turned into mentorship goals in one step (page and API)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from community.assessment import plan, services
from community.assessment.models import Answer, Assessment, Criterion, Review
from community.assessment.records import AnswerChange
from community.auth.models import User
from community.cities.models import City
from community.extensions import db
from community.mentorship.models import MentorProfile, MentorshipGoal
from tests.test_assessment import people, save  # noqa: F401
from tests.threads_helpers import bearer, sign_in

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def went(app, city_slug, code, days, mentor_id, cycle="2026"):
    """`city_slug` put `code` in progress at START and had it accepted `days` later."""
    with app.app_context():
        city = db.session.scalar(sa.select(City).where(City.slug == city_slug))
        assessment = db.session.scalar(
            sa.select(Assessment).where(Assessment.city_id == city.id, Assessment.cycle == cycle)
        )
        if assessment is None:
            assessment = Assessment(city_id=city.id, cycle=cycle, deadline=date(2026, 12, 15))
            db.session.add(assessment)
            db.session.flush()
        criterion = db.session.scalar(sa.select(Criterion).where(Criterion.code == code))
        answer = Answer(
            assessment_id=assessment.id, criterion_id=criterion.id, status="in_place", review_state="accepted"
        )
        db.session.add(answer)
        db.session.flush()
        db.session.add(AnswerChange(answer_id=answer.id, status="in_progress", changed_at=START))
        db.session.add(
            AnswerChange(answer_id=answer.id, status="in_place", changed_at=START + timedelta(days=days / 2))
        )
        db.session.add(
            Review(
                answer_id=answer.id, reviewer_id=mentor_id, verdict="accepted", created_at=START + timedelta(days=days)
            )
        )
        db.session.commit()


@pytest.fixture
def cohort(app, make, people):
    make.city("Olinda", "Pernambuco")
    went(app, "fortaleza", "DM3", 10, people["other_mentor"].id)
    went(app, "olinda", "DM3", 20, people["other_mentor"].id)
    went(app, "fortaleza", "DM4", 40, people["other_mentor"].id)
    went(app, "olinda", "DM4", 50, people["other_mentor"].id)
    with app.app_context():
        profile = MentorProfile(user_id=people["other_mentor"].id, languages=["pt_BR"])
        profile.strengths = [db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM4"))]
        db.session.add(profile)
        db.session.commit()
    return people


def test_the_plan_orders_by_the_cohorts_median_days(app, cohort):
    with app.test_request_context():
        user = db.session.get(User, cohort["member"].id)
        city = db.session.scalar(sa.select(City).where(City.slug == "recife"))
        the_plan = plan.build(user, city)
        codes = [step.criterion.code for step in the_plan.steps]
        assert codes[:2] == ["DM3", "DM4"]
        assert the_plan.steps[0].median_days == 15.0 and the_plan.steps[0].cities_measured == 2
        assert the_plan.steps[1].median_days == 45.0
        assert the_plan.steps[2].median_days is None and codes[2] == "DM1"  # then framework order
        # Silver needs 22 of 43 accepted: the first 22 steps are the shortest path.
        assert the_plan.next_level == "silver" and the_plan.needed == 22
        assert [s.in_shortest_path for s in the_plan.steps].count(True) == 22
        dm4 = the_plan.steps[1]
        assert [m.display_name for m in dm4.mentors] == ["Marcos Mentor"]
        assert sorted(c.name for c in dm4.peers) == ["Fortaleza", "Olinda"]


def test_a_citys_own_history_is_not_its_benchmark(app, cohort):
    with app.test_request_context():
        fortaleza = db.session.scalar(sa.select(City).where(City.slug == "fortaleza"))
        figures = plan.durations(fortaleza.id)
        dm3 = db.session.scalar(sa.select(Criterion.id).where(Criterion.code == "DM3"))
        assert figures[dm3] == (20.0, 1)


def test_saving_an_answer_keeps_its_history(app, people):
    member = sign_in(app, people["member"])
    assert save(member, "DM1", "in_progress").status_code == 302
    assert save(member, "DM1", "in_place").status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(AnswerChange.status).order_by(AnswerChange.id)).all() == [
            "in_progress",
            "in_place",
        ]


def test_the_plan_page_and_api(app, cohort):
    member = sign_in(app, cohort["member"])
    html = member.get("/cities/recife/plan").get_data(as_text=True)
    assert 'value="DM3"' in html and "Marcos Mentor" in html and "Fortaleza" in html
    data = app.test_client().get("/api/v1/cities/recife/plan", headers=bearer(app, cohort["member"])).get_json()
    assert data["next_level"] == "silver" and data["criteria_to_next_level"] == 22
    assert data["steps"][0]["criterion"] == "DM3" and data["steps"][0]["median_days"] == 15.0


def test_chosen_steps_become_goals_in_one_step(app, cohort):
    member = sign_in(app, cohort["member"])
    response = member.post("/cities/recife/plan/goals", data={"criteria": ["DM3", "DM4"], "target_date": ""})
    assert response.status_code == 302 and "/mentorships/" in response.headers["Location"]
    with app.app_context():
        goals = db.session.scalars(sa.select(MentorshipGoal).order_by(MentorshipGoal.id)).all()
        assert [g.criterion.code for g in goals] == ["DM3", "DM4"]
        deadline = services.current_deadline()
        assert all(g.target_date < deadline for g in goals)


def test_the_mentor_makes_goals_through_the_api(app, cohort):
    headers = bearer(app, cohort["mentor"])
    response = app.test_client().post(
        "/api/v1/cities/recife/plan/goals",
        json={"criteria": ["dm3"], "target_date": date.today().isoformat()},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["goals"][0]["criterion"] == "DM3"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"criteria": []}, "criteria"),
        ({"criteria": "DM3"}, "criteria"),
        ({"criteria": ["ZZ9"]}, "criteria"),
        ({"criteria": ["DM3"], "target_date": "2099-01-01"}, "target_date"),
        ({"criteria": ["DM3"], "target_date": "2001-01-01"}, "target_date"),
        ({"criteria": ["DM3"], "target_date": "tomorrow"}, "target_date"),
        ({"criteria": ["DM3"], "mentorship_id": 999}, "mentorship"),
    ],
)
def test_bad_goal_input_is_refused_and_nothing_stored(app, cohort, body, field):
    response = app.test_client().post(
        "/api/v1/cities/recife/plan/goals", json=body, headers=bearer(app, cohort["member"])
    )
    assert response.status_code == 422 and field in response.get_json()["fields"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MentorshipGoal.id))) == 0


def test_without_an_active_mentorship_the_plan_says_so(app, make, cohort):
    make.user(name="Olívia Olinda", city="olinda")
    olinda = make.user(name="Otávio Olinda", city="olinda")
    client = sign_in(app, olinda)
    html = client.get("/cities/olinda/plan").get_data(as_text=True)
    assert "não tem mentoria ativa" in html
    response = app.test_client().post(
        "/api/v1/cities/olinda/plan/goals", json={"criteria": ["DM1"]}, headers=bearer(app, olinda)
    )
    assert response.status_code == 409 and response.get_json()["error"] == "no_mentorship"
    page = client.post("/cities/olinda/plan/goals", data={"criteria": ["DM1"]}, follow_redirects=True)
    assert "não tem mentoria ativa" in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["visitor", "other_city", "pending", "other_mentor"])
def test_only_the_citys_people_see_and_use_the_plan(app, cohort, role):
    client = app.test_client() if role == "visitor" else sign_in(app, cohort[role])
    assert client.get("/cities/recife/plan").status_code in (302, 403)
    assert client.post("/cities/recife/plan/goals", data={"criteria": ["DM3"]}).status_code in (302, 403)
    if role != "visitor":
        headers = bearer(app, cohort[role])
        assert app.test_client().get("/api/v1/cities/recife/plan", headers=headers).status_code == 403
        api = app.test_client().post("/api/v1/cities/recife/plan/goals", json={"criteria": ["DM3"]}, headers=headers)
        assert api.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MentorshipGoal.id))) == 0
