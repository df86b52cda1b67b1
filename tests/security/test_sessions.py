"""Signing out ends the session; a password change or reset ends everything issued before, on every process
(ASVS 5.0 V7.4.1, V7.4.3, V7.5.2)."""

import os
import re
import time

import pytest
import socketio as socketio_client

from tests.conftest import PASSWORD, TEST_REDIS_URL, outbox, require_redis
from tests.live_helpers import api_tokens
from tests.servers import running_server, server_env

CHANNEL = f"comunidade-sessions-{os.getpid()}-{time.time_ns()}"
NEW_PASSWORD = "a much longer new passphrase 7"


def signed_in_client(app, user, remember=False):
    client = app.test_client()
    data = {"email": user.email, "password": PASSWORD, **({"remember_me": "y"} if remember else {})}
    assert client.post("/login", data=data).status_code == 302
    return client


def replay(app, **cookies):
    """A new browser holding copies of these cookies."""
    copy = app.test_client()
    for name, value in cookies.items():
        copy.set_cookie(name, value)
    return copy


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(app, make):
    user = make.user()
    client = signed_in_client(app, user)
    stolen = client.get_cookie("session").value
    assert replay(app, session=stolen).get("/profile").status_code == 200
    client.post("/logout")
    assert replay(app, session=stolen).get("/profile").status_code == 302


def test_a_remember_me_cookie_copied_before_sign_out_is_refused_after_it(app, make):
    user = make.user()
    client = signed_in_client(app, user, remember=True)
    stolen = client.get_cookie("remember_token").value
    assert replay(app, remember_token=stolen).get("/profile").status_code == 200
    client.post("/logout")
    assert replay(app, remember_token=stolen).get("/profile").status_code == 302


def test_sign_out_everywhere_ends_the_other_sessions_and_keeps_this_one(app, make):
    user = make.user()
    laptop, phone = signed_in_client(app, user), signed_in_client(app, user, remember=True)
    assert b"sign-out-everywhere" in laptop.get("/profile").data
    response = laptop.post("/profile/sign-out-everywhere")
    assert response.status_code == 302
    assert laptop.get("/profile").status_code == 200
    assert phone.get("/profile").status_code == 302
    assert app.test_client().post("/profile/sign-out-everywhere").status_code == 302  # visitors: to sign in


def test_a_password_change_revokes_the_api_tokens(app, client, make):
    user = make.user()
    [token] = api_tokens(app, user)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    browser = signed_in_client(app, user)
    response = browser.post(
        "/profile/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_password_reset_revokes_the_api_tokens(app, client, make):
    user = make.user()
    [token] = api_tokens(app, user)
    assert client.post("/reset", data={"email": user.email}).status_code == 302
    path = re.search(r"http://localhost(/reset/\S+)", outbox(app)[-1].get_content()).group(1)
    assert client.post(path, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.redis
@pytest.mark.config(SOCKETIO_MESSAGE_QUEUE=TEST_REDIS_URL, SOCKETIO_CHANNEL=CHANNEL)
def test_a_password_change_ends_the_persons_sockets_on_another_process(app, make, tmp_path):
    url = require_redis()
    user = make.user()
    [token] = api_tokens(app, user)
    env = server_env(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], SOCKETIO_MESSAGE_QUEUE=url,
                     SOCKETIO_CHANNEL=CHANNEL)  # fmt: skip
    with running_server(env) as other_process:
        sio = socketio_client.Client(reconnection=False)
        sio.connect(other_process, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        try:
            assert sio.connected
            browser = signed_in_client(app, user)
            response = browser.post(
                "/profile/password",
                data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
            )
            assert response.status_code == 302
            deadline = time.monotonic() + 10
            while sio.connected and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not sio.connected, "the other process ended the socket when told through the queue"
        finally:
            if sio.connected:
                sio.disconnect()
