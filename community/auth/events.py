"""Socket.IO on the default namespace: who may connect, and the rooms a connection joins."""

from community.auth.sockets import authenticate_connection, join_identity_rooms
from community.core.permissions import SIGNED_IN, access
from community.extensions import socketio


@socketio.on("connect")
@access(SIGNED_IN)
def connect(auth=None):
    """Sent by every signed-in page's script, or by an API client with {"token": ...}; others are refused."""
    user = authenticate_connection(auth)
    join_identity_rooms(user)
