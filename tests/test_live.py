"""Live sessions outside the room: scheduling, lists, registration and the waiting list, calendars, reminders,
the archive and the API."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from community.auth import services as accounts
from community.auth.models import User
from community.core.models import utcnow
from community.extensions import db
from community.live import registration as seats
from community.live import scheduling
from community.live.models import LiveSession, Registration
from community.live.room import actions as room_actions
from community.live.room import chat as room_chat
from community.live.room import presence as room_presence
from community.notifications.models import Notification
from tests.conftest import outbox
from tests.live_helpers import register, schedule, set_status

FORM = {
    "title": "Plantão: inventário de dados",
    "agenda": "Dúvidas sobre **DM1**.",
    "starts_at": "2031-03-10T14:00",
    "ends_at": "2031-03-10T15:30",
    "timezone": "America/Sao_Paulo",
    "capacity": "25",
    "language": "pt_BR",
    "practice_areas": ["DM"],
    "criteria": ["DM1", "DM2"],
    "video_url": "https://meet.example.org/plantao",
    "repeat_weeks": "0",
}


@pytest.fixture
def cohort(make, framework):
    return {
        "host": make.user(name="Helena Duarte", role="mentor", locale="en", timezone="America/Sao_Paulo"),
        "mentor": make.user(name="Marcos Mentor", role="mentor", locale="en"),
        "admin": make.user(name="Alice Admin", role="admin", locale="en"),
        "ana": make.user(name="Ana Souza", locale="en", timezone="America/Sao_Paulo"),
        "beto": make.user(name="Beto Lima", locale="en", timezone="America/Bogota"),
        "caio": make.user(name="Caio Prado", locale="en"),
    }


def signed_in(app, person):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.post("/login", data={"email": person.email, "password": person.password}).status_code == 302
    return client


def api_token(app, person):
    with app.app_context():
        token = accounts.issue_api_token(db.session.get(User, person.id), "script")[1]
        db.session.commit()
        return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def stored(app, session_id):
    with app.app_context():
        live = db.session.get(LiveSession, session_id)
        return {
            "title": live.title,
            "starts_at": live.starts_at,
            "ends_at": live.ends_at,
            "status": live.status,
            "capacity": live.capacity,
            "areas": [a.code for a in live.practice_areas],
            "criteria": [c.code for c in live.criteria],
            "revision": live.revision,
            "series_id": live.series_id,
        }


def statuses(app, session_id):
    with app.app_context():
        rows = db.session.execute(
            sa.select(User.display_name, Registration.status)
            .join(User, User.id == Registration.user_id)
            .where(Registration.session_id == session_id)
            .order_by(Registration.id)
        ).all()
        return dict(rows)


def notices(app, person, kind=None):
    with app.app_context():
        query = sa.select(Notification.kind).where(Notification.user_id == person.id).order_by(Notification.id)
        kinds = db.session.scalars(query).all()
        return [k for k in kinds if kind is None or k == kind]


def text(response):
    """The page's words without its tags."""
    return re.sub(r"<[^>]+>", "", response.get_data(as_text=True))


def count_sessions(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LiveSession))


# --- scheduling --------------------------------------------------------------------------------------------------


def test_a_mentor_schedules_a_session_in_their_zone_and_it_is_stored_in_utc(app, cohort):
    client = signed_in(app, cohort["host"])
    assert client.get("/sessions/new").status_code == 200
    response = client.post("/sessions/new", data=FORM)
    assert response.status_code == 302
    session_id = int(response.headers["Location"].rsplit("/", 1)[1])
    data = stored(app, session_id)
    assert data["starts_at"] == datetime(2031, 3, 10, 17, 0, tzinfo=UTC), "14:00 in Brasília is 17:00 UTC"
    assert data["ends_at"] == datetime(2031, 3, 10, 18, 30, tzinfo=UTC)
    assert data["areas"] == ["DM"] and data["criteria"] == ["DM1", "DM2"] and data["capacity"] == 25
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "<strong>DM1</strong>" in page, "the agenda is rendered Markdown"
    assert "America / Sao Paulo" in page


def test_each_viewer_sees_the_time_in_their_own_zone(app, cohort):
    session_id = schedule(app, cohort["host"].id, starts_at=datetime(2031, 3, 10, 17, 0, tzinfo=UTC),
                          ends_at=datetime(2031, 3, 10, 18, 0, tzinfo=UTC))  # fmt: skip
    in_bogota = text(signed_in(app, cohort["beto"]).get(f"/sessions/{session_id}"))
    assert "Monday, March 10, 2031, 12:00\u202fPM – 1:00\u202fPM (America / Bogota)" in in_bogota
    in_sao_paulo = text(signed_in(app, cohort["ana"]).get(f"/sessions/{session_id}"))
    assert "2:00\u202fPM – 3:00\u202fPM (America / Sao Paulo)" in in_sao_paulo
    listed = signed_in(app, cohort["beto"]).get("/sessions/").get_data(as_text=True)
    assert "12:00" in listed and "America / Bogota" in listed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"starts_at": ""}, "starts_at"),
        ({"starts_at": "not a date"}, "starts_at"),
        ({"ends_at": "2031-03-10T13:00"}, "ends_at"),
        ({"ends_at": "2031-03-11T14:00"}, "ends_at"),
        ({"starts_at": "2020-01-01T10:00", "ends_at": "2020-01-01T11:00"}, "starts_at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "5001"}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"language": "fr"}, "language"),
        ({"practice_areas": ["XX"]}, "practice_areas"),
        ({"criteria": ["ZZ9"]}, "criteria"),
        ({"video_url": "javascript:alert(1)"}, "video_url"),
        ({"video_url": "meet.example.org"}, "video_url"),
        ({"repeat_weeks": "13"}, "repeat_weeks"),
        ({"agenda": "x" * 20_001}, "agenda"),
    ],
)
def test_scheduling_refuses_bad_input_with_a_message_and_stores_nothing(app, cohort, changes, field):
    client = signed_in(app, cohort["host"])
    response = client.post("/sessions/new", data={**FORM, **changes})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html, f"the {field} field says what is wrong"
    assert "Please correct the fields marked below." in html
    if field != "title":
        assert FORM["title"] in html, "what was typed is kept"
    assert count_sessions(app) == 0


def test_participants_cannot_schedule(app, cohort):
    client = signed_in(app, cohort["ana"])
    assert client.get("/sessions/new").status_code == 403
    assert client.post("/sessions/new", data=FORM).status_code == 403
    assert count_sessions(app) == 0


def test_a_weekly_series_keeps_the_local_time(app, cohort):
    client = signed_in(app, cohort["host"])
    weekly = {"timezone": "America/New_York", "starts_at": "2031-03-01T10:00", "ends_at": "2031-03-01T11:00"}
    response = client.post("/sessions/new", data={**FORM, **weekly, "repeat_weeks": "3"})
    assert response.status_code == 302
    with app.app_context():
        series = db.session.scalars(sa.select(LiveSession).order_by(LiveSession.starts_at)).all()
        assert len(series) == 4 and len({s.series_id for s in series}) == 1 and series[0].series_id
        local = [s.starts_at.astimezone(ZoneInfo("America/New_York")) for s in series]
        assert [(t.month, t.day, t.hour) for t in local] == [(3, 1, 10), (3, 8, 10), (3, 15, 10), (3, 22, 10)]
        # New York moves its clocks on 9 March 2031: the same 10:00 is an hour earlier in UTC afterwards.
        assert [s.starts_at.hour for s in series] == [15, 15, 14, 14]


def test_the_host_edits_and_registrants_hear_of_a_new_time(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    register(app, session_id, cohort["ana"].id)
    client = signed_in(app, cohort["host"])
    assert client.get(f"/sessions/{session_id}/edit").status_code == 200
    response = client.post(f"/sessions/{session_id}/edit", data={**FORM, "title": "Novo título"})
    assert response.status_code == 302
    data = stored(app, session_id)
    assert data["title"] == "Novo título" and data["revision"] == 1
    assert notices(app, cohort["ana"]) == ["session_changed"]
    # A change that keeps the time tells nobody.
    client.post(f"/sessions/{session_id}/edit", data={**FORM, "title": "Outro título"})
    assert notices(app, cohort["ana"]) == ["session_changed"]


def test_only_the_host_and_admins_edit_cancel_and_see_registrants(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    for who in ("ana", "mentor"):
        client = signed_in(app, cohort[who])
        for path in ("edit", "registrants", "registrants.csv"):
            assert client.get(f"/sessions/{session_id}/{path}").status_code == 403, (who, path)
        assert client.post(f"/sessions/{session_id}/edit", data=FORM).status_code == 403
        assert client.post(f"/sessions/{session_id}/cancel").status_code == 403
    admin = signed_in(app, cohort["admin"])
    assert admin.get(f"/sessions/{session_id}/registrants").status_code == 200
    assert stored(app, session_id)["status"] == "scheduled"


def test_cancelling_tells_everyone_registered_and_waiting(app, cohort):
    session_id = schedule(app, cohort["host"].id, capacity=1)
    register(app, session_id, cohort["ana"].id, cohort["beto"].id)
    client = signed_in(app, cohort["host"])
    assert client.post(f"/sessions/{session_id}/cancel").status_code == 302
    assert stored(app, session_id)["status"] == "cancelled"
    assert notices(app, cohort["ana"]) == ["session_cancelled"]
    assert notices(app, cohort["beto"]) == ["session_cancelled"]
    assert any("was cancelled" in message["Subject"] for message in outbox(app))
    # Cancelled: nobody can register or come in any more.
    late = signed_in(app, cohort["caio"])
    late.post(f"/sessions/{session_id}/register")
    assert "Caio Prado" not in statuses(app, session_id)
    assert late.get(f"/sessions/{session_id}/room").status_code == 302
    again = client.post(f"/sessions/{session_id}/cancel", follow_redirects=True)
    assert b"Only a session that has not started can be cancelled." in again.data


def test_duplicating_fills_the_form_a_week_later(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    client = signed_in(app, cohort["host"])
    page = client.get(f"/sessions/{session_id}/duplicate").get_data(as_text=True)
    with app.app_context():
        live = db.session.get(LiveSession, session_id)
        expected = (live.starts_at + timedelta(weeks=1)).astimezone(ZoneInfo(live.timezone))
    assert expected.strftime("%Y-%m-%dT%H:%M") in page
    assert "Plantão de dúvidas: inventário de dados" in page
    assert signed_in(app, cohort["ana"]).get(f"/sessions/{session_id}/duplicate").status_code == 403


# --- lists -------------------------------------------------------------------------------------------------------


def test_the_lists_show_upcoming_and_past_sessions_with_filters(app, cohort):
    dm = schedule(app, cohort["host"].id, title="Sobre inventário")
    pa = schedule(app, cohort["host"].id, title="Sobre metas", practice_areas=["PA"], criteria=["PA2"], language="es")
    past = schedule(app, cohort["host"].id, title="Já passou")
    set_status(app, past, "ended")
    cancelled = schedule(app, cohort["host"].id, title="Cancelada")
    set_status(app, cancelled, "cancelled")
    client = signed_in(app, cohort["ana"])

    def titles(query=""):
        html = client.get(f"/sessions/{query}").get_data(as_text=True)
        return [t for t in ("Sobre inventário", "Sobre metas", "Já passou", "Cancelada") if t in html]

    assert titles() == ["Sobre inventário", "Sobre metas"]
    assert titles("?when=past") == ["Já passou"]
    assert titles("?area=PA") == ["Sobre metas"]
    assert titles("?criterion=DM1") == ["Sobre inventário"]
    assert titles("?language=es") == ["Sobre metas"]
    assert titles("?language=xx&when=later") == ["Sobre inventário", "Sobre metas"], "unknown filters are dropped"
    assert titles("?area=ZZ") == []
    assert client.get("/sessions/?page=0").status_code == 400
    assert dm and pa


def test_visitors_browse_sessions_but_not_the_call_link(app, client, cohort):
    session_id = schedule(app, cohort["host"].id)
    assert client.get("/sessions/").status_code == 200
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "Plantão de dúvidas" in page
    assert "meet.example.org" not in page
    assert "Sign in to register" in page or "Entre para se inscrever" in page


# --- registration ------------------------------------------------------------------------------------------------


def test_registering_shows_the_call_link_and_giving_the_seat_back_hides_it(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    client = signed_in(app, cohort["ana"])
    assert "meet.example.org" not in client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert client.post(f"/sessions/{session_id}/register").status_code == 302
    assert statuses(app, session_id) == {"Ana Souza": "registered"}
    assert "https://meet.example.org/plantao" in client.get(f"/sessions/{session_id}").get_data(as_text=True)
    client.post(f"/sessions/{session_id}/register")  # twice changes nothing
    assert statuses(app, session_id) == {"Ana Souza": "registered"}
    assert client.post(f"/sessions/{session_id}/unregister").status_code == 302
    assert statuses(app, session_id) == {"Ana Souza": "cancelled"}
    assert "meet.example.org" not in client.get(f"/sessions/{session_id}").get_data(as_text=True)


def test_a_full_session_keeps_a_waiting_list_and_promotes_in_order(app, cohort):
    session_id = schedule(app, cohort["host"].id, capacity=1)
    assert register(app, session_id, cohort["ana"].id, cohort["beto"].id, cohort["caio"].id) == [
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    page = signed_in(app, cohort["caio"]).get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "number 2 on the waiting list" in page
    signed_in(app, cohort["ana"]).post(f"/sessions/{session_id}/unregister")
    assert statuses(app, session_id) == {
        "Ana Souza": "cancelled",
        "Beto Lima": "registered",
        "Caio Prado": "waitlisted",
    }
    assert notices(app, cohort["beto"]) == ["session_promoted"]
    assert notices(app, cohort["caio"]) == []
    assert any("A seat freed up" in message["Subject"] for message in outbox(app))
    # Coming back puts Ana at the end of the line.
    assert register(app, session_id, cohort["ana"].id) == ["waitlisted"]
    signed_in(app, cohort["beto"]).post(f"/sessions/{session_id}/unregister")
    assert statuses(app, session_id)["Caio Prado"] == "registered"
    assert statuses(app, session_id)["Ana Souza"] == "waitlisted"


def test_more_seats_seat_the_waiting_list(app, cohort):
    session_id = schedule(app, cohort["host"].id, capacity=1)
    register(app, session_id, cohort["ana"].id, cohort["beto"].id, cohort["caio"].id)
    client = signed_in(app, cohort["host"])
    response = client.post(f"/sessions/{session_id}/edit", data={**FORM, "capacity": "2"}, follow_redirects=True)
    assert b"1 person from the waiting list got a seat." in response.data
    assert statuses(app, session_id) == {
        "Ana Souza": "registered",
        "Beto Lima": "registered",
        "Caio Prado": "waitlisted",
    }


def test_the_host_cannot_register_and_nobody_registers_after_the_end(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    host = signed_in(app, cohort["host"])
    response = host.post(f"/sessions/{session_id}/register", follow_redirects=True)
    assert b"You host this session" in response.data
    set_status(app, session_id, "ended")
    response = signed_in(app, cohort["ana"]).post(f"/sessions/{session_id}/register", follow_redirects=True)
    assert b"This session has ended or was cancelled." in response.data
    assert statuses(app, session_id) == {}


def test_registration_needs_sign_in_and_a_real_session(app, client, cohort):
    session_id = schedule(app, cohort["host"].id)
    response = client.post(f"/sessions/{session_id}/register")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert signed_in(app, cohort["ana"]).post("/sessions/999999/register").status_code == 404
    assert signed_in(app, cohort["ana"]).post("/sessions/99999999999999/register").status_code == 404


def test_the_host_sees_the_registrants_and_exports_them_as_csv(app, cohort, make):
    session_id = schedule(app, cohort["host"].id, capacity=1)
    sneaky = make.user(name='=HYPERLINK("http://evil")', locale="en")
    register(app, session_id, cohort["ana"].id, sneaky.id)
    client = signed_in(app, cohort["host"])
    page = client.get(f"/sessions/{session_id}/registrants").get_data(as_text=True)
    assert "Ana Souza" in page and "Waiting list, number 1" in page
    response = client.get(f"/sessions/{session_id}/registrants.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    # A byte-order mark first, so that spreadsheets read the accents as UTF-8.
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [(r["name"], r["status"], r["position"]) for r in rows] == [
        ("Ana Souza", "registered", ""),
        ('\'=HYPERLINK("http://evil")', "waitlisted", "1"),
    ], "a name that looks like a formula stays text"
    assert rows[0]["email"] == cohort["ana"].email


# --- calendars ---------------------------------------------------------------------------------------------------


def parse_calendar(data):
    calendar = icalendar.Calendar.from_ical(data)
    return calendar, list(calendar.walk("VEVENT"))


def test_the_ics_file_has_the_zone_a_reminder_and_the_link_for_registrants_only(app, client, cohort):
    session_id = schedule(app, cohort["host"].id, starts_at=datetime(2031, 3, 10, 17, 0, tzinfo=UTC),
                          ends_at=datetime(2031, 3, 10, 18, 30, tzinfo=UTC))  # fmt: skip
    response = client.get(f"/sessions/{session_id}/calendar.ics")
    assert response.mimetype == "text/calendar"
    calendar, (event,) = parse_calendar(response.data)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Sao_Paulo"]
    assert event["DTSTART"].dt == datetime(2031, 3, 10, 14, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert event["DTSTART"].params["TZID"] == "America/Sao_Paulo"
    assert event["DTEND"].dt.astimezone(UTC) == datetime(2031, 3, 10, 18, 30, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "Plantão de dúvidas: inventário de dados"
    assert str(event["URL"]).endswith(f"/sessions/{session_id}")
    (alarm,) = event.walk("VALARM")
    assert alarm["TRIGGER"].dt == -timedelta(minutes=30)
    assert "LOCATION" not in event and "meet.example.org" not in response.get_data(as_text=True)

    register(app, session_id, cohort["ana"].id)
    _calendar, (event,) = parse_calendar(signed_in(app, cohort["ana"]).get(f"/sessions/{session_id}/calendar.ics").data)
    assert str(event["LOCATION"]) == "https://meet.example.org/plantao"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_cancelled_session_is_cancelled_in_calendars(app, client, cohort):
    session_id = schedule(app, cohort["host"].id)
    with app.app_context():
        live = db.session.get(LiveSession, session_id)
        scheduling.cancel(live, live.host)
    _calendar, (event,) = parse_calendar(client.get(f"/sessions/{session_id}/calendar.ics").data)
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1


def test_the_private_feed_lists_my_sessions_and_a_new_address_retires_the_old(app, client, cohort):
    mine = schedule(app, cohort["host"].id, title="A minha")
    other = schedule(app, cohort["host"].id, title="Outra")
    register(app, mine, cohort["ana"].id)
    ana = signed_in(app, cohort["ana"])
    page = ana.get("/sessions/calendar").get_data(as_text=True)
    feed_url = page.split('id="feed-url" type="text" readonly value="', 1)[1].split('"', 1)[0]
    path = feed_url.split("localhost", 1)[1]
    response = client.get(path)  # no cookie: the address itself is the key
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    _calendar, found = parse_calendar(response.data)
    assert [str(e["SUMMARY"]) for e in found] == ["A minha"]
    assert str(found[0]["LOCATION"]) == "https://meet.example.org/plantao"
    assert other
    assert ana.post("/sessions/calendar/renew").status_code == 302
    assert client.get(path).status_code == 404
    assert client.get("/sessions/calendar/not-a-real-token-but-long-enough.ics").status_code == 404


# --- reminders ---------------------------------------------------------------------------------------------------


def test_send_reminders_tells_registered_people_once(app, runner, cohort):
    soon = schedule(app, cohort["host"].id, title="Em breve", starts_at=utcnow() + timedelta(hours=3),
                    ends_at=utcnow() + timedelta(hours=4))  # fmt: skip
    later = schedule(app, cohort["host"].id, title="Mais tarde", starts_at=utcnow() + timedelta(days=3),
                     ends_at=utcnow() + timedelta(days=3, hours=1))  # fmt: skip
    register(app, soon, cohort["ana"].id, cohort["beto"].id)
    register(app, later, cohort["ana"].id)
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Sent 2 reminders" in result.output
    assert notices(app, cohort["ana"], "session_reminder") == ["session_reminder"]
    assert notices(app, cohort["beto"], "session_reminder") == ["session_reminder"]
    assert sum("starts soon" in m["Subject"] for m in outbox(app)) == 2
    assert "Sent 0 reminders" in runner.invoke(args=["send-reminders"]).output, "nobody is reminded twice"
    assert "Sent 1 reminder " in runner.invoke(args=["send-reminders", "--hours", "96"]).output
    assert runner.invoke(args=["send-reminders", "--hours", "0"]).exit_code != 0


def test_reminders_are_emailed_at_once_even_to_daily_digest_readers_but_not_to_never(app, cohort):
    from community.notifications import services as notification_services

    with app.app_context():
        notification_services.set_email_frequency(cohort["ana"].id, "daily")
        notification_services.set_email_frequency(cohort["beto"].id, "never")
        db.session.commit()
    soon = schedule(
        app, cohort["host"].id, starts_at=utcnow() + timedelta(hours=2), ends_at=utcnow() + timedelta(hours=3)
    )
    register(app, soon, cohort["ana"].id, cohort["beto"].id)
    with app.app_context():
        assert seats.send_reminders(24) == 2
    recipients = [m["To"] for m in outbox(app)]
    assert recipients == [cohort["ana"].email]


# --- the archive -------------------------------------------------------------------------------------------------


def run_a_session(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    register(app, session_id, cohort["ana"].id)
    with app.app_context():
        live = db.session.get(LiveSession, session_id)
        host, ana = live.host, db.session.get(User, cohort["ana"].id)
        for person, sid in ((host, "s1"), (ana, "s2")):
            room_presence.enter(live, person, sid)
        room_actions.start(live, host)
        room_chat.chat(live, ana, "Bom dia a todos")
        _event, question = room_actions.ask(live, ana, "Qual o prazo do DM2?", anonymous=True)
        room_actions.mark_answered(live, host, question.id)
        _event, poll = room_actions.open_poll(live, host, "Já têm inventário?", ["Sim", "Não"])
        room_actions.vote(live, ana, poll.id, [1])
        room_actions.close_poll(live, host, poll.id)
        room_actions.end(live, host)
    return session_id


def test_the_archive_keeps_the_chat_questions_polls_and_attendance(app, cohort):
    session_id = run_a_session(app, cohort)
    ana = signed_in(app, cohort["ana"])
    page = ana.get(f"/sessions/{session_id}/archive").get_data(as_text=True)
    for text in ("Bom dia a todos", "Qual o prazo do DM2?", "Answered", "Já têm inventário?", "Helena Duarte"):
        assert text in page, text
    assert "Anonymous" in page
    host_page = signed_in(app, cohort["host"]).get(f"/sessions/{session_id}/archive").get_data(as_text=True)
    assert "Ana Souza" in host_page.split("Qual o prazo do DM2?", 1)[1][:200], "the host sees who asked"

    minutes = ana.get(f"/sessions/{session_id}/minutes.md")
    assert minutes.mimetype == "text/markdown" and "attachment" in minutes.headers["Content-Disposition"]
    text = minutes.get_data(as_text=True)
    assert text.startswith("# Plantão de dúvidas: inventário de dados")
    assert "- Qual o prazo do DM2? (Anonymous; 0 votes; answered)" in text
    assert "- Sim: 1 (100%)" in text and "- Não: 0 (0%)" in text
    assert "**Ana Souza**: Bom dia a todos" in text
    assert "## Attendance (2)" in text


def test_the_archive_is_for_those_who_could_come_in_and_only_after_the_end(app, client, cohort):
    session_id = run_a_session(app, cohort)
    assert signed_in(app, cohort["caio"]).get(f"/sessions/{session_id}/archive").status_code == 403
    assert signed_in(app, cohort["caio"]).get(f"/sessions/{session_id}/minutes.md").status_code == 403
    assert signed_in(app, cohort["mentor"]).get(f"/sessions/{session_id}/archive").status_code == 200
    response = client.get(f"/sessions/{session_id}/archive")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    upcoming = schedule(app, cohort["host"].id)
    assert signed_in(app, cohort["host"]).get(f"/sessions/{upcoming}/archive").status_code == 404


def test_the_room_page_is_for_registered_people_staff_and_the_host(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    register(app, session_id, cohort["ana"].id)
    for who in ("host", "ana", "mentor", "admin"):
        assert signed_in(app, cohort[who]).get(f"/sessions/{session_id}/room").status_code == 200, who
    refused = signed_in(app, cohort["caio"]).get(f"/sessions/{session_id}/room")
    assert refused.status_code == 403
    assert b"Register for this session to come into its room." in refused.data


def test_the_room_page_offers_tabs_for_a_phone_and_the_call_link_to_those_in_the_room(app, cohort):
    session_id = schedule(app, cohort["host"].id)
    register(app, session_id, cohort["ana"].id)
    for who in ("host", "ana"):
        page = signed_in(app, cohort[who]).get(f"/sessions/{session_id}/room").get_data(as_text=True)
        assert 'href="https://meet.example.org/plantao"' in page, who
        assert page.count('role="tab"') == 4, who
        for name in ("chat", "questions", "polls", "people"):
            assert f'aria-controls="panel-{name}"' in page and f'id="panel-{name}"' in page, (who, name)
    refused = signed_in(app, cohort["caio"]).get(f"/sessions/{session_id}/room").get_data(as_text=True)
    assert "meet.example.org" not in refused


# --- the API -----------------------------------------------------------------------------------------------------

API_SESSION = {
    "title": "Plantão pela API",
    "agenda": "Pauta em *Markdown*",
    "starts_at": "2031-03-10T14:00:00-03:00",
    "ends_at": "2031-03-10T15:00:00-03:00",
    "timezone": "America/Sao_Paulo",
    "capacity": 2,
    "language": "pt_BR",
    "practice_areas": ["DM"],
    "criteria": ["DM2"],
    "video_url": "https://meet.example.org/api",
}


def test_the_api_schedules_lists_and_shows_sessions(app, client, cohort):
    headers = api_token(app, cohort["host"])
    response = client.post("/api/v1/sessions", json=API_SESSION, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["starts_at"] == "2031-03-10T17:00:00+00:00"
    assert body["url"].endswith(f"/sessions/{body['id']}") and body["ics_url"].endswith("/calendar.ics")
    assert body["video_url"] == "https://meet.example.org/api", "the host sees the link"
    assert response.headers["Location"].endswith(f"/api/v1/sessions/{body['id']}")
    public = client.get(f"/api/v1/sessions/{body['id']}").get_json()
    assert public["video_url"] is None and public["agenda_html"] == "<p>Pauta em <em>Markdown</em></p>"
    listed = client.get("/api/v1/sessions?practice_area=DM").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    assert client.get("/api/v1/sessions?practice_area=PA").get_json()["total"] == 0
    assert client.get("/api/v1/sessions?when=past").get_json()["total"] == 0
    assert client.get("/api/v1/sessions?when=soon").status_code == 422
    assert client.get("/api/v1/sessions/999999").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": "2031-03-10T14:00:00"}, "starts_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"starts_at": 1234}, "starts_at"),
        ({"ends_at": "2031-03-10T13:00:00-03:00"}, "ends_at"),
        ({"capacity": "10"}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"title": None}, "title"),
        ({"practice_areas": "DM, XX"}, "practice_areas"),
        ({"practice_areas": [1]}, "practice_areas"),
        ({"criteria": {"a": 1}}, "criteria"),
        ({"language": "de"}, "language"),
        ({"timezone": 5}, "timezone"),
        ({"video_url": ["https://x"]}, "video_url"),
        ({"video_url": "ftp://files.example.org"}, "video_url"),
        ({"repeat_weeks": 99}, "repeat_weeks"),
    ],
)
def test_the_api_refuses_bad_sessions_with_422_naming_the_field(app, client, cohort, changes, field):
    response = client.post("/api/v1/sessions", json={**API_SESSION, **changes}, headers=api_token(app, cohort["host"]))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    assert count_sessions(app) == 0


def test_the_api_lets_only_staff_schedule(app, client, cohort):
    response = client.post("/api/v1/sessions", json=API_SESSION, headers=api_token(app, cohort["ana"]))
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert client.post("/api/v1/sessions", json=API_SESSION).status_code == 401
    assert count_sessions(app) == 0


def test_the_api_registration_answers_the_callers_status(app, client, cohort):
    session_id = schedule(app, cohort["host"].id, capacity=1)
    ana, beto = api_token(app, cohort["ana"]), api_token(app, cohort["beto"])
    url = f"/api/v1/sessions/{session_id}/registration"
    assert client.get(url, headers=ana).get_json()["status"] == "none"
    assert client.post(url, headers=ana).get_json()["status"] == "registered"
    waiting = client.post(url, headers=beto).get_json()
    assert waiting["status"] == "waitlisted" and waiting["position"] == 1
    assert client.delete(url, headers=ana).get_json()["status"] == "cancelled"
    assert client.get(url, headers=beto).get_json()["status"] == "registered", "promoted"
    assert client.delete(url, headers=ana).get_json()["status"] == "cancelled", "twice is harmless"
    assert (
        client.delete(f"/api/v1/sessions/{session_id}/registration", headers=api_token(app, cohort["caio"])).status_code
        == 404
    )
    assert client.post(url).status_code == 401
    set_status(app, session_id, "ended")
    closed = client.post(url, headers=api_token(app, cohort["caio"]))
    assert closed.status_code == 409 and closed.get_json()["message"]


def test_the_api_events_replay_the_log_after_a_seq(app, client, cohort):
    session_id = run_a_session(app, cohort)
    ana = api_token(app, cohort["ana"])
    everything = client.get(f"/api/v1/sessions/{session_id}/events", headers=ana).get_json()
    assert [e["seq"] for e in everything["items"]] == list(range(1, 9))
    assert everything["last_seq"] == 8
    after = client.get(f"/api/v1/sessions/{session_id}/events?after=6", headers=ana).get_json()
    assert [e["type"] for e in after["items"]] == ["poll_close", "end"]
    question = next(e for e in everything["items"] if e["type"] == "question")
    assert question["data"]["author"] is None, "anonymous, also through the API"
    host_view = client.get(f"/api/v1/sessions/{session_id}/events", headers=api_token(app, cohort["host"])).get_json()
    assert next(e for e in host_view["items"] if e["type"] == "question")["data"]["author"]["name"] == "Ana Souza"
    for bad in ("-1", "x", "1.5", "99999999999"):
        assert client.get(f"/api/v1/sessions/{session_id}/events?after={bad}", headers=ana).status_code == 422
    assert (
        client.get(f"/api/v1/sessions/{session_id}/events", headers=api_token(app, cohort["caio"])).status_code == 403
    )


def test_the_home_page_and_the_framework_pages_show_the_next_sessions(app, client, cohort):
    schedule(app, cohort["host"].id, title="Sobre inventário", practice_areas=["DM"], criteria=["DM2"])
    schedule(app, cohort["host"].id, title="Sobre metas", practice_areas=["PA"], criteria=["PA2"])
    home = client.get("/").get_data(as_text=True)
    assert "Sobre inventário" in home and "Sobre metas" in home
    criterion = client.get("/framework/DM2").get_data(as_text=True)
    assert "Sobre inventário" in criterion and "Sobre metas" not in criterion
    area = client.get("/framework/PA").get_data(as_text=True)
    assert "Sobre metas" in area and "Sobre inventário" not in area


def test_the_api_changes_and_cancels_a_session_for_its_host(app, client, cohort):
    session_id = schedule(app, cohort["host"].id)
    register(app, session_id, cohort["ana"].id)
    host = api_token(app, cohort["host"])
    url = f"/api/v1/sessions/{session_id}"
    changed = client.patch(url, json={"title": "Novo título", "capacity": 40}, headers=host)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["title"] == "Novo título" and changed.get_json()["capacity"] == 40
    assert notices(app, cohort["ana"]) == [], "the time did not change"
    moved = client.patch(url, json={"starts_at": "2031-03-10T14:00:00-03:00", "ends_at": "2031-03-10T15:00:00-03:00"},
                         headers=host)  # fmt: skip
    assert moved.get_json()["starts_at"] == "2031-03-10T17:00:00+00:00"
    assert notices(app, cohort["ana"]) == ["session_changed"]
    for body, field in (({"capacity": 0}, "capacity"), ({"starts_at": "soon"}, "starts_at"), ({"host": 1}, "host")):
        refused = client.patch(url, json=body, headers=host)
        assert refused.status_code == 422 and field in refused.get_json()["fields"]
    assert stored(app, session_id)["capacity"] == 40
    for who in ("ana", "mentor"):
        assert client.patch(url, json={"title": "Meu"}, headers=api_token(app, cohort[who])).status_code == 403
        assert client.post(f"{url}/cancel", headers=api_token(app, cohort[who])).status_code == 403
    cancelled = client.post(f"{url}/cancel", headers=host)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert notices(app, cohort["ana"]) == ["session_changed", "session_cancelled"]
    assert client.post(f"{url}/cancel", headers=host).status_code == 409
    assert client.patch(url, json={"title": "Tarde demais"}, headers=host).status_code == 409
    assert client.post("/api/v1/sessions/999999/cancel", headers=host).status_code == 404
