"""the append-only tables refuse the two ways around their row triggers: INSERT OR REPLACE of an existing row on
SQLite (REPLACE deletes without firing delete triggers) and TRUNCATE on PostgreSQL (no row triggers fire)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:35:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The message each table's existing triggers raise: the same words for every way of rewriting it.
TABLES = {"stage_events": "stage_events is append-only", "audit_events": "audit_events is append-only"}


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, message in TABLES.items():
        if postgres:  # the row triggers' function raises; a statement-level trigger may call it as well
            op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                           FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""")
        else:
            op.execute(f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
                           WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)
                           BEGIN SELECT RAISE(ABORT, '{message}'); END""")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
