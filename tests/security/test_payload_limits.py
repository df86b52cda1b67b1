"""Ids from JSON and socket payloads are bounded and deep JSON is refused: a 4xx, never a 500 (ASVS 5.0 V2.2.1,
V4.2, V15.3)."""

import pytest

from community.core.payloads import DEPTH_MAX, depth_of
from community.extensions import socketio
from tests.live_helpers import NAMESPACE, ack, api_tokens
from tests.test_live_room import room  # noqa: F401 (the fixture)

HUGE = 2**70


def nested(levels):
    value = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.fixture
def bearer(app, make):
    [token] = api_tokens(app, make.user())
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def test_an_id_too_large_for_any_row_is_a_422(app, client, bearer, make):
    make.city()
    response = client.post("/api/v1/mentorships", json={"mentor_id": HUGE, "city": "recife"}, headers=bearer)
    assert response.status_code == 422
    assert "mentor_id" in response.get_json()["fields"]


@pytest.mark.parametrize("levels", [DEPTH_MAX + 1, 100_000])
def test_json_nested_deeper_than_the_limit_is_a_400(client, bearer, levels):
    body = '{"body": ' + "[" * levels + "]" * levels + "}"
    response = client.post("/api/v1/preview", data=body, headers={**bearer, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["message"] == "The body is not a valid JSON object."


def test_ordinary_nesting_is_read():
    assert depth_of({"metrics": [{"name": "x", "tags": ["a"]}]}) == 4
    assert depth_of(nested(DEPTH_MAX + 5)) > DEPTH_MAX


def test_socket_ids_too_large_are_refused_with_an_ack(room):  # noqa: F811
    host, _ana, _beto = room.started()
    for event, field in (("upvote", "question_id"), ("poll_close", "poll_id"), ("remove", "user_id")):
        answer = ack(host, event, room.id, **{field: HUGE})
        assert answer["ok"] is False and answer["error"] != "server_error", (event, answer)
    assert ack(host, "join", HUGE)["error"] == "not_found"


def test_a_socket_payload_nested_too_deeply_is_never_handled(app, room):  # noqa: F811
    host, _ana, _beto = room.started()
    assert socketio.server.packet_class.json.loads.__name__ == "bounded_loads"
    with pytest.raises(ValueError, match="nested too deeply"):
        ack(host, "chat", room.id, text="deep", extra=nested(DEPTH_MAX + 5))
    assert host.is_connected(NAMESPACE)
    assert ack(host, "chat", room.id, text="still here")["ok"]
