"""initial memory schema: tenants, patients, facts, fact changes, sessions, turns, summaries, findings

Revision ID: 0001
Revises: 
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenants',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants'))
    )
    op.create_table('patients',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_patients_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_patients')),
    sa.UniqueConstraint('tenant_id', 'external_id', name=op.f('uq_patients_tenant_id'))
    )
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patients_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('chat_sessions',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_pk', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk'], name=op.f('fk_chat_sessions_patient_pk_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_chat_sessions')),
    sa.UniqueConstraint('patient_pk', 'external_id', name=op.f('uq_chat_sessions_patient_pk'))
    )
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_sessions_patient_pk'), ['patient_pk'], unique=False)

    op.create_table('fact_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_pk', sa.Integer(), nullable=False),
    sa.Column('fact_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk'], name=op.f('fk_fact_changes_patient_pk_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fact_changes'))
    )
    with op.batch_alter_table('fact_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fact_changes_fact_id'), ['fact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fact_changes_patient_pk'), ['patient_pk'], unique=False)

    op.create_table('facts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('patient_pk', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('identity_value', sa.String(length=200), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source_message_id', sa.String(length=64), nullable=True),
    sa.Column('observed_at', sa.String(length=40), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('extractor', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk'], name=op.f('fk_facts_patient_pk_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facts')),
    sa.UniqueConstraint('patient_pk', 'kind', 'identity_value', name=op.f('uq_facts_patient_pk'))
    )
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facts_patient_pk'), ['patient_pk'], unique=False)

    op.create_table('session_summaries',
    sa.Column('session_pk', sa.Integer(), nullable=False),
    sa.Column('patient_pk', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('covers_through', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk'], name=op.f('fk_session_summaries_patient_pk_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_pk'], ['chat_sessions.pk'], name=op.f('fk_session_summaries_session_pk_chat_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_pk', name=op.f('pk_session_summaries'))
    )
    with op.batch_alter_table('session_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_summaries_patient_pk'), ['patient_pk'], unique=False)

    op.create_table('turns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_pk', sa.Integer(), nullable=False),
    sa.Column('patient_pk', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('user_text', sa.Text(), nullable=False),
    sa.Column('assistant_text', sa.Text(), nullable=False),
    sa.Column('meta', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk'], name=op.f('fk_turns_patient_pk_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_pk'], ['chat_sessions.pk'], name=op.f('fk_turns_session_pk_chat_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_turns')),
    sa.UniqueConstraint('session_pk', 'seq', name=op.f('uq_turns_session_pk'))
    )
    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turns_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_turns_patient_pk'), ['patient_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_turns_session_pk'), ['session_pk'], unique=False)

    op.create_table('audit_findings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('turn_id', sa.Integer(), nullable=False),
    sa.Column('patient_pk', sa.Integer(), nullable=False),
    sa.Column('drug', sa.String(length=200), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('fact_value', sa.String(length=200), nullable=False),
    sa.Column('source_message_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['patient_pk'], ['patients.pk'], name=op.f('fk_audit_findings_patient_pk_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['turn_id'], ['turns.id'], name=op.f('fk_audit_findings_turn_id_turns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_findings'))
    )
    with op.batch_alter_table('audit_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_findings_patient_pk'), ['patient_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_findings_turn_id'), ['turn_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('audit_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_findings_turn_id'))
        batch_op.drop_index(batch_op.f('ix_audit_findings_patient_pk'))

    op.drop_table('audit_findings')
    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turns_session_pk'))
        batch_op.drop_index(batch_op.f('ix_turns_patient_pk'))
        batch_op.drop_index(batch_op.f('ix_turns_message_id'))

    op.drop_table('turns')
    with op.batch_alter_table('session_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_summaries_patient_pk'))

    op.drop_table('session_summaries')
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facts_patient_pk'))

    op.drop_table('facts')
    with op.batch_alter_table('fact_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fact_changes_patient_pk'))
        batch_op.drop_index(batch_op.f('ix_fact_changes_fact_id'))

    op.drop_table('fact_changes')
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_sessions_patient_pk'))

    op.drop_table('chat_sessions')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patients_tenant_id'))

    op.drop_table('patients')
    op.drop_table('tenants')
