"""A session's record once it has ended: the chat, the questions, the polls and who came."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.auth.models import User
from community.extensions import db
from community.live.models import Attendance, Poll, RoomQuestion, SessionEvent
from community.live.room.actions import poll_counts


def archive(live, viewer):
    """The record of a session: the chat, the questions, the polls and who came."""
    events = db.session.scalars(
        sa.select(SessionEvent)
        .where(SessionEvent.session_id == live.id, SessionEvent.type == "chat")
        .options(so.joinedload(SessionEvent.actor))
        .order_by(SessionEvent.seq)
    ).all()
    questions = db.session.scalars(
        sa.select(RoomQuestion)
        .where(RoomQuestion.session_id == live.id)
        .options(so.joinedload(RoomQuestion.author))
        .order_by(RoomQuestion.votes.desc(), RoomQuestion.id)
    ).all()
    polls = db.session.scalars(sa.select(Poll).where(Poll.session_id == live.id).order_by(Poll.id)).all()
    attendance = db.session.scalars(
        sa.select(Attendance)
        .where(Attendance.session_id == live.id)
        .options(so.joinedload(Attendance.user).joinedload(User.city))
        .order_by(Attendance.first_joined_at)
    ).all()
    for_host = viewer is not None and viewer.id == live.host_id
    poll_rows = []
    for poll in polls:
        counts, votes = poll_counts(poll)
        poll_rows.append(
            {
                "poll": poll,
                "votes": votes,
                "results": [
                    {"text": option["text"], "count": counts[str(option["id"])], "share": _share(counts, option, votes)}
                    for option in poll.options
                ],
            }
        )
    return {
        "chat": events,
        "questions": [
            {"question": q, "author": q.author if (for_host or not q.anonymous) else None} for q in questions
        ],
        "polls": poll_rows,
        "attendance": attendance,
    }


def _share(counts, option, votes):
    return round(100 * counts[str(option["id"])] / votes) if votes else 0
