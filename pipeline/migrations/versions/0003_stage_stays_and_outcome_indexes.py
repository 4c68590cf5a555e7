"""each history row remembers when the deal had entered the stage it leaves, so time in stage is one subtraction;
indexes for reports on won and lost dates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

APPEND_ONLY = "stage_events is append-only"

# Each move's predecessor in the same deal's history is when the deal entered the stage this move leaves.
BACKFILL = """
    UPDATE stage_events SET from_entered_at = (
        SELECT p.at FROM stage_events AS p
        WHERE p.deal_id = stage_events.deal_id AND p.id < stage_events.id
        ORDER BY p.id DESC LIMIT 1)
    WHERE from_stage IS NOT NULL
"""


def upgrade():
    op.add_column('stage_events', sa.Column('from_entered_at', sa.DateTime(), nullable=True))
    # History stays append-only for the application; the one-time fill of a new column is the schema's owner's.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stage_events DISABLE TRIGGER stage_events_append_only")
        op.execute(BACKFILL)
        op.execute("ALTER TABLE stage_events ENABLE TRIGGER stage_events_append_only")
    else:
        op.execute("DROP TRIGGER stage_events_no_update")
        op.execute(BACKFILL)
        op.execute(f"""CREATE TRIGGER stage_events_no_update BEFORE UPDATE ON stage_events
                       BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")
    op.create_index('ix_deals_won_on', 'deals', ['won_on'])
    op.create_index('ix_deals_lost_on', 'deals', ['lost_on'])


def downgrade():
    op.drop_index('ix_deals_lost_on', 'deals')
    op.drop_index('ix_deals_won_on', 'deals')
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column('stage_events', 'from_entered_at')
    else:
        # SQLite rebuilds the table to drop a column, which would lose the append-only triggers: keep them.
        op.execute("DROP TRIGGER stage_events_no_update")
        op.execute("DROP TRIGGER stage_events_no_delete")
        with op.batch_alter_table('stage_events', schema=None) as batch_op:
            batch_op.drop_column('from_entered_at')
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER stage_events_no_{action.lower()} BEFORE {action} ON stage_events
                           BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")
