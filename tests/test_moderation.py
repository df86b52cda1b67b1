"""Moderation: flags and their queue, hiding posts, locking, pinning and moving threads, and the log of it all."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from community.core.models import utcnow
from community.extensions import db
from community.threads.models import Flag, ModerationAction, Post, PostRevision, Thread, Vote
from tests.conftest import sends_to_login
from tests.threads_helpers import QUESTION, answer, ask, bearer, cast, moderation_log, question_of, sign_in

HIDDEN = "A moderator hid this post."
HIDDEN_FOR_MODERATORS = "Hidden from everyone but moderators."
OFFENSIVE = "Texto ofensivo que alguém denunciou"


@pytest.fixture
def people(make, framework):
    return cast(make)


@pytest.fixture
def flagged(app, people):
    """A thread with an answer by Carlos that two people reported; returns (thread id, answer id)."""
    thread_id, asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["other_city"]), thread_id, OFFENSIVE)
    for client, reason in ((asker, "Ofensivo"), (sign_in(app, people["colleague"]), "Fora do assunto")):
        assert client.post(f"/threads/posts/{answer_id}/flag", data={"reason": reason}).status_code == 302
    return thread_id, answer_id


def visitor(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def moderator(app, people, who="mentor"):
    return sign_in(app, people[who], language="en")


def flags(app):
    """(post id, reporter id, reason, resolved_by_id, resolved?) of every flag, oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Flag).order_by(Flag.id)).all()
        return [(f.post_id, f.user_id, f.reason, f.resolved_by_id, f.resolved_at is not None) for f in rows]


def stored_thread(app, thread_id):
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        return thread.practice_area.code, thread.locked, thread.pinned


def is_hidden(app, post_id):
    with app.app_context():
        return db.session.get(Post, post_id).hidden


# --- flags -----------------------------------------------------------------------------------------------------


def test_anyone_signed_in_flags_a_post_with_a_reason(app, people):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    reporter = sign_in(app, people["other_city"])
    assert reporter.get(f"/threads/posts/{answer_id}/flag").status_code == 200
    response = reporter.post(f"/threads/posts/{answer_id}/flag", data={"reason": "  Propaganda de empresa  "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/threads/{thread_id}#post-{answer_id}")
    question = question_of(app, thread_id)
    assert (
        sign_in(app, people["colleague"]).post(f"/threads/posts/{question}/flag", data={"reason": "x"}).status_code
        == 302
    )
    assert flags(app) == [
        (answer_id, people["other_city"].id, "Propaganda de empresa", None, False),
        (question, people["colleague"].id, "x", None, False),
    ]


@pytest.mark.parametrize("reason", ["", "   \n  ", "x" * 501])
def test_a_flag_needs_a_reason_of_at_most_500_characters(app, people, reason):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    reporter = sign_in(app, people["other_city"], language="en")
    response = reporter.post(f"/threads/posts/{answer_id}/flag", data={"reason": reason})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="reason-error"' in html or 'class="error"' in html
    if reason.strip():
        assert reason in html, "what was typed is kept"
    assert flags(app) == []


def test_a_reason_of_exactly_500_characters_is_accepted(app, people):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    assert (
        sign_in(app, people["other_city"])
        .post(f"/threads/posts/{answer_id}/flag", data={"reason": "r" * 500})
        .status_code
        == 302
    )
    assert flags(app)[0][2] == "r" * 500


def test_visitors_are_sent_to_sign_in_before_flagging(app, people):
    thread_id, _asker = ask(app, people["asker"])
    question = question_of(app, thread_id)
    url = f"/threads/posts/{question}/flag"
    assert sends_to_login(visitor(app).get(url), url)
    assert sends_to_login(visitor(app).post(url, data={"reason": "spam"}), url, "POST")
    assert flags(app) == []


def test_a_person_reports_a_post_once(app, people, flagged):
    _thread_id, answer_id = flagged
    asker = sign_in(app, people["asker"], language="en")
    page = asker.get(f"/threads/posts/{answer_id}/flag")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "You have already reported this post." in html and 'name="reason"' not in html
    again = asker.post(f"/threads/posts/{answer_id}/flag", data={"reason": "Ofensivo de novo"})
    assert again.status_code == 409
    assert "You have already reported this post." in again.get_data(as_text=True)
    assert [(user, reason) for _p, user, reason, _by, _r in flags(app)] == [
        (people["asker"].id, "Ofensivo"),
        (people["colleague"].id, "Fora do assunto"),
    ]


def test_a_dismissed_report_is_not_made_again_by_the_same_person(app, people, flagged):
    _thread_id, answer_id = flagged
    moderator(app, people).post(f"/threads/posts/{answer_id}/dismiss-flags")
    again = sign_in(app, people["colleague"], language="es").post(
        f"/threads/posts/{answer_id}/flag", data={"reason": "Sigue fuera de tema"}
    )
    assert again.status_code == 409
    assert "Ya reportaste esta publicación." in again.get_data(as_text=True)
    assert len(flags(app)) == 2


def test_the_database_holds_one_report_per_person_and_post(app, people, flagged):
    _thread_id, answer_id = flagged
    with app.app_context():
        db.session.add(Flag(post_id=answer_id, user_id=people["asker"].id, reason="por fora do serviço"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert len(flags(app)) == 2


# --- the queue -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mentor", "admin"])
def test_mentors_and_admins_see_the_flag_queue(app, people, flagged, who):
    html = moderator(app, people, who).get("/threads/moderation").get_data(as_text=True)
    assert "Ofensivo" in html and "Fora do assunto" in html
    assert "Rafael Recife" in html and "Beatriz Rocha" in html, "who reported"
    assert QUESTION["title"] in html and OFFENSIVE in html


def test_the_queue_is_empty_when_nothing_waits(app, people):
    assert "No reports waiting." in moderator(app, people).get("/threads/moderation").get_data(as_text=True)


def test_participants_may_not_see_the_queue_and_visitors_must_sign_in(app, people, flagged):
    for who in ("asker", "colleague", "other_city"):
        response = sign_in(app, people[who]).get("/threads/moderation")
        assert response.status_code == 403
        assert "Ofensivo" not in response.get_data(as_text=True)
    assert sends_to_login(visitor(app).get("/threads/moderation"), "/threads/moderation")


# --- hiding ----------------------------------------------------------------------------------------------------


def test_hiding_a_post_keeps_its_text_from_everyone_but_moderators_and_resolves_its_flags(app, people, flagged):
    thread_id, answer_id = flagged
    mentor = moderator(app, people)
    response = mentor.post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#post-{answer_id}")
    assert is_hidden(app, answer_id)
    assert [(post, resolved_by, resolved) for post, _user, _reason, resolved_by, resolved in flags(app)] == [
        (answer_id, people["mentor"].id, True),
        (answer_id, people["mentor"].id, True),
    ]
    assert "Ofensivo" not in mentor.get("/threads/moderation").get_data(as_text=True), "the queue is cleared"

    readers = [visitor(app)] + [sign_in(app, people[w], language="en") for w in ("asker", "other_city")]
    for reader in readers:
        html = reader.get(f"/threads/{thread_id}").get_data(as_text=True)
        assert HIDDEN in html and OFFENSIVE not in html
        assert f'id="post-{answer_id}"' in html, "the placeholder keeps its place"
    for who in ("mentor", "admin"):
        html = moderator(app, people, who).get(f"/threads/{thread_id}").get_data(as_text=True)
        assert OFFENSIVE in html and HIDDEN_FOR_MODERATORS in html


def test_a_hidden_post_does_not_leak_through_its_revisions_or_report_pages(app, people):
    thread_id, _asker = ask(app, people["asker"])
    author = sign_in(app, people["other_city"])
    answer_id = answer(author, thread_id, "primeira versão ofensiva")
    assert author.post(f"/threads/posts/{answer_id}/edit", data={"body": "segunda versão ofensiva"}).status_code == 302
    mentor = moderator(app, people)
    mentor.post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"})
    for reader in (visitor(app), sign_in(app, people["colleague"])):
        page = reader.get(f"/threads/posts/{answer_id}/revisions")
        assert page.status_code == 404 and "ofensiva" not in page.get_data(as_text=True)
    report = sign_in(app, people["colleague"]).get(f"/threads/posts/{answer_id}/flag")
    assert report.status_code == 404 and "ofensiva" not in report.get_data(as_text=True)
    revisions = mentor.get(f"/threads/posts/{answer_id}/revisions").get_data(as_text=True)
    assert "primeira versão ofensiva" in revisions and "segunda versão ofensiva" in revisions


def test_unhiding_shows_the_post_again(app, people, flagged):
    thread_id, answer_id = flagged
    mentor = moderator(app, people)
    mentor.post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"})
    assert (
        moderator(app, people, "admin").post(f"/threads/posts/{answer_id}/hide", data={"hidden": "0"}).status_code
        == 302
    )
    assert not is_hidden(app, answer_id)
    html = visitor(app).get(f"/threads/{thread_id}").get_data(as_text=True)
    assert OFFENSIVE in html and HIDDEN not in html
    assert [(actor, action, post) for actor, action, _t, post, _d, _at in moderation_log(app)] == [
        (people["mentor"].id, "hide", answer_id),
        (people["admin"].id, "unhide", answer_id),
    ]


def test_dismissing_flags_resolves_them_and_leaves_the_post(app, people, flagged):
    thread_id, answer_id = flagged
    mentor = moderator(app, people)
    response = mentor.post(f"/threads/posts/{answer_id}/dismiss-flags")
    assert response.status_code == 302 and response.headers["Location"].endswith("/threads/moderation")
    assert [(by, resolved) for _p, _u, _r, by, resolved in flags(app)] == [(people["mentor"].id, True)] * 2
    assert not is_hidden(app, answer_id)
    assert "No reports waiting." in mentor.get("/threads/moderation").get_data(as_text=True)
    assert OFFENSIVE in visitor(app).get(f"/threads/{thread_id}").get_data(as_text=True)
    assert [(a, action, t, p) for a, action, t, p, _d, _at in moderation_log(app)] == [
        (people["mentor"].id, "dismiss_flags", thread_id, answer_id)
    ]


def test_a_new_flag_after_dismissal_returns_to_the_queue(app, people, flagged):
    _thread_id, answer_id = flagged
    mentor = moderator(app, people)
    mentor.post(f"/threads/posts/{answer_id}/dismiss-flags")
    sign_in(app, people["admin"]).post(f"/threads/posts/{answer_id}/flag", data={"reason": "De novo ofensivo"})
    html = mentor.get("/threads/moderation").get_data(as_text=True)
    assert "De novo ofensivo" in html and "Fora do assunto" not in html


# --- locking ---------------------------------------------------------------------------------------------------


def test_a_locked_thread_refuses_participants_but_not_moderators(app, people):
    thread_id, asker = ask(app, people["asker"])
    own_answer = answer(asker, thread_id, "antes do bloqueio")
    mentor = moderator(app, people)
    assert mentor.post(f"/threads/{thread_id}/lock", data={"locked": "1"}).status_code == 302
    assert stored_thread(app, thread_id)[1] is True

    for who in ("asker", "colleague", "other_city"):
        client = sign_in(app, people[who])
        assert client.post(f"/threads/{thread_id}/posts", data={"body": "e agora?"}).status_code == 403
    assert asker.post(f"/threads/posts/{own_answer}/edit", data={"body": "editado"}).status_code == 403
    api = app.test_client().post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "x"}, headers=bearer(app, people["asker"])
    )
    assert api.status_code == 403
    page = sign_in(app, people["colleague"], language="en").get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "This thread is locked" in page and 'name="body"' not in page

    answer(mentor, thread_id, "Resumo final da mentora")
    answer(moderator(app, people, "admin"), thread_id, "Obrigada a todos")
    with app.app_context():
        assert db.session.get(Thread, thread_id).reply_count == 3
        assert db.session.get(Post, own_answer).body == "antes do bloqueio"


def test_a_locked_thread_refuses_edits_by_its_asker_too(app, people):
    thread_id, asker = ask(app, people["asker"])
    assert moderator(app, people).post(f"/threads/{thread_id}/lock", data={"locked": "1"}).status_code == 302
    asker = sign_in(app, people["asker"], language="en")
    assert asker.get(f"/threads/{thread_id}/edit").status_code == 403
    response = asker.post(f"/threads/{thread_id}/edit", data={**QUESTION, "title": "Trocado depois do bloqueio"})
    assert response.status_code == 403
    assert "This thread is locked; only moderators can change it." in response.get_data(as_text=True)
    question = question_of(app, thread_id)
    assert asker.get(f"/threads/posts/{question}/edit").status_code == 302, "the question is edited with the thread"
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert thread.title == QUESTION["title"] and thread.question.revision_count == 0
    html = asker.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert f"/threads/{thread_id}/edit" not in html and "Edit the question" not in html


def test_a_moderator_who_asked_still_edits_a_locked_thread(app, people):
    thread_id, mentor = ask(app, people["mentor"])
    assert mentor.post(f"/threads/{thread_id}/lock", data={"locked": "1"}).status_code == 302
    assert mentor.get(f"/threads/{thread_id}/edit").status_code == 200
    response = mentor.post(f"/threads/{thread_id}/edit", data={**QUESTION, "title": "Resumo da discussão"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Thread, thread_id).title == "Resumo da discussão"


def test_unlocking_lets_participants_reply_again(app, people):
    thread_id, asker = ask(app, people["asker"])
    mentor = moderator(app, people)
    mentor.post(f"/threads/{thread_id}/lock", data={"locked": "1"})
    mentor.post(f"/threads/{thread_id}/lock", data={"locked": "0"})
    assert stored_thread(app, thread_id)[1] is False
    answer(asker, thread_id, "Posso responder de novo")
    assert [action for _a, action, _t, _p, _d, _at in moderation_log(app)] == ["lock", "unlock"]


# --- pinning ---------------------------------------------------------------------------------------------------


def listed_ids(client, query=""):
    return [item["id"] for item in client.get(f"/api/v1/threads{query}").get_json()["items"]]


def test_a_pinned_thread_comes_first_in_the_default_list(app, people):
    oldest, _ = ask(app, people["asker"], title="Pergunta antiga fixada")
    middle, _ = ask(app, people["colleague"], title="Pergunta do meio")
    newest, _ = ask(app, people["other_city"], title="Pergunta nova")
    mentor = moderator(app, people)
    assert mentor.post(f"/threads/{oldest}/pin", data={"pinned": "1"}).status_code == 302
    assert stored_thread(app, oldest)[2] is True
    reader = visitor(app)
    assert listed_ids(reader) == [oldest, newest, middle]
    assert listed_ids(reader, "?sort=newest") == [newest, middle, oldest], "other sorts ignore the pin"
    html = reader.get("/threads/").get_data(as_text=True)
    assert html.index("Pergunta antiga fixada") < html.index("Pergunta nova") < html.index("Pergunta do meio")
    assert "Pinned" in html

    mentor.post(f"/threads/{oldest}/pin", data={"pinned": "0"})
    assert listed_ids(reader) == [newest, middle, oldest]
    assert [action for _a, action, _t, _p, _d, _at in moderation_log(app)] == ["pin", "unpin"]


# --- moving ----------------------------------------------------------------------------------------------------


def test_moving_a_thread_changes_its_practice_area(app, people):
    thread_id, _asker = ask(app, people["asker"])
    response = moderator(app, people).post(f"/threads/{thread_id}/move", data={"practice_area": "OD"})
    assert response.status_code == 302
    assert stored_thread(app, thread_id)[0] == "OD"
    reader = visitor(app)
    assert listed_ids(reader, "?practice_area=OD") == [thread_id]
    assert listed_ids(reader, "?practice_area=DM") == []
    assert [(a, action, t, detail) for a, action, t, _p, detail, _at in moderation_log(app)] == [
        (people["mentor"].id, "move", thread_id, "DM → OD")
    ]


@pytest.mark.parametrize("area", ["XX", "", "od ", "DM2"])
def test_moving_to_an_unknown_area_is_400_and_changes_nothing(app, people, area):
    thread_id, _asker = ask(app, people["asker"])
    response = moderator(app, people).post(f"/threads/{thread_id}/move", data={"practice_area": area})
    assert response.status_code == 400
    assert stored_thread(app, thread_id)[0] == "DM"
    assert moderation_log(app) == []


# --- the log ---------------------------------------------------------------------------------------------------


def test_the_log_records_who_did_what_and_when(app, people, flagged):
    thread_id, answer_id = flagged
    mentor, admin = moderator(app, people), moderator(app, people, "admin")
    started = utcnow()
    mentor.post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"})
    admin.post(f"/threads/{thread_id}/lock", data={"locked": "1"})
    mentor.post(f"/threads/{thread_id}/pin", data={"pinned": "1"})
    admin.post(f"/threads/{thread_id}/move", data={"practice_area": "EVAL"})
    finished = utcnow()
    log = moderation_log(app)
    assert [(actor, action, thread, post) for actor, action, thread, post, _d, _at in log] == [
        (people["mentor"].id, "hide", thread_id, answer_id),
        (people["admin"].id, "lock", thread_id, None),
        (people["mentor"].id, "pin", thread_id, None),
        (people["admin"].id, "move", thread_id, None),
    ]
    times = [at for *_rest, at in log]
    assert times == sorted(times)
    assert all(started - timedelta(seconds=1) <= at <= finished + timedelta(seconds=1) for at in times)
    assert all(at.utcoffset() == timedelta(0) for at in times), "stored in UTC"

    html = mentor.get("/threads/moderation").get_data(as_text=True)
    assert "Helena Duarte" in html and "Equipe" in html
    assert "DM → EVAL" in html and QUESTION["title"] in html
    assert html.count("<time") >= 4


# --- who may moderate ------------------------------------------------------------------------------------------


MODERATION_ROUTES = [
    ("/threads/posts/{answer}/hide", {"hidden": "1"}),
    ("/threads/posts/{answer}/hide", {"hidden": "0"}),
    ("/threads/posts/{answer}/dismiss-flags", {}),
    ("/threads/{thread}/lock", {"locked": "1"}),
    ("/threads/{thread}/pin", {"pinned": "1"}),
    ("/threads/{thread}/move", {"practice_area": "OD"}),
]


@pytest.mark.parametrize(("url", "data"), MODERATION_ROUTES)
def test_participants_get_403_from_every_moderation_route(app, people, flagged, url, data):
    thread_id, answer_id = flagged
    url = url.format(thread=thread_id, answer=answer_id)
    for who in ("asker", "colleague", "other_city"):
        assert sign_in(app, people[who]).post(url, data=data).status_code == 403
    assert sends_to_login(visitor(app).post(url, data=data), url, "POST")
    assert moderation_log(app) == []
    assert stored_thread(app, thread_id) == ("DM", False, False)
    assert not is_hidden(app, answer_id)
    assert all(not resolved for *_rest, resolved in flags(app))


def test_moderation_routes_answer_404_for_unknown_ids(app, people):
    mentor = moderator(app, people)
    for url in ("/threads/posts/999/hide", "/threads/posts/999/dismiss-flags", "/threads/999/lock", "/threads/999/pin"):
        assert mentor.post(url).status_code == 404
    assert mentor.post("/threads/999/move", data={"practice_area": "OD"}).status_code == 404
    assert moderation_log(app) == []


# --- what a deleted reply leaves behind ---------------------------------------------------------------------------


def test_a_deleted_reply_takes_its_votes_revisions_and_reports_along(app, people, flagged):
    """The database's own ON DELETE rules do it, on SQLite as on PostgreSQL: SQLite enforces foreign keys too."""
    thread_id, answer_id = flagged
    author = sign_in(app, people["other_city"])
    assert author.post(f"/threads/posts/{answer_id}/edit", data={"body": "Texto revisto"}).status_code == 302
    assert sign_in(app, people["mentor"]).post(f"/threads/posts/{answer_id}/vote").status_code == 302
    moderator(app, people).post(f"/threads/posts/{answer_id}/dismiss-flags")
    assert author.post(f"/threads/posts/{answer_id}/delete").status_code == 302
    with app.app_context():
        for model in (Flag, PostRevision, Vote):
            left = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.post_id == answer_id))
            assert left == 0, model.__name__
        log = db.session.scalars(sa.select(ModerationAction).where(ModerationAction.thread_id == thread_id)).all()
        assert [(entry.action, entry.post_id) for entry in log] == [("dismiss_flags", None)], "the log stays"


def test_a_row_naming_a_missing_post_is_refused(app, people):
    with app.app_context():
        db.session.add(Vote(post_id=987654, user_id=people["asker"].id))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
