"""Yearly assessment (年度考核): schemes (indicators, rules, grade bands) and sheets

Revision ID: a7b8c9d0e1f2
Revises: f1a2b3c4d5e6
Create Date: 2026-11-30 13:50:00

Schemes are owned above the station (CHECK); a sheet is the station's, its review the league's.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7b8c9d0e1f2'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_scheme',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=12), nullable=False),
    sa.Column('edition', sa.Integer(), nullable=False),
    sa.Column('first_year', sa.Integer(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
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
    sa.CheckConstraint("owner_node NOT LIKE '%-%'", name=op.f('ck_assessment_scheme_not_station')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scheme'))
    )
    with op.batch_alter_table('assessment_scheme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_scheme_owner_node'), ['owner_node'], unique=False)

    op.create_table('assessment_sheet',
    sa.Column('subject', sa.String(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('commissioner_id', sa.String(length=36), nullable=True),
    sa.Column('station_id', sa.String(length=36), nullable=True),
    sa.Column('scheme_id', sa.String(length=36), nullable=True),
    sa.Column('scheme_edition', sa.Integer(), nullable=False),
    sa.Column('entered', sa.JSON(), nullable=False),
    sa.Column('self_score_c', sa.Integer(), nullable=True),
    sa.Column('proposed_grade', sa.String(length=12), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('typical_case', sa.Text(), nullable=False),
    sa.Column('commissioner_comment', sa.Text(), nullable=False),
    sa.Column('submission', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('review_state', sa.String(length=12), nullable=False),
    sa.Column('reviewed_submission', sa.Integer(), nullable=False),
    sa.Column('final_grade', sa.String(length=12), nullable=False),
    sa.Column('reviewer_score_c', sa.Integer(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
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
    sa.ForeignKeyConstraint(['commissioner_id'], ['commissioner.id'], name=op.f('fk_assessment_sheet_commissioner_id_commissioner')),
    sa.ForeignKeyConstraint(['scheme_id'], ['assessment_scheme.id'], name=op.f('fk_assessment_sheet_scheme_id_assessment_scheme')),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], name=op.f('fk_assessment_sheet_station_id_station')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_sheet')),
    sa.UniqueConstraint('commissioner_id', 'year', name='uq_assessment_sheet_commissioner_year'),
    sa.UniqueConstraint('station_id', 'year', name='uq_assessment_sheet_station_year')
    )
    with op.batch_alter_table('assessment_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_sheet_owner_node'), ['owner_node'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_sheet_scheme_id'), ['scheme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_sheet_year'), ['year'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_sheet_year'))
        batch_op.drop_index(batch_op.f('ix_assessment_sheet_scheme_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_sheet_owner_node'))

    op.drop_table('assessment_sheet')
    with op.batch_alter_table('assessment_scheme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_scheme_owner_node'))

    op.drop_table('assessment_scheme')
