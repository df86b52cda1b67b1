"""cycles, answer history and activity records

The certification cycles started on the site (the newest is current; ASSESSMENT_CYCLE stays the default for a site
that never started one), the answers carried into a new cycle until the city confirms them, each answer's history
of statuses (what the plan to the next level measures), and the community activity records the platform compiled
as evidence, found by their unguessable token.

Revision ID: 8c1f4e2a9b73
Revises: 293d2e36344d
Create Date: 2026-12-03 08:45:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "8c1f4e2a9b73"
down_revision = "293d2e36344d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "assessment_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("previous", sa.String(length=20), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_assessment_cycles_started_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_cycles")),
        sa.UniqueConstraint("name", name=op.f("uq_assessment_cycles_name")),
    )
    op.create_table(
        "assessment_carried_answers",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("from_answer_id", sa.Integer(), nullable=True),
        sa.Column("previous_review_state", sa.String(length=20), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["assessment_answers.id"],
            name=op.f("fk_assessment_carried_answers_answer_id_assessment_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_answer_id"],
            ["assessment_answers.id"],
            name=op.f("fk_assessment_carried_answers_from_answer_id_assessment_answers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_assessment_carried_answers_confirmed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("answer_id", name=op.f("pk_assessment_carried_answers")),
    )
    with op.batch_alter_table("assessment_carried_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_carried_answers_from_answer_id"), ["from_answer_id"])

    op.create_table(
        "assessment_answer_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["assessment_answers.id"],
            name=op.f("fk_assessment_answer_changes_answer_id_assessment_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_assessment_answer_changes_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_answer_changes")),
    )
    with op.batch_alter_table("assessment_answer_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_answer_changes_answer_id"), ["answer_id"])

    op.create_table(
        "assessment_activity_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["city_id"], ["cities.id"], name=op.f("fk_assessment_activity_records_city_id_cities")
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"], ["criteria.id"], name=op.f("fk_assessment_activity_records_criterion_id_criteria")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["assessment_evidence.id"],
            name=op.f("fk_assessment_activity_records_evidence_id_assessment_evidence"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_assessment_activity_records_issued_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_activity_records")),
        sa.UniqueConstraint("token", name=op.f("uq_assessment_activity_records_token")),
    )
    with op.batch_alter_table("assessment_activity_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_activity_records_city_id"), ["city_id"])


def downgrade():
    with op.batch_alter_table("assessment_activity_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_activity_records_city_id"))
    op.drop_table("assessment_activity_records")
    with op.batch_alter_table("assessment_answer_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_answer_changes_answer_id"))
    op.drop_table("assessment_answer_changes")
    with op.batch_alter_table("assessment_carried_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_carried_answers_from_answer_id"))
    op.drop_table("assessment_carried_answers")
    op.drop_table("assessment_cycles")
