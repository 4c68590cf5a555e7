"""the customer base and its care: tags and groups, the qualification worksheet, relationship level, churn, call
results, complaints, satisfaction surveys, team settings, deals' product line, channel, profit and import reference,
and the calendar feed's token

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:39:12.519982

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_tags_name'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('account_tags',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_tags_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_account_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'tag_id', name=op.f('pk_account_tags'))
    )
    with op.batch_alter_table('account_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('qualifications',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('growth', sa.Boolean(), nullable=False),
    sa.Column('business_plan', sa.Boolean(), nullable=False),
    sa.Column('funding', sa.Boolean(), nullable=False),
    sa.Column('opportunities', sa.Boolean(), nullable=False),
    sa.Column('solution_fit', sa.Boolean(), nullable=False),
    sa.Column('our_competitiveness', sa.Boolean(), nullable=False),
    sa.Column('relationship', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_qualifications_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_qualifications_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_qualifications'))
    )
    with op.batch_alter_table('qualifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qualifications_updated_by_id'), ['updated_by_id'], unique=False)

    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('core_issue', sa.Text(), nullable=False),
    sa.Column('solution', sa.Text(), nullable=False),
    sa.Column('closing_note', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('understood_at', sa.DateTime(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("severity IN ('low', 'normal', 'high')", name=op.f('ck_complaints_severity')),
    sa.CheckConstraint("state IN ('received', 'understood', 'proposed', 'accepted', 'closed')", name=op.f('ck_complaints_state')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_complaints_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_complaints_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_complaints_deal_id_deals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_complaints_owner_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index('ix_complaints_owner_state', ['owner_id', 'state'], unique=False)
        batch_op.create_index('ix_complaints_state_received', ['state', 'received_at'], unique=False)

    op.create_table('contact_tags',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_tags_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_contact_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'tag_id', name=op.f('pk_contact_tags'))
    )
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('satisfaction_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('occasion', sa.String(length=10), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('reliability', sa.Integer(), nullable=True),
    sa.Column('assurance', sa.Integer(), nullable=True),
    sa.Column('tangibles', sa.Integer(), nullable=True),
    sa.Column('empathy', sa.Integer(), nullable=True),
    sa.Column('responsiveness', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("occasion IN ('won', 'follow_up', 'other')", name=op.f('ck_satisfaction_surveys_occasion')),
    sa.CheckConstraint('assurance IS NULL OR assurance BETWEEN 1 AND 5', name=op.f('ck_satisfaction_surveys_assurance')),
    sa.CheckConstraint('empathy IS NULL OR empathy BETWEEN 1 AND 5', name=op.f('ck_satisfaction_surveys_empathy')),
    sa.CheckConstraint('reliability IS NULL OR reliability BETWEEN 1 AND 5', name=op.f('ck_satisfaction_surveys_reliability')),
    sa.CheckConstraint('responsiveness IS NULL OR responsiveness BETWEEN 1 AND 5', name=op.f('ck_satisfaction_surveys_responsiveness')),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_satisfaction_surveys_satisfaction')),
    sa.CheckConstraint('tangibles IS NULL OR tangibles BETWEEN 1 AND 5', name=op.f('ck_satisfaction_surveys_tangibles')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_satisfaction_surveys_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_satisfaction_surveys_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_satisfaction_surveys_deal_id_deals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_satisfaction_surveys_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_surveys'))
    )
    with op.batch_alter_table('satisfaction_surveys', schema=None) as batch_op:
        batch_op.create_index('ix_satisfaction_surveys_account_answered', ['account_id', 'answered_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_surveys_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_surveys_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index('ix_satisfaction_surveys_user_answered', ['user_id', 'answered_on'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relationship_level', sa.String(length=12), server_default='basic', nullable=False))
        batch_op.add_column(sa.Column('notes', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('churned_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('churn_reason_key', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('churn_note', sa.Text(), server_default='', nullable=False))
        batch_op.create_index('ix_accounts_owner_churned', ['owner_id', 'churned_on'], unique=False)
        batch_op.create_check_constraint(
            op.f('ck_accounts_relationship_level'),
            "relationship_level IN ('basic', 'reactive', 'accountable', 'proactive', 'partnership')")
        batch_op.create_check_constraint(
            op.f('ck_accounts_churn'),
            "churn_reason_key IS NULL OR churn_reason_key IN "
            "('price', 'service', 'quality', 'competitor', 'no_need', 'closed', 'other')")
        batch_op.create_check_constraint(
            op.f('ck_accounts_churned_with_reason'), "(churned_on IS NULL) = (churn_reason_key IS NULL)")

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_result', sa.String(length=10), nullable=True))
        batch_op.drop_index(batch_op.f('ix_activities_contact_id'))
        batch_op.create_index('ix_activities_contact_occurred', ['contact_id', 'occurred_at'], unique=False)
        batch_op.create_check_constraint(
            op.f('ck_activities_call_result'),
            "call_result IS NULL OR (kind = 'call' AND call_result IN ('answered', 'no_answer', 'busy', 'declined'))")

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_line', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('channel', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('gross_profit_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('import_ref', sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_deals_import_ref'), ['import_ref'], unique=True)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_calendar_token_hash'), ['calendar_token_hash'], unique=True)



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_calendar_token_hash'))
        batch_op.drop_column('calendar_token_hash')

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deals_import_ref'))
        batch_op.drop_column('import_ref')
        batch_op.drop_column('gross_profit_cents')
        batch_op.drop_column('channel')
        batch_op.drop_column('product_line')

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_activities_call_result'), type_='check')
        batch_op.drop_index('ix_activities_contact_occurred')
        batch_op.create_index(batch_op.f('ix_activities_contact_id'), ['contact_id'], unique=False)
        batch_op.drop_column('call_result')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        for name in ('ck_accounts_churned_with_reason', 'ck_accounts_churn', 'ck_accounts_relationship_level'):
            batch_op.drop_constraint(op.f(name), type_='check')
        batch_op.drop_index('ix_accounts_owner_churned')
        batch_op.drop_column('churn_note')
        batch_op.drop_column('churn_reason_key')
        batch_op.drop_column('churned_on')
        batch_op.drop_column('notes')
        batch_op.drop_column('relationship_level')

    with op.batch_alter_table('satisfaction_surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_satisfaction_surveys_user_answered')
        batch_op.drop_index(batch_op.f('ix_satisfaction_surveys_deal_id'))
        batch_op.drop_index(batch_op.f('ix_satisfaction_surveys_contact_id'))
        batch_op.drop_index('ix_satisfaction_surveys_account_answered')

    op.drop_table('satisfaction_surveys')
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_tags_tag_id'))

    op.drop_table('contact_tags')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_state_received')
        batch_op.drop_index('ix_complaints_owner_state')
        batch_op.drop_index(batch_op.f('ix_complaints_deal_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_contact_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_account_id'))

    op.drop_table('complaints')
    with op.batch_alter_table('qualifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qualifications_updated_by_id'))

    op.drop_table('qualifications')
    with op.batch_alter_table('account_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tags_tag_id'))

    op.drop_table('account_tags')
    op.drop_table('settings')
    op.drop_table('tags')
