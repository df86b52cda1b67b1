"""What people do in a room besides chatting: questions and their votes, polls, raised hands, and the host's
controls (start, end, lock the chat, remove someone)."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from community.core.models import utcnow
from community.core.payloads import as_id, text_or_none
from community.extensions import db
from community.live.models import Attendance, Poll, PollVote, QuestionVote, RoomConnection, RoomQuestion, SessionStatus
from community.live.room.log import person_json, room_change
from community.live.room.rules import RoomError, clean_text, require_host, require_live

POLL_QUESTION_MAX = 300


POLL_OPTION_MAX = 200


POLL_OPTIONS_MAX = 10


def start(live, user):
    require_host(live, user)
    with room_change(live) as record:
        if live.status != SessionStatus.SCHEDULED:
            raise RoomError("invalid_state", _l("Only a scheduled session can start."))
        live.status = SessionStatus.LIVE
        live.started_at = utcnow()
        return record("start", user, {})


def end(live, user):
    require_host(live, user)
    with room_change(live) as record:
        if live.status not in (SessionStatus.SCHEDULED, SessionStatus.LIVE):
            raise RoomError("invalid_state", _l("The session has ended already."))
        live.status = SessionStatus.ENDED
        live.finished_at = utcnow()
        db.session.execute(
            sa.update(Attendance)
            .where(Attendance.session_id == live.id, Attendance.hand_raised_at.is_not(None))
            .values(hand_raised_at=None)
        )
        return record("end", user, {})


def ask(live, user, text, anonymous=False):
    text = clean_text(text, _l("Send the question as text."))
    if not isinstance(anonymous, bool):
        raise RoomError("invalid", _l("Say whether the question is anonymous with true or false."))
    with room_change(live) as record:
        require_live(live)
        question = RoomQuestion(session_id=live.id, author_id=user.id, text=text, anonymous=anonymous)
        db.session.add(question)
        db.session.flush()
        event = record(
            "question",
            user,
            {
                "question_id": question.id,
                "text": text,
                "anonymous": anonymous,
                "author": person_json(user),
                "votes": 0,
            },
        )
    return event, question


def _question(live, question_id):
    question_id = as_id(question_id)
    question = db.session.get(RoomQuestion, question_id) if question_id else None
    if question is None or question.session_id != live.id:
        raise RoomError("not_found", _l("We could not find that question."))
    return question


def upvote(live, user, question_id):
    question = _question(live, question_id)
    if question.author_id == user.id:
        raise RoomError("own_question", _l("You cannot upvote your own question."))
    with room_change(live) as record:
        require_live(live)
        if db.session.get(QuestionVote, (question.id, user.id)) is not None:
            raise RoomError("already_voted", _l("You have upvoted this question already."))
        db.session.add(QuestionVote(question_id=question.id, user_id=user.id))
        db.session.flush()
        question.votes = db.session.scalar(
            sa.select(sa.func.count()).select_from(QuestionVote).where(QuestionVote.question_id == question.id)
        )
        return record("upvote", user, {"question_id": question.id, "votes": question.votes})


def mark_answered(live, user, question_id):
    require_host(live, user)
    question = _question(live, question_id)
    with room_change(live) as record:
        if question.answered:
            raise RoomError("already_answered", _l("This question is marked answered already."))
        question.answered = True
        question.highlighted = False
        return record("answer", user, {"question_id": question.id})


def highlight(live, user, question_id):
    """Put one question on show (or none, with question_id None)."""
    require_host(live, user)
    question = _question(live, question_id) if question_id is not None else None
    with room_change(live) as record:
        require_live(live)
        db.session.execute(sa.update(RoomQuestion).where(RoomQuestion.session_id == live.id).values(highlighted=False))
        if question is not None:
            question.highlighted = True
        return record("highlight", user, {"question_id": question.id if question else None})


def open_poll(live, user, question, options, multiple=False):
    require_host(live, user)
    question = clean_text(question, _l("Send the poll's question as text."))
    if len(question) > POLL_QUESTION_MAX:
        raise RoomError("too_long", _l("Use at most %(max)d characters.", max=POLL_QUESTION_MAX))
    if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
        raise RoomError("invalid", _l("Send the options as a list of texts."))
    texts = [text_or_none(option).strip() for option in options]
    if any(not text for text in texts) or not 2 <= len(texts) <= POLL_OPTIONS_MAX:
        raise RoomError("invalid", _l("Give from 2 to %(max)d options, none empty.", max=POLL_OPTIONS_MAX))
    if any(len(text) > POLL_OPTION_MAX for text in texts):
        raise RoomError("too_long", _l("Use at most %(max)d characters.", max=POLL_OPTION_MAX))
    if len(set(texts)) != len(texts):
        raise RoomError("invalid", _l("Each option must be different."))
    if not isinstance(multiple, bool):
        raise RoomError("invalid", _l("Say whether several choices are allowed with true or false."))
    with room_change(live) as record:
        require_live(live)
        poll = Poll(
            session_id=live.id,
            question=question,
            options=[{"id": n, "text": text} for n, text in enumerate(texts, start=1)],
            multiple=multiple,
        )
        db.session.add(poll)
        db.session.flush()
        event = record(
            "poll_open",
            user,
            {"poll_id": poll.id, "question": question, "options": poll.options, "multiple": multiple},
        )
    return event, poll


def _poll(live, poll_id):
    poll_id = as_id(poll_id)
    poll = db.session.get(Poll, poll_id) if poll_id else None
    if poll is None or poll.session_id != live.id:
        raise RoomError("not_found", _l("We could not find that poll."))
    return poll


def poll_counts(poll):
    counts = {str(option["id"]): 0 for option in poll.options}
    votes = 0
    for (choices,) in db.session.execute(sa.select(PollVote.choices).where(PollVote.poll_id == poll.id)):
        votes += 1
        for choice in choices:
            counts[str(choice)] += 1
    return counts, votes


def vote(live, user, poll_id, choices):
    poll = _poll(live, poll_id)
    if user.id == live.host_id:
        raise RoomError("forbidden", _l("The host runs the poll and does not vote."))
    valid = {option["id"] for option in poll.options}
    if (
        not isinstance(choices, list)
        or not choices
        or any(as_id(choice) is None for choice in choices)
        or len(set(choices)) != len(choices)
        or not set(choices) <= valid
    ):
        raise RoomError("invalid", _l("Choose among the poll's options."))
    if len(choices) > 1 and not poll.multiple:
        raise RoomError("invalid", _l("This poll takes one choice."))
    with room_change(live) as record:
        require_live(live)
        if not poll.is_open:
            raise RoomError("poll_closed", _l("This poll is closed."))
        if db.session.get(PollVote, (poll.id, user.id)) is not None:
            raise RoomError("already_voted", _l("You have voted in this poll already."))
        db.session.add(PollVote(poll_id=poll.id, user_id=user.id, choices=sorted(choices)))
        db.session.flush()
        counts, votes = poll_counts(poll)
        return record("poll_vote", user, {"poll_id": poll.id, "votes": votes, "counts": counts})


def close_poll(live, user, poll_id):
    require_host(live, user)
    poll = _poll(live, poll_id)
    with room_change(live) as record:
        if not poll.is_open:
            raise RoomError("poll_closed", _l("This poll is closed already."))
        poll.closed_at = utcnow()
        counts, votes = poll_counts(poll)
        return record("poll_close", user, {"poll_id": poll.id, "votes": votes, "counts": counts})


def hand(live, user, raised, user_id=None):
    """Raise or lower one's own hand; the host may lower anyone's with `user_id`."""
    if not isinstance(raised, bool):
        raise RoomError("invalid", _l("Say whether the hand is raised with true or false."))
    target_id = user.id
    if user_id is not None and user_id != user.id:
        require_host(live, user)
        if raised:
            raise RoomError("forbidden", _l("Only each person raises their own hand."))
        target_id = as_id(user_id)
        if target_id is None:
            raise RoomError("invalid", _l("We could not find that person."))
    with room_change(live) as record:
        require_live(live)
        attendance = db.session.get(Attendance, (live.id, target_id))
        if attendance is None:
            raise RoomError("not_found", _l("That person has not come into the room."))
        if (attendance.hand_raised_at is not None) == raised:
            raise RoomError(
                "unchanged", _l("The hand is already raised.") if raised else _l("The hand is already down.")
            )
        attendance.hand_raised_at = utcnow() if raised else None
        return record("hand", user, {"user_id": target_id, "raised": raised})


def remove(live, user, user_id):
    """The host sends someone out of the room for good; returns the event and their sockets' ids, to disconnect."""
    require_host(live, user)
    target_id = as_id(user_id)
    if target_id is None or target_id == user.id:
        raise RoomError("invalid", _l("Choose someone in the room to remove."))
    with room_change(live) as record:
        attendance = db.session.get(Attendance, (live.id, target_id))
        if attendance is None:
            raise RoomError("not_found", _l("That person has not come into the room."))
        if attendance.removed_at is not None:
            raise RoomError("already_removed", _l("That person was removed already."))
        attendance.removed_at = utcnow()
        attendance.hand_raised_at = None
        sids = db.session.scalars(
            sa.select(RoomConnection.sid).where(
                RoomConnection.session_id == live.id, RoomConnection.user_id == target_id
            )
        ).all()
        db.session.execute(
            sa.delete(RoomConnection).where(RoomConnection.session_id == live.id, RoomConnection.user_id == target_id)
        )
        event = record("remove", user, {"user_id": target_id})
    return event, sids


def lock_chat(live, user, locked):
    require_host(live, user)
    if not isinstance(locked, bool):
        raise RoomError("invalid", _l("Say whether the chat is locked with true or false."))
    with room_change(live) as record:
        if live.chat_locked == locked:
            raise RoomError(
                "unchanged", _l("The chat is locked already.") if locked else _l("The chat is already open.")
            )
        live.chat_locked = locked
        return record("lock_chat", user, {"locked": locked})
