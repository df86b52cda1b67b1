"""JSON endpoints for threads, posts, votes and accepted answers."""

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.api import bp, json_body, paginated, refused, validation_error
from community.api.openapi import add_paths, json_request, json_response
from community.core.errors import json_error
from community.core.permissions import public, signed_in
from community.core.ratelimits import writes
from community.extensions import db
from community.threads import services
from community.threads.models import Post
from community.threads.routes import viewable_post, viewable_thread


def post_json(post, thread):
    hidden = post.hidden and not services.can_moderate(current_user)
    return {
        "id": post.id,
        "kind": post.kind,
        "parent_id": post.parent_id,
        "author": {"handle": post.author.handle, "display_name": post.author.display_name},
        "body": None if hidden else post.body,
        "body_html": None if hidden else post.body_html,
        "hidden": post.hidden,
        "score": post.score,
        "accepted": thread.accepted_post_id == post.id,
        "created_at": post.created_at.isoformat(),
        "edited_at": post.edited_at.isoformat() if post.edited_at else None,
        "url": url_for("threads.show", thread_id=thread.id, _anchor=f"post-{post.id}", _external=True),
    }


def thread_json(thread):
    return {
        "id": thread.id,
        "title": thread.title,
        "practice_area": thread.practice_area.code,
        "criteria": [c.code for c in thread.criteria],
        "tags": [tag.name for tag in thread.tags],
        "visibility": thread.visibility,
        "city": thread.city.slug if thread.city else None,
        "author": {"handle": thread.author.handle, "display_name": thread.author.display_name},
        "reply_count": thread.reply_count,
        "score": thread.score,
        "answered": thread.answered,
        "accepted_post_id": thread.accepted_post_id,
        "pinned": thread.pinned,
        "locked": thread.locked,
        "created_at": thread.created_at.isoformat(),
        "last_activity_at": thread.last_activity_at.isoformat(),
        "url": url_for("threads.show", thread_id=thread.id, _external=True),
    }


@bp.get("/threads")
@public
def threads():
    args = request.args
    status = args.get("status") or None
    sort = args.get("sort", "activity")
    if status is not None and status not in services.STATUSES:
        return validation_error({"status": _("Use one of: %(choices)s.", choices=", ".join(services.STATUSES))})
    if sort not in services.SORTS:
        return validation_error({"sort": _("Use one of: %(choices)s.", choices=", ".join(services.SORTS))})
    if status in ("mine", "following") and not current_user.is_authenticated:
        return json_error(401)
    query = services.thread_list_query(
        current_user,
        area=(args.get("practice_area") or "").upper() or None,
        criterion=(args.get("criterion") or "").upper() or None,
        tag=(args.get("tag") or "").lower() or None,
        city=args.get("city") or None,
        status=status,
        sort=sort,
    )
    return paginated(query, thread_json)


@bp.post("/threads")
@writes
@signed_in
def create_thread():
    data = json_body()
    try:
        thread = services.create_thread(
            current_user,
            data.get("title"),
            data.get("body"),
            data.get("practice_area"),
            data.get("criteria", []),
            data.get("tags", []),
            data.get("visibility", "public"),
        )
    except services.ThreadInputError as error:
        return refused(error)
    return thread_json(thread), 201, {"Location": url_for("api.thread", thread_id=thread.id)}


@bp.get("/threads/<int:thread_id>")
@public
def thread(thread_id):
    viewable_thread(thread_id)
    found, question, answers, comments, _votes = services.load_thread_page(thread_id, current_user)
    posts = [question, *answers] if question else list(answers)
    ordered = []
    for post in posts:
        ordered.append(post)
        ordered.extend(comments.get(post.id, []))
    return {**thread_json(found), "posts": [post_json(post, found) for post in ordered]}


@bp.post("/threads/<int:thread_id>/posts")
@writes
@signed_in
def create_post(thread_id):
    found = viewable_thread(thread_id)
    data = json_body()
    parent = None
    if data.get("parent_id") is not None:
        parent_id = services.as_id(data["parent_id"]) if isinstance(data["parent_id"], int) else None
        parent = db.session.get(Post, parent_id) if parent_id else None
        if parent is None or parent.thread_id != found.id:
            return validation_error({"parent_id": _("Comments go under the question or under an answer.")})
    body = data.get("body")
    try:
        post = services.add_post(found, current_user, body if isinstance(body, str) else "", parent)
    except (services.ThreadInputError, services.NotAllowed) as error:
        return refused(error)
    return post_json(post, found), 201


@bp.patch("/posts/<int:post_id>")
@writes
@signed_in
def edit_post(post_id):
    """The author edits their post's text (the question's too), as on the page: never in a locked thread unless a
    moderator; the previous text is kept as a revision."""
    post = viewable_post(post_id)
    body = json_body().get("body")
    try:
        services.edit_post(post, current_user, body if isinstance(body, str) else "")
    except (services.ThreadInputError, services.NotAllowed) as error:
        return refused(error)
    return post_json(post, post.thread)


def _post_url(post):
    return url_for("threads.show", thread_id=post.thread_id, _anchor=f"post-{post.id}", _external=True)


@bp.post("/posts/<int:post_id>/vote")
@writes
@signed_in
def vote(post_id):
    post = viewable_post(post_id)
    try:
        voted, score = services.toggle_vote(post, current_user)
    except (services.ThreadInputError, services.NotAllowed) as error:
        return refused(error)
    return {"post_id": post.id, "voted": voted, "score": score, "url": _post_url(post)}


@bp.post("/posts/<int:post_id>/accept")
@signed_in
def accept(post_id):
    post = viewable_post(post_id)
    try:
        accepted = services.toggle_accept(post, current_user)
    except (services.ThreadInputError, services.NotAllowed) as error:
        return refused(error)
    return {
        "post_id": post.id,
        "accepted": accepted,
        "accepted_post_id": post.thread.accepted_post_id,
        "url": _post_url(post),
    }


@bp.post("/posts/<int:post_id>/flags")
@writes
@signed_in
def flag(post_id):
    """Report a post to the moderators, as the page's Report button does: once per person and post."""
    post = viewable_post(post_id)
    if post.hidden and not services.can_moderate(current_user):
        return json_error(404)  # a hidden post is already dealt with, and its text is not for others
    try:
        stored = services.flag_post(post, current_user, json_body().get("reason"))
    except (services.ThreadInputError, services.Conflict) as error:
        return refused(error)
    return {"post_id": post.id, "reason": stored.reason, "url": _post_url(post)}, 201


_thread_schema = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "practice_area": {"type": "string", "example": "DM"},
        "criteria": {"type": "array", "items": {"type": "string", "example": "DM2"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"type": "string", "enum": ["public", "members"]},
        "city": {"type": "string", "nullable": True},
        "reply_count": {"type": "integer"},
        "score": {"type": "integer"},
        "answered": {"type": "boolean"},
        "accepted_post_id": {"type": "integer", "nullable": True},
        "url": {"type": "string", "format": "uri"},
    },
}
_post_schema = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["question", "answer", "comment"]},
        "parent_id": {"type": "integer", "nullable": True},
        "body": {"type": "string", "nullable": True},
        "body_html": {"type": "string", "nullable": True},
        "score": {"type": "integer"},
        "accepted": {"type": "boolean"},
        "url": {"type": "string", "format": "uri"},
    },
}
_errors = {code: {"$ref": "#/components/responses/Error"} for code in ("400", "401", "403", "404", "415", "422")}


add_paths(
    {
        "/threads": {
            "get": {
                "tags": ["threads"],
                "summary": "Questions the caller may read, filtered and sorted",
                "parameters": [
                    {"name": "practice_area", "in": "query", "schema": {"type": "string"}, "example": "DM"},
                    {"name": "criterion", "in": "query", "schema": {"type": "string"}, "example": "DM2"},
                    {"name": "tag", "in": "query", "schema": {"type": "string"}},
                    {"name": "city", "in": "query", "schema": {"type": "string"}, "example": "recife"},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(services.STATUSES)}},
                    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(services.SORTS)}},
                    {"$ref": "#/components/parameters/page"},
                    {"$ref": "#/components/parameters/per_page"},
                ],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": _thread_schema},
                                "page": {"type": "integer"},
                                "pages": {"type": "integer"},
                                "total": {"type": "integer"},
                            },
                        },
                        "A page of threads",
                    ),
                    **_errors,
                },
            },
            "post": {
                "tags": ["threads"],
                "summary": "Ask a question",
                "requestBody": json_request(
                    {
                        "type": "object",
                        "required": ["title", "body", "practice_area"],
                        "properties": {
                            "title": {"type": "string", "maxLength": 200},
                            "body": {"type": "string", "maxLength": 50000, "description": "Markdown"},
                            "practice_area": {"type": "string", "example": "DM"},
                            "criteria": {"type": "array", "items": {"type": "string"}},
                            "tags": {"type": "array", "items": {"type": "string"}},
                            "visibility": {"type": "string", "enum": ["public", "members"]},
                        },
                    }
                ),
                "responses": {"201": json_response(_thread_schema, "The new thread"), **_errors},
            },
        },
        "/threads/{thread_id}": {
            "get": {
                "tags": ["threads"],
                "summary": "A thread with its posts",
                "parameters": [{"name": "thread_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": json_response(
                        {
                            "allOf": [
                                _thread_schema,
                                {"properties": {"posts": {"type": "array", "items": _post_schema}}},
                            ]
                        },
                        "The thread",
                    ),
                    **_errors,
                },
            }
        },
        "/threads/{thread_id}/posts": {
            "post": {
                "tags": ["threads"],
                "summary": "Answer, or comment with parent_id",
                "parameters": [{"name": "thread_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": json_request(
                    {
                        "type": "object",
                        "required": ["body"],
                        "properties": {"body": {"type": "string"}, "parent_id": {"type": "integer"}},
                    }
                ),
                "responses": {"201": json_response(_post_schema, "The new post"), **_errors},
            }
        },
        "/posts/{post_id}": {
            "patch": {
                "tags": ["threads"],
                "summary": "Edit one's own post (403 in a locked thread but for moderators)",
                "parameters": [{"name": "post_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": json_request(
                    {
                        "type": "object",
                        "required": ["body"],
                        "properties": {"body": {"type": "string", "maxLength": 50000, "description": "Markdown"}},
                    }
                ),
                "responses": {"200": json_response(_post_schema, "The post as edited"), **_errors},
            }
        },
        "/posts/{post_id}/vote": {
            "post": {
                "tags": ["threads"],
                "summary": "Upvote a post, or take the vote back",
                "parameters": [{"name": "post_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "voted": {"type": "boolean"},
                                "score": {"type": "integer"},
                                "url": {"type": "string", "format": "uri"},
                            },
                        },
                        "The new score",
                    ),
                    **_errors,
                },
            }
        },
        "/posts/{post_id}/flags": {
            "post": {
                "tags": ["threads"],
                "summary": "Report a post to the moderators (once per person and post; again is 409 already_reported)",
                "parameters": [{"name": "post_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": json_request(
                    {
                        "type": "object",
                        "required": ["reason"],
                        "properties": {"reason": {"type": "string", "maxLength": 500}},
                    }
                ),
                "responses": {
                    "201": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "post_id": {"type": "integer"},
                                "reason": {"type": "string"},
                                "url": {"type": "string", "format": "uri"},
                            },
                        },
                        "The report is stored",
                    ),
                    "409": {"$ref": "#/components/responses/Error"},
                    **_errors,
                },
            }
        },
        "/posts/{post_id}/accept": {
            "post": {
                "tags": ["threads"],
                "summary": "Mark an answer accepted, or unmark it",
                "parameters": [{"name": "post_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "accepted": {"type": "boolean"},
                                "accepted_post_id": {"type": "integer", "nullable": True},
                                "url": {"type": "string", "format": "uri"},
                            },
                        },
                        "Whether it is accepted now",
                    ),
                    **_errors,
                },
            }
        },
    }
)
