"""Pages for browsing, asking, replying, voting, accepting, following, flagging and moderating threads."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.cities.services import city_choices
from community.core import page_cache
from community.core.forms import EmptyForm, show_errors
from community.core.pagination import page_args
from community.core.permissions import public, signed_in, staff_required
from community.core.ratelimits import writes
from community.extensions import db
from community.framework.services import practice_areas
from community.threads import services
from community.threads.forms import (
    MODERATION_LABELS,
    EditPostForm,
    FlagForm,
    FollowForm,
    MoveForm,
    ReplyForm,
    ThreadForm,
)
from community.threads.models import Flag, ModerationAction, Post, PostKind, PostRevision, Thread

bp = Blueprint("threads", __name__, url_prefix="/threads")


def viewable_thread(thread_id):
    """The thread, if the current user may read it: members-only threads are a 404 to visitors."""
    thread = db.get_or_404(Thread, thread_id)
    if not services.can_view(thread, current_user):
        abort(404)
    return thread


def viewable_post(post_id):
    post = db.get_or_404(Post, post_id)
    viewable_thread(post.thread_id)
    return post


def list_filters():
    """The list's filters from the query string; unknown values are dropped rather than refused."""
    args = request.args
    status = args.get("status", "")
    sort = args.get("sort", "activity")
    return {
        "area": args.get("area", "").upper()[:8] or None,
        "criterion": args.get("criterion", "").upper()[:10] or None,
        "tag": args.get("tag", "").lower()[:40] or None,
        "city": args.get("city", "")[:140] or None,
        "status": status if status in services.STATUSES else None,
        "sort": sort if sort in services.SORTS else "activity",
    }


@bp.route("/")
@public
@page_cache.cached_for_visitors(lambda: page_cache.LIST)
def index():
    filters = list_filters()
    page, per_page = page_args(default_per_page=20)
    threads = db.paginate(
        services.thread_list_query(current_user, **filters), page=page, per_page=per_page, error_out=False
    )
    return render_template(
        "threads/index.html",
        threads=threads,
        filters=filters,
        areas=practice_areas(),
        cities=city_choices(),
        statuses=services.STATUSES,
    )


@bp.route("/new", methods=["GET", "POST"])
@writes
@signed_in
def create():
    form = ThreadForm()
    if request.method == "GET":
        form.practice_area.data = request.args.get("area", "").upper()
        form.criteria.data = [c for c in request.args.getlist("criterion") if c]
    if form.validate_on_submit():
        try:
            thread = services.create_thread(current_user, *form.question())
        except services.ThreadInputError as error:
            show_errors(form, error)
        else:
            flash(_("Your question is posted."), "success")
            return redirect(url_for("threads.show", thread_id=thread.id))
    status = 400 if form.is_submitted() else 200
    return render_template("threads/form.html", form=form, thread=None), status


@bp.route("/<int:thread_id>")
@public
@page_cache.cached_for_visitors(lambda thread_id: f"thread:{thread_id}")
def show(thread_id):
    viewable_thread(thread_id)
    thread, question, answers, comments, my_votes = services.load_thread_page(thread_id, current_user)
    return render_thread(thread, question, answers, comments, my_votes, ReplyForm())


def render_thread(thread, question, answers, comments, my_votes, reply_form, status=200):
    follow_form = FollowForm(level=services.follow_level(thread, current_user))
    can_moderate = services.can_moderate(current_user)
    return render_template(
        "threads/show.html",
        thread=thread,
        question=question,
        answers=answers,
        comments=comments,
        my_votes=my_votes,
        reply_form=reply_form,
        follow_form=follow_form,
        action_form=EmptyForm(),
        # Only moderators see the move form, and its choices cost two queries.
        move_form=MoveForm(practice_area=thread.practice_area.code) if can_moderate else None,
        can_accept=services.can_accept(thread, current_user),
        can_reply=services.can_reply(thread, current_user),
        can_moderate=can_moderate,
    ), status


@bp.route("/<int:thread_id>/posts", methods=["POST"])
@writes
@signed_in
def reply(thread_id):
    thread = viewable_thread(thread_id)
    form = ReplyForm()
    parent = None
    if form.parent_id.data:
        parent_id = services.as_id(form.parent_id.data)
        parent = db.session.get(Post, parent_id) if parent_id else None
        if parent is None or parent.thread_id != thread.id:
            abort(400, description=_("Comments go under the question or under an answer."))
    if form.validate_on_submit():
        try:
            post = services.add_post(thread, current_user, form.body.data, parent)
        except services.NotAllowed as error:
            abort(403, description=str(error.message))
        except services.ThreadInputError as error:
            show_errors(form, error)
        else:
            return redirect(url_for("threads.show", thread_id=thread.id, _anchor=f"post-{post.id}"))
    # Show the thread again with the text kept in the form and the reason it was refused.
    thread, question, answers, comments, my_votes = services.load_thread_page(thread_id, current_user)
    return render_thread(thread, question, answers, comments, my_votes, form, status=400)


@bp.route("/<int:thread_id>/edit", methods=["GET", "POST"])
@signed_in
def edit(thread_id):
    thread = viewable_thread(thread_id)
    if thread.author_id != current_user.id:
        abort(403)
    try:
        services.check_editable(thread, current_user)
    except services.NotAllowed as error:
        abort(403, description=str(error.message))
    form = ThreadForm(obj=thread)
    form.submit.label.text = _("Save the question")
    if request.method == "GET":
        form.body.data = thread.question.body
        form.practice_area.data = thread.practice_area.code
        form.criteria.data = [c.code for c in thread.criteria]
        form.tags.data = ", ".join(tag.name for tag in thread.tags)
    if form.validate_on_submit():
        try:
            services.edit_thread(thread, current_user, *form.question())
        except services.ThreadInputError as error:
            show_errors(form, error)
        else:
            flash(_("Your question is saved."), "success")
            return redirect(url_for("threads.show", thread_id=thread.id))
    status = 400 if form.is_submitted() else 200
    return render_template("threads/form.html", form=form, thread=thread), status


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_post(post_id):
    post = viewable_post(post_id)
    if post.kind == PostKind.QUESTION:
        return redirect(url_for("threads.edit", thread_id=post.thread_id))
    if not services.can_edit(post, current_user):
        abort(403)
    try:
        services.check_editable(post.thread, current_user)
    except services.NotAllowed as error:
        abort(403, description=str(error.message))
    form = EditPostForm(body=post.body)
    if form.validate_on_submit():
        try:
            services.edit_post(post, current_user, form.body.data)
        except services.NotAllowed as error:
            abort(403, description=str(error.message))
        except services.ThreadInputError as error:
            show_errors(form, error)
        else:
            return redirect(url_for("threads.show", thread_id=post.thread_id, _anchor=f"post-{post.id}"))
    status = 400 if form.is_submitted() else 200
    return render_template("threads/edit_post.html", form=form, post=post), status


@bp.route("/posts/<int:post_id>/delete", methods=["POST"])
@signed_in
def delete_post(post_id):
    post = viewable_post(post_id)
    thread_id = post.thread_id
    if EmptyForm().validate_on_submit():
        try:
            services.delete_post(post, current_user)
        except services.NotAllowed as error:
            abort(403, description=str(error.message))
        flash(_("Your reply is deleted."), "info")
    return redirect(url_for("threads.show", thread_id=thread_id))


@bp.route("/posts/<int:post_id>/revisions")
@public
def revisions(post_id):
    post = viewable_post(post_id)
    if post.hidden and not services.can_moderate(current_user):
        abort(404)  # a hidden post's text, old or new, is for moderators only
    history = db.session.scalars(
        sa.select(PostRevision)
        .where(PostRevision.post_id == post.id)
        .options(sa.orm.joinedload(PostRevision.editor))
        .order_by(PostRevision.replaced_at.desc())
    ).all()
    return render_template("threads/revisions.html", post=post, history=history)


def _back_to(post):
    return redirect(url_for("threads.show", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


@bp.route("/posts/<int:post_id>/vote", methods=["POST"])
@writes
@signed_in
def vote(post_id):
    post = viewable_post(post_id)
    if EmptyForm().validate_on_submit():
        try:
            services.toggle_vote(post, current_user)
        except services.NotAllowed as error:
            abort(403, description=str(error.message))
        except services.ThreadInputError as error:
            abort(400, description=str(next(iter(error.fields.values()))))
    return _back_to(post)


@bp.route("/posts/<int:post_id>/accept", methods=["POST"])
@signed_in
def accept(post_id):
    post = viewable_post(post_id)
    if EmptyForm().validate_on_submit():
        try:
            accepted = services.toggle_accept(post, current_user)
        except services.NotAllowed as error:
            abort(403, description=str(error.message))
        except services.ThreadInputError as error:
            abort(400, description=str(next(iter(error.fields.values()))))
        flash(_("Answer accepted.") if accepted else _("The answer is no longer marked accepted."), "success")
    return _back_to(post)


@bp.route("/<int:thread_id>/follow", methods=["POST"])
@signed_in
def follow(thread_id):
    thread = viewable_thread(thread_id)
    form = FollowForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose watching, normal or muted."))
    services.follow(thread, current_user, form.level.data)
    flash(_("Your notifications for this thread are saved."), "success")
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.route("/posts/<int:post_id>/flag", methods=["GET", "POST"])
@writes
@signed_in
def flag(post_id):
    post = viewable_post(post_id)
    if post.hidden and not services.can_moderate(current_user):
        abort(404)  # the report page quotes the post, and a hidden post is already dealt with
    form = FlagForm()
    if services.has_reported(post, current_user):
        # One report per person: the page says so instead of offering the form again.
        status = 409 if request.method == "POST" else 200
        return render_template("threads/flag.html", form=None, post=post), status
    if form.validate_on_submit():
        try:
            services.flag_post(post, current_user, form.reason.data)
        except services.Conflict:
            return render_template("threads/flag.html", form=None, post=post), 409
        flash(_("Thank you. The moderators will look at this post."), "success")
        return _back_to(post)
    status = 400 if form.is_submitted() else 200
    return render_template("threads/flag.html", form=form, post=post), status


@bp.route("/posts/<int:post_id>/fragment")
@public
def post_fragment(post_id):
    """One post as its page shows it, for pages that add new posts live without reloading."""
    post = viewable_post(post_id)
    thread, _question, _answers, comments, my_votes = services.load_thread_page(post.thread_id, current_user)
    return render_template(
        "threads/_post.html",
        post=post,
        thread=thread,
        comments=comments,
        my_votes=my_votes,
        action_form=EmptyForm(),
        can_accept=services.can_accept(thread, current_user),
        can_reply=services.can_reply(thread, current_user),
        can_moderate=services.can_moderate(current_user),
    )


@bp.route("/<int:thread_id>/answers")
@public
def answers_fragment(thread_id):
    """The answers as the page shows them, for pages that follow accepted marks and deletions live."""
    viewable_thread(thread_id)
    thread, _question, answers, comments, my_votes = services.load_thread_page(thread_id, current_user)
    return render_template(
        "threads/_answers.html",
        thread=thread,
        answers=answers,
        comments=comments,
        my_votes=my_votes,
        action_form=EmptyForm(),
        can_accept=services.can_accept(thread, current_user),
        can_reply=services.can_reply(thread, current_user),
        can_moderate=services.can_moderate(current_user),
    )


# Moderation.


@bp.route("/posts/<int:post_id>/hide", methods=["POST"])
@staff_required
def hide(post_id):
    post = db.get_or_404(Post, post_id)
    if EmptyForm().validate_on_submit():
        hidden = request.form.get("hidden", "1") == "1"
        services.set_hidden(post, current_user, hidden)
        flash(_("The post is hidden.") if hidden else _("The post is visible again."), "info")
    return _back_to(post)


@bp.route("/posts/<int:post_id>/dismiss-flags", methods=["POST"])
@staff_required
def dismiss_flags(post_id):
    post = db.get_or_404(Post, post_id)
    if EmptyForm().validate_on_submit():
        services.dismiss_flags(post, current_user)
        flash(_("The reports on this post are dismissed."), "info")
    return redirect(url_for("threads.moderation"))


def _switch_thread(thread_id, field, switch, messages):
    """A moderator's on/off button on a thread: the form says `field`=1 or 0; `messages` is (on, off)."""
    thread = db.get_or_404(Thread, thread_id)
    if EmptyForm().validate_on_submit():
        on = request.form.get(field, "1") == "1"
        switch(thread, current_user, on)
        flash(messages[0] if on else messages[1], "info")
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.route("/<int:thread_id>/lock", methods=["POST"])
@staff_required
def lock(thread_id):
    messages = (_("The thread is locked."), _("The thread is open again."))
    return _switch_thread(thread_id, "locked", services.set_locked, messages)


@bp.route("/<int:thread_id>/pin", methods=["POST"])
@staff_required
def pin(thread_id):
    messages = (_("The thread is pinned to the top."), _("The thread is no longer pinned."))
    return _switch_thread(thread_id, "pinned", services.set_pinned, messages)


@bp.route("/<int:thread_id>/move", methods=["POST"])
@staff_required
def move(thread_id):
    thread = db.get_or_404(Thread, thread_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose one of the eight practice areas."))
    services.move_thread(thread, current_user, form.practice_area.data)
    flash(_("The thread is moved to %(area)s.", area=thread.practice_area.name), "info")
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.route("/moderation")
@staff_required
def moderation():
    open_flags = db.session.scalars(
        sa.select(Flag)
        .where(Flag.resolved_at.is_(None))
        .options(sa.orm.joinedload(Flag.post).joinedload(Post.thread), sa.orm.joinedload(Flag.user))
        .order_by(Flag.created_at)
    ).all()
    page, per_page = page_args(default_per_page=50)
    log = db.paginate(
        sa.select(ModerationAction)
        .options(sa.orm.joinedload(ModerationAction.actor), sa.orm.joinedload(ModerationAction.thread))
        .order_by(ModerationAction.created_at.desc()),
        page=page,
        per_page=per_page,
        error_out=False,
    )
    return render_template(
        "threads/moderation.html", flags=open_flags, log=log, labels=MODERATION_LABELS, action_form=EmptyForm()
    )
