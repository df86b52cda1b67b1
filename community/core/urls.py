"""Paths on this site, with or without a request (services also run from the command line)."""

from urllib.parse import quote

from flask import current_app, has_request_context, url_for


def path_for(endpoint, **values):
    """The site-relative path of `endpoint`, like url_for, but also outside a request."""
    if has_request_context():
        return url_for(endpoint, **values)
    anchor = values.pop("_anchor", None)
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config["APPLICATION_ROOT"])
    path = adapter.build(endpoint, values)
    return f"{path}#{quote(anchor)}" if anchor else path
