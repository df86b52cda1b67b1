"""email confirmation

A registration is an account waiting for its address to be confirmed by a link sent there, so that the form answers
alike whether the address is new or taken. Accounts made before this confirmed their address by being there.

Revision ID: a3c9e1f27b45
Revises: 8c1f4e2a9b73
Create Date: 2026-12-03 08:30:00.000000

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "a3c9e1f27b45"
down_revision = "8c1f4e2a9b73"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE users SET email_confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
