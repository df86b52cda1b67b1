"""`flask users ...`: create accounts and API tokens from the command line."""

import click
from email_validator import EmailNotValidError, validate_email
from flask import Blueprint

from community.auth import services
from community.cities.services import city_by_slug
from community.core.permissions import Role
from community.extensions import db

bp = Blueprint("users_cli", __name__, cli_group="users")


@bp.cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name, e.g. 'Ana Souza'.")
@click.option("--password", required=True, help=f"{services.PASSWORD_MIN} to {services.PASSWORD_MAX} characters.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PARTICIPANT.value, show_default=True)
@click.option("--city", "city_slug", help="Slug of the user's city, e.g. mogi-das-cruzes (confirmed at once).")
def create(email, name, password, role, city_slug):
    """Create a user account."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.ClickException(f"{email!r} is not a valid e-mail address: {error}") from error
    if services.user_by_email(email) is not None:
        raise click.ClickException(f"an account with the e-mail {email} already exists")
    if not services.PASSWORD_MIN <= len(password) <= services.PASSWORD_MAX:
        raise click.ClickException(
            f"the password must have between {services.PASSWORD_MIN} and {services.PASSWORD_MAX} characters"
        )
    if not 2 <= len(name.strip()) <= 80:
        raise click.ClickException("the name must have between 2 and 80 characters")
    city = None
    if city_slug:
        city = city_by_slug(city_slug)
        if city is None:
            raise click.ClickException(f"no city has the slug {city_slug!r}; see the directory at /cities")
    user = services.create_user(email, name, password, role=role, city=city, confirm_city=True)
    db.session.commit()
    click.echo(f"Created {user.email} (@{user.handle}, {user.role}{', ' + city.name if city else ''}).")


@bp.cli.command("token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def token(email, name):
    """Create an API token for a user and print it (it is shown only this once)."""
    user = services.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account has the e-mail {email}")
    if not user.is_active:
        raise click.ClickException(f"the account {email} is deactivated; reactivate it first")
    _token, plain = services.issue_api_token(user, name)
    db.session.commit()
    click.echo(plain)
