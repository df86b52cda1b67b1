"""The room's log: every accepted action runs under the room's lock, stores a `SessionEvent` with the session's
next `seq` (the counter is raised in the same transaction, so numbers are gap-free), commits, and only then
broadcasts, still holding the lock, so each process sends a room's events in `seq` order."""

import threading
from collections import defaultdict
from contextlib import contextmanager

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.auth.models import User
from community.core.models import utcnow
from community.extensions import db
from community.live.models import LiveSession, SessionEvent
from community.live.room import broadcast

_locks = defaultdict(threading.Lock)


_locks_guard = threading.Lock()


@contextmanager
def room_lock(session_id):
    """This process's lock on a room: its changes, commits and broadcasts happen one at a time, in order.

    Take it before the transaction's first write. The reads done so far are ended first, so that people waiting
    for the room do not hold the database connections that the one inside needs (the pool has a few).
    """
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("take the room's lock before changing anything, not after")
    db.session.rollback()  # ends the read-only transaction; loaded objects reload when next used
    with _locks_guard:
        lock = _locks[session_id]
    with lock:
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise


def lock_row(live):
    """Read the session again, locked until commit (PostgreSQL), so other processes wait their turn."""
    db.session.refresh(live, with_for_update=True)


def person_json(user, live=None):
    """A person as the room shows them; `host` is said when the session is given."""
    person = {
        "id": user.id,
        "name": user.display_name,
        "handle": user.handle,
        # Only a city the programme confirmed: anyone can ask to join any city.
        "city": user.confirmed_city.name if user.confirmed_city else None,
    }
    if live is not None:
        person["host"] = user.id == live.host_id
    return person


def event_json(event, actor, for_host):
    """What a viewer sees of an event: the host sees it whole; others lose anonymous authors and running counts."""
    return event_view(event, person_json(actor) if actor is not None else None, for_host)


def event_view(event, actor_data, for_host):
    """event_json for an actor already shown as person_json (or None)."""
    data = dict(event.payload)
    if not for_host:
        if event.type == "question" and data.get("anonymous"):
            data["author"] = None
            actor_data = None
        elif event.type == "poll_vote":
            data.pop("counts", None)
            actor_data = None
    return {
        "seq": event.seq,
        "type": event.type,
        "at": event.created_at.isoformat(),
        "actor": actor_data,
        "data": data,
    }


def _needs_two_views(event):
    return (event.type == "question" and event.payload.get("anonymous")) or event.type == "poll_vote"


@contextmanager
def room_change(live):
    """Hold the room's lock while the caller changes the room and records events; then commit and broadcast.

    Yields a function `record(type, actor, data)` that stores the next event and returns it.
    """
    recorded = []
    with room_lock(live.id):
        lock_row(live)

        def record(type, actor, data):
            seq = db.session.execute(
                sa.update(LiveSession)
                .where(LiveSession.id == live.id)
                .values(last_seq=LiveSession.last_seq + 1)
                .returning(LiveSession.last_seq)
                .execution_options(synchronize_session=False)
            ).scalar_one()
            event = SessionEvent(
                session_id=live.id, seq=seq, type=type, actor_id=actor.id if actor else None, payload=data
            )
            event.created_at = utcnow()
            db.session.add(event)
            # Shown now, in this transaction: after the commit the actor would be read again.
            recorded.append((event, person_json(actor) if actor is not None else None))
            return event

        yield record
        db.session.commit()
        send(live.id, recorded)


def append(session_id, type, entries, conditions):
    """Store events that change nothing but the log (chat messages), one per (actor_id, data) in `entries`, with
    consecutive seqs; return them in order, or None, storing nothing, when `conditions` on the session's row do not
    hold. The caller holds the room's lock and broadcasts the events.

    On PostgreSQL raising the counter and storing the events are one statement outside any transaction, so the row
    is locked only while the database runs it: other processes never wait on this one's round trips.
    """
    now, count = utcnow(), len(entries)
    bumped = (
        sa.update(LiveSession)
        .where(LiveSession.id == session_id, *conditions)
        .values(last_seq=LiveSession.last_seq + count)
        .returning(LiveSession.last_seq)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        bumped = bumped.cte("bumped")
        items = sa.values(
            sa.column("number", sa.Integer),
            sa.column("actor_id", sa.Integer),
            sa.column("payload", SessionEvent.payload.type),
            name="items",
        ).data([(number, actor_id, data) for number, (actor_id, data) in enumerate(entries, 1)])
        stored = (
            sa.insert(SessionEvent)
            .from_select(
                ["session_id", "seq", "type", "actor_id", "payload", "created_at"],
                sa.select(
                    sa.literal(session_id),
                    bumped.c.last_seq - count + items.c.number,
                    sa.literal(type, SessionEvent.type.type),
                    items.c.actor_id,
                    items.c.payload,
                    sa.literal(now, SessionEvent.created_at.type),
                ).select_from(bumped.join(items, sa.true())),
            )
            .returning(SessionEvent.id, SessionEvent.seq)
        )
        connection = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        rows = sorted(connection.execute(stored).all(), key=lambda row: row.seq)
        db.session.commit()  # gives the connection back; the statement was committed when it ran
    else:
        last_seq = db.session.execute(bumped.execution_options(synchronize_session=False)).scalar()
        rows = []
        if last_seq is not None:
            stored = [
                SessionEvent(
                    session_id=session_id, seq=last_seq - count + number, type=type, actor_id=actor_id, payload=data
                )
                for number, (actor_id, data) in enumerate(entries, 1)
            ]
            db.session.add_all(stored)
            db.session.flush()
            rows = [(event.id, event.seq) for event in stored]
        db.session.commit()
    if not rows:
        return None
    events = []
    for (event_id, seq), (actor_id, data) in zip(rows, entries, strict=True):
        event = SessionEvent(id=event_id, session_id=session_id, seq=seq, type=type, actor_id=actor_id, payload=data)
        event.created_at = now
        events.append(event)
    return events


def send(session_id, recorded):
    """Send stored events, [(event, actor as person_json)] in seq order, to the room (together: they were stored
    together)."""
    broadcast.send(
        session_id,
        [
            (
                event_view(event, actor_data, True),
                event_view(event, actor_data, False) if _needs_two_views(event) else None,
            )
            for event, actor_data in recorded
        ],
    )


def events_after(live, viewer, after_seq=0, limit=None):
    """The room's events after `after_seq`, as `viewer` sees them."""
    query = (
        sa.select(SessionEvent)
        .where(SessionEvent.session_id == live.id, SessionEvent.seq > after_seq)
        .options(so.joinedload(SessionEvent.actor).joinedload(User.city))
        .order_by(SessionEvent.seq)
    )
    if limit:
        query = query.limit(limit)
    for_host = viewer is not None and viewer.id == live.host_id
    return [event_json(event, event.actor, for_host) for event in db.session.scalars(query)]
