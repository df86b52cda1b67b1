"""one report per person per post

A person reports a post once. Where someone reported the same post more than once, the report kept is the one
still open (the oldest of those), else the oldest; the others go.

Revision ID: c07b66a8a2d7
Revises: a3c9e1f27b45
Create Date: 2026-12-03 13:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c07b66a8a2d7"
down_revision = "a3c9e1f27b45"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        DELETE FROM flags
        WHERE EXISTS (
            SELECT 1 FROM flags AS kept
            WHERE kept.post_id = flags.post_id AND kept.user_id = flags.user_id AND kept.id <> flags.id
              AND (
                (kept.resolved_at IS NULL AND flags.resolved_at IS NOT NULL)
                OR ((kept.resolved_at IS NULL) = (flags.resolved_at IS NULL) AND kept.id < flags.id)
              )
        )
        """
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_flags_post_id"), ["post_id", "user_id"])


def downgrade():
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_flags_post_id"), type_="unique")
