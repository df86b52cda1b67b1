"""`flask assessment`: start the next cycle, and tell cities of evidence about to be too old for the deadline."""

from datetime import date

import click
from flask import Blueprint, current_app
from flask_babel import force_locale

from community.assessment import cycles, services
from community.core.errors import InputError
from community.extensions import db

bp = Blueprint("assessment_cli", __name__, cli_group="assessment")


@bp.cli.command("stale-notices")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Run as on this day (YYYY-MM-DD).")
def stale_notices(today):
    """Notify each city's members of evidence that goes stale before the deadline (once per evidence and cycle)."""
    sent = services.send_stale_notices(today.date() if today else date.today())
    db.session.commit()
    click.echo(f"Stale-evidence notices: {sent} piece(s) of evidence announced.")


@bp.cli.command("new-cycle")
@click.argument("name")
@click.option("--deadline", required=True, help="The new cycle's deadline, YYYY-MM-DD.")
def new_cycle(name, deadline):
    """Start cycle NAME: every city's answers and evidence are carried into it, to be confirmed."""
    # Messages are read in English: a command has no request to choose a language from.
    with current_app.test_request_context(), force_locale("en"):
        try:
            cycle, count = cycles.start_cycle(None, name, deadline)
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            problems = "\n- ".join(str(message) for message in error.fields.values())
            raise click.ClickException("no cycle was started:\n- " + problems) from error
        except BaseException:
            db.session.rollback()
            raise
    click.echo(f"Cycle {cycle.name} started (deadline {cycle.deadline}); {count} cities carried forward.")
