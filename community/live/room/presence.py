"""Who is in a room: entering and leaving it, the heartbeat of the sockets still there, the people shown,
and what a person sees of the room when they arrive."""

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from community.auth.models import User
from community.core.models import utcnow
from community.extensions import db
from community.live.access import attendance_of, can_enter
from community.live.models import (
    Attendance,
    LiveSession,
    Poll,
    PollVote,
    QuestionVote,
    Registration,
    RegistrationStatus,
    RoomConnection,
    RoomQuestion,
    SessionStatus,
)
from community.live.room.log import person_json
from community.live.room.rules import RoomError


def room_for(session_id, user):
    """The session, `user`'s attendance in it (or None) and whether they are registered, in one query: what every
    room event checks (see check_entry). None when there is no such session."""
    registered = (
        sa.select(Registration.id)
        .where(
            Registration.session_id == LiveSession.id,
            Registration.user_id == user.id,
            Registration.status == RegistrationStatus.REGISTERED,
        )
        .exists()
    )
    here = sa.and_(Attendance.session_id == LiveSession.id, Attendance.user_id == user.id)
    return db.session.execute(
        sa.select(LiveSession, Attendance, registered).outerjoin(Attendance, here).where(LiveSession.id == session_id)
    ).first()


def check_entry(live, user, known=None):
    """Raise RoomError unless `user` may come into the room now; return their attendance (or None).

    `known` is (attendance, registered) as room_for found them, which saves asking again.
    """
    if live is None:
        raise RoomError("not_found", _l("We could not find that session."))
    if live.status == SessionStatus.CANCELLED:
        raise RoomError("cancelled", _l("This session was cancelled."))
    attendance, registered = known or (None, None)
    if not can_enter(live, user, registered):
        raise RoomError("forbidden", _l("Register for this session to come into its room."))
    if known is None:
        attendance = attendance_of(live, user)
    if attendance is not None and attendance.removed_at is not None:
        raise RoomError("removed", _l("The host removed you from this session."))
    return attendance


def enter(live, user, sid, known=None):
    """Note the socket in the room and the person's attendance (`known` as for check_entry)."""
    attendance = check_entry(live, user, known)
    now = utcnow()
    if attendance is None:
        attendance = Attendance(session_id=live.id, user_id=user.id, first_joined_at=now)
        db.session.add(attendance)
    attendance.last_seen_at = now
    connection = db.session.get(RoomConnection, (sid, live.id))
    if connection is None:
        db.session.add(RoomConnection(sid=sid, session_id=live.id, user_id=user.id, connected_at=now))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same person came in twice at once; the other attempt stored the rows
        db.session.rollback()


def leave(sid, session_id=None):
    """Forget a socket that left one room (or all, when it disconnected); return the ids of the sessions whose
    presence changed."""
    query = sa.select(RoomConnection).where(RoomConnection.sid == sid)
    if session_id is not None:
        query = query.where(RoomConnection.session_id == session_id)
    rows = db.session.scalars(query).all()
    now = utcnow()
    for connection in rows:
        attendance = db.session.get(Attendance, (connection.session_id, connection.user_id))
        if attendance is not None:
            attendance.last_seen_at = now
        db.session.delete(connection)
    db.session.commit()
    return [connection.session_id for connection in rows]


def still_here(sids, now=None):
    """Note that the people on these sockets (of this process) are still in their rooms: their attendance's
    last_seen_at, which participants() reads when LIVE_PRESENCE_TTL is set."""
    now = now or utcnow()
    sids = list(sids)
    for start in range(0, len(sids), 500):
        present = sa.select(RoomConnection.session_id, RoomConnection.user_id).where(
            RoomConnection.sid.in_(sids[start : start + 500])
        )
        db.session.execute(
            sa.update(Attendance)
            .where(sa.tuple_(Attendance.session_id, Attendance.user_id).in_(present))
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def participants(live):
    """Who is in the room now, each once: the host first, then raised hands in order, then by name.

    The sockets of a process that died stay in the table; with LIVE_PRESENCE_TTL set, people whose processes
    have not said they are here for that long are left out."""
    present = sa.select(RoomConnection.user_id).where(RoomConnection.session_id == live.id).distinct()
    query = (
        sa.select(User, Attendance.hand_raised_at)
        .outerjoin(Attendance, sa.and_(Attendance.user_id == User.id, Attendance.session_id == live.id))
        .where(User.id.in_(present))
        .options(so.joinedload(User.city))
    )
    ttl = current_app.config["LIVE_PRESENCE_TTL"]
    if ttl > 0:
        query = query.where(Attendance.last_seen_at >= utcnow() - timedelta(seconds=ttl))
    rows = db.session.execute(query).all()
    people = []
    for user, raised_at in rows:
        person = person_json(user, live)
        person["hand_raised_at"] = raised_at.isoformat() if raised_at else None
        people.append(person)
    people.sort(key=lambda p: (not p["host"], p["hand_raised_at"] is None, p["hand_raised_at"] or "", p["name"]))
    return people


def viewer_state(live, user):
    """What this viewer needs beyond the events: their own questions (anonymous ones too), upvotes, poll votes and
    raised hand."""
    upvoted = db.session.scalars(
        sa.select(QuestionVote.question_id)
        .join(RoomQuestion, RoomQuestion.id == QuestionVote.question_id)
        .where(RoomQuestion.session_id == live.id, QuestionVote.user_id == user.id)
    ).all()
    votes = db.session.execute(
        sa.select(PollVote.poll_id, PollVote.choices)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.session_id == live.id, PollVote.user_id == user.id)
    ).all()
    asked = db.session.scalars(
        sa.select(RoomQuestion.id).where(RoomQuestion.session_id == live.id, RoomQuestion.author_id == user.id)
    ).all()
    attendance = attendance_of(live, user)
    return {
        "id": user.id,
        "name": user.display_name,
        "is_host": user.id == live.host_id,
        "asked": sorted(asked),
        "upvoted": sorted(upvoted),
        "poll_votes": {str(poll_id): choices for poll_id, choices in votes},
        "hand_raised": attendance is not None and attendance.hand_raised_at is not None,
    }


def session_state(live, user):
    return {
        "id": live.id,
        "title": live.title,
        "status": live.status,
        "chat_locked": live.chat_locked,
        "starts_at": live.starts_at.isoformat(),
        "ends_at": live.ends_at.isoformat(),
        "host": person_json(live.host, live),
        "you": viewer_state(live, user),
    }
