"""buying influences (the customer's people in a deal's decision), and a session epoch per user that ends sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:22:23.333041

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('buying_influences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('attitude', sa.String(length=10), nullable=False),
    sa.Column('influence', sa.String(length=10), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("attitude IN ('supporter', 'neutral', 'opponent')", name=op.f('ck_buying_influences_attitude')),
    sa.CheckConstraint("influence IN ('high', 'medium', 'low')", name=op.f('ck_buying_influences_influence')),
    sa.CheckConstraint("role IN ('economic_buyer', 'user', 'technical', 'coach')", name=op.f('ck_buying_influences_role')),
    sa.CheckConstraint('depth BETWEEN 1 AND 5', name=op.f('ck_buying_influences_depth')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_buying_influences_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_buying_influences_deal_id_deals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buying_influences')),
    sa.UniqueConstraint('deal_id', 'contact_id', 'role', name=op.f('uq_buying_influences_deal_id'))
    )
    with op.batch_alter_table('buying_influences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buying_influences_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buying_influences_deal_id'), ['deal_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')

    with op.batch_alter_table('buying_influences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buying_influences_deal_id'))
        batch_op.drop_index(batch_op.f('ix_buying_influences_contact_id'))

    op.drop_table('buying_influences')
