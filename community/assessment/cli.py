"""`flask assessment stale-notices`: tell cities of evidence about to be too old for the deadline."""

from datetime import date

import click
from flask import Blueprint

from community.assessment import services
from community.extensions import db

bp = Blueprint("assessment_cli", __name__, cli_group="assessment")


@bp.cli.command("stale-notices")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Run as on this day (YYYY-MM-DD).")
def stale_notices(today):
    """Notify each city's members of evidence that goes stale before the deadline (once per evidence and cycle)."""
    sent = services.send_stale_notices(today.date() if today else date.today())
    db.session.commit()
    click.echo(f"Stale-evidence notices: {sent} piece(s) of evidence announced.")
