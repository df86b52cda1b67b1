"""Notifications: stored and pushed after commit, e-mailed by each user's setting, read, listed, and served as JSON."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from community.auth import services as accounts
from community.auth.models import User
from community.core.models import utcnow
from community.extensions import db
from community.notifications import services
from community.notifications.models import Notification, NotificationSettings
from tests.conftest import PASSWORD, outbox

THREAD = {"actor_name": "Beatriz Rocha", "thread_title": "Como publicar dados abertos?"}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def people(make):
    """Ana gets the notices, Beatriz causes them, Carlos is someone else."""
    return (
        make.user(name="Ana Souza", locale="en"),
        make.user(name="Beatriz Rocha", locale="pt_BR"),
        make.user(name="Carlos Lima", locale="en"),
    )


def add(app, recipient, kind="reply", actor=None, url="/cities/", data=None):
    """notify() and commit, as a feature would; returns the new notification's id (None when skipped)."""
    with app.app_context():
        notification = services.notify(
            recipient.id, kind, actor_id=actor.id if actor else None, url=url, data=THREAD if data is None else data
        )
        db.session.commit()
        return notification.id if notification else None


def set_frequency(app, user, value):
    with app.app_context():
        services.set_email_frequency(user.id, value)
        db.session.commit()


def stored(app, notification_id):
    with app.app_context():
        return db.session.get(Notification, notification_id)


def signed_in(app, user):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def received(sio, name="notification"):
    return [event["args"][0] for event in sio.get_received() if event["name"] == name]


def mails_to(app, user):
    return [mail for mail in outbox(app) if mail["To"] == user.email]


def body(mail):
    return mail.get_content()


def settings_link(mail):
    return re.search(r"http://localhost(/notifications/settings/\S+)", body(mail)).group(1)


def frequency(app, user):
    with app.app_context():
        return services.email_frequency(user.id)


def unread(app, user):
    with app.app_context():
        return services.unread_count(user.id)


# --- notify and deliver ------------------------------------------------------------------------------------------


def test_notify_stores_the_notice_and_pushes_it_to_the_recipient_only(app, people, socket_client):
    ana, beatriz, carlos = people
    ana_socket = socket_client(flask_client=signed_in(app, ana))
    carlos_socket = socket_client(flask_client=signed_in(app, carlos))
    notification_id = add(app, ana, actor=beatriz, url="/cities/recife#members")

    notification = stored(app, notification_id)
    assert (notification.user_id, notification.actor_id, notification.kind) == (ana.id, beatriz.id, "reply")
    assert notification.url == "/cities/recife#members"
    assert notification.data == THREAD
    assert notification.read_at is None and notification.created_at is not None
    assert received(ana_socket) == [
        {
            "id": notification_id,
            "unread": 1,
            "unread_label": "1 unread",
            "text": "Beatriz Rocha replied in “Como publicar dados abertos?”",
            "url": "http://localhost/cities/recife#members",
        }
    ]
    assert received(carlos_socket) == []


def test_nobody_is_notified_of_their_own_action(app, people, socket_client):
    ana, _beatriz, _carlos = people
    ana_socket = socket_client(flask_client=signed_in(app, ana))
    assert add(app, ana, actor=ana) is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert received(ana_socket) == []
    assert outbox(app) == []


def test_a_rolled_back_notice_is_never_announced(app, people, socket_client):
    ana, beatriz, _carlos = people
    ana_socket = socket_client(flask_client=signed_in(app, ana))
    with app.app_context():
        services.notify(ana.id, "reply", actor_id=beatriz.id, url="/cities/", data=THREAD)
        db.session.rollback()
        db.session.commit()  # a later commit of other work does not bring it back
        assert services.unread_count(ana.id) == 0
    assert received(ana_socket) == []
    assert outbox(app) == []


def test_a_notice_in_a_savepoint_waits_for_the_outer_commit(app, people, socket_client):
    ana, beatriz, _carlos = people
    ana_socket = socket_client(flask_client=signed_in(app, ana))
    with app.app_context():
        with db.session.begin_nested():
            services.notify(ana.id, "mention", actor_id=beatriz.id, url="/cities/", data=THREAD)
        assert received(ana_socket) == [], "releasing the savepoint stored nothing yet"
        assert outbox(app) == []
        db.session.commit()
    assert [event["text"] for event in received(ana_socket)] == [
        "Beatriz Rocha mentioned you in “Como publicar dados abertos?”"
    ]
    assert len(mails_to(app, ana)) == 1


def test_a_notice_can_only_lead_to_a_page_of_this_site(app, people):
    ana, beatriz, _carlos = people
    with app.app_context():
        for url in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "cities/", "/\\evil", ""):
            with pytest.raises(ValueError):
                services.notify(ana.id, "reply", actor_id=beatriz.id, url=url, data=THREAD)
        db.session.rollback()


def test_a_failed_email_does_not_undo_the_notice_or_the_push(app, people, socket_client, monkeypatch, caplog):
    ana, beatriz, _carlos = people
    ana_socket = socket_client(flask_client=signed_in(app, ana))

    def broken(*args, **kwargs):
        raise OSError("the mail server is away")

    monkeypatch.setattr(services, "send_email", broken)
    notification_id = add(app, ana, actor=beatriz)
    assert stored(app, notification_id).emailed_at is None
    assert len(received(ana_socket)) == 1
    assert "Could not e-mail notification" in caplog.text


def test_message_texts_for_each_kind_and_a_generic_one(app):
    def text(kind, data=THREAD):
        with app.app_context(), force_locale("en"):
            return services.message(Notification(kind=kind, data=data))

    assert text("reply") == "Beatriz Rocha replied in “Como publicar dados abertos?”"
    assert text("mention") == "Beatriz Rocha mentioned you in “Como publicar dados abertos?”"
    assert text("accepted") == "Beatriz Rocha accepted your answer in “Como publicar dados abertos?”"
    assert text("something-new") == "You have a new notification."
    assert text("reply", {}) == "Someone replied in “a thread”"


# --- e-mail ------------------------------------------------------------------------------------------------------


def test_an_immediate_email_is_in_the_recipients_language_and_links_to_its_settings(app, make, people):
    _ana, beatriz, _carlos = people
    lucia = make.user(name="Lucía Fernández", locale="es")
    notification_id = add(app, lucia, kind="accepted", actor=beatriz, url="/cities/cordoba")

    [mail] = mails_to(app, lucia)
    with app.app_context(), force_locale("es"):
        text = services.message(stored(app, notification_id))
        label = str(services.EMAIL_LABELS["immediate"])
    assert mail["Subject"] == text
    content = body(mail)
    assert content.startswith("Hola, Lucía Fernández:"), "written in Lucía's Spanish"
    assert text in content
    assert "http://localhost/cities/cordoba" in content
    assert label in content, "the e-mail states the current setting"
    assert stored(app, notification_id).emailed_at is not None

    visitor = app.test_client()
    page = visitor.get(settings_link(mail))
    assert page.status_code == 200, "the link works without signing in"
    assert lucia.email in page.get_data(as_text=True)
    assert visitor.post(settings_link(mail), data={"email": "never"}).status_code == 302
    assert frequency(app, lucia) == "never"


def test_daily_users_get_one_digest_of_what_is_unread(app, people, runner, socket_client):
    ana, beatriz, carlos = people
    set_frequency(app, ana, "daily")
    ana_socket = socket_client(flask_client=signed_in(app, ana))
    first = add(app, ana, actor=beatriz, data={"actor_name": "Beatriz Rocha", "thread_title": "Primeira"})
    add(app, ana, kind="mention", actor=carlos, data={"actor_name": "Carlos Lima", "thread_title": "Segunda"})
    read = add(app, ana, actor=carlos, data={"actor_name": "Carlos Lima", "thread_title": "Já lida"})
    with app.app_context():
        services.mark_read(ana.id, [read])
        db.session.commit()
    assert outbox(app) == [], "nothing at once for a daily user"
    assert len(received(ana_socket)) == 3, "the page still hears of each at once"

    with app.app_context():
        assert services.send_digests() == 1
    [digest] = mails_to(app, ana)
    content = body(digest)
    assert digest["Subject"] == "2 unread notifications on Comunidade"
    assert "Beatriz Rocha replied in “Primeira”" in content
    assert "Carlos Lima mentioned you in “Segunda”" in content
    assert "Já lida" not in content
    assert str(services.EMAIL_LABELS["daily"]) in content
    assert app.test_client().get(settings_link(digest)).status_code == 200
    assert stored(app, first).emailed_at is not None

    with app.app_context():
        assert services.send_digests() == 0, "nothing the second time"
        assert services.send_digests(now=utcnow() + timedelta(days=2)) == 0, "nothing new to tell"
    assert len(outbox(app)) == 1


def test_a_digest_waits_a_day_and_then_holds_only_what_is_new(app, people):
    ana, beatriz, _carlos = people
    set_frequency(app, ana, "daily")
    add(app, ana, actor=beatriz, data={"actor_name": "Beatriz Rocha", "thread_title": "Primeira"})
    with app.app_context():
        start = utcnow()
        assert services.send_digests(now=start) == 1
    add(app, ana, actor=beatriz, data={"actor_name": "Beatriz Rocha", "thread_title": "Segunda"})
    with app.app_context():
        assert services.send_digests(now=utcnow() + timedelta(hours=1)) == 0, "one digest a day at most"
        assert services.send_digests(now=utcnow() + timedelta(days=1)) == 1
    second = mails_to(app, ana)[-1]
    assert "Segunda" in body(second) and "Primeira" not in body(second)
    assert second["Subject"] == "1 unread notification on Comunidade"


def test_the_send_digests_command_reports_how_many_were_sent(app, people, runner):
    ana, beatriz, carlos = people
    set_frequency(app, ana, "daily")
    set_frequency(app, carlos, "daily")
    add(app, ana, actor=beatriz)
    add(app, carlos, actor=beatriz)
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0, result.output
    assert "Sent 2 digest e-mails." in result.output
    assert len(outbox(app)) == 2
    assert "Sent 0 digest e-mails." in runner.invoke(args=["send-digests"]).output


def test_a_long_digest_lists_the_newest_and_counts_the_rest(app, people, monkeypatch):
    ana, beatriz, _carlos = people
    monkeypatch.setattr(services, "DIGEST_MAX_ITEMS", 2)
    set_frequency(app, ana, "daily")
    for title in ("Um", "Dois", "Três"):
        add(app, ana, actor=beatriz, data={"actor_name": "Beatriz Rocha", "thread_title": title})
    with app.app_context():
        assert services.send_digests() == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(Notification.emailed_at.is_(None))) == 0
    content = body(mails_to(app, ana)[0])
    assert "“Três”" in content and "“Dois”" in content and "“Um”" not in content
    assert "And 1 more." in content
    assert "http://localhost/notifications/" in content


@pytest.mark.config(SITE_URL="https://comunidade.example.org/")
def test_emails_sent_outside_a_request_link_to_the_configured_site(app, people, runner):
    ana, beatriz, _carlos = people
    set_frequency(app, ana, "daily")
    add(app, ana, actor=beatriz, url="/cities/recife")
    assert "Sent 1 digest e-mail." in runner.invoke(args=["send-digests"]).output
    content = body(mails_to(app, ana)[0])
    assert "https://comunidade.example.org/cities/recife" in content
    assert "https://comunidade.example.org/notifications/settings/" in content


@pytest.mark.config(TESTING=False, DEBUG=False)
def test_in_production_the_command_asks_for_the_sites_address(app, runner):
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code != 0
    assert "Set SITE_URL" in result.output


def test_users_who_chose_never_get_no_email(app, people):
    ana, beatriz, _carlos = people
    set_frequency(app, ana, "never")
    notification_id = add(app, ana, actor=beatriz)
    with app.app_context():
        assert services.send_digests(now=utcnow() + timedelta(days=1)) == 0
    assert outbox(app) == []
    assert unread(app, ana) == 1, "the notice waits on the site"
    assert stored(app, notification_id).emailed_at is None


def test_deactivated_users_get_no_email(app, people):
    ana, beatriz, _carlos = people
    with app.app_context():
        db.session.get(User, ana.id).active = False
        db.session.commit()
    add(app, ana, actor=beatriz)
    assert outbox(app) == []


# --- the list page and marking read ---------------------------------------------------------------------------


def test_visitors_are_sent_to_sign_in(client):
    for path in ("/notifications/", "/notifications/settings"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_list_shows_ones_own_notices_newest_first_with_unread_marked(app, people):
    ana, beatriz, carlos = people
    add(app, ana, actor=beatriz, url="/cities/a", data={"actor_name": "Beatriz Rocha", "thread_title": "Older"})
    read = add(app, ana, actor=carlos, url="/cities/b", data={"actor_name": "Carlos Lima", "thread_title": "Read"})
    newest = add(
        app, ana, actor=beatriz, url="/cities/c", data={"actor_name": "Beatriz Rocha", "thread_title": "Newer"}
    )
    add(app, carlos, actor=beatriz, data={"actor_name": "Beatriz Rocha", "thread_title": "Not for Ana"})
    with app.app_context():
        services.mark_read(ana.id, [read])
        db.session.commit()

    page = signed_in(app, ana).get("/notifications/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Newer") < html.index("Read") < html.index("Older")
    assert "Not for Ana" not in html
    assert html.count('class="notification unread"') == 2
    assert "2 unread notifications" in html
    assert f'action="/notifications/{newest}/read"' in html, "an unread notice opens through a POST that reads it"
    assert 'href="/cities/b"' in html, "a read notice is a plain link"
    assert 'action="/notifications/read"' in html


def test_titles_are_text_on_the_page_and_in_the_email(app, people):
    ana, beatriz, _carlos = people
    add(app, ana, actor=beatriz, data={"actor_name": "Bea <b>", "thread_title": "<script>alert(1)</script> & more"})
    html = signed_in(app, ana).get("/notifications/").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "Bea <b> replied in “<script>alert(1)</script> & more”" in body(mails_to(app, ana)[0])


def test_the_list_runs_the_same_queries_for_few_or_many_notices(app, people):
    ana, beatriz, _carlos = people
    client = signed_in(app, ana)

    def queries_for_the_page():
        statements = []
        with app.app_context():
            engine = db.engine

        def count(*args):
            statements.append(args[2])

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/notifications/").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    add(app, ana, actor=beatriz)
    few = queries_for_the_page()
    for _ in range(12):
        add(app, ana, actor=beatriz)
    assert queries_for_the_page() == few


def test_the_list_is_paginated(app, people):
    ana, beatriz, _carlos = people
    for n in range(23):
        add(app, ana, actor=beatriz, data={"actor_name": "Beatriz Rocha", "thread_title": f"Thread {n:02d}"})
    client = signed_in(app, ana)
    first = client.get("/notifications/").get_data(as_text=True)
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert first.count('<li class="notification') == 20 and "Thread 22" in first
    assert second.count('<li class="notification') == 3 and "Thread 00" in second
    assert client.get("/notifications/?page=zero").status_code == 400


def test_opening_a_notice_marks_it_read_and_goes_to_its_page(app, people, socket_client):
    ana, beatriz, _carlos = people
    first = add(app, ana, actor=beatriz, url="/cities/recife")
    add(app, ana, actor=beatriz)
    client = signed_in(app, ana)
    other_tab = socket_client(flask_client=client)
    response = client.post(f"/notifications/{first}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/cities/recife"
    assert stored(app, first).read_at is not None
    assert unread(app, ana) == 1
    assert received(other_tab, "notifications_read") == [{"unread": 1, "unread_label": "1 unread"}]
    again = client.post(f"/notifications/{first}/read")
    assert again.headers["Location"] == "/cities/recife", "opening a read notice again still leads to it"


def test_nobody_else_can_mark_your_notices(app, people, client):
    ana, beatriz, carlos = people
    notification_id = add(app, ana, actor=beatriz)
    response = signed_in(app, carlos).post(f"/notifications/{notification_id}/read")
    assert response.status_code == 404
    assert signed_in(app, carlos).post("/notifications/999999/read").status_code == 404
    visitor = client.post(f"/notifications/{notification_id}/read")
    assert visitor.status_code == 302 and visitor.headers["Location"].startswith("/login")
    assert stored(app, notification_id).read_at is None


def test_mark_all_read_touches_only_ones_own(app, people):
    ana, beatriz, carlos = people
    for _ in range(3):
        add(app, ana, actor=beatriz)
    add(app, carlos, actor=beatriz)
    client = signed_in(app, ana)
    assert client.get("/notifications/read").status_code == 405, "GET changes nothing"
    response = client.post("/notifications/read")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/"
    assert unread(app, ana) == 0
    assert unread(app, carlos) == 1
    assert "All your notifications are marked as read." in client.get("/notifications/").get_data(as_text=True)


def test_mark_read_service_takes_ids_or_all(app, people):
    ana, beatriz, carlos = people
    ids = [add(app, ana, actor=beatriz) for _ in range(3)]
    carlos_notice = add(app, carlos, actor=beatriz)
    with app.app_context():
        assert services.mark_read(ana.id, [ids[0], carlos_notice]) == 1
        assert services.mark_read(ana.id, []) == 0
        assert services.mark_read(ana.id) == 2
        assert services.mark_read(ana.id) == 0
        db.session.commit()
    assert unread(app, carlos) == 1


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_marking_read_needs_the_csrf_token(app, people):
    ana, beatriz, _carlos = people
    notification_id = add(app, ana, actor=beatriz)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": ana.email, "password": PASSWORD, "csrf_token": token})
    assert client.post("/notifications/read").status_code == 400
    assert client.post(f"/notifications/{notification_id}/read").status_code == 400
    assert unread(app, ana) == 1


# --- settings ----------------------------------------------------------------------------------------------------


def test_the_settings_page_shows_and_saves_the_choice(app, people):
    ana, _beatriz, _carlos = people
    client = signed_in(app, ana)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert re.search(r'<input checked id="email-0" name="email" type="radio" value="immediate">', page)
    assert "<legend>" in page and 'for="email-1"' in page
    response = client.post("/notifications/settings", data={"email": "daily"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/settings"
    assert frequency(app, ana) == "daily"
    assert "Your e-mail setting is saved." in client.get("/notifications/settings").get_data(as_text=True)


@pytest.mark.parametrize("data", [{"email": "weekly"}, {"email": ""}, {}, {"email": "DAILY"}])
def test_an_unknown_setting_is_refused_and_nothing_changes(app, people, data):
    ana, _beatriz, _carlos = people
    set_frequency(app, ana, "never")
    response = signed_in(app, ana).post("/notifications/settings", data=data)
    assert response.status_code == 400
    assert "Choose one of the options." in response.get_data(as_text=True)
    assert frequency(app, ana) == "never"


def test_the_settings_link_is_bound_to_its_user(app, people, client):
    ana, _beatriz, carlos = people
    with app.app_context():
        token = services.settings_token(ana.id)
    response = client.post(f"/notifications/settings/{token}", data={"email": "daily"})
    assert response.status_code == 302 and response.headers["Location"] == f"/notifications/settings/{token}"
    assert frequency(app, ana) == "daily"
    assert frequency(app, carlos) == "immediate"
    assert client.post(f"/notifications/settings/{token}", data={"email": "weekly"}).status_code == 400
    assert frequency(app, ana) == "daily"


def test_a_bad_settings_link_is_refused_with_a_clear_message(app, people, client):
    ana, _beatriz, _carlos = people
    with app.app_context():
        good = services.settings_token(ana.id)
        reset = accounts.password_reset_token(db.session.get(User, ana.id))
    payload, signature = good.rsplit(".", 1)
    for token in ("nonsense", good[:-2] + "xx", reset, f"{payload}.{signature[::-1]}", "a" * 500):
        response = client.get(f"/notifications/settings/{token}")
        assert response.status_code == 404, token
        assert "This link to notification settings is not valid." in response.get_data(as_text=True)
        assert client.post(f"/notifications/settings/{token}", data={"email": "never"}).status_code == 404
    assert frequency(app, ana) == "immediate"
    with app.app_context():
        assert services.user_for_settings_token(reset) is None, "another purpose's token never opens settings"
        db.session.get(User, ana.id).active = False
        db.session.commit()
    assert client.get(f"/notifications/settings/{good}").status_code == 404, "not for a deactivated account"


def test_users_without_settings_get_immediate_emails_and_get_requests_store_nothing(app, people):
    ana, _beatriz, _carlos = people
    assert signed_in(app, ana).get("/notifications/settings").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationSettings)) == 0
    assert frequency(app, ana) == "immediate"


# --- the API -----------------------------------------------------------------------------------------------------


def test_the_api_needs_a_signed_in_user(client):
    response = client.get("/api/v1/notifications")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    bad = client.get("/api/v1/notifications", headers={"Authorization": "Bearer cmt_nope"})
    assert bad.status_code == 401 and bad.get_json()["error"] == "invalid_token"


def test_the_api_lists_ones_notices_with_pages_and_the_unread_count(app, people):
    ana, beatriz, carlos = people
    ids = [add(app, ana, actor=beatriz, url=f"/cities/{n}") for n in range(5)]
    add(app, carlos, actor=beatriz)
    with app.app_context():
        services.mark_read(ana.id, ids[:2])
        db.session.commit()
        _token, plain = accounts.issue_api_token(db.session.get(User, ana.id), "script")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    page = client.get("/api/v1/notifications?per_page=2", headers=headers).get_json()
    assert (page["page"], page["pages"], page["total"], page["unread"]) == (1, 3, 5, 3)
    newest = page["items"][0]
    assert newest == {
        "id": ids[4],
        "kind": "reply",
        "text": "Beatriz Rocha replied in “Como publicar dados abertos?”",
        "url": "http://localhost/cities/4",
        "created_at": stored(app, ids[4]).created_at.isoformat(),
        "read": False,
    }
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$", newest["created_at"])
    last = client.get("/api/v1/notifications?per_page=2&page=3", headers=headers).get_json()
    assert [item["id"] for item in last["items"]] == [ids[0]] and last["items"][0]["read"] is True

    only_unread = client.get("/api/v1/notifications?unread=1", headers=headers).get_json()
    assert [item["id"] for item in only_unread["items"]] == ids[:1:-1]
    assert only_unread["total"] == 3 and only_unread["unread"] == 3
    assert client.get("/api/v1/notifications?unread=0", headers=headers).get_json()["total"] == 5


@pytest.mark.parametrize("query", ["unread=maybe", "page=0", "per_page=-1"])
def test_the_api_refuses_bad_parameters(app, people, query):
    ana, _beatriz, _carlos = people
    response = signed_in(app, ana).get(f"/api/v1/notifications?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request" and response.get_json()["message"]


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/notifications"]


# --- the badge ---------------------------------------------------------------------------------------------------


def test_the_header_badge_shows_the_unread_count(app, people, client):
    ana, beatriz, _carlos = people
    html = signed_in(app, ana).get("/").get_data(as_text=True)
    assert 'href="/notifications/"' in html
    assert re.search(r'<span class="notification-badge" id="notification-badge" hidden>', html), "hidden at 0"

    for _ in range(3):
        add(app, ana, actor=beatriz)
    html = signed_in(app, ana).get("/").get_data(as_text=True)
    assert re.search(r'<span class="notification-badge" id="notification-badge">', html)
    assert '<span class="notification-count" aria-hidden="true">3</span>' in html
    assert '<span class="visually-hidden notification-label">3 unread</span>' in html
    assert 'role="status"' in html

    assert "notification-badge" not in client.get("/").get_data(as_text=True), "visitors have no badge"
