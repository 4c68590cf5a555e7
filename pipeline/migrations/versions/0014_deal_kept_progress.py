"""each deal keeps its current stage's required checklist counts (done / required) and its last activity's moment,
so the weekly export reads them off the deal instead of aggregating the checklist and activity tables per export
(issue 7); filled here from the tables, one UPDATE ... FROM (aggregate) per kept figure

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# The same statements as pipeline.deals.kept.RECOUNT_ALL (kept here as they stand today: a migration never changes).
CHECKLIST = """
UPDATE deals SET checklist_done = c.done, checklist_required = c.required
FROM (
    SELECT i.deal_id AS deal_id, count(*) AS required, sum(CASE WHEN i.done THEN 1 ELSE 0 END) AS done
    FROM deal_checklist_items i
    JOIN checklist_templates t ON t.key = i.item_key
    JOIN deals d ON d.id = i.deal_id AND d.stage = i.stage
    WHERE t.required
    GROUP BY i.deal_id
) AS c
WHERE deals.id = c.deal_id
"""
LAST_ACTIVITY = """
UPDATE deals SET last_activity_at = a.last
FROM (
    SELECT deal_id, max(occurred_at) AS last FROM activities WHERE deal_id IS NOT NULL GROUP BY deal_id
) AS a
WHERE deals.id = a.deal_id
"""


def upgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checklist_done', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('checklist_required', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_activity_at', sa.DateTime(), nullable=True))
    op.execute(CHECKLIST)
    op.execute(LAST_ACTIVITY)


def downgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_column('last_activity_at')
        batch_op.drop_column('checklist_required')
        batch_op.drop_column('checklist_done')
