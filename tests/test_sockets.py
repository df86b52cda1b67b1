"""Socket.IO on the default namespace: who may connect, the user's room, and sockets ended with their rights."""

import time

import pytest
import socketio as socketio_client
from flask_socketio import SocketIO

from community import create_app
from community.auth import services
from community.auth.models import ApiToken, User
from community.extensions import db, socketio
from tests.conftest import PASSWORD, require_redis
from tests.servers import running_server, server_env


def issue_token(app, user_id, name="script"):
    with app.app_context():
        token, plain = services.issue_api_token(db.session.get(User, user_id), name)
        db.session.commit()
        return token.id, plain


def notify(app, user_id, text="hello"):
    with app.app_context():
        socketio.emit("notification", {"text": text}, to=f"user:{user_id}")


def received(sio, name="notification"):
    return [event["args"][0] for event in sio.get_received() if event["name"] == name]


def test_signed_in_page_connects_and_joins_its_user_room(app, auth, make, socket_client):
    user = make.user()
    auth.login(user)
    sio = socket_client()
    assert sio.is_connected()
    notify(app, user.id)
    assert received(sio) == [{"text": "hello"}]


def test_a_visitor_is_refused(socket_client):
    sio = socket_client()
    assert not sio.is_connected()


def test_an_api_token_in_the_auth_payload_connects(app, make, socket_client):
    user = make.user()
    _id, plain = issue_token(app, user.id)
    sio = socket_client(auth={"token": plain}, flask_client=app.test_client())
    assert sio.is_connected()
    notify(app, user.id, "via token")
    assert received(sio) == [{"text": "via token"}]


@pytest.mark.parametrize(
    "auth_payload", [{"token": "cmt_not-a-real-token"}, {"token": 42}, {"token": ""}, "token", [1]]
)
def test_bad_tokens_are_refused(app, auth_payload, socket_client):
    sio = socket_client(auth=auth_payload, flask_client=app.test_client())
    assert not sio.is_connected()


def test_a_revoked_token_is_refused_and_its_sockets_end(app, client, auth, make, socket_client):
    user = make.user()
    token_id, plain = issue_token(app, user.id)
    token_socket = socket_client(auth={"token": plain}, flask_client=app.test_client())
    auth.login(user)
    page_socket = socket_client()
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert not token_socket.is_connected()
    assert page_socket.is_connected(), "only the revoked token's sockets end"
    assert not socket_client(auth={"token": plain}, flask_client=app.test_client()).is_connected()


def test_signing_out_ends_that_sessions_sockets_only(app, auth, make, socket_client):
    user = make.user()
    auth.login(user)
    laptop_socket = socket_client()
    phone = app.test_client()
    phone.post("/login", data={"email": user.email, "password": PASSWORD})
    phone_socket = socket_client(flask_client=phone)
    assert laptop_socket.is_connected() and phone_socket.is_connected()
    auth.logout()
    assert not laptop_socket.is_connected()
    assert phone_socket.is_connected()
    notify(app, user.id)
    assert received(phone_socket) == [{"text": "hello"}]


def test_a_role_change_ends_the_users_sockets(app, auth, make, socket_client):
    admin = make.user(name="Admin", role="admin")
    participant = make.user(name="Paula")
    participant_client = app.test_client()
    participant_client.post("/login", data={"email": participant.email, "password": PASSWORD})
    participant_socket = socket_client(flask_client=participant_client)
    auth.login(admin)
    admin_socket = socket_client()
    response = auth.client.post(f"/admin/users/{participant.id}/role", data={"role": "mentor"})
    assert response.status_code == 302
    assert not participant_socket.is_connected()
    assert admin_socket.is_connected()
    reconnected = socket_client(flask_client=participant_client)
    assert reconnected.is_connected(), "the page reconnects, now carrying the new role"


def test_a_password_change_ends_every_socket_of_the_user(app, client, auth, make, socket_client):
    user = make.user()
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    other_socket = socket_client(flask_client=other)
    auth.login(user)
    client.post(
        "/profile/password",
        data={"current_password": PASSWORD, "password": "another secret", "password2": "another secret"},
    )
    assert not other_socket.is_connected()
    assert not socket_client(flask_client=other).is_connected(), "the old session cannot reconnect"
    assert socket_client().is_connected(), "the session that changed the password can"


def test_deactivation_ends_the_users_sockets(app, auth, make, socket_client):
    admin = make.user(name="Admin", role="admin")
    user = make.user(name="Paula")
    user_client = app.test_client()
    user_client.post("/login", data={"email": user.email, "password": PASSWORD})
    user_socket = socket_client(flask_client=user_client)
    auth.login(admin)
    auth.client.post(f"/admin/users/{user.id}/active")
    assert not user_socket.is_connected()
    assert not socket_client(flask_client=user_client).is_connected()


def test_the_server_refuses_large_packets_and_foreign_origins(app):
    assert socketio.server.eio.max_http_buffer_size <= 1024 * 1024
    assert socketio.server.eio.cors_allowed_origins != "*"


def redis_app(app, **overrides):
    """Another app (as another process would be) on the same database, with settings on Redis."""
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **overrides})


@pytest.mark.redis
def test_another_process_reaches_a_user_through_the_redis_queue(app, make, tmp_path):
    """A real server on the queue, a real client with a token, and a second process publishing to the user."""
    url = require_redis()
    channel = f"comunidade-test-{time.time_ns()}"
    user = make.user()
    _id, token = issue_token(app, user.id)
    env = server_env(
        tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], SOCKETIO_MESSAGE_QUEUE=url, SOCKETIO_CHANNEL=channel
    )
    with running_server(env) as base:
        client = socketio_client.Client(reconnection=False)
        got = []
        client.on("notification", got.append)
        client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        try:
            other_process = SocketIO(message_queue=url, channel=channel)
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                other_process.emit("notification", {"text": "from elsewhere"}, to=f"user:{user.id}")
                time.sleep(0.2)
            assert got and got[0] == {"text": "from elsewhere"}
        finally:
            client.disconnect()


@pytest.mark.redis
def test_sign_in_limits_are_shared_through_redis(app, make):
    """With RATELIMIT_STORAGE_URI on Redis, two processes count the same failed sign-ins (per account and address)."""
    url = require_redis()
    run = time.time_ns()
    user = make.user(email=f"limits-{run}@example.org")
    # Counts outlive the test in Redis, so every run signs in from addresses of its own.
    guesser, owner = f"10.{run % 250}.1.{run % 199}", f"10.{run % 250}.2.{run % 199}"
    apps = [redis_app(app, RATELIMIT_STORAGE_URI=url) for _ in range(2)]
    for n in range(5):
        client = apps[n % 2].test_client()
        response = client.post(
            "/login", data={"email": user.email, "password": "wrong"}, environ_base={"REMOTE_ADDR": guesser}
        )
        assert response.status_code == 400
    for each in apps:
        response = each.test_client().post(
            "/login", data={"email": user.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": guesser}
        )
        assert response.status_code == 429
    response = (
        apps[0]
        .test_client()
        .post("/login", data={"email": user.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": owner})
    )
    assert response.status_code == 302, "the owner, elsewhere, is not locked out"


def test_token_records_are_never_stored_in_clear(app, make):
    user = make.user()
    _id, plain = issue_token(app, user.id)
    with app.app_context():
        stored = db.session.get(ApiToken, _id)
        assert plain not in (stored.token_hash, stored.hint)
        assert stored.token_hash == ApiToken.digest(plain)
