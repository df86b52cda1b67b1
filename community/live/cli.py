"""`flask send-reminders`: tell registered people of sessions starting soon, for a scheduler to run."""

import click
from flask import Blueprint, current_app

from community.live import registration as seats

bp = Blueprint("live_cli", __name__, cli_group=None)


@bp.cli.command("send-reminders")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 14),
    default=None,
    help="Remind of sessions starting within this many hours (default: LIVE_REMINDER_HOURS, 24).",
)
def send_reminders(hours):
    """Remind each registered person, in the app and by e-mail, of a session starting soon (once per session).

    Run it often, e.g. every 15 minutes from cron; nobody is reminded twice of the same session.
    """
    hours = hours or current_app.config["LIVE_REMINDER_HOURS"]
    try:
        sent = seats.send_reminders(hours)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Sent {sent} reminder{'' if sent == 1 else 's'} of sessions starting within {hours} hours.")
