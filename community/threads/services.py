"""Thread workflows and rules, shared by pages, the API and sockets: asking, replying, editing, voting,
accepting, following, flagging and moderating.

Each workflow validates first and changes nothing when the input is refused (ThreadInputError), stores its
notifications in the same transaction (they are delivered once it commits), commits, and then tells the
thread's live room.
"""

import re

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from slugify import slugify

from community.auth.models import User
from community.cities.models import City
from community.core import page_cache
from community.core.errors import Conflict, InputError, NotAllowed
from community.core.markdown import mentioned_handles
from community.core.markdown import render as render_markdown
from community.core.models import utcnow
from community.core.permissions import Role
from community.core.urls import path_for
from community.extensions import db, socketio
from community.framework import services as framework
from community.framework.models import Criterion, PracticeArea
from community.framework.services import area_by_code, criteria_by_code
from community.notifications.services import notify
from community.search import services as search
from community.threads.models import (
    Flag,
    FollowLevel,
    ModerationAction,
    Post,
    PostKind,
    PostRevision,
    Subscription,
    Tag,
    Thread,
    Visibility,
    Vote,
    thread_criteria,
    thread_tags,
)

TITLE_MAX = 200
BODY_MAX = 50_000
TAGS_MAX = 5
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
CRITERIA_MAX = 10
FLAG_REASON_MAX = 500
ID_MAX = 2**31 - 1  # the largest id an INTEGER column holds; larger ones cannot name a row


class ThreadInputError(InputError):
    """A question, answer or comment refused. `fields` maps each field to a translated message."""


# Who may see and do what.


def can_view(thread, user):
    return thread.visibility == Visibility.PUBLIC or (user is not None and user.is_authenticated)


def can_moderate(user):
    return user is not None and user.is_authenticated and user.role in (Role.MENTOR, Role.ADMIN)


def can_accept(thread, user):
    """The asker, a confirmed member of the asker's city, a mentor or an admin."""
    if user is None or not user.is_authenticated:
        return False
    if user.id == thread.author_id or can_moderate(user):
        return True
    return thread.city_id is not None and user.city_id == thread.city_id and user.city_confirmed_at is not None


def can_edit(post, user):
    return user is not None and user.is_authenticated and post.author_id == user.id


def is_locked_for(thread, user):
    """A locked thread takes no new posts and no edits, the asker's included, but from moderators."""
    return thread.locked and not can_moderate(user)


def check_editable(thread, user):
    """Refuse an edit of the question or a post of a locked thread by anyone but a moderator."""
    if is_locked_for(thread, user):
        raise NotAllowed(_l("This thread is locked; only moderators can change it."))


def can_reply(thread, user):
    return user is not None and user.is_authenticated and (not thread.locked or can_moderate(user))


# Input.


def as_id(value):
    """A row id from an int or a string of digits, or None when it cannot be one (bools, floats, "²", 10**30)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if 1 <= value <= ID_MAX else None


def _text(value):
    """User text without NUL characters, which PostgreSQL cannot store and no one means to type."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def clean_body(body, field="body"):
    body = (_text(body) or "").strip()
    if not body:
        raise ThreadInputError({field: _l("Write something before sending.")})
    if len(body) > BODY_MAX:
        raise ThreadInputError({field: _l("Use at most %(max)s characters.", max=format_number(BODY_MAX))})
    return body


def clean_thread_input(title, body, practice_area, criteria=(), tags=(), visibility=Visibility.PUBLIC):
    """Check a new or edited question; return (title, body, area, criteria, tag names, visibility)."""
    errors = {}
    title = _text(title or "").strip() if isinstance(title, str) else ""
    if not title:
        errors["title"] = _l("Give your question a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("Use at most %(max)d characters.", max=TITLE_MAX)
    try:
        body = clean_body(body if isinstance(body, str) else "")
    except ThreadInputError as error:
        errors.update(error.fields)
    area = area_by_code(_text(practice_area)) if isinstance(practice_area, str) and practice_area else None
    if area is None:
        errors["practice_area"] = _l("Choose one of the eight practice areas.")
    codes = _as_list(_text(criteria))
    codes = [_text(code) for code in codes] if codes is not None else None
    found = criteria_by_code([c.upper() for c in codes if isinstance(c, str)]) if codes is not None else {}
    if codes is None or any(not isinstance(c, str) or c.upper() not in found for c in codes):
        errors["criteria"] = _l("Use criterion codes from the framework, such as DM2 or PA2.")
    elif len(found) > CRITERIA_MAX:
        errors["criteria"] = _l("Choose at most %(max)d criteria.", max=CRITERIA_MAX)
    tag_names = _as_list(tags)
    clean_tags = []
    if tag_names is None:
        errors["tags"] = _l("Tags are a list of words.")
    else:
        for name in tag_names:
            slug = slugify(name, max_length=40) if isinstance(name, str) else ""
            if not TAG_PATTERN.match(slug):
                errors["tags"] = _l("Tags are short words of letters, digits and hyphens.")
                break
            if slug not in clean_tags:
                clean_tags.append(slug)
        if len(clean_tags) > TAGS_MAX:
            errors["tags"] = _l("Use at most %(max)d tags.", max=TAGS_MAX)
    if not isinstance(visibility, str) or visibility not in set(Visibility):
        errors["visibility"] = _l("Choose public or members only.")
    if errors:
        raise ThreadInputError(errors)
    return title, body, area, sorted(found.values(), key=lambda c: c.code), clean_tags, Visibility(visibility)


def _as_list(value):
    """A list from a list, or from a comma- or space-separated string; None when it is neither."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[,\s]+", value) if part]
    if isinstance(value, list | tuple):
        return list(value)
    return None


def _tags(names):
    existing = {tag.name: tag for tag in db.session.scalars(sa.select(Tag).where(Tag.name.in_(names)))}
    return [existing.get(name) or Tag(name=name) for name in names]


def _render(body):
    handles = mentioned_handles(body)
    people = _people_by_handle(handles)
    mentions = {handle: path_for("auth.person", handle=handle) for handle in people}
    return render_markdown(body, mentions), people


def _people_by_handle(handles):
    if not handles:
        return {}
    rows = db.session.scalars(sa.select(User).where(User.handle.in_(handles), User.active.is_(True)))
    return {user.handle: user for user in rows}


# Workflows.


def create_thread(author, title, body, practice_area, criteria=(), tags=(), visibility=Visibility.PUBLIC):
    """Ask a question: the thread, its question post, and the asker following it."""
    title, body, area, found_criteria, tag_names, visibility = clean_thread_input(
        title, body, practice_area, criteria, tags, visibility
    )
    now = utcnow()
    thread = Thread(
        title=title,
        author=author,
        city_id=author.city_id if author.city_confirmed_at else None,
        practice_area=area,
        visibility=visibility,
        language=author.locale,
        created_at=now,
        last_activity_at=now,
        criteria=found_criteria,
        tags=_tags(tag_names),
    )
    html, mentioned = _render(body)
    question = Post(thread=thread, author=author, kind=PostKind.QUESTION, body=body, body_html=html, created_at=now)
    db.session.add_all([thread, question])
    db.session.flush()
    thread.question_id = question.id
    db.session.add(Subscription(user_id=author.id, thread_id=thread.id, level=FollowLevel.WATCHING))
    _notify_mentions(thread, question, author, mentioned, already=set())
    _index(thread, question)
    _commit(thread)
    return thread


def edit_thread(thread, editor, title, body, practice_area, criteria=(), tags=(), visibility=None):
    """The asker edits the question: its text (kept as a revision), title, area, criteria, tags, visibility."""
    if editor.id != thread.author_id:
        raise NotAllowed(_l("Only the asker can edit the question."))
    check_editable(thread, editor)
    title, body, area, found_criteria, tag_names, visibility = clean_thread_input(
        title, body, practice_area, criteria, tags, visibility or thread.visibility
    )
    retitled = title != thread.title
    thread.title, thread.practice_area, thread.visibility = title, area, visibility
    thread.criteria, thread.tags = found_criteria, _tags(tag_names)
    _revise(thread.question, editor, body)
    _index(thread, thread.question)
    search.update_group(_group(thread), areas=[area.code], members_only=visibility == Visibility.MEMBERS)
    if retitled:
        search.retitle_group(_group(thread), "post", title)
    _commit(thread)
    _broadcast(thread, "edited", thread.question)
    return thread


def add_post(thread, author, body, parent=None):
    """Answer the question, or comment under the question or an answer."""
    if not can_reply(thread, author):
        raise NotAllowed(_l("This thread is locked; only moderators can reply."))
    body = clean_body(body)
    if parent is not None and (parent.thread_id != thread.id or parent.kind == PostKind.COMMENT):
        raise ThreadInputError({"parent": _l("Comments go under the question or under an answer.")})
    html, mentioned = _render(body)
    now = utcnow()
    post = Post(
        thread=thread,
        author=author,
        parent_id=parent.id if parent else None,
        kind=PostKind.COMMENT if parent else PostKind.ANSWER,
        body=body,
        body_html=html,
        created_at=now,
    )
    db.session.add(post)
    thread.reply_count = Thread.reply_count + 1
    thread.last_activity_at = now
    db.session.flush()
    notified = _notify_followers(thread, post, author, parent)
    _notify_mentions(thread, post, author, mentioned, already=notified)
    _subscribe(author.id, thread.id, FollowLevel.WATCHING, only_if_new=True)
    _index(thread, post)
    _commit(thread)
    _broadcast(thread, "post", post)
    return post


def edit_post(post, editor, body):
    """An author edits their post; the previous text is kept as a revision that everyone can see."""
    if not can_edit(post, editor):
        raise NotAllowed(_l("You can only edit your own posts."))
    thread = post.thread
    check_editable(thread, editor)
    _revise(post, editor, clean_body(body))
    _index(thread, post)
    _commit(thread)
    _broadcast(thread, "edited", post)
    return post


def _revise(post, editor, body):
    if body == post.body:
        return
    db.session.add(
        PostRevision(
            post_id=post.id,
            editor_id=editor.id,
            body=post.body,
            body_html=post.body_html,
            written_at=post.edited_at or post.created_at,
        )
    )
    post.body = body
    post.body_html, _mentioned = _render(body)
    post.edited_at = utcnow()
    post.revision_count = Post.revision_count + 1


def has_replies(post):
    return db.session.scalar(sa.select(Post.id).where(Post.parent_id == post.id).limit(1)) is not None


def delete_post(post, user):
    """An author deletes their own answer or comment while nothing hangs under it."""
    if not can_edit(post, user) or post.kind == PostKind.QUESTION:
        raise NotAllowed(_l("You can only delete your own replies."))
    if has_replies(post):
        raise NotAllowed(_l("This reply has comments under it, so it stays."))
    thread = post.thread
    if thread.accepted_post_id == post.id:
        thread.accepted_post_id = None
    thread.reply_count = Thread.reply_count - 1
    post_id = post.id
    db.session.delete(post)
    search.remove_document("post", post_id)
    _commit(thread)
    _broadcast(thread, "deleted", None, post_id=post_id)


def toggle_vote(post, user):
    """Upvote a question or an answer, or take the vote back; returns (voted, score). Comments take no votes."""
    if post.kind == PostKind.COMMENT:
        raise ThreadInputError({"post": _l("Only a question or an answer can be voted on.")})
    if post.author_id == user.id:
        raise NotAllowed(_l("You cannot vote for your own post."))
    existing = db.session.get(Vote, (post.id, user.id))
    if existing is None:
        db.session.add(Vote(post_id=post.id, user_id=user.id))
        delta = 1
    else:
        db.session.delete(existing)
        delta = -1
    post.score = Post.score + delta
    if post.kind == PostKind.QUESTION:
        post.thread.score = Thread.score + delta
    _commit(post.thread)
    _broadcast(post.thread, "vote", post)
    return delta > 0, post.score


def toggle_accept(post, user):
    """Mark an answer accepted (replacing any other), or unmark it; returns whether it is now accepted."""
    thread = post.thread
    if post.kind != PostKind.ANSWER:
        raise ThreadInputError({"post": _l("Only an answer can be accepted.")})
    if not can_accept(thread, user):
        raise NotAllowed(_l("Only the asker, their city's team or a mentor can accept an answer."))
    accepted = thread.accepted_post_id != post.id
    thread.accepted_post_id = post.id if accepted else None
    if accepted:
        _notify(post.author_id, "accepted", user, thread, post)
    _commit(thread)
    _broadcast(thread, "accepted", post if accepted else None)
    return accepted


def follow(thread, user, level):
    if level not in set(FollowLevel):
        raise ThreadInputError({"level": _l("Choose watching, normal or muted.")})
    _subscribe(user.id, thread.id, FollowLevel(level))
    db.session.commit()


def follow_level(thread, user):
    if user is None or not user.is_authenticated:
        return None
    sub = db.session.get(Subscription, (user.id, thread.id))
    return sub.level if sub else FollowLevel.NORMAL


def _subscribe(user_id, thread_id, level, only_if_new=False):
    sub = db.session.get(Subscription, (user_id, thread_id))
    if sub is None:
        db.session.add(Subscription(user_id=user_id, thread_id=thread_id, level=level))
    elif not only_if_new:
        sub.level = level


def has_reported(post, user):
    query = sa.select(Flag.id).where(Flag.post_id == post.id, Flag.user_id == user.id).limit(1)
    return db.session.scalar(query) is not None


def flag_post(post, user, reason):
    """Report a post to the moderators, once per person: a second report is a Conflict."""
    already = Conflict(_l("You have already reported this post."), "already_reported")
    if has_reported(post, user):
        raise already
    reason = _text(reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ThreadInputError({"reason": _l("Say what is wrong with this post.")})
    if len(reason) > FLAG_REASON_MAX:
        raise ThreadInputError({"reason": _l("Use at most %(max)d characters.", max=FLAG_REASON_MAX)})
    flag = Flag(post_id=post.id, user_id=user.id, reason=reason)
    db.session.add(flag)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()  # the same person's other report was stored first
        raise already from None
    return flag


def _commit(thread):
    """Commit a write that changes what the thread's page and the lists show, and drop their cached copies."""
    thread_id = thread.id
    db.session.commit()
    page_cache.changed(thread_id)


# Moderation: every action is logged with who and when.


def _moderator(user):
    if not can_moderate(user):
        raise NotAllowed(_l("Only mentors and admins moderate."))


def _log(actor, action, thread=None, post=None, detail=""):
    db.session.add(
        ModerationAction(
            actor_id=actor.id,
            action=action,
            thread_id=thread.id if thread else None,
            post_id=post.id if post else None,
            detail=detail[:500],
        )
    )


def _resolve_flags(post, moderator):
    for flag in db.session.scalars(sa.select(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))):
        flag.resolved_at, flag.resolved_by_id = utcnow(), moderator.id


def set_hidden(post, moderator, hidden):
    _moderator(moderator)
    post.hidden = bool(hidden)
    if hidden:
        _resolve_flags(post, moderator)
    _index(post.thread, post)
    _log(moderator, "hide" if hidden else "unhide", post.thread, post)
    _commit(post.thread)
    _broadcast(post.thread, "edited", post)


def dismiss_flags(post, moderator):
    _moderator(moderator)
    _resolve_flags(post, moderator)
    _log(moderator, "dismiss_flags", post.thread, post)
    _commit(post.thread)


def set_locked(thread, moderator, locked):
    _moderator(moderator)
    thread.locked = bool(locked)
    _log(moderator, "lock" if locked else "unlock", thread)
    _commit(thread)


def set_pinned(thread, moderator, pinned):
    _moderator(moderator)
    thread.pinned = bool(pinned)
    _log(moderator, "pin" if pinned else "unpin", thread)
    _commit(thread)


def move_thread(thread, moderator, practice_area):
    _moderator(moderator)
    area = area_by_code(practice_area) if isinstance(practice_area, str) else None
    if area is None:
        raise ThreadInputError({"practice_area": _l("Choose one of the eight practice areas.")})
    detail = f"{thread.practice_area.code} → {area.code}"
    thread.practice_area = area
    search.update_group(_group(thread), areas=[area.code])
    _log(moderator, "move", thread, detail=detail)
    _commit(thread)


# The search index: the question (as the thread) and each answer or comment, unless hidden.


def _group(thread):
    return f"thread:{thread.id}"


def _document(thread, post):
    is_question = post.kind == PostKind.QUESTION
    return search.Document(
        kind="thread" if is_question else "post",
        object_id=thread.id if is_question else post.id,
        title=thread.title,
        body=search.plain_text(post.body_html),
        url=path_for("threads.show", thread_id=thread.id, _anchor=None if is_question else f"post-{post.id}"),
        group_key=_group(thread),
        language=thread.language,
        areas=[thread.practice_area.code],
        members_only=thread.visibility == Visibility.MEMBERS,
    )


def _index(thread, post):
    if post.hidden:
        is_question = post.kind == PostKind.QUESTION
        search.remove_document("thread" if is_question else "post", thread.id if is_question else post.id)
    else:
        search.index_document(_document(thread, post))


def _all_documents():
    query = (
        sa.select(Post)
        .where(Post.hidden.is_(False))
        .options(so.joinedload(Post.thread).joinedload(Thread.practice_area))
        .order_by(Post.id)
        .execution_options(yield_per=500)
    )
    for post in db.session.scalars(query):
        yield _document(post.thread, post)


search.register_source("threads", _all_documents)


# Telling others: notifications and the live thread room.


def _notify(recipient_id, kind, actor, thread, post):
    notify(
        recipient_id,
        kind,
        actor_id=actor.id,
        url=path_for("threads.show", thread_id=thread.id, _anchor=f"post-{post.id}"),
        data={"actor_name": actor.display_name, "thread_title": thread.title},
    )


def _notify_followers(thread, post, author, parent):
    """Watchers hear of every reply; the author of the post replied to hears unless muted. Returns who heard."""
    query = sa.select(Subscription.user_id, Subscription.level).where(Subscription.thread_id == thread.id)
    subs = dict(db.session.execute(query).all())
    recipients = {user_id for user_id, level in subs.items() if level == FollowLevel.WATCHING}
    replied_to = parent.author_id if parent else thread.author_id
    if subs.get(replied_to) != FollowLevel.MUTED:
        recipients.add(replied_to)
    recipients.discard(author.id)
    for user_id in sorted(recipients):
        _notify(user_id, "reply", author, thread, post)
    return recipients


def _notify_mentions(thread, post, author, mentioned, already):
    for person in mentioned.values():
        if person.id in already or person.id == author.id:
            continue
        muted = db.session.get(Subscription, (person.id, thread.id))
        if muted is not None and muted.level == FollowLevel.MUTED:
            continue
        _notify(person.id, "mention", author, thread, post)


def _broadcast(thread, kind, post, **extra):
    """Tell the pages open on this thread what changed; they fetch what they show in their own language."""
    data = {"thread_id": thread.id, "type": kind, **extra}
    if post is not None:
        data.update(
            post_id=post.id,
            parent_id=post.parent_id,
            kind=post.kind,
            score=post.score,
            accepted_post_id=thread.accepted_post_id,
        )
    else:
        data["accepted_post_id"] = thread.accepted_post_id
    socketio.emit("thread_event", data, to=f"thread:{thread.id}", namespace="/")


# Reading: lists and the thread page, in a fixed, small number of queries.

SORTS = {
    "activity": (Thread.pinned.desc(), Thread.last_activity_at.desc(), Thread.id.desc()),
    "votes": (Thread.score.desc(), Thread.last_activity_at.desc(), Thread.id.desc()),
    "newest": (Thread.created_at.desc(), Thread.id.desc()),
}
STATUSES = ("unanswered", "answered", "mine", "following")


def thread_list_query(user, area=None, criterion=None, tag=None, city=None, status=None, sort="activity"):
    """The threads `user` may see, filtered by codes and slugs, newest activity first unless sorted otherwise."""
    query = sa.select(Thread).options(
        so.joinedload(Thread.author),
        so.joinedload(Thread.city),
        so.joinedload(Thread.practice_area),
        so.selectinload(Thread.tags),
    )
    area, criterion, tag, city = (_text(value) for value in (area, criterion, tag, city))
    signed_in = user is not None and user.is_authenticated
    if not signed_in:
        query = query.where(Thread.visibility == Visibility.PUBLIC)
    if area:
        query = query.where(
            Thread.practice_area_id == sa.select(PracticeArea.id).where(PracticeArea.code == area).scalar_subquery()
        )
    if criterion:
        query = query.where(
            Thread.id.in_(sa.select(thread_criteria.c.thread_id).join(Criterion).where(Criterion.code == criterion))
        )
    if tag:
        query = query.where(Thread.id.in_(sa.select(thread_tags.c.thread_id).join(Tag).where(Tag.name == tag)))
    if city:
        query = query.where(Thread.city_id == sa.select(City.id).where(City.slug == city).scalar_subquery())
    if status == "unanswered":
        query = query.where(Thread.accepted_post_id.is_(None))
    elif status == "answered":
        query = query.where(Thread.accepted_post_id.is_not(None))
    elif status == "mine" and signed_in:
        query = query.where(Thread.author_id == user.id)
    elif status == "following" and signed_in:
        query = query.where(
            Thread.id.in_(
                sa.select(Subscription.thread_id).where(
                    Subscription.user_id == user.id, Subscription.level == FollowLevel.WATCHING
                )
            )
        )
    return query.order_by(*SORTS.get(sort, SORTS["activity"]))


def load_thread_page(thread_id, user):
    """The thread with everything its page shows: (thread, question, answers, comments by parent, my votes).

    Answers come accepted first, then by votes, then oldest first; hidden posts are left to the template.
    """
    thread = db.session.scalar(
        sa.select(Thread)
        .where(Thread.id == thread_id)
        .options(
            so.joinedload(Thread.author),
            so.joinedload(Thread.city),
            so.joinedload(Thread.practice_area),
            so.selectinload(Thread.criteria),
            so.selectinload(Thread.tags),
        )
    )
    if thread is None:
        return None
    posts = db.session.scalars(
        sa.select(Post)
        .where(Post.thread_id == thread.id)
        .options(so.joinedload(Post.author).joinedload(User.city))
        .order_by(Post.created_at, Post.id)
    ).all()
    question = next((p for p in posts if p.kind == PostKind.QUESTION), None)
    answers = [p for p in posts if p.kind == PostKind.ANSWER]
    answers.sort(key=lambda p: (p.id != thread.accepted_post_id, -p.score, p.created_at, p.id))
    comments = {}
    for post in posts:
        if post.kind == PostKind.COMMENT:
            comments.setdefault(post.parent_id, []).append(post)
    my_votes = set()
    if user is not None and user.is_authenticated and posts:
        my_votes = set(db.session.scalars(sa.select(Vote.post_id).join(Post).where(
            Post.thread_id == thread.id, Vote.user_id == user.id)))  # fmt: skip
    return thread, question, answers, comments, my_votes


def _related_threads(user, filters, limit):
    return db.session.scalars(thread_list_query(user, **filters).limit(limit)).unique().all()


framework.register_related("threads", _related_threads)
