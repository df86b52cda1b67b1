"""Threads: asking, answering, commenting, editing with revisions, deleting, voting and accepting answers."""

import pytest
import sqlalchemy as sa

from community.extensions import db
from community.threads.models import Post, PostRevision, Thread, Vote
from tests.threads_helpers import QUESTION, answer, ask, cast, sign_in


@pytest.fixture
def people(make, framework):
    return cast(make)


def test_asking_stores_the_thread_with_its_city_area_criteria_and_tags(app, people):
    thread_id, client = ask(app, people["asker"])
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert thread.title == QUESTION["title"]
        assert thread.city.slug == "recife"
        assert thread.practice_area.code == "DM"
        assert [c.code for c in thread.criteria] == ["DM1", "DM2"]
        assert [t.name for t in thread.tags] == ["governanca", "inventario"]
        assert "<strong>planilha</strong>" in thread.question.body_html
    page = client.get(f"/threads/{thread_id}")
    assert page.status_code == 200
    assert "Recife" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": ""}, "body"),
        ({"body": "x" * 50_001}, "body"),
        ({"practice_area": "XX"}, "practice_area"),
        ({"practice_area": ""}, "practice_area"),
        ({"criteria": ["ZZ9"]}, "criteria"),
        ({"tags": "ok, !!!"}, "tags"),
        ({"tags": "a1, b2, c3, d4, e5, f6"}, "tags"),
        ({"visibility": "secret"}, "visibility"),
    ],
)
def test_asking_refuses_bad_input_and_keeps_the_text(app, people, fields, field):
    client = sign_in(app, people["asker"])
    response = client.post("/threads/new", data={**QUESTION, **fields}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html or 'class="error"' in html
    if "title" not in fields:
        assert QUESTION["title"] in html, "what was typed is kept"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 0


def test_visitors_cannot_ask(client, people):
    response = client.post("/threads/new", data=QUESTION)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_answers_and_comments_count_and_show(app, people):
    thread_id, _asker = ask(app, people["asker"])
    mentor = sign_in(app, people["mentor"])
    answer_id = answer(mentor, thread_id)
    comment_id = answer(sign_in(app, people["other_city"]), thread_id, "Boa ideia!", parent_id=str(answer_id))
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert thread.reply_count == 2
        assert db.session.get(Post, comment_id).parent_id == answer_id
    html = mentor.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert f'id="post-{answer_id}"' in html and f'id="post-{comment_id}"' in html


def test_a_comment_cannot_hang_under_a_comment_or_another_thread(app, people):
    thread_id, asker = ask(app, people["asker"])
    other_thread, _ = ask(app, people["other_city"], title="Outra pergunta")
    answer_id = answer(asker, thread_id)
    comment_id = answer(asker, thread_id, "um comentário", parent_id=str(answer_id))
    assert (
        asker.post(f"/threads/{thread_id}/posts", data={"body": "x", "parent_id": str(comment_id)}).status_code == 400
    )
    assert (
        asker.post(f"/threads/{other_thread}/posts", data={"body": "x", "parent_id": str(answer_id)}).status_code == 400
    )
    assert asker.post(f"/threads/{thread_id}/posts", data={"body": "x", "parent_id": "abc"}).status_code == 400


def test_an_empty_reply_is_refused_with_the_thread_shown_again(app, people):
    thread_id, asker = ask(app, people["asker"])
    response = asker.post(f"/threads/{thread_id}/posts", data={"body": "   "})
    assert response.status_code == 400
    assert QUESTION["title"] in response.get_data(as_text=True)


def test_editing_keeps_every_revision_for_everyone_to_see(app, people):
    thread_id, asker = ask(app, people["asker"])
    answer_id = answer(asker, thread_id, "primeira versão")
    assert asker.post(f"/threads/posts/{answer_id}/edit", data={"body": "segunda versão"}).status_code == 302
    assert asker.post(f"/threads/posts/{answer_id}/edit", data={"body": "terceira versão"}).status_code == 302
    with app.app_context():
        bodies = db.session.scalars(sa.select(PostRevision.body).where(PostRevision.post_id == answer_id)).all()
        assert sorted(bodies) == ["primeira versão", "segunda versão"]
        assert db.session.get(Post, answer_id).revision_count == 2
    visitor = app.test_client().get(f"/threads/posts/{answer_id}/revisions")
    assert visitor.status_code == 200
    text = visitor.get_data(as_text=True)
    assert "primeira versão" in text and "segunda versão" in text and "terceira versão" in text


def test_only_the_author_edits_a_post(app, people):
    thread_id, asker = ask(app, people["asker"])
    answer_id = answer(asker, thread_id)
    for who in ("colleague", "mentor", "admin"):
        client = sign_in(app, people[who])
        assert client.post(f"/threads/posts/{answer_id}/edit", data={"body": "hijack"}).status_code == 403
        assert client.post(f"/threads/{thread_id}/edit", data={**QUESTION, "title": "hijack"}).status_code == 403
    with app.app_context():
        assert db.session.get(Post, answer_id).body != "hijack"


def test_a_reply_is_deleted_by_its_author_only_while_nothing_hangs_under_it(app, people):
    thread_id, asker = ask(app, people["asker"])
    mentor = sign_in(app, people["mentor"])
    lonely = answer(mentor, thread_id, "vou apagar")
    commented = answer(mentor, thread_id, "tem comentário")
    answer(asker, thread_id, "comentário", parent_id=str(commented))
    assert asker.post(f"/threads/posts/{lonely}/delete").status_code == 403, "not the author"
    assert mentor.post(f"/threads/posts/{commented}/delete").status_code == 403, "a comment hangs under it"
    assert mentor.post(f"/threads/posts/{lonely}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Post, lonely) is None
        assert db.session.get(Post, commented) is not None
        assert db.session.get(Thread, thread_id).reply_count == 2
        question_id = db.session.get(Thread, thread_id).question_id
    assert asker.post(f"/threads/posts/{question_id}/delete").status_code == 403, "the question stays"


def test_voting_toggles_once_per_person_and_never_for_oneself(app, people):
    thread_id, asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    colleague = sign_in(app, people["colleague"])
    assert colleague.post(f"/threads/posts/{answer_id}/vote").status_code == 302
    assert asker.post(f"/threads/posts/{answer_id}/vote").status_code == 302
    with app.app_context():
        assert db.session.get(Post, answer_id).score == 2
    assert colleague.post(f"/threads/posts/{answer_id}/vote").status_code == 302
    with app.app_context():
        assert db.session.get(Post, answer_id).score == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    mentor = sign_in(app, people["mentor"])
    assert mentor.post(f"/threads/posts/{answer_id}/vote").status_code == 403


def test_question_votes_rank_the_thread(app, people):
    thread_id, _asker = ask(app, people["asker"])
    with app.app_context():
        question_id = db.session.get(Thread, thread_id).question_id
    sign_in(app, people["mentor"]).post(f"/threads/posts/{question_id}/vote")
    with app.app_context():
        assert db.session.get(Thread, thread_id).score == 1


@pytest.mark.parametrize(
    ("who", "may"), [("asker", True), ("colleague", True), ("mentor", True), ("admin", True), ("other_city", False)]
)
def test_who_may_accept_an_answer(app, people, who, may):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["other_city"] if who != "other_city" else people["mentor"]), thread_id)
    response = sign_in(app, people[who]).post(f"/threads/posts/{answer_id}/accept")
    assert response.status_code == (302 if may else 403)
    with app.app_context():
        assert (db.session.get(Thread, thread_id).accepted_post_id == answer_id) is may


def test_the_accepted_answer_shows_first_and_one_at_a_time(app, people):
    thread_id, asker = ask(app, people["asker"])
    mentor = sign_in(app, people["mentor"])
    first = answer(mentor, thread_id, "primeira resposta")
    second = answer(sign_in(app, people["other_city"]), thread_id, "segunda resposta")
    asker.post(f"/threads/posts/{second}/accept")
    html = asker.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert html.index(f'id="post-{second}"') < html.index(f'id="post-{first}"')
    asker.post(f"/threads/posts/{first}/accept")
    with app.app_context():
        assert db.session.get(Thread, thread_id).accepted_post_id == first
    asker.post(f"/threads/posts/{first}/accept")
    with app.app_context():
        assert db.session.get(Thread, thread_id).accepted_post_id is None, "accepting again unmarks"


def test_only_answers_can_be_accepted(app, people):
    thread_id, asker = ask(app, people["asker"])
    with app.app_context():
        question_id = db.session.get(Thread, thread_id).question_id
    assert asker.post(f"/threads/posts/{question_id}/accept").status_code == 400


def test_members_only_threads_are_hidden_from_visitors(app, people):
    thread_id, _asker = ask(app, people["asker"], visibility="members", title="Só para membros")
    visitor = app.test_client()
    assert visitor.get(f"/threads/{thread_id}").status_code == 404
    assert "Só para membros" not in visitor.get("/threads/").get_data(as_text=True)
    assert visitor.get(f"/api/v1/threads/{thread_id}").status_code == 404
    assert all(item["id"] != thread_id for item in visitor.get("/api/v1/threads").get_json()["items"])
    member = sign_in(app, people["other_city"])
    assert member.get(f"/threads/{thread_id}").status_code == 200
    assert "Só para membros" in member.get("/threads/").get_data(as_text=True)
