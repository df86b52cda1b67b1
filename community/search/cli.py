"""`flask search reindex`: build the search index from scratch, e.g. after upgrading a site that had content."""

import click
from flask import Blueprint

from community.search import services

bp = Blueprint("search_cli", __name__, cli_group="search")


@bp.cli.command("reindex")
def reindex():
    """Hand every thread, post, case study and session to the search index again."""
    counts = services.reindex()
    click.echo("Indexed: " + ", ".join(f"{count} {kind}" for kind, count in counts.items()))
