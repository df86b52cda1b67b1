"""The threads API: asking, reading, replying, voting and accepting; filters, sorts and pages; auth, CSRF and errors."""

import pytest
import sqlalchemy as sa

from community.extensions import db
from community.threads.models import Flag, Post, Thread, Vote
from tests.threads_helpers import (
    QUESTION,
    answer,
    ask,
    bearer,
    cast,
    question_of,
    sign_in,
    sign_in_with_csrf,
    thread_count,
)

API = "/api/v1"
ASK = {**QUESTION, "tags": ["inventario", "governanca"]}
SITE = "http://localhost/"


@pytest.fixture
def people(make, framework):
    return cast(make)


@pytest.fixture
def api(app):
    """A client without cookies, as a script calling the API with a token would be."""
    return app.test_client()


def ask_api(api, headers, **fields):
    response = api.post(f"{API}/threads", json={**ASK, **fields}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def reply_api(api, headers, thread_id, body="Publicamos num portal próprio.", parent_id=None):
    payload = {"body": body} if parent_id is None else {"body": body, "parent_id": parent_id}
    response = api.post(f"{API}/threads/{thread_id}/posts", json=payload, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def post_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Post.id)))


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"] == code and body["message"], body
    return body


# --- asking ----------------------------------------------------------------------------------------------------


def test_asking_with_a_token_stores_the_thread_and_answers_it_with_its_url(app, api, people):
    response = api.post(f"{API}/threads", json=ASK, headers=bearer(app, people["asker"]))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/threads/{body['id']}")
    assert body["title"] == ASK["title"]
    assert body["practice_area"] == "DM"
    assert body["criteria"] == ["DM1", "DM2"]
    assert body["tags"] == ["governanca", "inventario"]
    assert body["visibility"] == "public"
    assert body["city"] == "recife", "the asker's city"
    assert body["author"]["handle"] == people["asker"].handle
    assert (body["reply_count"], body["score"], body["answered"], body["accepted_post_id"]) == (0, 0, False, None)
    assert body["url"] == f"{SITE}threads/{body['id']}"
    with app.app_context():
        thread = db.session.get(Thread, body["id"])
        assert "<strong>planilha</strong>" in thread.question.body_html


def test_the_longest_title_and_body_are_accepted(app, api, people):
    headers = bearer(app, people["asker"])
    thread_id = ask_api(api, headers, title="t" * 200, body="b" * 50_000, criteria=[], tags=[])
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert len(thread.title) == 200 and len(thread.question.body) == 50_000


def test_criteria_and_tags_may_also_come_as_text(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]), criteria="dm2, pa2", tags="Orçamento Aberto")
    thread = api.get(f"{API}/threads/{thread_id}").get_json()
    assert thread["criteria"] == ["DM2", "PA2"]
    assert thread["tags"] == ["aberto", "orcamento"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 42}, "title"),
        ({"body": ""}, "body"),
        ({"body": "x" * 50_001}, "body"),
        ({"body": ["a list"]}, "body"),
        ({"practice_area": "XX"}, "practice_area"),
        ({"practice_area": None}, "practice_area"),
        ({"practice_area": ["DM"]}, "practice_area"),
        ({"criteria": ["ZZ9"]}, "criteria"),
        ({"criteria": ["DM1", "ZZ9"]}, "criteria"),
        ({"criteria": 5}, "criteria"),
        ({"criteria": [5]}, "criteria"),
        ({"criteria": {"DM1": True}}, "criteria"),
        ({"tags": ["ok", "!!!"]}, "tags"),
        ({"tags": ["a1", "b2", "c3", "d4", "e5", "f6"]}, "tags"),
        ({"tags": 7}, "tags"),
        ({"tags": [["nested"]]}, "tags"),
        ({"visibility": "secret"}, "visibility"),
        ({"visibility": None}, "visibility"),
        ({"visibility": ["public"]}, "visibility"),
        ({"visibility": {"public": 1}}, "visibility"),
    ],
)
def test_asking_refuses_bad_input_with_422_naming_the_field(app, api, people, fields, field):
    response = api.post(f"{API}/threads", json={**ASK, **fields}, headers=bearer(app, people["asker"]))
    body = assert_error(response, 422, "invalid")
    assert body["message"] == "Some fields are not valid."
    assert isinstance(body["fields"][field], str) and body["fields"][field]
    assert thread_count(app) == 0 and post_count(app) == 0, "nothing half-written"


def test_every_refused_field_is_named_at_once(app, api, people):
    bad = {"title": "", "body": "", "practice_area": "XX", "criteria": ["ZZ9"], "tags": ["!!!"], "visibility": "x"}
    body = assert_error(api.post(f"{API}/threads", json=bad, headers=bearer(app, people["asker"])), 422, "invalid")
    assert set(body["fields"]) == {"title", "body", "practice_area", "criteria", "tags", "visibility"}
    assert body["fields"]["title"] == "Give your question a title."


def test_nul_characters_are_refused_rather_than_breaking_the_database(app, api, people):
    headers = bearer(app, people["asker"])
    response = api.post(f"{API}/threads", json={**ASK, "title": "Dados\x00 abertos"}, headers=headers)
    assert_error(response, 400, "bad_request")
    assert thread_count(app) == 0


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": ASK}, 415, "unsupported_media_type"),
        ({"data": "{}", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": "not json", "content_type": "application/json"}, 400, "bad_request"),
        ({"json": ["a", "list"]}, 400, "bad_request"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(app, api, people, kwargs, status, code):
    headers = bearer(app, people["asker"])
    thread_id = ask_api(api, headers)
    for url in (f"{API}/threads", f"{API}/threads/{thread_id}/posts"):
        assert_error(api.post(url, headers=headers, **kwargs), status, code)
    assert thread_count(app) == 1 and post_count(app) == 1


# --- who may do what -------------------------------------------------------------------------------------------


def test_visitors_may_read_but_every_write_is_401(app, api, people):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    assert api.get(f"{API}/threads").status_code == 200
    assert api.get(f"{API}/threads/{thread_id}").status_code == 200
    for url, payload in [
        (f"{API}/threads", ASK),
        (f"{API}/threads/{thread_id}/posts", {"body": "oi"}),
        (f"{API}/posts/{answer_id}/vote", None),
        (f"{API}/posts/{answer_id}/accept", None),
    ]:
        assert_error(api.post(url, json=payload), 401, "unauthorized")
    assert_error(api.get(f"{API}/notifications"), 401, "unauthorized")
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert (thread.reply_count, thread.accepted_post_id) == (1, None)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_a_bad_or_revoked_token_is_401_invalid_token(app, api, people):
    headers = {"Authorization": "Bearer cmt_not-a-token", "Accept-Language": "en"}
    assert_error(api.post(f"{API}/threads", json=ASK, headers=headers), 401, "invalid_token")
    assert thread_count(app) == 0


@pytest.mark.parametrize("status", ["mine", "following"])
def test_mine_and_following_need_a_signed_in_caller(app, api, people, status):
    assert_error(api.get(f"{API}/threads?status={status}"), 401, "unauthorized")
    assert api.get(f"{API}/threads?status={status}", headers=bearer(app, people["asker"])).status_code == 200


@pytest.mark.parametrize("query", ["status=open", "sort=oldest", "status=MINE"])
def test_unknown_status_or_sort_is_422(app, api, people, query):
    body = assert_error(api.get(f"{API}/threads?{query}", headers={"Accept-Language": "en"}), 422, "invalid")
    assert set(body["fields"]) <= {"status", "sort"} and body["fields"]


def test_members_only_threads_need_a_signed_in_caller(app, api, people):
    headers = bearer(app, people["asker"])
    thread_id = ask_api(api, headers, visibility="members", title="Só para membros")
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id)
    assert_error(api.get(f"{API}/threads/{thread_id}"), 404, "not_found")
    assert thread_id not in ids(api.get(f"{API}/threads"))
    assert thread_id not in ids(api.get(f"{API}/threads?practice_area=DM&criterion=DM1&tag=inventario&city=recife"))
    for url in (f"{API}/threads/{thread_id}/posts", f"{API}/posts/{answer_id}/vote", f"{API}/posts/{answer_id}/accept"):
        assert api.post(url, json={"body": "oi"}).status_code == 401
    member = bearer(app, people["other_city"])
    assert api.get(f"{API}/threads/{thread_id}", headers=member).get_json()["visibility"] == "members"
    assert thread_id in ids(api.get(f"{API}/threads", headers=member))


def test_unknown_ids_are_404(app, api, people):
    headers = bearer(app, people["asker"])
    assert_error(api.get(f"{API}/threads/999"), 404, "not_found")
    assert_error(api.post(f"{API}/threads/999/posts", json={"body": "oi"}, headers=headers), 404, "not_found")
    assert_error(api.post(f"{API}/posts/999/vote", headers=headers), 404, "not_found")
    assert_error(api.post(f"{API}/posts/999/accept", headers=headers), 404, "not_found")


# --- cookies and CSRF ------------------------------------------------------------------------------------------


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_cookie_writes_without_the_csrf_header_are_refused(app, people):
    thread_id, _asker = ask_csrf_thread(app, people)
    client, token = sign_in_with_csrf(app, people["mentor"])
    answer_id = reply_api(client, {"X-CSRFToken": token}, thread_id)
    question_id = question_of(app, thread_id)
    for url, payload in [
        (f"{API}/threads", ASK),
        (f"{API}/threads/{thread_id}/posts", {"body": "sem token"}),
        (f"{API}/posts/{question_id}/vote", None),
        (f"{API}/posts/{answer_id}/accept", None),
    ]:
        assert_error(client.post(url, json=payload), 400, "csrf_failed")
        assert_error(client.post(url, json=payload, headers={"X-CSRFToken": "forged"}), 400, "csrf_failed")
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert (thread.reply_count, thread.score, thread.accepted_post_id) == (1, 0, None)
    assert thread_count(app) == 1


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_cookie_writes_with_the_csrf_header_work_like_token_ones(app, people):
    thread_id, _asker = ask_csrf_thread(app, people)
    client, token = sign_in_with_csrf(app, people["mentor"])
    csrf = {"X-CSRFToken": token}
    answer_id = reply_api(client, csrf, thread_id)
    vote = client.post(f"{API}/posts/{question_of(app, thread_id)}/vote", headers=csrf)
    assert vote.status_code == 200 and vote.get_json()["score"] == 1
    accept = client.post(f"{API}/posts/{answer_id}/accept", headers=csrf)
    assert accept.status_code == 200 and accept.get_json()["accepted_post_id"] == answer_id
    new_id = ask_api(client, csrf, title="Pergunta pelo navegador")
    assert ids(client.get(f"{API}/threads?status=mine")) == [new_id], "reads need no header"


def ask_csrf_thread(app, people):
    client, token = sign_in_with_csrf(app, people["asker"])
    return ask_api(client, {"X-CSRFToken": token}), client


# --- reading a thread ------------------------------------------------------------------------------------------


def test_a_thread_lists_question_accepted_answer_then_answers_by_votes_with_comments_under_each(app, api, people):
    asker = bearer(app, people["asker"])
    thread_id = ask_api(api, asker)
    first = reply_api(api, bearer(app, people["mentor"]), thread_id, "primeira")
    second = reply_api(api, bearer(app, people["other_city"]), thread_id, "segunda")
    third = reply_api(api, bearer(app, people["admin"]), thread_id, "terceira")
    comment = reply_api(api, asker, thread_id, "comentário na primeira", parent_id=first)
    assert api.post(f"{API}/posts/{third}/vote", headers=bearer(app, people["colleague"])).status_code == 200
    assert api.post(f"{API}/posts/{second}/accept", headers=asker).status_code == 200

    body = api.get(f"{API}/threads/{thread_id}").get_json()
    order = [(post["id"], post["kind"]) for post in body["posts"]]
    question = question_of(app, thread_id)
    assert order == [(question, "question"), (second, "answer"), (third, "answer"), (first, "answer"),
                     (comment, "comment")]  # fmt: skip
    assert body["accepted_post_id"] == second and body["answered"] is True
    assert body["reply_count"] == 4
    posts = {post["id"]: post for post in body["posts"]}
    assert posts[second]["accepted"] is True and posts[first]["accepted"] is False
    assert posts[third]["score"] == 1
    assert posts[comment]["parent_id"] == first
    assert body["url"] == f"{SITE}threads/{thread_id}"
    for post in body["posts"]:
        assert post["url"] == f"{SITE}threads/{thread_id}#post-{post['id']}"


def test_posts_hidden_by_a_moderator_have_no_body_except_for_moderators(app, api, people):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["other_city"]), thread_id, "texto ofensivo")
    mentor = sign_in(app, people["mentor"])
    assert mentor.post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"}).status_code == 302
    assert mentor.post(f"/threads/posts/{question_of(app, thread_id)}/hide", data={"hidden": "1"}).status_code == 302

    def posts(headers=None):
        return {p["id"]: p for p in api.get(f"{API}/threads/{thread_id}", headers=headers).get_json()["posts"]}

    for reader in (None, bearer(app, people["colleague"]), bearer(app, people["other_city"])):
        for post in posts(reader).values():
            assert post["hidden"] is True
            assert post["body"] is None and post["body_html"] is None
            assert post["url"]
    for moderator in (bearer(app, people["mentor"]), bearer(app, people["admin"])):
        assert posts(moderator)[answer_id]["body"] == "texto ofensivo"


# --- replying --------------------------------------------------------------------------------------------------


def test_answers_and_comments_are_posted_and_counted(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    mentor = bearer(app, people["mentor"])
    response = api.post(f"{API}/threads/{thread_id}/posts", json={"body": "Use **metadados**."}, headers=mentor)
    assert response.status_code == 201
    posted = response.get_json()
    assert posted["kind"] == "answer" and posted["parent_id"] is None
    assert "<strong>metadados</strong>" in posted["body_html"]
    assert posted["url"] == f"{SITE}threads/{thread_id}#post-{posted['id']}"
    comment = api.post(
        f"{API}/threads/{thread_id}/posts", json={"body": "Obrigada!", "parent_id": posted["id"]},
        headers=bearer(app, people["asker"]),
    ).get_json()  # fmt: skip
    assert comment["kind"] == "comment" and comment["parent_id"] == posted["id"]
    thread = api.get(f"{API}/threads/{thread_id}").get_json()
    assert thread["reply_count"] == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({}, "body"),
        ({"body": 12}, "body"),
        ({"body": "x" * 50_001}, "body"),
        ({"body": "oi", "parent_id": "PARENT"}, "parent_id"),
        ({"body": "oi", "parent_id": True}, "parent_id"),
        ({"body": "oi", "parent_id": 1.5}, "parent_id"),
        ({"body": "oi", "parent_id": 999}, "parent_id"),
        ({"body": "oi", "parent_id": 10**30}, "parent_id"),
        ({"body": "oi", "parent_id": "COMMENT"}, "parent"),
        ({"body": "oi", "parent_id": "OTHER"}, "parent_id"),
    ],
)
def test_bad_replies_are_422_and_store_nothing(app, api, people, payload, field):
    asker = bearer(app, people["asker"])
    thread_id = ask_api(api, asker)
    other_thread = ask_api(api, bearer(app, people["other_city"]), title="Outra pergunta")
    answer_id = reply_api(api, asker, thread_id)
    comment_id = reply_api(api, asker, thread_id, "comentário", parent_id=answer_id)
    stand_ins = {"PARENT": str(answer_id), "COMMENT": comment_id, "OTHER": question_of(app, other_thread)}
    if payload.get("parent_id") in stand_ins:
        payload = {**payload, "parent_id": stand_ins[payload["parent_id"]]}
    before = post_count(app)
    response = api.post(f"{API}/threads/{thread_id}/posts", json=payload, headers=bearer(app, people["mentor"]))
    assert field in assert_error(response, 422, "invalid")["fields"]
    assert post_count(app) == before
    with app.app_context():
        assert db.session.get(Thread, thread_id).reply_count == 2


@pytest.mark.parametrize("parent_id", ["²", "٣", "9" * 30, "-1", "0", " 1", "1e3"])
def test_the_reply_page_refuses_parent_ids_that_cannot_name_a_post(app, people, parent_id):
    thread_id, asker = ask(app, people["asker"])
    response = asker.post(f"/threads/{thread_id}/posts", data={"body": "comentário", "parent_id": parent_id})
    assert response.status_code == 400
    assert post_count(app) == 1


def test_a_locked_thread_refuses_participants_403_but_takes_moderators_replies(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    assert sign_in(app, people["mentor"]).post(f"/threads/{thread_id}/lock", data={"locked": "1"}).status_code == 302
    for who in ("asker", "colleague"):
        response = api.post(
            f"{API}/threads/{thread_id}/posts", json={"body": "ainda?"}, headers=bearer(app, people[who])
        )
        assert_error(response, 403, "forbidden")
    assert post_count(app) == 1
    reply_api(api, bearer(app, people["mentor"]), thread_id, "Encerrando com um resumo.")
    reply_api(api, bearer(app, people["admin"]), thread_id, "Obrigada a todos.")


# --- editing ---------------------------------------------------------------------------------------------------


def test_the_author_edits_a_post_and_its_old_text_is_kept(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id, "Primeira versão")
    response = api.patch(
        f"{API}/posts/{answer_id}", json={"body": "Versão **corrigida**"}, headers=bearer(app, people["mentor"])
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["body"], body["body_html"]) == (
        answer_id,
        "Versão **corrigida**",
        "<p>Versão <strong>corrigida</strong></p>",
    )
    assert body["edited_at"] is not None
    with app.app_context():
        assert db.session.get(Post, answer_id).revision_count == 1


def test_only_the_author_edits_and_only_with_text(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id, "Original")
    url = f"{API}/posts/{answer_id}"
    assert_error(api.patch(url, json={"body": "x"}), 401, "unauthorized")
    for who in ("asker", "admin"):
        assert_error(api.patch(url, json={"body": "x"}, headers=bearer(app, people[who])), 403, "forbidden")
    for payload in ({}, {"body": "   "}, {"body": 5}, {"body": "x" * 50_001}):
        body = assert_error(api.patch(url, json=payload, headers=bearer(app, people["mentor"])), 422, "invalid")
        assert set(body["fields"]) == {"body"}
    assert_error(
        api.patch(f"{API}/posts/999999", json={"body": "x"}, headers=bearer(app, people["mentor"])), 404, "not_found"
    )
    with app.app_context():
        assert db.session.get(Post, answer_id).body == "Original"


def test_a_locked_thread_refuses_edits_in_the_api_by_its_asker_too(app, api, people):
    asker = bearer(app, people["asker"])
    thread_id = ask_api(api, asker)
    own_answer = reply_api(api, asker, thread_id, "Minha resposta")
    mentor_answer = reply_api(api, bearer(app, people["mentor"]), thread_id, "Resposta da mentora")
    assert sign_in(app, people["mentor"]).post(f"/threads/{thread_id}/lock", data={"locked": "1"}).status_code == 302
    for post_id in (question_of(app, thread_id), own_answer):
        body = assert_error(
            api.patch(f"{API}/posts/{post_id}", json={"body": "mudei"}, headers=asker), 403, "forbidden"
        )
        assert body["message"] == "This thread is locked; only moderators can change it."
    edited = api.patch(
        f"{API}/posts/{mentor_answer}", json={"body": "Resumo final"}, headers=bearer(app, people["mentor"])
    )
    assert edited.status_code == 200
    with app.app_context():
        assert db.session.get(Post, own_answer).body == "Minha resposta"
        assert db.session.get(Thread, thread_id).question.body == ASK["body"]


# --- voting ----------------------------------------------------------------------------------------------------


def test_a_vote_toggles_and_answers_the_new_score(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id)
    colleague, other = bearer(app, people["colleague"]), bearer(app, people["other_city"])
    url = f"{API}/posts/{answer_id}/vote"
    first = api.post(url, headers=colleague).get_json()
    assert first == {
        "post_id": answer_id,
        "voted": True,
        "score": 1,
        "url": f"{SITE}threads/{thread_id}#post-{answer_id}",
    }
    assert api.post(url, headers=other).get_json()["score"] == 2
    taken_back = api.post(url, headers=colleague).get_json()
    assert (taken_back["voted"], taken_back["score"]) == (False, 1)
    assert api.post(url, headers=colleague).get_json()["score"] == 2, "and given again"
    with app.app_context():
        assert db.session.get(Post, answer_id).score == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 2


def test_votes_on_the_question_rank_the_thread(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    question = question_of(app, thread_id)
    api.post(f"{API}/posts/{question}/vote", headers=bearer(app, people["mentor"]))
    assert api.get(f"{API}/threads/{thread_id}").get_json()["score"] == 1


def test_nobody_votes_for_their_own_post(app, api, people):
    headers = bearer(app, people["asker"])
    thread_id = ask_api(api, headers)
    answer_id = reply_api(api, headers, thread_id)
    for post_id in (question_of(app, thread_id), answer_id):
        body = assert_error(api.post(f"{API}/posts/{post_id}/vote", headers=headers), 403, "forbidden")
        assert body["message"] == "You cannot vote for your own post."
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_comments_take_no_votes_in_the_api_as_on_the_page(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id)
    comment_id = reply_api(api, bearer(app, people["asker"]), thread_id, "Obrigada!", parent_id=answer_id)
    body = assert_error(
        api.post(f"{API}/posts/{comment_id}/vote", headers=bearer(app, people["colleague"])), 422, "invalid"
    )
    assert body["fields"] == {"post": "Only a question or an answer can be voted on."}
    page = sign_in(app, people["colleague"], language="en").post(f"/threads/posts/{comment_id}/vote")
    assert page.status_code == 400 and "Only a question or an answer can be voted on." in page.get_data(as_text=True)
    html = sign_in(app, people["colleague"]).get(f"/threads/{thread_id}").get_data(as_text=True)
    assert f"/threads/posts/{answer_id}/vote" in html and f"/threads/posts/{comment_id}/vote" not in html
    with app.app_context():
        assert db.session.get(Post, comment_id).score == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


# --- reporting -------------------------------------------------------------------------------------------------


def test_a_report_through_the_api_reaches_the_moderators_once_per_person(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id)
    reporter = bearer(app, people["other_city"])
    url = f"{API}/posts/{answer_id}/flags"
    response = api.post(url, json={"reason": "  Propaganda  "}, headers=reporter)
    assert response.status_code == 201
    assert response.get_json() == {
        "post_id": answer_id,
        "reason": "Propaganda",
        "url": f"{SITE}threads/{thread_id}#post-{answer_id}",
    }
    again = assert_error(api.post(url, json={"reason": "De novo"}, headers=reporter), 409, "already_reported")
    assert again["message"] == "You have already reported this post."
    page = sign_in(app, people["other_city"], language="en").post(
        f"/threads/posts/{answer_id}/flag", data={"reason": "Pela página"}
    )
    assert page.status_code == 409 and "You have already reported this post." in page.get_data(as_text=True)
    assert api.post(url, json={"reason": "Também acho"}, headers=bearer(app, people["colleague"])).status_code == 201
    with app.app_context():
        rows = db.session.execute(sa.select(Flag.user_id, Flag.reason).order_by(Flag.id)).all()
    assert [tuple(row) for row in rows] == [
        (people["other_city"].id, "Propaganda"),
        (people["colleague"].id, "Também acho"),
    ]


@pytest.mark.parametrize("reason", [None, "", "   ", 5, "x" * 501])
def test_a_report_needs_a_reason_of_at_most_500_characters(app, api, people, reason):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    payload = {} if reason is None else {"reason": reason}
    response = api.post(
        f"{API}/posts/{question_of(app, thread_id)}/flags", json=payload, headers=bearer(app, people["colleague"])
    )
    body = assert_error(response, 422, "invalid")
    assert set(body["fields"]) == {"reason"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 0


def test_reporting_needs_a_signed_in_caller_and_a_post_they_may_read(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    question = question_of(app, thread_id)
    assert_error(api.post(f"{API}/posts/{question}/flags", json={"reason": "spam"}), 401, "unauthorized")
    assert_error(
        api.post(f"{API}/posts/999999/flags", json={"reason": "spam"}, headers=bearer(app, people["colleague"])),
        404,
        "not_found",
    )
    answer_id = reply_api(api, bearer(app, people["other_city"]), thread_id)
    assert (
        sign_in(app, people["mentor"]).post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"}).status_code == 302
    )
    hidden = api.post(
        f"{API}/posts/{answer_id}/flags", json={"reason": "spam"}, headers=bearer(app, people["colleague"])
    )
    assert_error(hidden, 404, "not_found")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 0


# --- accepting -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "may"), [("asker", True), ("colleague", True), ("mentor", True), ("admin", True),
                                          ("other_city", False)])  # fmt: skip
def test_who_may_accept_an_answer(app, api, people, who, may):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    author = "mentor" if who == "other_city" else "other_city"
    answer_id = reply_api(api, bearer(app, people[author]), thread_id)
    response = api.post(f"{API}/posts/{answer_id}/accept", headers=bearer(app, people[who]))
    if may:
        assert response.status_code == 200
        assert response.get_json() == {
            "post_id": answer_id,
            "accepted": True,
            "accepted_post_id": answer_id,
            "url": f"{SITE}threads/{thread_id}#post-{answer_id}",
        }
    else:
        assert_error(response, 403, "forbidden")
    assert api.get(f"{API}/threads/{thread_id}").get_json()["accepted_post_id"] == (answer_id if may else None)


def test_accepting_again_unmarks_and_another_answer_replaces_it(app, api, people):
    asker = bearer(app, people["asker"])
    thread_id = ask_api(api, asker)
    first = reply_api(api, bearer(app, people["mentor"]), thread_id)
    second = reply_api(api, bearer(app, people["other_city"]), thread_id)
    assert api.post(f"{API}/posts/{first}/accept", headers=asker).get_json()["accepted_post_id"] == first
    assert api.post(f"{API}/posts/{second}/accept", headers=asker).get_json()["accepted_post_id"] == second
    undone = api.post(f"{API}/posts/{second}/accept", headers=asker).get_json()
    assert (undone["accepted"], undone["accepted_post_id"]) == (False, None)
    assert api.get(f"{API}/threads/{thread_id}").get_json()["answered"] is False


def test_only_answers_can_be_accepted(app, api, people):
    asker = bearer(app, people["asker"])
    thread_id = ask_api(api, asker)
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id)
    comment_id = reply_api(api, asker, thread_id, "comentário", parent_id=answer_id)
    for post_id in (question_of(app, thread_id), comment_id):
        assert (
            "post" in assert_error(api.post(f"{API}/posts/{post_id}/accept", headers=asker), 422, "invalid")["fields"]
        )
    assert api.get(f"{API}/threads/{thread_id}").get_json()["accepted_post_id"] is None


# --- lists -----------------------------------------------------------------------------------------------------


@pytest.fixture
def listed(app, api, people):
    """Four threads asked in this order, then answered, accepted, voted and followed so that each sort differs.

    dm: Recife, DM/DM2, #inventario, answered (its answer is the latest activity of all)
    od: Fortaleza, OD/OD1, #portal, 2 votes, followed by the asker
    dm1: Recife (colleague), DM/DM1, #inventario #custos, 1 vote
    pa: the mentor (no city), PA/PA2, members only
    """
    tokens = {who: bearer(app, user) for who, user in people.items()}
    dm = ask_api(api, tokens["asker"], title="Inventário", criteria=["DM2"], tags=["inventario"])
    od = ask_api(api, tokens["other_city"], title="Portal", practice_area="OD", criteria=["OD1"], tags=["portal"])
    dm1 = ask_api(api, tokens["colleague"], title="Custos", criteria=["DM1"], tags=["inventario", "custos"])
    pa = ask_api(api, tokens["mentor"], title="Indicadores", practice_area="PA", criteria=["PA2"], tags=[],
                 visibility="members")  # fmt: skip
    for voter in ("colleague", "mentor"):
        api.post(f"{API}/posts/{question_of(app, od)}/vote", headers=tokens[voter])
    api.post(f"{API}/posts/{question_of(app, dm1)}/vote", headers=tokens["asker"])
    answer_id = reply_api(api, tokens["mentor"], dm)
    api.post(f"{API}/posts/{answer_id}/accept", headers=tokens["asker"])
    assert sign_in(app, people["asker"]).post(f"/threads/{od}/follow", data={"level": "watching"}).status_code == 302
    return {"dm": dm, "od": od, "dm1": dm1, "pa": pa, "tokens": tokens}


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["dm", "pa", "dm1", "od"]),
        ("activity", ["dm", "pa", "dm1", "od"]),
        ("newest", ["pa", "dm1", "od", "dm"]),
        ("votes", ["od", "dm1", "dm", "pa"]),
    ],
)
def test_sorts(app, api, listed, sort, order):
    query = f"?sort={sort}" if sort else ""
    assert ids(api.get(f"{API}/threads{query}", headers=listed["tokens"]["asker"])) == [listed[k] for k in order]
    visible = [listed[k] for k in order if k != "pa"]
    assert ids(api.get(f"{API}/threads{query}")) == visible, "visitors see the same order without members' threads"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("practice_area=DM", ["dm", "dm1"]),
        ("practice_area=dm", ["dm", "dm1"]),
        ("practice_area=EVAL", []),
        ("practice_area=XX", []),
        ("criterion=DM2", ["dm"]),
        ("criterion=dm1", ["dm1"]),
        ("criterion=PA2", ["pa"]),
        ("tag=inventario", ["dm", "dm1"]),
        ("tag=Custos", ["dm1"]),
        ("tag=nada", []),
        ("city=recife", ["dm", "dm1"]),
        ("city=fortaleza", ["od"]),
        ("status=answered", ["dm"]),
        ("status=unanswered", ["pa", "dm1", "od"]),
        ("status=mine", ["dm"]),
        ("status=following", ["dm", "od"]),
        ("practice_area=DM&status=unanswered", ["dm1"]),
        ("tag=inventario&city=recife&criterion=DM1", ["dm1"]),
    ],
)
def test_filters(app, api, listed, query, expected):
    assert ids(api.get(f"{API}/threads?{query}", headers=listed["tokens"]["asker"])) == [listed[k] for k in expected]


def test_a_nul_character_in_a_filter_is_a_400(app, api, listed):
    response = api.get(f"{API}/threads?city=%00&tag=a%00b", headers=listed["tokens"]["asker"])
    assert_error(response, 400, "bad_request")


def test_a_page_of_threads_comes_in_the_list_envelope_with_urls(app, api, listed):
    headers = listed["tokens"]["asker"]
    first = api.get(f"{API}/threads?per_page=3", headers=headers).get_json()
    assert (first["page"], first["pages"], first["total"], len(first["items"])) == (1, 2, 4, 3)
    second = api.get(f"{API}/threads?per_page=3&page=2", headers=headers).get_json()
    assert (second["page"], second["pages"], second["total"], len(second["items"])) == (2, 2, 4, 1)
    assert {i["id"] for i in first["items"] + second["items"]} == {listed[k] for k in ("dm", "od", "dm1", "pa")}
    beyond = api.get(f"{API}/threads?per_page=3&page=9", headers=headers).get_json()
    assert (beyond["items"], beyond["total"]) == ([], 4)
    for item in first["items"] + second["items"]:
        assert item["url"] == f"{SITE}threads/{item['id']}"
    row = next(i for i in first["items"] if i["id"] == listed["dm"])
    assert (row["reply_count"], row["answered"], row["practice_area"], row["city"]) == (1, True, "DM", "recife")


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=abc", "per_page=0", "page=99999999999999999999"])
def test_bad_page_arguments_are_400(app, api, people, query):
    assert_error(api.get(f"{API}/threads?{query}"), 400, "bad_request")


# --- notifications ---------------------------------------------------------------------------------------------


def test_notifications_about_threads_are_listed_with_their_urls(app, api, people):
    thread_id = ask_api(api, bearer(app, people["asker"]))
    answer_id = reply_api(api, bearer(app, people["mentor"]), thread_id)
    body = api.get(f"{API}/notifications", headers=bearer(app, people["asker"])).get_json()
    assert body["total"] == 1 and body["unread"] == 1
    (item,) = body["items"]
    assert item["kind"] == "reply"
    assert item["text"] == f"Helena Duarte replied in “{ASK['title']}”"
    assert item["url"] == f"{SITE}threads/{thread_id}#post-{answer_id}"
    assert api.get(f"{API}/notifications", headers=bearer(app, people["mentor"])).get_json()["total"] == 0
