"""The live room on Socket.IO namespace /live: who may join, every event with its rules, the log and replay."""

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from community.auth import services as accounts
from community.auth.models import User
from community.core.models import utcnow
from community.extensions import db, socketio
from community.live.events import heartbeat, resync_rooms
from community.live.models import (
    Attendance,
    LiveSession,
    Poll,
    PollVote,
    QuestionVote,
    RoomConnection,
    RoomQuestion,
    SessionEvent,
)
from community.live.room import broadcast
from community.live.room import chat as room_chat
from community.live.room import log as room_log
from community.live.room import presence as room_presence
from community.live.room import rules as room_rules
from tests.live_helpers import NAMESPACE, ack, events, register, schedule, set_status


@pytest.fixture
def room(app, make, framework, socket_client):
    """A session hosted by a mentor, two registered participants, and people who are not registered."""
    people = {
        "host": make.user(name="Helena Duarte", role="mentor"),
        "ana": make.user(name="Ana Souza"),
        "beto": make.user(name="Beto Lima"),
        "outsider": make.user(name="Olga Fora", locale="en"),
        "mentor": make.user(name="Marcos Mentor", role="mentor"),
        "admin": make.user(name="Alice Admin", role="admin"),
    }
    session_id = schedule(app, people["host"].id)
    register(app, session_id, people["ana"].id, people["beto"].id)
    tokens = {}
    with app.app_context():
        for key, person in people.items():
            tokens[key] = accounts.issue_api_token(db.session.get(User, person.id), "room")[1]
        db.session.commit()

    class Room:
        id = session_id

        def __init__(self):
            self.people = people

        def connect(self, who):
            return socket_client(namespace=NAMESPACE, auth={"token": tokens[who]})

        def join(self, who, after_seq=0):
            sio = self.connect(who)
            answer = sio.emit(
                "join", {"session_id": session_id, "after_seq": after_seq}, namespace=NAMESPACE, callback=True
            )
            assert answer["ok"], answer
            return sio

        def started(self):
            """The host and both participants in the room, the session live; messages so far cleared."""
            host, ana, beto = self.join("host"), self.join("ana"), self.join("beto")
            assert ack(host, "start", session_id)["ok"]
            for sio in (host, ana, beto):
                sio.get_received(NAMESPACE)
            return host, ana, beto

    return Room()


def stored_events(app, session_id):
    with app.app_context():
        rows = db.session.scalars(
            sa.select(SessionEvent).where(SessionEvent.session_id == session_id).order_by(SessionEvent.seq)
        ).all()
        return [(row.seq, row.type, row.payload) for row in rows]


# --- joining -----------------------------------------------------------------------------------------------------


def test_a_visitor_cannot_connect_to_the_room_namespace(app, socket_client):
    sio = socket_client(namespace=NAMESPACE)
    assert not sio.is_connected(NAMESPACE)


@pytest.mark.parametrize("who", ["host", "ana", "mentor", "admin"])
def test_the_host_registered_people_mentors_and_admins_may_join(room, who):
    sio = room.connect(who)
    answer = ack(sio, "join", room.id, after_seq=0)
    assert answer["ok"] is True
    assert answer["session"]["id"] == room.id
    assert answer["session"]["status"] == "scheduled"
    assert answer["session"]["you"]["is_host"] is (who == "host")
    assert answer["last_seq"] == 0 and answer["events"] == []
    assert room.people[who].id in [p["id"] for p in answer["participants"]]


def test_someone_not_registered_cannot_join(app, room):
    answer = ack(room.connect("outsider"), "join", room.id, after_seq=0)
    assert answer["ok"] is False and answer["error"] == "forbidden"
    assert answer["message"] == "Register for this session to come into its room."
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RoomConnection)) == 0


def test_a_waitlisted_person_cannot_join(app, make, room, socket_client):
    with app.app_context():
        db.session.get(LiveSession, room.id).capacity = 2
        db.session.commit()
    waiting = make.user(name="Wanda Espera")
    assert register(app, room.id, waiting.id) == ["waitlisted"]
    with app.app_context():
        token = accounts.issue_api_token(db.session.get(User, waiting.id), "t")[1]
        db.session.commit()
    sio = socket_client(namespace=NAMESPACE, auth={"token": token})
    assert ack(sio, "join", room.id)["error"] == "forbidden"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (None, "invalid"),
        ("7", "invalid"),
        ({}, "not_found"),
        ({"session_id": "1"}, "not_found"),
        ({"session_id": True}, "not_found"),
        ({"session_id": 10**30}, "not_found"),
        ({"session_id": 999_999}, "not_found"),
        ({"session_id": "ROOM", "after_seq": 0}, "not_found"),
    ],
)
def test_join_refuses_unknown_sessions_and_wrong_types(room, payload, error):
    if isinstance(payload, dict) and payload.get("session_id") == "ROOM":
        payload = {**payload, "session_id": room.id}
        payload["after_seq"] = -1
        error = "invalid"
    answer = room.connect("ana").emit("join", payload, namespace=NAMESPACE, callback=True)
    assert answer["ok"] is False and answer["error"] == error and answer["message"]


@pytest.mark.parametrize("after_seq", ["3", 1.5, True, [1]])
def test_join_refuses_an_after_seq_that_is_not_a_count(room, after_seq):
    answer = ack(room.connect("ana"), "join", room.id, after_seq=after_seq)
    assert answer["error"] == "invalid"


def test_a_cancelled_session_cannot_be_joined(app, room):
    set_status(app, room.id, "cancelled")
    assert ack(room.connect("ana"), "join", room.id)["error"] == "cancelled"


def test_events_need_a_joined_socket(room):
    sio = room.connect("ana")
    answer = ack(sio, "chat", room.id, text="hello")
    assert answer["error"] == "not_joined"


# --- starting, ending, the lobby ---------------------------------------------------------------------------------


def test_people_wait_in_the_lobby_until_the_host_starts(app, room):
    host, ana = room.join("host"), room.join("ana")
    assert ack(ana, "chat", room.id, text="cedo demais")["error"] == "not_started"
    started = ack(host, "start", room.id)
    assert started == {"ok": True, "seq": 1}
    got = events(ana)
    assert [(e["seq"], e["type"]) for e in got] == [(1, "start")]
    assert got[0]["actor"]["id"] == room.people["host"].id
    with app.app_context():
        live = db.session.get(LiveSession, room.id)
        assert live.status == "live" and live.started_at is not None


def test_only_the_host_starts_and_ends(app, room):
    host, ana = room.join("host"), room.join("ana")
    mentor = room.join("mentor")
    for sio in (ana, mentor):
        assert ack(sio, "start", room.id)["error"] == "forbidden"
    assert ack(host, "start", room.id)["ok"]
    assert ack(host, "start", room.id)["error"] == "invalid_state"
    for sio in (ana, mentor):
        assert ack(sio, "end", room.id)["error"] == "forbidden"
    assert ack(host, "end", room.id)["ok"]
    assert ack(host, "end", room.id)["error"] == "invalid_state"
    assert [t for _s, t, _p in stored_events(app, room.id)] == ["start", "end"]
    assert ack(ana, "chat", room.id, text="depois")["error"] == "ended"


# --- chat --------------------------------------------------------------------------------------------------------


def test_chat_reaches_everyone_in_the_room_in_order(app, room):
    host, ana, beto = room.started()
    assert ack(ana, "chat", room.id, text="Bom dia!") == {"ok": True, "seq": 2}
    assert ack(beto, "chat", room.id, text="  Olá  ") == {"ok": True, "seq": 3}
    for sio in (host, ana, beto):
        got = events(sio)
        assert [(e["seq"], e["type"], e["data"]["text"]) for e in got] == [(2, "chat", "Bom dia!"), (3, "chat", "Olá")]
        assert got[0]["actor"]["name"] == "Ana Souza"
        assert got[0]["at"].endswith("+00:00")
    assert [s for s, _t, _p in stored_events(app, room.id)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "invalid"),
        ("   ", "invalid"),
        (None, "invalid"),
        (42, "invalid"),
        (["a"], "invalid"),
        ("x" * 2001, "too_long"),
    ],
)
def test_chat_refuses_empty_wrong_and_overlong_text(app, room, text, error):
    _host, ana, _beto = room.started()
    answer = ack(ana, "chat", room.id, text=text)
    assert answer["ok"] is False and answer["error"] == error and answer["message"]
    assert len(stored_events(app, room.id)) == 1, "only the start is stored"


def test_chat_takes_exactly_two_thousand_characters(room):
    _host, ana, _beto = room.started()
    assert ack(ana, "chat", room.id, text="x" * 2000)["ok"]


def test_chat_text_is_stored_as_text_and_never_as_markup(room):
    _host, ana, beto = room.started()
    assert ack(ana, "chat", room.id, text="<img src=x onerror=alert(1)>")["ok"]
    assert events(beto)[0]["data"] == {"text": "<img src=x onerror=alert(1)>"}


def chats_in_line(app, room, *who_and_text):
    """Chat messages waiting for the room's lock, as if they had come while another was being stored."""
    with app.app_context():
        waiting = []
        for who, text in who_and_text:
            person = db.session.get(User, room.people[who].id)
            waiting.append(room_chat._Chat(person, text, by_host=who == "host"))
    room_chat._chats_waiting[room.id].extend(waiting)
    return waiting


def chat_now(app, room, who, text):
    """Send a chat as `who` through room_chat.chat, which also stores whatever waits in line."""
    with app.test_request_context():
        return room_chat.chat(db.session.get(LiveSession, room.id), db.session.get(User, room.people[who].id), text)


def test_chats_waiting_for_the_room_are_stored_together_in_the_order_they_came(app, room):
    host, ana, beto = room.started()
    waiting = chats_in_line(app, room, ("beto", "primeira"), ("host", "segunda"))
    mine = chat_now(app, room, "ana", "terceira")
    assert [c.event.seq for c in waiting] + [mine.seq] == [2, 3, 4]
    assert all(c.done and c.error is None for c in waiting)
    assert stored_events(app, room.id)[1:] == [
        (2, "chat", {"text": "primeira"}),
        (3, "chat", {"text": "segunda"}),
        (4, "chat", {"text": "terceira"}),
    ]
    for sio in (host, ana, beto):
        assert [(e["seq"], e["data"]["text"], e["actor"]["name"]) for e in events(sio)] == [
            (2, "primeira", "Beto Lima"),
            (3, "segunda", "Helena Duarte"),
            (4, "terceira", "Ana Souza"),
        ]
    assert not room_chat._chats_waiting.get(room.id)


def test_a_locked_chat_refuses_the_participants_in_line_and_stores_the_host(app, room):
    host, _ana, beto = room.started()
    assert ack(host, "lock_chat", room.id, locked=True)["ok"]
    waiting = chats_in_line(app, room, ("beto", "posso?"), ("host", "Só eu falo agora"))
    with pytest.raises(room_rules.RoomError) as refused:
        chat_now(app, room, "ana", "e eu?")
    assert refused.value.code == "chat_locked"
    assert waiting[0].error.code == "chat_locked" and waiting[0].event is None
    assert waiting[1].error is None and waiting[1].event.seq == 3
    assert all(c.done for c in waiting)
    assert [(seq, kind) for seq, kind, _data in stored_events(app, room.id)] == [
        (1, "start"),
        (2, "lock_chat"),
        (3, "chat"),
    ]
    assert [e["data"]["text"] for e in events(beto) if e["type"] == "chat"] == ["Só eu falo agora"]


def test_chats_in_line_for_a_session_that_ended_are_all_refused(app, room):
    host, _ana, _beto = room.started()
    assert ack(host, "end", room.id)["ok"]
    waiting = chats_in_line(app, room, ("beto", "tarde demais"), ("host", "obrigada"))
    with pytest.raises(room_rules.RoomError) as refused:
        chat_now(app, room, "ana", "tchau")
    assert refused.value.code == "ended"
    assert all(c.done and c.event is None and c.error.code == "ended" for c in waiting)
    assert [kind for _seq, kind, _data in stored_events(app, room.id)] == ["start", "end"]


def test_when_storing_a_batch_fails_everyone_in_it_hears_of_it_and_nothing_is_stored(app, room, monkeypatch):
    room.started()
    waiting = chats_in_line(app, room, ("beto", "um"), ("host", "dois"))

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(room_chat, "append", broken)
    with pytest.raises(RuntimeError, match="the disk is full"):
        chat_now(app, room, "ana", "três")
    assert all(c.done and c.event is None and isinstance(c.error, RuntimeError) for c in waiting)
    assert [kind for _seq, kind, _data in stored_events(app, room.id)] == ["start"]
    assert not room_chat._chats_waiting.get(room.id)


def test_a_chat_that_never_reached_the_room_leaves_the_line(app, room, monkeypatch):
    room.started()

    def unreachable(_session_id):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(room_chat, "room_lock", unreachable)
    with pytest.raises(RuntimeError, match="went away"):
        chat_now(app, room, "ana", "perdida")
    assert not room_chat._chats_waiting.get(room.id), "nobody stores it later behind the sender's back"
    monkeypatch.undo()
    assert chat_now(app, room, "beto", "depois").seq == 2
    assert [data for _seq, kind, data in stored_events(app, room.id) if kind == "chat"] == [{"text": "depois"}]


def test_the_host_locks_and_opens_the_chat(app, room):
    host, ana, beto = room.started()
    assert ack(ana, "lock_chat", room.id, locked=True)["error"] == "forbidden"
    assert ack(host, "lock_chat", room.id, locked="yes")["error"] == "invalid"
    assert ack(host, "lock_chat", room.id, locked=True)["ok"]
    assert [e["data"] for e in events(beto)] == [{"locked": True}]
    assert ack(ana, "chat", room.id, text="posso?")["error"] == "chat_locked"
    assert ack(host, "chat", room.id, text="Só eu por enquanto")["ok"], "the host still writes"
    assert ack(host, "lock_chat", room.id, locked=True)["error"] == "unchanged"
    assert ack(host, "lock_chat", room.id, locked=False)["ok"]
    assert ack(ana, "chat", room.id, text="agora sim")["ok"]


# --- questions ---------------------------------------------------------------------------------------------------


def test_questions_are_asked_upvoted_once_and_answered_by_the_host(app, room):
    host, ana, beto = room.started()
    asked = ack(ana, "question", room.id, text="Como começar o inventário?")
    assert asked["ok"] and asked["seq"] == 2 and asked["question_id"]
    question_id = asked["question_id"]
    seen = events(beto)[0]
    assert seen["type"] == "question"
    assert seen["data"]["author"]["name"] == "Ana Souza" and seen["data"]["votes"] == 0

    assert ack(beto, "upvote", room.id, question_id=question_id) == {"ok": True, "seq": 3}
    assert ack(beto, "upvote", room.id, question_id=question_id)["error"] == "already_voted"
    assert ack(ana, "upvote", room.id, question_id=question_id)["error"] == "own_question"
    assert ack(host, "upvote", room.id, question_id=question_id)["ok"]
    assert [e["data"]["votes"] for e in events(ana) if e["type"] == "upvote"] == [1, 2]

    assert ack(beto, "answer", room.id, question_id=question_id)["error"] == "forbidden"
    assert ack(host, "answer", room.id, question_id=question_id)["ok"]
    assert ack(host, "answer", room.id, question_id=question_id)["error"] == "already_answered"
    assert [e["data"] for e in events(beto) if e["type"] == "answer"] == [{"question_id": question_id}]
    with app.app_context():
        question = db.session.get(RoomQuestion, question_id)
        assert question.votes == 2 and question.answered
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QuestionVote)) == 2


def test_an_anonymous_question_hides_the_asker_from_everyone_but_the_host(app, room):
    host, ana, beto = room.started()
    mentor = room.join("mentor")
    asked = ack(ana, "question", room.id, text="Pergunta sensível", anonymous=True)
    assert asked["ok"]
    for sio in (beto, mentor, ana):
        seen = next(e for e in events(sio) if e["type"] == "question")
        assert seen["data"]["author"] is None and seen["actor"] is None and seen["data"]["anonymous"] is True
    to_host = next(e for e in events(host) if e["type"] == "question")
    assert to_host["data"]["author"]["name"] == "Ana Souza"
    assert to_host["seq"] == asked["seq"]
    # Replayed later, it reads the same way.
    replay_beto = ack(room.connect("beto"), "join", room.id, after_seq=0)
    assert next(e for e in replay_beto["events"] if e["type"] == "question")["data"]["author"] is None
    replay_host = ack(room.connect("host"), "join", room.id, after_seq=0)
    assert (
        next(e for e in replay_host["events"] if e["type"] == "question")["data"]["author"]["id"]
        == room.people["ana"].id
    )


def batches(sio):
    """The `event` messages received since last asked, each as the list of the events it carried."""
    return [m["args"] for m in sio.get_received(NAMESPACE) if m["name"] == "event"]


@pytest.fixture
def slow_writes(monkeypatch):
    """`slow_writes()` makes the room's next sends stay "being written" until `release()` is called: the events
    that come meanwhile wait (a backlog)."""
    written = threading.Event()

    def hold():
        time.sleep(0.05)  # the sends so far were written
        monkeypatch.setattr(broadcast, "wait_for_writes", lambda: written.wait(5))

        def release():
            written.set()
            time.sleep(0.2)  # the room's sender sends what waited

        return release

    yield hold
    written.set()


def test_a_quiet_room_sends_each_event_at_once_alone(app, room):
    host, ana, beto = room.started()
    seqs = []
    for text in ("um", "dois", "três"):
        seqs.append(ack(ana if text != "dois" else beto, "chat", room.id, text=text)["seq"])
        for sio in (host, ana, beto):  # there already when the ack comes: nothing waits for a timer
            assert [[e["seq"] for e in batch] for batch in batches(sio)] == [[seqs[-1]]]
        time.sleep(0.05)  # the send was written meanwhile


def test_events_that_come_while_the_last_send_is_written_go_together_in_order(app, room, slow_writes):
    host, ana, beto = room.started()
    release = slow_writes()
    first = ack(ana, "chat", room.id, text="um")["seq"]
    second = ack(beto, "chat", room.id, text="dois")["seq"]
    third = ack(ana, "chat", room.id, text="três")["seq"]
    for sio in (host, ana, beto):
        assert [[e["seq"] for e in batch] for batch in batches(sio)] == [[first]], "the first goes at once"
    release()
    for sio in (host, ana, beto):
        assert [[(e["seq"], e["data"]["text"]) for e in batch] for batch in batches(sio)] == [
            [(second, "dois"), (third, "três")]
        ]
    # Then the room is quiet again: the next one goes at once, alone.
    fourth = ack(beto, "chat", room.id, text="quatro")["seq"]
    assert [[e["seq"] for e in batch] for batch in batches(host)] == [[fourth]]
    # A reconnecting page still gets each of them once from the log.
    replay = ack(room.connect("beto"), "join", room.id, after_seq=first - 1)
    assert [e["seq"] for e in replay["events"]] == [first, second, third, fourth]


def test_events_wait_while_the_room_s_sockets_have_not_taken_the_last_send(app, room, monkeypatch):
    host, ana, beto = room.started()
    time.sleep(0.05)  # the sends so far were written
    slow = threading.Event()
    monkeypatch.setattr(broadcast, "sockets_behind", lambda session_id: not slow.is_set())
    first = ack(ana, "chat", room.id, text="um")["seq"]
    second = ack(beto, "chat", room.id, text="dois")["seq"]
    third = ack(ana, "chat", room.id, text="três")["seq"]
    for sio in (host, ana, beto):
        assert [[e["seq"] for e in batch] for batch in batches(sio)] == [[first]], "the first goes at once"
    slow.set()  # the sockets took it (or BEHIND_MAX_SECONDS passed): what came meanwhile goes together
    time.sleep(0.2)
    for sio in (host, ana, beto):
        assert [[e["seq"] for e in batch] for batch in batches(sio)] == [[second, third]]


def test_events_wait_no_longer_than_behind_max_seconds(app, room, monkeypatch):
    host, ana, beto = room.started()
    time.sleep(0.05)  # the sends so far were written
    monkeypatch.setattr(broadcast, "sockets_behind", lambda session_id: True)  # a room that never catches up
    first = ack(ana, "chat", room.id, text="um")["seq"]
    second = ack(beto, "chat", room.id, text="dois")["seq"]
    time.sleep(broadcast.BEHIND_MAX_SECONDS + 0.2)
    assert [[e["seq"] for e in batch] for batch in batches(host)] == [[first], [second]]


class _Queue:
    def __init__(self):
        self.waiting = False

    def empty(self):
        return not self.waiting


class _Socket:
    def __init__(self):
        self.queue = _Queue()


def test_a_room_is_behind_while_a_tenth_of_its_sockets_here_have_messages_waiting(app, monkeypatch):
    server = socketio.server
    members = {f"sid{number}": f"eio{number}" for number in range(20)}
    sockets = {eio_sid: _Socket() for eio_sid in members.values()}
    monkeypatch.setitem(server.manager.rooms, NAMESPACE, {broadcast.room(7): members})
    monkeypatch.setattr(server.eio, "sockets", sockets)
    assert not broadcast.sockets_behind(7)
    sockets["eio0"].queue.waiting = True
    assert not broadcast.sockets_behind(7), "one slow connection in twenty does not hold up the room"
    sockets["eio1"].queue.waiting = True
    assert broadcast.sockets_behind(7)
    del sockets["eio1"]  # a socket that went away meanwhile
    assert not broadcast.sockets_behind(7)
    assert not broadcast.sockets_behind(8), "a room with no sockets here"


def test_events_stored_together_go_together(app, room):
    host, _ana, beto = room.started()
    with app.app_context():
        live = db.session.get(LiveSession, room.id)
        with room_log.room_change(live) as record:
            actor = db.session.get(User, room.people["beto"].id)
            stored = [record("chat", actor, {"text": text}).seq for text in ("a", "b")]
    for sio in (host, beto):
        assert [[e["seq"] for e in batch] for batch in batches(sio)] == [stored]


def test_a_joining_socket_gets_the_waiting_events_from_the_log_not_twice(app, room, slow_writes):
    _host, ana, beto = room.started()
    release = slow_writes()
    assert ack(ana, "chat", room.id, text="agora")["ok"]
    waiting = ack(ana, "chat", room.id, text="na fila")["seq"]
    late = room.connect("mentor")
    answer = ack(late, "join", room.id, after_seq=waiting - 1)
    assert [e["seq"] for e in answer["events"]] == [waiting]
    assert [[e["seq"] for e in batch] for batch in batches(beto)] == [[waiting - 1], [waiting]], "sent on the join"
    release()
    assert batches(late) == [], "the joining socket had it from the log"
    assert batches(beto) == []


def test_a_new_app_forgets_the_events_the_last_one_left_waiting(app, room, slow_writes):
    _host, ana, beto = room.started()
    release = slow_writes()
    assert ack(ana, "chat", room.id, text="agora")["ok"]
    assert ack(beto, "chat", room.id, text="depois")["ok"]  # waits for the send in flight
    broadcast.reset()  # what a new app does: its rooms start from a clean slate
    release()
    assert [[e["data"]["text"] for e in batch] for batch in batches(beto)] == [["agora"]]


def test_in_a_message_of_several_the_host_and_the_others_each_see_their_own_view(app, room, slow_writes):
    host, ana, beto = room.started()
    release = slow_writes()
    ack(beto, "chat", room.id, text="antes")
    asked = ack(ana, "question", room.id, text="Pergunta sensível", anonymous=True)["seq"]
    after = ack(beto, "chat", room.id, text="depois")["seq"]
    release()
    seen = {"host": batches(host), "ana": batches(ana), "beto": batches(beto)}
    for batches_seen in seen.values():
        assert [[e["seq"] for e in batch] for batch in batches_seen] == [[asked - 1], [asked, after]]
    assert seen["host"][1][0]["data"]["author"]["name"] == "Ana Souza"
    for who in ("ana", "beto"):
        question = seen[who][1][0]
        assert question["data"]["author"] is None and question["actor"] is None
        assert seen[who][1][1]["data"]["text"] == "depois"


@pytest.mark.parametrize("anonymous", ["yes", 1, None])
def test_anonymous_must_be_true_or_false(room, anonymous):
    _host, ana, _beto = room.started()
    assert ack(ana, "question", room.id, text="?", anonymous=anonymous)["error"] == "invalid"


@pytest.mark.parametrize("question_id", [None, "1", 999_999, True, 10**40])
def test_upvote_and_answer_refuse_unknown_questions(room, question_id):
    host, ana, _beto = room.started()
    assert ack(ana, "upvote", room.id, question_id=question_id)["error"] == "not_found"
    assert ack(host, "answer", room.id, question_id=question_id)["error"] == "not_found"


def test_a_question_of_another_session_is_not_found(app, room):
    host, ana, beto = room.started()
    question_id = ack(ana, "question", room.id, text="Aqui")["question_id"]
    other = schedule(app, room.people["host"].id, title="Outra sessão")
    register(app, other, room.people["beto"].id)
    assert ack(host, "join", other)["ok"] and ack(beto, "join", other)["ok"]
    assert ack(host, "start", other)["ok"]
    assert ack(beto, "upvote", other, question_id=question_id)["error"] == "not_found"


def test_the_host_highlights_one_question_at_a_time(app, room):
    host, ana, beto = room.started()
    first = ack(ana, "question", room.id, text="Primeira")["question_id"]
    second = ack(beto, "question", room.id, text="Segunda")["question_id"]
    assert ack(ana, "highlight", room.id, question_id=first)["error"] == "forbidden"
    assert ack(host, "highlight", room.id, question_id=first)["ok"]
    assert ack(host, "highlight", room.id, question_id=second)["ok"]
    with app.app_context():
        assert {q.id: q.highlighted for q in db.session.scalars(sa.select(RoomQuestion))} == {
            first: False,
            second: True,
        }
    assert ack(host, "highlight", room.id, question_id=None)["ok"]
    assert [e["data"] for e in events(ana) if e["type"] == "highlight"][-1] == {"question_id": None}


# --- polls -------------------------------------------------------------------------------------------------------


def test_a_poll_runs_from_opening_to_revealed_results(app, room):
    host, ana, beto = room.started()
    opened = ack(
        host, "poll_open", room.id, question="O que trava?", options=["Dados", "Pessoas", "Tempo"], multiple=False
    )
    assert opened["ok"] and opened["poll_id"]
    poll_id = opened["poll_id"]
    shown = events(ana)[0]
    assert shown["type"] == "poll_open"
    assert shown["data"]["options"] == [
        {"id": 1, "text": "Dados"},
        {"id": 2, "text": "Pessoas"},
        {"id": 3, "text": "Tempo"},
    ]
    events(host), events(beto)

    assert ack(ana, "poll_vote", room.id, poll_id=poll_id, choices=[2])["ok"]
    assert ack(ana, "poll_vote", room.id, poll_id=poll_id, choices=[1])["error"] == "already_voted"
    assert ack(beto, "poll_vote", room.id, poll_id=poll_id, choices=[2])["ok"]
    assert ack(host, "poll_vote", room.id, poll_id=poll_id, choices=[1])["error"] == "forbidden"

    # While it runs, the host sees the counts; the others only how many voted.
    host_view = [e["data"] for e in events(host) if e["type"] == "poll_vote"]
    assert host_view[-1] == {"poll_id": poll_id, "votes": 2, "counts": {"1": 0, "2": 2, "3": 0}}
    beto_view = [e for e in events(beto) if e["type"] == "poll_vote"]
    assert beto_view[-1]["data"] == {"poll_id": poll_id, "votes": 2} and beto_view[-1]["actor"] is None

    assert ack(ana, "poll_close", room.id, poll_id=poll_id)["error"] == "forbidden"
    assert ack(host, "poll_close", room.id, poll_id=poll_id)["ok"]
    assert ack(host, "poll_close", room.id, poll_id=poll_id)["error"] == "poll_closed"
    revealed = next(e["data"] for e in events(ana) if e["type"] == "poll_close")
    assert revealed == {"poll_id": poll_id, "votes": 2, "counts": {"1": 0, "2": 2, "3": 0}}
    assert ack(beto, "poll_vote", room.id, poll_id=poll_id, choices=[1])["error"] == "poll_closed"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PollVote)) == 2
        assert db.session.get(Poll, poll_id).closed_at is not None


def test_a_multiple_choice_poll_takes_several_choices_and_a_single_one_does_not(room):
    host, ana, beto = room.started()
    multiple = ack(host, "poll_open", room.id, question="Quais?", options=["A", "B", "C"], multiple=True)["poll_id"]
    single = ack(host, "poll_open", room.id, question="Qual?", options=["A", "B"])["poll_id"]
    assert ack(ana, "poll_vote", room.id, poll_id=multiple, choices=[1, 3])["ok"]
    assert ack(beto, "poll_vote", room.id, poll_id=single, choices=[1, 2])["error"] == "invalid"
    assert ack(beto, "poll_vote", room.id, poll_id=single, choices=[2])["ok"]
    assert ack(host, "poll_close", room.id, poll_id=multiple)["ok"]
    closed = next(e["data"] for e in events(beto) if e["type"] == "poll_close")
    assert closed["counts"] == {"1": 1, "2": 0, "3": 1} and closed["votes"] == 1


@pytest.mark.parametrize(
    "poll",
    [
        {"question": "", "options": ["A", "B"]},
        {"question": "Q" * 301, "options": ["A", "B"]},
        {"question": "Q?", "options": ["A"]},
        {"question": "Q?", "options": [f"o{n}" for n in range(11)]},
        {"question": "Q?", "options": ["A", ""]},
        {"question": "Q?", "options": ["A", "A"]},
        {"question": "Q?", "options": ["A", 2]},
        {"question": "Q?", "options": "A,B"},
        {"question": "Q?", "options": ["A", "x" * 201]},
        {"question": "Q?", "options": ["A", "B"], "multiple": "no"},
        {"question": ["Q?"], "options": ["A", "B"]},
    ],
)
def test_poll_open_refuses_bad_polls(app, room, poll):
    host, _ana, _beto = room.started()
    answer = ack(host, "poll_open", room.id, **poll)
    assert answer["ok"] is False and answer["error"] in ("invalid", "too_long") and answer["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Poll)) == 0
    assert len(stored_events(app, room.id)) == 1


@pytest.mark.parametrize("choices", [[], [9], [0], ["1"], [1, 1], "1", None, [True], [1.0]])
def test_poll_vote_refuses_choices_that_are_not_options(app, room, choices):
    host, ana, _beto = room.started()
    poll_id = ack(host, "poll_open", room.id, question="Q?", options=["A", "B"], multiple=True)["poll_id"]
    assert ack(ana, "poll_vote", room.id, poll_id=poll_id, choices=choices)["error"] == "invalid"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PollVote)) == 0


def test_only_the_host_opens_a_poll(room):
    _host, ana, _beto = room.started()
    mentor = room.join("mentor")
    for sio in (ana, mentor):
        assert ack(sio, "poll_open", room.id, question="Q?", options=["A", "B"])["error"] == "forbidden"


# --- hands, removal ----------------------------------------------------------------------------------------------


def test_hands_are_raised_in_order_and_lowered_by_their_owner_or_the_host(app, room):
    host, ana, beto = room.started()
    assert ack(beto, "hand", room.id, raised=True)["ok"]
    assert ack(ana, "hand", room.id, raised=True)["ok"]
    assert ack(ana, "hand", room.id, raised=True)["error"] == "unchanged"
    people = ack(room.connect("host"), "join", room.id)["participants"]
    raised = [p["name"] for p in people if p["hand_raised_at"]]
    assert raised == ["Beto Lima", "Ana Souza"], "in the order they were raised"
    assert ack(ana, "hand", room.id, raised=False, user_id=room.people["beto"].id)["error"] == "forbidden"
    assert ack(host, "hand", room.id, raised=True, user_id=room.people["beto"].id)["error"] == "forbidden"
    assert ack(host, "hand", room.id, raised=False, user_id=room.people["beto"].id)["ok"]
    assert ack(ana, "hand", room.id, raised=False)["ok"]
    got = [e["data"] for e in events(beto) if e["type"] == "hand"]
    assert got == [
        {"user_id": room.people["beto"].id, "raised": True},
        {"user_id": room.people["ana"].id, "raised": True},
        {"user_id": room.people["beto"].id, "raised": False},
        {"user_id": room.people["ana"].id, "raised": False},
    ]
    assert ack(ana, "hand", room.id, raised="up")["error"] == "invalid"


def test_a_removal_goes_out_at_once_even_while_the_room_is_behind(app, room, slow_writes):
    host, ana, beto = room.started()
    release = slow_writes()
    assert ack(ana, "chat", room.id, text="oi")["ok"]  # at once; what follows waits for its send to be written
    assert ack(beto, "chat", room.id, text="tchau")["ok"]
    assert ack(host, "remove", room.id, user_id=room.people["ana"].id)["ok"]
    # Sent before Ana's socket closed, so her page could say why (the browser test shows the note).
    assert [[e["type"] for e in batch] for batch in batches(beto)] == [["chat"], ["chat", "remove"]]
    assert not ana.is_connected(NAMESPACE)
    release()
    assert batches(beto) == [], "sent once"


def test_the_host_removes_a_participant_for_good(app, room):
    host, ana, beto = room.started()
    ana_id = room.people["ana"].id
    assert ack(beto, "remove", room.id, user_id=ana_id)["error"] == "forbidden"
    removed = ack(host, "remove", room.id, user_id=ana_id)
    assert removed["ok"]
    assert [e["data"] for e in events(beto) if e["type"] == "remove"] == [{"user_id": ana_id}]
    assert not ana.is_connected(NAMESPACE), "the removed person's socket is closed"
    again = room.connect("ana")
    answer = ack(again, "join", room.id)
    assert answer["error"] == "removed"
    assert ack(host, "remove", room.id, user_id=ana_id)["error"] == "already_removed"
    assert ack(host, "remove", room.id, user_id=room.people["host"].id)["error"] == "invalid"
    assert ack(host, "remove", room.id, user_id=room.people["outsider"].id)["error"] == "not_found"
    with app.app_context():
        assert db.session.get(Attendance, (room.id, ana_id)).removed_at is not None


# --- presence ----------------------------------------------------------------------------------------------------


def test_presence_follows_people_coming_and_going(app, room):
    host = room.join("host")
    events(host, "presence")
    ana = room.join("ana")
    seen = events(host, "presence")[-1]
    assert seen["count"] == 2 and seen["last_seq"] == 0
    assert {p["name"] for p in seen["participants"]} == {"Helena Duarte", "Ana Souza"}
    assert [p["host"] for p in seen["participants"]] == [True, False], "the host comes first"
    ana.disconnect(namespace=NAMESPACE)
    assert events(host, "presence")[-1]["count"] == 1
    with app.app_context():
        attendance = db.session.get(Attendance, (room.id, room.people["ana"].id))
        assert attendance is not None and attendance.last_seen_at >= attendance.first_joined_at


def test_two_tabs_of_one_person_count_once(room):
    host = room.join("host")
    room.join("ana"), room.join("ana")
    assert events(host, "presence")[-1]["count"] == 2


# --- the log and replay ------------------------------------------------------------------------------------------


def test_a_reconnecting_client_gets_exactly_what_it_missed(app, room):
    _host, ana, beto = room.started()
    for text in ("um", "dois"):
        assert ack(ana, "chat", room.id, text=text)["ok"]
    last_seen = events(beto)[-1]["seq"]
    beto.disconnect(namespace=NAMESPACE)
    for text in ("três", "quatro", "cinco"):
        assert ack(ana, "chat", room.id, text=text)["ok"]
    back = room.connect("beto")
    answer = ack(back, "join", room.id, after_seq=last_seen)
    assert [e["data"]["text"] for e in answer["events"]] == ["três", "quatro", "cinco"]
    assert [e["seq"] for e in answer["events"]] == [last_seen + 1, last_seen + 2, last_seen + 3]
    assert answer["last_seq"] == last_seen + 3
    assert ack(ana, "chat", room.id, text="seis")["ok"]
    live = events(back)
    assert [e["seq"] for e in live] == [last_seen + 4], "only what came after the join, once"


def test_join_from_the_start_replays_the_whole_log(room):
    host, ana, _beto = room.started()
    ack(ana, "chat", room.id, text="olá")
    ack(host, "poll_open", room.id, question="Q?", options=["A", "B"])
    answer = ack(room.connect("mentor"), "join", room.id, after_seq=0)
    assert [e["type"] for e in answer["events"]] == ["start", "chat", "poll_open"]
    assert answer["last_seq"] == 3


def test_join_tells_the_viewer_what_they_did(room):
    host, ana, _beto = room.started()
    question_id = ack(host, "question", room.id, text="Quem já tem portaria?")["question_id"]
    poll_id = ack(host, "poll_open", room.id, question="Q?", options=["A", "B"])["poll_id"]
    ack(ana, "upvote", room.id, question_id=question_id)
    ack(ana, "poll_vote", room.id, poll_id=poll_id, choices=[2])
    ack(ana, "hand", room.id, raised=True)
    mine = ack(ana, "question", room.id, text="Minha, anônima", anonymous=True)["question_id"]
    you = ack(room.connect("ana"), "join", room.id)["session"]["you"]
    assert you["asked"] == [mine], "the asker knows their own anonymous question"
    assert you["upvoted"] == [question_id]
    assert you["poll_votes"] == {str(poll_id): [2]}
    assert you["hand_raised"] is True and you["is_host"] is False


def test_seq_is_gap_free_even_when_actions_are_refused(app, room):
    _host, ana, beto = room.started()
    ack(ana, "chat", room.id, text="a")
    ack(ana, "chat", room.id, text="")  # refused
    ack(beto, "upvote", room.id, question_id=999)  # refused
    ack(beto, "chat", room.id, text="b")
    assert [s for s, _t, _p in stored_events(app, room.id)] == [1, 2, 3]
    with app.app_context():
        assert db.session.get(LiveSession, room.id).last_seq == 3


# --- abuse -------------------------------------------------------------------------------------------------------


@pytest.mark.config(LIVE_EVENTS_PER_SECOND=5)
def test_a_flooding_socket_is_refused_and_the_others_are_not(app, room):
    _host, ana, beto = room.started()
    answers = [ack(ana, "chat", room.id, text=f"spam {n}") for n in range(12)]
    refused = [a for a in answers if not a["ok"]]
    assert refused and all(a["error"] == "rate_limited" and a["message"] for a in refused)
    assert sum(a["ok"] for a in answers) <= 5
    assert ack(beto, "chat", room.id, text="ainda posso falar")["ok"], "the others are not slowed"


@pytest.mark.parametrize("event", ["chat", "question", "upvote", "answer", "poll_open", "poll_vote", "poll_close",
                                   "hand", "start", "end", "remove", "lock_chat", "highlight"])  # fmt: skip
@pytest.mark.parametrize("payload", [None, [], "x", {"session_id": "abc"}, {"session_id": 999_999}])
def test_every_room_event_refuses_payloads_without_a_known_session(room, event, payload):
    sio = room.join("host")
    answer = sio.emit(event, payload, namespace=NAMESPACE, callback=True)
    assert answer["ok"] is False and answer["error"] in ("invalid", "not_found") and answer["message"]


def test_a_deactivated_user_is_refused_at_the_next_event(app, room):
    _host, ana, _beto = room.started()
    with app.app_context():
        db.session.get(User, room.people["ana"].id).active = False
        db.session.commit()
    answer = ack(ana, "chat", room.id, text="ainda aqui?")
    assert answer["ok"] is False


def test_one_socket_may_be_in_two_rooms_and_leave_one(app, room):
    other = schedule(app, room.people["host"].id, title="Outra sessão")
    register(app, other, room.people["ana"].id)
    host = room.join("host")
    ana = room.join("ana")
    assert ack(ana, "join", other)["ok"]
    second_host = room.connect("host")
    assert ack(second_host, "join", other)["participants"][1]["name"] == "Ana Souza"
    assert ack(ana, "leave", room.id)["ok"]
    assert ack(ana, "leave", room.id)["error"] == "not_joined"
    assert events(host, "presence")[-1]["count"] == 1, "Ana left the first room"
    in_other = ack(room.connect("host"), "join", other)["participants"]
    assert [p["name"] for p in in_other] == ["Helena Duarte", "Ana Souza"], "and stayed in the other"
    assert ack(ana, "chat", room.id, text="ainda aqui?")["error"] == "not_joined"


def test_answers_speak_the_language_of_the_user_behind_a_token(app, make, room, socket_client):
    spanish = make.user(name="Andrés Gómez", locale="es")
    with app.app_context():
        token = accounts.issue_api_token(db.session.get(User, spanish.id), "t")[1]
        db.session.commit()
    answer = ack(socket_client(namespace=NAMESPACE, auth={"token": token}), "join", room.id)
    assert answer["error"] == "forbidden"
    assert answer["message"] == "Inscríbase en esta sesión para entrar a su sala."


def test_a_failure_on_our_side_still_answers_and_stores_nothing(app, room, monkeypatch, caplog):
    _host, ana, _beto = room.started()

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(room_chat, "chat", broken)
    answer = ack(ana, "chat", room.id, text="olá")
    assert answer["ok"] is False and answer["error"] == "server_error" and answer["message"]
    assert "the disk is full" in caplog.text
    assert len(stored_events(app, room.id)) == 1


# --- after the message queue was away -----------------------------------------------------------------------------


def test_after_a_queue_outage_each_room_here_hears_its_last_seq_and_who_is_there(app, room):
    host, ana, beto = room.started()
    assert ack(host, "chat", room.id, text="Bom dia")["ok"]
    elsewhere = room.connect("mentor")  # connected, in no room
    for sio in (host, ana, beto):
        sio.get_received(NAMESPACE)
    resync_rooms(app)
    for sio in (host, ana, beto):
        received = sio.get_received(NAMESPACE)
        assert [m["args"][0] for m in received if m["name"] == "sync"] == [{"session_id": room.id, "last_seq": 2}]
        presence = [m["args"][0] for m in received if m["name"] == "presence"]
        assert [(p["count"], p["last_seq"]) for p in presence] == [(3, 2)]
    assert elsewhere.get_received(NAMESPACE) == []


@pytest.mark.parametrize(
    ("name", "session_id"),
    [("live:7", 7), ("live:7:host", None), ("live:7:audience", None), ("live:", None), ("x:7", None), ("7", None)],
)
def test_a_rooms_name_gives_back_its_session(name, session_id):
    assert broadcast.room_session_id(name) == session_id
    if session_id:
        assert broadcast.room_session_id(broadcast.room(session_id)) == session_id


# --- presence when a process dies ---------------------------------------------------------------------------------


@pytest.mark.config(LIVE_PRESENCE_TTL=90)
def test_people_on_the_sockets_of_a_dead_process_leave_the_presence_list(app, room):
    _host, _ana, _beto = room.started()
    long_ago = utcnow() - timedelta(minutes=5)
    with app.app_context():
        # The mentor's socket was on a process that died: its row stays, and nobody says they are here any more.
        mentor = room.people["mentor"]
        db.session.add(Attendance(session_id=room.id, user_id=mentor.id, first_joined_at=long_ago))
        db.session.add(RoomConnection(sid="on-a-dead-process", session_id=room.id, user_id=mentor.id))
        # Beto's process has not said he is here for as long, but he is: its next heartbeat says so.
        for user in (mentor, room.people["beto"]):
            db.session.get(Attendance, (room.id, user.id)).last_seen_at = long_ago
        db.session.commit()

    def present():
        with app.app_context():
            return sorted(p["name"] for p in room_presence.participants(db.session.get(LiveSession, room.id)))

    assert present() == ["Ana Souza", "Helena Duarte"]
    heartbeat(app)
    assert present() == ["Ana Souza", "Beto Lima", "Helena Duarte"]
    with app.app_context():
        ghost = db.session.get(Attendance, (room.id, mentor.id))
        assert ghost.last_seen_at < utcnow() - timedelta(minutes=4), "nobody says the dead process's people are here"


def test_without_a_presence_ttl_everyone_with_a_socket_is_listed(app, room):
    room.started()
    with app.app_context():
        for attendance in db.session.scalars(sa.select(Attendance).where(Attendance.session_id == room.id)):
            attendance.last_seen_at = utcnow() - timedelta(days=1)
        db.session.commit()
        assert len(room_presence.participants(db.session.get(LiveSession, room.id))) == 3
