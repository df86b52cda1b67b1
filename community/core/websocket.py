"""Socket.IO's WebSockets without per-message compression.

Browsers offer permessage-deflate, and simple-websocket accepts it: then every message is compressed once per
socket, with that socket's own compressor, so a broadcast to a room of 500 costs 500 compressions of the same few
hundred bytes, about half of what writing it to a socket costs. The live room's messages are small JSON, which
compression barely shrinks, so the offer is left out of Socket.IO's upgrade requests: the server then accepts plain
WebSockets, and a broadcast is encoded once (python-socketio builds one packet for a room) and only framed per socket.
"""


class WebSocketsWithoutCompression:
    """WSGI middleware: drop the Sec-WebSocket-Extensions offer from requests under `path`."""

    def __init__(self, wsgi_app, path="/socket.io"):
        self.wsgi_app, self.path = wsgi_app, path

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(self.path):
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)
