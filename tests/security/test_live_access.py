"""Someone the host removed reads nothing more of the room; joining is rate-limited and replays come in pages
(ASVS 5.0 V8.2.2, V8.3.1, V2.4.1)."""

from types import SimpleNamespace

import limits.storage.memory
import pytest

from tests.conftest import PASSWORD
from tests.live_helpers import ack
from tests.test_live_room import room  # noqa: F401 (the fixture)


def removed_ana(room):  # noqa: F811
    host, _ana, beto = room.started()
    assert ack(host, "chat", room.id, text="Only for those still here")["ok"]
    assert ack(host, "remove", room.id, user_id=room.people["ana"].id)["ok"]
    return host, beto


def signed_in(app, person):
    client = app.test_client()
    assert client.post("/login", data={"email": person.email, "password": PASSWORD}).status_code == 302
    return client


def test_a_removed_person_cannot_read_the_events_api(app, room):  # noqa: F811
    removed_ana(room)
    ana, beto = signed_in(app, room.people["ana"]), signed_in(app, room.people["beto"])
    path = f"/api/v1/sessions/{room.id}/events?after=0"
    assert beto.get(path).status_code == 200
    refused = ana.get(path)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"


def test_a_removed_person_cannot_read_the_archive_or_the_minutes(app, room):  # noqa: F811
    host, _beto = removed_ana(room)
    assert ack(host, "end", room.id)["ok"]
    ana, beto = signed_in(app, room.people["ana"]), signed_in(app, room.people["beto"])
    for path in (f"/sessions/{room.id}/archive", f"/sessions/{room.id}/minutes.md"):
        assert beto.get(path).status_code == 200
        assert ana.get(path).status_code == 403, path


def test_a_removed_person_gets_no_replay(room):  # noqa: F811
    removed_ana(room)
    answer = ack(room.connect("ana"), "join", room.id, after_seq=0)
    assert answer["ok"] is False and answer["error"] == "removed" and "events" not in answer


@pytest.mark.config(LIVE_EVENTS_PER_SECOND=3)
def test_join_is_rate_limited_like_every_other_event(room, monkeypatch):  # noqa: F811
    # Every join in the same second, however slowly a loaded machine answers them.
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: 1_000_000.0))
    sio = room.connect("ana")
    answers = [ack(sio, "join", room.id, after_seq=0) for _ in range(5)]
    assert [a["ok"] for a in answers[:3]] == [True, True, True]
    assert answers[3]["ok"] is False and answers[3]["error"] == "rate_limited"


@pytest.mark.config(LIVE_REPLAY_PAGE=3)
def test_a_replay_comes_in_pages(room):  # noqa: F811
    host, _ana, _beto = room.started()
    for n in range(7):
        assert ack(host, "chat", room.id, text=f"message {n}")["ok"]
    late = room.connect("beto")
    seen, after, pages = [], 0, 0
    while True:
        answer = ack(late, "join", room.id, after_seq=after)
        assert answer["ok"] and len(answer["events"]) <= 3
        seen += [event["seq"] for event in answer["events"]]
        after, pages = answer["last_seq"], pages + 1
        if not answer["more"]:
            break
    assert seen == list(range(1, 9)), "the start and seven chats, each once, in order"
    assert pages == 3
