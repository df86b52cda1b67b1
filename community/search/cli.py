"""`flask search reindex` builds the search index from scratch; `flask search check` says whether it is up to date."""

import click
from flask import Blueprint

from community.search import services

bp = Blueprint("search_cli", __name__, cli_group="search")

LISTED_MAX = 20


@bp.cli.command("reindex")
def reindex():
    """Hand every thread, post, case study and session to the search index again."""
    counts = services.reindex()
    click.echo("Indexed: " + ", ".join(f"{count} {kind}" for kind, count in counts.items()))


@bp.cli.command("check")
@click.option("--fix", is_flag=True, help="Index the missing and stale documents and remove those left over.")
def check(fix):
    """Report documents missing from the index, stale or left over; exit 1 when there are any (and no --fix)."""
    state = services.check(fix=fix)
    if state.up_to_date:
        click.echo("The search index is up to date.")
        return
    for label, keys in (("Missing", state.missing), ("Stale", state.stale), ("Left over", state.left_over)):
        if not keys:
            continue
        listed = ", ".join(f"{kind} {object_id}" for kind, object_id in keys[:LISTED_MAX])
        more = f" and {len(keys) - LISTED_MAX} more" if len(keys) > LISTED_MAX else ""
        click.echo(f"{label}: {len(keys)} ({listed}{more})")
    if fix:
        click.echo("Fixed: the index is up to date now.")
        return
    click.echo("Run `flask search check --fix` (or `flask search reindex`) to bring it up to date.")
    raise SystemExit(1)
