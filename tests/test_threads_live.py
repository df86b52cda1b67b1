"""A thread live: `watch` and `thread_event`, the notices of replies, mentions and accepted answers, and fragments."""

import pytest

from community.extensions import db, socketio
from community.notifications import services as notifications
from tests.conftest import outbox, sends_to_login
from tests.threads_helpers import QUESTION, answer, ask, bearer, cast, notices, question_of, sign_in


@pytest.fixture
def people(make, framework):
    return cast(make)


@pytest.fixture
def connect(app, socket_client):
    """Sign `user` in and open their page's socket; returns (HTTP client, socket)."""

    def connect(user):
        client = sign_in(app, user)
        sio = socket_client(flask_client=client)
        assert sio.is_connected()
        return client, sio

    return connect


def watch(sio, thread_id):
    ack = sio.emit("watch", {"thread_id": thread_id}, callback=True)
    assert ack == {"ok": True, "thread_id": thread_id}
    return sio


def events(sio, name="thread_event"):
    return [event["args"][0] for event in sio.get_received() if event["name"] == name]


def rooms_of(sio):
    sid = socketio.server.manager.sid_from_eio_sid(sio.eio_sid, "/")
    return set(socketio.server.rooms(sid, namespace="/"))


def set_email(app, user, frequency):
    with app.app_context():
        notifications.set_email_frequency(user.id, frequency)
        db.session.commit()


def follow(app, user, thread_id, level):
    response = sign_in(app, user).post(f"/threads/{thread_id}/follow", data={"level": level})
    assert response.status_code == 302


# --- thread_event ----------------------------------------------------------------------------------------------


def test_a_watcher_hears_of_a_new_answer_posted_through_the_page(app, people, connect):
    thread_id, _asker = ask(app, people["asker"])
    _client, sio = connect(people["colleague"])
    watch(sio, thread_id)
    assert f"thread:{thread_id}" in rooms_of(sio)
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    assert events(sio) == [
        {
            "thread_id": thread_id,
            "type": "post",
            "post_id": answer_id,
            "parent_id": None,
            "kind": "answer",
            "score": 0,
            "accepted_post_id": None,
        }
    ]


def test_a_watcher_hears_of_answers_and_comments_posted_through_the_api(app, people, connect):
    thread_id, _asker = ask(app, people["asker"])
    _client, sio = connect(people["asker"])
    watch(sio, thread_id)
    api, mentor = app.test_client(), bearer(app, people["mentor"])
    answer_id = api.post(f"/api/v1/threads/{thread_id}/posts", json={"body": "pela API"}, headers=mentor).get_json()[
        "id"
    ]
    comment = api.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "e um comentário", "parent_id": answer_id},
        headers=bearer(app, people["other_city"]),
    ).get_json()
    heard = [(e["type"], e["post_id"], e["kind"], e["parent_id"]) for e in events(sio)]
    assert heard == [("post", answer_id, "answer", None), ("post", comment["id"], "comment", answer_id)]


def test_a_watcher_hears_of_votes_with_the_new_score(app, people, connect):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    _client, sio = connect(people["asker"])
    watch(sio, thread_id)
    colleague = sign_in(app, people["colleague"])
    colleague.post(f"/threads/posts/{answer_id}/vote")
    app.test_client().post(f"/api/v1/posts/{answer_id}/vote", headers=bearer(app, people["other_city"]))
    colleague.post(f"/threads/posts/{answer_id}/vote")
    assert [(e["type"], e["post_id"], e["score"]) for e in events(sio)] == [
        ("vote", answer_id, 1),
        ("vote", answer_id, 2),
        ("vote", answer_id, 1),
    ]


def test_a_watcher_hears_of_an_accepted_answer_and_of_its_unmarking(app, people, connect):
    thread_id, asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    _client, sio = connect(people["other_city"])
    watch(sio, thread_id)
    asker.post(f"/threads/posts/{answer_id}/accept")
    app.test_client().post(f"/api/v1/posts/{answer_id}/accept", headers=bearer(app, people["asker"]))
    heard = events(sio)
    assert [(e["type"], e["accepted_post_id"]) for e in heard] == [("accepted", answer_id), ("accepted", None)]
    assert heard[0]["post_id"] == answer_id


def test_a_watcher_hears_of_edits_and_deletions(app, people, connect):
    thread_id, asker = ask(app, people["asker"])
    mentor = sign_in(app, people["mentor"])
    answer_id = answer(mentor, thread_id)
    asker.post(f"/threads/posts/{answer_id}/accept")
    _client, sio = connect(people["colleague"])
    watch(sio, thread_id)
    assert mentor.post(f"/threads/posts/{answer_id}/edit", data={"body": "Corrigido"}).status_code == 302
    assert mentor.post(f"/threads/posts/{answer_id}/delete").status_code == 302
    heard = events(sio)
    assert [(e["type"], e["post_id"]) for e in heard] == [("edited", answer_id), ("deleted", answer_id)]
    assert heard[1]["accepted_post_id"] is None, "the accepted answer is gone"


def test_members_may_watch_a_members_only_thread(app, people, connect):
    thread_id, _asker = ask(app, people["asker"], visibility="members")
    _client, sio = connect(people["other_city"])
    watch(sio, thread_id)
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    assert [e["post_id"] for e in events(sio)] == [answer_id]


def test_a_socket_opened_with_an_api_token_may_watch(app, people, socket_client):
    thread_id, _asker = ask(app, people["asker"])
    plain = bearer(app, people["colleague"])["Authorization"].split()[1]
    sio = socket_client(auth={"token": plain}, flask_client=app.test_client())
    watch(sio, thread_id)
    answer(sign_in(app, people["mentor"]), thread_id)
    assert len(events(sio)) == 1


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda thread_id: (), id="missing"),
        pytest.param(lambda thread_id: ({},), id="empty"),
        pytest.param(lambda thread_id: ({"thread_id": None},), id="null"),
        pytest.param(lambda thread_id: ({"thread_id": str(thread_id)},), id="string-id"),
        pytest.param(lambda thread_id: ({"thread_id": True},), id="bool"),
        pytest.param(lambda thread_id: ({"thread_id": float(thread_id)},), id="float"),
        pytest.param(lambda thread_id: ({"thread_id": -thread_id},), id="negative"),
        pytest.param(lambda thread_id: ({"thread_id": 0},), id="zero"),
        pytest.param(lambda thread_id: ({"thread_id": thread_id + 999},), id="unknown"),
        pytest.param(lambda thread_id: ({"thread_id": 10**30},), id="huge"),
        pytest.param(lambda thread_id: (str(thread_id),), id="bare-string"),
        pytest.param(lambda thread_id: ([thread_id],), id="list"),
    ],
)
def test_watch_with_a_bad_payload_is_refused_and_joins_nothing(app, people, connect, payload):
    thread_id, _asker = ask(app, people["asker"])
    _client, sio = connect(people["colleague"])
    rooms_before = rooms_of(sio)
    ack = sio.emit("watch", *payload(thread_id), callback=True)
    assert ack["ok"] is False and ack["error"] == "not_found" and ack["message"]
    assert rooms_of(sio) == rooms_before
    answer(sign_in(app, people["mentor"]), thread_id)
    assert events(sio) == []


def test_a_watcher_of_another_thread_hears_nothing(app, people, connect):
    watched, _ = ask(app, people["asker"], title="Outra pergunta")
    thread_id, asker = ask(app, people["asker"])
    _client, sio = connect(people["colleague"])
    watch(sio, watched)
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    asker.post(f"/threads/posts/{answer_id}/vote")
    asker.post(f"/threads/posts/{answer_id}/accept")
    assert events(sio) == []


def test_unwatching_stops_the_events(app, people, connect):
    thread_id, _asker = ask(app, people["asker"])
    _client, sio = connect(people["colleague"])
    watch(sio, thread_id)
    assert sio.emit("unwatch", {"thread_id": thread_id}, callback=True) == {"ok": True, "thread_id": thread_id}
    assert f"thread:{thread_id}" not in rooms_of(sio)
    answer(sign_in(app, people["mentor"]), thread_id)
    assert events(sio) == []


# --- notifications ---------------------------------------------------------------------------------------------


def test_a_reply_notifies_the_watchers_but_not_its_author(app, people):
    thread_id, _asker = ask(app, people["asker"])
    follow(app, people["colleague"], thread_id, "watching")
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    link = f"/threads/{thread_id}#post-{answer_id}"
    assert notices(app, people["asker"]) == [("reply", link)]
    assert notices(app, people["colleague"]) == [("reply", link)]
    assert notices(app, people["mentor"]) == []
    assert notices(app, people["other_city"]) == [], "not following"
    comment_id = answer(sign_in(app, people["asker"]), thread_id, "Obrigada!", parent_id=str(answer_id))
    assert notices(app, people["mentor"]) == [("reply", f"/threads/{thread_id}#post-{comment_id}")], "now watching"
    assert len(notices(app, people["asker"])) == 1, "not told of her own comment"


def test_a_muted_follower_hears_nothing(app, people):
    thread_id, _asker = ask(app, people["asker"])
    follow(app, people["asker"], thread_id, "muted")
    mentor = sign_in(app, people["mentor"])
    answer_id = answer(mentor, thread_id, f"Veja isto, @{people['asker'].handle}.")
    answer(mentor, thread_id, "Um comentário na pergunta.", parent_id=str(question_of(app, thread_id)))
    answer(sign_in(app, people["other_city"]), thread_id, "Comentário", parent_id=str(answer_id))
    assert notices(app, people["asker"]) == []
    assert [kind for kind, _url in notices(app, people["mentor"])] == ["reply"], "the mentor watches and hears"


def test_a_normal_follower_hears_of_replies_to_their_posts_and_of_mentions_only(app, people):
    thread_id, _asker = ask(app, people["asker"])
    colleague = people["colleague"]
    own_answer = answer(sign_in(app, colleague), thread_id, "Minha resposta")
    follow(app, colleague, thread_id, "normal")
    answer(sign_in(app, people["mentor"]), thread_id, "Outra resposta")
    assert notices(app, colleague) == [], "an answer to someone else's post"
    comment_id = answer(sign_in(app, people["other_city"]), thread_id, "Comentário", parent_id=str(own_answer))
    assert notices(app, colleague) == [("reply", f"/threads/{thread_id}#post-{comment_id}")]
    mention_id = answer(sign_in(app, people["admin"]), thread_id, f"O @{colleague.handle} sabe mais.")
    assert notices(app, colleague) == [
        ("reply", f"/threads/{thread_id}#post-{comment_id}"),
        ("mention", f"/threads/{thread_id}#post-{mention_id}"),
    ]


def test_an_asker_on_normal_still_hears_of_answers_to_the_question(app, people):
    thread_id, _asker = ask(app, people["asker"])
    follow(app, people["asker"], thread_id, "normal")
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    answer(sign_in(app, people["other_city"]), thread_id, "Comentário na resposta", parent_id=str(answer_id))
    assert notices(app, people["asker"]) == [("reply", f"/threads/{thread_id}#post-{answer_id}")]


def test_a_mention_notifies_the_mentioned_person_once(app, people):
    thread_id, _asker = ask(app, people["asker"])
    follow(app, people["colleague"], thread_id, "watching")
    body = f"@{people['colleague'].handle} e @{people['other_city'].handle}, vejam. @{people['mentor'].handle} também."
    answer_id = answer(sign_in(app, people["mentor"]), thread_id, body)
    link = f"/threads/{thread_id}#post-{answer_id}"
    assert notices(app, people["colleague"]) == [("reply", link)], "watching and mentioned: told once"
    assert notices(app, people["other_city"]) == [("mention", link)]
    assert notices(app, people["mentor"]) == [], "nobody is told of their own mention"


def test_a_mention_in_the_question_notifies(app, people):
    thread_id, _asker = ask(app, people["asker"], body=f"Alguém sabe, @{people['mentor'].handle}?")
    question = question_of(app, thread_id)
    assert notices(app, people["mentor"]) == [("mention", f"/threads/{thread_id}#post-{question}")]


def test_an_unknown_handle_notifies_nobody(app, people):
    thread_id, _asker = ask(app, people["asker"])
    answer(sign_in(app, people["mentor"]), thread_id, "Pergunte a @ninguem_aqui.")
    assert [notices(app, person) for who, person in people.items() if who != "asker"] == [[]] * 4


def test_an_accepted_answer_notifies_its_author(app, people):
    thread_id, asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    own_answer = answer(asker, thread_id, "Eu mesma resolvi.")

    def accepted(person):
        return [url for kind, url in notices(app, person) if kind == "accepted"]

    asker.post(f"/threads/posts/{answer_id}/accept")
    assert accepted(people["mentor"]) == [f"/threads/{thread_id}#post-{answer_id}"]
    asker.post(f"/threads/posts/{answer_id}/accept")
    assert len(accepted(people["mentor"])) == 1, "unmarking tells nobody"
    asker.post(f"/threads/posts/{own_answer}/accept")
    assert accepted(people["asker"]) == [], "accepting one's own answer tells nobody"
    sign_in(app, people["admin"]).post(f"/threads/posts/{answer_id}/accept")
    assert len(accepted(people["mentor"])) == 2, "accepted again, by the admin"


def test_the_notice_arrives_on_the_recipients_socket(app, people, connect):
    thread_id, _asker = ask(app, people["asker"])
    _asker_page, asker_socket = connect(people["asker"])
    _mentor_page, mentor_socket = connect(people["mentor"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    (notice,) = events(asker_socket, "notification")
    assert notice["url"] == f"http://localhost/threads/{thread_id}#post-{answer_id}"
    assert QUESTION["title"] in notice["text"] and "Helena Duarte" in notice["text"]
    assert notice["unread"] == 1
    assert events(mentor_socket, "notification") == []
    assert events(asker_socket) == [], "notices are not thread events"


def test_notices_are_emailed_to_those_who_want_them_at_once(app, people):
    thread_id, _asker = ask(app, people["asker"])
    for who, frequency in (("colleague", "never"), ("other_city", "daily")):
        follow(app, people[who], thread_id, "watching")
        set_email(app, people[who], frequency)
    answer_id = answer(sign_in(app, people["mentor"]), thread_id)
    mails = outbox(app)
    assert [mail["To"] for mail in mails] == [people["asker"].email]
    assert QUESTION["title"] in mails[0]["Subject"]
    assert f"http://localhost/threads/{thread_id}#post-{answer_id}" in mails[0].get_content()
    assert len(notices(app, people["colleague"])) == len(notices(app, people["other_city"])) == 1, "still on the site"


@pytest.mark.parametrize("level", ["", "loud", "WATCHING"])
def test_following_needs_a_known_level(app, people, level):
    thread_id, _asker = ask(app, people["asker"])
    client = sign_in(app, people["colleague"])
    assert client.post(f"/threads/{thread_id}/follow", data={"level": level}).status_code == 400
    answer(sign_in(app, people["mentor"]), thread_id)
    assert notices(app, people["colleague"]) == [], "still not following"


def test_visitors_are_sent_to_sign_in_before_following(app, people):
    thread_id, _asker = ask(app, people["asker"])
    url = f"/threads/{thread_id}/follow"
    assert sends_to_login(app.test_client().post(url, data={"level": "watching"}), url, "POST")


# --- fragments -------------------------------------------------------------------------------------------------


def test_fragments_show_posts_as_the_page_does(app, people):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["mentor"]), thread_id, "Resposta **forte**")
    visitor = app.test_client()
    fragment = visitor.get(f"/threads/posts/{answer_id}/fragment")
    assert fragment.status_code == 200
    assert f'id="post-{answer_id}"' in fragment.get_data(as_text=True)
    assert "<strong>forte</strong>" in fragment.get_data(as_text=True)
    answers = visitor.get(f"/threads/{thread_id}/answers")
    assert answers.status_code == 200 and f'id="post-{answer_id}"' in answers.get_data(as_text=True)


def test_fragments_of_members_only_threads_are_404_to_visitors(app, people):
    thread_id, _asker = ask(app, people["asker"], visibility="members")
    answer_id = answer(sign_in(app, people["mentor"]), thread_id, "Só para membros")
    urls = [f"/threads/posts/{answer_id}/fragment", f"/threads/{thread_id}/answers"]
    visitor, member = app.test_client(), sign_in(app, people["other_city"])
    for url in urls:
        assert visitor.get(url).status_code == 404
        response = member.get(url)
        assert response.status_code == 200 and "Só para membros" in response.get_data(as_text=True)


def test_fragments_of_unknown_posts_and_threads_are_404(app, people):
    visitor = app.test_client()
    assert visitor.get("/threads/posts/999/fragment").status_code == 404
    assert visitor.get("/threads/999/answers").status_code == 404


def test_a_hidden_post_fragment_keeps_its_text_from_non_moderators(app, people):
    thread_id, _asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["other_city"]), thread_id, "texto ofensivo")
    mentor = sign_in(app, people["mentor"])
    mentor.post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"})
    for reader in (app.test_client(), sign_in(app, people["colleague"]), sign_in(app, people["other_city"])):
        for url in (f"/threads/posts/{answer_id}/fragment", f"/threads/{thread_id}/answers"):
            assert "texto ofensivo" not in reader.get(url).get_data(as_text=True)
    assert "texto ofensivo" in mentor.get(f"/threads/posts/{answer_id}/fragment").get_data(as_text=True)
