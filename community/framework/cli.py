"""`flask framework load [FILE]`: load or update the certification framework."""

import click
from flask import Blueprint

from community.extensions import db
from community.framework import loader

bp = Blueprint("framework_cli", __name__, cli_group="framework")


@bp.cli.command("load")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
def load(file):
    """Load or update the framework from FILE (default: the one shipped with Comunidade)."""
    path = file or loader.SHIPPED_FILE
    try:
        counts = loader.load(loader.read_file(path))
    except loader.FrameworkError as error:
        db.session.rollback()
        raise click.ClickException("the framework was not loaded:\n- " + "\n- ".join(error.problems)) from error
    db.session.commit()
    click.echo(
        f"Framework loaded from {click.format_filename(str(path))}: "
        f"{counts['added']} criteria added, {counts['updated']} updated, {counts['retired']} retired; "
        f"{counts['items_added']} checklist items added, {counts['items_retired']} retired."
    )
