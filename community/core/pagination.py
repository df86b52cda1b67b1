"""Reading `page` and `per_page` from a request, the same way for pages and the API."""

from flask import abort, current_app, request
from flask_babel import gettext as _

# Far beyond any real list, yet small enough that the row offset fits the databases' 64-bit integers.
MAX_PAGE = 1_000_000_000


def page_args(default_per_page=None):
    """Return (page, per_page) from the query string; anything that is not a positive whole number is a 400."""
    per_page_default = default_per_page or current_app.config["API_PAGE_SIZE"]
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", per_page_default))
    except ValueError:
        page = per_page = 0
    if not 1 <= page <= MAX_PAGE or per_page < 1:
        abort(400, description=_("The page number and page size must be positive whole numbers."))
    return page, min(per_page, current_app.config["API_MAX_PAGE_SIZE"])
