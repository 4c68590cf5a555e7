"""an index the pipeline-at-a-moment report reads without touching the deals table: stage, owner, amount

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_deals_stage_owner_amount', 'deals', ['stage', 'owner_id', 'amount_cents'])


def downgrade():
    op.drop_index('ix_deals_stage_owner_amount', 'deals')
