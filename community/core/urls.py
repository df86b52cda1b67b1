"""Paths on this site, with or without a request (services also run from the command line)."""

from urllib.parse import quote, urlsplit

from flask import current_app, has_request_context, request, url_for


def path_for(endpoint, **values):
    """The site-relative path of `endpoint`, like url_for, but also outside a request."""
    if has_request_context():
        return url_for(endpoint, **values)
    anchor = values.pop("_anchor", None)
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config["APPLICATION_ROOT"])
    path = adapter.build(endpoint, values)
    return f"{path}#{quote(anchor)}" if anchor else path


def absolute_url(path):
    """`path` on this site as a full link: SITE_URL's scheme and host, never the request's Host header (development
    and tests without SITE_URL fall back to the request's)."""
    parts = urlsplit(current_app.config.get("SITE_URL") or request.host_url)
    return f"{parts.scheme}://{parts.netloc}{path}"
