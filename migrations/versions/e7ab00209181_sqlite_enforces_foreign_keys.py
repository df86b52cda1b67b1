"""SQLite enforces foreign keys

From this version every SQLite connection turns `PRAGMA foreign_keys` on (community/core/models.py), as PostgreSQL
always had them. A site that ran without them may hold rows naming rows that are gone; this step finds them and
says which, before enforcement starts, and leaves them as they are: SQLite checks a key only when it is written,
so they keep working, and `flask check-orphans` lists them again. PostgreSQL has none; nothing changes there.

Revision ID: e7ab00209181
Revises: c07b66a8a2d7
Create Date: 2026-12-03 14:00:00.000000

"""

from collections import defaultdict

from alembic import op

# revision identifiers, used by Alembic.
revision = "e7ab00209181"
down_revision = "c07b66a8a2d7"
branch_labels = None
depends_on = None

SHOWN_MAX = 10


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    found = defaultdict(list)
    for table, rowid, parent, _key in connection.exec_driver_sql("PRAGMA foreign_key_check").all():
        found[(table, parent)].append(rowid)
    if not found:
        return
    print("Rows that name a row that is gone (SQLite refuses new ones from now on):")
    for (table, parent), rowids in sorted(found.items()):
        shown = ", ".join(str(rowid) for rowid in sorted(rowids)[:SHOWN_MAX])
        more = f" and {len(rowids) - SHOWN_MAX} more" if len(rowids) > SHOWN_MAX else ""
        print(f"  {table}: {len(rowids)} row(s) naming a missing {parent} (rowid {shown}{more})")
    print("They are kept as they are; `flask check-orphans` lists them again.")


def downgrade():
    pass
