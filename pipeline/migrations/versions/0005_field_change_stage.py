"""each deal field change remembers the deal's stage when it was made, so the pipeline at a past moment can take
a repricing back in the stage it happened in

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('field_changes', sa.Column('stage', sa.String(length=20), nullable=True))
    # Existing changes: the stage the deal's history had reached at that moment (a move at the very same moment
    # counts as made first; the application records the stage itself from now on).
    op.execute("""
        UPDATE field_changes SET stage = (
            SELECT e.to_stage FROM stage_events AS e
            WHERE e.deal_id = field_changes.entity_id AND e.at <= field_changes.at
            ORDER BY e.id DESC LIMIT 1)
        WHERE entity = 'deal'
    """)


def downgrade():
    with op.batch_alter_table('field_changes', schema=None) as batch_op:
        batch_op.drop_column('stage')
