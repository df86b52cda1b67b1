"""The search page: one box over questions, answers, case studies and sessions."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from community.core.pagination import page_args
from community.core.permissions import public
from community.core.ratelimits import heavy_reads
from community.framework.services import practice_areas
from community.search import services

bp = Blueprint("search", __name__, url_prefix="/search")


def search_args():
    """q, kind and area from the query string; an unknown kind or area is dropped rather than refused."""
    kind = request.args.get("kind", "")
    return {
        "q": request.args.get("q", "").strip(),
        "kind": kind if kind in services.KINDS else None,
        "area": request.args.get("area", "").upper()[:8] or None,
    }


@bp.route("/")
@heavy_reads
@public
def index():
    args = search_args()
    page, per_page = page_args(default_per_page=20)
    results, error, status = None, None, 200
    if args["q"]:
        try:
            results = services.search(
                args["q"], kind=args["kind"], area=args["area"], signed_in=current_user.is_authenticated,
                page=page, per_page=per_page,
            )  # fmt: skip
        except services.SearchInputError as refused:
            error, status = next(iter(refused.fields.values())), 400
    return render_template(
        "search/index.html",
        args=args,
        results=results,
        error=error,
        areas=practice_areas(),
        kinds=services.KIND_FILTER_LABELS,
    ), status
