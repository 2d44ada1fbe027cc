"""Plan targets (目标): indicator, scope node, value, deadline; owned above the station

Revision ID: f1a2b3c4d5e6
Revises: e6f7a8b9c0d1
Create Date: 2026-11-30 13:50:00

A CHECK keeps a station from owning a target (a station's push of one is refused).
The action plan's targets are loaded as shipped data by `flask node init` (app/setup.py).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e6f7a8b9c0d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_target',
    sa.Column('indicator', sa.String(length=24), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('wording', sa.String(length=300), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.Column('updated_by', sa.String(length=80), nullable=True),
    sa.Column('origin_node', sa.String(length=16), nullable=False),
    sa.Column('owner_node', sa.String(length=16), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('field_versions', sa.JSON(), nullable=False),
    sa.CheckConstraint("owner_node NOT LIKE '%-%'", name=op.f('ck_plan_target_not_station')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_target'))
    )
    with op.batch_alter_table('plan_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_target_owner_node'), ['owner_node'], unique=False)


def downgrade():
    with op.batch_alter_table('plan_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_target_owner_node'))

    op.drop_table('plan_target')
