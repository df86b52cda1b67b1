"""`flask send-digests`: the daily e-mail digest of unread notifications, for a scheduler to run."""

import click
from flask import Blueprint

from community.notifications import services

bp = Blueprint("notifications_cli", __name__, cli_group=None)


@bp.cli.command("send-digests")
def send_digests():
    """E-mail each user who chose a daily digest their unread notifications (run once a day, e.g. from cron)."""
    try:
        sent = services.send_digests()
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Sent {sent} digest e-mail{'' if sent == 1 else 's'}.")
