"""What every room action checks: the refusal it answers with, and the rules on who and when."""

from flask_babel import format_number
from flask_babel import lazy_gettext as _l

from community.core.payloads import text_or_none
from community.live.models import SessionStatus

TEXT_MAX = 2_000  # a chat message or a question


class RoomError(Exception):
    """A room action refused: `code` for programs, `message` (translated) for people."""

    def __init__(self, code, message):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def ack(self):
        return {"ok": False, "error": self.code, "message": str(self.message)}


def require_host(live, user):
    if user.id != live.host_id:
        raise RoomError("forbidden", _l("Only the host can do that."))


def require_live(live):
    if live.status != SessionStatus.LIVE:
        if live.status == SessionStatus.SCHEDULED:
            raise RoomError("not_started", _l("The session has not started yet."))
        raise RoomError("ended", _l("The session has ended."))


def clean_text(value, field_message):
    text = text_or_none(value)
    if text is None:
        raise RoomError("invalid", field_message)
    text = text.strip()
    if not text:
        raise RoomError("invalid", _l("Write something before sending."))
    if len(text) > TEXT_MAX:
        raise RoomError("too_long", _l("Use at most %(max)s characters.", max=format_number(TEXT_MAX)))
    return text
