"""Who is behind a Socket.IO connection: authentication on connect, re-checked on every event."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from community.auth.models import ApiToken, User
from community.core.message_queue import RedisQueue, disconnect_local
from community.extensions import db, socketio

_TOKEN_KEY = "socket_token_hash"  # noqa: S105 (a session key, not a secret)


def authenticate_connection(auth):
    """Return the user opening this connection, by API token in the `auth` payload or by session cookie.

    Anything else is refused with ConnectionRefusedError, which the client sees as a connect_error.
    """
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        if not isinstance(token, str):
            raise ConnectionRefusedError("invalid_token")
        digest = ApiToken.digest(token)
        session[_TOKEN_KEY] = digest
        user = socket_user()
        if user is None:
            raise ConnectionRefusedError("invalid_token")
        return user
    session.pop(_TOKEN_KEY, None)
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("unauthorized")
    return current_user._get_current_object()


def join_identity_rooms(user):
    """Join the rooms by which this connection can be reached or ended: its user, its sign-in or its token."""
    join_room(f"user:{user.id}")
    digest = session.get(_TOKEN_KEY)
    if digest:
        token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.token_hash == digest))
        join_room(f"token:{token_id}")
    elif session.get("login_id"):
        join_room(f"login:{session['login_id']}")


def socket_user():
    """The user of the current socket event, checked again now: None once signed out, revoked or deactivated.

    It is also kept on `g` for the event, so that its answers speak the user's language (see select_locale).
    """
    digest = session.get(_TOKEN_KEY)
    user = None
    if digest:
        # With its user and their city, which the room shows: one query.
        token = db.session.scalar(
            sa.select(ApiToken)
            .where(ApiToken.token_hash == digest)
            .options(so.joinedload(ApiToken.user).joinedload(User.city))
        )
        user = token.user if token is not None and token.is_valid else None
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
    g.socket_user = user
    return user


def end_sockets(room):
    """Disconnect the sockets in `room` on every process (through the message queue when there is one), and close
    the room everywhere, in every namespace. Each event checks its user again as well, so a socket the queue could
    not reach is refused at its next event."""
    server = socketio.server
    if server is None:
        return
    if isinstance(server.manager, RedisQueue):
        server.manager.disconnect_room(room)
    else:
        disconnect_local(server, room)
    for namespace in list(server.manager.rooms):
        server.close_room(room, namespace=namespace)
