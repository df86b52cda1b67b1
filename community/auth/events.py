"""Socket.IO on the default namespace: who may connect, and the rooms a connection joins."""

from flask_socketio import Namespace

from community.auth.sockets import authenticate_connection, join_identity_rooms
from community.core.permissions import SIGNED_IN, access


class DefaultNamespace(Namespace):
    """Namespace "/": every signed-in page keeps one connection here for notifications and live updates."""

    @access(SIGNED_IN)
    def on_connect(self, auth=None):
        """Sent by a signed-in page's script, or by an API client with {"token": ...}; others are refused."""
        user = authenticate_connection(auth)
        join_identity_rooms(user)
