"""the company's report figures kept ready (reports/rollup): daily counts of stays, stage entries, wins and losses,
today's stage totals, the stays' and wins' lengths for exact percentiles, and what each deal has added; every
existing deal starts pending (counted by the first `pipeline reports refresh`, live until then)

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02 10:04:48

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rollup_entry_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('previous_day', sa.Date(), nullable=False),
    sa.Column('entered', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('lost', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'stage', 'previous_day', name=op.f('pk_rollup_entry_counts'))
    )
    op.create_table('rollup_lost_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_rollup_lost_counts'))
    )
    op.create_table('rollup_stage_totals',
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('stage', name=op.f('pk_rollup_stage_totals'))
    )
    op.create_table('rollup_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_state'))
    )
    op.create_table('rollup_stay_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'stage', 'bucket', name=op.f('pk_rollup_stay_counts'))
    )
    op.create_table('rollup_won_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'bucket', name=op.f('pk_rollup_won_counts'))
    )
    op.create_table('rollup_deals',
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('cents', sa.BigInteger(), nullable=False),
    sa.Column('won_day', sa.Date(), nullable=True),
    sa.Column('won_bucket', sa.SmallInteger(), nullable=True),
    sa.Column('won_seconds', sa.Float(), nullable=True),
    sa.Column('lost_day', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_rollup_deals_deal_id_deals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('deal_id', name=op.f('pk_rollup_deals'))
    )
    with op.batch_alter_table('rollup_deals', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_deals_won', ['won_bucket', 'won_day', 'won_seconds'], unique=False)

    op.create_table('rollup_stays',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['stage_events.id'], name=op.f('fk_rollup_stays_event_id_stage_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_rollup_stays'))
    )
    with op.batch_alter_table('rollup_stays', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_stays_stage_bucket_day', ['stage', 'bucket', 'day', 'seconds'], unique=False)

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rollup_version', sa.Integer(), nullable=True))
        batch_op.create_index('ix_deals_rollup_pending', ['id'], unique=False, postgresql_where=sa.text('rollup_version IS NULL OR rollup_version <> version'), sqlite_where=sa.text('rollup_version IS NULL OR rollup_version <> version'))

    op.bulk_insert(sa.table('rollup_state', sa.column('id', sa.Integer()), sa.column('generation', sa.Integer())),
                   [{'id': 1, 'generation': 0}])


def downgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index('ix_deals_rollup_pending', postgresql_where=sa.text('rollup_version IS NULL OR rollup_version <> version'), sqlite_where=sa.text('rollup_version IS NULL OR rollup_version <> version'))
        batch_op.drop_column('rollup_version')

    with op.batch_alter_table('rollup_stays', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_stays_stage_bucket_day')

    op.drop_table('rollup_stays')
    with op.batch_alter_table('rollup_deals', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_deals_won')

    op.drop_table('rollup_deals')
    op.drop_table('rollup_won_counts')
    op.drop_table('rollup_stay_counts')
    op.drop_table('rollup_state')
    op.drop_table('rollup_stage_totals')
    op.drop_table('rollup_lost_counts')
    op.drop_table('rollup_entry_counts')
